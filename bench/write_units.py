"""The request units each kind of message costs, as the write-units harness measured them
(`write-units.jsonl`: one line per kind and stage, "before" and "after" a change), and the
table §9 prints of them. Absent file, absent kind: the callers say so and price nothing."""

import json

FILE = "write-units.jsonl"
ROOM = "room message"
GUEST = "conversation: guest message"
GUEST_WAIT = "conversation: guest message starting a wait"
STAFF = "conversation: staff reply"
NOTE = "conversation: note"
KINDS = [ROOM, GUEST, GUEST_WAIT, STAFF, NOTE]
# Performance round 3's target: a message in at least this much fewer write units.
TARGET_CUT = 40


def read_rows(raw):
    path = raw / FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def by_stage(rows, stage):
    return {r["kind"]: r for r in rows if r.get("stage") == stage}


def billed(rows):
    """Kind → the row the bill uses: the "after" stage, else "before" (what exists)."""
    chosen = by_stage(rows, "before")
    chosen.update(by_stage(rows, "after"))
    return chosen


def change(before, after):
    if before is None or after is None:
        return ""
    if before == 0:
        return "new" if after else "0 %"
    return f"{100 * (after - before) / before:+.1f} %"


def units_section(rows):
    """Markdown lines: WRU and RRU per kind, before → after, and the items of each "after" row."""
    if not rows:
        return [f"**Request units per message kind**: not measured in this run (no `{FILE}`).\n"]
    before, after = by_stage(rows, "before"), by_stage(rows, "after")
    kinds = [k for k in KINDS if k in before or k in after]
    kinds += sorted({r["kind"] for r in rows} - set(kinds))
    out = [f"**Request units per message kind** (measured: `{FILE}`), before → after.\n"]
    out.append("`bench/src/bin/write_units.rs` posts each kind through the storage layer the function calls,")
    out.append("records every action of its `TransactWriteItems` (an interceptor on the SDK client), reads each")
    out.append("item before and after, and prices them by AWS's rules (`storage::write_units`: 2 units per")
    out.append("started KB of a transactional write, a condition check counted as one, an index entry's move as a")
    out.append("delete and a put) with the indexes `DescribeTable` reports. It asks for `ReturnConsumedCapacity`")
    reported = sorted({r.get("reported_wru") for r in rows if r.get("stage") == "after"} - {None})
    out.append(f"too, which AWS answers with its own count; moto answered {', '.join(fmt(x) for x in reported) or 'nothing'}")
    out.append("for every transaction (no size-based figure), so here the computed units are the measurement.")
    out.append("RRU: the front door's strongly consistent reads (chat user and chat, or the member's user and")
    out.append("the chat; a member's API token item is one more, not counted here), one per started 4 KB of")
    out.append("each item. \"Before\": `bench/baseline/`.\n")
    out.append("| kind | WRU before | WRU after | change | RRU before | RRU after | change |")
    out.append("|---|---|---|---|---|---|---|")
    for k in kinds:
        b, a = before.get(k), after.get(k)
        wb, wa = (b or {}).get("wru"), (a or {}).get("wru")
        rb, ra = (b or {}).get("rru"), (a or {}).get("rru")
        out.append(f"| {k} | {fmt(wb)} | {fmt(wa)} | {change(wb, wa)} | {fmt(rb)} | {fmt(ra)} | {change(rb, ra)} |")
    out.append("")
    cuts = [(k, 100 * (before[k]["wru"] - after[k]["wru"]) / before[k]["wru"])
            for k in kinds if k in before and k in after and before[k]["wru"]]
    if cuts:
        least = min(cuts, key=lambda c: c[1])
        met = all(cut >= TARGET_CUT for _, cut in cuts)
        out.append(f"Target: every kind in at least {TARGET_CUT} % fewer write units: "
                   f"{'met' if met else 'missed'} (least: {least[0]}, {least[1]:.0f} % fewer; most: "
                   f"{max(c for _, c in cuts):.0f} %). What each remaining unit keeps is below.\n")
    items = [(k, after[k]) for k in kinds if k in after and after[k].get("items")]
    if items:
        out.append("What the \"after\" units are, item by item:\n")
        out.append("| kind | item | units |")
        out.append("|---|---|---|")
        for k, r in items:
            for item in r["items"]:
                out.append(f"| {k} | {item['what']} | {fmt(item['units'])} |")
        out.append("")
    return out


# What each remaining item of a message's write keeps, and why nothing cheaper keeps it:
# keyed by the harness's item names (its action, then PARTITION/SORT-KEY-PREFIX).
BUYS = [
    ("update CHAT/CHAT: GSI1", "a company's chat list (GSI1)",
     "nothing left to buy: the index holds keys only, which a message never changes"),
    ("update CHAT/CHAT: GSI2", "the inbox by newest activity (GSI2, conversations only)",
     "the row's sort key moves on every message, which DynamoDB writes as a delete and a put "
     "of the index entry; only an inbox not ordered by activity would skip it"),
    ("update CHAT/CHAT: GSI3", "the inbox by longest wait (GSI3, sparse)",
     "a turn change enters or leaves the index (one entry written); a second order cannot "
     "share GSI2's key"),
    ("update CHAT/CHAT", "the chat head",
     "ids become visible in increasing order (`?after=` never skips), the event `seq` stays "
     "dense (every event is conditional on the counter it moves), and a conversation's state "
     "and inbox keys move with the message; one item under 1 KB, a transactional write's floor"),
    ("put CHAT/EVT", "the `message.created` event",
     "the log `GET /events?after=` reads and the stream's fan-out and webhooks are driven by. "
     "The message item could be the event (one item where there are two: −2 on every message), "
     "if the message list and the log read one kind of item: not done here (next step)"),
    ("update CHAT/MEMBER", "the chat user's own item",
     "proves the author is still a chat user and counts its sending rate, in one update "
     "(these were a condition check and a counter item: −2)"),
    ("put CHAT/MSG", "the message", "the message itself"),
    ("put CHAT/CLIENT", "the client id",
     "`client_id` is unique per author for as long as the chat is kept: uniqueness by a "
     "conditional put needs an item keyed by it, and the message's own key must sort by id. "
     "Written only when a client id is sent (the widget and the console send one)"),
    ("condition check COMPANY/MEMBER", "a member's membership",
     "a member removed meanwhile posts nothing. Folding it with the rate into an update of the "
     "member's user item (its `memberships` map, which the front door reads) would save 2 "
     "(next step)"),
    ("update LIMIT/W", "a member's sending rate",
     "counted across every chat it writes in, on a counter item of its own (see the line above)"),
    ("put CHAT/STAFFREAD", "the member's read marker",
     "its own message is read: the inbox's unread count per member"),
    ("put COMPANY/FIRSTRESPONSE", "the first reply's response time",
     "the availability route's typical reply time; once per conversation"),
]


def buys(what):
    for prefix, item, reason in BUYS:
        if what.startswith(prefix):
            return item, reason
    return None


def invariants_section(rows):
    """Markdown lines: each kind of item still written, its units, and what it keeps."""
    after = by_stage(rows, "after")
    seen = {}
    for row in after.values():
        for item in row.get("items", []):
            seen.setdefault(item["what"], item["units"])
    if not seen:
        return []
    out = ["What each remaining unit buys (the \"after\" items), and why nothing cheaper keeps it:\n"]
    out.append("| item | units | what it is | what it keeps |")
    out.append("|---|---|---|---|")
    for what, units in seen.items():
        item, reason = buys(what) or ("(not described)", "")
        out.append(f"| `{what}` | {fmt(units)} | {item} | {reason} |")
    out.append("")
    return out


def fmt(n):
    if n is None:
        return "–"
    return f"{n:g}"

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
    out = [f"**Request units per message kind** (measured: `{FILE}`), before → after:\n"]
    out.append("| kind | WRU before | WRU after | change | RRU before | RRU after | change |")
    out.append("|---|---|---|---|---|---|---|")
    for k in kinds:
        b, a = before.get(k), after.get(k)
        wb, wa = (b or {}).get("wru"), (a or {}).get("wru")
        rb, ra = (b or {}).get("rru"), (a or {}).get("rru")
        out.append(f"| {k} | {fmt(wb)} | {fmt(wa)} | {change(wb, wa)} | {fmt(rb)} | {fmt(ra)} | {change(rb, ra)} |")
    out.append("")
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


def fmt(n):
    if n is None:
        return "–"
    return f"{n:g}"

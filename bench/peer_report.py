"""The sections of BENCHMARKS.md that set the functions beside the Node.js peer
(bench/node-peer): warm requests, peak memory, and the cost of a million messages on AWS.
Each section says so and is left out when its numbers are absent (the peer not installed,
or a run that stopped early)."""

import json
import math
import pathlib

import prices
import write_units

# The name bench/run.sh gives the peer in every run.
PEER = "node-peer"

# --- Published prices: us-east-1 list prices, kept in prices.py with the page each is
# published on and how it was checked (§10 quotes the same ones).
PRICES_AS_OF = prices.LOOKED_UP
LAMBDA_URL = prices.LAMBDA_URL
LAMBDA_ARM64_PER_GB_S = prices.LAMBDA_GB_S.value
LAMBDA_PER_REQUEST = prices.LAMBDA_REQUEST.value
HTTP_API_URL = prices.API_GATEWAY_URL
HTTP_API_PER_REQUEST = prices.HTTP_API_REQUEST.value
DYNAMODB_URL = prices.DYNAMODB_URL
DYNAMODB_PER_WRU = prices.DYNAMODB_WRU.value
DYNAMODB_PER_RRU = prices.DYNAMODB_RRU.value

# --- The request units of one POST /api/chats/{id}/messages (bench §3's round trips),
# with the bench's message: every item under 1 KB (a message body of more than about
# 600 bytes takes the message and its event item past it: +2 WRU each).
# BatchGetItem(chat user, chat), strongly consistent, items under 4 KB: 1 RRU each.
POST_RRU = 2
# TransactWriteItems(chat head, event, author check, message, client id, the author's
# sending-rate counter): 2 WRU per item under 1 KB (transactions cost double). The
# author's ConditionCheck is counted as a transactional write, the dearer reading of how
# DynamoDB bills it (as a read: 2 RRU). The bench's message carries a client id.
POST_WRU = 6 * 2
# What the inbox adds to a conversation's message (README, "Write units a message costs
# the inbox", computed by tests/tests/conversation_write_units.rs from the stored items):
# GSI2's move, and GSI3's entry or exit when the message starts or ends a wait. A reopen
# logs one more event (2 WRU); a member's post writes its read marker (2 WRU), and its
# first reply the first-response item (2 WRU).
CONVERSATION_MESSAGES = [
    ("a guest message while the wait runs", 2),
    ("a message that starts or ends a wait", 3),
    ("a guest message that reopens a resolved conversation", 3 + 2),
    ("a member's reply ending a wait (not its first)", 3 + 2),
]

# Lambda gives a function one full vCPU at 1,769 MB and CPU in proportion below that.
FULL_VCPU_MB = 1769
# Smallest memory setting and the headroom kept above the peak (garbage collection, a
# larger message page than the bench's).
MIN_MEMORY_MB = 128
HEADROOM = 1.25

ROUTES = [("GET /api/user", "warm-user.jsonl"), ("POST /api/chats/{id}/messages", "warm-post.jsonl")]


def optional_rows(raw, name):
    path = raw / name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plural(n, word):
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def implementation(name):
    return "Node.js peer" if name == PEER else f"Rust `{name}`"


def mib(kib):
    return kib / 1024


def memory_setting(peak_p90_kib):
    """The smallest Lambda memory (MB, which Lambda counts as MiB) holding the p90 peak with headroom."""
    return max(MIN_MEMORY_MB, math.ceil(mib(peak_p90_kib) * HEADROOM))


def enough_at_128(peak_p90_kib):
    need = mib(peak_p90_kib) * HEADROOM
    return "yes" if need <= MIN_MEMORY_MB else f"no: needs {math.ceil(need)} MB"


def duration_at(row, memory_mb):
    """Wall time with the CPU part stretched to the CPU share of `memory_mb`."""
    cpu = min(row["cpu_ms_per_request"], row["median_ms"])
    return row["median_ms"] - cpu + cpu * FULL_VCPU_MB / memory_mb


def cost_per_million(duration_ms, memory_mb, wru=POST_WRU, rru=POST_RRU):
    """Dollars for a million POSTs of `wru` write and `rru` read units: (lambda, api, dynamodb, total)."""
    billed_s = math.ceil(duration_ms) / 1000  # Lambda bills whole milliseconds
    lam = 1e6 * (LAMBDA_PER_REQUEST + memory_mb / 1024 * billed_s * LAMBDA_ARM64_PER_GB_S)
    api = 1e6 * HTTP_API_PER_REQUEST
    dynamo = 1e6 * (wru * DYNAMODB_PER_WRU + rru * DYNAMODB_PER_RRU)
    return lam, api, dynamo, lam + api + dynamo


def post_units(measured):
    """(WRU, RRU, where they come from) of a room's message: measured when the run has them."""
    room = measured.get(write_units.ROOM)
    if room:
        return room["wru"], room["rru"], f"measured (`{write_units.FILE}`, stage \"{room['stage']}\")"
    return POST_WRU, POST_RRU, f"counted from the items (no `{write_units.FILE}` in this run)"


def warm_section(warm):
    out = ["## 7. Warm requests: the functions beside a Node.js peer\n"]
    out.append("The **Node.js peer** (`bench/node-peer/`) is what a team would deploy instead: `GET /api/user`")
    out.append("and `POST /api/chats/{id}/messages` written for Node.js 20 with the AWS SDK v3")
    out.append("(`@aws-sdk/lib-dynamodb`) and `jsonwebtoken`, SDK client made once per instance, the same")
    out.append("DynamoDB items and round trips as ours and the same JSON answers. It is a **reference to")
    out.append("measure against, not a product**: two routes, never deployed, not tested beyond the")
    out.append("benchmark. It runs unbundled (`node_modules` as `npm ci` installs it, pinned by its lockfile)")
    out.append("behind a custom-runtime loop, so the harness that starts our bootstraps starts it too; its")
    out.append("cold start is in §1's second table.\n")
    first = warm[0][1][0]
    out.append(f"Per request, against moto on loopback (`bench/src/bin/warm_requests.rs`): {plural(first['rounds'], 'round')} of")
    out.append(f"fresh processes, each sent {first['warmup']} unmeasured requests (the first is its cold start) and")
    out.append(f"then {first['requests']:,} measured ones, the functions taking turns request by request. A request")
    out.append("runs from the event handed to the function's `next` to its response (what Lambda bills);")
    out.append("CPU is the process's user + system time over the measured requests (all its threads),")
    out.append(f"per request, median over the rounds. Both runtimes log at warning level. The functions are")
    out.append(f"started as {first.get('memory_mb', '?')} MB functions (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`): the Node peer's bootstrap")
    out.append("sizes V8's heap from it as Lambda's managed Node runtime does (our Rust functions ignore it).\n")
    out.append("| route | implementation | answered | median ms | p10 | p90 | CPU ms / request | p10 | p90 |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for route, rows in warm:
        for r in rows:
            statuses = ", ".join(f"{n}× {s}" for s, n in r["statuses"].items())
            out.append(
                f"| {route} | {implementation(r['name'])} | {statuses} | {r['median_ms']:.2f} | {r['p10_ms']:.2f} | {r['p90_ms']:.2f} "
                f"| {r['cpu_ms_per_request']:.2f} | {r['cpu_ms_per_request_p10']:.2f} | {r['cpu_ms_per_request_p90']:.2f} |"
            )
    out.append("")
    return out


def memory_section(warm):
    first = warm[0][1][0]
    out = ["## 8. Peak memory\n"]
    out.append(f"Peak resident memory (`VmHWM`, what Lambda reports as Max Memory Used) of each process after")
    out.append(f"{first['warmup'] + first['requests']:,} warm requests, over {plural(first['rounds'], 'round')}. 128 MB is enough when the p90 peak")
    out.append(f"plus {HEADROOM - 1:.0%} headroom fits in it.\n")
    out.append("| function | route | peak MiB (median) | p10 | p90 | 128 MB enough? |")
    out.append("|---|---|---|---|---|---|")
    for route, rows in warm:
        for r in rows:
            out.append(
                f"| {implementation(r['name'])} | {route} | {mib(r['peak_memory_kib']):.1f} | {mib(r['peak_memory_p10_kib']):.1f} "
                f"| {mib(r['peak_memory_p90_kib']):.1f} | {enough_at_128(r['peak_memory_p90_kib'])} |"
            )
    out.append("")
    return out


def cost_section(posts, unit_rows):
    out = ["## 9. Cost per million messages on AWS\n"]
    out.append(f"One message is one `POST /api/chats/{{id}}/messages`, priced from the us-east-1 list prices")
    out.append(f"(looked up {PRICES_AS_OF} in stored copies of the pages; §10 lists where each was seen):\n")
    out.append(f"- Lambda, arm64: ${LAMBDA_ARM64_PER_GB_S:.10f} per GB-s and ${LAMBDA_PER_REQUEST * 1e6:.2f} per million requests ({LAMBDA_URL})")
    out.append(f"- API Gateway HTTP API: ${HTTP_API_PER_REQUEST * 1e6:.2f} per million requests ({HTTP_API_URL})")
    out.append(f"- DynamoDB on demand: ${DYNAMODB_PER_WRU * 1e6:.3f} per million write request units, ${DYNAMODB_PER_RRU * 1e6:.3f} per million read request units ({DYNAMODB_URL})\n")
    measured = write_units.billed(unit_rows)
    wru, rru, source = post_units(measured)
    out.append(f"Request units of one message, {source}: {rru:g} RRU and {wru:g} WRU. The write is one")
    out.append("`TransactWriteItems` (2 WRU per item under 1 KB: the chat head, the event, the author's")
    out.append("`ConditionCheck`, the message, its client id and the author's sending-rate counter); the read")
    out.append("is the `BatchGetItem` of chat user and chat, strongly consistent.")
    out.append("Memory: the smallest setting holding the p90 peak of §8 with the headroom, at least 128 MB.")
    out.append("Duration: the warm median of §7 rounded up to the millisecond, as Lambda bills it; on this")
    out.append(f"machine a request has a whole core, on Lambda a share of `memory / {FULL_VCPU_MB}` of one, so the")
    out.append(f"second estimate stretches the CPU part: `wall − cpu + cpu × {FULL_VCPU_MB} / memory`. Both leave out cold")
    out.append("starts (their init is billed too, and their number depends on the traffic).\n")
    out.append("```")
    out.append("cost per million = 1e6 × ( HTTP API request + Lambda request")
    out.append("                          + memory_MB / 1024 × ceil(duration_ms) / 1000 × price per GB-s")
    out.append(f"                          + {wru:g} × price per WRU + {rru:g} × price per RRU )")
    out.append(f"                 = 1e6 × ( {HTTP_API_PER_REQUEST:.2e} + {LAMBDA_PER_REQUEST:.2e} + memory_MB / 1024 × ceil(ms) / 1000 × {LAMBDA_ARM64_PER_GB_S}")
    out.append(f"                          + {wru:g} × {DYNAMODB_PER_WRU:.3e} + {rru:g} × {DYNAMODB_PER_RRU:.3e} )")
    out.append("```\n")
    out.append("| implementation | memory MB | duration ms (measured) | $ Lambda | $ HTTP API | $ DynamoDB | **$ total** | duration ms (CPU share of the memory) | $ Lambda | **$ total** |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in posts:
        memory = memory_setting(r["peak_memory_p90_kib"])
        lam, api, dynamo, total = cost_per_million(r["median_ms"], memory, wru, rru)
        stretched = duration_at(r, memory)
        lam_s, _, _, total_s = cost_per_million(stretched, memory, wru, rru)
        out.append(
            f"| {implementation(r['name'])} | {memory} | {r['median_ms']:.2f} | {lam:.2f} | {api:.2f} | {dynamo:.2f} | **{total:.2f}** "
            f"| {stretched:.1f} | {lam_s:.2f} | **{total_s:.2f}** |"
        )
    out.append("")
    rust = [r for r in posts if implementation(r["name"]).startswith("Rust")]
    if rust:
        r = rust[0]
        memory = memory_setting(r["peak_memory_p90_kib"])
        out.append("**A conversation's message** costs what a room's does plus the inbox's index writes.")
        out.append("The duration is the room message's above: §7 does not time a conversation's, whose write")
        out.append("is the same one `TransactWriteItems` with more in it.")
        kinds = [(k, measured[k]["wru"], measured[k]["rru"]) for k in write_units.KINDS[1:] if k in measured]
        if kinds:
            out.append(f"Units measured (`{write_units.FILE}`, the stage each row says; items in §10's first table).\n")
        else:
            out.append("Units counted from the stored items (README, \"Write units a message costs the inbox\",")
            out.append(f"`tests/tests/conversation_write_units.rs`); no `{write_units.FILE}` in this run.\n")
            kinds = [(what, POST_WRU + extra, POST_RRU) for what, extra in CONVERSATION_MESSAGES]
        out.append("| message | WRU | RRU | $ DynamoDB | **$ total** (Rust, measured duration) |")
        out.append("|---|---|---|---|---|")
        for what, k_wru, k_rru in kinds:
            _, _, dynamo, total = cost_per_million(r["median_ms"], memory, k_wru, k_rru)
            out.append(f"| {what} | {k_wru:g} | {k_rru:g} | {dynamo:.2f} | **{total:.2f}** |")
        out.append("")
    out.append("The durations are against moto on loopback, whose round trips are not DynamoDB's (a few")
    out.append("milliseconds each in-region): read the Lambda column for the difference between the two")
    out.append("implementations, and the HTTP API and DynamoDB columns as the same for any implementation.\n")
    return out


def peer_sections(raw):
    """The lines of §7–§9; a note in their place when the warm runs are absent."""
    raw = pathlib.Path(raw)
    warm = [(route, optional_rows(raw, name)) for route, name in ROUTES]
    warm = [(route, rows) for route, rows in warm if rows]
    if not warm:
        return ["## 7.–9. Warm requests, peak memory, cost per million messages\n",
                "Not measured in this run (no `warm-*.jsonl`: see `bench/run.sh`).\n"]
    out = warm_section(warm) + memory_section(warm)
    posts = dict(warm).get("POST /api/chats/{id}/messages", [])
    if posts:
        out += cost_section(posts, write_units.read_rows(raw))
    if not any(r["name"] == PEER for _, rows in warm for r in rows):
        out.append("The Node.js peer was not measured in this run (`bench/node-peer/node_modules` missing: `make bench` installs it).\n")
    return out

"""§10 and §11 of BENCHMARKS.md: what a company's use of the service costs a month on AWS,
beside the seat prices of hosted chat products, and where the design stops scaling.

The model multiplies what one visitor's conversation and one agent's working day make the
system do (HTTP calls, socket frames, invocations, request units, emails, files) by a
company's size, and prices it with prices.py. Measured inputs come from the run's raw
directory: `write-units.jsonl` (request units per message kind), `warm-post.jsonl` (the
Rust POST's duration) and `live.jsonl` (the fan-out's latency). Deployment facts (memory of
each function, alarms, log retention, the stage throttle) are read from template.yaml.
Everything else is a named assumption below with its reason; a missing measurement is said
in the report and priced at nothing, never guessed."""

import collections
import math
import pathlib
import re
from dataclasses import dataclass

import prices as P
import write_units as WU
from peer_report import PEER, duration_at, optional_rows

TEMPLATE = pathlib.Path(__file__).resolve().parent.parent / "template.yaml"

# --- Company sizes. Agents follow from the traffic: a chat agent holds 2-3 conversations at
# once for ~20 minutes each, about 60 in an 8-hour shift, and works 22 days of the 30.
CONVERSATIONS_PER_AGENT_SHIFT = 60


@dataclass(frozen=True)
class Size:
    name: str
    visitors_per_day: int  # each one opens a conversation (visitors who never write cost nothing here)
    agents: int


def agents_for(visitors_per_day):
    return math.ceil(visitors_per_day * DAYS_PER_MONTH / (AGENT_DAYS_PER_MONTH * CONVERSATIONS_PER_AGENT_SHIFT))


DAYS_PER_MONTH = 30
AGENT_DAYS_PER_MONTH = 22
AGENT_HOURS_PER_DAY = 8
# Visitors write while the team is there: 12 staffed hours a day, shifts overlapping.
STAFFED_HOURS_PER_DAY = 12
# The busiest hour carries about 3× the staffed-hours average (lunch, Monday mornings).
PEAK_FACTOR = 3
# A shop with a few people on chat; a mid-size e-commerce or SaaS support team; a large one.
SIZES = [Size(name, n, agents_for(n)) for name, n in (("small", 100), ("medium", 2_000), ("large", 30_000))]

# --- One conversation.
GUEST_MESSAGES = 4
STAFF_REPLIES = 4
NOTES = 1  # agents leave a note for the team now and then
WAITS = 3  # guest messages that start a wait: the visitor writes twice in a row once
READ_UPDATED = "read.updated (the visitor reads each reply)"
EVENTS_BESIDES_MESSAGES = {  # logged events that fan out like messages
    "chat_user.joined": 1, "chat.assigned": 1, "chat.status_changed (resolved)": 1, READ_UPDATED: STAFF_REPLIES,
}
MEMBERS_ONLY_EVENTS = NOTES + 1  # notes and chat.assigned never reach the visitor's socket
# Share of conversations whose visitor proves an email with a one-time code (SES): the rest
# are signed-in visitors (identify, no email) or returning ones whose chat-user token lives on.
EMAIL_CODE_SHARE = 0.6
UNREAD_EMAIL_SHARE = 0.2  # the visitor left before the reply: one unread-messages email
TRANSCRIPT_SHARE = 0.05  # "Email the transcript"
FILE_SHARE = 0.1  # a screenshot or a PDF in one conversation of ten
FILE_BYTES = 400_000
FILE_VIEWS = 3  # presigned GETs: the visitor's preview, the agent's, one download
FILE_CHECK_MS = 300  # the image check (decode + re-encode) added to that POST, at 1024 MB
RETENTION_DAYS = 365  # a company keeping a year of messages and files; the bill a year in
VISITOR_SOCKET_MINUTES = 20  # the widget's socket while the conversation goes on
AGENT_CHAT_SOCKET_MINUTES = 10  # the console opens the chat's own socket (typing) while it is on screen
TYPING_NOTICES_PER_MESSAGE = 3  # one every 2.5 s (widget/src/conversation.ts) for ~8 s of typing
WEBHOOK_ENDPOINTS = 1  # one CRM subscribed to every event
# Client behaviour read from widget/src/core/live.ts and widget/src/console/inbox.ts.
PING_EVERY_MINUTES = 4  # PING_EVERY_MS: each ping is a frame in and a pong out
RECONNECT_EVERY_MINUTES = 105  # REFRESH_AFTER_MS (100 min) + up to 10 min of jitter, before the 2-hour cap
INBOX_DEBOUNCE_S = 0.25  # the console reads the inbox again 250 ms after the last team-stream event
# Request units of the calls write-units.jsonl does not measure: (WRU, RRU), estimated from
# the items README §3 and the access-pattern table name; strongly consistent reads under 4 KB.
ASSUMED_UNITS = {
    "send-code": (4, 2),  # the code item and three throttle counters
    "get-token": (8, 6),  # reads chat, email, code, counters; consumes the code; a transaction of 3
    "GET /api/chat-user": (0, 2),
    "realtime-ticket": (2, 2),  # the ticket and its per-minute counter
    "GET /events": (0, 3),
    "GET /messages": (0, 4),  # chat user and chat, a page of messages
    "PUT /read": (4, 2),  # the marker and its event, transactional
    "assign or status": (8, 3),  # chat, its event and counter, the inbox keys, transactional
    "POST /attachments": (2, 2),  # the attachment item and the uploader's budget
    "transcript": (1, 10),
    "sign-in": (2, 2),
    "GET /api/user": (0, 2),
    "GET /api/chats (rooms)": (0, 3),
    "GET /api/inbox": (0, 52),  # user and token, an index page, 25 rows' chats and read markers
    "$connect": (4, 3),  # the connection item, its pointer and token item, the ticket spent
    "$disconnect": (3, 1),
    "ping": (1, 1),  # the 10-a-minute counter
    "typing": (1, 2),  # the 2-second limiter, the chat's sockets
    "fan-out of an event": (0, 2),  # the chat item, its sockets and the team's (one batch each at these rates)
    "dispatch of an event": (1, 1),  # the endpoints read, one delivery record per endpoint
    "delivery attempt": (1, 1),
    "unread check": (0, 3),  # the chat user's marker and sockets
}
# Stored bytes per message (message item and client id) and per event (kept 30 days).
MESSAGE_ITEM_BYTES = 1_000
EVENT_ITEM_BYTES = 700
EVENT_RETENTION_DAYS = 30
# Logs: one JSON request line and the platform's start and report lines per invocation;
# one access-log line per HTTP request (the WebSocket stage logs nothing by default).
LOG_BYTES_PER_INVOCATION = 1_000
ACCESS_LOG_BYTES = 400
# Lambda's SQS poller long-polls each queue with 5 connections of 20 s at rest (deliver's
# and notify's queues): 5 × 3 a minute, whether or not anything comes.
SQS_IDLE_RECEIVES_PER_QUEUE_MONTH = 5 * 3 * 60 * 24 * DAYS_PER_MONTH
POLLED_QUEUES = 2

# --- Where each call runs (template.yaml's functions).
FUNCTION_OF = {
    "send-code": "chat-users", "get-token": "chat-users", "GET /api/chat-user": "current-user",
    "realtime-ticket": "chats", "GET /events": "chat-messages", "GET /messages": "chat-messages",
    "POST /messages": "chat-messages", "PUT /read": "chat-users", "assign or status": "chats",
    "POST /attachments": "chat-messages", "transcript": "chat-users", "sign-in": "tokens",
    "GET /api/user": "current-user", "GET /api/chats (rooms)": "chats", "GET /api/inbox": "chats",
    "team realtime-ticket": "companies", "$connect": "realtime", "$disconnect": "realtime",
    "ping": "realtime", "typing": "realtime", "fan-out of an event": "fanout",
    "dispatch of an event": "dispatch", "delivery attempt": "deliver", "unread check": "notify",
}
DEFAULT_MEMORY_MB = 256


# --- Deployment facts from template.yaml.
def template_text():
    return TEMPLATE.read_text() if TEMPLATE.exists() else ""


def parameter_default(text, name, fallback):
    m = re.search(rf"\n  {re.escape(name)}:\n(?:    .*\n|      .*\n)*?    Default: '?(\w+)'?", text)
    return m.group(1) if m else fallback


def globals_memory_mb(text):
    m = re.search(r"\nGlobals:\n(?:  .*\n|\n)*?    MemorySize: (\d+)", text)
    return int(m.group(1)) if m else DEFAULT_MEMORY_MB


def function_memory_mb(text, function):
    """The function's own MemorySize (it follows its FunctionName), else the Globals one."""
    start = text.find(f"FunctionName: !Sub '${{AWS::StackName}}-{function}'")
    if start < 0:
        return globals_memory_mb(text)
    nxt = re.search(r"\n  [A-Za-z]", text[start:])  # the next resource
    body = text[start:start + nxt.start()] if nxt else text[start:]
    m = re.search(r"MemorySize: (\d+)", body)
    return int(m.group(1)) if m else globals_memory_mb(text)


def alarm_count(text):
    return text.count("Type: AWS::CloudWatch::Alarm")


# --- Measured inputs.
def rust_post(raw):
    """The Rust `chat-messages` row of warm-post.jsonl, or None."""
    return next((r for r in optional_rows(raw, "warm-post.jsonl") if r["name"] != PEER), None)


def live_p50_ms(raw):
    rows = optional_rows(raw, "live.jsonl")
    return rows[0]["p50_ms"] if rows else None


@dataclass
class Inputs:
    post: dict | None  # the Rust POST's warm row
    fanout_ms: float | None  # live delivery's p50: an upper bound of one fan-out invocation
    units: dict  # message kind → its measured row
    template: str


def read_inputs(raw):
    return Inputs(rust_post(raw), live_p50_ms(raw), WU.billed(WU.read_rows(raw)), template_text())


def duration_ms(inputs, op, memory_mb):
    """Billed duration of one call: the measured POST's, its CPU part stretched to the memory's
    CPU share (the same for every route: only the POST is timed); the fan-out's from live delivery."""
    if op == "fan-out of an event" and inputs.fanout_ms is not None:
        return inputs.fanout_ms
    if inputs.post is None:
        return None
    return duration_at(inputs.post, memory_mb)


# --- Usage: counters of one month.
def add_calls(usage, inputs, op, n, http=True):
    """`n` calls of `op`: an HTTP request (or a socket route), an invocation, its units and log lines."""
    if n <= 0:
        return
    memory = function_memory_mb(inputs.template, FUNCTION_OF[op])
    ms = duration_ms(inputs, op, memory)
    usage["lambda requests"] += n
    if ms is not None:
        usage["lambda GB-s"] += n * memory / 1024 * math.ceil(ms) / 1000
        usage["lambda busy s"] += n * ms / 1000
    if http:
        usage["http requests"] += n
        usage["log bytes"] += n * ACCESS_LOG_BYTES
    usage["log bytes"] += n * LOG_BYTES_PER_INVOCATION
    wru, rru = ASSUMED_UNITS.get(op, (0, 0))
    usage["assumed WRU"] += n * wru
    usage["assumed RRU"] += n * rru


def message_mix():
    """Messages of one conversation by measured kind."""
    return {WU.GUEST_WAIT: WAITS, WU.GUEST: GUEST_MESSAGES - WAITS, WU.STAFF: STAFF_REPLIES, WU.NOTE: NOTES}


def messages_per_conversation():
    return GUEST_MESSAGES + STAFF_REPLIES + NOTES


def events_per_conversation():
    return messages_per_conversation() + sum(EVENTS_BESIDES_MESSAGES.values())


def inbox_events_per_conversation():
    """Events after which the console reads its inbox again (all but read.updated: console/main.ts)."""
    return events_per_conversation() - EVENTS_BESIDES_MESSAGES[READ_UPDATED]


def add_messages(usage, inputs, conversations):
    """The POSTs: invocations, and the units write-units.jsonl measured (missing kinds: counted, unpriced)."""
    add_calls(usage, inputs, "POST /messages", conversations * messages_per_conversation())
    for kind, n in message_mix().items():
        row = inputs.units.get(kind)
        if row is None:
            usage["unmeasured messages"] += conversations * n
            continue
        usage["measured WRU"] += conversations * n * row["wru"]
        usage["measured RRU"] += conversations * n * row["rru"]


def add_conversation_calls(usage, inputs, c):
    """The HTTP calls of `c` conversations, visitor's and agent's."""
    calls = {
        "send-code": EMAIL_CODE_SHARE, "get-token": 1, "GET /api/chat-user": 1,
        "realtime-ticket": 2,  # the visitor's socket, the agent's chat socket
        "GET /events": 2,  # each catches up after connecting
        "GET /messages": 2,  # the visitor's history, the agent opening it
        "PUT /read": STAFF_REPLIES + GUEST_MESSAGES,  # the visitor reads each reply, the agent each message
        "assign or status": 2, "POST /attachments": FILE_SHARE, "transcript": TRANSCRIPT_SHARE,
    }
    for op, per in calls.items():
        add_calls(usage, inputs, op, c * per)
    add_messages(usage, inputs, c)
    # The image check lengthens the POST that attaches a file.
    memory = function_memory_mb(inputs.template, "chat-messages")
    usage["lambda GB-s"] += c * FILE_SHARE * memory / 1024 * FILE_CHECK_MS / 1000
    usage["lambda busy s"] += c * FILE_SHARE * FILE_CHECK_MS / 1000


def add_sockets(usage, inputs, c, online_agents):
    """The conversation's two sockets: connects, minutes, pings, typing and event frames."""
    minutes = VISITOR_SOCKET_MINUTES + AGENT_CHAT_SOCKET_MINUTES
    usage["ws minutes"] += c * minutes
    usage["ws connects"] += c * 2
    add_calls(usage, inputs, "$connect", c * 2, http=False)
    add_calls(usage, inputs, "$disconnect", c * 2, http=False)
    pings = c * minutes / PING_EVERY_MINUTES
    usage["ws messages"] += pings * 2
    add_calls(usage, inputs, "ping", pings, http=False)
    guest_typing = c * TYPING_NOTICES_PER_MESSAGE * GUEST_MESSAGES
    staff_typing = c * TYPING_NOTICES_PER_MESSAGE * STAFF_REPLIES
    usage["ws messages"] += guest_typing + staff_typing  # received
    usage["ws messages"] += guest_typing * (online_agents + 1) + staff_typing  # sent
    add_calls(usage, inputs, "typing", guest_typing + staff_typing, http=False)
    events = c * events_per_conversation()
    usage["events"] += events
    # Each event: the visitor's socket (not notes and members-only ones), the agent's chat
    # socket, and every online agent's team socket.
    usage["ws messages"] += events - c * MEMBERS_ONLY_EVENTS + events + events * online_agents


def add_stream_work(usage, inputs, c):
    """What the table's stream and the queues do per event: fan-out, webhooks, unread checks."""
    events = c * events_per_conversation()
    add_calls(usage, inputs, "fan-out of an event", events, http=False)
    add_calls(usage, inputs, "dispatch of an event", events, http=False)
    deliveries = events * WEBHOOK_ENDPOINTS
    add_calls(usage, inputs, "delivery attempt", deliveries, http=False)
    checks = c * STAFF_REPLIES  # one delayed check of the visitor per reply
    add_calls(usage, inputs, "unread check", checks, http=False)
    usage["sqs requests"] += 3 * (deliveries + checks)  # send, receive, delete


def add_mail_and_files(usage, c, conversations_per_day):
    usage["emails"] += c * (EMAIL_CODE_SHARE + UNREAD_EMAIL_SHARE + TRANSCRIPT_SHARE)
    files = c * FILE_SHARE
    usage["s3 puts"] += files * 2  # the browser's presigned POST, the checked copy
    usage["s3 gets"] += files * (1 + FILE_VIEWS)  # the check reads the upload; the views
    usage["s3 GB"] += conversations_per_day * FILE_SHARE * 2 * FILE_BYTES * RETENTION_DAYS / 1e9


def add_agents(usage, inputs, agents, inbox_reloads):
    """The agents' working days: sign-in, the team socket held all day, its reconnects, inbox reads."""
    days = agents * AGENT_DAYS_PER_MONTH
    for op in ("sign-in", "GET /api/user", "GET /api/chats (rooms)"):
        add_calls(usage, inputs, op, days)
    connects = days * math.ceil(AGENT_HOURS_PER_DAY * 60 / RECONNECT_EVERY_MINUTES)
    add_calls(usage, inputs, "team realtime-ticket", connects)
    add_calls(usage, inputs, "$connect", connects, http=False)
    add_calls(usage, inputs, "$disconnect", connects, http=False)
    usage["ws connects"] += connects
    minutes = days * AGENT_HOURS_PER_DAY * 60
    usage["ws minutes"] += minutes
    usage["ws messages"] += minutes / PING_EVERY_MINUTES * 2
    add_calls(usage, inputs, "ping", minutes / PING_EVERY_MINUTES, http=False)
    add_calls(usage, inputs, "GET /api/inbox", connects + inbox_reloads)
    usage["inbox reads"] += connects + inbox_reloads


def staffed_seconds():
    return STAFFED_HOURS_PER_DAY * 3600 * DAYS_PER_MONTH


def agent_online_seconds(agents):
    return agents * AGENT_HOURS_PER_DAY * 3600 * AGENT_DAYS_PER_MONTH


def online_agents(size):
    """Agents online on average while visitors write."""
    return agent_online_seconds(size.agents) / staffed_seconds()


def inbox_reloads(size):
    """Inbox reads the team stream triggers: an agent reads it once the stream has been quiet
    for the debounce, so events arriving at rate r (Poisson) cause r·exp(−r·d) reads a second."""
    rate = size.visitors_per_day * DAYS_PER_MONTH * inbox_events_per_conversation() / staffed_seconds()
    return agent_online_seconds(size.agents) * rate * math.exp(-rate * INBOX_DEBOUNCE_S)


def add_storage(usage, conversations_per_day):
    messages = conversations_per_day * messages_per_conversation() * RETENTION_DAYS * MESSAGE_ITEM_BYTES
    events = conversations_per_day * events_per_conversation() * EVENT_RETENTION_DAYS * EVENT_ITEM_BYTES
    usage["dynamodb GB"] += (messages + events) / 1e9


def monthly_usage(size, inputs):
    usage = collections.Counter()
    c = size.visitors_per_day * DAYS_PER_MONTH
    usage["conversations"] = c
    add_conversation_calls(usage, inputs, c)
    add_sockets(usage, inputs, c, online_agents(size))
    add_stream_work(usage, inputs, c)
    add_mail_and_files(usage, c, size.visitors_per_day)
    add_agents(usage, inputs, size.agents, inbox_reloads(size))
    add_storage(usage, size.visitors_per_day)
    usage["sqs requests"] += POLLED_QUEUES * SQS_IDLE_RECEIVES_PER_QUEUE_MONTH
    return usage


# --- The bill.
SERVICES = ["Lambda", "API Gateway HTTP", "API Gateway WebSocket", "DynamoDB", "SES", "S3", "SQS", "CloudWatch"]


def log_retention_days(text):
    return int(parameter_default(text, "LogRetentionDays", "30"))


def cloudwatch_cost(usage, text):
    ingested = usage["log bytes"] / 1e9
    stored = ingested * log_retention_days(text) / DAYS_PER_MONTH  # what the retention keeps at once
    return ingested * P.LOGS_INGESTED_GB.value + stored * P.LOGS_STORED_GB.value + alarm_count(text) * P.ALARM.value


def monthly_bill(usage, inputs):
    """Dollars a month by service."""
    return {
        "Lambda": usage["lambda requests"] * P.LAMBDA_REQUEST.value + usage["lambda GB-s"] * P.LAMBDA_GB_S.value,
        "API Gateway HTTP": usage["http requests"] * P.HTTP_API_REQUEST.value,
        "API Gateway WebSocket": usage["ws messages"] * P.WEBSOCKET_MESSAGE.value
        + usage["ws minutes"] * P.WEBSOCKET_CONNECTION_MINUTE.value,
        "DynamoDB": (usage["measured WRU"] + usage["assumed WRU"]) * P.DYNAMODB_WRU.value
        + (usage["measured RRU"] + usage["assumed RRU"]) * P.DYNAMODB_RRU.value
        + usage["dynamodb GB"] * P.DYNAMODB_STORAGE.value,
        "SES": usage["emails"] * P.SES_EMAIL.value,
        "S3": usage["s3 puts"] * P.S3_PUT.value + usage["s3 gets"] * P.S3_GET.value + usage["s3 GB"] * P.S3_STORAGE.value,
        "SQS": usage["sqs requests"] * P.SQS_REQUEST.value,
        "CloudWatch": cloudwatch_cost(usage, inputs.template),
    }


# --- Rendering.
def money(x):
    return f"{x:,.2f}" if x < 1000 else f"{x:,.0f}"


def price_line(name, price):
    mark = "" if price.rechecked else " **(not re-checked)**"
    return f"| {name} | {price.quoted} | {price.url} | {price.checked}{mark} |"


def prices_table():
    out = [f"**Prices** (us-east-1 list prices, no free tier; looked up {P.LOOKED_UP} in stored copies of public pages;",
           "a price no stored copy showed is marked **not re-checked** with where it comes from):\n",
           "| item | price | published at | seen in |", "|---|---|---|---|"]
    out += [price_line(name, price) for name, price in P.AWS_PRICES]
    out.append("")
    return out


def inputs_notes(inputs):
    out = []
    if inputs.post is None:
        out.append("- **Lambda durations: not measured in this run** (no Rust row in `warm-post.jsonl`): the Lambda row counts requests only, no GB-s.")
    else:
        out.append(f"- Lambda durations: the Rust `{inputs.post['name']}` POST of §7 ({inputs.post['median_ms']:.2f} ms wall, "
                   f"{inputs.post['cpu_ms_per_request']:.2f} ms CPU), its CPU part stretched to each function's memory as in §9; every")
        out.append("  other route is assumed to take as long (only the POST is timed), against moto on loopback.")
    if inputs.fanout_ms is None:
        out.append("- The fan-out's duration: no `live.jsonl` in this run; taken as the POST's.")
    else:
        out.append(f"- The fan-out's duration: §6's p50 delivery latency, {inputs.fanout_ms:.1f} ms (an upper bound: it includes the bridge's poll and moto).")
    missing = [k for k in message_mix() if k not in inputs.units]
    if missing:
        out.append(f"- **Request units not measured in this run** for: {', '.join(missing)} (`{WU.FILE}`): their writes are left out of DynamoDB.")
    else:
        out.append(f"- Request units of the messages: measured (`{WU.FILE}`, the \"after\" rows where present).")
    out.append("")
    return out


def sizes_table():
    out = ["| size | visitors (conversations) a day | agents | conversations a month | agents online while staffed (avg) |",
           "|---|---|---|---|---|"]
    for s in SIZES:
        out.append(f"| {s.name} | {s.visitors_per_day:,} | {s.agents:,} | {s.visitors_per_day * DAYS_PER_MONTH:,} | {online_agents(s):.1f} |")
    out.append("")
    return out


def partial_services(inputs):
    """Service → why its cell leaves something out (a measurement this run lacks)."""
    partial = {}
    if inputs.post is None:
        partial["Lambda"] = "requests only: no measured duration (`warm-post.jsonl`)"
    missing = [k for k in message_mix() if k not in inputs.units]
    if missing:
        partial["DynamoDB"] = f"without the messages' own units: not measured (`{WU.FILE}`: {', '.join(missing)})"
    return partial


def bill_table(bills, inputs):
    partial = partial_services(inputs)
    out = ["| service | " + " | ".join(s.name for s, _, _ in bills) + " |", "|---|" + "---|" * len(bills)]
    for service in SERVICES:
        mark = " (partial†)" if service in partial else ""
        out.append(f"| {service}{mark} | " + " | ".join(f"${money(b[service])}" for _, _, b in bills) + " |")
    out.append("| **total** | " + " | ".join(f"**${money(sum(b.values()))}**" for _, _, b in bills) + " |")
    out.append("| per agent seat | " + " | ".join(f"${money(sum(b.values()) / s.agents)}" for s, _, b in bills) + " |")
    out.append("| per conversation | " + " | ".join(f"${sum(b.values()) / u['conversations']:.4f}" for _, u, b in bills) + " |")
    out.append("")
    out += [f"† {service}: {why}; the total is short by that much.\n" for service, why in partial.items()]
    return out


def usage_table(bills, inputs):
    rows = [("HTTP API requests", "http requests"), ("Lambda invocations", "lambda requests"), ("Lambda GB-s", "lambda GB-s"),
            ("WebSocket messages", "ws messages"), ("WebSocket connection-minutes", "ws minutes"),
            ("logged events (each fans out)", "events"), ("inbox reads (team-stream reloads and reconnects)", "inbox reads"),
            ("WRU measured (messages)", "measured WRU"), ("WRU assumed (other calls)", "assumed WRU"),
            ("RRU measured (messages)", "measured RRU"), ("RRU assumed (other calls)", "assumed RRU"),
            ("emails", "emails"), ("S3 GB stored", "s3 GB"), ("DynamoDB GB stored", "dynamodb GB"),
            ("SQS requests", "sqs requests"), ("log GB ingested", "log bytes")]
    out = ["| a month | " + " | ".join(s.name for s, _, _ in bills) + " |", "|---|" + "---|" * len(bills)]
    for label, key in rows:
        scale = 1e-9 if key == "log bytes" else 1
        if key.startswith("measured") and "DynamoDB" in partial_services(inputs):
            out.append(f"| {label} | " + " | ".join("not measured" for _ in bills) + " |")
            continue
        out.append(f"| {label} | " + " | ".join(quantity(u[key] * scale) for _, u, _ in bills) + " |")
    out.append("")
    return out


def quantity(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"


def seats_table(bills):
    out = ["| product | plan | " + " | ".join(f"{s.name} ({s.agents:,} seats) $/month, $/seat" for s, _, _ in bills) + " | published at | seen in |",
           "|---|---|" + "---|" * len(bills) + "---|---|"]
    out.append("| **this service on AWS** | (the bill above) | "
               + " | ".join(f"**${money(sum(b.values()))}**, **${money(sum(b.values()) / s.agents)}**" for s, _, b in bills) + " | §10 | this run |")
    for plan in P.SEAT_PLANS:
        cells = []
        for s, _, _ in bills:
            if plan.seats_included is None:
                total = plan.monthly * s.agents
            elif plan.seats_included >= s.agents:
                total = plan.monthly
            else:
                cells.append(f"holds {plan.seats_included} seats")
                continue
            cells.append(f"${money(total)}, ${money(total / s.agents)}")
        seats = f"${plan.monthly:g} per seat" if plan.seats_included is None else f"${plan.monthly:g} per workspace, {plan.seats_included} seats"
        mark = "" if plan.rechecked else " **(not re-checked)**"
        out.append(f"| {plan.product} | {plan.plan} ({seats}) | " + " | ".join(cells) + f" | {plan.url} | {plan.checked}{mark} |")
    out.append("")
    return out


def assumptions_list():
    a = [
        f"sizes: agents = visitors a day × {DAYS_PER_MONTH} / ({AGENT_DAYS_PER_MONTH} days × {CONVERSATIONS_PER_AGENT_SHIFT} conversations a shift), rounded up; "
        f"visitors write in {STAFFED_HOURS_PER_DAY} staffed hours a day; each agent is online {AGENT_HOURS_PER_DAY} h × {AGENT_DAYS_PER_MONTH} days",
        f"a conversation: {GUEST_MESSAGES} visitor messages ({WAITS} start a wait), {STAFF_REPLIES} replies, {NOTES} note; "
        f"{events_per_conversation()} logged events in all ({', '.join(f'{k} ×{v}' for k, v in EVENTS_BESIDES_MESSAGES.items())})",
        f"email: {EMAIL_CODE_SHARE:.0%} of conversations start with an emailed code (the rest: signed-in visitors through `identify`, or a "
        f"returning visitor's live chat-user token); {UNREAD_EMAIL_SHARE:.0%} get an unread-messages email, {TRANSCRIPT_SHARE:.0%} a transcript",
        f"files: {FILE_SHARE:.0%} of conversations carry one file of {FILE_BYTES / 1e3:.0f} KB (an upload and its checked copy stored, "
        f"{FILE_VIEWS} views, {FILE_CHECK_MS} ms of image check); messages and files kept {RETENTION_DAYS} days (the bill a year in), events {EVENT_RETENTION_DAYS}",
        f"sockets: the visitor's for {VISITOR_SOCKET_MINUTES} min, the agent's chat socket for {AGENT_CHAT_SOCKET_MINUTES} min, each agent's team socket "
        f"all shift; a ping every {PING_EVERY_MINUTES} min (frame in, pong out), a reconnect every {RECONNECT_EVERY_MINUTES} min (ticket, $connect, inbox read); "
        f"{TYPING_NOTICES_PER_MESSAGE} typing notices per message; every frame under 32 KB (one billed message)",
        "fan-out: each event goes to the visitor's socket (not notes, not `chat.assigned`), the agent's chat socket and every online agent's "
        "team socket (all agents see every chat); the console reads the inbox again after each quiet "
        f"{INBOX_DEBOUNCE_S * 1000:.0f} ms of its team stream, read markers aside (`widget/src/console/inbox.ts`, `main.ts`): "
        "with events at rate r a second, r·exp(−r·0.25) reads a second per agent",
        f"queues: {WEBHOOK_ENDPOINTS} webhook endpoint taking every event (a delivery record, SQS send/receive/delete, one attempt); one "
        f"unread check per reply; Lambda's pollers on {POLLED_QUEUES} queues ({SQS_IDLE_RECEIVES_PER_QUEUE_MONTH:,} receives each a month at rest)",
        f"request units of calls other than a message's POST: estimated per call (`ASSUMED_UNITS` in bench/cost_model.py), not measured",
        f"logs: {LOG_BYTES_PER_INVOCATION} bytes per invocation, {ACCESS_LOG_BYTES} per HTTP access-log line (the WebSocket stage's access "
        f"logs are off by default), kept {log_retention_days(template_text())} days (template.yaml); {alarm_count(template_text())} alarms "
        "(template.yaml); no custom metrics (the functions publish none); the dashboard within the free three",
        "memory per function from template.yaml (chat-messages "
        f"{function_memory_mb(template_text(), 'chat-messages')} MB, tokens {function_memory_mb(template_text(), 'tokens')} MB, "
        f"the others {globals_memory_mb(template_text())} MB); Lambda's free tier, data transfer out, Secrets Manager, KMS and the optional WAF are left out",
    ]
    return [f"- {x}" for x in a] + [""]


def bill_section(raw):
    """§10: the model's inputs, a month's usage and bill per size, beside seat prices."""
    raw = pathlib.Path(raw)
    inputs = read_inputs(raw)
    bills = []
    for size in SIZES:
        usage = monthly_usage(size, inputs)
        bills.append((size, usage, monthly_bill(usage, inputs)))
    out = ["## 10. A company's monthly AWS bill, beside seat prices\n"]
    out.append("What one company's chat costs on AWS a month: its visitors' conversations and its agents'")
    out.append("working days, multiplied out and priced. Measured inputs are this run's; the rest are the")
    out.append("model's assumptions, each a named constant in `bench/cost_model.py` with its reason.\n")
    out += WU.units_section(WU.read_rows(raw))
    out += WU.invariants_section(WU.read_rows(raw))
    out.append("**Measured inputs:**\n")
    out += inputs_notes(inputs)
    out.append("**Assumptions:**\n")
    out += assumptions_list()
    out += sizes_table()
    out.append("**The month's usage:**\n")
    out += usage_table(bills, inputs)
    out.append("**The month's bill** (dollars):\n")
    out += bill_table(bills, inputs)
    out += fan_out_note(bills)
    out.append("**Beside seat prices** (a month, for the same number of agents):\n")
    out += seats_table(bills)
    out += prices_table()
    return out


def fan_out_note(bills):
    size, usage, bill = bills[-1]
    share = bill["API Gateway WebSocket"] / sum(bill.values())
    out = [f"What grows fastest is the team stream: every event goes to every online agent and makes each console read the",
            f"inbox again, so that part grows with conversations × agents. In the {size.name} company the WebSocket line is {share:.0%} of",
            f"the bill and the inbox is read {quantity(usage['inbox reads'])} times a month. Patching the inbox row from the event instead",
            "of reading the page again, and sending agents only the events of chats they have open or own, would make it linear."]
    over = [s for s, _, _ in bills if online_agents(s) > TEAM_SOCKETS_PER_COMPANY]
    if over:
        out.append(f"The {', '.join(s.name for s in over)} company has more agents online than the {TEAM_SOCKETS_PER_COMPANY} team sockets a "
                   "company may hold today: its bill is for the cap raised (§11).")
    return out + [""]


# --- §11: where the design stops scaling. Published limits (defaults, per account and
# Region unless said), each with the page that states it, looked up on P.LOOKED_UP.
DYNAMODB_PARTITION_WCU = 1_000
DYNAMODB_PARTITION_RCU = 3_000
DYNAMODB_PARTITION_URL = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html"
LAMBDA_CONCURRENCY = 1_000
LAMBDA_QUOTAS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
LAMBDA_SYNC_PAYLOAD_MB = 6
WS_NEW_CONNECTIONS_PER_S = 500
WS_IDLE_MINUTES = 10
WS_MAX_CONNECTION_HOURS = 2
WS_QUOTAS_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html"
API_GATEWAY_ACCOUNT_RPS = 10_000
API_GATEWAY_ACCOUNT_BURST = 5_000
API_GATEWAY_QUOTAS_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
HTTP_API_TIMEOUT_S = 30
HTTP_API_PAYLOAD_MB = 10
HTTP_API_QUOTAS_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"
SES_SANDBOX_PER_DAY = 200
SES_SANDBOX_PER_S = 1
SES_SANDBOX_URL = "https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html"
SES_QUOTAS_URL = "https://docs.aws.amazon.com/ses/latest/dg/quotas.html"
TRANSACTION_ITEMS = 100
TRANSACTION_MB = 4
TRANSACTION_URL = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html"
# Ours (README, "Live conversation"): open team sockets per company, sockets per chat.
TEAM_SOCKETS_PER_COMPANY = 200
SOCKETS_PER_CHAT = 500


def index_units(row):
    """Index name (GSI1, GSI2, …) → write units of the row's items that name it."""
    units = collections.Counter()
    for item in row.get("items", []):
        for name in set(re.findall(r"gsi\s*\d+", item["what"], re.I)):
            units[name.upper().replace(" ", "")] += item["units"]
    return units


def inbox_index_units(units):
    """Per index: its write units averaged over a conversation's messages (measured items)."""
    total, n = collections.Counter(), 0
    for kind, count in message_mix().items():
        row = units.get(kind)
        if row is None:
            return None
        for name, u in index_units(row).items():
            total[name] += count * u
        n += count
    return {name: u / n for name, u in total.items()} if total else None


def peak_rate(per_month):
    return per_month / staffed_seconds() * PEAK_FACTOR


def peak_messages_per_s(size):
    return peak_rate(size.visitors_per_day * DAYS_PER_MONTH * messages_per_conversation())


def per_size(values, fmt):
    return ", ".join(f"{s.name} {fmt(v)}" for s, v in values)


def inbox_limit(inputs):
    per_index = inbox_index_units(inputs.units)
    if not per_index:
        return ("DynamoDB: one partition of an index takes 1,000 write units a second", "not computed: "
                f"`{WU.FILE}` is missing or its items name no index (GSI…)", "")
    name, units = max(per_index.items(), key=lambda kv: kv[1])
    cap = DYNAMODB_PARTITION_WCU / units
    peaks = per_size([(s, peak_messages_per_s(s)) for s in SIZES], lambda v: f"{v:.2f}/s")
    return (f"DynamoDB partition: {DYNAMODB_PARTITION_WCU:,} WCU/s and {DYNAMODB_PARTITION_RCU:,} RCU/s per partition "
            f"({DYNAMODB_PARTITION_URL}). All of a company's conversations in one status share one inbox key "
            f"`INBOX#<company>#<status>`, so every message lands on one partition of {name}",
            f"{name} takes {units:.2f} WCU per message on average (measured items): **{cap:,.0f} messages a second per company "
            f"and status**; peak messages a second here: {peaks}",
            "shard the key by a hash of the chat id into N buckets (`INBOX#<company>#<status>#<0..N-1>`) and read the N "
            "buckets with one Query each, merged by sort key (the README's plan); N = ceil(peak rate / cap)")


def chat_limit(inputs):
    rows = [inputs.units[k] for k in WU.KINDS if k in inputs.units]
    if not rows:
        return ("DynamoDB partition: one chat", f"not computed: no `{WU.FILE}`", "")
    table_units = max(r["wru"] - sum(index_units(r).values()) for r in rows)
    return ("DynamoDB partition: one chat's items (`CHAT#<id>`: the chat head with its event counter, messages, events) "
            "share a partition, and every message updates the one chat item",
            f"at most {table_units:g} table WRU per message (measured): about **{DYNAMODB_PARTITION_WCU / table_units:,.0f} messages "
            "a second in one chat**, far above a conversation's, reachable only by a room with many posters "
            f"(its {SOCKETS_PER_CHAT} sockets and each chat user's per-minute budget come first)",
            "a room that busy: split it into rooms, or move the event counter off the chat item (a counter per shard)")


def concurrency_limit(bills, inputs):
    if inputs.post is None:
        return ("Lambda concurrency", "not computed: no Rust row in `warm-post.jsonl`", "")
    memory = function_memory_mb(inputs.template, "chat-messages")
    ms = duration_ms(inputs, "POST /messages", memory)
    needed = per_size([(s, u["lambda busy s"] / staffed_seconds() * PEAK_FACTOR) for s, u, _ in bills], lambda v: f"{v:.1f}")
    return (f"Lambda: {LAMBDA_CONCURRENCY:,} concurrent executions per account and Region by default ({LAMBDA_QUOTAS_URL}; "
            "new accounts get less until AWS raises it)",
            f"at the POST's {ms:.1f} ms (§7, CPU stretched to {memory} MB) that is **{LAMBDA_CONCURRENCY / ms * 1000:,.0f} POSTs a second**; "
            f"concurrency the sizes need at peak, every function together: {needed}",
            "ask for more (Service Quotas, to tens of thousands); ReservedConcurrency in template.yaml caps each function so a "
            "flood on one route cannot starve the others")


def websocket_limits(bills):
    connects = per_size([(s, peak_rate(u["ws connects"])) for s, u, _ in bills], lambda v: f"{v:.2f}/s")
    online = per_size([(s, online_agents(s)) for s, _, _ in bills], lambda v: f"{v:.0f}")
    return [
        (f"API Gateway WebSocket: {WS_NEW_CONNECTIONS_PER_S} new connections a second per account and Region, "
         f"adjustable ({WS_QUOTAS_URL})",
         f"peak new connections here: {connects}; one deployment holds about {WS_NEW_CONNECTIONS_PER_S} / (a company's "
         "rate) companies of a size before connects are refused",
         "ask for more; clients already back off with jitter (1-30 s, `widget/src/core/live.ts`)"),
        (f"API Gateway WebSocket: {WS_IDLE_MINUTES}-minute idle timeout and {WS_MAX_CONNECTION_HOURS}-hour connection limit, "
         "neither adjustable (same page)",
         f"no ceiling on load, a cost: a ping every {PING_EVERY_MINUTES} min (two billed frames) and a reconnect every "
         f"~{RECONNECT_EVERY_MINUTES} min per socket (a ticket, $connect, the catch-up reads)",
         "nothing to raise: the clients ping and reconnect before the limits (`live.ts`); a gap is caught up from `/events`"),
        (f"Ours: {TEAM_SOCKETS_PER_COMPANY} open team sockets per company (README, \"Live conversation\")",
         f"agents online at once here: {online}; a company with more agents online than that is refused sockets (429)",
         "raise the cap with the fan-out's cost in mind (every event to every agent, §10), or give large teams streams per group"),
    ]


def http_limit(bills, inputs):
    rps = per_size([(s, peak_rate(u["http requests"])) for s, u, _ in bills], lambda v: f"{v:.1f}")
    stage = parameter_default(inputs.template, "ThrottlingRateLimit", "?")
    burst = parameter_default(inputs.template, "ThrottlingBurstLimit", "?")
    return (f"API Gateway: {API_GATEWAY_ACCOUNT_RPS:,} requests a second per account and Region across HTTP and WebSocket "
            f"APIs, burst {API_GATEWAY_ACCOUNT_BURST:,} ({API_GATEWAY_QUOTAS_URL}); our stage's own default throttle: "
            f"{stage} a second, burst {burst} (template.yaml `ThrottlingRateLimit`, `ThrottlingBurstLimit`)",
            f"peak HTTP requests a second here: {rps} (the inbox reloads dominate a large team's)",
            "raise the stage throttle parameters at deploy (the stage's default is the first wall); ask for more than the "
            "account's 10,000; cut the inbox reloads (§10)")


def ses_limit(bills):
    per_day = per_size([(s, u["emails"] / DAYS_PER_MONTH) for s, u, _ in bills], lambda v: f"{v:,.0f}")
    per_s = per_size([(s, peak_rate(u["emails"])) for s, u, _ in bills], lambda v: f"{v:.2f}")
    return (f"SES: in the sandbox {SES_SANDBOX_PER_DAY} emails a day, {SES_SANDBOX_PER_S} a second, to verified addresses only "
            f"({SES_SANDBOX_URL}); out of it the quotas depend on the account's use case and reputation ({SES_QUOTAS_URL})",
            f"emails a day here: {per_day}; a second at peak: {per_s}; a code that cannot be sent is a visitor who cannot start",
            "request production access before launch, then a higher sending quota as volume grows (quotas count per Region)")


def payload_limit():
    return (f"Lambda: {LAMBDA_SYNC_PAYLOAD_MB} MB request and response (synchronous; {LAMBDA_QUOTAS_URL}); HTTP API: "
            f"{HTTP_API_PAYLOAD_MB} MB payload, {HTTP_API_TIMEOUT_S} s integration timeout ({HTTP_API_QUOTAS_URL})",
            "files never pass through a function (presigned POST to S3, at most 10 MiB); a personal-data export stops at 4 MiB "
            "of messages (`messages_truncated`); functions time out at 15 s (template.yaml), under the API's 30 s",
            "larger exports: write them to S3 and answer a link")


def transaction_limit(inputs):
    rows = [inputs.units[k] for k in WU.KINDS if k in inputs.units and inputs.units[k].get("items")]
    biggest = max((len(r["items"]) for r in rows), default=None)
    seen = (f"a message's transaction has at most {biggest} items here (measured rows)" if biggest is not None
            else f"not measured in this run (no items in `{WU.FILE}`)")
    return (f"DynamoDB transactions: {TRANSACTION_ITEMS} items and {TRANSACTION_MB} MB at most ({TRANSACTION_URL})",
            f"{seen}; an edit rewrites every earlier event of its message in the same transaction (README), so a message "
            f"edited about {TRANSACTION_ITEMS - 5} times reaches the item limit",
            "cap edits per message below that (or rewrite old events outside the edit's transaction, in batches)")


def scaling_section(raw):
    """§11: each limit with its number, where the sizes of §10 stand, and the remedy."""
    inputs = read_inputs(pathlib.Path(raw))
    bills = [(s, monthly_usage(s, inputs), None) for s in SIZES]
    limits = [inbox_limit(inputs), chat_limit(inputs), concurrency_limit(bills, inputs), *websocket_limits(bills),
              http_limit(bills, inputs), ses_limit(bills), payload_limit(), transaction_limit(inputs)]
    out = ["## 11. Where the design stops scaling\n"]
    out.append(f"Each limit with its published number (looked up {P.LOOKED_UP}), where §10's companies stand (peak = "
               f"{PEAK_FACTOR}× the staffed-hours average), and the remedy.\n")
    out.append("| limit | here | remedy |")
    out.append("|---|---|---|")
    for limit, here, remedy in limits:
        out.append(f"| {limit} | {here} | {remedy or '–'} |")
    out.append("")
    return out


def cost_model_section(raw):
    """§10 and §11 as markdown lines, as report.py writes them after §9."""
    return bill_section(raw) + scaling_section(raw)

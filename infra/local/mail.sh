#!/usr/bin/env bash
# `make mail`: the emails moto's SES received, newest last.
set -euo pipefail
MOTO_PORT="${MOTO_PORT:-5055}"
curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/data.json" | python3 -c '
import html, json, re, sys
messages = json.load(sys.stdin).get("ses", {}).get("Message", [])
if not messages:
    print("No emails yet.")
for m in messages:
    body = m.get("body") or ""
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    text = re.sub(r"\s+", " ", text).strip()
    print("To:      ", ", ".join(m.get("destinations", {}).get("ToAddresses", []) or []))
    print("From:    ", m.get("source"))
    print("Subject: ", m.get("subject"))
    print("", text)
    print("-" * 72)
' || { echo "moto is not answering on port $MOTO_PORT: is 'make dev' running?" >&2; exit 1; }

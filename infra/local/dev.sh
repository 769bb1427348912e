#!/usr/bin/env bash
# `make dev`: moto (DynamoDB + SES) on a fixed port, the table, the sender identity, a
# demo operator with an API token, then the whole API on http://127.0.0.1:$API_PORT.
# Ctrl-C (or SIGTERM, or a failing step) stops everything it started.
# The ports come from the environment, else the defaults below; they are written into
# $DEV_DIR/dev.env, where `make code`, `make mail` and the README's commands read them.
# DEV_DIR (default .local) holds that file and the logs: tests and benchmarks that start a
# `make dev` of their own point it elsewhere, so a developer's running one is left alone.
source "$(dirname "$0")/common.sh"

MOTO_PORT="${MOTO_PORT:-5055}"
API_PORT="${API_PORT:-3000}"
WS_PORT="${WS_PORT:-3001}"
MANAGEMENT_PORT="${MANAGEMENT_PORT:-3002}"
DEV_DIR="${DEV_DIR:-.local}"
TABLE="chat-api-dev"
SENDER="chat@example.com"
ENV_FILE="$DEV_DIR/dev.env"
ENDPOINT="http://127.0.0.1:$MOTO_PORT"

# Before building: a second `make dev` on the same ports would only fail minutes later.
for name in MOTO_PORT API_PORT WS_PORT MANAGEMENT_PORT; do
  if port_answers "${!name}"; then
    echo "make dev: port ${!name} ($name) already answers: another 'make dev'? Stop it, or give" \
      "this one other ports (MOTO_PORT, API_PORT, WS_PORT, MANAGEMENT_PORT: README.md, Ports)" >&2
    exit 1
  fi
done
mkdir -p "$DEV_DIR"

echo "Building the functions and chat-admin (debug)..."
build_local_binaries

trap 'echo; echo "Stopping moto and the API..."; stop_all' EXIT
trap 'exit 130' INT TERM

echo "Starting moto on $ENDPOINT (log: $DEV_DIR/moto.log)"
start_moto "$MOTO_PORT" "$DEV_DIR/moto.log"
# New keys per run (bootstrap creates the secret): moto keeps nothing across runs, so no
# old token survives anyway.
write_env_file "$ENV_FILE" "$ENDPOINT" "$TABLE" "$SENDER" "$WS_PORT" "$MANAGEMENT_PORT" "$API_PORT"
cat >>"$ENV_FILE" <<PORTS
# This make dev's ports, for make code, make mail and the README (the functions ignore them).
MOTO_PORT=$MOTO_PORT
API_PORT=$API_PORT
WS_PORT=$WS_PORT
MANAGEMENT_PORT=$MANAGEMENT_PORT
PORTS
bootstrap "$ENDPOINT" "$TABLE" "$SENDER"

set -a; source "$ENV_FILE"; set +a
CHAT_ADMIN_PASSWORD="$DEMO_PASSWORD" "$ADMIN" user create \
  --email "$DEMO_EMAIL" --name "Demo Operator" >/dev/null
TOKEN=$("$ADMIN" token issue --email "$DEMO_EMAIL" --name "make dev" --quiet)

echo "Starting the API on http://127.0.0.1:$API_PORT (log: $DEV_DIR/api.log)"
start_api "$API_PORT" "$ENV_FILE" "$DEV_DIR/api.log"
echo "Starting the WebSocket bridge on ws://127.0.0.1:$WS_PORT (log: $DEV_DIR/bridge.log)"
start_bridge "$WS_PORT" "$MANAGEMENT_PORT" "$API_PORT" "$ENDPOINT" "$TABLE" "$DEV_DIR/bridge.log"

# The demo company and chat of the widget's demo page, made through the API as an operator
# would. Guests join it with the chat password.
API="http://127.0.0.1:$API_PORT"
api_post() {  # PATH JSON -> the new resource's id
  curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2" "$API$1" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["id"])'
}
DEMO_COMPANY=$(api_post /api/companies '{"name":"Demo Company","website":"https://demo.example"}')
DEMO_CHAT=$(api_post /api/chats "{\"company_id\":\"$DEMO_COMPANY\",\"name\":\"Demo support\",\"password\":\"$DEMO_CHAT_PASSWORD\"}")
# The demo company's second member, an agent: invited and accepted as a teammate would be
# (the invitation's code read from the local SES).
DEMO_AGENT_EMAIL="agent@demo.example"
DEMO_AGENT_PASSWORD="demo agent lantern 2026"
api_post "/api/companies/$DEMO_COMPANY/members" \
  "{\"email\":\"$DEMO_AGENT_EMAIL\",\"role\":\"agent\"}" >/dev/null
INVITATION_CODE=$(PYTHONPATH=infra/local MOTO_URL="$ENDPOINT" python3 - "$DEMO_AGENT_EMAIL" <<'PY'
import re, sys, time
import mail
for _ in range(100):
    for message in reversed(mail.emails()):
        if sys.argv[1] in mail.recipients(message):
            found = re.search(r"Your invitation code: (?:<code>)?([A-Za-z0-9_-]+)", mail.text_of(message))
            if found:
                print(found.group(1))
                sys.exit(0)
    time.sleep(0.2)
sys.exit("no invitation email arrived")
PY
)
curl -sf -H 'Content-Type: application/json' -o /dev/null \
  -d "{\"email\":\"$DEMO_AGENT_EMAIL\",\"code\":\"$INVITATION_CODE\",\"name\":\"Demo Agent\",\"password\":\"$DEMO_AGENT_PASSWORD\"}" \
  "$API/api/invitations/accept"

cat <<MSG

  Chat API is up on http://127.0.0.1:$API_PORT   (moto: $ENDPOINT, table: $TABLE)

  Demo operator: $DEMO_EMAIL / $DEMO_PASSWORD
  API token:     $TOKEN

  Try it:
    export TOKEN=$TOKEN
    curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$API_PORT/api/user

  WebSocket:     ws://127.0.0.1:$WS_PORT  (open the url of POST /api/chats/{id}/realtime-ticket)
                 e.g. curl -s -X POST -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$API_PORT/api/chats/<chat id>/realtime-ticket

  Webhooks:                   local receivers may be http://127.0.0.1:<port>; retries come within a minute
                              watch deliveries: grep -E 'deliver|dispatch' $DEV_DIR/bridge.log,
                              or GET /api/companies/<id>/webhooks/<id>/deliveries
  Operators' console (the Demo Company's inbox, live; open it in two windows to be both):
    $API/console
      owner: $DEMO_EMAIL / $DEMO_PASSWORD
      agent: $DEMO_AGENT_EMAIL / $DEMO_AGENT_PASSWORD
    a visitor writes in through the widget in company mode: $API/widget/company-demo/$DEMO_COMPANY

  Support desk (Demo Company: owner $DEMO_EMAIL, agent $DEMO_AGENT_EMAIL / $DEMO_AGENT_PASSWORD):
    a visitor opens its own conversation:
      curl -s -X POST -H 'Content-Type: application/json' -d '{"email":"visitor@example.com","name":"Vera"}' \\
        $API/api/companies/$DEMO_COMPANY/conversations/send-code
      make code EMAIL=visitor@example.com
      curl -s -X POST -H 'Content-Type: application/json' -d '{"email":"visitor@example.com","auth_code":"<code>"}' \\
        $API/api/companies/$DEMO_COMPANY/conversations/get-token
    the inbox:        curl -s -H "Authorization: Bearer \$TOKEN" "$API/api/inbox?company_id=$DEMO_COMPANY"
    reply (or note):  curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
                        -d '{"body":"Hi Vera!"}' $API/api/chats/<conversation id>/messages     ("internal":true: a note)
    the team stream:  curl -s -X POST -H "Authorization: Bearer \$TOKEN" $API/api/companies/$DEMO_COMPANY/realtime-ticket
                      (open its url: every event of every conversation of the company)

  Chat widget demo (open both, in two windows, and talk):
    $API/widget/demo/$DEMO_CHAT?guest=1
    $API/widget/demo/$DEMO_CHAT?guest=2
    chat password: $DEMO_CHAT_PASSWORD   (any name and email; the code: make mail)
  Chat widget, company mode (two visitors, each in its own conversation; answer them with "reply" above):
    $API/widget/company-demo/$DEMO_COMPANY?visitor=1
    $API/widget/company-demo/$DEMO_COMPANY?visitor=2
    any name and email (the code: make code EMAIL=<it>)

  Walkthrough:                README.md (paste it top to bottom)
  Emails sent:                make mail    (codes, unread messages, transcripts; one code: make code EMAIL=guest@example.com)
  Function logs:              tail -f $DEV_DIR/api.log   (shown below, less one line: see dev.sh)
  Stop:                       Ctrl-C

MSG
# Show the functions' logs here until Ctrl-C. cargo lambda watch sets
# AWS_LAMBDA_MAX_CONCURRENCY=1 for each function instance, and lambda_runtime warns at
# every start that it is "running sequentially": one request at a time per instance is
# what Lambda does too, so the line says nothing here (it stays in the log).
setsid bash -c 'tail -n 0 -f "$1" | grep --line-buffered -v "AWS_LAMBDA_MAX_CONCURRENCY is set"' _ "$DEV_DIR/api.log" &
STARTED_PIDS+=("$!")
wait

# Shared by dev.sh, test.sh and bench: start moto and `cargo lambda watch`, bootstrap
# the table and the sender identity, and stop everything on exit. Source it; it
# expects to run from the repository root with .venv/ installed (the Makefile does it).

set -euo pipefail

VENV_BIN="$PWD/.venv/bin"
export PATH="$VENV_BIN:$PATH"
# Where cargo puts binaries: CARGO_TARGET_DIR when set (several work trees on one machine
# keep their own builds), else cargo's default.
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
ADMIN="$TARGET_DIR/debug/chat-admin"
STARTED_PIDS=()

# Dummy credentials and a region: moto accepts anything, the SDK needs something.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
# The AWS budgets of the sdk crate (shared/sdk), scaled for moto's one-at-a-time queue (local only).
export AWS_BUDGET_SCALE=10
# Never let a developer's real profile or IMDS leak into a local run.
unset AWS_PROFILE AWS_SESSION_TOKEN || true

FUNCTIONS=(current-user tokens companies chats chat-users chat-messages webhooks widget realtime fanout dispatch lifecycle deliver notify)
# The ones behind the HTTP API (the others take WebSocket, stream and queue events).
HTTP_FUNCTIONS=(current-user tokens companies chats chat-users chat-messages webhooks widget)
# The SQS queues of template.yaml, by their local names; moto's URLs are predictable.
DELIVERY_QUEUE="chat-webhook-deliveries"
DELIVERY_DLQ="chat-webhook-deliveries-dead"
NOTIFY_QUEUE="chat-unread-emails"
queue_url() { echo "$1/123456789012/$2"; }

# The demo operator of `make dev`; `make test` creates it too, for the README walkthrough.
DEMO_EMAIL="demo@example.com"
DEMO_PASSWORD="demo-password-123"
# The password guests join the demo chat of `make dev` with (the widget's demo page).
DEMO_CHAT_PASSWORD="kettle-orbit-lantern"

# Builds the function binaries as `cargo lambda watch` and `sam build` do: a bare cargo
# build selects the workspace's default members (the functions), so watch never rebuilds
# them. chat-admin, with its own features (SSO profiles), is built on its own.
build_local_binaries() {
  cargo build --quiet --bins
  cargo build --quiet -p chat-admin
}

# `sam build` builds each function on its own (`cargo lambda build --bin <name>`), so
# cargo unifies features over that function's dependencies only: a function that uses a
# feature of a shared crate without asking for it builds in the workspace and fails
# there. Checking each alone catches it (cargo check: no code generated).
check_functions_alone() {
  local function
  for function in "${FUNCTIONS[@]}"; do
    cargo check --quiet -p "$function" || { echo "the $function function does not build on its own" >&2; return 1; }
  done
}

# Builds every test target and lists its executables in FILE, one
# "executable<TAB>package directory<TAB>target name" a line. The tests then run these
# executables directly, not through `cargo test`: a running cargo holds the package-cache
# lock, and `cargo lambda watch` starts each further instance of a function with `cargo
# run`, which waits on that lock, so a request needing a new instance hung until the
# tests ended (a test's 120 s timeout came first). The workspace has no doc tests
# (rustdoc would compile them through cargo as well); check_no_doc_tests keeps it so.
build_test_executables() {
  local file=$1
  cargo test --workspace --no-run --quiet --message-format=json | python3 -c '
import json, os, sys
# In the order of `cargo test` (by package, then lib, bins, tests, by name): the stream
# events of each target reach the bridge behind those of the one before, so the order is
# part of what the suite has been shown to pass with.
kinds = {"lib": 0, "bin": 1, "test": 2}
found = []
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["profile"]["test"] and message.get("executable"):
        target = message["target"]
        found.append((message["package_id"], kinds.get(target["kind"][0], 3), target["name"],
                      message["executable"], os.path.dirname(message["manifest_path"])))
for package, kind, name, executable, directory in sorted(found):
    print(executable, directory, name, sep="\t")
' >"$file"
  [ -s "$file" ] || { echo "cargo listed no test executables" >&2; return 1; }
}

# Runs the executables listed by build_test_executables, each from its package's
# directory as cargo does, with the test harness's ARGS; every one runs, and the call
# fails if any did. With ONLY=name, just that target.
run_test_executables() {
  local file=$1; shift
  local executable dir name failed=()
  while IFS=$'\t' read -r executable dir name; do
    [ -z "${ONLY:-}" ] || [ "$name" = "$ONLY" ] || continue
    local began=$SECONDS
    (cd "$dir" && CARGO_MANIFEST_DIR="$dir" "$executable" --quiet "$@") || failed+=("$name")
    echo "-- $name: $((SECONDS - began)) s"
  done <"$file"
  [ ${#failed[@]} -eq 0 ] || { echo "failed test targets: ${failed[*]}" >&2; return 1; }
}

# A Rust code block in a doc comment would be a doc test, which only `cargo test` runs.
check_no_doc_tests() {
  # Fences alternate open, close; an opening fence with no language, or rust, is a test.
  local found
  found=$(find shared functions infra tests bench -name '*.rs' -not -path '*/target/*' -print0 \
    | xargs -0 awk 'FNR == 1 { open = 0 }
        /^[[:space:]]*\/\/[\/!][[:space:]]*```/ {
          if (!open && $0 ~ /```[[:space:]]*(rust)?[[:space:]]*$/) print FILENAME ":" FNR
          open = !open }')
  [ -z "$found" ] || { echo "doc tests found (run them, or mark the blocks text): $found" >&2; return 1; }
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Processes are started in their own process group (setsid) so that stopping one also
# stops its children (cargo lambda watch runs cargo and the function binaries).
start_bg() {
  local log="$1"; shift
  setsid "$@" >"$log" 2>&1 &
  STARTED_PIDS+=("$!")
}

# descendants PID: PID and every process under it, by parent.
descendants() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { children[$2] = children[$2] " " $1 }
    END { todo = root
          while (todo != "") { n = split(todo, next_pids, " "); todo = ""
            for (i = 1; i <= n; i++) { print next_pids[i]; todo = todo children[next_pids[i]] } } }'
}

# Stops every process started with start_bg, and everything under them: `cargo lambda
# watch` starts each function in a session of its own, out of reach of a signal to its
# group, so whatever outlives its group is killed by pid.
stop_all() {
  trap '' INT TERM  # a second Ctrl-C must not cut the clean-up short
  local pid tree=()
  for pid in "${STARTED_PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    tree+=($(descendants "$pid"))
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in "${tree[@]:-}"; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
}

# start_private_dev DIR: `make dev` (dev.sh) on free ports (DEV_PORTS), its files in DIR,
# in a process group of its own (DEV_PID); returns once it is up. For the checks and
# measurements of make dev itself, which must leave a developer's running one alone.
start_private_dev() {
  local dir="$1"
  DEV_PORTS=()
  for _ in 1 2 3 4; do DEV_PORTS+=("$(free_port)"); done
  MOTO_PORT=${DEV_PORTS[0]} API_PORT=${DEV_PORTS[1]} WS_PORT=${DEV_PORTS[2]} MANAGEMENT_PORT=${DEV_PORTS[3]} \
    DEV_DIR="$dir" setsid infra/local/dev.sh >"$dir/dev.out" 2>&1 </dev/null &
  DEV_PID=$!
  STARTED_PIDS+=("$DEV_PID")
  for _ in $(seq 1 900); do
    grep -q 'Chat API is up' "$dir/dev.out" && return 0
    kill -0 "$DEV_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "make dev did not come up; its output:" >&2
  cat "$dir/dev.out" >&2
  return 1
}

# port_answers PORT: something accepts connections on 127.0.0.1:PORT, whatever it speaks.
port_answers() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for_url() {
  local url="$1" what="$2" tries="${3:-600}"
  for _ in $(seq 1 "$tries"); do
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.2
  done
  echo "$what did not come up at $url" >&2
  return 1
}

# start_moto PORT LOGFILE
start_moto() {
  # Our launcher of moto (see moto_server.py): requests applied one at a time.
  start_bg "$2" "$VENV_BIN/python" infra/local/moto_server.py 127.0.0.1 "$1"
  wait_for_url "http://127.0.0.1:$1/moto-api/" "moto"
}

# files_bucket TABLE: the local stack's attachments bucket (in AWS: the template's
# FilesBucket, passed to the functions as FILES_BUCKET).
files_bucket() { echo "$1-files"; }

# keys_secret_id TABLE: the name of the local stack's keys secret (in AWS: the
# KeysSecretArn output).
keys_secret_id() { echo "$1-keys"; }

# create_keys_secret ENDPOINT NAME: the keys secret, as the template's KeysSecret generates
# it: {"current": <64 random letters and digits>}. The functions read it at start-up;
# `chat-admin secret rotate` rotates it.
create_keys_secret() {
  "$VENV_BIN/python" - "$1" "$2" <<'PY'
import json, secrets, string, sys, boto3
alphabet = string.ascii_letters + string.digits
material = "".join(secrets.choice(alphabet) for _ in range(64))
client = boto3.client("secretsmanager", endpoint_url=sys.argv[1])
client.create_secret(Name=sys.argv[2], SecretString=json.dumps({"previous": None, "current": material}))
PY
}

# bootstrap ENDPOINT TABLE SENDER: the table, the keys secret, the mail sender identity,
# the queues and the attachments bucket (in AWS the template makes the secret, the
# queues and the bucket; locally nothing else would).
bootstrap() {
  AWS_ENDPOINT_URL="$1" TABLE_NAME="$2" "$ADMIN" table create >/dev/null
  create_keys_secret "$1" "$(keys_secret_id "$2")"
  AWS_ENDPOINT_URL="$1" "$ADMIN" mail verify-sender "${3#*@}" >/dev/null
  "$VENV_BIN/python" - "$1" "$DELIVERY_QUEUE" "$DELIVERY_DLQ" "$NOTIFY_QUEUE" <<'PY'
import sys, boto3
sqs = boto3.client("sqs", endpoint_url=sys.argv[1])
for name in sys.argv[2:]:
    sqs.create_queue(QueueName=name)
PY
  "$VENV_BIN/python" - "$1" "$(files_bucket "$2")" <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).create_bucket(Bucket=sys.argv[2])
PY
}

# write_env_file FILE ENDPOINT TABLE SENDER WS_PORT MANAGEMENT_PORT API_PORT: what the
# functions see locally. The WebSocket API and its management endpoint are the bridge's;
# the keys are in the secret bootstrap creates (its id only, as in AWS).
write_env_file() {
  cat >"$1" <<ENV
REALTIME_URL=ws://127.0.0.1:$5
WEBSOCKET_MANAGEMENT_URL=http://127.0.0.1:$6/local
PUBLIC_API_URL=http://127.0.0.1:$7
DELIVERY_QUEUE_URL=$(queue_url "$2" "$DELIVERY_QUEUE")
DELIVERY_DLQ_URL=$(queue_url "$2" "$DELIVERY_DLQ")
NOTIFY_QUEUE_URL=$(queue_url "$2" "$NOTIFY_QUEUE")
# Local-stack settings, never set in AWS: webhooks may go to http://127.0.0.1 receivers,
# retries come within seconds (all of them within two minutes), an endpoint failing for
# 20 s is disabled, and a chat's unread_email_minutes last seconds, so tests and demos see
# retries, disabling and emails at once.
WEBHOOK_ALLOW_LOOPBACK=true
WEBHOOK_RETRY_SCHEDULE=1s,2s,4s,8s,15s,30s
WEBHOOK_DISABLE_AFTER=20s
UNREAD_EMAIL_SECONDS_PER_MINUTE=1
# The deployment's CORS origins (the template's AllowedOrigins): none locally, so every
# cross-origin test goes through a company's allowed_origins, as a real site would.
ALLOWED_ORIGINS=
# moto's SES answers in milliseconds, not SES's tens to hundreds: a shorter floor under
# send-code's answers hides it as well (see shared/edge/src/config.rs).
CODE_ANSWER_FLOOR_MS=50
AWS_ENDPOINT_URL=$2
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
AWS_REGION=us-east-1
TABLE_NAME=$3
KEYS_SECRET_ID=$(keys_secret_id "$3")
FILES_BUCKET=$(files_bucket "$3")
# The widget pages' CSP allows the files' origin: locally moto serves the bucket (path style).
FILES_ORIGIN=$2
MAIL_FROM=$4
RUST_LOG=info
# moto applies requests one at a time: give its queue the time DynamoDB would not need
# (see shared/sdk/src/lib.rs).
AWS_BUDGET_SCALE=10
ENV
}

# start_api PORT ENV_FILE LOGFILE [extra watch args]: the real function binaries behind
# cargo lambda's API Gateway emulation (router in Cargo.toml).
start_api() {
  local port="$1" env_file="$2" log="$3"; shift 3
  # RUST_LOG here is for cargo-lambda itself (its INFO lines echo the functions' env);
  # the functions get theirs from the env file. --disable-cors: watch would otherwise
  # answer preflights itself and reflect any origin; the functions answer CORS, as in AWS
  # (shared/edge/src/cors.rs), so OPTIONS must reach them.
  RUST_LOG=warn start_bg "$log" "$VENV_BIN/cargo-lambda" lambda watch --disable-cors \
    --invoke-address 127.0.0.1 --invoke-port "$port" --env-file "$env_file" "$@"
  wait_for_url "http://127.0.0.1:$port/api/user" "cargo lambda watch"
}

# start_bridge WS_PORT MANAGEMENT_PORT API_PORT ENDPOINT TABLE LOGFILE: the dev-only stand-in
# for the WebSocket API, the stream triggers and the queue triggers (the package
# infra/local/bridge, one module per AWS part), invoking the real binaries through cargo
# lambda watch. The stream filters are the template's: fanout gets new events and removed
# connections, a chat's and a team's (a removed connection is closed), dispatch new events, lifecycle removed
# chat items, attachment items and changed companies; each queue goes to its function.
start_bridge() {
  start_bg "$6" env PYTHONPATH="$PWD/infra/local" "$VENV_BIN/python" -m bridge --ws-port "$1" --management-port "$2" \
    --invoke-url "http://127.0.0.1:$3" --dynamodb-endpoint "$4" --table "$5" \
    --realtime-function realtime --routes ping,typing \
    --stream-consumer 'fanout=INSERT:EVT#,REMOVE:CONN#,REMOVE:TEAMSOCKET#' --stream-consumer 'dispatch=INSERT:EVT#' \
    --stream-consumer 'lifecycle=REMOVE:CHAT,REMOVE:COMPANY,REMOVE:ATT#,MODIFY:COMPANY' \
    --queue "$DELIVERY_QUEUE=deliver" --queue "$NOTIFY_QUEUE=notify" --poll-interval 0.05
  for _ in $(seq 1 100); do
    grep -q "bridge ready" "$6" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "the bridge did not come up (log: $6)" >&2
  return 1
}

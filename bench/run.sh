#!/usr/bin/env bash
# `make bench`: regenerates every table of BENCHMARKS.md. Release builds (host for the
# timings, arm64 for the sizes), moto for the cold start that reaches DynamoDB, valgrind
# for instruction counts. Takes a while: three optimised builds.
# The local stack's helpers (moto, the bridge, the functions' list), shared with make dev
# and make test.
source "$(dirname "$0")/../infra/local/common.sh"

RUNS="${BENCH_RUNS:-40}"
# Warm requests: fresh processes per round, each sent 20 unmeasured requests and then these.
WARM_ROUNDS="${BENCH_WARM_ROUNDS:-5}"
WARM_REQUESTS="${BENCH_WARM_REQUESTS:-1000}"
# The reference the functions are compared with: GET /api/user and POST messages as a team
# would write them in Node.js (bench/node-peer, installed by `make bench` with npm ci).
# Without its node_modules (bench.sh run by hand) the runs leave it out; so does the report.
PEER_BOOTSTRAP=bench/node-peer/bootstrap
peer() {  # peer EVENT MODULE: the peer's NAME=BOOTSTRAP=EVENT=HANDLER argument, if installed
  if [ -d bench/node-peer/node_modules ]; then echo "node-peer=$PEER_BOOTSTRAP=$1=$2.handler"; fi
}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/chat-api-bench.XXXXXX")
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

echo "== release builds (host): functions (the default members, as sam build selects them), chat-admin, bench harness, hello world, SDK floor"
cargo build --release --quiet --bins
cargo build --release --quiet -p chat-admin
# The bench workspace shares the target dir (same versions, see bench/Cargo.lock).
cargo build --release --manifest-path bench/Cargo.toml --target-dir "$TARGET_DIR" --quiet
R="$TARGET_DIR/release"

echo "== arm64 release build (the Lambda bootstraps), for their sizes"
rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true
# One `--bin` at a time, exactly as sam build invokes it.
for f in "${FUNCTIONS[@]}"; do
  "$VENV_BIN/cargo-lambda" lambda build --release --arm64 --quiet --bin "$f"
done
for f in "${FUNCTIONS[@]}"; do
  printf '{"binary":"%s","bytes":%s}\n' "$f" "$(stat -c %s "$TARGET_DIR/lambda/$f/bootstrap")"
done >"$OUT/sizes.jsonl"

echo "== local moto: the keys secret (read by the first request that signs or verifies), and DynamoDB"
MOTO_PORT=$(free_port)
ENDPOINT="http://127.0.0.1:$MOTO_PORT"
start_moto "$MOTO_PORT" "$OUT/moto.log"
# Exported: the functions, the Node peer and bench-fixture all read the keys secret
# (KEYS_SECRET_ID) and the table through this endpoint, as chat-admin does.
export AWS_ENDPOINT_URL="$ENDPOINT" TABLE_NAME=chat-api-bench KEYS_SECRET_ID=$(keys_secret_id chat-api-bench) MAIL_FROM=chat@example.com
# webhooks and chat-users start only with their queues' URLs (the 401 path sends nothing).
export DELIVERY_QUEUE_URL="$ENDPOINT/123456789012/chat-api-bench-deliveries"
# chat-messages and lifecycle start only with the attachments' bucket named (no file is
# uploaded here, so the bucket need not exist).
export FILES_BUCKET=$(files_bucket chat-api-bench)
export NOTIFY_QUEUE_URL="$ENDPOINT/123456789012/chat-api-bench-mail"
$R/chat-admin table create >/dev/null
create_keys_secret "$ENDPOINT" "$KEYS_SECRET_ID"
CHAT_ADMIN_PASSWORD=bench-password $R/chat-admin user create --email bench@example.com --name Bench >/dev/null
TOKEN=$($R/chat-admin token issue --email bench@example.com --quiet)
ULID=01JBENCH000000000000000000

# The SDK floor (bench/src/floor/): the AWS config, the keys secret and the DynamoDB
# client as our functions build them, then the route's own DynamoDB calls and nothing of
# ours; -no-secret leaves out the secret's read at init.
FLOOR=(sdk-floor=$R/sdk-floor=current-user/user.json sdk-floor-no-secret=$R/sdk-floor-no-secret=current-user/user.json)

echo "== cold start: init + a request that needs no AWS call (401), $RUNS runs each"
args=(hello-world=$R/hello-world=current-user/user.json "${FLOOR[@]}")
for f in "${HTTP_FUNCTIONS[@]}"; do
  event=$f/list.json; [ $f = current-user ] && event=current-user/user.json
  [ $f = widget ] && event=widget/script.json
  args+=("$f=$R/$f=$event")
done
$R/cold-start --runs "$RUNS" --var API_TOKEN=not-a-token --var COMPANY_ID=$ULID --var CHAT_ID=$ULID \
  "${args[@]}" >"$OUT/cold-init.jsonl"

echo "== cold start: init + GET /api/user with a real token against moto (with the SDK floor and the Node peer)"
$R/cold-start --runs "$RUNS" --var "API_TOKEN=$TOKEN" \
  hello-world=$R/hello-world=current-user/user.json "${FLOOR[@]}" current-user=$R/current-user=current-user/user.json \
  $(peer current-user/user.json current-user) >"$OUT/cold-dynamo.jsonl"

echo "== write units per kind of message: the items each message's transaction writes, before and after it"
# "after": this tree, against the table chat-admin made; "before": the same harness run
# once on the commit before the write-unit work (bench/baseline/, which says how).
$R/write-units bench@example.com after >"$OUT/write-units.jsonl"
cat bench/baseline/write-units-before.jsonl >>"$OUT/write-units.jsonl"

echo "== warm requests against moto: per-request time, CPU and peak memory, Rust and the Node peer"
# A chat, a chat user and its token for the POST (chat-admin makes operators only).
eval "$($R/bench-fixture bench@example.com)"
# Started as 128 MB functions: the Node peer sizes its heap from that, as Lambda's Node
# runtime does, so its peak memory answers whether 128 MB would do.
warm=(--rounds "$WARM_ROUNDS" --requests "$WARM_REQUESTS" --memory 128)
$R/warm-requests "${warm[@]}" --var "API_TOKEN=$TOKEN" \
  hello-world=$R/hello-world=current-user/user.json sdk-floor=$R/sdk-floor=current-user/user.json \
  current-user=$R/current-user=current-user/user.json \
  $(peer current-user/user.json current-user) >"$OUT/warm-user.jsonl"
# Each POST gets a fresh client_id: the event's own would make every request after the
# first a repeat. One chat user posts them all: lift its sending rate (60 a minute), or
# all but the first 60 would be measured as 429s (the Node peer has no such limit).
MESSAGES_PER_MINUTE=100000 $R/warm-requests "${warm[@]}" --unique-body-field client_id \
  --var "CHAT_ID=$CHAT_ID" --var "CHAT_USER_TOKEN=$CHAT_USER_TOKEN" \
  chat-messages=$R/chat-messages=chat-messages/create.json \
  $(peer chat-messages/create.json chat-messages) >"$OUT/warm-post.jsonl"

echo "== per-request cost, DynamoDB mocked in-process"
$R/handler-cost time >"$OUT/handlers.jsonl"
echo "== instruction counts (callgrind)"
count() {  # instructions of `handler-cost run $1 $2`
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$R/handler-cost" run "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for route in "hello-world" "SDK floor: GET /api/user" "SDK floor: GET /api/chats/{id}/messages" \
  "GET /api/user" "GET /api/chats/{id}/messages" "POST /api/chats/{id}/messages" \
  "SDK floor: POST /api/chats/{id}/messages (staff)" "POST /api/chats/{id}/messages (staff)" \
  "SDK floor: GET /api/inbox" "GET /api/inbox" \
  "SDK floor: POST /chats/{id}/users/get-token" "POST /chats/{id}/users/get-token"; do
  # The difference of two runs leaves out start-up and the fixture.
  a=$(count "$route" 20); b=$(count "$route" 120)
  printf '{"route":"%s","instructions":%s}\n' "$route" $(( (b - a) / 100 ))
done >"$OUT/instructions.jsonl"

echo "== argon2 and JWT"
$R/handler-cost crypto >"$OUT/crypto.jsonl"

echo "== live delivery: POST answered -> frame on another socket, through the local stack"
# A table of its own: the warm POST run left thousands of records in the bench table's
# stream, which the local bridge would work through before the live run's own.
LIVE_TABLE=chat-api-bench-live
LIVE_KEYS=$(keys_secret_id "$LIVE_TABLE")
create_keys_secret "$ENDPOINT" "$LIVE_KEYS"
live_admin() { TABLE_NAME=$LIVE_TABLE KEYS_SECRET_ID=$LIVE_KEYS "$R/chat-admin" "$@"; }
live_admin table create >/dev/null
CHAT_ADMIN_PASSWORD=bench-password live_admin user create --email bench@example.com --name Bench >/dev/null
LIVE_TOKEN=$(live_admin token issue --email bench@example.com --quiet)
API_PORT=$(free_port); WS_PORT=$(free_port); MANAGEMENT_PORT=$(free_port)
write_env_file "$OUT/api.env" "$ENDPOINT" "$LIVE_TABLE" "$MAIL_FROM" "$WS_PORT" "$MANAGEMENT_PORT" "$API_PORT"
# One writer posts every message of the live run: lift its sending rate (60 a minute).
echo MESSAGES_PER_MINUTE=100000 >>"$OUT/api.env"
# The release binaries, behind the local API Gateway and the dev bridge. cargo lambda watch
# builds each function as `cargo build --bin <function>` (its own features, not the set the
# build above unified): built here first, so no first request waits minutes for a fat-LTO
# build (the live run's calls time out after 60 s).
for f in "${FUNCTIONS[@]}"; do
  cargo build --release --quiet --bin "$f"
done
start_api "$API_PORT" "$OUT/api.env" "$OUT/api.log" --release --ignore-changes
start_bridge "$WS_PORT" "$MANAGEMENT_PORT" "$API_PORT" "$ENDPOINT" "$LIVE_TABLE" "$OUT/bridge.log"
python bench/live.py --api "http://127.0.0.1:$API_PORT" --token "$LIVE_TOKEN" \
  --messages "${BENCH_LIVE_MESSAGES:-200}" --poll-interval-ms 50 >"$OUT/live.jsonl"

echo "== idle make dev: the CPU its processes use over ${BENCH_IDLE_SECONDS:-20} s without a request"
# dev.sh itself, on free ports, with its debug build (cargo build, as make dev runs it).
mkdir -p "$OUT/idle-dev"
start_private_dev "$OUT/idle-dev"
sleep 5  # the demo chat's stream records are handled first
python3 bench/idle_cpu.py --pid "$DEV_PID" --seconds "${BENCH_IDLE_SECONDS:-20}" >"$OUT/idle.jsonl"
stop_all

python3 bench/report.py "$OUT" > BENCHMARKS.md
echo "BENCHMARKS.md written (raw numbers in $OUT)"

#!/usr/bin/env bash
# `make test`: every test, against a private local stack on free ports (so a running
# `make dev` is never touched): moto, the table, `cargo lambda watch` serving the real
# binaries; then the template linters and checkov.
source "$(dirname "$0")/common.sh"

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/chat-api-test.XXXXXX")
trap 'stop_all; [ "${KEEP_TEST_LOGS:-}" ] || rm -rf "$RUN_DIR"' EXIT
trap 'exit 130' INT TERM
# Each step's heading says when it began, so a slow run shows where its minutes went.
step() { echo "== [$(date -u +%H:%M:%S), +$((SECONDS / 60))m$((SECONDS % 60))s] $*"; }

step "cargo fmt --check"
cargo fmt --all --check

# A fresh checkout (CI's) gains nothing from incremental compilation: its caches were a
# fifth of target/ and only cost disk and time there. cargo lambda watch inherits this,
# so it finds the binaries built here up to date.
export CARGO_INCREMENTAL=0
step "build (debug): functions, admin tool, tests"
build_local_binaries
TEST_EXECUTABLES="$RUN_DIR/test-executables.tsv"
build_test_executables "$TEST_EXECUTABLES"
check_no_doc_tests
check_functions_alone
echo "target/ holds $(du -sh "$TARGET_DIR" | cut -f1); $(df -h --output=avail "$TARGET_DIR" | tail -1 | tr -d ' ') free on its disk"

MOTO_PORT=$(free_port)
API_PORT=$(free_port)
WS_PORT=$(free_port)
MANAGEMENT_PORT=$(free_port)
ENDPOINT="http://127.0.0.1:$MOTO_PORT"
TABLE="chat-api-test"
SENDER="chat@example.com"
# A short rotation window, so the key rotation test sees a retired key stop within
# seconds (the functions re-read the keys every quarter of it, see shared/services/src/keyring.rs).
KEY_ROTATION_WINDOW_SECS=20

step "the dev bridge's own test (WebSocket API, management API, stream trigger)"
PYTHONPATH=infra/local python -m bridge.selftest
step "make dev: refuses busy ports, and stopping it stops everything it started"
infra/local/dev_stop_test.sh

step "local stack: moto on $MOTO_PORT, API on $API_PORT, WebSocket on $WS_PORT"
start_moto "$MOTO_PORT" "$RUN_DIR/moto.log"
bootstrap "$ENDPOINT" "$TABLE" "$SENDER"
write_env_file "$RUN_DIR/api.env" "$ENDPOINT" "$TABLE" "$SENDER" "$WS_PORT" "$MANAGEMENT_PORT" "$API_PORT"
echo "KEY_ROTATION_WINDOW_SECS=$KEY_ROTATION_WINDOW_SECS" >>"$RUN_DIR/api.env"
# Several instances per function, as Lambda would run them, so races reach DynamoDB.
start_api "$API_PORT" "$RUN_DIR/api.env" "$RUN_DIR/api.log" --ignore-changes --concurrency 4
start_bridge "$WS_PORT" "$MANAGEMENT_PORT" "$API_PORT" "$ENDPOINT" "$TABLE" "$RUN_DIR/bridge.log"

export CHAT_API_URL="http://127.0.0.1:$API_PORT" MOTO_URL="$ENDPOINT" AWS_ENDPOINT_URL="$ENDPOINT"
export TABLE_NAME="$TABLE" FILES_BUCKET=$(files_bucket "$TABLE") KEYS_SECRET_ID=$(keys_secret_id "$TABLE") MAIL_FROM="$SENDER" KEY_ROTATION_WINDOW_SECS
export REALTIME_URL="ws://127.0.0.1:$WS_PORT" WEBSOCKET_MANAGEMENT_URL="http://127.0.0.1:$MANAGEMENT_PORT/local"
# The in-process handler tests build the webhook and email functions' apps too.
export DELIVERY_QUEUE_URL=$(queue_url "$ENDPOINT" "$DELIVERY_QUEUE") DELIVERY_DLQ_URL=$(queue_url "$ENDPOINT" "$DELIVERY_DLQ")
export NOTIFY_QUEUE_URL=$(queue_url "$ENDPOINT" "$NOTIFY_QUEUE") PUBLIC_API_URL="http://127.0.0.1:$API_PORT"
export WEBHOOK_ALLOW_LOOPBACK=true WEBHOOK_RETRY_SCHEDULE=1s,2s,4s,8s,15s,30s WEBHOOK_DISABLE_AFTER=20s
export UNREAD_EMAIL_SECONDS_PER_MINUTE=1 CODE_ANSWER_FLOOR_MS=50
export FUNCTION_LOG="$RUN_DIR/api.log" BRIDGE_LOG="$RUN_DIR/bridge.log" SECRETS_FILE="$RUN_DIR/secrets.txt"

# The demo operator of `make dev`: the README walkthrough logs in as it.
CHAT_ADMIN_PASSWORD="$DEMO_PASSWORD" "$ADMIN" user create --email "$DEMO_EMAIL" --name "Demo Operator" >/dev/null
export DEMO_EMAIL DEMO_PASSWORD

# Before the cargo tests: these read emails from moto, which slows down as the
# tests fill the table with thousands of items.
step "clients generated from openapi.yaml (Python, TypeScript)"
infra/local/clients.sh
step "README walkthrough"
infra/local/walkthrough.sh
step "asyncapi.yaml (the WebSocket protocol), by the AsyncAPI parser"
node infra/local/asyncapi_check.mjs
step "chat widget and operators' console: the committed bundles are the builds of widget/src, their types, and the browser scenarios (Chromium)"
node widget/build.mjs --check
node widget/build-console.mjs --check
node_modules/.bin/tsc -p widget/tsconfig.json
WIDGET_OUTPUT_DIR="$TARGET_DIR/test-output/widget"
rm -rf "$WIDGET_OUTPUT_DIR"
WIDGET_OUTPUT_DIR="$WIDGET_OUTPUT_DIR" node --test --test-reporter=spec widget/test/

step "cargo tests (their executables, built above: see build_test_executables)"
run_test_executables "$TEST_EXECUTABLES" --skip secrets_never_reach_the_logs "$@"

step "logs: no token, code or password the tests used was logged"
ONLY=all_logs run_test_executables "$TEST_EXECUTABLES"

step "schemathesis: openapi.yaml against the running API"
infra/local/schemathesis.sh

step "template: cfn-lint and sam validate --lint"
cfn-lint template.yaml
sam validate --lint --template template.yaml >/dev/null
echo "template.yaml: cfn-lint and sam validate --lint clean"

step "template: checkov (each finding fixed, or suppressed in template.yaml with its reason)"
infra/local/checkov.sh
step "done"
echo "widget and console screenshots and axe reports: $WIDGET_OUTPUT_DIR"

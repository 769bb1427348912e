#!/usr/bin/env bash
# bench/baseline/measure.sh WORKTREE STAGE OUT: the write-units harness on one checkout
# (the baseline's commit, say), as make bench runs it: builds chat-admin and write-units
# there (debug: units do not depend on the build), starts a private moto, makes that
# checkout's table and an operator, and writes the harness's lines to OUT.
set -euo pipefail
W=$(cd "$1" && pwd); STAGE=$2; OUT=$(realpath -m "$3")
T=${CARGO_TARGET_DIR:-$W/target}
cd "$W"
export CARGO_TARGET_DIR=$T
cargo build --quiet -p chat-admin
cargo build --quiet --manifest-path bench/Cargo.toml --bin write-units
source infra/local/common.sh
trap stop_all EXIT
PORT=$(free_port)
start_moto "$PORT" "$(mktemp "${TMPDIR:-/tmp}/moto-units.XXXXXX")"
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" TABLE_NAME="units-$STAGE" MAIL_FROM=chat@example.com
"$T/debug/chat-admin" table create >/dev/null
CHAT_ADMIN_PASSWORD=bench-password "$T/debug/chat-admin" user create --email bench@example.com --name Bench >/dev/null
"$T/debug/write-units" bench@example.com "$STAGE" >"$OUT"
echo "wrote $OUT"

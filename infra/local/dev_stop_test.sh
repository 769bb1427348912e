#!/usr/bin/env bash
# Part of `make test`: stopping `make dev` is total, and a second one on the same ports is
# refused. Starts dev.sh on free ports (files in a temporary directory), starts it again on
# those ports (it must exit non-zero, saying why, before building anything), then sends
# SIGTERM to its process group, as a terminal's Ctrl-C or a supervisor would: afterwards
# none of the processes it had started (moto, cargo lambda watch, its cargo and function
# processes, the bridge, the log view) may be left and none of its ports may answer.
source "$(dirname "$0")/common.sh"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/chat-api-dev-stop.XXXXXX")
DEV_PID=""
# If a check fails, leave nothing behind either.
trap '[ -z "$DEV_PID" ] || kill -KILL -- "-$DEV_PID" 2>/dev/null; rm -rf "$DIR"' EXIT

fail() { echo "dev stop test: $*" >&2; exit 1; }

started=$SECONDS
start_private_dev "$DIR"
tree=($(descendants "$DEV_PID"))
[ "${#tree[@]}" -ge 6 ] || fail "expected moto, watch, functions, the bridge under dev.sh; found: $(ps -o pid=,args= -p "${tree[*]}")"

if MOTO_PORT=${DEV_PORTS[0]} API_PORT=${DEV_PORTS[1]} WS_PORT=${DEV_PORTS[2]} MANAGEMENT_PORT=${DEV_PORTS[3]} \
  DEV_DIR="$DIR/second" timeout 60 infra/local/dev.sh >"$DIR/second.out" 2>&1 </dev/null; then
  fail "a second make dev on the same ports started"
fi
grep -q "already answers" "$DIR/second.out" || fail "the second make dev did not say why it stopped: $(cat "$DIR/second.out")"

kill -TERM -- "-$DEV_PID"
for _ in $(seq 1 100); do
  survivors=$(ps -o pid=,args= -p "$(IFS=,; echo "${tree[*]}")" || true)
  [ -z "$survivors" ] && break
  sleep 0.2
done
[ -z "$survivors" ] || fail "processes left 20 s after SIGTERM to make dev's group:"$'\n'"$survivors"
for port in "${DEV_PORTS[@]}"; do
  ! port_answers "$port" || fail "port $port still answers after make dev stopped"
done
DEV_PID=""
echo "make dev: a second one on its ports refused; SIGTERM to its group left none of its ${#tree[@]} processes and no open port ($((SECONDS - started)) s)"

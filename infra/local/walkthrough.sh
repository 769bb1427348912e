#!/usr/bin/env bash
# Part of `make test`: the README's walkthrough, run as pasted against the test stack. The
# commands are read from README.md itself (every ```sh block right after a
# `<!-- walkthrough -->` line), so the README cannot drift from what works. The README reads
# make dev's ports from .local/dev.env unless they are set: here API_PORT is set to the test
# stack's, and MOTO_URL (read by `make code`) points at its moto. The first failing command
# stops the run (set -euo pipefail, curl --fail-with-body, jq -e in the README).
# Expects CHAT_API_URL, MOTO_URL and the demo operator of common.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v jq >/dev/null || { echo "walkthrough: the README uses jq; install it (apt-get install jq)" >&2; exit 1; }

script=$(awk '/^<!-- walkthrough -->$/ { armed = 1; next }
  armed && /^```sh$/ { inside = 1; next }
  inside && /^```$/ { inside = 0; armed = 0; next }
  inside { print }' README.md)
blocks=$(grep -c '^<!-- walkthrough -->$' README.md || true)
[ "$blocks" -ge 2 ] || { echo "walkthrough: expected the walkthrough and the invoke block in README.md" >&2; exit 1; }

invoke_address='--invoke-address 127.0.0.1 --invoke-port "$API_PORT"'
for pasted in 'API=http://127.0.0.1:$API_PORT' "$invoke_address"; do
  grep -qF -- "$pasted" <<<"$script" || { echo "walkthrough: README.md no longer says '$pasted'" >&2; exit 1; }
done
# No port written out: a make dev on other ports (or this test stack) would not be reached.
if grep -nE '127\.0\.0\.1:[0-9]|--invoke-port [0-9]' <<<"$script"; then
  echo "walkthrough: the lines above name a port; use \$API_PORT" >&2
  exit 1
fi
# events/README.md shows the same invoke command: it must talk to the same address.
if grep -h 'cargo-lambda lambda invoke' README.md events/README.md | grep -vF -- "$invoke_address"; then
  echo "walkthrough: an invoke command above lacks $invoke_address" >&2
  exit 1
fi

# An HTTP error fails the step that made it (the README's curl -s would go on with "null"),
# and the failure names the README line (the prelude is two lines long).
prelude='curl() { command curl --fail-with-body "$@"; }
trap '\''rc=$?; echo; echo "walkthrough: exit $rc at: $(sed -n "$((LINENO - 2))p" <<<"$WALKTHROUGH")"'\'' ERR'
# Every value the README captures must have been set, and the secrets among them are
# handed to the check that none reached the function logs.
epilogue='for v in TOKEN COMPANY CHAT PASSWORD CODE GUEST LAST; do
  [[ -n "${!v:-}" && "${!v}" != null ]] || { echo "walkthrough: \$$v is empty" >&2; exit 1; }
done
[[ $CODE =~ ^[0-9]{6}$ ]] || { echo "walkthrough: \$CODE is not a 6-digit code: $CODE" >&2; exit 1; }
[ -z "${SECRETS_FILE:-}" ] || printf "%s\n" "$TOKEN" "$PASSWORD" "$CODE" "$GUEST" >>"$SECRETS_FILE"'

log=$(mktemp "${TMPDIR:-/tmp}/chat-api-walkthrough.XXXXXX")
trap 'rm -f "$log"' EXIT
# As in a developer's terminal: not inside `make test`'s make, whose variables would make
# the README's `make code` print "Entering directory" lines around the code.
if ! env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS API_PORT="${CHAT_API_URL##*:}" WALKTHROUGH="$script" bash -euo pipefail -c "$prelude"$'\n'"$script"$'\n'"$epilogue" >"$log" 2>&1; then
  echo "walkthrough: the README's commands failed; their output:" >&2
  cat "$log" >&2
  exit 1
fi
echo "README walkthrough: $blocks blocks, $(grep -cv '^\s*\(#\|$\)' <<<"$script") lines, ran as pasted"

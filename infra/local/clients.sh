#!/usr/bin/env bash
# Part of `make test`: clients generated from openapi.yaml work as generated, with no
# workaround. openapi-python-client (requirements.txt) must generate without a warning,
# every module must import, and the guest journey runs through it against the local stack;
# openapi-typescript's types must compile under `tsc --strict` with clients/usage.ts
# (package.json). Generated code goes to a temporary directory, never into the repository.
# Expects CHAT_API_URL, MOTO_URL, DEMO_EMAIL and DEMO_PASSWORD (test.sh exports them).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The generator formats its output with ruff, which it installs next to itself.
export PATH="$PWD/.venv/bin:$PATH"
NODE_BIN="$PWD/node_modules/.bin"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/chat-api-clients.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

openapi-python-client generate --path openapi.yaml --output-path "$OUT/python/chat_api_client" --meta none \
  --fail-on-warning >"$OUT/python.log" 2>&1 || { cat "$OUT/python.log" >&2; exit 1; }
python - "$OUT/python" <<'PY'
import importlib, pkgutil, sys
sys.path.insert(0, sys.argv[1])
package = importlib.import_module("chat_api_client")
modules = [m.name for m in pkgutil.walk_packages(package.__path__, "chat_api_client.")]
for name in modules:
    importlib.import_module(name)  # a broken module raises here, naming itself
print(f"python client: {len(modules)} generated modules import")
PY
python infra/local/clients/journey.py "$OUT/python"

"$NODE_BIN/openapi-typescript" openapi.yaml --output "$OUT/ts/api.d.ts" >"$OUT/ts.log" 2>&1 \
  || { cat "$OUT/ts.log" >&2; exit 1; }
cp infra/local/clients/usage.ts "$OUT/ts/"
"$NODE_BIN/tsc" --noEmit --strict --target es2022 --module esnext --moduleResolution bundler "$OUT/ts/usage.ts"
echo "typescript client: openapi-typescript types and clients/usage.ts compile (tsc --strict)"

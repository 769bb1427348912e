#!/usr/bin/env bash
# Part of `make test`: schemathesis (pinned in requirements.txt) fuzzes every operation of
# openapi.yaml against the running local stack, once with an API token and once with a
# chat-user token (each its own), examples, coverage, fuzzing and the stateful phase along
# the document's links: no 5xx, and every status, content type, header and body must be
# what the document says. Expects CHAT_API_URL, AWS_ENDPOINT_URL, TABLE_NAME,
# KEYS_SECRET_ID.
set -euo pipefail
API="$CHAT_API_URL"
ADMIN="${CARGO_TARGET_DIR:-target}/debug/chat-admin"
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# One operator and token per pass: what a pass does to its own token (deleting it, a chat
# user deleting itself) or to its operator (the stateful phase creates companies up to the
# cap) must not leave the passes after it knocking on closed doors.
api_token() {
  local email="schemathesis-$RANDOM$RANDOM@example.com"
  CHAT_ADMIN_PASSWORD="schemathesis-pw-1" "$ADMIN" user create --email "$email" --name Fuzz >/dev/null
  "$ADMIN" token issue --email "$email" --quiet
}
chat_user_token() {  # a chat user of a fresh chat, and its token
  local auth=(-H "Authorization: Bearer $1" -H "Content-Type: application/json") company chat member
  company=$(curl -sf "${auth[@]}" -d '{"name":"Fuzz Ltd"}' "$API/api/companies" | json_field '["data"]["id"]')
  chat=$(curl -sf "${auth[@]}" -d "{\"company_id\":\"$company\",\"name\":\"Fuzz\"}" "$API/api/chats" | json_field '["data"]["id"]')
  member=$(curl -sf "${auth[@]}" -d '{"email":"fuzz-guest@example.com","name":"Guest"}' "$API/api/chats/$chat/users" | json_field '["data"]["id"]')
  curl -sf "${auth[@]}" -X POST "$API/api/chats/$chat/users/$member/token" | json_field '["data"]["token"]'
}

# openapi.yaml documents JSON bodies only, so that generated clients get one body type per
# operation; the functions take the same fields as a form too (the document says so in
# prose). Fuzz both: a copy of the document that also offers every JSON body as a form.
spec=$(mktemp --suffix=.yaml "${TMPDIR:-/tmp}/openapi-forms.XXXXXX")
trap 'rm -f "$spec"' EXIT
python - openapi.yaml "$spec" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for item in doc["paths"].values():
    for op in item.values():
        content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
        if "application/json" in content:
            content["application/x-www-form-urlencoded"] = content["application/json"]
yaml.safe_dump(doc, open(sys.argv[2], "w"), sort_keys=False)
PY

# One worker: with two, Hypothesis parses lambda sources (ast.parse) on two threads at once,
# which CPython 3.11 can fail with "AST constructor recursion depth mismatch" (seen on a
# fresh clone: a runtime error of the tool, not of the API).
# The stateful phase follows openapi.yaml's links (a created company's id into its chats,
# a chat's into its users and messages, ...), so the fuzzer reaches the code behind real ids.
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
fuzz() {  # fuzz TOKEN [filter options...]
  local token=$1
  shift
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=infra/local \
  schemathesis run "$spec" --url "$API" \
    -H "Authorization: Bearer $token" \
    --checks "$checks" \
    --phases "${PHASES:-examples,coverage,fuzzing,stateful}" \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" \
    --seed 20261125 \
    --workers 1 \
    --request-timeout 30 \
    --suppress-health-check too_slow,filter_too_much \
    --generation-database none \
    --no-color \
    "$@"
}
# The operations that end the caller's own access run last, each with a token of its own.
ends_access=(--exclude-operation-id deleteApiToken --exclude-operation-id deleteChatUser)
echo "-- schemathesis with an API token"
fuzz "$(api_token)" "${ends_access[@]}"
echo "-- schemathesis with a chat-user token"
fuzz "$(chat_user_token "$(api_token)")" "${ends_access[@]}"
echo "-- schemathesis: the operations that end the caller's access, with throwaway tokens"
# Without the stateful phase: one operation alone has no links to follow, which schemathesis
# reports as an error.
PHASES=examples,coverage,fuzzing fuzz "$(api_token)" --include-operation-id deleteApiToken
PHASES=examples,coverage,fuzzing fuzz "$(chat_user_token "$(api_token)")" --include-operation-id deleteChatUser

#!/usr/bin/env bash
# Part of `make test`: schemathesis (pinned in requirements.txt) fuzzes every operation of
# openapi.yaml against the running local stack, once with an API token and once with a
# chat-user token: no 5xx, and every status, content type, header and body must be what
# the document says. Expects CHAT_API_URL, AWS_ENDPOINT_URL, TABLE_NAME, TOKEN_SECRET.
set -euo pipefail
API="$CHAT_API_URL"
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

email="schemathesis-$RANDOM$RANDOM@example.com"
CHAT_ADMIN_PASSWORD="schemathesis-pw-1" ./target/debug/chat-admin user create --email "$email" --name Fuzz >/dev/null
API_TOKEN=$(./target/debug/chat-admin token issue --email "$email" --quiet)
auth=(-H "Authorization: Bearer $API_TOKEN" -H "Content-Type: application/json")
company=$(curl -sf "${auth[@]}" -d '{"name":"Fuzz Ltd"}' "$API/api/companies" | json_field '["data"]["id"]')
chat=$(curl -sf "${auth[@]}" -d "{\"company_id\":\"$company\",\"name\":\"Fuzz\"}" "$API/api/chats" | json_field '["data"]["id"]')
member=$(curl -sf "${auth[@]}" -d '{"email":"fuzz-guest@example.com","name":"Guest"}' "$API/api/chats/$chat/users" | json_field '["data"]["id"]')
CHAT_USER_TOKEN=$(curl -sf "${auth[@]}" -X POST "$API/api/chats/$chat/users/$member/token" | json_field '["data"]["token"]')

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
for kind in api chat-user; do
  token=$API_TOKEN; [ "$kind" = chat-user ] && token=$CHAT_USER_TOKEN
  echo "-- schemathesis with the $kind token"
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=infra/local \
  schemathesis run openapi.yaml --url "$API" \
    -H "Authorization: Bearer $token" \
    --checks "$checks" \
    --phases examples,coverage,fuzzing \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" \
    --seed 20261125 \
    --workers 2 \
    --request-timeout 30 \
    --suppress-health-check too_slow,filter_too_much \
    --generation-database none \
    --no-color
done

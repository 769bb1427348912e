"""Verifies one webhook delivery with the Standard Webhooks reference library (PyPI
`standardwebhooks`), as a receiver would: exit 0 when the signature verifies with the
given secret, 1 when the library rejects it. Input on stdin: {"secret", "headers", "body"}."""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

request = json.load(sys.stdin)
try:
    Webhook(request["secret"]).verify(request["body"], request["headers"])
except WebhookVerificationError as exc:
    print(f"rejected: {exc}")
    sys.exit(1)
print("verified")

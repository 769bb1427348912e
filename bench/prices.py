"""Published list prices and seat prices the benchmark report quotes (§6, §9, §10), in one
place so every section uses the same numbers.

Each price says where it is published and how it was checked. This machine reaches no
pricing page directly: on 2026-12-05 each figure was looked up in a search index of stored
public pages. `checked` names the stored copy that showed the figure (its own date when it
carries one); a figure no stored copy showed is marked `NOT_RECHECKED` with where it comes
from, and the report prints it as such. us-east-1, on-demand, list prices, no free tier (an
account's free tier is shared by everything in it)."""

from dataclasses import dataclass

LOOKED_UP = "2026-12-05"


def dollars(x):
    """Cents always shown, more digits only when the price has them: 0.20, 0.0004, 0.0000133334."""
    text = f"{x:.10f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


@dataclass(frozen=True)
class Price:
    value: float  # dollars per one of `unit`
    unit: str
    url: str  # where the price is published
    checked: str  # the stored copy that showed it on LOOKED_UP, or NOT_RECHECKED + its origin
    per: int = 1  # the page quotes it per this many units (a million requests, 1,000 emails)

    @property
    def quoted(self):
        """The price as the page quotes it: "$0.20 per million requests"."""
        count = {1: "", 1000: "1,000 ", 1_000_000: "million "}[self.per]
        return f"${dollars(self.value * self.per)} per {count}{self.unit}"

    @property
    def rechecked(self):
        return not self.checked.startswith(NOT_RECHECKED)


NOT_RECHECKED = "not re-checked here:"

LAMBDA_URL = "https://aws.amazon.com/lambda/pricing/"
API_GATEWAY_URL = "https://aws.amazon.com/api-gateway/pricing/"
DYNAMODB_URL = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
SES_URL = "https://aws.amazon.com/ses/pricing/"
S3_URL = "https://aws.amazon.com/s3/pricing/"
SQS_URL = "https://aws.amazon.com/sqs/pricing/"
CLOUDWATCH_URL = "https://aws.amazon.com/cloudwatch/pricing/"

LAMBDA_GB_S = Price(0.0000133334, "GB-s (arm64, first 7.5 billion GB-s a month)", LAMBDA_URL,
                    "cloudchipr.com/blog/aws-lambda-pricing (arm64 tiers) and a lambda cost note on git.mcrn.ar, both stored undated")
LAMBDA_REQUEST = Price(0.20 / 1e6, "requests", LAMBDA_URL,
                       "git.mcrn.ar lambda cost note (requests $0.20 per million, x86 and arm64), stored undated", per=1_000_000)
HTTP_API_REQUEST = Price(1.00 / 1e6, "requests (HTTP API, first 300 million a month, metered per 512 KB)", API_GATEWAY_URL,
                         "amnic.com/blogs/aws-api-gateway-pricing and learnaws.org/2021/01/10/api-gateway-pricing/", per=1_000_000)
WEBSOCKET_MESSAGE = Price(1.00 / 1e6, "messages sent or received (first 1 billion a month, metered per 32 KB)", API_GATEWAY_URL,
                          "amnic.com/blogs/aws-api-gateway-pricing; the 32 KB metering on the stored aws.amazon.com/api-gateway/pricing/", per=1_000_000)
WEBSOCKET_CONNECTION_MINUTE = Price(0.25 / 1e6, "connection-minutes", API_GATEWAY_URL,
                                    "amnic.com/blogs/aws-api-gateway-pricing", per=1_000_000)
DYNAMODB_WRU = Price(0.625 / 1e6, "write request units (on demand, standard table class; halved 2024-11-01)", DYNAMODB_URL,
                     "airbyte.com/data-engineering-resources/dynamodb-pricing", per=1_000_000)
DYNAMODB_RRU = Price(0.125 / 1e6, "read request units (on demand, standard table class)", DYNAMODB_URL,
                     "airbyte.com/data-engineering-resources/dynamodb-pricing", per=1_000_000)
DYNAMODB_STORAGE = Price(0.25, "GB-month (standard table class, beyond the first 25 GB)", DYNAMODB_URL,
                         f"{NOT_RECHECKED} the on-demand pricing page as published in 2024-2025")
SES_EMAIL = Price(0.10 / 1000, "outbound emails", SES_URL,
                  "acecloudinterviews.com/tutorials/aws/ses/ ($0.10 per thousand), stored undated", per=1000)
S3_STORAGE = Price(0.023, "GB-month (S3 Standard, first 50 TB)", S3_URL,
                   "devnotes.tech S3 pricing breakdown; cloudburn.io/blog/amazon-s3-pricing (as of March 2026)")
S3_PUT = Price(0.005 / 1000, "PUT, COPY, POST or LIST requests", S3_URL,
               "devnotes.tech S3 pricing breakdown, stored undated", per=1000)
S3_GET = Price(0.0004 / 1000, "GET requests", S3_URL,
               "devnotes.tech S3 pricing breakdown, stored undated", per=1000)
SQS_REQUEST = Price(0.40 / 1e6, "standard-queue requests (per 64 KB chunk)", SQS_URL,
                    "cloudburn.io/blog/amazon-sqs-pricing (March 2026); factualminds.com SQS pricing (2026-06-13)", per=1_000_000)
LOGS_INGESTED_GB = Price(0.50, "GB of logs ingested (standard class)", CLOUDWATCH_URL,
                         "factualminds.com CloudWatch pricing (2026-06-13)")
LOGS_STORED_GB = Price(0.03, "GB-month of logs stored", CLOUDWATCH_URL,
                       f"{NOT_RECHECKED} the CloudWatch pricing page as published in 2024-2025")
ALARM = Price(0.10, "standard-resolution alarm metric a month", CLOUDWATCH_URL,
              f"{NOT_RECHECKED} the CloudWatch pricing page as published in 2024-2025")
CUSTOM_METRIC = Price(0.30, "custom metric a month (first 10,000)", CLOUDWATCH_URL,
                      "signoz.io/guides/cloudwatch-pricing (updated 2026-02-15)")

AWS_PRICES = [
    ("Lambda duration", LAMBDA_GB_S), ("Lambda requests", LAMBDA_REQUEST),
    ("API Gateway HTTP API", HTTP_API_REQUEST),
    ("API Gateway WebSocket messages", WEBSOCKET_MESSAGE),
    ("API Gateway WebSocket connection minutes", WEBSOCKET_CONNECTION_MINUTE),
    ("DynamoDB writes", DYNAMODB_WRU), ("DynamoDB reads", DYNAMODB_RRU), ("DynamoDB storage", DYNAMODB_STORAGE),
    ("SES", SES_EMAIL), ("S3 storage", S3_STORAGE), ("S3 PUT/POST", S3_PUT), ("S3 GET", S3_GET),
    ("SQS", SQS_REQUEST), ("CloudWatch Logs ingestion", LOGS_INGESTED_GB),
    ("CloudWatch Logs storage", LOGS_STORED_GB), ("CloudWatch alarms", ALARM),
    ("CloudWatch custom metrics", CUSTOM_METRIC),
]


@dataclass(frozen=True)
class SeatPlan:
    product: str
    plan: str
    monthly: float  # dollars a month: per seat when `seats_included` is None, else per workspace
    seats_included: int | None
    url: str
    checked: str

    @property
    def rechecked(self):
        return not self.checked.startswith(NOT_RECHECKED)


INTERCOM_URL = "https://www.intercom.com/help/en/articles/8205716-intercom-seats"
INTERCOM_CHECKED = "the stored help article \"Seats\" (full-seat prices, monthly billing; yearly billing is discounted), undated"
CRISP_URL = "https://crisp.chat/en/pricing/"
CRISP_CHECKED = f"{NOT_RECHECKED} crisp.chat/en/pricing as published in 2025 (per workspace, seats included; no stored copy found)"
CHATWOOT_URL = "https://www.chatwoot.com/pricing/"
CHATWOOT_CHECKED = f"{NOT_RECHECKED} chatwoot.com/pricing as published in 2025, monthly billing (no stored copy found)"

SEAT_PLANS = [
    SeatPlan("Intercom", "Essential", 39, None, INTERCOM_URL, INTERCOM_CHECKED),
    SeatPlan("Intercom", "Advanced", 99, None, INTERCOM_URL, INTERCOM_CHECKED),
    SeatPlan("Intercom", "Expert", 139, None, INTERCOM_URL, INTERCOM_CHECKED),
    SeatPlan("Crisp", "Mini", 45, 4, CRISP_URL, CRISP_CHECKED),
    SeatPlan("Crisp", "Essentials", 95, 10, CRISP_URL, CRISP_CHECKED),
    SeatPlan("Crisp", "Plus", 295, 20, CRISP_URL, CRISP_CHECKED),
    SeatPlan("Chatwoot Cloud", "Startups", 19, None, CHATWOOT_URL, CHATWOOT_CHECKED),
    SeatPlan("Chatwoot Cloud", "Business", 39, None, CHATWOOT_URL, CHATWOOT_CHECKED),
    SeatPlan("Chatwoot Cloud", "Enterprise", 99, None, CHATWOOT_URL, CHATWOOT_CHECKED),
]

"""Lambda's event source mappings for SQS (`--queue NAME=FUNCTION`): polls the queue in
moto, invokes the function with the SQS event of up to 10 messages, deletes the ones that
succeeded (all of them, or all but the `batchItemFailures`), and lets the failed ones come
back when their visibility timeout lapses, as Lambda does."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import boto3
from botocore.config import Config

from .changes import Backoff, ChangeFeed
from .invoker import InvokeError, Invoker
from .wire import log

# The longest an idle queue poller waits. Unlike a stream record, a message can become
# visible with no write: its DelaySeconds or a visibility timeout ends. Those come at most
# this late; a sent message wakes the pollers at once (changes.py).
IDLE_POLL_CAP_S = 0.5


class QueueTrigger:
    """Lambda's SQS event source mapping: receive, invoke with the SQS event, delete the
    messages that succeeded; a failed one reappears after its visibility timeout."""

    BATCH_SIZE = 10  # the mapping's default BatchSize for standard queues

    def __init__(self, args: argparse.Namespace, invoker: Invoker, feed: ChangeFeed, queue: str,
                 function: str) -> None:
        self.invoker = invoker
        self.queue = queue
        self.function = function
        self.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=30)
        self.sqs = boto3.client("sqs", endpoint_url=args.dynamodb_endpoint, region_name=self.region, config=config)
        self.visibility_s = args.queue_visibility_seconds
        self.backoff = Backoff(feed, max(args.poll_interval, 0.2), IDLE_POLL_CAP_S)

    async def run(self) -> None:
        url = None
        while True:
            try:
                url = url or (await asyncio.to_thread(self.sqs.get_queue_url, QueueName=self.queue))["QueueUrl"]
                await self.poll(url)
            except Exception as exc:  # moto not up yet, or reset: look the queue up again
                log(f"queue {self.queue}: {type(exc).__name__}: {str(exc)[:200]}")
                url = None
                await asyncio.sleep(0.5)

    async def poll(self, url: str) -> None:
        # Short polls, not long ones: moto_server.py applies requests one at a time, and a
        # long poll would hold every other request of the stack for its whole wait.
        self.backoff.before_poll()
        page = await asyncio.to_thread(
            self.sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=self.BATCH_SIZE, WaitTimeSeconds=0,
            VisibilityTimeout=self.visibility_s, AttributeNames=["All"], MessageAttributeNames=["All"])
        messages = page.get("Messages", [])
        await self.backoff.after_poll(found_work=bool(messages))
        if not messages:
            return
        arn = f"arn:aws:sqs:{self.region}:123456789012:{self.queue}"
        records = [self.lambda_record(m, arn) for m in messages]
        try:
            result = await self.invoker.invoke(self.function, {"Records": records}, f"{len(records)} message(s)")
        except InvokeError:
            return  # all of them come back after the visibility timeout
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        failed = {f.get("itemIdentifier") for f in failures or [] if isinstance(f, dict)}
        if failures and (None in failed or "" in failed or not failed <= {m["MessageId"] for m in messages}):
            log(f"queue {self.queue}: an invalid batchItemFailures: the whole batch fails")
            return
        done = [m for m in messages if m["MessageId"] not in failed]
        if failed:
            log(f"queue {self.queue}: {self.function} reported {len(failed)} failed message(s)")
        for i in range(0, len(done), 10):
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[i:i + 10])]
            await asyncio.to_thread(self.sqs.delete_message_batch, QueueUrl=url, Entries=entries)

    def lambda_record(self, message: dict[str, Any], arn: str) -> dict[str, Any]:
        attributes = {k: str(v) for k, v in message.get("Attributes", {}).items()}
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": attributes,
            "messageAttributes": {
                name: {"stringValue": v.get("StringValue"), "binaryValue": v.get("BinaryValue"),
                       "stringListValues": [], "binaryListValues": [], "dataType": v.get("DataType")}
                for name, v in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": self.region,
        }



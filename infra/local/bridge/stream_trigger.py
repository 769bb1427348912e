"""Lambda's event source mappings for DynamoDB Streams, one per consumer
(`--stream-consumer`): polls the table's stream in moto, keeps the records the mapping's
filters match (an event name and an SK prefix each, as template.yaml's FilterCriteria),
invokes in batches of up to 100 with ReportBatchItemFailures semantics."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import boto3
from botocore.config import Config

from .changes import Backoff, ChangeFeed
from .invoker import InvokeError, Invoker
from .wire import STREAM_BATCH_SIZE, STREAM_MAX_RETRIES, STREAM_RETRY_DELAY_S, log

# The longest an idle shard poller waits: only a safety net, every record comes with a
# write, and a write wakes the pollers at once (changes.py).
IDLE_POLL_CAP_S = 5
# New shards and a re-created table also come with writes; without any, look this often.
IDLE_SHARD_CHECK_S = 10


class StreamTrigger:
    def __init__(self, args: argparse.Namespace, invoker: Invoker, feed: ChangeFeed, function: str,
                 filters: list[tuple[str, str]]) -> None:
        self.args = args
        self.feed = feed
        self.invoker = invoker
        self.function = function
        self.filters = filters
        self.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        # One attempt, short timeouts: after a moto reset the old iterators fail, and the
        # quickest way back is to rediscover the stream, not to let botocore retry.
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10)
        endpoint = args.dynamodb_endpoint
        self.ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=self.region, config=config)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=self.region, config=config)

    async def run(self) -> None:
        while True:
            try:
                arn = await self.latest_stream_arn()
            except Exception:  # moto not up yet
                arn = None
            if arn:
                log(f"stream: following {arn} for {self.function}")
                try:
                    await self.follow(arn)
                except Exception as exc:  # botocore's errors: moto reset or restarted
                    log(f"stream: {type(exc).__name__}: {str(exc)[:200]}; looking for the stream again")
            await asyncio.sleep(0.5)

    async def latest_stream_arn(self) -> str | None:
        try:
            table = (await asyncio.to_thread(self.ddb.describe_table, TableName=self.args.table))["Table"]
        except self.ddb.exceptions.ResourceNotFoundException:
            return None
        return table.get("LatestStreamArn") if table.get("StreamSpecification", {}).get("StreamEnabled") else None

    async def follow(self, arn: str) -> None:
        """Poll every shard (children after their parents) until the table's stream changes."""
        tasks: dict[str, asyncio.Task[None]] = {}
        finished: set[str] = set()
        try:
            while True:
                seen = self.feed.count
                # One page of shards (up to 100) is plenty for a local table.
                desc = await asyncio.to_thread(self.streams.describe_stream, StreamArn=arn)
                shards = desc["StreamDescription"]["Shards"]
                known = {s["ShardId"] for s in shards}
                for shard in shards:
                    sid, parent = shard["ShardId"], shard.get("ParentShardId")
                    if sid not in tasks and (parent is None or parent in finished or parent not in known):
                        tasks[sid] = asyncio.create_task(self.poll_shard(arn, sid))
                for sid, task in tasks.items():
                    if task.done():
                        task.result()  # re-raises a poller's error: rediscover
                        finished.add(sid)
                if await self.latest_stream_arn() != arn:
                    return
                await asyncio.sleep(1)  # at most once a second while writes keep coming
                await self.feed.wait(seen, IDLE_SHARD_CHECK_S)
        finally:
            for task in tasks.values():
                task.cancel()

    def wanted(self, record: dict[str, Any]) -> bool:
        # The mapping's FilterCriteria, one per --stream-filter NAME:PREFIX, any may match:
        # {"eventName": [NAME], "dynamodb": {"Keys": {"SK": {"S": [{"prefix": PREFIX}]}}}}
        sk = record.get("dynamodb", {}).get("Keys", {}).get("SK", {}).get("S", "")
        name = record.get("eventName")
        return any(name == want and sk.startswith(prefix) for want, prefix in self.filters)

    async def poll_shard(self, arn: str, shard_id: str) -> None:
        # A fresh iterator after the last record seen, on every poll, rather than the
        # NextShardIterator: moto rolls a cancelled transaction back by putting a copy of
        # the whole table in place, stream included, and an older iterator would go on
        # reading the discarded copy. TRIM_HORIZON first: the local stack is fresh, so
        # every record is one the app wants to see.
        last_sequence: str | None = None
        backoff = Backoff(self.feed, self.args.poll_interval, IDLE_POLL_CAP_S)
        while True:
            backoff.before_poll()
            position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last_sequence}
                        if last_sequence else {"ShardIteratorType": "TRIM_HORIZON"})
            iterator = (await asyncio.to_thread(self.streams.get_shard_iterator, StreamArn=arn,
                                                ShardId=shard_id, **position))["ShardIterator"]
            page = await asyncio.to_thread(self.streams.get_records, ShardIterator=iterator, Limit=1000)
            if page["Records"]:
                last_sequence = page["Records"][-1]["dynamodb"]["SequenceNumber"]
            records = [self.lambda_record(r, arn) for r in page["Records"] if self.wanted(r)]
            for i in range(0, len(records), STREAM_BATCH_SIZE):
                await self.deliver(records[i:i + STREAM_BATCH_SIZE])
            if not page.get("NextShardIterator"):
                return  # a closed shard, drained
            await backoff.after_poll(found_work=bool(page["Records"]))

    def lambda_record(self, record: dict[str, Any], arn: str) -> dict[str, Any]:
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": "1.1",  # what Lambda puts in stream events
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self.region),
            "dynamodb": record["dynamodb"],  # low-level client: values stay {"S": ...}
            "eventSourceARN": arn,
        }

    async def deliver(self, batch: list[dict[str, Any]]) -> None:
        """One batch, with ReportBatchItemFailures: retry from the first failed record on."""
        retries = 0
        while True:
            label = f"{len(batch)} record(s) from {batch[0]['dynamodb']['SequenceNumber']}"
            try:
                result = await self.invoker.invoke(self.function, {"Records": batch}, label)
                failures = result.get("batchItemFailures") if isinstance(result, dict) else None
                if not failures:
                    return
                sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
                ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
                # Lambda treats an empty or unknown identifier as the whole batch failing.
                first = min((sequence.index(i) if i in sequence else 0) for i in ids)
                log(f"stream: {self.function} reported {len(failures)} failed record(s)")
            except InvokeError:
                first = 0
            if retries == STREAM_MAX_RETRIES:
                log(f"stream: {self.function} gives up on {len(batch) - first} record(s) after {retries} retries")
                return
            retries += 1
            batch = batch[first:]
            await asyncio.sleep(STREAM_RETRY_DELAY_S)



#!/usr/bin/env python3
"""Dev-only stand-in for the AWS parts that no maintained local tool emulates without Docker.

Never a production path: it exists so that the real function binaries, served by
`cargo lambda watch`, can be driven locally through exactly the event shapes and APIs
they meet in AWS. Each section below plays one AWS part:

1. Invoke client: Lambda's Invoke API, i.e. `POST {invoke_url}/2015-03-31/functions/
   {name}/invocations` on `cargo lambda watch`.
2. API Gateway WebSocket API (route selection `$request.body.action`, Lambda proxy
   integration): `$connect` decides the upgrade, text frames become MESSAGE events,
   closes become `$disconnect`; the idle timeout and the 2 h connection limit apply.
3. API Gateway management API (`aws-sdk-apigatewaymanagement`): PostToConnection,
   GetConnection and DeleteConnection on `/@connections/{id}` under any prefix
   (the SDK's endpoint may carry the stage). SigV4 is not checked.
4. Lambda event source mappings for DynamoDB Streams, one per consumer (`--stream-consumer`):
   polls the table's stream in moto, keeps the records the mapping's filters match (an
   event name and an SK prefix each, as template.yaml's FilterCriteria), invokes in
   batches of up to 100 with ReportBatchItemFailures semantics.
5. Lambda event source mappings for SQS (`--queue NAME=FUNCTION`): polls the queue
   in moto, invokes the function with the SQS event of up to 10 messages, deletes the
   ones that succeeded (all of them, or all but the `batchItemFailures`), and lets the
   failed ones come back when their visibility timeout lapses, as Lambda does.

Query strings carry single-use tickets: nothing here logs a request target.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
from botocore.config import Config
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message and PostToConnection limit
STREAM_BATCH_SIZE = 100  # the event source mapping's default BatchSize
STREAM_MAX_RETRIES = 3
STREAM_RETRY_DELAY_S = 0.5
NO_STATUS_REASON = "Client-side close frame status not set"  # API Gateway's wording


def log(message: str) -> None:
    print(message, flush=True)


def now_ms() -> int:
    return int(time.time() * 1000)


def iso8601(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def aws_id(n_bytes: int) -> str:
    """An id shaped like API Gateway's (11 bytes give `L0SM9cOFvHcCIhw=`)."""
    return base64.b64encode(secrets.token_bytes(n_bytes)).decode()


def json_default(value: Any) -> Any:
    # boto3 hands stream records over with datetimes and raw bytes; Lambda's events carry
    # epoch seconds and base64 (`{"B": "..."}`).
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# ---------------------------------------------------------------- minimal HTTP/1.1 --
async def read_head(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]] | None:
    """Start line and lower-cased headers, or None at a clean end of the stream."""
    start = await reader.readline()
    if not start:
        return None
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return start.decode("latin-1").strip(), headers


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str], to_eof: bool = False) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return b"".join(chunks)
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read() if to_eof else b""


# ---------------------------------------------------------------- 1. Lambda Invoke --
class InvokeError(Exception):
    pass


class Invoker:
    """Lambda's Invoke API, reached on `cargo lambda watch`'s invoke endpoint."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.url = urlsplit(base_url)
        self.timeout_s = timeout_s

    async def invoke(self, function: str, event: dict[str, Any], label: str) -> Any:
        """The function's JSON result; InvokeError for a failed invocation or function error."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_s):  # generous: the first call may build the binary
                status, headers, body = await self._post(function, json.dumps(event, default=json_default).encode())
            result = json.loads(body) if body.strip() else None
            if status != 200:
                raise InvokeError(f"HTTP {status}: {body[:200]!r}")
            if "x-amz-function-error" in headers or (isinstance(result, dict) and "errorMessage" in result):
                raise InvokeError(f"function error: {body[:200]!r}")
        except (InvokeError, OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
            log(f"invoke {function} {label} -> FAILED ({exc})")
            raise InvokeError(str(exc)) from exc
        shown = result.get("statusCode", "ok") if isinstance(result, dict) else "ok"
        log(f"invoke {function} {label} -> {shown} ({(time.monotonic() - started) * 1000:.0f} ms)")
        return result

    async def _post(self, function: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        # A raw client rather than urllib in a thread: cancellable on shutdown, and no proxy env.
        reader, writer = await asyncio.open_connection(self.url.hostname, self.url.port or 80)
        try:
            path = f"{self.url.path.rstrip('/')}/2015-03-31/functions/{function}/invocations"
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: {self.url.netloc}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
            )
            head = await read_head(reader)
            if head is None:
                raise InvokeError("connection closed without a response")
            start, headers = head
            return int(start.split()[1]), headers, await read_body(reader, headers, to_eof=True)
        finally:
            writer.close()


# ---------------------------------------------------------- 2. WebSocket API --
@dataclass
class Connection:
    id: str
    source_ip: str
    user_agent: str
    connected_at_ms: int
    ws: ServerConnection
    last_active: float = field(default_factory=time.time)
    closing: bool = False  # after DeleteConnection the id is gone at once, as in AWS


class WebSocketApi:
    def __init__(self, args: argparse.Namespace, invoker: Invoker) -> None:
        self.args = args
        self.invoker = invoker
        self.domain = f"{args.host}:{args.ws_port}"
        self.routes = {r for r in args.routes.split(",") if r}
        self.pending: dict[ServerConnection, Connection] = {}  # $connect accepted, upgrade not yet done
        self.open: dict[str, Connection] = {}

    def context(self, conn: Connection, route: str, event_type: str) -> dict[str, Any]:
        request_id = aws_id(6)
        return {
            "routeKey": route,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "messageDirection": "IN",
            "stage": "local",
            "connectedAt": conn.connected_at_ms,
            "requestTimeEpoch": now_ms(),
            "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
            "requestId": request_id,
            "domainName": self.domain,
            "connectionId": conn.id,
            "apiId": "local",
        }

    async def process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        """`$connect`: the function's statusCode decides the upgrade."""
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return ws.respond(HTTPStatus.UPGRADE_REQUIRED, "WebSocket only\n")  # no $connect for a plain GET
        user_agent = request.headers.get("User-Agent", "")
        conn = Connection(aws_id(11), str(ws.remote_address[0]), user_agent, now_ms(), ws)
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers.raw_items():
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        for name, value in (("X-Forwarded-For", conn.source_ip), ("X-Forwarded-Port", str(self.args.ws_port)),
                            ("X-Forwarded-Proto", "http")):
            headers[name], multi_headers[name] = value, [value]
        query = parse_qsl(urlsplit(request.path).query, keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for name, value in query:
            multi_query.setdefault(name, []).append(value)
        event = {
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": dict(query) or None,
            "multiValueQueryStringParameters": multi_query or None,
            "requestContext": self.context(conn, "$connect", "CONNECT"),
            "isBase64Encoded": False,
        }
        try:
            result = await self.invoker.invoke(self.args.realtime_function, event, f"$connect {conn.id}")
        except InvokeError:
            return ws.respond(HTTPStatus.INTERNAL_SERVER_ERROR, '{"message": "Internal server error"}')
        result = result if isinstance(result, dict) else {}
        status = int(result.get("statusCode", 200))
        if not 200 <= status < 300:
            return ws.respond(status, result.get("body") or HTTPStatus(status).phrase)
        self.pending[ws] = conn
        return None

    async def handler(self, ws: ServerConnection) -> None:
        conn = self.pending.pop(ws)
        conn.last_active = time.time()
        self.open[conn.id] = conn
        watchdog = asyncio.create_task(self.enforce_limits(conn))
        try:
            async for frame in ws:  # one frame at a time: a connection's messages stay in order
                conn.last_active = time.time()
                if isinstance(frame, bytes):
                    # API Gateway rejects binary frames from clients and disconnects with 1003.
                    await ws.close(1003, "Binary frames are not supported")
                    break
                await self.message(conn, frame)
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
            self.open.pop(conn.id, None)
            await self.disconnect(conn, ws)

    async def message(self, conn: Connection, text: str) -> None:
        try:
            action = json.loads(text).get("action")
        except (ValueError, AttributeError):
            action = None
        route = action if isinstance(action, str) and action in self.routes else "$default"
        context = self.context(conn, route, "MESSAGE") | {"messageId": aws_id(6)}
        event = {"requestContext": context, "body": text, "isBase64Encoded": False}
        try:
            await self.invoker.invoke(self.args.realtime_function, event, f"{route} {conn.id}")
        except InvokeError:
            # What API Gateway sends the client when the integration fails.
            error = {"message": "Internal server error", "connectionId": conn.id, "requestId": context["requestId"]}
            await conn.ws.send(json.dumps(error))

    async def disconnect(self, conn: Connection, ws: ServerConnection) -> None:
        proto = ws.protocol
        if proto.close_rcvd and (proto.close_sent is None or proto.close_rcvd_then_sent):
            code, reason = proto.close_rcvd.code, proto.close_rcvd.reason  # the client closed
        elif proto.close_sent:
            code, reason = proto.close_sent.code, proto.close_sent.reason  # we closed
        else:
            code, reason = 1006, "Connection closed abnormally"
        if code == 1005:
            reason = NO_STATUS_REASON
        context = self.context(conn, "$disconnect", "DISCONNECT")
        context |= {"disconnectStatusCode": code, "disconnectReason": reason}
        host = {"Host": self.domain, "X-Forwarded-For": conn.source_ip}
        event = {"headers": host, "multiValueHeaders": {k: [v] for k, v in host.items()},
                 "requestContext": context, "isBase64Encoded": False}
        try:
            await self.invoker.invoke(self.args.realtime_function, event, f"$disconnect {conn.id} ({code})")
        except InvokeError:
            pass  # AWS does not retry $disconnect either

    async def enforce_limits(self, conn: Connection) -> None:
        """API Gateway's idle timeout and hard connection lifetime, both closing with 1001."""
        hard_deadline = conn.connected_at_ms / 1000 + self.args.max_connection_seconds
        while True:
            idle_deadline = conn.last_active + self.args.idle_timeout_seconds
            now = time.time()
            if now >= hard_deadline or now >= idle_deadline:
                reason = "Connection max duration exceeded" if now >= hard_deadline else "Connection idle timeout"
                await conn.ws.close(1001, reason)
                return
            await asyncio.sleep(min(hard_deadline, idle_deadline) - now)


# ---------------------------------------------------------- 3. Management API --
class ManagementApi:
    """`/@connections/{id}` as the restJson1 service `ApiGatewayManagementApi` answers it."""

    def __init__(self, api: WebSocketApi) -> None:
        self.api = api
        self.closers: set[asyncio.Task[None]] = set()

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await read_head(reader):  # keep-alive: the SDK pools connections
                start, headers = head
                method, target = start.split()[:2]
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                status, extra, body = await self.handle(method, urlsplit(target).path, await read_body(reader, headers))
                lines = [f"HTTP/1.1 {status.value} {status.phrase}", f"Content-Length: {len(body)}",
                         f"x-amzn-RequestId: {secrets.token_hex(16)}"] + [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a cancelled keep-alive client at shutdown ends here, quietly
        finally:
            writer.close()

    @staticmethod
    def error(status: HTTPStatus, error_type: str, message: str) -> tuple[HTTPStatus, dict[str, str], bytes]:
        # smithy-rs reads the error code from `x-amzn-ErrorType` first, then `__type`/`code`.
        body = json.dumps({"__type": error_type, "message": message}).encode()
        return status, {"x-amzn-ErrorType": error_type, "Content-Type": "application/json"}, body

    async def handle(self, method: str, path: str, body: bytes) -> tuple[HTTPStatus, dict[str, str], bytes]:
        _, marker, raw_id = path.rpartition("/@connections/")
        if not marker or not raw_id or "/" in raw_id:
            return self.error(HTTPStatus.NOT_FOUND, "NotFoundException", "No such operation")
        conn_id = unquote(raw_id)  # the SDK percent-encodes the label (`=` is `%3D`)
        conn = self.api.open.get(conn_id)
        if conn is None or conn.closing:
            log(f"management {method} {conn_id} -> 410")
            return self.error(HTTPStatus.GONE, "GoneException", f"Connection {conn_id} is gone")
        log(f"management {method} {conn_id} ({len(body)} bytes)")
        if method == "POST":
            if len(body) > MAX_MESSAGE_BYTES:
                return self.error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "PayloadTooLargeException", "Message too long")
            try:
                text = body.decode()
            except UnicodeDecodeError:
                text = None
            try:
                await conn.ws.send(text if text is not None else body)
            except ConnectionClosed:
                return self.error(HTTPStatus.GONE, "GoneException", f"Connection {conn_id} is gone")
            conn.last_active = time.time()
            return HTTPStatus.OK, {}, b""
        if method == "GET":
            info = {"connectedAt": iso8601(conn.connected_at_ms / 1000),
                    "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
                    "lastActiveAt": iso8601(conn.last_active)}
            return HTTPStatus.OK, {"Content-Type": "application/json"}, json.dumps(info).encode()
        if method == "DELETE":
            conn.closing = True
            # AWS answers at once; the close handshake and `$disconnect` follow.
            task = asyncio.create_task(conn.ws.close(1000, "Connection deleted"))
            self.closers.add(task)
            task.add_done_callback(self.closers.discard)
            return HTTPStatus.NO_CONTENT, {}, b""
        return self.error(HTTPStatus.METHOD_NOT_ALLOWED, "MethodNotAllowedException", method)


# ---------------------------------------- 4. DynamoDB Streams event source mapping --
class StreamTrigger:
    def __init__(self, args: argparse.Namespace, invoker: Invoker, function: str,
                 filters: list[tuple[str, str]]) -> None:
        self.args = args
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
                await asyncio.sleep(1)
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
        while True:
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
            if not page["Records"]:
                await asyncio.sleep(self.args.poll_interval)

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


# ----------------------------------------------------- 5. SQS event source --
class QueueTrigger:
    """Lambda's SQS event source mapping: receive, invoke with the SQS event, delete the
    messages that succeeded; a failed one reappears after its visibility timeout."""

    BATCH_SIZE = 10  # the mapping's default BatchSize for standard queues

    def __init__(self, args: argparse.Namespace, invoker: Invoker, queue: str, function: str) -> None:
        self.invoker = invoker
        self.queue = queue
        self.function = function
        self.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=30)
        self.sqs = boto3.client("sqs", endpoint_url=args.dynamodb_endpoint, region_name=self.region, config=config)
        self.visibility_s = args.queue_visibility_seconds
        self.poll_interval_s = max(args.poll_interval, 0.2)

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
        page = await asyncio.to_thread(
            self.sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=self.BATCH_SIZE, WaitTimeSeconds=0,
            VisibilityTimeout=self.visibility_s, AttributeNames=["All"], MessageAttributeNames=["All"])
        messages = page.get("Messages", [])
        if not messages:
            await asyncio.sleep(self.poll_interval_s)
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


# ---------------------------------------------------------------------- main --
def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ws-port", type=int, required=True)
    p.add_argument("--management-port", type=int, required=True)
    p.add_argument("--invoke-url", required=True, help="cargo lambda watch, e.g. http://127.0.0.1:9000")
    p.add_argument("--dynamodb-endpoint", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--realtime-function", required=True)
    p.add_argument("--stream-consumer", action="append", default=[], type=stream_consumer,
                   help="FUNCTION=EVENT_NAME:SK_PREFIX[,EVENT_NAME:SK_PREFIX...], e.g. fanout=INSERT:EVT# "
                        "(repeatable: one event source mapping each; any of its filters may match)")
    p.add_argument("--queue", action="append", default=[], type=queue_mapping,
                   help="QUEUE_NAME=FUNCTION: an SQS event source mapping (repeatable)")
    p.add_argument("--queue-visibility-seconds", type=int, default=30,
                   help="how long a received message stays hidden (a failed one comes back after it)")
    p.add_argument("--poll-interval", type=float, default=0.1)
    p.add_argument("--routes", default="", help="comma-separated route keys besides $default")
    p.add_argument("--idle-timeout-seconds", type=float, default=600)
    p.add_argument("--max-connection-seconds", type=float, default=7200)
    p.add_argument("--invoke-timeout-seconds", type=float, default=600)
    return p.parse_args()


def stream_filter(text: str) -> tuple[str, str]:
    name, sep, prefix = text.partition(":")
    if not sep or name not in ("INSERT", "MODIFY", "REMOVE"):
        raise argparse.ArgumentTypeError(f"{text!r} is not EVENT_NAME:SK_PREFIX")
    return name, prefix


def stream_consumer(text: str) -> tuple[str, list[tuple[str, str]]]:
    function, sep, filters = text.partition("=")
    if not sep or not function:
        raise argparse.ArgumentTypeError(f"{text!r} is not FUNCTION=EVENT_NAME:SK_PREFIX[,...]")
    return function, [stream_filter(f) for f in filters.split(",")]


def queue_mapping(text: str) -> tuple[str, str]:
    queue, sep, function = text.partition("=")
    if not sep or not queue or not function:
        raise argparse.ArgumentTypeError(f"{text!r} is not QUEUE_NAME=FUNCTION")
    return queue, function


async def main() -> None:
    args = parse_args()
    invoker = Invoker(args.invoke_url, args.invoke_timeout_seconds)
    api = WebSocketApi(args, invoker)
    management = ManagementApi(api)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)

    ws_server: Server = await serve(
        api.handler, args.host, args.ws_port,
        process_request=api.process_request,
        open_timeout=None,  # $connect may wait for cargo lambda's first build
        ping_interval=None,  # API Gateway sends no pings; its idle timeout does the reaping
        close_timeout=2,  # a silent client must not hold up DELETE's $disconnect or a shutdown
        max_size=MAX_MESSAGE_BYTES,
        compression=None,  # API Gateway does not negotiate permessage-deflate
    )
    http_server = await asyncio.start_server(management.serve_client, args.host, args.management_port)
    triggers = [asyncio.create_task(StreamTrigger(args, invoker, function, filters).run())
                for function, filters in args.stream_consumer]
    triggers += [asyncio.create_task(QueueTrigger(args, invoker, queue, function).run())
                 for queue, function in args.queue]
    log(f"bridge ready: ws://{args.host}:{args.ws_port} management http://{args.host}:{args.management_port}")

    await stop.wait()
    log("bridge stopping")
    for trigger in triggers:
        trigger.cancel()
    http_server.close()
    ws_server.close()  # closes every socket with 1001; their $disconnect events still go out
    try:
        await asyncio.wait_for(ws_server.wait_closed(), 5)
    except TimeoutError:
        pass


if __name__ == "__main__":
    asyncio.run(main())

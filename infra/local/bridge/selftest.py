#!/usr/bin/env python3
"""Self-test of the bridge against moto and a fake Lambda invoke endpoint (no cargo, no Rust).

Starts moto (infra/local/moto_server.py), a table with a NEW_AND_OLD_IMAGES stream,
a fake `cargo lambda watch` invoke endpoint that records every event, and the bridge;
then drives the WebSocket API, the management API and the stream trigger.
Usage: python -m bridge.selftest (with infra/local on PYTHONPATH)   (SELFTEST_VERBOSE=1 shows the bridge's log; last line: `N passed, M failed`; exit 1 on failure)
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.error import HTTPError
from urllib.parse import quote

import boto3
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

HERE = Path(__file__).resolve().parent
# infra/local: moto_server.py, and the bridge package run with `-m`.
LOCAL = HERE.parent
TABLE = "selftest"
QUEUE = "selftest-jobs"
ENV = os.environ | {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "us-east-1",
                    "AWS_DEFAULT_REGION": "us-east-1"}
# `python -m bridge` finds the package wherever the test runs from.
ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(LOCAL), os.environ.get("PYTHONPATH")]))
os.environ.update(ENV)
results = {"passed": 0, "failed": 0}


def check(name: str, ok: bool, detail: Any = "") -> None:
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


class FakeLambda(BaseHTTPRequestHandler):
    """`cargo lambda watch`'s invoke endpoint, answering like the realtime and fanout functions."""

    events: list[tuple[str, dict[str, Any]]] = []
    failed_once: set[str] = set()
    lock = threading.Lock()

    def do_POST(self) -> None:
        function = self.path.split("/")[-2]
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            self.events.append((function, event))
        result: dict[str, Any] = {"statusCode": 200}
        if event.get("requestContext", {}).get("eventType") == "CONNECT":
            if (event.get("queryStringParameters") or {}).get("ticket") == "bad":
                result = {"statusCode": 403}
        elif function == "worker":
            result = {"batchItemFailures": []}
            for record in event["Records"]:
                if record["body"] == "fail-once" and record["messageId"] not in self.failed_once:
                    self.failed_once.add(record["messageId"])
                    result["batchItemFailures"].append({"itemIdentifier": record["messageId"]})
        elif function == "fanout":
            result = {"batchItemFailures": []}
            for record in event["Records"]:
                sk = record["dynamodb"]["Keys"]["SK"]["S"]
                if sk.startswith("EVT#fail") and sk not in self.failed_once:
                    self.failed_once.add(sk)
                    result = {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
                    break
        body = json.dumps(result).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def events(function: str, pred: Callable[[dict[str, Any]], bool] = lambda e: True) -> list[dict[str, Any]]:
    with FakeLambda.lock:
        return [e for f, e in FakeLambda.events if f == function and pred(e)]


async def until(pred: Callable[[], Any], timeout: float = 5) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if value := pred():
            return value
        await asyncio.sleep(0.05)
    return pred()


def ctx(e: dict[str, Any]) -> dict[str, Any]:
    return e.get("requestContext", {})


def management(port: int, method: str, conn_id: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    # The stage in the path and the percent-encoded id, as aws-sdk-apigatewaymanagement sends them.
    url = f"http://127.0.0.1:{port}/local/@connections/{quote(conn_id, safe='')}"
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except HTTPError as error:
        return error.code, dict(error.headers), error.read()


async def run_checks(ws_port: int, mgmt_port: int, ddb: Any) -> None:
    url = f"ws://127.0.0.1:{ws_port}/"
    loop = asyncio.get_running_loop()
    call = lambda *a: loop.run_in_executor(None, management, mgmt_port, *a)  # noqa: E731

    # A connection left alone to hit --max-connection-seconds while the rest runs.
    doomed = await connect(url + "?ticket=doomed")

    # $connect accepted, with the query string and headers of the handshake.
    ws = await connect(url + "?ticket=good", user_agent_header="selftest-agent")
    connect_event = (await until(lambda: events("realtime", lambda e: (e.get("queryStringParameters") or {}).get("ticket") == "good")))[0]
    c = ctx(connect_event)
    conn_id = c.get("connectionId", "")
    check("$connect event shape", c.get("routeKey") == "$connect" and c.get("eventType") == "CONNECT"
          and c.get("stage") == "local" and c.get("apiId") == "local" and len(conn_id) == 16
          and c.get("identity", {}).get("userAgent") == "selftest-agent"
          and connect_event.get("multiValueQueryStringParameters") == {"ticket": ["good"]}
          and connect_event.get("isBase64Encoded") is False
          and connect_event.get("headers", {}).get("User-Agent") == "selftest-agent", connect_event)

    # $connect refused: the function's 403 reaches the client and nothing is registered.
    try:
        await connect(url + "?ticket=bad")
        check("$connect refused with 403", False, "accepted")
    except InvalidStatus as refused:
        check("$connect refused with 403", refused.response.status_code == 403, refused.response.status_code)
    bad = events("realtime", lambda e: (e.get("queryStringParameters") or {}).get("ticket") == "bad")
    status, _, _ = await call("GET", ctx(bad[0])["connectionId"]) if bad else (None, None, None)
    check("refused connection is not registered", status == 410, status)

    # A plain HTTP GET is no WebSocket handshake: 426 and no $connect.
    before = len(events("realtime"))
    try:
        plain = await loop.run_in_executor(None, lambda: urllib.request.urlopen(f"http://127.0.0.1:{ws_port}/?ticket=plain", timeout=3).status)
    except HTTPError as error:
        plain = error.code
    check("plain GET: 426 without a $connect", plain == 426 and len(events("realtime")) == before, plain)

    # Frames: routeKey from `action` when it is a known route, else $default; in order.
    frames = ['{"action":"ping"}', '{"action":"typing","room":"r1"}', '{"action":"shout"}', "not json", "[1]"]
    for text in frames:
        await ws.send(text)
    got = await until(lambda: (m := events("realtime", lambda e: ctx(e).get("eventType") == "MESSAGE"
                                           and ctx(e).get("connectionId") == conn_id)) and len(m) == 5 and m)
    check("MESSAGE events in order with their bodies", [e.get("body") for e in got or []] == frames, got)
    check("routeKey selection", [ctx(e).get("routeKey") for e in got or []]
          == ["ping", "typing", "$default", "$default", "$default"], [ctx(e).get("routeKey") for e in got or []])
    check("MESSAGE has no headers, same connection context",
          bool(got) and "headers" not in got[0] and ctx(got[0]).get("connectedAt") == c.get("connectedAt"), got[:1])

    # Management API: PostToConnection, GetConnection, unknown ids, DeleteConnection.
    status, _, body = await call("POST", conn_id, b'{"type":"hello"}')
    check("POST /@connections/{id} answers 200 empty", status == 200 and body == b"", (status, body))
    frame: Any
    try:
        frame = await asyncio.wait_for(ws.recv(), 3)
    except (TimeoutError, ConnectionClosed) as exc:
        frame = repr(exc)
    check("posted data arrives as one text frame", frame == '{"type":"hello"}', frame)

    status, _, body = await call("GET", conn_id)
    info = json.loads(body or b"{}")
    check("GET /@connections/{id}", status == 200 and info.get("identity", {}).get("userAgent") == "selftest-agent"
          and info.get("connectedAt", "").endswith("Z") and "lastActiveAt" in info, (status, info))

    status, headers, body = await call("POST", "Z29uZUdvbmVHb25lRz0=", b"x")
    lower = {k.lower(): v for k, v in headers.items()}
    check("POST to an unknown id: 410 GoneException", status == 410
          and lower.get("x-amzn-errortype") == "GoneException"
          and json.loads(body).get("__type") == "GoneException" and "message" in json.loads(body), (status, headers, body))

    # The same through a real AWS SDK for the restJson1 service (botocore reads errors as smithy-rs does).
    sdk = boto3.client("apigatewaymanagementapi", endpoint_url=f"http://127.0.0.1:{mgmt_port}/local")
    sdk_info = await loop.run_in_executor(None, lambda: sdk.get_connection(ConnectionId=conn_id))
    check("SDK GetConnection parses", sdk_info.get("Identity", {}).get("SourceIp") == "127.0.0.1"
          and hasattr(sdk_info.get("ConnectedAt"), "year") and hasattr(sdk_info.get("LastActiveAt"), "year"), sdk_info)
    await loop.run_in_executor(None, lambda: sdk.post_to_connection(ConnectionId=conn_id, Data=b"via sdk"))
    try:
        frame = await asyncio.wait_for(ws.recv(), 3)
    except (TimeoutError, ConnectionClosed) as exc:
        frame = repr(exc)
    check("SDK PostToConnection delivers", frame == "via sdk", frame)
    try:
        await loop.run_in_executor(None, lambda: sdk.post_to_connection(ConnectionId="Z29uZUdvbmVHb25lRz0=", Data=b"x"))
        gone: Any = "no error"
    except sdk.exceptions.GoneException as exc:
        gone = exc.response["Error"]["Code"]
    except Exception as exc:
        gone = repr(exc)
    check("SDK sees GoneException", gone == "GoneException", gone)

    status, _, _ = await call("DELETE", conn_id)
    check("DELETE /@connections/{id} answers 204", status == 204, status)
    try:
        await asyncio.wait_for(ws.recv(), 3)
        closed = None
    except ConnectionClosed as exc:
        closed = exc.rcvd.code if exc.rcvd else None
    check("DELETE closes the socket with 1000", closed == 1000, closed)
    disc = await until(lambda: events("realtime", lambda e: ctx(e).get("eventType") == "DISCONNECT"
                                      and ctx(e).get("connectionId") == conn_id))
    check("$disconnect follows a DELETE", bool(disc) and ctx(disc[0]).get("routeKey") == "$disconnect"
          and ctx(disc[0]).get("disconnectStatusCode") == 1000 and "disconnectReason" in ctx(disc[0]), disc)
    status, _, _ = await call("POST", conn_id, b"late")
    check("POST after DELETE is 410", status == 410, status)

    # A client-side close without a status code, as the AWS fixture shows it.
    ws2 = await connect(url + "?ticket=good2")
    c2 = (await until(lambda: events("realtime", lambda e: (e.get("queryStringParameters") or {}).get("ticket") == "good2")))[0]
    await ws2.close(1000, "bye")
    disc2 = await until(lambda: events("realtime", lambda e: ctx(e).get("eventType") == "DISCONNECT"
                                       and ctx(e).get("connectionId") == ctx(c2)["connectionId"]))
    check("client close: $disconnect with its code", bool(disc2) and ctx(disc2[0]).get("disconnectStatusCode") == 1000
          and ctx(disc2[0]).get("disconnectReason") == "bye", disc2)

    # DynamoDB Streams: INSERT of EVT# reaches fanout, MSG# and MODIFY do not; a reported failure is retried.
    put = lambda sk, **extra: ddb.put_item(TableName=TABLE, Item={"PK": {"S": "ROOM#1"}, "SK": {"S": sk}, **extra})  # noqa: E731
    await loop.run_in_executor(None, lambda: put("MSG#1", text={"S": "not an event"}))
    await loop.run_in_executor(None, lambda: put("EVT#0001", n={"N": "1"}))
    await loop.run_in_executor(None, lambda: put("EVT#0001", n={"N": "2"}))  # MODIFY: filtered out
    await loop.run_in_executor(None, lambda: put("EVT#fail", n={"N": "3"}))
    await loop.run_in_executor(None, lambda: ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "ROOM#1"}, "SK": {"S": "EVT#0003"}}}}]))
    records = lambda: [r for e in events("fanout") for r in e["Records"]]  # noqa: E731
    await until(lambda: sum(r["dynamodb"]["Keys"]["SK"]["S"] == "EVT#fail" for r in records()) >= 2
                and any(r["dynamodb"]["Keys"]["SK"]["S"] == "EVT#0003" for r in records()), 8)
    sks = [r["dynamodb"]["Keys"]["SK"]["S"] for r in records()]
    first: dict[str, Any] = next((r for r in records() if r["dynamodb"]["Keys"]["SK"]["S"] == "EVT#0001"), {})
    d = first.get("dynamodb", {})
    check("EVT# INSERT arrives as a Streams event", first.get("eventName") == "INSERT"
          and first.get("eventSource") == "aws:dynamodb" and first.get("eventVersion") == "1.1"
          and first.get("awsRegion") == "us-east-1" and ":table/selftest/stream/" in first.get("eventSourceARN", "")
          and isinstance(d.get("ApproximateCreationDateTime"), int) and d.get("NewImage", {}).get("n") == {"N": "1"}
          and d.get("StreamViewType") == "NEW_AND_OLD_IMAGES" and "SequenceNumber" in d and "SizeBytes" in d, first)
    check("MSG# and MODIFY records are filtered out", "MSG#1" not in sks and sks.count("EVT#0001") == 1, sks)
    check("a TransactWriteItems insert is delivered", "EVT#0003" in sks, sks)

    # The team stream's filter (REMOVE:TEAMSOCKET#): a removed team socket item reaches
    # fanout; its INSERT and other removals do not. EVT#0009, written last, is the barrier.
    team_key = {"PK": {"S": "COMPANY#1"}, "SK": {"S": "TEAMSOCKET#abc"}}
    await loop.run_in_executor(None, lambda: ddb.put_item(TableName=TABLE, Item=team_key))
    await loop.run_in_executor(None, lambda: ddb.delete_item(TableName=TABLE, Key=team_key))
    await loop.run_in_executor(None, lambda: ddb.delete_item(TableName=TABLE, Key={"PK": {"S": "ROOM#1"}, "SK": {"S": "MSG#1"}}))
    await loop.run_in_executor(None, lambda: put("EVT#0009"))
    await until(lambda: any(r["dynamodb"]["Keys"]["SK"]["S"] == "EVT#0009" for r in records()), 8)
    team = [r["eventName"] for r in records() if r["dynamodb"]["Keys"]["SK"]["S"] == "TEAMSOCKET#abc"]
    removed = [r["dynamodb"]["Keys"]["SK"]["S"] for r in records() if r["eventName"] == "REMOVE"]
    check("a removed TEAMSOCKET# item alone reaches fanout", team == ["REMOVE"] and removed == ["TEAMSOCKET#abc"],
          (team, removed))

    # A cancelled transaction makes moto restore a copy of the table, stream included:
    # what is written after it must still reach the function.
    def cancelled_transaction() -> None:
        try:
            ddb.transact_write_items(TransactItems=[{"Put": {
                "TableName": TABLE, "Item": {"PK": {"S": "ROOM#1"}, "SK": {"S": "EVT#0003"}},
                "ConditionExpression": "attribute_not_exists(PK)"}}])
        except ddb.exceptions.TransactionCanceledException:
            pass
    await loop.run_in_executor(None, cancelled_transaction)
    await loop.run_in_executor(None, lambda: put("EVT#0004", n={"N": "4"}))
    await until(lambda: any(r["dynamodb"]["Keys"]["SK"]["S"] == "EVT#0004" for r in records()), 8)
    check("a record after a cancelled transaction is delivered",
          any(r["dynamodb"]["Keys"]["SK"]["S"] == "EVT#0004" for r in records()), sks)
    batches = [[r["dynamodb"]["Keys"]["SK"]["S"] for r in e["Records"]] for e in events("fanout")]
    retried = [b for b in batches if b and b[0] == "EVT#fail"]
    check("failed item is re-delivered from the failed record on", sks.count("EVT#fail") == 2 and len(retried) >= 1
          and sks.index("EVT#0001") < sks.index("EVT#fail"), batches)

    # Idle, the shard poller backs off (up to seconds); a write still wakes it at once.
    await asyncio.sleep(3)
    written = time.monotonic()
    await loop.run_in_executor(None, lambda: put("EVT#0005", n={"N": "5"}))
    await until(lambda: any(r["dynamodb"]["Keys"]["SK"]["S"] == "EVT#0005" for r in records()), 8)
    after_idle_ms = (time.monotonic() - written) * 1000
    check("after idle, a write reaches the function within 250 ms", after_idle_ms < 250, f"{after_idle_ms:.0f} ms")

    # SQS: each message reaches the function in an SQS event; a reported failure comes back
    # after the visibility timeout (2 s here), a success never does.
    sqs = boto3.client("sqs", endpoint_url=ddb.meta.endpoint_url)
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    for body in ("ok-1", "fail-once", "ok-2"):
        await loop.run_in_executor(None, lambda b=body: sqs.send_message(QueueUrl=url, MessageBody=b))
    await loop.run_in_executor(None, lambda: sqs.send_message(QueueUrl=url, MessageBody="late", DelaySeconds=2))
    jobs = lambda: [r for e in events("worker") for r in e["Records"]]  # noqa: E731
    await until(lambda: [r["body"] for r in jobs()].count("fail-once") >= 2 and "late" in [r["body"] for r in jobs()], 12)
    bodies = [r["body"] for r in jobs()]
    one = next((r for r in jobs() if r["body"] == "ok-1"), {})
    check("an SQS message arrives as an SQS event", one.get("eventSource") == "aws:sqs"
          and one.get("eventSourceARN", "").endswith(f":{QUEUE}") and one.get("receiptHandle")
          and one.get("attributes", {}).get("ApproximateReceiveCount") == "1" and one.get("md5OfBody"), one)
    check("a failed message comes back, the others do not", bodies.count("fail-once") == 2
          and bodies.count("ok-1") == 1 and bodies.count("ok-2") == 1, bodies)
    check("a delayed message arrives after its delay", bodies.count("late") == 1, bodies)

    # --max-connection-seconds: closed with 1001, then $disconnect.
    try:
        await asyncio.wait_for(doomed.recv(), 8)
        code = None
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
    check("max connection duration closes with 1001", code == 1001, code)
    doomed_id = ctx(events("realtime", lambda e: (e.get("queryStringParameters") or {}).get("ticket") == "doomed")[0])["connectionId"]
    disc3 = await until(lambda: events("realtime", lambda e: ctx(e).get("eventType") == "DISCONNECT"
                                       and ctx(e).get("connectionId") == doomed_id))
    check("$disconnect after the duration limit", bool(disc3) and ctx(disc3[0]).get("disconnectStatusCode") == 1001, disc3)


def main() -> int:
    py = sys.executable
    moto_port, invoke_port, ws_port, mgmt_port = (free_port() for _ in range(4))
    procs: list[subprocess.Popen[Any]] = []
    fake = ThreadingHTTPServer(("127.0.0.1", invoke_port), FakeLambda)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    bridge_log: list[str] = []
    try:
        procs.append(subprocess.Popen([py, str(LOCAL / "moto_server.py"), "127.0.0.1", str(moto_port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV))
        wait_port(moto_port)
        ddb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{moto_port}")
        ddb.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("PK", "SK")],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{moto_port}").create_queue(QueueName=QUEUE)
        bridge = subprocess.Popen(
            [py, "-m", "bridge", "--ws-port", str(ws_port), "--management-port", str(mgmt_port),
             "--invoke-url", f"http://127.0.0.1:{invoke_port}", "--dynamodb-endpoint", f"http://127.0.0.1:{moto_port}",
             "--table", TABLE, "--realtime-function", "realtime", "--stream-consumer", "fanout=INSERT:EVT#,REMOVE:TEAMSOCKET#",
             "--queue", f"{QUEUE}=worker", "--queue-visibility-seconds", "2",
             "--routes", "ping,typing", "--max-connection-seconds", "4"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
        procs.append(bridge)
        ready = threading.Event()

        def pump() -> None:
            assert bridge.stdout is not None
            for line in bridge.stdout:
                bridge_log.append(line.rstrip())
                if line.startswith("bridge ready:"):
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        check("bridge prints its ready line", ready.wait(10), bridge_log)
        if ready.is_set():
            asyncio.run(run_checks(ws_port, mgmt_port, ddb))
        bridge.terminate()
        try:
            code = bridge.wait(8)
        except subprocess.TimeoutExpired:
            code = None
        check("bridge exits cleanly on SIGTERM", code == 0, code)
        time.sleep(0.1)
        check("no ticket (query string) in the bridge's log", not any("ticket" in line for line in bridge_log),
              [line for line in bridge_log if "ticket" in line])
    except Exception as exc:  # a crash is a failure, with the bridge's log to explain it
        check("self-test ran to the end", False, repr(exc))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
        fake.shutdown()
    if results["failed"] or os.environ.get("SELFTEST_VERBOSE"):
        print("--- bridge log ---\n" + "\n".join(bridge_log))
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

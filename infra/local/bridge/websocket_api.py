"""API Gateway's WebSocket API (route selection `$request.body.action`, Lambda proxy
integration): `$connect` decides the upgrade, text frames become MESSAGE events, closes
become `$disconnect`; the idle timeout and the 2 h connection limit apply."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .invoker import InvokeError, Invoker
from .wire import NO_STATUS_REASON, aws_id, now_ms


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



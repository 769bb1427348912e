"""API Gateway's management API (`aws-sdk-apigatewaymanagement`): PostToConnection,
GetConnection and DeleteConnection on `/@connections/{id}` under any prefix (the SDK's
endpoint may carry the stage). SigV4 is not checked."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

from websockets.exceptions import ConnectionClosed

from .websocket_api import WebSocketApi
from .wire import MAX_MESSAGE_BYTES, iso8601, log, read_body, read_head


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



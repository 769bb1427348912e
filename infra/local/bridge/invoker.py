"""Lambda's Invoke API, i.e. `POST {invoke_url}/2015-03-31/functions/{name}/invocations`
on `cargo lambda watch`."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit

from .wire import json_default, log, read_body, read_head


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



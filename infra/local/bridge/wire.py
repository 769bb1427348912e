"""What every part of the bridge shares: its log line, AWS-shaped ids and times, JSON of
what boto3 hands over, and a minimal HTTP/1.1 reader (for the invoke client and the
management API, which speak plain HTTP)."""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from datetime import datetime, timezone
from typing import Any

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



"""When to poll: fast while there is work, backing off while the stack is idle, and at once
after moto applies a write.

AWS's event source mappings cost the local machine nothing while idle; polling moto every
50 ms does (each poll is a request moto serves in Python). moto_server.py counts the
requests that may have changed something and answers `GET /local-api/changes?after=N` as
soon as that count moves: `ChangeFeed` long-polls it, and each poller's `Backoff` waits
for the next change or for its back-off, whichever comes first. A write therefore reaches
the pollers within milliseconds however long they were idle, and what appears with no
write (a delayed SQS message, a visibility timeout lapsing) within the cap. Without the
route (another moto) the feed is unavailable and every poller keeps the fast interval.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from .wire import read_body, read_head

# After a failed long poll (moto not up yet, restarting): try again after this.
RETRY_S = 0.5


class ChangeFeed:
    def __init__(self, moto_url: str) -> None:
        self.url = urlsplit(moto_url)
        self.count: int | None = None  # None: unavailable, poll at the fast interval
        self._changed = asyncio.Condition()

    async def run(self) -> None:
        while True:
            try:
                count = await self._next(self.count)
            except (OSError, ValueError, asyncio.IncompleteReadError):
                count = None
                await asyncio.sleep(RETRY_S)
            async with self._changed:
                self.count = count
                self._changed.notify_all()

    async def wait(self, seen: int | None, timeout_s: float) -> None:
        """Until the count differs from `seen` (the count before the last poll) or timeout_s;
        at once while the feed is unavailable."""
        if self.count is None:
            return
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.count != seen), timeout_s)
            except TimeoutError:
                pass

    async def _next(self, after: int | None) -> int:
        reader, writer = await asyncio.open_connection(self.url.hostname, self.url.port or 80)
        try:
            writer.write(f"GET /local-api/changes?after={-1 if after is None else after} HTTP/1.1\r\n"
                         f"Host: {self.url.netloc}\r\nConnection: close\r\n\r\n".encode())
            head = await read_head(reader)
            if head is None or head[0].split()[1] != "200":
                raise ValueError("no change count")
            return int(await read_body(reader, head[1], to_eof=True))
        finally:
            writer.close()


class Backoff:
    """One poller's pace: `fast_s` after a poll that found work or a change, doubling up to
    `cap_s` while polls find nothing."""

    def __init__(self, feed: ChangeFeed, fast_s: float, cap_s: float) -> None:
        self.feed = feed
        self.fast_s = fast_s
        self.cap_s = max(cap_s, fast_s)
        self.delay_s = fast_s
        self.seen: int | None = None

    def before_poll(self) -> None:
        """Call right before polling: a change applied during the poll wakes the next wait."""
        self.seen = self.feed.count

    async def after_poll(self, found_work: bool) -> None:
        if found_work:
            self.delay_s = self.fast_s
            return
        if self.feed.count is None or self.feed.count != self.seen:
            self.delay_s = self.fast_s
            await asyncio.sleep(self.fast_s)
            return
        await self.feed.wait(self.seen, self.delay_s)
        woken = self.feed.count != self.seen
        self.delay_s = self.fast_s if woken else min(self.delay_s * 2, self.cap_s)

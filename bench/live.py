"""Part of `make bench`: local delivery latency of the live conversation.

Against a running local stack (the API on --api, moto behind it, the dev bridge on the
WebSocket URL the API hands out): an operator, a chat and two chat users are made; the
second one's socket is open; the first posts --messages messages one after another. For each,
the time from the POST's answer to the frame on the other socket is measured. Prints one
JSON line: the p50 / p90 / p99 in ms, and the bridge's poll interval (half of it, on average,
is the wait for the stream poller to see a record: a part AWS's stream trigger does not
have in the same form). Usage: bench/live.py --api URL --token API_TOKEN [--messages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import urllib.request
import uuid

import websockets


def call(api: str, method: str, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{api}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(api: str, token: str, count: int) -> list[float]:
    company = call(api, "POST", "/api/companies", token, {"name": "Bench"})["data"]["id"]
    chat = call(api, "POST", "/api/chats", token, {"company_id": company, "name": "Bench"})["data"]["id"]
    members = []
    for name in ("writer", "reader"):
        email = f"bench-{name}-{uuid.uuid4().hex}@example.com"
        user = call(api, "POST", f"/api/chats/{chat}/users", token, {"email": email, "name": name})["data"]
        members.append(call(api, "POST", f"/api/chats/{chat}/users/{user['id']}/token", token)["data"]["token"])
    writer, reader = members
    url = call(api, "POST", f"/api/chats/{chat}/realtime-ticket", reader)["data"]["url"]
    latencies: list[float] = []
    async with websockets.connect(url, max_size=None) as socket:
        for i in range(count):
            posted = await asyncio.to_thread(
                call, api, "POST", f"/api/chats/{chat}/messages", writer, {"body": f"bench {i}"})
            answered = time.perf_counter()
            wanted = posted["data"]["id"]
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=60))
                if frame.get("type") == "message.created" and frame["data"]["id"] == wanted:
                    break
            latencies.append((time.perf_counter() - answered) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--poll-interval-ms", type=float, default=50)
    args = parser.parse_args()
    latencies = asyncio.run(measure(args.api, args.token, args.messages))
    print(json.dumps({
        "messages": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p90_ms": round(percentile(latencies, 0.9), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "poll_interval_ms": args.poll_interval_ms,
    }))


if __name__ == "__main__":
    main()

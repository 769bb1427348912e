"""`python -m bridge`: the dev bridge's command line (see the package's documentation)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from websockets.asyncio.server import Server, serve

from . import __doc__ as PACKAGE_DOC
from .changes import ChangeFeed
from .invoker import Invoker
from .management_api import ManagementApi
from .queue_trigger import QueueTrigger
from .stream_trigger import StreamTrigger
from .websocket_api import WebSocketApi
from .wire import MAX_MESSAGE_BYTES, log


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bridge", description=(PACKAGE_DOC or "").splitlines()[0])
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
    p.add_argument("--poll-interval", type=float, default=0.1,
                   help="seconds between polls while there is work; idle polls back off (changes.py)")
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
    feed = ChangeFeed(args.dynamodb_endpoint)
    triggers = [asyncio.create_task(feed.run())]
    triggers += [asyncio.create_task(StreamTrigger(args, invoker, feed, function, filters).run())
                 for function, filters in args.stream_consumer]
    triggers += [asyncio.create_task(QueueTrigger(args, invoker, feed, queue, function).run())
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

"""moto's server, applying one request at a time, with cheap stream snapshots.

`moto_server` serves requests on threads without a lock, and its TransactWriteItems
snapshots and restores whole tables: two transactions at once can undo each other's
writes, which DynamoDB never does. DynamoDB serialises conflicting writes; applying
moto's requests one at a time gives the same guarantee (connections are still accepted
concurrently).

moto's TransactWriteItems deep-copies each table it touches, to restore it if the
transaction is cancelled; with a stream, that copy includes every stream record ever
written (old and new images), so each transaction costs more than the one before. Stream
records never change once written: the copy below shares them and copies only the list,
which keeps the rollback exact and the cost flat.

Usage: python moto_server.py HOST PORT
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.dynamodb.models.table import StreamShard
from werkzeug.serving import run_simple


def _copy_stream_shard(shard, memo):
    copy = StreamShard.__new__(StreamShard)
    memo[id(shard)] = copy
    copy.__dict__.update(shard.__dict__)
    # The table being copied is already in the memo: the copy's shard belongs to it.
    copy.table = memo.get(id(shard.table), shard.table)
    copy.items = list(shard.items)
    return copy


StreamShard.__deepcopy__ = _copy_stream_shard

_lock = threading.Lock()
_app = DomainDispatcherApplication(create_backend_app)


def serialised(environ, start_response):
    with _lock:
        # Drain the response inside the lock: the work happens while it is produced.
        return list(_app(environ, start_response))


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(host, port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()

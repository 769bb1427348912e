"""moto's server, applying one request at a time.

`moto_server` serves requests on threads without a lock, and its TransactWriteItems
snapshots and restores whole tables: two transactions at once can undo each other's
writes, which DynamoDB never does. DynamoDB serialises conflicting writes; applying
moto's requests one at a time gives the same guarantee (connections are still accepted
concurrently). Usage: python moto_server.py HOST PORT
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

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

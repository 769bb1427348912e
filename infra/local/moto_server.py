"""moto's server, applying one request at a time, with cheap stream snapshots.

`moto_server` serves requests on threads without a lock, and its TransactWriteItems
snapshots and restores whole tables: two transactions at once can undo each other's
writes, which DynamoDB never does. DynamoDB serialises conflicting writes; applying
moto's requests one at a time gives the same guarantee (connections are still accepted
concurrently).

moto's TransactWriteItems deep-copies each table it touches, to restore it if the
transaction is cancelled: every transaction costs as much as the whole table (and, with a
stream, every stream record ever written), so the local stack slows down as tests fill
it. Here a transaction keeps a journal instead: the items it names, as they were, and the
length of each stream; a cancelled one puts exactly those back. Same outcome, and the cost
of a transaction no longer grows with the table.

DynamoDB also makes TransactWriteItems idempotent by its ClientRequestToken (the SDK sets
one per call and keeps it across retries): a retry of a transaction that was applied but
whose answer was lost succeeds without applying it again. moto ignores the token, so a
slow local stack would apply such a retry twice; here a token seen before answers as it
did the first time.

The emails SES was asked to send are also served alone, at `GET /local-api/ses-messages`
(`{"Message": [...]}`, each as moto's `/moto-api/data.json` shows it): data.json dumps
every model moto holds, every DynamoDB item among them, and holds the lock while it does,
so each look at the mail stalled the whole stack more as the tests filled the table.

`GET /local-api/changes?after=N` answers the number of requests applied so far that may
have changed something (every request but the known reads), as soon as it differs from N
or after 20 s: the dev bridge long-polls it, so it can poll the stream and the queues
rarely while nothing happens and at once after a write. It waits outside the lock.

Usage: python moto_server.py HOST PORT
"""

import json
import signal
import sys
import threading
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
import copy
import types

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from werkzeug.serving import run_simple

_transact_write_items = DynamoDBBackend.transact_write_items


def _journal(backend, transact_items):
    """The items a transaction names, as they are now, and each stream's length."""
    entries, streams = [], {}
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        attrs = op.get("Item") or op.get("Key") or {}
        if table.hash_key_attr not in attrs:
            continue
        hash_key = DynamoType(attrs[table.hash_key_attr])
        range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr in attrs else None
        before = table.get_item(hash_key, range_key)
        entries.append((table, hash_key, range_key, copy.deepcopy(before)))
        if table.stream_shard is not None:
            streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
    return entries, streams


def _restore(entries, streams):
    for table, hash_key, range_key, before in reversed(entries):
        bucket = table.items[hash_key] if range_key is not None else table.items
        slot = range_key if range_key is not None else hash_key
        if before is None:
            bucket.pop(slot, None)
        else:
            bucket[slot] = before
    for shard, length in streams.values():
        del shard.items[length:]


def transact_write_items(self, transact_items):
    entries, streams = _journal(self, transact_items)
    # moto's own snapshot becomes the table itself (restoring it is then a no-op); other
    # deep copies in the module are left as they are.
    dynamodb_models.copy = types.SimpleNamespace(
        deepcopy=lambda x, memo=None: x if isinstance(x, Table) else copy.deepcopy(x, memo)
    )
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        _restore(entries, streams)
        raise
    finally:
        dynamodb_models.copy = copy


DynamoDBBackend.transact_write_items = transact_write_items

_handle_transact_write_items = DynamoHandler.transact_write_items
# ClientRequestToken -> the answer of the transaction that first carried it (DynamoDB keeps
# them 10 minutes; a local run never outlives that usefully).
_answered: dict[str, object] = {}


def handle_transact_write_items(self):
    token = self.body.get("ClientRequestToken")
    if token in _answered:
        return _answered[token]
    answer = _handle_transact_write_items(self)
    if token:
        _answered[token] = answer
    return answer


DynamoHandler.transact_write_items = handle_transact_write_items

_lock = threading.Lock()
_app = DomainDispatcherApplication(create_backend_app)


SES_MESSAGES_PATH = "/local-api/ses-messages"


def ses_messages(start_response):
    """The SES model's messages, as data.json renders each (its JSON-able attributes)."""
    from moto.core.model_instances import model_data

    messages = []
    for instance in getattr(model_data.get("ses", {}).get("Message"), "instances_tracked", []):
        shown = {}
        for attr in dir(instance):
            if attr.startswith("_"):
                continue
            try:
                value = getattr(instance, attr)
                json.dumps(value)
            except (TypeError, AttributeError, ValueError):
                continue
            shown[attr] = value
        messages.append(shown)
    body = json.dumps({"Message": messages}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


CHANGES_PATH = "/local-api/changes"
CHANGES_WAIT_S = 20
# Operations that change nothing a poller looks for (the bridge's own polls among them).
# An operation missing here only costs the bridge one poll more.
READ_OPERATIONS = {
    "BatchGetItem", "DescribeStream", "DescribeSecret", "DescribeTable", "DescribeTimeToLive",
    "GetItem", "GetQueueAttributes", "GetQueueUrl", "GetRecords", "GetSecretValue",
    "GetShardIterator", "ListQueues", "ListStreams", "ListTables", "Query", "ReceiveMessage", "Scan",
}
_changes = 0
_changed = threading.Condition()


def may_change(environ) -> bool:
    """A request that may have written: any but a GET or a known read (X-Amz-Target names the
    operation of DynamoDB, DynamoDB Streams, SQS and Secrets Manager's JSON protocols)."""
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        return False
    return environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] not in READ_OPERATIONS


def changes(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    after = int(query.get("after", ["-1"])[0])
    with _changed:
        _changed.wait_for(lambda: _changes != after, timeout=CHANGES_WAIT_S)
        body = str(_changes).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def serialised(environ, start_response):
    global _changes
    if environ.get("PATH_INFO") == CHANGES_PATH:
        return changes(environ, start_response)
    with _lock:
        if environ.get("PATH_INFO") == SES_MESSAGES_PATH:
            return ses_messages(start_response)
        # Drain the response inside the lock: the work happens while it is produced.
        answer = list(_app(environ, start_response))
    if may_change(environ):
        with _changed:
            _changes += 1
            _changed.notify_all()
    return answer


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(host, port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()

"""Dev-only stand-in for the AWS parts that no maintained local tool emulates without Docker.

Never a production path: it exists so that the real function binaries, served by
`cargo lambda watch`, can be driven locally through exactly the event shapes and APIs
they meet in AWS. Each module plays one AWS part:

1. `invoker`, the invoke client: Lambda's Invoke API, i.e. `POST {invoke_url}/2015-03-31/functions/
   {name}/invocations` on `cargo lambda watch`.
2. `websocket_api`, API Gateway's WebSocket API (route selection `$request.body.action`, Lambda proxy
   integration): `$connect` decides the upgrade, text frames become MESSAGE events,
   closes become `$disconnect`; the idle timeout and the 2 h connection limit apply.
3. `management_api`, API Gateway's management API (`aws-sdk-apigatewaymanagement`): PostToConnection,
   GetConnection and DeleteConnection on `/@connections/{id}` under any prefix
   (the SDK's endpoint may carry the stage). SigV4 is not checked.
4. `stream_trigger`, Lambda's event source mappings for DynamoDB Streams, one per consumer (`--stream-consumer`):
   polls the table's stream in moto, keeps the records the mapping's filters match (an
   event name and an SK prefix each, as template.yaml's FilterCriteria), invokes in
   batches of up to 100 with ReportBatchItemFailures semantics.
5. `queue_trigger`, Lambda's event source mappings for SQS (`--queue NAME=FUNCTION`): polls the queue
   in moto, invokes the function with the SQS event of up to 10 messages, deletes the
   ones that succeeded (all of them, or all but the `batchItemFailures`), and lets the
   failed ones come back when their visibility timeout lapses, as Lambda does.
6. `changes`, the triggers' pace (no AWS part: Lambda's pollers cost this machine nothing):
   fast while there is work, backing off while idle, woken by moto at once after a write.

Query strings carry single-use tickets: nothing here logs a request target.

Run it as `python -m bridge` with `infra/local` on `PYTHONPATH` (`common.sh` does).
"""

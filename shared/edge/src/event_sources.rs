//! How the functions fed by an event source mapping report partial failures
//! (`ReportBatchItemFailures`), so one bad record neither blocks nor drops the others.
//!
//! - A DynamoDB stream batch is handled in order; the first record that fails is reported
//!   with every one after it, so a chat's events never overtake each other.
//! - An SQS batch has no order: each failed message is reported alone and comes back
//!   when its visibility timeout lapses (then, after `maxReceiveCount`, the queue's
//!   dead-letter queue).

use std::future::Future;

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

/// Why a record or a job failed: whatever its handler's error was (storage's, a
/// service's), for the log line. The record or job comes back, so nothing is lost.
pub type JobError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The Lambda loop of a function fed by an event source: `handler` serves every
/// invocation of this instance, its answer as the event source reads it.
pub async fn serve<E, R, H, Fut>(handler: H) -> Result<(), lambda_runtime::Error>
where
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize,
    H: Fn(E) -> Fut,
    Fut: Future<Output = R>,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<E>| {
            // Boxed, as the HTTP functions' handlers are (see `runtime::respond`): one
            // allocation per invocation keeps this loop's future under the compiler's
            // default recursion limit.
            let answer = Box::pin(handler(event.payload));
            async move { Ok::<_, lambda_runtime::Error>(answer.await) }
        },
    ))
    .await
}

/// Runs `handle` on each record in order, up to the first failure.
pub async fn stream_in_order(
    batch: &StreamEvent,
    mut handle: impl AsyncFnMut(&EventRecord) -> Result<(), JobError>,
) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for (index, record) in batch.records.iter().enumerate() {
        if let Err(err) = handle(record).await {
            tracing::error!(error = %sdk::Chain(err.as_ref()), "a stream record failed");
            // This record and every later one go again, in order.
            response.batch_item_failures = batch.records[index..]
                .iter()
                .map(|r| {
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = r.change.sequence_number.clone();
                    failure
                })
                .collect();
            break;
        }
    }
    response
}

/// Runs `handle` on each message; the failed ones are reported.
pub async fn each_message(
    batch: &SqsEvent,
    mut handle: impl AsyncFnMut(&SqsMessage) -> Result<(), JobError>,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in &batch.records {
        if let Err(err) = handle(message).await {
            tracing::error!(
                error = %sdk::Chain(err.as_ref()),
                "a queued job failed; it comes back after its visibility timeout"
            );
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// A job's JSON body.
pub fn job<T: serde::de::DeserializeOwned>(message: &SqsMessage) -> Result<T, JobError> {
    let body = message.body.as_deref().unwrap_or_default();
    serde_json::from_str(body).map_err(|e| Box::new(UnreadableJob(e)) as JobError)
}

#[derive(Debug, thiserror::Error)]
#[error("an unreadable job")]
struct UnreadableJob(#[source] serde_json::Error);

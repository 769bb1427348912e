//! How the functions fed by an event source mapping report partial failures
//! (`ReportBatchItemFailures`), so one bad record neither blocks nor drops the others.
//!
//! - A DynamoDB stream batch is handled in order; the first record that fails is reported
//!   with every one after it, so a chat's events never overtake each other.
//! - An SQS batch has no order: each failed message is reported alone and comes back
//!   when its visibility timeout lapses (then, after `maxReceiveCount`, the queue's
//!   dead-letter queue).

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use crate::error::ApiError;

/// Runs `handle` on each record in order, up to the first failure.
pub async fn stream_in_order(
    batch: &StreamEvent,
    mut handle: impl AsyncFnMut(&EventRecord) -> Result<(), ApiError>,
) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for (index, record) in batch.records.iter().enumerate() {
        if let Err(err) = handle(record).await {
            tracing::error!(error = %err, "a stream record failed");
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
    mut handle: impl AsyncFnMut(&SqsMessage) -> Result<(), ApiError>,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in &batch.records {
        if let Err(err) = handle(message).await {
            tracing::error!(error = %err, "a queued job failed; it comes back after its visibility timeout");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// A job's JSON body.
pub fn job<T: serde::de::DeserializeOwned>(message: &SqsMessage) -> Result<T, ApiError> {
    let body = message.body.as_deref().unwrap_or_default();
    serde_json::from_str(body).map_err(|e| ApiError::internal(format!("an unreadable job: {e}")))
}

//! SQS queues of background jobs (the jobs themselves are the domain's `jobs`): webhook
//! deliveries and unread-message emails.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use serde::Serialize;

use crate::ServiceError;

/// The longest SQS keeps a message invisible after sending it.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

#[derive(Debug, Clone)]
pub struct Queue {
    client: sdk::Deferred<Client>,
    url: String,
}

impl Queue {
    /// The queue at `url` (its client built at the first job sent).
    pub fn new(aws: &SdkConfig, url: String) -> Self {
        Self {
            client: sdk::Deferred::new(aws, Client::new),
            url,
        }
    }

    /// Sends one job, visible after `delay` (capped at [`MAX_DELAY`]: a job due later
    /// carries its `not_before` and hops).
    pub async fn send(&self, job: &impl Serialize, delay: Duration) -> Result<(), ServiceError> {
        let body = serde_json::to_string(job).map_err(|e| ServiceError::encode("a job", e))?;
        let seconds = delay.min(MAX_DELAY).as_secs_f64().ceil() as i32;
        self.client
            .get()
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(seconds)
            .send()
            .await?;
        Ok(())
    }
}

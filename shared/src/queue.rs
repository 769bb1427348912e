//! SQS queues of background jobs: webhook deliveries and unread-message emails.
//!
//! SQS holds a message back at most 15 minutes (`DelaySeconds`). A job due later carries
//! its own `not_before`; the function that receives it early sends it on again for the
//! time left ([`wait_left`]), at most 15 minutes per hop. That is how a webhook retry
//! waits 12 hours without a polling table or a scan.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::error::ApiError;
use crate::ids::{ChatId, ChatUserId, CompanyId, DeliveryId, UserId, WebhookId};

/// The longest SQS keeps a message invisible after sending it.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// One webhook delivery to attempt (its record holds the body and the attempt count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub owner_id: UserId,
    pub company_id: CompanyId,
    pub webhook_id: WebhookId,
    pub delivery_id: DeliveryId,
    /// Epoch ms before which the attempt must not happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
}

/// One check whether a chat user should get an email about unread messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyJob {
    pub chat_id: ChatId,
    pub chat_user_id: ChatUserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
}

/// How long a job received at `now_millis` must still wait; `None` when it is due.
pub fn wait_left(not_before: Option<i64>, now_millis: i64) -> Option<Duration> {
    let left = not_before? - now_millis;
    (left > 0).then(|| Duration::from_millis(u64::try_from(left).unwrap_or_default()))
}

#[derive(Debug, Clone)]
pub struct Queue {
    client: crate::aws::Deferred<Client>,
    url: String,
}

impl Queue {
    /// The queue whose URL is in the environment variable `variable`.
    pub fn from_env(aws: &SdkConfig, variable: &'static str) -> Result<Self, ConfigError> {
        let url = std::env::var(variable)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing(variable))?;
        Ok(Self {
            client: crate::aws::Deferred::new(aws, Client::new),
            url,
        })
    }

    /// Sends one job, visible after `delay` (capped at [`MAX_DELAY`]: a job due later
    /// carries its `not_before` and hops).
    pub async fn send(&self, job: &impl Serialize, delay: Duration) -> Result<(), ApiError> {
        let body = serde_json::to_string(job).map_err(ApiError::internal)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_waits_only_until_it_is_due() {
        assert_eq!(wait_left(None, 5), None);
        assert_eq!(wait_left(Some(5), 5), None);
        assert_eq!(wait_left(Some(1_005), 5), Some(Duration::from_secs(1)));
    }

    #[test]
    fn jobs_travel_as_json() {
        let job = NotifyJob {
            chat_id: ChatId::new(),
            chat_user_id: ChatUserId::new(),
            not_before: None,
        };
        let text = serde_json::to_string(&job).unwrap();
        assert!(!text.contains("not_before"));
        assert_eq!(serde_json::from_str::<NotifyJob>(&text).unwrap(), job);
    }
}

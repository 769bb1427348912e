//! One signed `POST` to a webhook endpoint, and what came of it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::webhook::{DeliveryRecord, WebhookRecord};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use services::ServiceError;
use services::standard_webhooks::{self as webhook, Targets};

/// The whole attempt, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered (any status).
    Answered(u16),
    /// No answer: refused address, timeout, connection or TLS failure.
    Failed(String),
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        matches!(self, Outcome::Answered(status) if (200..300).contains(status))
    }

    pub fn status_code(&self) -> Option<u16> {
        match self {
            Outcome::Answered(status) => Some(*status),
            Outcome::Failed(_) => None,
        }
    }

    pub fn error(&self) -> Option<String> {
        match self {
            Outcome::Answered(status) if !self.succeeded() => Some(format!("HTTP {status}")),
            Outcome::Answered(_) => None,
            Outcome::Failed(error) => Some(error.clone()),
        }
    }
}

/// The HTTP client of deliveries; built once per instance.
pub struct Sender {
    client: reqwest::Client,
    targets: Targets,
}

/// Resolves a host and refuses it when any of its addresses may not be called: checked
/// here, at connect time, so a name that changes its answer (DNS rebinding) gains nothing.
struct GuardedResolver(Targets);

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the host resolves to an address webhooks may not reach")
    }
}

impl std::error::Error for Refused {}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let targets = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() || addrs.iter().any(|a| !targets.allows(a.ip())) {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl Sender {
    pub fn new(targets: Targets) -> Result<Self, reqwest::Error> {
        // reqwest's rustls takes the process's default provider: the one the SDK uses.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(targets)))
            .user_agent("chat-api-webhooks/1")
            .build()?;
        Ok(Self { client, targets })
    }

    /// One attempt at `now_millis`. `Err` only for our own failures (a secret we cannot
    /// use): the job is then retried by SQS, not counted as the endpoint's failure.
    pub async fn attempt(
        &self,
        webhook: &WebhookRecord,
        delivery: &DeliveryRecord,
        payload: String,
        now_millis: i64,
    ) -> Result<Outcome, ServiceError> {
        // Checked again at send time: the URL was valid for the settings of its creation.
        let url = match webhook::check_url(&webhook.url, self.targets) {
            Ok(url) => url,
            Err(_) => return Ok(Outcome::Failed("the URL is not allowed here".into())),
        };
        let message_id = delivery.id.to_string();
        let timestamp = now_millis / 1000;
        let signature = webhook::signature_header(
            &webhook.signing_secrets(now_millis),
            &message_id,
            timestamp,
            &payload,
        )?;
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(payload)
            .send()
            .await;
        Ok(match sent {
            Ok(response) => Outcome::Answered(response.status().as_u16()),
            Err(err) => Outcome::Failed(describe(&err)),
        })
    }
}

/// A short cause for the delivery log; never the URL (it may carry a receiver's token).
fn describe(err: &reqwest::Error) -> String {
    let mut cause: Option<&dyn std::error::Error> = Some(err);
    while let Some(inner) = cause {
        if inner.is::<Refused>() {
            return Refused.to_string();
        }
        cause = inner.source();
    }
    if err.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if err.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}

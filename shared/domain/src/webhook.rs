//! Webhook endpoints of a company and their deliveries (one event for one endpoint),
//! as the Standard Webhooks specification has them (<https://www.standardwebhooks.com>).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock;
use crate::events::{Audience, Event, EventType, Rendered};
use crate::ids::{ChatId, CompanyId, DeliveryId, WebhookId};

/// Deliveries are kept this long (the log a receiver can inspect and retry from).
pub const DELIVERY_RETENTION_SECS: i64 = 30 * 24 * 3600;
/// How long the secret replaced by a rotation keeps signing.
pub const ROTATION_OVERLAP_MILLIS: i64 = 24 * 3600 * 1000;

/// A webhook endpoint's signing secret (`whsec_` + base64 of 32 random bytes). Shown once
/// (on creation and rotation), never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SigningSecret(String);

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

impl SigningSecret {
    /// A secret as stored or as generated.
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// The secret's text, for the one response that shows it and for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub company_id: CompanyId,
    pub url: String,
    /// `None`: every event type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the endpoint was turned off by us (failing for a day), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub secret: SigningSecret,
    /// The secret a rotation replaced, signing alongside until `previous_secret_until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<SigningSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<i64>,
    /// Epoch ms of the first failure of the current run of failures; cleared by a success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

/// An endpoint as the API shows it; its secret only on creation and rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookResource<'a> {
    pub company_id: CompanyId,
    pub created_at: &'a str,
    pub description: Option<&'a str>,
    pub disabled_reason: Option<&'a str>,
    pub enabled: bool,
    pub events: Option<&'a [EventType]>,
    pub failing_since: Option<String>,
    pub id: WebhookId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<&'a str>,
    pub updated_at: &'a str,
    pub url: &'a str,
}

impl WebhookRecord {
    /// As the API shows it; the secret only on creation and rotation (`with_secret`).
    pub fn resource(&self, with_secret: bool) -> WebhookResource<'_> {
        WebhookResource {
            company_id: self.company_id,
            created_at: &self.created_at,
            description: self.description.as_deref(),
            disabled_reason: self.disabled_reason.as_deref(),
            enabled: self.enabled,
            events: self.events.as_deref(),
            failing_since: self.failing_since.map(clock::rfc3339),
            id: self.id,
            secret: with_secret.then(|| self.secret.expose()),
            updated_at: &self.updated_at,
            url: &self.url,
        }
    }

    /// Whether the endpoint takes events of this type.
    pub fn takes(&self, kind: EventType) -> bool {
        self.events
            .as_ref()
            .is_none_or(|types| types.contains(&kind))
    }

    /// Whether this event goes to this endpoint: it is on, takes the event's type, and
    /// existed when the event happened (the stream may bring older events after it was
    /// created; those are for `/events`, not for a new endpoint).
    pub fn wants(&self, event: &Event) -> bool {
        self.enabled && self.takes(event.kind()) && event.at >= self.created_at
    }

    /// The secrets that sign now: the current one, and the rotated-out one for a day.
    pub fn signing_secrets(&self, now_millis: i64) -> Vec<&SigningSecret> {
        let mut secrets = vec![&self.secret];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && now_millis < until
        {
            secrets.push(previous);
        }
        secrets
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or a retry.
    Pending,
    Succeeded,
    /// Every attempt failed; the job went to the dead-letter queue.
    Failed,
    /// Not sent: the endpoint was disabled or deleted before its turn.
    Skipped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event_type: EventType,
    pub chat_id: ChatId,
    /// The event delivered: each attempt sends it as the log holds it then, so an edit or
    /// a delete before the attempt is what the receiver gets (and the delivery log keeps
    /// no text of it).
    pub seq: u64,
    pub status: DeliveryStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub ttl: i64,
    /// Times it was queued again by hand (at most [`MAX_MANUAL_RETRIES`]).
    #[serde(default)]
    pub manual_retries: u32,
}

/// Manual retries one delivery may have: each sends the event again.
pub const MAX_MANUAL_RETRIES: u32 = 5;

/// A delivery as the delivery log shows it (never its payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryResource<'a> {
    pub attempts: u32,
    pub chat_id: ChatId,
    pub created_at: &'a str,
    pub event_type: EventType,
    pub id: DeliveryId,
    pub last_attempt_at: Option<&'a str>,
    pub last_error: Option<&'a str>,
    pub last_status_code: Option<u16>,
    pub next_attempt_at: Option<&'a str>,
    pub seq: u64,
    pub status: DeliveryStatus,
    pub webhook_id: WebhookId,
}

/// The body of a delivery: `{type, timestamp, data}`, where `data` is the log event as
/// the owner sees it (with `chat_id` and `seq`, so a receiver that missed something
/// reads `/events?after=`).
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    pub data: Rendered<'a>,
    pub timestamp: &'a str,
    #[serde(rename = "type")]
    pub kind: EventType,
}

impl<'a> Payload<'a> {
    pub fn of(event: &'a Event) -> Self {
        Self {
            data: event.render(Audience::Owner),
            timestamp: &event.at,
            kind: event.kind(),
        }
    }

    /// The body an attempt sends and signs.
    pub fn body(event: &Event) -> Result<String, PayloadError> {
        serde_json::to_string(&Payload::of(event)).map_err(PayloadError)
    }
}

impl DeliveryRecord {
    /// A delivery of `event` to `webhook`, not tried yet.
    pub fn new(webhook: &WebhookRecord, event: &Event, now_millis: i64) -> Self {
        Self {
            id: delivery_id(webhook.id, event, now_millis),
            webhook_id: webhook.id,
            event_type: event.kind(),
            chat_id: event.chat_id,
            seq: event.seq,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_status_code: None,
            last_error: None,
            last_attempt_at: None,
            next_attempt_at: Some(clock::rfc3339(now_millis)),
            created_at: clock::rfc3339(now_millis),
            ttl: now_millis / 1000 + DELIVERY_RETENTION_SECS,
            manual_retries: 0,
        }
    }

    pub fn resource(&self) -> DeliveryResource<'_> {
        DeliveryResource {
            attempts: self.attempts,
            chat_id: self.chat_id,
            created_at: &self.created_at,
            event_type: self.event_type,
            id: self.id,
            last_attempt_at: self.last_attempt_at.as_deref(),
            last_error: self.last_error.as_deref(),
            last_status_code: self.last_status_code,
            next_attempt_at: self.next_attempt_at.as_deref(),
            seq: self.seq,
            status: self.status,
            webhook_id: self.webhook_id,
        }
    }
}

/// An event whose payload could not be written (a bug of its types).
#[derive(Debug, thiserror::Error)]
#[error("a webhook payload could not be written as JSON")]
pub struct PayloadError(#[source] serde_json::Error);

/// A delivery's id: the time part is the event's (the log lists newest first), the rest
/// a hash of (endpoint, chat, seq); the same event for the same endpoint always has the
/// same id, which is also the `webhook-id` header receivers de-duplicate on.
pub fn delivery_id(webhook: WebhookId, event: &Event, fallback_millis: i64) -> DeliveryId {
    let millis = clock::parse_rfc3339(&event.at).unwrap_or(fallback_millis);
    let digest = Sha256::digest(format!("{webhook}.{}.{}", event.chat_id, event.seq));
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest[..10]);
    let ulid = ulid::Ulid::from_parts(
        u64::try_from(millis).unwrap_or_default(),
        u128::from_be_bytes(random),
    );
    DeliveryId::from_ulid(ulid)
}

/// The outcome of one attempt, as the delivery log records it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at_millis: i64,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    /// `Some`: tried again then; `None` with a failure: given up.
    pub next_attempt_millis: Option<i64>,
    pub succeeded: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Change;
    use crate::message::Tombstone;

    fn event(chat: ChatId, seq: u64) -> Event {
        Event {
            seq,
            chat_id: chat,
            at: "2026-11-26T01:02:03.004Z".into(),
            change: Change::MessageDeleted(Tombstone::new(crate::ids::MessageId::new(), None)),
            actor: None,
        }
    }

    #[test]
    fn a_delivery_id_is_the_same_for_the_same_event_and_endpoint() {
        let (webhook, chat) = (WebhookId::new(), ChatId::new());
        let a = delivery_id(webhook, &event(chat, 7), 1);
        assert_eq!(a, delivery_id(webhook, &event(chat, 7), 2));
        assert_ne!(a, delivery_id(webhook, &event(chat, 8), 1));
        assert_ne!(a, delivery_id(WebhookId::new(), &event(chat, 7), 1));
        assert_eq!(
            a.ulid().timestamp_ms(),
            clock::parse_rfc3339("2026-11-26T01:02:03.004Z").unwrap() as u64
        );
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        let secret = SigningSecret::new("whsec_c2VjcmV0".into());
        assert!(!format!("{secret:?}").contains("c2VjcmV0"));
    }
}

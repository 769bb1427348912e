//! Webhook endpoints and their deliveries.
//!
//! An endpoint lives in its owner's partition, next to the company it belongs to
//! (`USER#<owner>` / `WEBHOOK#<company>#<webhook>`): another owner's id finds nothing, and
//! the stream's dispatcher lists a company's endpoints with one Query. A delivery (one
//! event for one endpoint) lives in the endpoint's own partition, newest first, and
//! expires after [`DELIVERY_RETENTION_SECS`].
//!
//! A delivery's id is derived from the endpoint and the event (chat, `seq`, time): a
//! stream record handled twice finds its delivery (a conditional put), never a second one.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::page::{ListQuery, Page};
use super::update::Update;
use super::{Db, Key, keys, n, s, to_item};
use crate::clock;
use crate::error::ApiError;
use crate::events::{Event, EventType};
use crate::ids::{ChatId, CompanyId, DeliveryId, UserId, WebhookId};
use crate::webhook::SigningSecret;

/// Deliveries are kept this long (the log a receiver can inspect and retry from).
pub const DELIVERY_RETENTION_SECS: i64 = 30 * 24 * 3600;
/// How long the secret replaced by a rotation keeps signing.
pub const ROTATION_OVERLAP_MILLIS: i64 = 24 * 3600 * 1000;
/// Endpoints per company.
pub const MAX_WEBHOOKS_PER_COMPANY: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub owner_id: UserId,
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

impl WebhookRecord {
    /// As the API shows it; the secret only on creation and rotation (`with_secret`).
    pub fn resource(&self, with_secret: bool) -> Value {
        let mut resource = json!({
            "id": self.id,
            "company_id": self.company_id,
            "url": self.url,
            "events": self.events,
            "description": self.description,
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "failing_since": self.failing_since.map(clock::rfc3339),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        });
        if with_secret {
            resource["secret"] = json!(self.secret.expose());
        }
        resource
    }

    /// Whether this event goes to this endpoint: it is on, takes the event's type, and
    /// existed when the event happened (the stream may bring older events after it was
    /// created; those are for `/events`, not for a new endpoint).
    pub fn wants(&self, event: &Event) -> bool {
        self.enabled
            && self
                .events
                .as_ref()
                .is_none_or(|types| types.contains(&event.kind))
            && event.at >= self.created_at
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
    pub seq: u64,
    /// The exact body every attempt sends and signs.
    pub payload: String,
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
}

impl DeliveryRecord {
    /// A delivery of `event` to `webhook`, not tried yet.
    pub fn new(webhook: &WebhookRecord, event: &Event, now_millis: i64) -> Result<Self, ApiError> {
        let payload =
            serde_json::to_string(&crate::webhook::payload(event)).map_err(ApiError::internal)?;
        Ok(Self {
            id: delivery_id(webhook.id, event, now_millis),
            webhook_id: webhook.id,
            event_type: event.kind,
            chat_id: event.chat_id,
            seq: event.seq,
            payload,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_status_code: None,
            last_error: None,
            last_attempt_at: None,
            next_attempt_at: Some(clock::rfc3339(now_millis)),
            created_at: clock::rfc3339(now_millis),
            ttl: now_millis / 1000 + DELIVERY_RETENTION_SECS,
        })
    }

    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "webhook_id": self.webhook_id,
            "event_type": self.event_type,
            "chat_id": self.chat_id,
            "seq": self.seq,
            "status": self.status,
            "attempts": self.attempts,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "last_attempt_at": self.last_attempt_at,
            "next_attempt_at": self.next_attempt_at,
            "created_at": self.created_at,
        })
    }
}

/// A delivery's id: the time part is the event's (the log lists newest first), the rest
/// a hash of (endpoint, chat, seq); the same event for the same endpoint always has the
/// same id, which is also the `webhook-id` header receivers de-duplicate on.
fn delivery_id(webhook: WebhookId, event: &Event, fallback_millis: i64) -> DeliveryId {
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

const WEBHOOK_PREFIX: &str = "WEBHOOK#";
const DELIVERY_PREFIX: &str = "DELIVERY#";

fn company_prefix(company_id: CompanyId) -> String {
    format!("{WEBHOOK_PREFIX}{company_id}#")
}

fn key(owner_id: UserId, company_id: CompanyId, webhook_id: WebhookId) -> Key {
    Key::new(
        keys::user_partition(owner_id),
        format!("{}{webhook_id}", company_prefix(company_id)),
    )
}

fn deliveries_partition(webhook_id: WebhookId) -> String {
    format!("{WEBHOOK_PREFIX}{webhook_id}")
}

fn delivery_key(webhook_id: WebhookId, delivery_id: DeliveryId) -> Key {
    Key::new(
        deliveries_partition(webhook_id),
        format!("{DELIVERY_PREFIX}{delivery_id}"),
    )
}

/// What a `PUT` changes: `None` leaves a field alone.
#[derive(Debug, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Option<Vec<EventType>>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub updated_at: String,
}

#[derive(Debug)]
pub enum DeliveryInserted {
    New,
    Existing(DeliveryRecord),
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

impl Db {
    /// `false` when the company already has [`MAX_WEBHOOKS_PER_COMPANY`] endpoints.
    pub async fn insert_webhook(&self, webhook: &WebhookRecord) -> Result<bool, ApiError> {
        // A soft cap: two concurrent creates may both pass it; an exact one is not worth
        // a counter on the company item.
        let count = self
            .company_webhooks(webhook.owner_id, webhook.company_id)
            .await?
            .len();
        if count >= MAX_WEBHOOKS_PER_COMPANY {
            return Ok(false);
        }
        self.put_new(to_item(
            &key(webhook.owner_id, webhook.company_id, webhook.id),
            webhook,
        )?)
        .await?;
        Ok(true)
    }

    pub async fn webhook(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
        webhook_id: WebhookId,
    ) -> Result<Option<WebhookRecord>, ApiError> {
        self.get(&key(owner_id, company_id, webhook_id)).await
    }

    pub async fn list_webhooks(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<WebhookRecord>, ApiError> {
        self.list(&ListQuery {
            list: "webhooks",
            index: None,
            partition: keys::user_partition(owner_id),
            sort_prefix: company_prefix(company_id),
            per_page,
            cursor,
        })
        .await
    }

    /// Every endpoint of a company (at most [`MAX_WEBHOOKS_PER_COMPANY`]), for the dispatcher.
    pub async fn company_webhooks(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
    ) -> Result<Vec<WebhookRecord>, ApiError> {
        self.list_all(ListQuery {
            list: "webhooks",
            index: None,
            partition: keys::user_partition(owner_id),
            sort_prefix: company_prefix(company_id),
            per_page: MAX_WEBHOOKS_PER_COMPANY,
            cursor: None,
        })
        .await
    }

    /// `None` when there is no such endpoint. Turning an endpoint back on forgets its
    /// failures.
    pub async fn update_webhook(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
        webhook_id: WebhookId,
        changes: WebhookChanges,
    ) -> Result<Option<WebhookRecord>, ApiError> {
        let mut update = Update::new()
            .set("updated_at", s(changes.updated_at))
            .set_or_remove("description", changes.description)
            .condition("attribute_exists(PK)");
        if let Some(url) = changes.url {
            update = update.set("url", s(url));
        }
        match changes.events {
            Some(Some(events)) => {
                let value = serde_dynamo::to_attribute_value(events)?;
                update = update.set("events", value);
            }
            Some(None) => update = update.remove("events"),
            None => {}
        }
        if let Some(enabled) = changes.enabled {
            update = update.set("enabled", super::AttributeValue::Bool(enabled));
            if enabled {
                update = update.remove("failing_since").remove("disabled_reason");
            }
        }
        self.update_returning(&key(owner_id, company_id, webhook_id), update)
            .await
    }

    /// A new secret; the old one signs alongside it for [`ROTATION_OVERLAP_MILLIS`].
    pub async fn rotate_webhook_secret(
        &self,
        webhook: &WebhookRecord,
        new_secret: SigningSecret,
        now_millis: i64,
    ) -> Result<Option<WebhookRecord>, ApiError> {
        let update = Update::new()
            .set("secret", s(new_secret.expose()))
            .set("previous_secret", s(webhook.secret.expose()))
            .set(
                "previous_secret_until",
                n(now_millis + ROTATION_OVERLAP_MILLIS),
            )
            .set("updated_at", s(clock::rfc3339(now_millis)))
            .condition("attribute_exists(PK)");
        self.update_returning(
            &key(webhook.owner_id, webhook.company_id, webhook.id),
            update,
        )
        .await
    }

    /// Deletes the endpoint; its deliveries expire on their own (and are skipped).
    pub async fn delete_webhook(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
        webhook_id: WebhookId,
    ) -> Result<Option<WebhookRecord>, ApiError> {
        self.delete_returning(
            &key(owner_id, company_id, webhook_id),
            "attribute_exists(PK)",
            &[],
        )
        .await
    }

    /// Records a new delivery; when this event already has its delivery for this
    /// endpoint (a replayed stream record), that one.
    pub async fn insert_delivery(
        &self,
        delivery: &DeliveryRecord,
    ) -> Result<DeliveryInserted, ApiError> {
        let key = delivery_key(delivery.webhook_id, delivery.id);
        if self.put_new(to_item(&key, delivery)?).await? {
            return Ok(DeliveryInserted::New);
        }
        Ok(match self.get::<DeliveryRecord>(&key).await? {
            Some(existing) => DeliveryInserted::Existing(existing),
            // Expired between the two calls: nothing left to send.
            None => DeliveryInserted::New,
        })
    }

    pub async fn delivery(
        &self,
        webhook_id: WebhookId,
        delivery_id: DeliveryId,
    ) -> Result<Option<DeliveryRecord>, ApiError> {
        self.get(&delivery_key(webhook_id, delivery_id)).await
    }

    /// The endpoint's deliveries, newest first.
    pub async fn list_deliveries(
        &self,
        webhook_id: WebhookId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<DeliveryRecord>, ApiError> {
        self.list_newest_first(&ListQuery {
            list: "deliveries",
            index: None,
            partition: deliveries_partition(webhook_id),
            sort_prefix: DELIVERY_PREFIX.to_owned(),
            per_page,
            cursor,
        })
        .await
    }

    /// Writes an attempt's outcome into the delivery log.
    pub async fn record_attempt(
        &self,
        delivery: &DeliveryRecord,
        attempt: &Attempt,
    ) -> Result<(), ApiError> {
        let status = match (attempt.succeeded, attempt.next_attempt_millis) {
            (true, _) => DeliveryStatus::Succeeded,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        let mut update = Update::new()
            .add("attempts", n(1))
            .set("status", serde_dynamo::to_attribute_value(status)?)
            .set("last_attempt_at", s(clock::rfc3339(attempt.at_millis)))
            .set_or_remove("last_error", Some(attempt.error.clone()))
            .set_or_remove(
                "next_attempt_at",
                Some(attempt.next_attempt_millis.map(clock::rfc3339)),
            )
            .condition("attribute_exists(PK)");
        update = match attempt.status_code {
            Some(code) => update.set("last_status_code", n(code)),
            None => update.remove("last_status_code"),
        };
        self.update_if(&delivery_key(delivery.webhook_id, delivery.id), update)
            .await?;
        Ok(())
    }

    /// Sets a delivery's status without an attempt (skipped, or queued again by a retry).
    pub async fn set_delivery_status(
        &self,
        delivery: &DeliveryRecord,
        status: DeliveryStatus,
        next_attempt_millis: Option<i64>,
    ) -> Result<(), ApiError> {
        let update = Update::new()
            .set("status", serde_dynamo::to_attribute_value(status)?)
            .set_or_remove(
                "next_attempt_at",
                Some(next_attempt_millis.map(clock::rfc3339)),
            )
            .condition("attribute_exists(PK)");
        self.update_if(&delivery_key(delivery.webhook_id, delivery.id), update)
            .await?;
        Ok(())
    }

    /// A success: the endpoint is healthy again.
    pub async fn webhook_succeeded(&self, webhook: &WebhookRecord) -> Result<(), ApiError> {
        if webhook.failing_since.is_none() {
            return Ok(());
        }
        let update = Update::new()
            .remove("failing_since")
            .condition("attribute_exists(PK)");
        self.update_if(
            &key(webhook.owner_id, webhook.company_id, webhook.id),
            update,
        )
        .await?;
        Ok(())
    }

    /// A failure: starts the endpoint's run of failures if none is running. Returns the
    /// run's start.
    pub async fn webhook_failed(
        &self,
        webhook: &WebhookRecord,
        now_millis: i64,
    ) -> Result<i64, ApiError> {
        if let Some(since) = webhook.failing_since {
            return Ok(since);
        }
        let update = Update::new()
            .set("failing_since", n(now_millis))
            .condition("attribute_exists(PK)")
            .condition("attribute_not_exists(failing_since)");
        self.update_if(
            &key(webhook.owner_id, webhook.company_id, webhook.id),
            update,
        )
        .await?;
        Ok(now_millis)
    }

    /// Turns a failing endpoint off; `true` for the one call that did it (so its owner
    /// is emailed once).
    pub async fn disable_failing_webhook(
        &self,
        webhook: &WebhookRecord,
        reason: &str,
    ) -> Result<bool, ApiError> {
        let update = Update::new()
            .set("enabled", super::AttributeValue::Bool(false))
            .set("disabled_reason", s(reason))
            .set("updated_at", s(clock::now_rfc3339()))
            .value(":on", super::AttributeValue::Bool(true))
            .condition("attribute_exists(PK)")
            .condition("enabled = :on");
        self.update_if(
            &key(webhook.owner_id, webhook.company_id, webhook.id),
            update,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(chat: ChatId, seq: u64) -> Event {
        Event {
            seq,
            kind: EventType::MessageCreated,
            chat_id: chat,
            at: "2026-11-26T01:02:03.004Z".into(),
            data: json!({}),
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
}

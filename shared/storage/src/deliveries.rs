//! Webhook deliveries: one event for one endpoint, in the endpoint's own partition,
//! newest first, expiring after [`domain::webhook::DELIVERY_RETENTION_SECS`].
//!
//! A delivery's id is derived from the endpoint and the event (chat, `seq`, time): a
//! stream record handled twice finds its delivery (a conditional put), never a second one.

use domain::clock;
use domain::ids::{DeliveryId, WebhookId};
use domain::webhook::{Attempt, DeliveryRecord, DeliveryStatus, MAX_MANUAL_RETRIES};

use crate::item::{n, s, to_item};
use crate::key::Entity;
use crate::page::{ListQuery, Page};
use crate::update::Update;
use crate::webhooks::WEBHOOK_PREFIX;
use crate::{Db, Key, Result};

const DELIVERY_PREFIX: &str = "DELIVERY#";

fn deliveries_partition(webhook_id: WebhookId) -> String {
    format!("{WEBHOOK_PREFIX}{webhook_id}")
}

impl Entity for DeliveryRecord {
    type Id<'a> = (WebhookId, DeliveryId);

    fn key((webhook_id, delivery_id): (WebhookId, DeliveryId)) -> Key {
        Key::new(
            deliveries_partition(webhook_id),
            format!("{DELIVERY_PREFIX}{delivery_id}"),
        )
    }
}

/// How a manual retry ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeued {
    Queued,
    /// An attempt is pending already (its first, or a scheduled retry).
    Pending,
    /// It was retried by hand [`MAX_MANUAL_RETRIES`] times already.
    TooMany,
    Gone,
}

#[derive(Debug)]
pub enum DeliveryInserted {
    New,
    Existing(DeliveryRecord),
}

#[derive(Debug, Clone, Copy)]
pub struct Deliveries<'a> {
    pub(crate) db: &'a Db,
}

impl Deliveries<'_> {
    /// Records a new delivery; when this event already has its delivery for this
    /// endpoint (a replayed stream record), that one.
    pub async fn insert(&self, delivery: &DeliveryRecord) -> Result<DeliveryInserted> {
        let key = DeliveryRecord::key((delivery.webhook_id, delivery.id));
        if self.db.put_new(to_item(&key, delivery)?).await? {
            return Ok(DeliveryInserted::New);
        }
        Ok(match self.db.get::<DeliveryRecord>(&key).await? {
            Some(existing) => DeliveryInserted::Existing(existing),
            // Expired between the two calls: nothing left to send.
            None => DeliveryInserted::New,
        })
    }

    pub async fn get(
        &self,
        webhook_id: WebhookId,
        delivery_id: DeliveryId,
    ) -> Result<Option<DeliveryRecord>> {
        self.db
            .get(&DeliveryRecord::key((webhook_id, delivery_id)))
            .await
    }

    /// The endpoint's deliveries, newest first.
    pub async fn list(
        &self,
        webhook_id: WebhookId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<DeliveryRecord>> {
        self.db
            .list_newest_first(&ListQuery {
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
    pub async fn record_attempt(&self, delivery: &DeliveryRecord, attempt: &Attempt) -> Result<()> {
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
        self.db
            .update_if(
                &DeliveryRecord::key((delivery.webhook_id, delivery.id)),
                update,
            )
            .await?;
        Ok(())
    }

    /// Sets a delivery's status without an attempt (skipped, or queued again by a retry).
    /// Queues a delivery again by hand (`next_attempt_at` now), unless an attempt is
    /// pending already or it was retried by hand as often as it may be.
    pub async fn requeue(&self, delivery: &DeliveryRecord, now_millis: i64) -> Result<Requeued> {
        let pending: aws_sdk_dynamodb::types::AttributeValue =
            serde_dynamo::to_attribute_value(DeliveryStatus::Pending)?;
        let update = Update::new()
            .set("status", pending.clone())
            .set("next_attempt_at", s(clock::rfc3339(now_millis)))
            .add("manual_retries", n(1))
            .value(":pending", pending)
            .value(":max_retries", n(MAX_MANUAL_RETRIES))
            .condition("attribute_exists(PK)")
            .condition("#status <> :pending")
            .condition("attribute_not_exists(#manual_retries) OR #manual_retries < :max_retries");
        let key = DeliveryRecord::key((delivery.webhook_id, delivery.id));
        if self.db.update_if(&key, update).await? {
            return Ok(Requeued::Queued);
        }
        Ok(match self.db.get::<DeliveryRecord>(&key).await? {
            None => Requeued::Gone,
            Some(now) if now.status == DeliveryStatus::Pending => Requeued::Pending,
            Some(_) => Requeued::TooMany,
        })
    }

    pub async fn set_status(
        &self,
        delivery: &DeliveryRecord,
        status: DeliveryStatus,
        next_attempt_millis: Option<i64>,
    ) -> Result<()> {
        let update = Update::new()
            .set("status", serde_dynamo::to_attribute_value(status)?)
            .set_or_remove(
                "next_attempt_at",
                Some(next_attempt_millis.map(clock::rfc3339)),
            )
            .condition("attribute_exists(PK)");
        self.db
            .update_if(
                &DeliveryRecord::key((delivery.webhook_id, delivery.id)),
                update,
            )
            .await?;
        Ok(())
    }
}

//! Webhook endpoints, in their company's partition (`COMPANY#<company>` /
//! `WEBHOOK#<webhook>`): another company's id finds nothing, and the stream's dispatcher
//! lists a company's endpoints with one Query. Counted on the
//! company ([`crate::cap::WEBHOOKS`]). Their deliveries are [`crate::deliveries`]'.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::clock;
use domain::company::{CompanyRecord, MAX_WEBHOOKS};
use domain::events::EventType;
use domain::ids::{CompanyId, WebhookId};
use domain::webhook::{ROTATION_OVERLAP_MILLIS, SigningSecret, WebhookRecord};

use crate::cap::{self, Added};
use crate::item::{n, s, to_item};
use crate::key::{Entity, company_partition};
use crate::page::{ListQuery, Page};
use crate::tx::Transaction;
use crate::update::Update;
use crate::{Db, Key, Result};

pub(crate) const WEBHOOK_PREFIX: &str = "WEBHOOK#";

impl Entity for WebhookRecord {
    /// The company and the endpoint.
    type Id<'a> = (CompanyId, WebhookId);

    fn key((company_id, webhook_id): (CompanyId, WebhookId)) -> Key {
        Key::new(
            company_partition(company_id),
            format!("{WEBHOOK_PREFIX}{webhook_id}"),
        )
    }
}

fn own_key(webhook: &WebhookRecord) -> Key {
    WebhookRecord::key((webhook.company_id, webhook.id))
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

#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    pub(crate) db: &'a Db,
}

impl Webhooks<'_> {
    /// Adds the endpoint, counted against [`cap::WEBHOOKS`] on its company in the same
    /// transaction (`HolderGone`: the company is gone).
    pub async fn insert(&self, webhook: &WebhookRecord) -> Result<Added> {
        let company = CompanyRecord::key(webhook.company_id);
        self.db
            .put_counted(
                to_item(&own_key(webhook), webhook)?,
                &company,
                cap::WEBHOOKS,
            )
            .await
    }

    pub async fn get(
        &self,
        company_id: CompanyId,
        webhook_id: WebhookId,
    ) -> Result<Option<WebhookRecord>> {
        self.db
            .get(&WebhookRecord::key((company_id, webhook_id)))
            .await
    }

    fn list_query(company_id: CompanyId, per_page: usize, cursor: Option<String>) -> ListQuery {
        ListQuery {
            list: "webhooks",
            index: None,
            partition: company_partition(company_id),
            sort_prefix: WEBHOOK_PREFIX.to_owned(),
            per_page,
            cursor,
        }
    }

    pub async fn list(
        &self,
        company_id: CompanyId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<WebhookRecord>> {
        self.db
            .list(&Self::list_query(company_id, per_page, cursor))
            .await
    }

    /// Every endpoint of a company (at most [`MAX_WEBHOOKS`] counted, and the few from
    /// before the count), for the dispatcher.
    pub async fn of_company(&self, company_id: CompanyId) -> Result<Vec<WebhookRecord>> {
        let per_page = usize::try_from(MAX_WEBHOOKS).unwrap_or(20);
        self.db
            .list_all(Self::list_query(company_id, per_page, None))
            .await
    }

    /// `None` when there is no such endpoint. Turning an endpoint back on forgets its
    /// failures.
    pub async fn update(
        &self,
        company_id: CompanyId,
        webhook_id: WebhookId,
        changes: WebhookChanges,
    ) -> Result<Option<WebhookRecord>> {
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
            update = update.set("enabled", AttributeValue::Bool(enabled));
            if enabled {
                update = update.remove("failing_since").remove("disabled_reason");
            }
        }
        self.db
            .update_returning(&WebhookRecord::key((company_id, webhook_id)), update)
            .await
    }

    /// A new secret; the old one signs alongside it for [`ROTATION_OVERLAP_MILLIS`].
    pub async fn rotate_secret(
        &self,
        webhook: &WebhookRecord,
        new_secret: SigningSecret,
        now_millis: i64,
    ) -> Result<Option<WebhookRecord>> {
        let update = Update::new()
            .set("secret", s(new_secret.expose()))
            .set("previous_secret", s(webhook.secret.expose()))
            .set(
                "previous_secret_until",
                n(now_millis + ROTATION_OVERLAP_MILLIS),
            )
            .set("updated_at", s(clock::rfc3339(now_millis)))
            .condition("attribute_exists(PK)");
        self.db.update_returning(&own_key(webhook), update).await
    }

    /// Deletes the endpoint (and counts it off its company); its deliveries expire on
    /// their own (and are skipped). `None` when there is no such endpoint.
    pub async fn delete(
        &self,
        company_id: CompanyId,
        webhook_id: WebhookId,
    ) -> Result<Option<WebhookRecord>> {
        let Some(webhook) = self.get(company_id, webhook_id).await? else {
            return Ok(None);
        };
        let mut tx = Transaction::new(self.db);
        tx.delete(&own_key(&webhook), Some("attribute_exists(PK)"), &[])?;
        let company = CompanyRecord::key(company_id);
        cap::WEBHOOKS.count(&mut tx, &company, -1)?;
        match tx.commit().await? {
            Ok(()) => Ok(Some(webhook)),
            // Deleted meanwhile by another request (or its company with it).
            Err(cancelled) if cancelled.any_failed() => Ok(None),
            Err(cancelled) => Err(cancelled.unexpected("webhook delete")),
        }
    }

    /// A success: the endpoint is healthy again.
    pub async fn succeeded(&self, webhook: &WebhookRecord) -> Result<()> {
        if webhook.failing_since.is_none() {
            return Ok(());
        }
        let update = Update::new()
            .remove("failing_since")
            .condition("attribute_exists(PK)");
        self.db.update_if(&own_key(webhook), update).await?;
        Ok(())
    }

    /// A failure: starts the endpoint's run of failures if none is running. Returns the
    /// run's start.
    pub async fn failed(&self, webhook: &WebhookRecord, now_millis: i64) -> Result<i64> {
        if let Some(since) = webhook.failing_since {
            return Ok(since);
        }
        let update = Update::new()
            .set("failing_since", n(now_millis))
            .condition("attribute_exists(PK)")
            .condition("attribute_not_exists(failing_since)");
        self.db.update_if(&own_key(webhook), update).await?;
        Ok(now_millis)
    }

    /// Turns a failing endpoint off; `true` for the one call that did it (so its owner
    /// is emailed once).
    pub async fn disable_failing(&self, webhook: &WebhookRecord, reason: &str) -> Result<bool> {
        let update = Update::new()
            .set("enabled", AttributeValue::Bool(false))
            .set("disabled_reason", s(reason))
            .set("updated_at", s(clock::now_rfc3339()))
            .value(":on", AttributeValue::Bool(true))
            .condition("attribute_exists(PK)")
            .condition("enabled = :on");
        self.db.update_if(&own_key(webhook), update).await
    }
}

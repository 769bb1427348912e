//! `deliver`: the delivery queue's jobs, one webhook delivery each. An attempt is a
//! signed `POST` (Standard Webhooks headers, 10 s timeout, redirects not followed) to the
//! endpoint's URL, after checking every address its host resolves to (no loopback,
//! private, link-local or metadata address in production; see the services'
//! `standard_webhooks`).
//!
//! A 2xx is success; anything else (status, timeout, refused address) is a failure that
//! is tried again after the next delay of the retry schedule (jittered), and after the
//! last one the job goes to the dead-letter queue. Every attempt is written into the
//! delivery log. An endpoint failing for `WEBHOOK_DISABLE_AFTER` in a row is turned off
//! and its owner emailed, once.

mod client;

use std::time::Duration;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use domain::clock;
use domain::jobs::{DeliveryJob, wait_left};
use domain::text::Email;
use domain::webhook::{Attempt, DeliveryRecord, DeliveryStatus, Payload, WebhookRecord};
use edge::Context;
use edge::config::WebhookSettings;
use edge::event_sources::JobError;
use services::mail::{Letter, Mailer};
use services::queue::Queue;
use services::standard_webhooks;

pub use client::{Outcome, Sender};

pub struct App {
    pub ctx: Context,
    /// `DELIVERY_QUEUE_URL`: where retries (and early jobs) go back.
    pub deliveries: Queue,
    /// `DELIVERY_DLQ_URL`: the jobs of deliveries given up.
    pub dead_letters: Queue,
    pub mailer: Mailer,
    pub settings: WebhookSettings,
    pub sender: Sender,
}

impl App {
    pub fn from_env() -> Result<Self, lambda_runtime::Error> {
        // Webhook signing secrets are per endpoint, in the table: no deployment key.
        let (ctx, aws) = Context::from_env_without_keys()?;
        let settings = WebhookSettings::from_env()?;
        let from = ctx.config.require_mail_from()?.to_owned();
        Ok(Self {
            deliveries: edge::config::queue(&aws, "DELIVERY_QUEUE_URL")?,
            dead_letters: edge::config::queue(&aws, "DELIVERY_DLQ_URL")?,
            mailer: Mailer::from_config(&aws, from),
            sender: Sender::new(settings.targets)?,
            settings,
            ctx,
        })
    }
}

pub async fn handle(app: &App, batch: SqsEvent) -> SqsBatchResponse {
    edge::event_sources::each_message(&batch, async |message| {
        let job: DeliveryJob = edge::event_sources::job(message)?;
        run(app, job).await
    })
    .await
}

async fn run(app: &App, job: DeliveryJob) -> Result<(), JobError> {
    let now = clock::now_millis();
    if let Some(wait) = wait_left(job.not_before, now) {
        // Due later than SQS can hold a message: another hop.
        return Ok(app.deliveries.send(&job, wait).await?);
    }
    let db = &app.ctx.db;
    let Some(delivery) = db.deliveries().get(job.webhook_id, job.delivery_id).await? else {
        return Ok(()); // expired from the log
    };
    if delivery.status != DeliveryStatus::Pending {
        return Ok(()); // a second job for a delivery already settled
    }
    let webhook = db.webhooks().get(job.company_id, job.webhook_id).await?;
    let Some(webhook) = webhook.filter(|w| w.enabled) else {
        // Deleted or disabled since: nothing is sent.
        return Ok(db
            .deliveries()
            .set_status(&delivery, DeliveryStatus::Skipped, None)
            .await?);
    };
    // The event as the log holds it now: edited or deleted since, it says so.
    let event = db
        .log()
        .event(delivery.chat_id, delivery.seq, now)
        .await?
        .filter(|event| webhook.takes(event.kind()));
    let Some(event) = event else {
        // Past the log's retention, or now a type the endpoint does not take (a message
        // deleted before its creation was delivered): nothing is sent.
        return Ok(db
            .deliveries()
            .set_status(&delivery, DeliveryStatus::Skipped, None)
            .await?);
    };
    let payload = Payload::body(&event)?;
    let outcome = app
        .sender
        .attempt(&webhook, &delivery, payload, now)
        .await?;
    settle(app, job, &webhook, &delivery, outcome, now).await
}

/// Records the attempt and queues what follows it.
async fn settle(
    app: &App,
    job: DeliveryJob,
    webhook: &WebhookRecord,
    delivery: &DeliveryRecord,
    outcome: Outcome,
    now: i64,
) -> Result<(), JobError> {
    let db = &app.ctx.db;
    let next_delay = match outcome.succeeded() {
        true => None,
        false => app
            .settings
            .retries
            .delay_after(delivery.attempts + 1)
            .map(standard_webhooks::jittered),
    };
    let next_attempt_millis = next_delay.map(|d| now + millis(d));
    let attempt = Attempt {
        at_millis: now,
        status_code: outcome.status_code(),
        error: outcome.error(),
        next_attempt_millis,
        succeeded: outcome.succeeded(),
    };
    db.deliveries().record_attempt(delivery, &attempt).await?;
    if outcome.succeeded() {
        return Ok(db.webhooks().succeeded(webhook).await?);
    }
    tracing::warn!(
        webhook_id = %webhook.id, delivery_id = %delivery.id, attempt = delivery.attempts + 1,
        status = ?outcome.status_code(), error = ?outcome.error(), "a webhook delivery failed"
    );
    match next_delay {
        Some(delay) => {
            let retry = DeliveryJob {
                not_before: next_attempt_millis,
                ..job
            };
            app.deliveries.send(&retry, delay).await?;
        }
        None => app.dead_letters.send(&job, Duration::ZERO).await?,
    }
    let failing_since = db.webhooks().failed(webhook, now).await?;
    if now - failing_since >= millis(app.settings.disable_after) {
        disable(app, webhook, &outcome, now - failing_since).await?;
    }
    Ok(())
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Turns the endpoint off and tells its owner, once.
async fn disable(
    app: &App,
    webhook: &WebhookRecord,
    outcome: &Outcome,
    failing_for_millis: i64,
) -> Result<(), JobError> {
    let hours = u64::try_from(failing_for_millis / 3_600_000).unwrap_or_default();
    let reason = format!("failing for {hours} hours in a row");
    if !app
        .ctx
        .db
        .webhooks()
        .disable_failing(webhook, &reason)
        .await?
    {
        return Ok(()); // another attempt did it
    }
    tracing::warn!(webhook_id = %webhook.id, "webhook disabled after failing too long");
    let company = app.ctx.db.companies().get(webhook.company_id).await?;
    let owner = match company {
        Some(company) => app.ctx.db.users().get(company.owner_id).await?,
        None => None,
    };
    if let Some(email) = owner.and_then(|o| Email::normalized(&o.email)) {
        let last_error = outcome.error().unwrap_or_else(|| "no 2xx answer".into());
        let letter = Letter::webhook_disabled(&webhook.url, hours, &last_error);
        app.mailer.send(&email, &letter).await?;
    }
    Ok(())
}

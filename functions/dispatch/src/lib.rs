//! `dispatch`: the table's DynamoDB stream, filtered (see `template.yaml`) to new events
//! of the chats' logs. For each event it queues the background work the event causes:
//!
//! - one webhook delivery per endpoint of the chat's company that wants the event type
//!   (a delivery record, then a job on the delivery queue for `deliver`);
//! - for a new message, one unread-message check per verified chat user who may have to
//!   be emailed (a job on the notify queue for `notify`, delayed by the chat's
//!   `unread_email_minutes`).
//!
//! Replays are safe: a delivery's id derives from the event, so a record handled twice
//! finds its delivery and only queues its job again (at least once, as promised), and
//! the email check claims its window before it sends anything.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use shared::db::chats::ChatRecord;
use shared::db::webhooks::{DeliveryInserted, DeliveryRecord, DeliveryStatus, WebhookRecord};
use shared::db::{Item, events};
use shared::events::{Event, EventType};
use shared::ids::{ChatId, ChatUserId, CompanyId, EntityId};
use shared::queue::{DeliveryJob, NotifyJob, Queue};
use shared::{ApiError, Context, clock};

pub struct App {
    pub ctx: Context,
    /// `DELIVERY_QUEUE_URL`: jobs for `deliver`.
    pub deliveries: Queue,
    /// `NOTIFY_QUEUE_URL`: jobs for `notify`.
    pub notifications: Queue,
}

impl App {
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let (ctx, aws) = Context::from_env_without_keys().await?;
        Ok(Self {
            deliveries: Queue::from_env(&aws, "DELIVERY_QUEUE_URL")?,
            notifications: Queue::from_env(&aws, "NOTIFY_QUEUE_URL")?,
            ctx,
        })
    }
}

/// What one batch has read already: a busy chat's events share their lookups.
#[derive(Default)]
struct Lookups {
    chats: HashMap<ChatId, Option<ChatRecord>>,
    webhooks: HashMap<CompanyId, Vec<WebhookRecord>>,
}

pub async fn handle(app: &App, batch: StreamEvent) -> DynamoDbEventResponse {
    let mut lookups = Lookups::default();
    shared::batches::stream_in_order(&batch, async |record| match event_of(record)? {
        Some(event) => dispatch(app, &event, &mut lookups).await,
        None => Ok(()),
    })
    .await
}

/// The new log event a stream record carries, if it carries one.
pub fn event_of(record: &EventRecord) -> Result<Option<Event>, ApiError> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let item: Item = record.change.new_image.clone().into();
    events::event_of_item(item)
}

async fn dispatch(app: &App, event: &Event, lookups: &mut Lookups) -> Result<(), ApiError> {
    let db = &app.ctx.db;
    let chat = match lookups.chats.entry(event.chat_id) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(slot) => slot.insert(db.chat(event.chat_id).await?),
    };
    // A chat deleted since: nobody is left to tell.
    let Some(chat) = chat.as_ref() else {
        return Ok(());
    };
    let webhooks = match lookups.webhooks.entry(chat.company_id) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(slot) => {
            slot.insert(db.company_webhooks(chat.owner_id, chat.company_id).await?)
        }
    };
    for webhook in webhooks.iter().filter(|w| w.wants(event)) {
        queue_delivery(app, webhook, event).await?;
    }
    if event.kind == EventType::MessageCreated {
        queue_unread_checks(app, chat, event).await?;
    }
    Ok(())
}

async fn queue_delivery(app: &App, webhook: &WebhookRecord, event: &Event) -> Result<(), ApiError> {
    let delivery = DeliveryRecord::new(webhook, event, clock::now_millis())?;
    let queue_it = match app.ctx.db.insert_delivery(&delivery).await? {
        DeliveryInserted::New => true,
        // A replayed record: its job may never have been sent (the batch failed after
        // the insert), so send it again unless it was tried already.
        DeliveryInserted::Existing(existing) => {
            existing.status == DeliveryStatus::Pending && existing.attempts == 0
        }
    };
    if queue_it {
        let job = DeliveryJob {
            owner_id: webhook.owner_id,
            company_id: webhook.company_id,
            webhook_id: webhook.id,
            delivery_id: delivery.id,
            not_before: None,
        };
        app.deliveries.send(&job, Duration::ZERO).await?;
    }
    Ok(())
}

/// The author of a `message.created`.
fn author(event: &Event) -> Option<ChatUserId> {
    event.data["chat_user_id"]
        .as_str()
        .and_then(ChatUserId::parse)
}

/// Queues one check per chat user who may have to hear about this message by email: not
/// its author, verified, not unsubscribed, not past it already, and without a check
/// pending (that one will see this message too).
async fn queue_unread_checks(app: &App, chat: &ChatRecord, event: &Event) -> Result<(), ApiError> {
    let delay = app
        .ctx
        .config
        .unread_email_delay(chat.unread_email_delay_minutes());
    if delay.is_zero() {
        return Ok(());
    }
    let now = clock::now_millis();
    let due = now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
    let author = author(event);
    for chat_user in app.ctx.db.all_chat_users(chat.id).await? {
        let wanted = Some(chat_user.id) != author
            && chat_user.verified_at.is_some()
            && !chat_user.unread_emails_off
            && chat_user.last_read_seq < event.seq
            && chat_user
                .notify_pending_until
                .is_none_or(|until| until <= now);
        if !wanted {
            continue;
        }
        // The job first, then the claim: a failure in between queues a second check at
        // worst, and `notify` sends one email per window whatever it is asked.
        let job = NotifyJob {
            chat_id: chat.id,
            chat_user_id: chat_user.id,
            not_before: Some(due),
        };
        app.notifications.send(&job, delay).await?;
        app.ctx
            .db
            .claim_notify_check(chat.id, chat_user.id, now, due)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_author_is_the_messages_chat_user() {
        let who = ChatUserId::new();
        let event = Event {
            seq: 1,
            kind: EventType::MessageCreated,
            chat_id: ChatId::new(),
            at: "t".into(),
            data: json!({ "id": "m", "chat_user_id": who, "body": "hi" }),
        };
        assert_eq!(author(&event), Some(who));
    }
}

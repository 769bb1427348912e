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
use domain::chat::ChatRecord;
use domain::clock;
use domain::events::{Change, Event};
use domain::ids::{ChatId, ChatUserId, CompanyId};
use domain::jobs::{DeliveryJob, NotifyJob};
use domain::webhook::{DeliveryRecord, DeliveryStatus, WebhookRecord};
use edge::Context;
use edge::event_sources::JobError;
use services::queue::Queue;
use storage::deliveries::DeliveryInserted;
use storage::{Item, log};

pub struct App {
    pub ctx: Context,
    /// `DELIVERY_QUEUE_URL`: jobs for `deliver`.
    pub deliveries: Queue,
    /// `NOTIFY_QUEUE_URL`: jobs for `notify`.
    pub notifications: Queue,
}

impl App {
    pub fn from_env() -> Result<Self, lambda_runtime::Error> {
        let (ctx, aws) = Context::from_env_without_keys()?;
        Ok(Self {
            deliveries: edge::config::queue(&aws, "DELIVERY_QUEUE_URL")?,
            notifications: edge::config::queue(&aws, "NOTIFY_QUEUE_URL")?,
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
    edge::event_sources::stream_in_order(&batch, async |record| match event_of(record)? {
        Some(event) => dispatch(app, &event, &mut lookups).await,
        None => Ok(()),
    })
    .await
}

/// The new log event a stream record carries, if it carries one.
pub fn event_of(record: &EventRecord) -> Result<Option<Event>, JobError> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let item: Item = record.change.new_image.clone().into();
    Ok(log::event_of_item(item)?)
}

async fn dispatch(app: &App, event: &Event, lookups: &mut Lookups) -> Result<(), JobError> {
    let db = &app.ctx.db;
    let chat = match lookups.chats.entry(event.chat_id) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(slot) => slot.insert(db.chats().get(event.chat_id).await?),
    };
    // A chat deleted since: nobody is left to tell.
    let Some(chat) = chat.as_ref() else {
        return Ok(());
    };
    let webhooks = match lookups.webhooks.entry(chat.company_id) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(slot) => slot.insert(db.webhooks().of_company(chat.company_id).await?),
    };
    for webhook in webhooks.iter().filter(|w| w.wants(event)) {
        queue_delivery(app, webhook, event).await?;
    }
    if let Some(author) = author(event) {
        queue_unread_checks(app, chat, event.seq, author).await?;
    }
    Ok(())
}

async fn queue_delivery(app: &App, webhook: &WebhookRecord, event: &Event) -> Result<(), JobError> {
    let delivery = DeliveryRecord::new(webhook, event, clock::now_millis());
    let queue_it = match app.ctx.db.deliveries().insert(&delivery).await? {
        DeliveryInserted::New => true,
        // A replayed record: its job may never have been sent (the batch failed after
        // the insert), so send it again unless it was tried already.
        DeliveryInserted::Existing(existing) => {
            existing.status == DeliveryStatus::Pending && existing.attempts == 0
        }
    };
    if queue_it {
        let job = DeliveryJob {
            company_id: webhook.company_id,
            webhook_id: webhook.id,
            delivery_id: delivery.id,
            not_before: None,
        };
        app.deliveries.send(&job, Duration::ZERO).await?;
    }
    Ok(())
}

/// The guest author of a `message.created` that chat users read (`Some(None)`: a
/// member's reply); `None` for a note and for any other event: nobody is emailed of it.
fn author(event: &Event) -> Option<Option<ChatUserId>> {
    match &event.change {
        Change::MessageCreated(message) if !message.internal => Some(message.chat_user_id),
        _ => None,
    }
}

/// Queues one check per chat user who may have to hear about the message of event `seq`
/// by email: not its author, verified, not unsubscribed, not past it already, and
/// without a check pending (that one will see this message too).
async fn queue_unread_checks(
    app: &App,
    chat: &ChatRecord,
    seq: u64,
    author: Option<ChatUserId>,
) -> Result<(), JobError> {
    let delay = app
        .ctx
        .config
        .unread_email_delay(chat.unread_email_delay_minutes());
    if delay.is_zero() {
        return Ok(());
    }
    let now = clock::now_millis();
    let due = now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
    for chat_user in app.ctx.db.chat_users().all(chat.id).await? {
        let wanted = Some(chat_user.id) != author
            && chat_user.verified_at.is_some()
            && !chat_user.unread_emails_off
            && chat_user.last_read_seq < seq
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
            .chat_users()
            .claim_notify_check(chat.id, chat_user.id, now, due)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::MessageId;
    use domain::message::{Author, MessageResource, Tombstone};
    use std::borrow::Cow;

    #[test]
    fn the_author_is_the_messages_chat_user() {
        let who = ChatUserId::new();
        let message = MessageResource {
            author: Cow::Owned(Author::Guest {
                id: who,
                name: "Guest".into(),
            }),
            body: Cow::Borrowed("hi"),
            attachments: Cow::Borrowed(&[]),
            chat_id: ChatId::new(),
            chat_user_id: Some(who),
            internal: false,
            created_at: Cow::Borrowed("t"),
            edited_at: None,
            id: MessageId::new(),
            seq: 1,
            updated_at: Cow::Borrowed("t"),
        };
        let event = |change| Event {
            seq: 1,
            chat_id: ChatId::new(),
            at: "t".into(),
            change,
            actor: None,
        };
        assert_eq!(
            author(&event(Change::MessageCreated(message.clone()))),
            Some(Some(who))
        );
        let note = MessageResource {
            internal: true,
            ..message
        };
        assert_eq!(author(&event(Change::MessageCreated(note))), None);
        let deleted = Tombstone::new(MessageId::new(), Some(who));
        assert_eq!(author(&event(Change::MessageDeleted(deleted))), None);
    }
}

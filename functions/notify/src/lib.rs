//! `notify`: the notify queue's jobs, one per (chat, chat user) whose unread messages may
//! have to be emailed. When the job comes due, the chat user gets one email listing the
//! messages it has not read (sender, time, text; oldest first) if it is still verified
//! and subscribed, has no socket open, has had none for the chat's
//! `unread_email_minutes`, and was not emailed within that time either. Nothing goes
//! to the messages' own author, and nothing after the chat user read them.
//!
//! The email links back to the company's widget page (`widget_url`, with the chat id)
//! and carries a one-click unsubscribe (RFC 8058) for this chat user and chat.

// The AWS SDK's futures nest deeply (the keys read is awaited inside the handlers):
// a clean build needs more than the default 128.
#![recursion_limit = "256"]

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use shared::db::chat_users::ChatUserRecord;
use shared::db::chats::ChatRecord;
use shared::db::messages::{MessageRecord, Window};
use shared::db::realtime::Subscriber;
use shared::mail::{Letter, Mailer, message_lines};
use shared::queue::{NotifyJob, Queue, wait_left};
use shared::validate::Email;
use shared::{ApiError, Context, clock};

/// Messages an email lists at most (the newest unread ones).
pub const MAX_LISTED: usize = 50;

pub struct App {
    pub ctx: Context,
    /// `NOTIFY_QUEUE_URL`: where a job that came early goes back.
    pub notifications: Queue,
    pub mailer: Mailer,
    pub public_api_url: String,
}

impl App {
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let (ctx, aws) = Context::from_env().await?;
        let from = ctx.config.require_mail_from()?.to_owned();
        Ok(Self {
            notifications: Queue::from_env(&aws, "NOTIFY_QUEUE_URL")?,
            mailer: Mailer::from_config(&aws, from),
            public_api_url: ctx.config.require_public_api_url()?.to_owned(),
            ctx,
        })
    }
}

pub async fn handle(app: &App, batch: SqsEvent) -> SqsBatchResponse {
    shared::batches::each_message(&batch, async |message| {
        let job: NotifyJob = shared::batches::job(message)?;
        run(app, job).await
    })
    .await
}

/// The unread messages a chat user should hear about: not its own, past its read marker.
pub fn unread_for(chat_user: &ChatUserRecord, newest: Vec<MessageRecord>) -> Vec<MessageRecord> {
    newest
        .into_iter()
        .filter(|m| m.seq > chat_user.last_read_seq && m.chat_user_id != chat_user.id)
        .collect()
}

async fn run(app: &App, job: NotifyJob) -> Result<(), ApiError> {
    let now = clock::now_millis();
    if let Some(wait) = wait_left(job.not_before, now) {
        return app.notifications.send(&job, wait).await;
    }
    let db = &app.ctx.db;
    let Some((chat_user, chat)) = db
        .chat_user_with_chat(job.chat_id, job.chat_user_id)
        .await?
    else {
        return Ok(());
    };
    let window = app
        .ctx
        .config
        .unread_email_delay(chat.unread_email_delay_minutes());
    let window_millis = i64::try_from(window.as_millis()).unwrap_or(i64::MAX / 2);
    if window.is_zero() || chat_user.unread_emails_off || chat_user.verified_at.is_none() {
        return Ok(());
    }
    let online = db
        .chat_connections(chat.id)
        .await?
        .iter()
        .any(|socket| socket.subscriber == Subscriber::ChatUser(chat_user.id));
    if online {
        return Ok(()); // it sees them live; its client moves the read marker
    }
    if let Some(seen) = chat_user.last_seen_at
        && now - seen < window_millis
    {
        // Left only recently: look again once it has been away the whole time.
        let later = NotifyJob {
            not_before: Some(seen + window_millis),
            ..job
        };
        let wait = std::time::Duration::from_millis(
            u64::try_from(seen + window_millis - now).unwrap_or(0),
        );
        return app.notifications.send(&later, wait).await;
    }
    let newest = db
        .list_messages(chat.id, Window::Latest, MAX_LISTED)
        .await?;
    let unread = unread_for(&chat_user, newest.messages);
    if unread.is_empty() {
        return Ok(());
    }
    if !db
        .claim_unread_email(chat.id, chat_user.id, now, window_millis)
        .await?
    {
        return Ok(()); // emailed within the window already
    }
    send(app, &chat, &chat_user, &unread).await
}

async fn send(
    app: &App,
    chat: &ChatRecord,
    chat_user: &ChatUserRecord,
    unread: &[MessageRecord],
) -> Result<(), ApiError> {
    let db = &app.ctx.db;
    let Some(to) = Email::parse(&chat_user.email) else {
        return Ok(());
    };
    let chat_users = db.all_chat_users(chat.id).await?;
    let lines = message_lines(unread, &chat_users);
    let company = db.company(chat.owner_id, chat.company_id).await?;
    let link = company
        .and_then(|c| c.widget_url)
        .map(|page| chat_link(&page, chat));
    let token = app
        .ctx
        .keys()
        .await?
        .unsubscribe_token(&chat.id.to_string(), &chat_user.id.to_string())
        .await?;
    let unsubscribe = format!("{}/api/email/unsubscribe?token={token}", app.public_api_url);
    let letter = Letter::unread_messages(&chat.name, &lines, link.as_deref(), &unsubscribe);
    app.mailer.send(&to, &letter).await
}

/// The company's widget page, opened on this chat.
fn chat_link(page: &str, chat: &ChatRecord) -> String {
    let separator = if page.contains('?') { '&' } else { '?' };
    format!("{page}{separator}chat_id={}", chat.id)
}

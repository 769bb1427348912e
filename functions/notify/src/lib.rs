//! `notify`: the mail queue's jobs. Auth codes to make and mail (see [`codes`]), and
//! one check per (chat, chat user) whose unread messages may have to be emailed. When the job comes due, the chat user gets one email listing the
//! messages it has not read (sender, time, text; oldest first) if it is still verified
//! and subscribed, has no socket open, has had none for the chat's
//! `unread_email_minutes`, and was not emailed within that time either. Nothing goes
//! to the messages' own author, and nothing after the chat user read them.
//!
//! The email links back to the company's widget page (`widget_url`, with the chat id)
//! and carries a one-click unsubscribe (RFC 8058) for this chat user and chat.

mod codes;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::clock;
use domain::jobs::{MailJob, NotifyJob, WakeJob, wait_left};
use domain::message::MessageRecord;
use domain::realtime::Subscriber;
use domain::text::Email;
use edge::Context;
use edge::event_sources::JobError;
use services::mail::{Letter, Mailer, Team, message_lines};
use services::queue::Queue;
use storage::messages::Window;

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
    pub fn from_env() -> Result<Self, lambda_runtime::Error> {
        let (ctx, aws) = Context::from_env()?;
        let from = ctx.config.require_mail_from()?.to_owned();
        Ok(Self {
            notifications: edge::config::queue(&aws, "NOTIFY_QUEUE_URL")?,
            mailer: Mailer::from_config(&aws, from),
            public_api_url: ctx.config.require_public_api_url()?.to_owned(),
            ctx,
        })
    }
}

pub async fn handle(app: &App, batch: SqsEvent) -> SqsBatchResponse {
    edge::event_sources::each_message(&batch, async |message| {
        match edge::event_sources::job::<MailJob>(message)? {
            MailJob::Code(job) => codes::make_and_mail(app, job).await,
            MailJob::Unread(job) => run(app, job).await,
            MailJob::Wake(job) => wake(app, job).await,
        }
    })
    .await
}

/// The unread messages a chat user should hear about: not its own, past its read marker.
pub fn unread_for(chat_user: &ChatUserRecord, newest: Vec<MessageRecord>) -> Vec<MessageRecord> {
    newest
        .into_iter()
        .filter(|m| {
            m.seq > chat_user.last_read_seq && !m.internal && m.chat_user_id != Some(chat_user.id)
        })
        .collect()
}

/// A snoozed conversation comes due: open again, unless its snooze changed since. A job
/// that came early (the queue delays at most 15 minutes) goes back to wait.
async fn wake(app: &App, job: WakeJob) -> Result<(), JobError> {
    if let Some(wait) = wait_left(Some(job.wake_at_ms), clock::now_millis()) {
        return Ok(app.notifications.send(&MailJob::Wake(job), wait).await?);
    }
    if app
        .ctx
        .db
        .conversations()
        .wake(job.chat_id, &job.snoozed_until)
        .await?
    {
        tracing::info!(chat_id = %job.chat_id, "snooze ended");
    }
    Ok(())
}

async fn run(app: &App, job: NotifyJob) -> Result<(), JobError> {
    let now = clock::now_millis();
    if let Some(wait) = wait_left(job.not_before, now) {
        return Ok(app.notifications.send(&job, wait).await?);
    }
    let db = &app.ctx.db;
    let Some((chat_user, chat)) = db
        .chat_users()
        .with_chat(job.chat_id, job.chat_user_id)
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
        .sockets()
        .of_chat(chat.id)
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
        return Ok(app.notifications.send(&later, wait).await?);
    }
    let newest = db
        .messages()
        .page(chat.id, Window::Latest, MAX_LISTED)
        .await?;
    let unread = unread_for(&chat_user, newest.messages);
    let Some(newest_unread) = unread.iter().map(|m| m.seq).max() else {
        return Ok(());
    };
    if !db
        .chat_users()
        .claim_unread_email(chat.id, chat_user.id, newest_unread, now, window_millis)
        .await?
    {
        return Ok(()); // emailed within the window, or these messages were emailed already
    }
    send(app, &chat, &chat_user, &unread).await
}

async fn send(
    app: &App,
    chat: &ChatRecord,
    chat_user: &ChatUserRecord,
    unread: &[MessageRecord],
) -> Result<(), JobError> {
    let db = &app.ctx.db;
    let Some(to) = Email::normalized(&chat_user.email) else {
        return Ok(());
    };
    let chat_users = db.chat_users().all(chat.id).await?;
    let company = db.companies().get(chat.company_id).await?;
    let lines = message_lines(unread, &chat_users, Team::of(company.as_ref()));
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
    Ok(app.mailer.send(&to, &letter).await?)
}

/// The company's widget page, opened on this chat.
fn chat_link(page: &str, chat: &ChatRecord) -> String {
    let separator = if page.contains('?') { '&' } else { '?' };
    format!("{page}{separator}chat_id={}", chat.id)
}

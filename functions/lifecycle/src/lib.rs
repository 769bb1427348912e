//! `lifecycle`: the table's stream, filtered (see `template.yaml`) to the changes whose
//! consequences are too large for the request that made them:
//! - a removed chat item: deleting a chat removes only its chat item (and its company's
//!   count), so the answer does not wait on a chat of any size; this deletes everything
//!   left in the chat's partition (messages, events, chat users, codes);
//! - a removed company item: its partition's members (each one's user item loses its
//!   entry for the company), invitations and webhook endpoints go;
//! - a removed attachment item (its message deleted, its chat purged, its chat user
//!   erased, its TTL: retention, or an upload never attached): both of its objects go
//!   from the bucket (no versioning there, so erased means gone);
//! - a modified company item whose `retention_days` changed: the setting is copied onto
//!   each of the company's chats (up to 10,000), where a post reads it.
//!
//! Resumable by construction: both are idempotent, so work stopped part-way (a timeout,
//! a throttled batch) fails its record, and the stream hands it back to be finished.

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use edge::Context;
use edge::event_sources::JobError;
use storage::Item;
use storage::attachments::attachment_of_keys;
use storage::chats::chat_of_keys;
use storage::companies::{company_of_keys, retention_change};

pub struct App {
    pub ctx: Context,
    /// The attachments' bucket (`FILES_BUCKET`).
    pub files: services::files::Files,
}

impl App {
    pub fn from_env() -> Result<Self, lambda_runtime::Error> {
        // Deletes and copies items: reads no key.
        let (ctx, aws) = Context::from_env_without_keys()?;
        let files = edge::config::files(&aws)?;
        Ok(Self { ctx, files })
    }
}

pub async fn handle(app: &App, batch: StreamEvent) -> DynamoDbEventResponse {
    edge::event_sources::stream_in_order(&batch, async |record| apply(app, record).await).await
}

async fn apply(app: &App, record: &EventRecord) -> Result<(), JobError> {
    match record.event_name.as_str() {
        "REMOVE" => purge(app, record).await,
        "MODIFY" => copy_retention(app, record).await,
        _ => Ok(()),
    }
}

async fn purge(app: &App, record: &EventRecord) -> Result<(), JobError> {
    let keys: Item = record.change.keys.clone().into();
    if let Some((chat_id, attachment)) = attachment_of_keys(&keys) {
        app.files.remove(chat_id, attachment).await?;
        tracing::info!(chat_id = %chat_id, attachment_id = %attachment, "attachment's objects removed");
    } else if let Some(chat_id) = chat_of_keys(&keys) {
        let removed = app.ctx.db.chats().purge(chat_id).await?;
        tracing::info!(chat_id = %chat_id, items = removed, "deleted chat purged");
    } else if let Some(company_id) = company_of_keys(&keys) {
        let removed = app.ctx.db.companies().purge(company_id).await?;
        tracing::info!(company_id = %company_id, items = removed, "deleted company purged");
    }
    Ok(())
}

async fn copy_retention(app: &App, record: &EventRecord) -> Result<(), JobError> {
    let old: Item = record.change.old_image.clone().into();
    let new: Item = record.change.new_image.clone().into();
    // Chat counts and names change company items too: only a new retention matters here.
    let Some(company) = retention_change(old, new)? else {
        return Ok(());
    };
    let chats = app
        .ctx
        .db
        .companies()
        .apply_retention(company.id, company.retention_days)
        .await?;
    tracing::info!(company_id = %company.id, chats, "retention applied to the company's chats");
    Ok(())
}

//! `purge`: the table's DynamoDB stream, filtered (see `template.yaml`) to removed chat
//! items. Deleting a chat removes only its chat item (and its company's count), so the
//! answer does not wait on a chat of any size; this function then deletes everything
//! left in the chat's partition: messages, events, chat users, codes.
//!
//! Resumable by construction: a purge stopped part-way (a timeout, a throttled batch)
//! fails its record, and the stream hands it back; the next run deletes what is left.

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use shared::db::Item;
use shared::db::chats::chat_of_keys;
use shared::{ApiError, Context};

pub struct App {
    pub ctx: Context,
}

impl App {
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        // Deletes items: reads no key.
        let (ctx, _) = Context::from_env_without_keys().await?;
        Ok(Self { ctx })
    }
}

pub async fn handle(app: &App, batch: StreamEvent) -> DynamoDbEventResponse {
    shared::batches::stream_in_order(&batch, async |record| purge(app, record).await).await
}

async fn purge(app: &App, record: &EventRecord) -> Result<(), ApiError> {
    if record.event_name != "REMOVE" {
        return Ok(());
    }
    let keys: Item = record.change.keys.clone().into();
    let Some(chat_id) = chat_of_keys(&keys) else {
        return Ok(());
    };
    let removed = app.ctx.db.purge_chat(chat_id).await?;
    tracing::info!(chat_id = %chat_id, items = removed, "deleted chat purged");
    Ok(())
}

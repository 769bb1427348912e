//! `fanout`: the table's DynamoDB stream, filtered (see `template.yaml`) to new events and
//! removed connections. Each new event goes to every socket of its chat, rendered for
//! whoever holds it (`Event::render`: owners see emails, chat users only their own); a
//! removed chat user's sockets are closed after its `chat_user.removed`; a connection
//! item removed from a chat (chat deleted, socket forgotten) closes that socket.
//!
//! Records are handled in order; the first that fails is reported with the ones after
//! it (see `shared::batches`), so a chat's events never overtake each other.

use std::collections::HashMap;

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use shared::ApiError;
use shared::db::realtime::{self, ConnectionRecord, Subscriber};
use shared::db::{Item, events};
use shared::events::{Event, EventType};
use shared::ids::{ChatId, ChatUserId, EntityId};
use shared::push;

pub use shared::push::PushApp as App;

/// What one stream record asks of the fan-out.
#[derive(Debug, PartialEq)]
pub enum Work {
    Publish(Event),
    Close(ConnectionRecord),
    /// Anything the filter let through that is neither (nothing to do).
    Nothing,
}

/// Reads a stream record.
pub fn work_of(record: &EventRecord) -> Result<Work, ApiError> {
    let image = |image: &serde_dynamo::Item| -> Item { image.clone().into() };
    Ok(match record.event_name.as_str() {
        "INSERT" => match events::event_of_item(image(&record.change.new_image))? {
            Some(event) => Work::Publish(event),
            None => Work::Nothing,
        },
        "REMOVE" => realtime::removed_connection(image(&record.change.old_image))
            .map_or(Work::Nothing, Work::Close),
        _ => Work::Nothing,
    })
}

/// The sockets of each chat seen in one batch: a busy chat's events share one Query.
type Sockets = HashMap<ChatId, Vec<ConnectionRecord>>;

pub async fn handle(app: &App, batch: StreamEvent) -> DynamoDbEventResponse {
    let mut sockets = Sockets::new();
    shared::batches::stream_in_order(&batch, async |record| {
        perform(app, work_of(record)?, &mut sockets).await
    })
    .await
}

async fn perform(app: &App, work: Work, sockets: &mut Sockets) -> Result<(), ApiError> {
    match work {
        Work::Publish(event) => publish(app, &event, sockets).await,
        Work::Close(connection) => {
            app.pusher.close(&connection.connection_id).await?;
            Ok(())
        }
        Work::Nothing => Ok(()),
    }
}

/// Sends `event` to the chat's sockets; after a `chat_user.removed`, that chat user's
/// sockets are closed.
async fn publish(app: &App, event: &Event, sockets: &mut Sockets) -> Result<(), ApiError> {
    let db = &app.ctx.db;
    let chat_sockets = match sockets.remove(&event.chat_id) {
        Some(known) => known,
        None => db.chat_connections(event.chat_id).await?,
    };
    // Boxed: the nested futures of a broadcast would otherwise make every caller's future
    // type deep enough to overflow the compiler's query depth on a clean build.
    Box::pin(push::broadcast(&app.pusher, db, &chat_sockets, |socket| {
        Some(event.render(socket.subscriber.audience()))
    }))
    .await?;
    let (closing, staying): (Vec<_>, Vec<_>) = chat_sockets.into_iter().partition(|socket| {
        removed_chat_user(event).is_some_and(|gone| socket.subscriber == Subscriber::ChatUser(gone))
    });
    for socket in &closing {
        // Forgetting the item closes the socket (its REMOVE comes back here).
        db.forget_connection(socket).await?;
    }
    sockets.insert(event.chat_id, staying);
    Ok(())
}

fn removed_chat_user(event: &Event) -> Option<ChatUserId> {
    (event.kind == EventType::ChatUserRemoved)
        .then(|| event.data["id"].as_str().and_then(ChatUserId::parse))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_removal_names_the_chat_user_to_disconnect() {
        let gone = ChatUserId::new();
        let event = |kind| Event {
            seq: 3,
            kind,
            chat_id: ChatId::new(),
            at: "t".into(),
            data: json!({ "id": gone, "name": "Ann" }),
        };
        assert_eq!(
            removed_chat_user(&event(EventType::ChatUserRemoved)),
            Some(gone)
        );
        assert_eq!(removed_chat_user(&event(EventType::ChatUserUpdated)), None);
    }

    #[test]
    fn stream_records_become_work() {
        let record: EventRecord = serde_json::from_value(json!({
            "eventID": "1", "eventName": "MODIFY", "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1795655936,
                "Keys": {"PK": {"S": "CHAT#X"}, "SK": {"S": "CHAT"}},
                "SequenceNumber": "1", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        }))
        .unwrap();
        assert_eq!(work_of(&record).unwrap(), Work::Nothing);
    }
}

//! `fanout`: the table's DynamoDB stream, filtered (see `template.yaml`) to new events and
//! removed connections. Each new event goes to every socket of its chat, rendered for
//! whoever holds it (`Event::render`: owners see emails, chat users only their own); a
//! removed chat user's sockets are closed after its `chat_user.removed`; a connection
//! item removed from a chat (chat deleted, socket forgotten) closes that socket.
//!
//! Records are handled in order; the first that fails is reported with the ones after
//! it (see the edge's `event_sources`), so a chat's events never overtake each other.

use std::collections::HashMap;

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::events::{Change, Event};
use domain::ids::{ChatId, ChatUserId};
use domain::realtime::{ConnectionRecord, Subscriber};
use edge::event_sources::JobError;
use storage::{Item, log, sockets};

pub use edge::live::PushApp as App;

/// What one stream record asks of the fan-out.
#[derive(Debug, PartialEq)]
pub enum Work {
    Publish(Event),
    Close(ConnectionRecord),
    /// Anything the filter let through that is neither (nothing to do).
    Nothing,
}

/// Reads a stream record.
pub fn work_of(record: &EventRecord) -> Result<Work, JobError> {
    let image = |image: &serde_dynamo::Item| -> Item { image.clone().into() };
    Ok(match record.event_name.as_str() {
        "INSERT" => match log::event_of_item(image(&record.change.new_image))? {
            Some(event) => Work::Publish(event),
            None => Work::Nothing,
        },
        "REMOVE" => sockets::removed_connection(image(&record.change.old_image))
            .map_or(Work::Nothing, Work::Close),
        _ => Work::Nothing,
    })
}

/// The sockets of each chat seen in one batch: a busy chat's events share one Query.
type SeenSockets = HashMap<ChatId, Vec<ConnectionRecord>>;

pub async fn handle(app: &App, batch: StreamEvent) -> DynamoDbEventResponse {
    let mut sockets = SeenSockets::new();
    edge::event_sources::stream_in_order(&batch, async |record| {
        perform(app, work_of(record)?, &mut sockets).await
    })
    .await
}

async fn perform(app: &App, work: Work, sockets: &mut SeenSockets) -> Result<(), JobError> {
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
async fn publish(app: &App, event: &Event, sockets: &mut SeenSockets) -> Result<(), JobError> {
    let table = app.ctx.db.sockets();
    let chat_sockets = match sockets.remove(&event.chat_id) {
        Some(known) => known,
        None => table.of_chat(event.chat_id).await?,
    };
    app.broadcast(&chat_sockets, |socket| {
        Some(event.render(socket.subscriber.audience()))
    })
    .await?;
    let (closing, staying): (Vec<_>, Vec<_>) = chat_sockets.into_iter().partition(|socket| {
        removed_chat_user(event).is_some_and(|gone| socket.subscriber == Subscriber::ChatUser(gone))
    });
    for socket in &closing {
        // Forgetting the item closes the socket (its REMOVE comes back here).
        table.forget(socket).await?;
    }
    sockets.insert(event.chat_id, staying);
    Ok(())
}

fn removed_chat_user(event: &Event) -> Option<ChatUserId> {
    match &event.change {
        Change::ChatUserRemoved(chat_user) => Some(chat_user.id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::chat_user::ChatUserResource;
    use serde_json::json;
    use std::borrow::Cow;

    #[test]
    fn a_removal_names_the_chat_user_to_disconnect() {
        let gone = ChatUserId::new();
        let chat_user = ChatUserResource {
            chat_id: ChatId::new(),
            created_at: Cow::Borrowed("t"),
            email: None,
            id: gone,
            last_read_seq: Some(0),
            name: Cow::Borrowed("Ann"),
            unread_emails: Some(true),
            updated_at: Cow::Borrowed("t"),
            verified_at: None,
        };
        let event = |change| Event {
            seq: 3,
            chat_id: ChatId::new(),
            at: "t".into(),
            change,
            actor: None,
        };
        assert_eq!(
            removed_chat_user(&event(Change::ChatUserRemoved(chat_user.clone()))),
            Some(gone)
        );
        assert_eq!(
            removed_chat_user(&event(Change::ChatUserUpdated(chat_user))),
            None
        );
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

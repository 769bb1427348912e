//! `fanout`: the table's DynamoDB stream, filtered (see `template.yaml`) to new events and
//! removed connections. Each new event goes to every socket of its chat, rendered for
//! whoever holds it (`Event::render`: owners see emails, chat users only their own); a
//! removed chat user's sockets are closed after its `chat_user.removed`; a connection
//! item removed from a chat (chat deleted, socket forgotten) closes that socket.
//!
//! Each new event also goes to the team sockets of the chat's company whose member sees
//! the chat, rendered as members see them. An event names only its chat: the chat item
//! (its company and assignee) is read once per chat per batch, the company's team
//! sockets once per company per batch. A team socket item removed (member removed or
//! changed, token deleted, socket forgotten) closes that socket.
//!
//! Records are handled in order; the first that fails is reported with the ones after
//! it (see the edge's `event_sources`), so a chat's events never overtake each other.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::chat::ChatRecord;
use domain::events::{Audience, Change, Event};
use domain::ids::{ChatId, ChatUserId, CompanyId};
use domain::realtime::{ConnectionRecord, Subscriber, TeamSocketRecord};
use edge::event_sources::JobError;
use storage::{Item, log, sockets};

pub use edge::live::PushApp as App;

/// What one stream record asks of the fan-out.
#[derive(Debug, PartialEq)]
pub enum Work {
    Publish(Event),
    Close(ConnectionRecord),
    CloseTeam(TeamSocketRecord),
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
        "REMOVE" => {
            let old = image(&record.change.old_image);
            match sockets::removed_connection(old.clone()) {
                Some(connection) => Work::Close(connection),
                None => sockets::removed_team_socket(old).map_or(Work::Nothing, Work::CloseTeam),
            }
        }
        _ => Work::Nothing,
    })
}

/// The sockets of each chat seen in one batch: a busy chat's events share one Query.
type SeenSockets = HashMap<ChatId, Vec<ConnectionRecord>>;

/// What one batch learnt about chats and companies: each chat item read once (`None`:
/// gone), each company's team sockets queried once.
#[derive(Default)]
struct SeenTeams {
    chats: HashMap<ChatId, Option<ChatRecord>>,
    sockets: HashMap<CompanyId, Vec<TeamSocketRecord>>,
}

pub async fn handle(app: &App, batch: StreamEvent) -> DynamoDbEventResponse {
    let mut sockets = SeenSockets::new();
    let mut teams = SeenTeams::default();
    edge::event_sources::stream_in_order(&batch, async |record| {
        perform(app, work_of(record)?, &mut sockets, &mut teams).await
    })
    .await
}

async fn perform(
    app: &App,
    work: Work,
    sockets: &mut SeenSockets,
    teams: &mut SeenTeams,
) -> Result<(), JobError> {
    match work {
        Work::Publish(event) => {
            publish(app, &event, sockets).await?;
            publish_to_team(app, &event, teams).await
        }
        Work::Close(connection) => {
            app.pusher.close(&connection.connection_id).await?;
            Ok(())
        }
        Work::CloseTeam(socket) => {
            app.pusher.close(&socket.connection_id).await?;
            Ok(())
        }
        Work::Nothing => Ok(()),
    }
}

/// Sends `event` to the team sockets of its chat's company that see the chat, as
/// members see it (notes and members-only events included).
async fn publish_to_team(app: &App, event: &Event, teams: &mut SeenTeams) -> Result<(), JobError> {
    let db = &app.ctx.db;
    let chat = match teams.chats.get(&event.chat_id) {
        Some(known) => known.clone(),
        None => {
            let chat = db.chats().get(event.chat_id).await?;
            teams.chats.insert(event.chat_id, chat.clone());
            chat
        }
    };
    // A chat deleted since has no team left to tell.
    let Some(chat) = chat else { return Ok(()) };
    let team = match teams.sockets.entry(chat.company_id) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(unknown) => unknown.insert(db.sockets().of_company(chat.company_id).await?),
    };
    app.broadcast_team(team, |socket| {
        socket
            .sees_chat(&chat)
            .then(|| event.render(Audience::Owner))
    })
    .await?;
    Ok(())
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
        // A chat user's socket never gets a note or a members-only event.
        let audience = socket.subscriber.audience();
        event.shown_to(audience).then(|| event.render(audience))
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

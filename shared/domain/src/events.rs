//! The per-chat event log: what changed in a conversation, in a dense order (`seq` 1, 2,
//! 3, … per chat, no gaps, no repeats). The log is the truth clients resume from
//! (`GET /api/chats/{id}/events?after=<seq>`); WebSocket frames and webhooks are the
//! same events, pushed.
//!
//! An event is a [`Change`]: one variant per event type, each carrying the typed resource
//! it is about, stored as operators see it. [`Event::render`] is the one place that
//! decides what a chat user may see of it: no other chat user's email, anywhere. On the
//! wire (and in the table) an event is `{at, chat_id, data, seq, type}`, and, when a member
//! of the company caused it, `actor: {type: "user", id, name}` (shown to members and
//! webhooks, never to chat users).

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::chat::ChatResource;
use crate::chat_user::ChatUserResource;
use crate::ids::{ChatId, ChatUserId, UserId};
use crate::message::{MessageResource, Tombstone};

/// The highest `seq` a chat's log can reach (its keys hold 12 digits): also the highest
/// `after` a client may name.
pub const MAX_SEQ: u64 = 999_999_999_999;

/// The event types, by their dotted names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    MessageCreated,
    MessageUpdated,
    /// A tombstone: the message id and who deleted it.
    MessageDeleted,
    /// Created by the owner, or verified for the first time after joining by email.
    ChatUserJoined,
    ChatUserUpdated,
    ChatUserRemoved,
    ChatUpdated,
    ReadUpdated,
    /// A conversation's assignee changed (members only).
    ChatAssigned,
    /// A conversation's status changed (members; a guest sees it as a `chat.updated`
    /// with the new status only).
    ChatStatusChanged,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::MessageCreated,
        EventType::MessageUpdated,
        EventType::MessageDeleted,
        EventType::ChatUserJoined,
        EventType::ChatUserUpdated,
        EventType::ChatUserRemoved,
        EventType::ChatUpdated,
        EventType::ReadUpdated,
        EventType::ChatAssigned,
        EventType::ChatStatusChanged,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EventType::MessageCreated => "message.created",
            EventType::MessageUpdated => "message.updated",
            EventType::MessageDeleted => "message.deleted",
            EventType::ChatUserJoined => "chat_user.joined",
            EventType::ChatUserUpdated => "chat_user.updated",
            EventType::ChatUserRemoved => "chat_user.removed",
            EventType::ChatUpdated => "chat.updated",
            EventType::ReadUpdated => "read.updated",
            EventType::ChatAssigned => "chat.assigned",
            EventType::ChatStatusChanged => "chat.status_changed",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Self::from_name(&name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, &EVENT_TYPE_NAMES))
    }
}

const EVENT_TYPE_NAMES: [&str; 10] = [
    "message.created",
    "message.updated",
    "message.deleted",
    "chat_user.joined",
    "chat_user.updated",
    "chat_user.removed",
    "chat.updated",
    "read.updated",
    "chat.assigned",
    "chat.status_changed",
];

/// What an event says happened: its type, with the typed resource it carries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Change {
    #[serde(rename = "message.created")]
    MessageCreated(MessageResource<'static>),
    #[serde(rename = "message.updated")]
    MessageUpdated(MessageResource<'static>),
    #[serde(rename = "message.deleted")]
    MessageDeleted(Tombstone),
    #[serde(rename = "chat_user.joined")]
    ChatUserJoined(ChatUserResource<'static>),
    #[serde(rename = "chat_user.updated")]
    ChatUserUpdated(ChatUserResource<'static>),
    #[serde(rename = "chat_user.removed")]
    ChatUserRemoved(ChatUserResource<'static>),
    #[serde(rename = "chat.updated")]
    ChatUpdated(ChatResource<'static>),
    #[serde(rename = "read.updated")]
    ReadUpdated(ReadMarker),
    #[serde(rename = "chat.assigned")]
    ChatAssigned(ChatResource<'static>),
    #[serde(rename = "chat.status_changed")]
    ChatStatusChanged(ChatResource<'static>),
}

/// What a guest sees of a status change.
#[derive(Serialize)]
struct StatusOnly {
    id: ChatId,
    status: Option<crate::chat::ConversationStatus>,
}

/// A chat user's read marker moved (`read.updated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMarker {
    pub chat_user_id: ChatUserId,
    pub last_read_seq: u64,
}

impl Change {
    pub fn kind(&self) -> EventType {
        match self {
            Change::MessageCreated(_) => EventType::MessageCreated,
            Change::MessageUpdated(_) => EventType::MessageUpdated,
            Change::MessageDeleted(_) => EventType::MessageDeleted,
            Change::ChatUserJoined(_) => EventType::ChatUserJoined,
            Change::ChatUserUpdated(_) => EventType::ChatUserUpdated,
            Change::ChatUserRemoved(_) => EventType::ChatUserRemoved,
            Change::ChatUpdated(_) => EventType::ChatUpdated,
            Change::ReadUpdated(_) => EventType::ReadUpdated,
            Change::ChatAssigned(_) => EventType::ChatAssigned,
            Change::ChatStatusChanged(_) => EventType::ChatStatusChanged,
        }
    }

    /// Whether `audience` sees this change at all: a chat user sees no note (nor a
    /// note's edit or deletion) and no assignment. The one place that keeps members-only
    /// events off every guest surface (lists, sockets, emails, transcripts).
    pub fn shown_to(&self, audience: Audience) -> bool {
        match (audience, self) {
            (Audience::Owner, _) => true,
            (Audience::ChatUser(_), Change::MessageCreated(m) | Change::MessageUpdated(m)) => {
                !m.internal
            }
            (Audience::ChatUser(_), Change::MessageDeleted(tombstone)) => !tombstone.internal,
            (Audience::ChatUser(_), Change::ChatAssigned(_)) => false,
            (Audience::ChatUser(_), _) => true,
        }
    }

    /// Its type as `audience` sees it: a guest sees a status change as `chat.updated`.
    fn kind_for(&self, audience: Audience) -> EventType {
        match (audience, self) {
            (Audience::ChatUser(_), Change::ChatStatusChanged(_)) => EventType::ChatUpdated,
            _ => self.kind(),
        }
    }

    /// The chat user a `chat_user.*` event is about.
    pub fn chat_user(&self) -> Option<&ChatUserResource<'static>> {
        match self {
            Change::ChatUserJoined(user)
            | Change::ChatUserUpdated(user)
            | Change::ChatUserRemoved(user) => Some(user),
            _ => None,
        }
    }

    /// Its `data`, as `audience` may see it.
    fn serialize_data<S: SerializeStruct>(
        &self,
        out: &mut S,
        audience: Audience,
    ) -> Result<(), S::Error> {
        const DATA: &str = "data";
        match self {
            Change::MessageCreated(message) | Change::MessageUpdated(message) => {
                out.serialize_field(DATA, message)
            }
            Change::MessageDeleted(tombstone) => out.serialize_field(DATA, tombstone),
            Change::ChatUserJoined(user)
            | Change::ChatUserUpdated(user)
            | Change::ChatUserRemoved(user) => match audience {
                Audience::ChatUser(viewer) if viewer != user.id => {
                    let redacted = ChatUserResource {
                        email: None,
                        ..user.clone()
                    };
                    out.serialize_field(DATA, &redacted)
                }
                _ => out.serialize_field(DATA, user),
            },
            Change::ChatUpdated(chat) | Change::ChatAssigned(chat) => match audience {
                Audience::ChatUser(_) => out.serialize_field(DATA, &chat.for_guest()),
                Audience::Owner => out.serialize_field(DATA, chat),
            },
            Change::ChatStatusChanged(chat) => match audience {
                Audience::ChatUser(_) => out.serialize_field(
                    DATA,
                    &StatusOnly {
                        id: chat.id,
                        status: chat.status,
                    },
                ),
                Audience::Owner => out.serialize_field(DATA, chat),
            },
            Change::ReadUpdated(marker) => out.serialize_field(DATA, marker),
        }
    }
}

/// One event of a chat's log, as stored and as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub seq: u64,
    pub chat_id: ChatId,
    pub at: String,
    pub change: Change,
    /// The company's member who caused it, if one did.
    pub actor: Option<Actor>,
}

/// A member of the company who caused an event, by name (as it was then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Always `user` (a company's member).
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: UserId,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    User,
}

impl Actor {
    pub fn user(id: UserId, name: &str) -> Self {
        Self {
            kind: ActorKind::User,
            id,
            name: name.to_owned(),
        }
    }
}

/// Who an event is shown to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The chat's owner (API token): sees everything.
    Owner,
    /// A chat user of the chat: sees emails only of itself.
    ChatUser(ChatUserId),
}

/// An event as one audience sees it: `{at, chat_id, data, seq, type}`.
#[derive(Debug, Clone, Copy)]
pub struct Rendered<'a> {
    event: &'a Event,
    audience: Audience,
}

impl Event {
    pub fn kind(&self) -> EventType {
        self.change.kind()
    }

    /// Whether `audience` sees this event at all (see [`Change::shown_to`]).
    pub fn shown_to(&self, audience: Audience) -> bool {
        self.change.shown_to(audience)
    }

    /// The event as `audience` may see it.
    pub fn render(&self, audience: Audience) -> Rendered<'_> {
        Rendered {
            event: self,
            audience,
        }
    }

    fn serialize_as<S: Serializer>(
        &self,
        serializer: S,
        audience: Audience,
    ) -> Result<S::Ok, S::Error> {
        // Fields in the order the API has always written them (alphabetical). Chat users
        // see no member's id or name but a message author's.
        let actor = self
            .actor
            .as_ref()
            .filter(|_| matches!(audience, Audience::Owner));
        let mut out = serializer.serialize_struct("Event", 5 + usize::from(actor.is_some()))?;
        if let Some(actor) = actor {
            out.serialize_field("actor", actor)?;
        }
        out.serialize_field("at", &self.at)?;
        out.serialize_field("chat_id", &self.chat_id)?;
        self.change.serialize_data(&mut out, audience)?;
        out.serialize_field("seq", &self.seq)?;
        out.serialize_field("type", &self.change.kind_for(audience))?;
        out.end()
    }
}

impl Serialize for Rendered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.event.serialize_as(serializer, self.audience)
    }
}

/// As stored: what operators see.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_as(serializer, Audience::Owner)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            seq: u64,
            chat_id: ChatId,
            at: String,
            #[serde(flatten)]
            change: Change,
            #[serde(default)]
            actor: Option<Actor>,
        }
        let stored = Stored::deserialize(deserializer)?;
        Ok(Event {
            seq: stored.seq,
            chat_id: stored.chat_id,
            at: stored.at,
            change: stored.change,
            actor: stored.actor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MessageId;
    use serde_json::{Value, json};
    use std::borrow::Cow;

    fn chat_user(id: ChatUserId) -> ChatUserResource<'static> {
        ChatUserResource {
            chat_id: ChatId::new(),
            created_at: Cow::Borrowed("2026-11-26T00:00:00.000Z"),
            email: Some(Cow::Borrowed("someone@example.com")),
            id,
            last_read_seq: Some(0),
            name: Cow::Borrowed("X"),
            unread_emails: Some(true),
            updated_at: Cow::Borrowed("2026-11-26T00:00:00.000Z"),
            verified_at: None,
        }
    }

    fn event(change: Change) -> Event {
        Event {
            seq: 7,
            chat_id: ChatId::new(),
            at: "2026-11-26T00:00:00.000Z".into(),
            change,
            actor: None,
        }
    }

    /// The redaction rule, on every event about a chat user: a chat user never sees
    /// another chat user's email; the owner and the chat user itself do.
    #[test]
    fn no_chat_user_sees_another_ones_email_in_any_event() {
        let (me, other) = (ChatUserId::new(), ChatUserId::new());
        let kinds: [fn(ChatUserResource<'static>) -> Change; 3] = [
            Change::ChatUserJoined,
            Change::ChatUserUpdated,
            Change::ChatUserRemoved,
        ];
        for kind in kinds {
            for (subject, viewer, sees) in [
                (other, Audience::ChatUser(me), false),
                (me, Audience::ChatUser(me), true),
                (other, Audience::Owner, true),
            ] {
                let event = event(kind(chat_user(subject)));
                let shown = serde_json::to_value(event.render(viewer)).unwrap();
                let text = shown.to_string();
                assert_eq!(
                    text.contains("someone@example.com"),
                    sees,
                    "{:?} shown to {viewer:?}: {text}",
                    event.kind()
                );
                assert_eq!(shown["seq"], 7);
                assert_eq!(shown["type"], event.kind().name());
            }
        }
    }

    #[test]
    fn types_have_their_dotted_names() {
        assert_eq!(
            serde_json::to_value(EventType::ChatUserJoined).unwrap(),
            "chat_user.joined"
        );
        assert_eq!(
            serde_json::to_value(EventType::ReadUpdated).unwrap(),
            "read.updated"
        );
        for kind in EventType::ALL {
            let name = serde_json::to_value(kind).unwrap();
            assert_eq!(serde_json::from_value::<EventType>(name).unwrap(), kind);
        }
    }

    #[test]
    fn an_event_reads_back_as_it_was_written_in_the_wire_order() {
        let marker = ReadMarker {
            chat_user_id: ChatUserId::new(),
            last_read_seq: 3,
        };
        let written = event(Change::ReadUpdated(marker));
        let text = serde_json::to_string(&written).unwrap();
        let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&text)
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["at", "chat_id", "data", "seq", "type"]);
        assert!(text.starts_with("{\"at\":"), "{text}");
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), written);
        let tombstone = event(Change::MessageDeleted(Tombstone::new(
            MessageId::new(),
            None,
        )));
        let value = serde_json::to_value(&tombstone).unwrap();
        assert_eq!(value["data"]["deleted_by"], json!("owner"));
        assert_eq!(serde_json::from_value::<Event>(value).unwrap(), tombstone);
    }
}

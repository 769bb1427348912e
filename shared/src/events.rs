//! The per-chat event log: what changed in a conversation, in a dense order (`seq` 1, 2,
//! 3, … per chat, no gaps, no repeats). The log is the truth clients resume from
//! (`GET /api/chats/{id}/events?after=<seq>`); WebSocket frames and webhooks are the
//! same events, pushed.
//!
//! An event is written in the same transaction as the change it records (see
//! `db::events`), and stored as operators see it. [`Event::render`] is the one place that
//! decides what a chat user may see of it: no other chat user's email, anywhere.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ids::{ChatId, ChatUserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "message.updated")]
    MessageUpdated,
    /// A tombstone: the message id and who deleted it.
    #[serde(rename = "message.deleted")]
    MessageDeleted,
    /// Created by the owner, or verified for the first time after joining by email.
    #[serde(rename = "chat_user.joined")]
    ChatUserJoined,
    #[serde(rename = "chat_user.updated")]
    ChatUserUpdated,
    #[serde(rename = "chat_user.removed")]
    ChatUserRemoved,
    #[serde(rename = "chat.updated")]
    ChatUpdated,
    #[serde(rename = "read.updated")]
    ReadUpdated,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::MessageCreated,
        EventType::MessageUpdated,
        EventType::MessageDeleted,
        EventType::ChatUserJoined,
        EventType::ChatUserUpdated,
        EventType::ChatUserRemoved,
        EventType::ChatUpdated,
        EventType::ReadUpdated,
    ];

    /// Whether `data` is a chat user (whose email only some audiences see).
    fn is_about_a_chat_user(self) -> bool {
        matches!(
            self,
            EventType::ChatUserJoined | EventType::ChatUserUpdated | EventType::ChatUserRemoved
        )
    }
}

/// One event of a chat's log, as stored and as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub chat_id: ChatId,
    pub at: String,
    pub data: Value,
}

/// Who an event is shown to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The chat's owner (API token): sees everything.
    Owner,
    /// A chat user of the chat: sees emails only of itself.
    ChatUser(ChatUserId),
}

impl Event {
    /// The event as `audience` may see it: `{seq, type, chat_id, at, data}`.
    pub fn render(&self, audience: Audience) -> Value {
        let mut data = self.data.clone();
        if let (Audience::ChatUser(viewer), true) = (audience, self.kind.is_about_a_chat_user()) {
            let is_viewer = data["id"].as_str() == Some(viewer.to_string().as_str());
            if !is_viewer && let Some(fields) = data.as_object_mut() {
                fields.remove("email");
            }
        }
        json!({
            "seq": self.seq,
            "type": self.kind,
            "chat_id": self.chat_id,
            "at": self.at,
            "data": data,
        })
    }
}

/// Who deleted a message, for its tombstone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedBy {
    Author(ChatUserId),
    Owner,
}

impl DeletedBy {
    pub fn tombstone(self, message_id: impl Serialize) -> Value {
        match self {
            DeletedBy::Author(chat_user) => {
                json!({ "id": message_id, "deleted_by": "chat_user", "chat_user_id": chat_user })
            }
            DeletedBy::Owner => json!({ "id": message_id, "deleted_by": "owner" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventType, data: Value) -> Event {
        Event {
            seq: 7,
            kind,
            chat_id: ChatId::new(),
            at: "2026-11-26T00:00:00.000Z".into(),
            data,
        }
    }

    /// The redaction rule, on every event type: a chat user never sees another chat
    /// user's email; the owner and the chat user itself do.
    #[test]
    fn no_chat_user_sees_another_ones_email_in_any_event() {
        let (me, other) = (ChatUserId::new(), ChatUserId::new());
        for kind in EventType::ALL {
            for (subject, viewer, sees) in [
                (other, Audience::ChatUser(me), false),
                (me, Audience::ChatUser(me), true),
                (other, Audience::Owner, true),
            ] {
                let data = json!({ "id": subject, "email": "someone@example.com", "name": "X" });
                let shown = event(kind, data).render(viewer);
                let text = shown.to_string();
                let about_chat_user = kind.is_about_a_chat_user();
                assert_eq!(
                    text.contains("someone@example.com"),
                    sees || !about_chat_user,
                    "{kind:?} shown to {viewer:?}: {text}"
                );
                assert_eq!(shown["seq"], 7);
                assert_eq!(shown["type"], serde_json::to_value(kind).unwrap());
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
    }
}

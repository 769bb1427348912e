//! Messages of a chat, in the order their ids become visible (see storage's `messages`).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ChatUserId, MessageId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: MessageId,
    /// The `seq` of its `message.created` event: a read marker at or past it has seen it.
    #[serde(default)]
    pub seq: u64,
    pub chat_id: ChatId,
    pub chat_user_id: ChatUserId,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The `seq`s of its `message.updated` events: with `seq`, the events an edit or a
    /// delete rewrites (see storage's `message_changes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edit_seqs: Vec<u64>,
}

/// Edits one message may have: each rewrites the earlier ones in the same transaction.
pub const MAX_EDITS: usize = 50;

/// A message as the API shows it: in answers, in the list, and in `message.*` events,
/// webhooks and sockets. Borrowed where it is read from a record (the list is the
/// hottest read: no copies), owned where an event carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageResource<'a> {
    pub body: Cow<'a, str>,
    pub chat_id: ChatId,
    pub chat_user_id: ChatUserId,
    pub created_at: Cow<'a, str>,
    pub edited_at: Option<Cow<'a, str>>,
    pub id: MessageId,
    #[serde(default)]
    pub seq: u64,
    pub updated_at: Cow<'a, str>,
}

impl MessageRecord {
    pub fn resource(&self) -> MessageResource<'_> {
        MessageResource {
            body: Cow::Borrowed(&self.body),
            chat_id: self.chat_id,
            chat_user_id: self.chat_user_id,
            created_at: Cow::Borrowed(&self.created_at),
            edited_at: self.edited_at.as_deref().map(Cow::Borrowed),
            id: self.id,
            seq: self.seq,
            updated_at: Cow::Borrowed(&self.updated_at),
        }
    }
}

impl MessageResource<'_> {
    pub fn into_owned(self) -> MessageResource<'static> {
        MessageResource {
            body: Cow::Owned(self.body.into_owned()),
            created_at: Cow::Owned(self.created_at.into_owned()),
            edited_at: self.edited_at.map(|t| Cow::Owned(t.into_owned())),
            updated_at: Cow::Owned(self.updated_at.into_owned()),
            ..self
        }
    }
}

/// What a deleted message leaves in the log: its id, and who deleted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_user_id: Option<ChatUserId>,
    pub deleted_by: DeletedBy,
    pub id: MessageId,
}

/// Who deleted a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletedBy {
    /// Its author (the tombstone names it).
    ChatUser,
    Owner,
}

impl Tombstone {
    /// The tombstone of `message`, deleted by its author (`Some`) or the owner (`None`).
    pub fn new(message: MessageId, author: Option<ChatUserId>) -> Self {
        Self {
            chat_user_id: author,
            deleted_by: match author {
                Some(_) => DeletedBy::ChatUser,
                None => DeletedBy::Owner,
            },
            id: message,
        }
    }
}

/// How many messages one chat user may send a minute is a [`crate::rate_limit::Limit`]
/// named this (`MESSAGES_PER_MINUTE`): counted per chat user in a fixed one-minute
/// window, so a burst of that many goes through and the next waits for the window's end.
pub fn sending_rate(per_minute: u32) -> crate::rate_limit::Limit {
    crate::rate_limit::Limit {
        name: "messages",
        max: per_minute,
        window_ms: 60_000,
    }
}

/// The most messages an unread count looks at (and so its cap).
pub const UNREAD_WINDOW: usize = 100;

/// How many of `newest` were written by others after `last_read_seq`.
pub fn count_unread(newest: &[MessageRecord], reader: ChatUserId, last_read_seq: u64) -> u32 {
    let unread = newest
        .iter()
        .filter(|m| m.seq > last_read_seq && m.chat_user_id != reader)
        .count();
    u32::try_from(unread).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(author: ChatUserId, seq: u64) -> MessageRecord {
        MessageRecord {
            id: MessageId::new(),
            seq,
            chat_id: ChatId::new(),
            chat_user_id: author,
            body: "x".into(),
            created_at: "t".into(),
            updated_at: "t".into(),
            edited_at: None,
            client_id: None,
            edit_seqs: vec![],
        }
    }

    #[test]
    fn unread_counts_only_others_messages_after_the_marker() {
        let (me, other) = (ChatUserId::new(), ChatUserId::new());
        let newest = [
            message(other, 3),
            message(me, 4),
            message(other, 5),
            message(other, 7),
        ];
        assert_eq!(count_unread(&newest, me, 0), 3);
        assert_eq!(count_unread(&newest, me, 4), 2);
        assert_eq!(count_unread(&newest, me, 7), 0);
    }

    #[test]
    fn tombstones_name_the_author_or_the_owner() {
        let (id, author) = (MessageId::new(), ChatUserId::new());
        let by_author = serde_json::to_value(Tombstone::new(id, Some(author))).unwrap();
        assert_eq!(
            by_author,
            serde_json::json!({ "id": id, "deleted_by": "chat_user", "chat_user_id": author })
        );
        let by_owner = serde_json::to_value(Tombstone::new(id, None)).unwrap();
        assert_eq!(
            by_owner,
            serde_json::json!({ "id": id, "deleted_by": "owner" })
        );
    }
}

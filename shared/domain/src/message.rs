//! Messages of a chat, in the order their ids become visible (see storage's `messages`).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::attachment::Attachment;
use crate::ids::{ChatId, ChatUserId, MessageId, UserId};

/// Who wrote a message: a chat user of the chat (`guest`) or a member of the company
/// (`staff`), with the name it had then (an erasure rewrites a guest's). On the wire
/// `{id, name, type}`, keys in the API's alphabetical order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Author {
    Guest { id: ChatUserId, name: String },
    Staff { id: UserId, name: String },
}

impl Serialize for Author {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Author", 3)?;
        match self {
            Author::Guest { id, name } => {
                out.serialize_field("id", id)?;
                out.serialize_field("name", name)?;
                out.serialize_field("type", "guest")?;
            }
            Author::Staff { id, name } => {
                out.serialize_field("id", id)?;
                out.serialize_field("name", name)?;
                out.serialize_field("type", "staff")?;
            }
        }
        out.end()
    }
}

impl Author {
    pub fn name(&self) -> &str {
        match self {
            Author::Guest { name, .. } | Author::Staff { name, .. } => name,
        }
    }

    pub fn guest(&self) -> Option<ChatUserId> {
        match self {
            Author::Guest { id, .. } => Some(*id),
            Author::Staff { .. } => None,
        }
    }

    pub fn staff(&self) -> Option<UserId> {
        match self {
            Author::Staff { id, .. } => Some(*id),
            Author::Guest { .. } => None,
        }
    }

    /// The key its sending rate and client ids are kept under in a chat.
    pub fn key(&self) -> String {
        match self {
            Author::Guest { id, .. } => id.to_string(),
            Author::Staff { id, .. } => format!("staff#{id}"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: MessageId,
    /// The `seq` of its `message.created` event: a read marker at or past it has seen it.
    #[serde(default)]
    pub seq: u64,
    pub chat_id: ChatId,
    /// The guest who wrote it; `None` for a member's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_user_id: Option<ChatUserId>,
    /// Who wrote it (absent on messages from before staff could post: their
    /// `chat_user_id`'s, named at read time as "a guest").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    /// A note: members only, never shown to a chat user.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
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
    /// The files it carries (checked and copied before it was posted), as shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// Edits one message may have: each rewrites the earlier ones in the same transaction.
pub const MAX_EDITS: usize = 50;

/// A message as the API shows it: in answers, in the list, and in `message.*` events,
/// webhooks and sockets. Borrowed where it is read from a record (the list is the
/// hottest read: no copies), owned where an event carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredResource<'a>")]
pub struct MessageResource<'a> {
    /// Absent when it carries none (so messages without files read as they always did).
    #[serde(default, skip_serializing_if = "<[Attachment]>::is_empty")]
    pub attachments: Cow<'a, [Attachment]>,
    pub author: Cow<'a, Author>,
    pub body: Cow<'a, str>,
    pub chat_id: ChatId,
    pub chat_user_id: Option<ChatUserId>,
    pub created_at: Cow<'a, str>,
    pub edited_at: Option<Cow<'a, str>>,
    pub id: MessageId,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub seq: u64,
    pub updated_at: Cow<'a, str>,
}

/// A message resource as events from before authors were kept hold it (no `author`):
/// read as its chat user's, unnamed.
#[derive(Deserialize)]
struct StoredResource<'a> {
    #[serde(default)]
    attachments: Vec<Attachment>,
    #[serde(default)]
    author: Option<Author>,
    body: Cow<'a, str>,
    chat_id: ChatId,
    chat_user_id: Option<ChatUserId>,
    created_at: Cow<'a, str>,
    edited_at: Option<Cow<'a, str>>,
    id: MessageId,
    #[serde(default)]
    internal: bool,
    #[serde(default)]
    seq: u64,
    updated_at: Cow<'a, str>,
}

impl<'a> From<StoredResource<'a>> for MessageResource<'a> {
    fn from(stored: StoredResource<'a>) -> Self {
        let author = stored.author.unwrap_or_else(|| Author::Guest {
            id: stored
                .chat_user_id
                .unwrap_or_else(|| ChatUserId::from_ulid(ulid::Ulid::nil())),
            name: String::new(),
        });
        MessageResource {
            attachments: Cow::Owned(stored.attachments),
            author: Cow::Owned(author),
            body: stored.body,
            chat_id: stored.chat_id,
            chat_user_id: stored.chat_user_id,
            created_at: stored.created_at,
            edited_at: stored.edited_at,
            id: stored.id,
            internal: stored.internal,
            seq: stored.seq,
            updated_at: stored.updated_at,
        }
    }
}

impl MessageRecord {
    pub fn resource(&self) -> MessageResource<'_> {
        MessageResource {
            attachments: Cow::Borrowed(&self.attachments),
            author: match &self.author {
                Some(author) => Cow::Borrowed(author),
                None => Cow::Owned(self.author()),
            },
            body: Cow::Borrowed(&self.body),
            chat_id: self.chat_id,
            chat_user_id: self.chat_user_id,
            created_at: Cow::Borrowed(&self.created_at),
            edited_at: self.edited_at.as_deref().map(Cow::Borrowed),
            id: self.id,
            internal: self.internal,
            seq: self.seq,
            updated_at: Cow::Borrowed(&self.updated_at),
        }
    }

    /// Who wrote it (a message from before authors were kept: its chat user, unnamed).
    pub fn author(&self) -> Author {
        match (&self.author, self.chat_user_id) {
            (Some(author), _) => author.clone(),
            (None, Some(id)) => Author::Guest {
                id,
                name: String::new(),
            },
            (None, None) => Author::Guest {
                id: ChatUserId::from_ulid(ulid::Ulid::nil()),
                name: String::new(),
            },
        }
    }

    /// The key its author's rate and client ids are kept under.
    pub fn author_key(&self) -> String {
        match (&self.author, self.chat_user_id) {
            (Some(author), _) => author.key(),
            (None, Some(id)) => id.to_string(),
            (None, None) => String::new(),
        }
    }

    /// Whether `who` wrote it.
    pub fn written_by(&self, who: &Author) -> bool {
        match who {
            Author::Guest { id, .. } => self.chat_user_id == Some(*id),
            Author::Staff { id, .. } => self.author.as_ref().and_then(Author::staff) == Some(*id),
        }
    }
}

impl MessageResource<'_> {
    pub fn into_owned(self) -> MessageResource<'static> {
        MessageResource {
            attachments: Cow::Owned(self.attachments.into_owned()),
            author: Cow::Owned(self.author.into_owned()),
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
    /// A deleted note's: shown to members only, as the note was.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
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
            internal: false,
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

/// How many of `newest` were written by others after `last_read_seq`, of those the
/// reader may see (a chat user never counts a note).
pub fn count_unread(newest: &[MessageRecord], reader: &Reader, last_read_seq: u64) -> u32 {
    let unread = newest
        .iter()
        .filter(|m| m.seq > last_read_seq && reader.counts(m))
        .count();
    u32::try_from(unread).unwrap_or(u32::MAX)
}

/// Whose unread messages are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Guest(ChatUserId),
    Staff(UserId),
}

impl Reader {
    fn counts(&self, message: &MessageRecord) -> bool {
        match self {
            Reader::Guest(id) => !message.internal && message.chat_user_id != Some(*id),
            Reader::Staff(id) => message.author.as_ref().and_then(Author::staff) != Some(*id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(author: ChatUserId, seq: u64) -> MessageRecord {
        MessageRecord {
            id: MessageId::new(),
            seq,
            chat_id: ChatId::new(),
            chat_user_id: Some(author),
            author: None,
            internal: false,
            body: "x".into(),
            created_at: "t".into(),
            updated_at: "t".into(),
            edited_at: None,
            client_id: None,
            edit_seqs: vec![],
            attachments: Vec::new(),
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
        let reader = Reader::Guest(me);
        assert_eq!(count_unread(&newest, &reader, 0), 3);
        assert_eq!(count_unread(&newest, &reader, 4), 2);
        assert_eq!(count_unread(&newest, &reader, 7), 0);
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

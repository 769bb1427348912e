//! Chats: a room of a company (everyone who joins sees everyone), or a conversation
//! (one visitor and the company's team), with its event log's head and, for a
//! conversation, its state (status, assignee, who waits since when).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ChatUserId, CompanyId, MessageId, UserId};
use crate::message::Author;

/// What a chat is: a room (the seed's chats) or one visitor's conversation with a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    #[default]
    Room,
    Conversation,
}

impl ChatKind {
    pub fn is_room(&self) -> bool {
        *self == ChatKind::Room
    }
}

/// Where a conversation stands: `Open` (the team owes an answer), `Pending` (waiting on
/// the visitor), `Snoozed` (until `snoozed_until`, then open again), `Resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    #[default]
    Open,
    Pending,
    Snoozed,
    Resolved,
}

impl ConversationStatus {
    pub const ALL: [ConversationStatus; 4] = [
        ConversationStatus::Open,
        ConversationStatus::Pending,
        ConversationStatus::Snoozed,
        ConversationStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Snoozed => "snoozed",
            ConversationStatus::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The visitor of a conversation, as an inbox row shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestSummary {
    pub id: ChatUserId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The newest message of a conversation, as an inbox row shows it (notes included:
/// only members see rows). Kept on the chat item without its time (the chat's
/// `last_message_at` is it): the item stays under 1 KB, a message's write units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastMessage {
    pub author: Author,
    pub preview: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

/// [`LastMessage`] as an inbox row shows it: with its time.
#[derive(Debug, Clone, Serialize)]
pub struct LastMessageResource<'a> {
    #[serde(flatten)]
    pub message: &'a LastMessage,
    pub created_at: &'a str,
}

/// Characters of a message an inbox row shows.
pub const PREVIEW_CHARS: usize = 140;

/// The first [`PREVIEW_CHARS`] characters of `body`, on one line.
pub fn preview(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(PREVIEW_CHARS)
        .collect();
    one_line.trim().to_owned()
}

/// What an inbox row shows of a message with `files` attachments: its text, or for files
/// alone, how many (an empty row would hide that the visitor sent something; the names
/// stay out, so erasing the uploader's file names leaves nothing behind here).
pub fn message_preview(body: &str, files: usize) -> String {
    match (preview(body), files) {
        (text, 0) => text,
        (text, _) if !text.is_empty() => text,
        (_, 1) => "\u{1F4CE} 1 file".to_owned(),
        (_, n) => format!("\u{1F4CE} {n} files"),
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChatRecord {
    pub id: ChatId,
    pub company_id: CompanyId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The join secret handed to guests; retrievable by design (it is shared, not personal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_at: Option<String>,
    /// The newest message id: new ids must sort after it (see storage's `messages`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_id: Option<MessageId>,
    /// The `seq` of the chat's newest event (see storage's `log`).
    #[serde(default)]
    pub event_seq: u64,
    /// The `seq` of the newest message's `message.created` (`Some(0)`: none yet; `None`:
    /// a chat from before this was kept). A read marker that passes no message is not
    /// logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_seq: Option<u64>,
    /// Minutes a chat user may stay away before unread messages are emailed (0: never;
    /// unset: [`DEFAULT_UNREAD_EMAIL_MINUTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_email_minutes: Option<u32>,
    /// Chat-user tokens issued at or before this (epoch ms) are dead: set by a password
    /// rotation that signs every guest out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_revoked_at_ms: Option<i64>,
    /// Days its messages (and their events) are kept: its company's `retention_days`,
    /// copied here when the chat is created or the company's setting changes, so a post
    /// reads it with the chat. `None` keeps them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// The member this conversation is assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "ChatKind::is_room")]
    pub kind: ChatKind,
    /// A conversation's state (rooms have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConversationStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<String>,
    /// The first guest message since the last staff reply (`None`: answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<String>,
    /// A conversation's visitor (what its inbox row shows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<GuestSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<LastMessage>,
    /// Messages ever posted (notes included): with a member's read marker's count, its
    /// unread count in the inbox without reading a message.
    #[serde(default)]
    pub message_count: u64,
}

pub const DEFAULT_UNREAD_EMAIL_MINUTES: u32 = 10;

fn default_unread_email_minutes() -> u32 {
    DEFAULT_UNREAD_EMAIL_MINUTES
}

/// A chat as the API shows it (in answers and in `chat.updated` events): never its
/// password, only whether it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatResource<'a> {
    /// Members only: a guest's view leaves it out (see [`ChatResource::for_guest`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<UserId>,
    pub company_id: CompanyId,
    pub created_at: Cow<'a, str>,
    pub description: Option<Cow<'a, str>>,
    pub has_password: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<Cow<'a, str>>,
    pub id: ChatId,
    #[serde(default)]
    pub kind: ChatKind,
    pub last_message_at: Option<Cow<'a, str>>,
    #[serde(default)]
    pub last_seq: u64,
    pub name: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<Cow<'a, str>>,
    /// A conversation's; rooms have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConversationStatus>,
    #[serde(default = "default_unread_email_minutes")]
    pub unread_email_minutes: u32,
    pub updated_at: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<Cow<'a, str>>,
}

impl ChatRecord {
    pub fn resource(&self) -> ChatResource<'_> {
        let conversation = self.kind == ChatKind::Conversation;
        fn state(field: &Option<String>, conversation: bool) -> Option<Cow<'_, str>> {
            field.as_deref().filter(|_| conversation).map(Cow::Borrowed)
        }
        ChatResource {
            assignee_id: self.assignee_id.filter(|_| conversation),
            company_id: self.company_id,
            created_at: Cow::Borrowed(&self.created_at),
            description: self.description.as_deref().map(Cow::Borrowed),
            first_response_at: state(&self.first_response_at, conversation),
            has_password: self.password.is_some(),
            id: self.id,
            kind: self.kind,
            last_message_at: self.last_message_at.as_deref().map(Cow::Borrowed),
            last_seq: self.event_seq,
            name: Cow::Borrowed(&self.name),
            snoozed_until: state(&self.snoozed_until, conversation),
            status: conversation.then(|| self.status.unwrap_or_default()),
            unread_email_minutes: self.unread_email_delay_minutes(),
            updated_at: Cow::Borrowed(&self.updated_at),
            waiting_since: state(&self.waiting_since, conversation),
        }
    }

    pub fn is_conversation(&self) -> bool {
        self.kind == ChatKind::Conversation
    }

    /// See [`ChatRecord::unread_email_minutes`].
    pub fn unread_email_delay_minutes(&self) -> u32 {
        self.unread_email_minutes
            .unwrap_or(DEFAULT_UNREAD_EMAIL_MINUTES)
    }
}

impl<'a> ChatResource<'a> {
    pub fn into_owned(self) -> ChatResource<'static> {
        let owned = |t: Option<Cow<'a, str>>| t.map(|t| Cow::Owned(t.into_owned()));
        ChatResource {
            created_at: Cow::Owned(self.created_at.into_owned()),
            description: owned(self.description),
            first_response_at: owned(self.first_response_at),
            last_message_at: owned(self.last_message_at),
            name: Cow::Owned(self.name.into_owned()),
            snoozed_until: owned(self.snoozed_until),
            updated_at: Cow::Owned(self.updated_at.into_owned()),
            waiting_since: owned(self.waiting_since),
            ..self
        }
    }

    /// What a conversation's guest sees of it: its status, but not who it is assigned
    /// to nor how the team's answers are timed.
    pub fn for_guest(&self) -> ChatResource<'a> {
        ChatResource {
            assignee_id: None,
            first_response_at: None,
            waiting_since: None,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_of_files_alone_previews_as_their_count() {
        assert_eq!(message_preview("  Hello\nthere ", 0), "Hello there");
        assert_eq!(message_preview("See the photo", 2), "See the photo");
        assert_eq!(message_preview("", 1), "\u{1F4CE} 1 file");
        assert_eq!(message_preview(" ", 3), "\u{1F4CE} 3 files");
        assert_eq!(message_preview("", 0), "");
    }
}

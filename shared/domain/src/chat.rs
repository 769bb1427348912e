//! Chats: a room of a company, with its event log's head.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, CompanyId, MessageId, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<UserId>,
}

pub const DEFAULT_UNREAD_EMAIL_MINUTES: u32 = 10;

fn default_unread_email_minutes() -> u32 {
    DEFAULT_UNREAD_EMAIL_MINUTES
}

/// A chat as the API shows it (in answers and in `chat.updated` events): never its
/// password, only whether it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatResource<'a> {
    pub company_id: CompanyId,
    pub created_at: Cow<'a, str>,
    pub description: Option<Cow<'a, str>>,
    pub has_password: bool,
    pub id: ChatId,
    pub last_message_at: Option<Cow<'a, str>>,
    #[serde(default)]
    pub last_seq: u64,
    pub name: Cow<'a, str>,
    #[serde(default = "default_unread_email_minutes")]
    pub unread_email_minutes: u32,
    pub updated_at: Cow<'a, str>,
}

impl ChatRecord {
    pub fn resource(&self) -> ChatResource<'_> {
        ChatResource {
            company_id: self.company_id,
            created_at: Cow::Borrowed(&self.created_at),
            description: self.description.as_deref().map(Cow::Borrowed),
            has_password: self.password.is_some(),
            id: self.id,
            last_message_at: self.last_message_at.as_deref().map(Cow::Borrowed),
            last_seq: self.event_seq,
            name: Cow::Borrowed(&self.name),
            unread_email_minutes: self.unread_email_delay_minutes(),
            updated_at: Cow::Borrowed(&self.updated_at),
        }
    }

    /// See [`ChatRecord::unread_email_minutes`].
    pub fn unread_email_delay_minutes(&self) -> u32 {
        self.unread_email_minutes
            .unwrap_or(DEFAULT_UNREAD_EMAIL_MINUTES)
    }
}

impl ChatResource<'_> {
    pub fn into_owned(self) -> ChatResource<'static> {
        ChatResource {
            created_at: Cow::Owned(self.created_at.into_owned()),
            description: self.description.map(|d| Cow::Owned(d.into_owned())),
            last_message_at: self.last_message_at.map(|t| Cow::Owned(t.into_owned())),
            name: Cow::Owned(self.name.into_owned()),
            updated_at: Cow::Owned(self.updated_at.into_owned()),
            ..self
        }
    }
}

//! Chat users: guests (an email and a display name) inside one chat.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ChatUserId};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChatUserRecord {
    pub id: ChatUserId,
    pub chat_id: ChatId,
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// `chat_user.joined` was logged: at creation by the owner, or at the first
    /// verification of a guest who asked to join (an address typed into a form is not a
    /// participant yet).
    #[serde(default)]
    pub announced: bool,
    /// The newest event `seq` this chat user has seen (moves forward only).
    #[serde(default)]
    pub last_read_seq: u64,
    /// Turned off emails about unread messages in this chat (the one-click unsubscribe).
    #[serde(default)]
    pub unread_emails_off: bool,
    /// Epoch ms until which an unread-message check is already queued for this chat user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_pending_until: Option<i64>,
    /// Epoch ms of the last unread-message email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<i64>,
    /// The newest message `seq` an unread-message email listed (each is listed once).
    #[serde(default)]
    pub notified_seq: u64,
    /// Epoch ms when this chat user's last WebSocket closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<i64>,
    /// Epoch ms of the owner's last "revoke tokens": chat-user tokens issued until then
    /// are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_revoked_at_ms: Option<i64>,
    /// Epoch seconds after which DynamoDB deletes a chat user that joined by email and
    /// never proved it ([`UNVERIFIED_TTL_SECS`]); verifying removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    /// Epoch ms of the transcripts emailed in the last day (the throttle).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcripts_sent: Vec<i64>,
    /// The messages it sent in its current sending-rate window, and that window's start
    /// (epoch ms). Kept here, on the item a message's write checks anyway to prove the
    /// author is still a chat user: one write does both (storage's `message_posts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_window_ms: Option<i64>,
    #[serde(default)]
    pub sent_in_window: u32,
}

/// A chat user as the API shows it (in answers and in `chat_user.*` events). `email` is
/// there for operators and the chat user itself, never for other chat users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUserResource<'a> {
    pub chat_id: ChatId,
    pub created_at: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Cow<'a, str>>,
    pub id: ChatUserId,
    /// `None` only in what an erasure leaves of a chat user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_seq: Option<u64>,
    pub name: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_emails: Option<bool>,
    pub updated_at: Cow<'a, str>,
    pub verified_at: Option<Cow<'a, str>>,
}

impl ChatUserRecord {
    /// Its sending count as this record holds it (`None`: it never sent one).
    pub fn sent(&self) -> Option<crate::rate_limit::WindowCount> {
        self.sent_window_ms
            .map(|window_start_ms| crate::rate_limit::WindowCount {
                window_start_ms,
                count: self.sent_in_window,
            })
    }

    /// `show_email`: operators and the chat user itself see it; other chat users do not.
    pub fn resource(&self, show_email: bool) -> ChatUserResource<'_> {
        ChatUserResource {
            chat_id: self.chat_id,
            created_at: Cow::Borrowed(&self.created_at),
            email: show_email.then_some(Cow::Borrowed(self.email.as_str())),
            id: self.id,
            last_read_seq: Some(self.last_read_seq),
            name: Cow::Borrowed(&self.name),
            unread_emails: Some(!self.unread_emails_off),
            updated_at: Cow::Borrowed(&self.updated_at),
            verified_at: self.verified_at.as_deref().map(Cow::Borrowed),
        }
    }

    /// The resource of an erased chat user: its id and times, nothing that names it.
    pub fn erased_resource(&self, now: String) -> ChatUserResource<'static> {
        ChatUserResource {
            chat_id: self.chat_id,
            created_at: Cow::Owned(self.created_at.clone()),
            email: None,
            id: self.id,
            last_read_seq: None,
            name: Cow::Borrowed(ERASED_NAME),
            unread_emails: None,
            updated_at: Cow::Owned(now),
            verified_at: None,
        }
    }
}

impl ChatUserResource<'_> {
    pub fn into_owned(self) -> ChatUserResource<'static> {
        ChatUserResource {
            created_at: Cow::Owned(self.created_at.into_owned()),
            email: self.email.map(|e| Cow::Owned(e.into_owned())),
            name: Cow::Owned(self.name.into_owned()),
            updated_at: Cow::Owned(self.updated_at.into_owned()),
            verified_at: self.verified_at.map(|t| Cow::Owned(t.into_owned())),
            ..self
        }
    }
}

/// What an erased chat user is called wherever its name was (see the README's erasure rule).
pub const ERASED_NAME: &str = "(erased)";

/// Participants a chat may have: chat users added by the owner, and guests once they
/// proved their email. Counted on the chat item in the transaction that makes one a
/// participant or removes it; guests who asked to join and never verified are not
/// counted (they expire, see [`UNVERIFIED_TTL_SECS`], and the joiner budgets of
/// `send-code` bound them).
pub const MAX_CHAT_USERS_PER_CHAT: u32 = 1_000;
pub const AT_CHAT_USER_CAP: &str = "This chat has reached its limit of 1,000 chat users.";

/// A chat user who joined by email (password) and never entered its code is deleted by
/// DynamoDB after this long (within a day or two more: TTL deletes late; until then it
/// shows as unverified).
pub const UNVERIFIED_TTL_SECS: i64 = 24 * 3600;

/// Transcripts per chat user: at most [`TRANSCRIPTS_PER_DAY`] a day, one a minute (as auth
/// codes: the email goes to the chat user's address, whoever asks).
pub const TRANSCRIPTS_PER_DAY: usize = 5;

/// The sends still inside the last day, or the seconds to wait before the next one.
pub fn transcript_budget(sent: &[i64], now_millis: i64) -> Result<Vec<i64>, u64> {
    const DAY: i64 = 24 * 3600 * 1000;
    const MINUTE: i64 = 60 * 1000;
    let kept: Vec<i64> = sent
        .iter()
        .copied()
        .filter(|t| now_millis - t < DAY)
        .collect();
    let wait_until = [
        kept.iter().max().map(|last| last + MINUTE),
        (kept.len() >= TRANSCRIPTS_PER_DAY)
            .then(|| kept.iter().min().map(|oldest| oldest + DAY))
            .flatten(),
    ]
    .into_iter()
    .flatten()
    .max()
    .filter(|until| *until > now_millis);
    match wait_until {
        Some(until) => Err(u64::try_from((until - now_millis + 999) / 1000).unwrap_or(1)),
        None => Ok(kept),
    }
}

/// Why a chat user goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Deleted by the owner or itself.
    Deleted,
    /// Erased at a personal-data request: its name and email leave no trace.
    Erased,
}

//! The auth code of one email in one chat, as one source asked for it, with its send
//! throttle.

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, CompanyId};

/// What a code opens: a chat (its chat user's token), or a company's front door (the
/// visitor's own conversation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeScope {
    Chat(ChatId),
    Company(CompanyId),
}

impl CodeScope {
    /// What a code's digest is bound to: a code made for one scope never matches in
    /// another.
    pub fn digest_context(&self) -> String {
        match self {
            CodeScope::Chat(chat) => chat.to_string(),
            CodeScope::Company(company) => format!("company#{company}"),
        }
    }
}

/// How long a code may be used.
pub const CODE_TTL_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCodeRecord {
    /// HMAC of the code (never the code); `None` after use or after too many tries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_digest: Option<String>,
    pub expires_at_ms: i64,
    pub failed_attempts: u32,
    /// Send throttle: last email, and the emails sent in the current hour window.
    pub last_sent_ms: i64,
    pub window_start_ms: i64,
    pub sent_in_window: u32,
    /// Optimistic-concurrency version: every write is conditional on it.
    pub version: u64,
    /// The job that makes this item's code (see `jobs::CodeJob`): until it has, there is
    /// no digest; a retry of it may make the code again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_by_job: Option<String>,
    /// The name a visitor gave with its code at a company's front door: its
    /// conversation's name when the code opens it first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Who asked for a code: codes (and their throttles and wrong tries) are kept apart per
/// source, so what one source does never spends another's code or budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeSource {
    /// A caller of send-code, by a keyed tag of its address (never the address itself).
    Caller(String),
    /// The chat's owner, adding a chat user with `send_code`: the guest enters the code
    /// from wherever it is.
    Owner,
}

impl CodeSource {
    /// What the code's key holds of its source.
    pub fn tag(&self) -> &str {
        match self {
            CodeSource::Caller(tag) => tag,
            CodeSource::Owner => "owner",
        }
    }
}

/// How a presented code settles the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAttempt {
    /// Right: the code is used up.
    Correct,
    /// Wrong: the try is counted; `kills` when it was the last one allowed.
    Wrong { failed_attempts: u32, kills: bool },
}

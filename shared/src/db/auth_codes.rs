//! The auth code of one email in one chat, with its send throttle. Every write is
//! conditional on the version read, so of concurrent sends or guesses only one wins: a
//! code is used at most once, and at most one email goes out per window.

use serde::{Deserialize, Serialize};

use super::chat_users::{ChatUserEmailPointer, email_key as member_email_key};
use super::chats::{self, ChatRecord};
use super::update::Update;
use super::{Db, Key, from_item, keys, n, to_item};
use crate::error::ApiError;
use crate::ids::{ChatId, ChatUserId};

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
}

/// Who asked for a code: codes (and their throttles and wrong tries) are kept apart per
/// source, so what one source does never spends another's code or budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSource {
    /// A caller of send-code, by a keyed tag of its address (never the address itself).
    Caller(String),
    /// The chat's owner, adding a chat user with `send_code`: the guest enters the code
    /// from wherever it is.
    Owner,
}

impl CodeSource {
    fn tag(&self) -> &str {
        match self {
            CodeSource::Caller(tag) => tag,
            CodeSource::Owner => "owner",
        }
    }
}

pub fn key(chat_id: ChatId, email: &str, source: &CodeSource) -> Key {
    Key::new(
        keys::chat_partition(chat_id),
        format!("CODE#{email}#{}", source.tag()),
    )
}

impl Db {
    /// Deletes every code kept for `email` in the chat, whoever asked for it; how many.
    pub async fn delete_codes_of(&self, chat_id: ChatId, email: &str) -> Result<usize, ApiError> {
        self.purge_prefix(&keys::chat_partition(chat_id), &format!("CODE#{email}#"))
            .await
    }
}

/// What send-code and get-token read first, in one round trip.
#[derive(Debug)]
pub struct CodeLookup {
    pub chat: Option<ChatRecord>,
    /// The chat user this email belongs to in the chat, if any.
    pub member: Option<ChatUserId>,
    /// The codes found of the sources asked about, in the order asked.
    pub codes: Vec<(CodeSource, AuthCodeRecord)>,
}

/// How a presented code settles the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAttempt {
    /// Right: the code is used up.
    Correct,
    /// Wrong: the try is counted; `kills` when it was the last one allowed.
    Wrong { failed_attempts: u32, kills: bool },
}

// A chat user's pending codes are not removed with it or with its old email: a code
// only ever opens the chat user its email points to now (get-token reads the pointer
// in the same round trip), and it went to that very mailbox.

impl Db {
    /// The chat, the email's chat user, and the codes of `sources` (at most 3), in one
    /// round trip.
    pub async fn code_lookup(
        &self,
        chat_id: ChatId,
        email: &str,
        sources: &[CodeSource],
    ) -> Result<CodeLookup, ApiError> {
        let chat = chats::key(chat_id);
        let member = member_email_key(chat_id, email);
        let code_keys: Vec<Key> = sources
            .iter()
            .map(|source| key(chat_id, email, source))
            .collect();
        let keys: Vec<&Key> = [&chat, &member].into_iter().chain(&code_keys).collect();
        let mut found = self.get_all(&keys).await?.into_iter();
        let (chat, member) = (found.next().flatten(), found.next().flatten());
        let mut codes = Vec::with_capacity(sources.len());
        for (source, item) in sources.iter().zip(found) {
            if let Some(item) = item {
                codes.push((source.clone(), from_item(item)?));
            }
        }
        Ok(CodeLookup {
            chat: chat.map(from_item).transpose()?,
            member: member
                .map(from_item::<ChatUserEmailPointer>)
                .transpose()?
                .map(|pointer| pointer.chat_user_id),
            codes,
        })
    }

    pub async fn auth_code(
        &self,
        chat_id: ChatId,
        email: &str,
        source: &CodeSource,
    ) -> Result<Option<AuthCodeRecord>, ApiError> {
        self.get(&key(chat_id, email, source)).await
    }

    /// Writes `code` over the version read (`previous_version`, 0 for none); `false`
    /// when another write got in first. DynamoDB may drop the item after `forget_at_ms`.
    pub async fn store_auth_code(
        &self,
        chat_id: ChatId,
        email: &str,
        source: &CodeSource,
        code: &AuthCodeRecord,
        previous_version: u64,
        forget_at_ms: i64,
    ) -> Result<bool, ApiError> {
        let mut item = to_item(&key(chat_id, email, source), code)?;
        item.insert(keys::TTL.to_owned(), n(forget_at_ms / 1000 + 60));
        self.put_if(
            item,
            "attribute_not_exists(PK) OR version = :version",
            &[(":version", n(previous_version))],
        )
        .await
    }

    /// Takes back a code that could not be delivered: the item returns to `previous`
    /// (or goes, if there was none), unless another write came after `written`.
    pub async fn withdraw_auth_code(
        &self,
        chat_id: ChatId,
        email: &str,
        source: &CodeSource,
        written: &AuthCodeRecord,
        previous: Option<&AuthCodeRecord>,
    ) -> Result<(), ApiError> {
        let key = key(chat_id, email, source);
        let version = [(":version", n(written.version))];
        match previous {
            Some(previous) => {
                // A newer version than `written`, so a request that read it loses its race.
                let restored = AuthCodeRecord {
                    version: written.version + 1,
                    ..previous.clone()
                };
                self.put_if(to_item(&key, &restored)?, "version = :version", &version)
                    .await?;
            }
            None => {
                self.delete_returning::<AuthCodeRecord>(&key, "version = :version", &version)
                    .await?;
            }
        }
        Ok(())
    }

    /// Consumes the code or counts the try, conditional on the version read; `false`
    /// when another attempt settled it first.
    pub async fn settle_auth_code(
        &self,
        chat_id: ChatId,
        email: &str,
        source: &CodeSource,
        read_version: u64,
        attempt: CodeAttempt,
    ) -> Result<bool, ApiError> {
        let update = Update::new()
            .set("version", n(read_version + 1))
            .condition("version = :read")
            .value(":read", n(read_version));
        let update = match attempt {
            CodeAttempt::Correct => update.remove("code_digest"),
            CodeAttempt::Wrong {
                failed_attempts,
                kills,
            } => {
                let update = update.set("failed_attempts", n(failed_attempts));
                if kills {
                    update.remove("code_digest")
                } else {
                    update
                }
            }
        };
        self.update_if(&key(chat_id, email, source), update).await
    }
}

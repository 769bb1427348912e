//! Personal-data requests about one email, across one company's chats: the export of
//! everything kept about it, and its erasure. An owner asks for any email; a guest for
//! its own, after proving it with a code (see the `chat-users` function).
//!
//! The erasure rule (also in the README): in every chat of the company where the email is
//! a chat user, the chat user goes (its tokens die with it), its pending codes go, and the
//! kept events that carried its name and email are rewritten without them; the event that
//! logs the removal names nobody. Its messages stay, as part of the company's record of the
//! conversation, under the id of a chat user that no longer exists, so nothing links them
//! to the email any more. Running it again finds nothing and changes nothing.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::clock;
use crate::db::Db;
use crate::db::chat_users::{ChatUserRecord, ERASED_NAME, Removal};
use crate::db::chats::ChatRecord;
use crate::error::ApiError;
use crate::ids::{ChatId, CompanyId, UserId};

/// Messages of one chat user an export carries per chat; past it, `messages_truncated`
/// says so (a synchronous answer is bounded by Lambda's 6 MB response).
pub const EXPORT_MESSAGES_PER_CHAT: usize = 500;

/// The company an email's data is looked for in.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub owner_id: UserId,
    pub company_id: CompanyId,
}

impl Scope {
    pub fn of_chat(chat: &ChatRecord) -> Self {
        Self {
            owner_id: chat.owner_id,
            company_id: chat.company_id,
        }
    }
}

/// What an erasure did.
#[derive(Debug, Default)]
pub struct Erased {
    /// Chat users removed (one per chat the email was in).
    pub chat_users: usize,
    /// Kept events rewritten without the name and email.
    pub events_rewritten: usize,
    /// Pending codes deleted.
    pub codes: usize,
}

impl Erased {
    /// The answer of an erasure request.
    pub fn resource(&self) -> Value {
        json!({
            "erased": {
                "chat_users": self.chat_users,
                "events_rewritten": self.events_rewritten,
                "codes": self.codes,
            }
        })
    }
}

/// The chat users `email` is in the company's chats, each with its chat.
async fn find(
    db: &Db,
    scope: Scope,
    email: &str,
) -> Result<Vec<(ChatRecord, ChatUserRecord)>, ApiError> {
    let chats = db.company_chats(scope.owner_id, scope.company_id).await?;
    let ids: Vec<ChatId> = chats.iter().map(|chat| chat.id).collect();
    let mut by_id: HashMap<ChatId, ChatRecord> =
        chats.into_iter().map(|chat| (chat.id, chat)).collect();
    let chat_users = db.chat_users_by_email(&ids, email).await?;
    Ok(chat_users
        .into_iter()
        .filter_map(|chat_user| Some((by_id.remove(&chat_user.chat_id)?, chat_user)))
        .collect())
}

/// Everything kept about `email` in the company's chats: per chat, the chat user and the
/// messages it wrote (oldest first).
pub async fn export(db: &Db, scope: Scope, email: &str) -> Result<Value, ApiError> {
    let mut chats = Vec::new();
    for (chat, chat_user) in find(db, scope, email).await? {
        let mut messages = db
            .messages_by(chat.id, chat_user.id, EXPORT_MESSAGES_PER_CHAT + 1)
            .await?;
        let truncated = messages.len() > EXPORT_MESSAGES_PER_CHAT;
        messages.truncate(EXPORT_MESSAGES_PER_CHAT);
        chats.push(json!({
            "chat": {"id": chat.id, "name": chat.name},
            "chat_user": chat_user.resource(true),
            "messages": messages.iter().map(|m| m.resource()).collect::<Vec<_>>(),
            "messages_truncated": truncated,
        }));
    }
    Ok(json!({
        "email": email,
        "company_id": scope.company_id,
        "exported_at": clock::now_rfc3339(),
        "chats": chats,
    }))
}

/// Erases `email` from the company's chats by the rule above. The chat user goes last,
/// so a run stopped part-way is finished by the next.
pub async fn erase(db: &Db, scope: Scope, email: &str) -> Result<Erased, ApiError> {
    let mut erased = Erased::default();
    for (chat, chat_user) in find(db, scope, email).await? {
        erased.events_rewritten += db
            .scrub_chat_user_events(chat.id, chat_user.id, ERASED_NAME)
            .await?;
        erased.codes += db.delete_codes_of(chat.id, email).await?;
        if db
            .delete_chat_user(chat.head(), &chat_user, Removal::Erased)
            .await?
        {
            erased.chat_users += 1;
        }
    }
    tracing::info!(
        company_id = %scope.company_id,
        chat_users = erased.chat_users,
        events = erased.events_rewritten,
        "personal data erased"
    );
    Ok(erased)
}

//! What a personal-data request answers: everything kept about one email in one
//! company's chats (the export), and what its erasure did. The rule itself, and the
//! reads and writes, are storage's (`personal_data`).

use serde::Serialize;

use crate::chat_user::ChatUserResource;
use crate::ids::{ChatId, CompanyId};
use crate::message::MessageResource;

/// Messages of one chat user an export carries per chat; past it, `messages_truncated`
/// says so (a synchronous answer is bounded by Lambda's 6 MB response).
pub const EXPORT_MESSAGES_PER_CHAT: usize = 500;

#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub chats: Vec<ChatExport>,
    pub company_id: CompanyId,
    pub email: String,
    pub exported_at: String,
}

/// One chat the email is a chat user in.
#[derive(Debug, Clone, Serialize)]
pub struct ChatExport {
    pub chat: ChatName,
    pub chat_user: ChatUserResource<'static>,
    pub messages: Vec<MessageResource<'static>>,
    pub messages_truncated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatName {
    pub id: ChatId,
    pub name: String,
}

/// What an erasure did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Erased {
    /// Chat users removed (one per chat the email was in).
    pub chat_users: usize,
    /// Pending codes deleted.
    pub codes: usize,
    /// Kept events rewritten without the name and email.
    pub events_rewritten: usize,
}

/// The answer of an erasure request: `{"erased": {...}}`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ErasureAnswer {
    pub erased: Erased,
}

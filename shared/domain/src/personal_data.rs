//! What a personal-data request answers: everything kept about one email in one
//! company's chats (the export), and what its erasure did. The rule itself, and the
//! reads and writes, are storage's (`personal_data`).

use serde::Serialize;

use crate::chat_user::ChatUserResource;
use crate::ids::{ChatId, CompanyId};
use crate::message::MessageResource;

/// Messages of one chat user an export carries per chat; past it, `messages_truncated`
/// says so.
pub const EXPORT_MESSAGES_PER_CHAT: usize = 500;

/// Bytes of message JSON an export carries in all (a synchronous answer is bounded by
/// Lambda's 6 MB response, and one message may hold 5,000 four-byte characters): past it,
/// the chats' `messages_truncated` say so.
pub const EXPORT_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// The messages of `messages` (oldest first) that fit what is left of `budget` bytes,
/// which they use up; `true` when some did not fit.
pub fn within_budget(
    messages: Vec<MessageResource<'static>>,
    budget: &mut usize,
) -> (Vec<MessageResource<'static>>, bool) {
    let mut kept = Vec::with_capacity(messages.len());
    for message in messages {
        // Written as the answer will write it (escapes included); a message that cannot
        // be written costs the whole budget.
        let size = serde_json::to_vec(&message).map_or(usize::MAX, |json| json.len() + 1);
        if size > *budget {
            *budget = 0;
            return (kept, true);
        }
        *budget -= size;
        kept.push(message);
    }
    (kept, false)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ChatUserId, MessageId};
    use std::borrow::Cow;

    fn message(body: &str) -> MessageResource<'static> {
        let id = ChatUserId::new();
        MessageResource {
            author: Cow::Owned(crate::message::Author::Guest {
                id,
                name: "Ann".into(),
            }),
            body: Cow::Owned(body.to_owned()),
            attachments: Cow::Borrowed(&[]),
            chat_id: ChatId::new(),
            chat_user_id: Some(id),
            internal: false,
            created_at: Cow::Borrowed("2026-12-05T00:00:00.000Z"),
            edited_at: None,
            id: MessageId::new(),
            seq: 1,
            updated_at: Cow::Borrowed("2026-12-05T00:00:00.000Z"),
        }
    }

    #[test]
    fn an_export_stops_at_its_byte_budget_and_says_so() {
        let big = "😀".repeat(1000);
        let one = serde_json::to_vec(&message(&big)).unwrap().len() + 1;
        let mut budget = one * 2 + one / 2;
        let (kept, truncated) = within_budget(vec![message(&big); 3], &mut budget);
        assert_eq!((kept.len(), truncated), (2, true));
        assert_eq!(budget, 0, "nothing more fits after a truncation");
        let (kept, truncated) = within_budget(vec![message("hi")], &mut budget);
        assert_eq!((kept.len(), truncated), (0, true));
        let mut roomy = usize::MAX / 2;
        let (kept, truncated) = within_budget(vec![message("a"), message("b")], &mut roomy);
        assert_eq!((kept.len(), truncated), (2, false));
    }
}

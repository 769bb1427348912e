//! Personal-data requests about one email, across one company's chats: the export of
//! everything kept about it, and its erasure. An owner asks for any email; a guest for
//! its own, after proving it with a code (see the `chat-users` function).
//!
//! The erasure rule (also in the README): in every chat of the company where the email is
//! a chat user, the chat user goes (its tokens die with it), its pending codes go, and the
//! kept events that carried its name and email are rewritten without them; the event that
//! logs the removal names nobody. Its files go (objects and names). Its messages stay, as part of the company's record of the
//! conversation, under the id of a chat user that no longer exists, so nothing links them
//! to the email any more. Running it again finds nothing and changes nothing.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::chat::ChatRecord;
use domain::chat_user::{ChatUserRecord, ERASED_NAME, Removal};
use domain::clock;
use domain::ids::{ChatId, CompanyId};
use domain::personal_data::{
    ChatExport, ChatName, EXPORT_MESSAGE_BYTES, EXPORT_MESSAGES_PER_CHAT, Erased, Export,
    within_budget,
};

use crate::key::{chat_partition, company_partition};
use crate::{Db, Result};

/// Sort-key prefixes of a chat's messages and events.
const MESSAGES: &str = crate::messages::PREFIX;
const EVENTS: &str = "EVT#";

/// The company an email's data is looked for in.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub company_id: CompanyId,
}

impl Scope {
    pub fn of_chat(chat: &ChatRecord) -> Self {
        Self {
            company_id: chat.company_id,
        }
    }
}

/// The chat users `email` is in the company's chats, each with its chat.
async fn find(db: &Db, scope: Scope, email: &str) -> Result<Vec<(ChatRecord, ChatUserRecord)>> {
    let chats = db.chats().of_company(scope.company_id).await?;
    let ids: Vec<ChatId> = chats.iter().map(|chat| chat.id).collect();
    let mut by_id: HashMap<ChatId, ChatRecord> =
        chats.into_iter().map(|chat| (chat.id, chat)).collect();
    let chat_users = db.chat_users().by_email(&ids, email).await?;
    Ok(chat_users
        .into_iter()
        .filter_map(|chat_user| Some((by_id.remove(&chat_user.chat_id)?, chat_user)))
        .collect())
}

/// Everything kept about `email` in the company's chats: per chat, the chat user and the
/// messages it wrote (oldest first).
pub async fn export(db: &Db, scope: Scope, email: &str) -> Result<Export> {
    let mut chats = Vec::new();
    let mut budget = EXPORT_MESSAGE_BYTES;
    for (chat, chat_user) in find(db, scope, email).await? {
        let mut messages = db
            .messages()
            .by_author(chat.id, chat_user.id, EXPORT_MESSAGES_PER_CHAT + 1)
            .await?;
        let past_count = messages.len() > EXPORT_MESSAGES_PER_CHAT;
        messages.truncate(EXPORT_MESSAGES_PER_CHAT);
        let resources = messages.iter().map(|m| m.resource().into_owned()).collect();
        let (messages, past_bytes) = within_budget(resources, &mut budget);
        chats.push(ChatExport {
            chat: ChatName {
                id: chat.id,
                name: chat.name,
            },
            chat_user: chat_user.resource(true).into_owned(),
            messages,
            messages_truncated: past_count || past_bytes,
        });
    }
    Ok(Export {
        chats,
        company_id: scope.company_id,
        email: email.to_owned(),
        exported_at: clock::now_rfc3339(),
    })
}

/// Erases `email` from the company's chats by the rule above. The chat user goes last,
/// so a run stopped part-way is finished by the next.
pub async fn erase(db: &Db, scope: Scope, email: &str) -> Result<Erased> {
    let mut erased = Erased::default();
    for (chat, chat_user) in find(db, scope, email).await? {
        erased.events_rewritten += db.log().scrub_chat_user(chat.id, chat_user.id).await?;
        // Its messages stay, under its id, but no longer with its name (in their items
        // and in the events that carry them); a conversation's row forgets it too.
        let author = (
            &["author", "id"][..],
            AttributeValue::S(chat_user.id.to_string()),
        );
        let partition = chat_partition(chat.id);
        // Its files too: the messages and their events forget them (their names are
        // personal data), and their items go, so the stream removes the objects.
        db.rewrite_filtered(
            &partition,
            MESSAGES,
            author.clone(),
            (&["author", "name"], ERASED_NAME),
            Some(&["attachments"][..]),
        )
        .await?;
        db.attachments()
            .delete_of_uploader(chat.id, &chat_user.id.to_string())
            .await?;
        let in_event = (
            &["data", "author", "id"][..],
            AttributeValue::S(chat_user.id.to_string()),
        );
        erased.events_rewritten += db
            .rewrite_filtered(
                &partition,
                EVENTS,
                in_event,
                (&["data", "author", "name"], ERASED_NAME),
                Some(&["data", "attachments"][..]),
            )
            .await?;
        db.conversations().forget_guest(&chat, chat_user.id).await?;
        erased.codes += db.auth_codes().delete_all_of(chat.id, email).await?;
        if db
            .chat_users()
            .delete(&chat, &chat_user, Removal::Erased)
            .await?
        {
            erased.chat_users += 1;
        }
    }
    // Its codes and its visitor pointer at the company's front door (its conversation,
    // if it had one, was erased above with the company's chats).
    erased.codes += db
        .purge_prefix(
            &company_partition(scope.company_id),
            &format!("CODE#{email}#"),
        )
        .await?;
    db.conversations()
        .forget_visitor(scope.company_id, email)
        .await?;
    tracing::info!(
        company_id = %scope.company_id,
        chat_users = erased.chat_users,
        events = erased.events_rewritten,
        "personal data erased"
    );
    Ok(erased)
}

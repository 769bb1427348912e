//! Chat users and the unique-email-in-chat item that points at each. Their tokens live
//! as long as the item: every chat-user request reads it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::page::{ListQuery, Page};
use super::tx::Transaction;
use super::update::Update;
use super::{Db, Key, auth_codes, chats, from_item, keys, s, to_item};
use crate::error::ApiError;
use crate::ids::{ChatId, ChatUserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatUserRecord {
    pub id: ChatUserId,
    pub chat_id: ChatId,
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl ChatUserRecord {
    /// `show_email`: operators and the chat user itself see it; other chat users do not.
    pub fn resource(&self, show_email: bool) -> Value {
        let mut value = json!({
            "id": self.id,
            "chat_id": self.chat_id,
            "name": self.name,
            "verified_at": self.verified_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        });
        if show_email {
            value["email"] = json!(self.email);
        }
        value
    }
}

/// The unique-email-in-chat item: points at the chat user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChatUserEmailPointer {
    pub(crate) chat_user_id: ChatUserId,
}

const PREFIX: &str = "MEMBER#";

pub(crate) fn key(chat_id: ChatId, chat_user_id: ChatUserId) -> Key {
    Key::new(
        keys::chat_partition(chat_id),
        format!("{PREFIX}{chat_user_id}"),
    )
}

/// Holds the chat-user id for an email within one chat (uniqueness by conditional put).
pub(crate) fn email_key(chat_id: ChatId, email: &str) -> Key {
    Key::new(keys::chat_partition(chat_id), format!("EMAIL#{email}"))
}

#[derive(Debug)]
pub enum ChatUserInserted {
    Inserted,
    EmailTaken,
    ChatGone,
}

#[derive(Debug)]
pub enum EmailChanged {
    Changed,
    EmailTaken,
    /// The chat user changed (or went) between the read and this write.
    ChangedMeanwhile,
}

impl Db {
    pub async fn chat_user(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
    ) -> Result<Option<ChatUserRecord>, ApiError> {
        self.get(&key(chat_id, chat_user_id)).await
    }

    /// A chat user with its chat, in one round trip; `None` when either is gone.
    pub async fn chat_user_with_chat(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
    ) -> Result<Option<(ChatUserRecord, chats::ChatRecord)>, ApiError> {
        match self
            .get_many([&key(chat_id, chat_user_id), &chats::key(chat_id)])
            .await?
        {
            [Some(chat_user), Some(chat)] => Ok(Some((from_item(chat_user)?, from_item(chat)?))),
            _ => Ok(None),
        }
    }

    pub async fn list_chat_users(
        &self,
        chat_id: ChatId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<ChatUserRecord>, ApiError> {
        self.list(&ListQuery {
            list: "chat-users",
            index: None,
            partition: keys::chat_partition(chat_id),
            sort_prefix: PREFIX.to_owned(),
            per_page,
            cursor,
        })
        .await
    }

    /// Adds a chat user with its email item; the chat must still exist (a concurrent
    /// chat delete wins) and the email must be free in the chat.
    pub async fn insert_chat_user(
        &self,
        chat_user: &ChatUserRecord,
    ) -> Result<ChatUserInserted, ApiError> {
        let pointer = ChatUserEmailPointer {
            chat_user_id: chat_user.id,
        };
        let mut tx = Transaction::new(self);
        let chat = chats::tx_parts::exists(&mut tx, chat_user.chat_id)?;
        let email = tx.put_new(to_item(
            &email_key(chat_user.chat_id, &chat_user.email),
            &pointer,
        )?)?;
        tx.put_new(to_item(&key(chat_user.chat_id, chat_user.id), chat_user)?)?;
        match tx.commit().await? {
            Ok(()) => Ok(ChatUserInserted::Inserted),
            Err(cancelled) if cancelled.failed(chat) => Ok(ChatUserInserted::ChatGone),
            Err(cancelled) if cancelled.failed(email) => Ok(ChatUserInserted::EmailTaken),
            Err(cancelled) => Err(cancelled.unexpected("chat user insert")),
        }
    }

    /// `None` when the chat user is gone.
    pub async fn rename_chat_user(
        &self,
        chat_user: &ChatUserRecord,
        name: String,
        at: &str,
    ) -> Result<Option<ChatUserRecord>, ApiError> {
        let update = Update::new()
            .set("name", s(name))
            .set("updated_at", s(at))
            .condition("attribute_exists(PK)");
        self.update_returning(&key(chat_user.chat_id, chat_user.id), update)
            .await
    }

    /// Moves a chat user from `current.email` to `updated.email` in one transaction:
    /// the old email item and code go, the new email must be free.
    pub async fn change_chat_user_email(
        &self,
        current: &ChatUserRecord,
        updated: &ChatUserRecord,
    ) -> Result<EmailChanged, ApiError> {
        let chat_id = current.chat_id;
        let pointer = ChatUserEmailPointer {
            chat_user_id: current.id,
        };
        let mut tx = Transaction::new(self);
        let record = tx.put(
            to_item(&key(chat_id, current.id), updated)?,
            "attribute_exists(PK) AND email = :old",
            &[(":old", s(&current.email))],
        )?;
        tx.delete(&email_key(chat_id, &current.email), None, &[])?;
        let new_email = tx.put_new(to_item(&email_key(chat_id, &updated.email), &pointer)?)?;
        auth_codes::tx_parts::discard(&mut tx, chat_id, &current.email)?;
        match tx.commit().await? {
            Ok(()) => Ok(EmailChanged::Changed),
            Err(cancelled) if cancelled.failed(new_email) => Ok(EmailChanged::EmailTaken),
            Err(cancelled) if cancelled.failed(record) => Ok(EmailChanged::ChangedMeanwhile),
            Err(cancelled) => Err(cancelled.unexpected("chat user email change")),
        }
    }

    /// Removes a chat user with its email item and any pending code (its messages
    /// stay); `false` when it was already gone.
    pub async fn delete_chat_user(&self, chat_user: &ChatUserRecord) -> Result<bool, ApiError> {
        let chat_id = chat_user.chat_id;
        let mut tx = Transaction::new(self);
        let record = tx.delete(
            &key(chat_id, chat_user.id),
            Some("attribute_exists(PK)"),
            &[],
        )?;
        tx.delete(&email_key(chat_id, &chat_user.email), None, &[])?;
        auth_codes::tx_parts::discard(&mut tx, chat_id, &chat_user.email)?;
        match tx.commit().await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.failed(record) => Ok(false),
            Err(cancelled) => Err(cancelled.unexpected("chat user delete")),
        }
    }

    /// Sets `verified_at` the first time; `None` if the chat user was deleted meanwhile.
    pub async fn mark_chat_user_verified(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        at: &str,
    ) -> Result<Option<ChatUserRecord>, ApiError> {
        let update = Update::new()
            .set_clause("verified_at = if_not_exists(verified_at, :now)")
            .value(":now", s(at))
            .condition("attribute_exists(PK)");
        self.update_returning(&key(chat_id, chat_user_id), update)
            .await
    }
}

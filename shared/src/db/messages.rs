//! Messages, and the ordering contract: a poller asking `?after=<last id it saw>` must
//! never miss a message and never see one twice. Ids are ULIDs, and a message is written
//! in one transaction with the chat item on the condition that its id sorts after the
//! chat's `last_message_id`. So ids become visible in strictly increasing order: once a
//! reader has seen id X, no message with an id below X can appear later. A writer that
//! loses the race (a later id was committed first) goes again above the winner's id,
//! which the failed condition hands back.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::retry::Backoff;
use super::tx::{Cancelled, Slot, Transaction};
use super::update::Update;
use super::{Db, Key, chat_users, chats, from_item, keys, s, to_item};
use crate::error::ApiError;
use crate::ids::{ChatId, ChatUserId, MessageId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub chat_user_id: ChatUserId,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl MessageRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "chat_id": self.chat_id,
            "chat_user_id": self.chat_user_id,
            "body": self.body,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "edited_at": self.edited_at,
        })
    }
}

/// The idempotency item of a `client_id`: points at the message it created.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClientIdPointer {
    message_id: MessageId,
}

const PREFIX: &str = "MSG#";

pub fn key(chat_id: ChatId, message_id: MessageId) -> Key {
    Key::new(
        keys::chat_partition(chat_id),
        format!("{PREFIX}{message_id}"),
    )
}

/// Makes a `client_id` unique per chat user: holds the id of the message it created.
fn client_id_key(chat_id: ChatId, chat_user_id: ChatUserId, client_id: &str) -> Key {
    Key::new(
        keys::chat_partition(chat_id),
        format!("CLIENT#{chat_user_id}#{client_id}"),
    )
}

/// A message to post.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub chat_id: ChatId,
    pub author: ChatUserId,
    pub body: String,
    pub client_id: Option<String>,
    /// The chat's newest message id as last read: the first id tried goes above it.
    pub newest_known: Option<MessageId>,
}

#[derive(Debug)]
pub enum Posted {
    New(MessageRecord),
    /// The same `client_id` was sent before: the first message, unchanged.
    Repeat(MessageRecord),
    /// The same `client_id` was sent before, and that message was deleted since.
    RepeatOfDeleted,
    AuthorGone,
    ChatGone,
    /// Lost the ordering race every time: the chat is extremely busy.
    Busy,
}

/// The outcome of one append transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Appended {
    Committed,
    ClientIdUsed,
    /// A message with a later id got in first (the newest id, as the chat hands it back).
    Raced(Option<MessageId>),
    AuthorGone,
    ChatGone,
    /// Another transaction held an item: back off and go again.
    Contended,
}

/// The items of one append transaction whose failure means something.
struct AppendSlots {
    chat: Slot,
    author: Slot,
    client_id: Option<Slot>,
}

/// Why an append was cancelled; `None` for a reason no retry or answer can fix.
fn classify(cancelled: &Cancelled, slots: &AppendSlots) -> Option<Appended> {
    Some(
        if slots.client_id.is_some_and(|slot| cancelled.failed(slot)) {
            Appended::ClientIdUsed
        } else if cancelled.failed(slots.author) {
            Appended::AuthorGone
        } else if cancelled.failed(slots.chat) {
            match cancelled.item(slots.chat) {
                Some(chat) => Appended::Raced(chats::tx_parts::newest_message(chat)),
                None => Appended::ChatGone,
            }
        } else if cancelled.conflicted() {
            Appended::Contended
        } else {
            return None;
        },
    )
}

/// Attempts at winning the chat's ordering condition before answering `Busy`.
const MAX_POST_ATTEMPTS: u32 = 60;

/// Where a page of messages starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Latest,
    Before(MessageId),
    After(MessageId),
}

#[derive(Debug)]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<MessageRecord>,
    pub has_more: bool,
}

impl Db {
    /// Posts a message in the chat's id order (see the module's documentation).
    pub async fn post_message(&self, new: NewMessage) -> Result<Posted, ApiError> {
        let mut newest = new.newest_known;
        let mut contention = Backoff::new(10, 80, MAX_POST_ATTEMPTS);
        for _ in 0..MAX_POST_ATTEMPTS {
            let now = crate::clock::now_rfc3339();
            let message = MessageRecord {
                id: MessageId::next_after(newest),
                chat_id: new.chat_id,
                chat_user_id: new.author,
                body: new.body.clone(),
                created_at: now.clone(),
                updated_at: now,
                edited_at: None,
                client_id: new.client_id.clone(),
            };
            match self.append(&message).await? {
                Appended::Committed => return Ok(Posted::New(message)),
                Appended::ClientIdUsed => return self.repeat(&new).await,
                Appended::AuthorGone => return Ok(Posted::AuthorGone),
                Appended::ChatGone => return Ok(Posted::ChatGone),
                // A later id won: go again at once, above it.
                Appended::Raced(above) => newest = above,
                Appended::Contended => {
                    if !contention.wait().await {
                        break;
                    }
                }
            }
        }
        Ok(Posted::Busy)
    }

    /// One try: the chat's ordering condition, the author still a chat user, the
    /// message, and its client id (unique per chat user), in one transaction.
    async fn append(&self, message: &MessageRecord) -> Result<Appended, ApiError> {
        let chat_id = message.chat_id;
        let mut tx = Transaction::new(self);
        let chat = chats::tx_parts::advance_last_message(
            &mut tx,
            chat_id,
            message.id,
            &message.created_at,
        )?;
        let author = tx.check(
            &chat_users::key(chat_id, message.chat_user_id),
            "attribute_exists(PK)",
        )?;
        tx.put_new(to_item(&key(chat_id, message.id), message)?)?;
        let client_id = match &message.client_id {
            Some(client_id) => {
                let pointer = ClientIdPointer {
                    message_id: message.id,
                };
                let pointer_key = client_id_key(chat_id, message.chat_user_id, client_id);
                Some(tx.put_new(to_item(&pointer_key, &pointer)?)?)
            }
            None => None,
        };
        let slots = AppendSlots {
            chat,
            author,
            client_id,
        };
        match tx.commit().await? {
            Ok(()) => Ok(Appended::Committed),
            Err(cancelled) => {
                classify(&cancelled, &slots).ok_or_else(|| cancelled.unexpected("message append"))
            }
        }
    }

    /// The message an earlier post with the same `client_id` created.
    async fn repeat(&self, new: &NewMessage) -> Result<Posted, ApiError> {
        let Some(client_id) = new.client_id.as_deref() else {
            return Err(ApiError::internal("a repeat without a client id"));
        };
        let pointer: Option<ClientIdPointer> = self
            .get(&client_id_key(new.chat_id, new.author, client_id))
            .await?;
        let message = match pointer {
            Some(pointer) => self.message(new.chat_id, pointer.message_id).await?,
            None => None,
        };
        Ok(message.map_or(Posted::RepeatOfDeleted, Posted::Repeat))
    }

    pub async fn message(
        &self,
        chat_id: ChatId,
        message_id: MessageId,
    ) -> Result<Option<MessageRecord>, ApiError> {
        self.get(&key(chat_id, message_id)).await
    }

    /// One `Query` per page in the chat's partition, bounded by the window's id.
    pub async fn list_messages(
        &self,
        chat_id: ChatId,
        window: Window,
        per_page: usize,
    ) -> Result<MessagePage, ApiError> {
        let bound = |id: MessageId| format!("{PREFIX}{id}");
        let end = format!("{PREFIX}~");
        // Bounds are inclusive in DynamoDB: the window's own message is dropped below,
        // so one more than a page plus one tells whether there is more.
        let (low, high, newest_first, exclude) = match window {
            Window::Latest => (PREFIX.to_owned(), end, true, None),
            Window::Before(id) => (PREFIX.to_owned(), bound(id), true, Some(id)),
            Window::After(id) => (bound(id), end, false, Some(id)),
        };
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
            .expression_attribute_values(":pk", s(keys::chat_partition(chat_id)))
            .expression_attribute_values(":low", AttributeValue::S(low))
            .expression_attribute_values(":high", AttributeValue::S(high))
            .scan_index_forward(!newest_first)
            .limit((per_page + 2) as i32)
            .consistent_read(true)
            .send()
            .await?;
        let mut messages = Vec::with_capacity(per_page + 2);
        for item in output.items.unwrap_or_default() {
            let message: MessageRecord = from_item(item)?;
            if Some(message.id) != exclude {
                messages.push(message);
            }
        }
        let has_more = messages.len() > per_page;
        messages.truncate(per_page);
        if newest_first {
            messages.reverse();
        }
        Ok(MessagePage { messages, has_more })
    }

    /// Replaces the body of a message by its author; `None` when it is gone (or, should
    /// the caller not have checked, not the author's).
    pub async fn edit_message(
        &self,
        message: &MessageRecord,
        body: String,
        at: &str,
    ) -> Result<Option<MessageRecord>, ApiError> {
        let update = Update::new()
            .set("body", s(body))
            .set("edited_at", s(at))
            .set("updated_at", s(at))
            .condition("attribute_exists(PK) AND chat_user_id = :author")
            .value(":author", s(message.chat_user_id.to_string()));
        self.update_returning(&key(message.chat_id, message.id), update)
            .await
    }

    /// Deletes a message and frees its `client_id`; `false` when it was already gone.
    pub async fn delete_message(&self, message: &MessageRecord) -> Result<bool, ApiError> {
        let mut tx = Transaction::new(self);
        let record = tx.delete(
            &key(message.chat_id, message.id),
            Some("attribute_exists(PK)"),
            &[],
        )?;
        if let Some(client_id) = &message.client_id {
            let pointer = client_id_key(message.chat_id, message.chat_user_id, client_id);
            tx.delete(&pointer, None, &[])?;
        }
        match tx.commit().await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.failed(record) => Ok(false),
            Err(cancelled) => Err(cancelled.unexpected("message delete")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(with_client_id: bool) -> AppendSlots {
        AppendSlots {
            chat: Slot::at(0),
            author: Slot::at(1),
            client_id: with_client_id.then(|| Slot::at(3)),
        }
    }

    const FAILED: &str = "ConditionalCheckFailed";

    #[test]
    fn a_used_client_id_wins_over_every_other_reason() {
        let cancelled = Cancelled::of(&[
            (FAILED, None),
            (FAILED, None),
            ("None", None),
            (FAILED, None),
        ]);
        assert_eq!(
            classify(&cancelled, &slots(true)),
            Some(Appended::ClientIdUsed)
        );
        assert_eq!(
            classify(&cancelled, &slots(false)),
            Some(Appended::AuthorGone)
        );
    }

    #[test]
    fn a_failed_chat_condition_is_a_race_or_a_gone_chat() {
        let newest = MessageId::new();
        let chat = std::collections::HashMap::from([
            ("id".to_owned(), s(ChatId::new().to_string())),
            ("last_message_id".to_owned(), s(newest.to_string())),
        ]);
        let raced = Cancelled::of(&[(FAILED, Some(chat)), ("None", None), ("None", None)]);
        assert_eq!(
            classify(&raced, &slots(false)),
            Some(Appended::Raced(Some(newest)))
        );
        let gone = Cancelled::of(&[(FAILED, None), ("None", None), ("None", None)]);
        assert_eq!(classify(&gone, &slots(false)), Some(Appended::ChatGone));
    }

    #[test]
    fn conflicts_back_off_and_anything_else_is_unexpected() {
        let conflict = Cancelled::of(&[("TransactionConflict", None), ("None", None)]);
        assert_eq!(
            classify(&conflict, &slots(false)),
            Some(Appended::Contended)
        );
        let odd = Cancelled::of(&[("ValidationError", None), ("None", None)]);
        assert_eq!(classify(&odd, &slots(false)), None);
    }

    #[test]
    fn keys_sort_messages_by_id() {
        let chat = ChatId::new();
        let first = MessageId::new();
        let second = MessageId::next_after(Some(first));
        assert!(key(chat, first).sk < key(chat, second).sk);
        assert!(key(chat, second).sk < format!("{PREFIX}~"));
    }
}

//! Messages, and the ordering contract: a poller asking `?after=<last id it saw>` must
//! never miss a message and never see one twice. Ids are ULIDs, and a message is written
//! in one transaction with the chat item on the condition that its id sorts after the
//! chat's `last_message_id`. So ids become visible in strictly increasing order: once a
//! reader has seen id X, no message with an id below X can appear later. A writer that
//! loses the race (a later id was committed first) goes again above the winner's id,
//! which the failed condition hands back.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::events::{ChatHead, Committed, NewEvent, Staged};
use super::limits::{self, Limit, Taken};
use super::page::KeyRange;
use super::tx::{Cancelled, Slot, Transaction};
use super::update::Update;
use super::{
    Db, Item, Key, chat_users, chats, expire_after, from_item, is_expired, keys, s, to_item,
};
use crate::error::ApiError;
use crate::events::{DeletedBy, EventType};
use crate::ids::{ChatId, ChatUserId, MessageId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: MessageId,
    /// The `seq` of its `message.created` event: a read marker at or past it has seen it.
    #[serde(default)]
    pub seq: u64,
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
            "seq": self.seq,
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

/// How many messages one chat user may send a minute (`MESSAGES_PER_MINUTE`): counted
/// per chat user in a fixed one-minute window, so a burst of that many goes through and
/// the next waits for the window's end.
pub fn sending_rate(per_minute: u32) -> Limit {
    Limit {
        name: "messages",
        max: per_minute,
        window_ms: 60_000,
    }
}

/// A message to post.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub chat_id: ChatId,
    pub author: ChatUserId,
    pub body: String,
    pub client_id: Option<String>,
    /// The chat's counters as last read: the first id tried goes above its newest.
    pub head: ChatHead,
    /// How many messages one chat user may send: counted in the append's transaction.
    pub rate: Limit,
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
    /// The author sent its `rate` already in this window.
    TooFast {
        retry_after_secs: u64,
    },
}

/// The items of one append transaction whose failure means something.
struct AppendSlots {
    author: Slot,
    client_id: Option<Slot>,
    rate: Slot,
}

/// Why an append was refused (a moved chat head is retried before this is asked).
fn classify(
    cancelled: &Cancelled,
    head: Slot,
    slots: &AppendSlots,
    too_fast: Taken,
) -> Option<Posted> {
    Some(
        if slots.client_id.is_some_and(|slot| cancelled.failed(slot)) {
            // Answered by a read of the earlier message: see `repeat`. A repeat is
            // answered even past the rate: it sends nothing new.
            Posted::RepeatOfDeleted
        } else if cancelled.failed(slots.author) {
            Posted::AuthorGone
        } else if cancelled.failed(head) && cancelled.item(head).is_none() {
            Posted::ChatGone
        } else if let (true, Taken::Exceeded { retry_after_secs }) =
            (cancelled.failed(slots.rate), too_fast)
        {
            Posted::TooFast { retry_after_secs }
        } else {
            return None;
        },
    )
}

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
    /// Posts a message in the chat's id order (see the module's documentation), with
    /// its `message.created` event.
    pub async fn post_message(&self, new: NewMessage) -> Result<Posted, ApiError> {
        let outcome = self
            .commit_with_event(new.head, |tx, head| {
                let at_ms = crate::clock::now_millis();
                let now = crate::clock::rfc3339(at_ms);
                let message = MessageRecord {
                    id: MessageId::next_after(head.newest_message),
                    seq: head.seq + 1,
                    chat_id: new.chat_id,
                    chat_user_id: new.author,
                    body: new.body.clone(),
                    created_at: now.clone(),
                    updated_at: now,
                    edited_at: None,
                    client_id: new.client_id.clone(),
                };
                let (head, slots) = self.stage_append(tx, head, &message, new.rate, at_ms)?;
                Ok(Staged {
                    head,
                    rest: (message, slots, at_ms),
                })
            })
            .await?;
        match outcome {
            Committed::Done {
                rest: (message, ..),
                ..
            } => Ok(Posted::New(message)),
            Committed::Refused {
                cancelled,
                head,
                rest: (_, slots, at_ms),
            } => match classify(&cancelled, head, &slots, new.rate.exceeded(at_ms)) {
                Some(Posted::RepeatOfDeleted) => self.repeat(&new).await,
                Some(posted) => Ok(posted),
                None => Err(cancelled.unexpected("message append")),
            },
        }
    }

    /// The items of one append: the chat head (its ordering condition and the event),
    /// the author still a chat user, the message, its client id (unique per chat user),
    /// and the author's count against `rate`.
    fn stage_append(
        &self,
        tx: &mut Transaction<'_>,
        head: ChatHead,
        message: &MessageRecord,
        rate: Limit,
        at_ms: i64,
    ) -> Result<(Slot, AppendSlots), ApiError> {
        let chat_id = message.chat_id;
        let retention_days = head.retention_days;
        // Ids become visible in strictly increasing order (see the module's documentation).
        let ordering = Update::new()
            .set("last_message_id", s(message.id.to_string()))
            .set("last_message_at", s(&message.created_at))
            .condition(
                "attribute_not_exists(#last_message_id) OR #last_message_id < :last_message_id",
            );
        let event = NewEvent::new(EventType::MessageCreated, message.resource());
        let head = chats::tx_parts::advance(tx, head, event, ordering, at_ms)?;
        let author = tx.check(
            &chat_users::key(chat_id, message.chat_user_id),
            "attribute_exists(PK)",
        )?;
        // The chat's retention: the message and its client id go together.
        let kept = |mut item: Item| {
            expire_after(&mut item, at_ms, retention_days);
            item
        };
        tx.put_new(kept(to_item(&key(chat_id, message.id), message)?))?;
        let client_id = match &message.client_id {
            Some(client_id) => {
                let pointer = ClientIdPointer {
                    message_id: message.id,
                };
                let pointer_key = client_id_key(chat_id, message.chat_user_id, client_id);
                Some(tx.put_new(kept(to_item(&pointer_key, &pointer)?))?)
            }
            None => None,
        };
        let rate = limits::tx_parts::take(tx, &rate, &message.chat_user_id.to_string(), at_ms)?;
        Ok((
            head,
            AppendSlots {
                author,
                client_id,
                rate,
            },
        ))
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

    /// `None` when there is none, or it is past its chat's retention.
    pub async fn message(
        &self,
        chat_id: ChatId,
        message_id: MessageId,
    ) -> Result<Option<MessageRecord>, ApiError> {
        let item = self.get_item(&key(chat_id, message_id)).await?;
        let now_secs = crate::clock::now_millis() / 1000;
        item.filter(|item| !is_expired(item, now_secs))
            .map(from_item)
            .transpose()
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
        let items = self
            .query_range(KeyRange {
                partition: keys::chat_partition(chat_id),
                low,
                high,
                newest_first,
                limit: per_page + 2,
            })
            .await?;
        let mut messages = Vec::with_capacity(per_page + 2);
        let now_secs = crate::clock::now_millis() / 1000;
        // Past the chat's retention is gone, though DynamoDB deletes it later.
        for item in items.into_iter().filter(|item| !is_expired(item, now_secs)) {
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

    /// The whole conversation, oldest first, up to `max` messages (the transcript).
    pub async fn all_messages(
        &self,
        chat_id: ChatId,
        max: usize,
    ) -> Result<Vec<MessageRecord>, ApiError> {
        let mut all: Vec<MessageRecord> = Vec::new();
        // After the smallest id there is: from the first message on.
        let mut after = MessageId::from_ulid(ulid::Ulid::nil());
        while all.len() < max {
            let page = self
                .list_messages(chat_id, Window::After(after), 100)
                .await?;
            all.extend(page.messages);
            match (page.has_more, all.last()) {
                (true, Some(last)) => after = last.id,
                _ => break,
            }
        }
        all.truncate(max);
        Ok(all)
    }

    /// The messages one chat user wrote in a chat, oldest first, up to `max`: a `Query`
    /// of the chat's messages filtered to the author (DynamoDB reads them all to filter).
    pub async fn messages_by(
        &self,
        chat_id: ChatId,
        author: ChatUserId,
        max: usize,
    ) -> Result<Vec<MessageRecord>, ApiError> {
        let items = self
            .query_filtered(
                &keys::chat_partition(chat_id),
                PREFIX,
                (&["chat_user_id"], s(author.to_string())),
                max,
            )
            .await?;
        let now_secs = crate::clock::now_millis() / 1000;
        items
            .into_iter()
            .filter(|item| !is_expired(item, now_secs))
            .map(from_item)
            .collect()
    }

    /// Replaces the body of a message by its author and logs `message.updated`; `None`
    /// when it is gone (or, should the caller not have checked, not the author's).
    pub async fn edit_message(
        &self,
        head: ChatHead,
        message: &MessageRecord,
        body: String,
    ) -> Result<Option<MessageRecord>, ApiError> {
        let outcome = self
            .commit_with_event(head, |tx, head| {
                let at_ms = crate::clock::now_millis();
                let at = crate::clock::rfc3339(at_ms);
                let edited = MessageRecord {
                    body: body.clone(),
                    edited_at: Some(at.clone()),
                    updated_at: at,
                    ..message.clone()
                };
                let event = NewEvent::new(EventType::MessageUpdated, edited.resource());
                let head = chats::tx_parts::advance(tx, head, event, Update::new(), at_ms)?;
                let update = Update::new()
                    .set("body", s(&edited.body))
                    .set("edited_at", s(&edited.updated_at))
                    .set("updated_at", s(&edited.updated_at))
                    .condition("attribute_exists(PK) AND chat_user_id = :author")
                    .value(":author", s(message.chat_user_id.to_string()));
                tx.update_with(&key(message.chat_id, message.id), update)?;
                Ok(Staged { head, rest: edited })
            })
            .await?;
        match outcome {
            Committed::Done { rest, .. } => Ok(Some(rest)),
            Committed::Refused { cancelled, .. } if cancelled.any_failed() => Ok(None),
            Committed::Refused { cancelled, .. } => Err(cancelled.unexpected("message edit")),
        }
    }

    /// Deletes a message, frees its `client_id`, and logs its tombstone
    /// (`message.deleted`); `false` when it was already gone.
    pub async fn delete_message(
        &self,
        head: ChatHead,
        message: &MessageRecord,
        deleted_by: DeletedBy,
    ) -> Result<bool, ApiError> {
        let outcome = self
            .commit_with_event(head, |tx, head| {
                let event =
                    NewEvent::new(EventType::MessageDeleted, deleted_by.tombstone(message.id));
                let head = chats::tx_parts::advance(
                    tx,
                    head,
                    event,
                    Update::new(),
                    crate::clock::now_millis(),
                )?;
                tx.delete(
                    &key(message.chat_id, message.id),
                    Some("attribute_exists(PK)"),
                    &[],
                )?;
                if let Some(client_id) = &message.client_id {
                    let pointer = client_id_key(message.chat_id, message.chat_user_id, client_id);
                    tx.delete(&pointer, None, &[])?;
                }
                Ok(Staged { head, rest: () })
            })
            .await?;
        match outcome {
            Committed::Done { .. } => Ok(true),
            Committed::Refused { cancelled, .. } if cancelled.any_failed() => Ok(false),
            Committed::Refused { cancelled, .. } => Err(cancelled.unexpected("message delete")),
        }
    }

    /// How many of the newest messages were written by others after `last_read_seq`:
    /// one Query of at most [`UNREAD_WINDOW`] messages, so 100 means "100 or more".
    pub async fn unread_count(
        &self,
        chat_id: ChatId,
        reader: ChatUserId,
        last_read_seq: u64,
    ) -> Result<u32, ApiError> {
        let page = self
            .list_messages(chat_id, Window::Latest, UNREAD_WINDOW)
            .await?;
        Ok(count_unread(&page.messages, reader, last_read_seq))
    }
}

/// The most messages an unread count looks at (and so its cap).
pub const UNREAD_WINDOW: usize = 100;

fn count_unread(newest: &[MessageRecord], reader: ChatUserId, last_read_seq: u64) -> u32 {
    newest
        .iter()
        .filter(|m| m.seq > last_read_seq && m.chat_user_id != reader)
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(with_client_id: bool) -> AppendSlots {
        AppendSlots {
            author: Slot::at(2),
            client_id: with_client_id.then(|| Slot::at(4)),
            rate: Slot::at(5),
        }
    }

    const FAILED: &str = "ConditionalCheckFailed";
    const HEAD: Slot = Slot::at(0);
    const WAIT: Taken = Taken::Exceeded {
        retry_after_secs: 7,
    };

    #[test]
    fn a_used_client_id_wins_over_every_other_reason() {
        let cancelled = Cancelled::of(&[
            (FAILED, None),
            ("None", None),
            (FAILED, None),
            ("None", None),
            (FAILED, None),
        ]);
        assert!(matches!(
            classify(&cancelled, HEAD, &slots(true), WAIT),
            Some(Posted::RepeatOfDeleted)
        ));
        assert!(matches!(
            classify(&cancelled, HEAD, &slots(false), WAIT),
            Some(Posted::AuthorGone)
        ));
    }

    #[test]
    fn a_head_that_is_gone_is_a_gone_chat_and_anything_else_is_unexpected() {
        let gone = Cancelled::of(&[(FAILED, None), ("None", None), ("None", None)]);
        assert!(matches!(
            classify(&gone, HEAD, &slots(false), WAIT),
            Some(Posted::ChatGone)
        ));
        let odd = Cancelled::of(&[("ValidationError", None), ("None", None), ("None", None)]);
        assert!(classify(&odd, HEAD, &slots(false), WAIT).is_none());
    }

    #[test]
    fn a_full_rate_window_is_too_fast_unless_the_send_is_a_repeat() {
        let mut reasons = vec![("None", None); 6];
        reasons[5] = (FAILED, None);
        let too_fast = Cancelled::of(&reasons);
        assert!(matches!(
            classify(&too_fast, HEAD, &slots(false), WAIT),
            Some(Posted::TooFast {
                retry_after_secs: 7
            })
        ));
        reasons[4] = (FAILED, None);
        let repeat = Cancelled::of(&reasons);
        assert!(matches!(
            classify(&repeat, HEAD, &slots(true), WAIT),
            Some(Posted::RepeatOfDeleted)
        ));
    }

    fn message(author: ChatUserId, seq: u64) -> MessageRecord {
        MessageRecord {
            id: MessageId::new(),
            seq,
            chat_id: ChatId::new(),
            chat_user_id: author,
            body: "x".into(),
            created_at: "t".into(),
            updated_at: "t".into(),
            edited_at: None,
            client_id: None,
        }
    }

    #[test]
    fn unread_counts_only_others_messages_after_the_marker() {
        let (me, other) = (ChatUserId::new(), ChatUserId::new());
        let newest = [
            message(other, 3),
            message(me, 4),
            message(other, 5),
            message(other, 7),
        ];
        assert_eq!(count_unread(&newest, me, 0), 3);
        assert_eq!(count_unread(&newest, me, 4), 2);
        assert_eq!(count_unread(&newest, me, 7), 0);
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

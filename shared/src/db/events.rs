//! The event log's storage: one item per event in the chat's partition, written in the
//! same transaction as the change it records, with the chat item's `event_seq` as the
//! counter that transaction is conditional on (see [`super::chats::tx_parts::advance`]).
//! Two writers that read the same `event_seq` cannot both commit: the loser goes again
//! with the counter the failed condition hands back, so `seq` values are dense.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use super::page::KeyRange;
use super::retry::Backoff;
use super::tx::{Cancelled, Slot, Transaction};
use super::{Db, Item, Key, expire_after, from_item, is_expired, keys, to_item};
use crate::error::ApiError;
use crate::events::{Event, EventType};
use crate::ids::{ChatId, ChatUserId, EntityId, MessageId};

const PREFIX: &str = "EVT#";

/// Zero-padded so that sort keys sort by `seq` (12 digits: a trillion events a chat).
pub(crate) fn key(chat_id: ChatId, seq: u64) -> Key {
    Key::new(keys::chat_partition(chat_id), format!("{PREFIX}{seq:012}"))
}

/// The chat item's counters as last read: the next event is `seq + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatHead {
    pub chat_id: ChatId,
    pub seq: u64,
    pub newest_message: Option<MessageId>,
    /// The chat's message retention (its company's): how long what is appended is kept.
    pub retention_days: Option<u32>,
}

impl ChatHead {
    /// The head as a chat item handed back by a failed condition holds it.
    pub(crate) fn from_item(chat_id: ChatId, item: &Item) -> Self {
        let seq = match item.get("event_seq") {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
            _ => 0,
        };
        let newest_message = match item.get("last_message_id") {
            Some(AttributeValue::S(id)) => MessageId::parse(id),
            _ => None,
        };
        let retention_days = match item.get("retention_days") {
            Some(AttributeValue::N(n)) => n.parse().ok(),
            _ => None,
        };
        Self {
            chat_id,
            seq,
            newest_message,
            retention_days,
        }
    }
}

/// An event to append: its type and what it says (as operators see it).
#[derive(Debug, Clone)]
pub(crate) struct NewEvent {
    pub(crate) kind: EventType,
    pub(crate) data: Value,
}

impl NewEvent {
    pub(crate) fn new(kind: EventType, data: Value) -> Self {
        Self { kind, data }
    }
}

/// What one attempt staged: the chat head's slot, and the caller's own slots and values.
pub(crate) struct Staged<S> {
    pub(crate) head: Slot,
    pub(crate) rest: S,
}

/// How a write with an event ended.
pub(crate) enum Committed<S> {
    /// Written.
    Done { rest: S },
    /// Not written, for a reason of the caller's (its conditions, or the chat's own).
    Refused {
        cancelled: Cancelled,
        head: Slot,
        rest: S,
    },
}

/// Attempts at one write before the chat counts as too busy (each loses only to a
/// write that got in, so this bounds the writers racing for one chat at once).
const MAX_ATTEMPTS: u32 = 200;

/// One page of a chat's log.
#[derive(Debug)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub has_more: bool,
}

#[derive(Debug)]
pub enum EventsRead {
    Page(EventPage),
    /// `after` is older than the oldest event kept: the client must reload.
    Expired,
}

impl Db {
    /// The stored item of an event, kept for the log's retention period, or the chat's
    /// message retention when that is shorter (events carry what messages say).
    pub(crate) fn event_item(
        &self,
        event: &Event,
        now_ms: i64,
        retention_days: Option<u32>,
    ) -> Result<Item, ApiError> {
        let mut item = to_item(&key(event.chat_id, event.seq), event)?;
        let log_days = self.event_retention_secs / (24 * 3600);
        let days = retention_days.map_or(log_days, |days| log_days.min(i64::from(days)));
        expire_after(&mut item, now_ms, u32::try_from(days).ok());
        Ok(item)
    }

    /// Commits a change of a chat's conversation together with its event. `stage` adds
    /// the change (including the chat head's update, through `chats::tx_parts::advance`)
    /// to a fresh transaction for the head as read; when another event took that `seq`
    /// first, or a transaction conflicted, it is called again with the new head.
    pub(crate) async fn commit_with_event<S>(
        &self,
        mut head: ChatHead,
        mut stage: impl FnMut(&mut Transaction<'_>, ChatHead) -> Result<Staged<S>, ApiError>,
    ) -> Result<Committed<S>, ApiError> {
        // Every writer but one loses each race for the counter: the losers back off with
        // jitter, so that N concurrent writers do not all collide again at once.
        let mut contention = Backoff::new(4, 100, MAX_ATTEMPTS);
        loop {
            let mut tx = Transaction::new(self);
            let staged = stage(&mut tx, head)?;
            let cancelled = match tx.commit().await? {
                Ok(()) => return Ok(Committed::Done { rest: staged.rest }),
                Err(cancelled) => cancelled,
            };
            // The write's own conditions decide first: a retry would not change them.
            let refused_by_its_own = cancelled.refused_besides(staged.head);
            let moved = cancelled
                .item(staged.head)
                .map(|chat| ChatHead::from_item(head.chat_id, chat))
                .filter(|now| cancelled.failed(staged.head) && now.seq != head.seq);
            let retry = match moved {
                Some(now) if !refused_by_its_own => {
                    head = now;
                    true
                }
                _ => cancelled.conflicted() && !cancelled.any_failed(),
            };
            if !retry {
                return Ok(Committed::Refused {
                    cancelled,
                    head: staged.head,
                    rest: staged.rest,
                });
            }
            if !contention.wait().await {
                return Err(ApiError::unavailable(
                    "TransactWriteItems",
                    "the chat's event counter stayed contended",
                ));
            }
        }
    }

    /// Events after `after` (all kept ones when `None`), oldest first. Items past their
    /// retention count as gone even before DynamoDB deletes them.
    pub async fn list_events(
        &self,
        chat_id: ChatId,
        after: Option<u64>,
        newest_seq: u64,
        per_page: usize,
        now_ms: i64,
    ) -> Result<EventsRead, ApiError> {
        let from = after.map_or(0, |a| a + 1);
        let items = self
            .query_range(KeyRange {
                partition: keys::chat_partition(chat_id),
                low: key(chat_id, from).sk,
                high: format!("{PREFIX}~"),
                newest_first: false,
                limit: per_page + 1,
            })
            .await?;
        let now_secs = now_ms / 1000;
        let mut events = Vec::with_capacity(per_page + 1);
        for item in items {
            if !is_expired(&item, now_secs) {
                events.push(from_item::<Event>(item)?);
            }
        }
        // The first event a client resuming after `after` needs is `after + 1`: if it is
        // no longer kept (but was written), the client missed what it cannot get back.
        let first_kept = events.first().map(|e| e.seq);
        let continues = match (after, first_kept) {
            (Some(after), Some(first)) => first == after + 1,
            (Some(after), None) => after >= newest_seq,
            (None, _) => true,
        };
        if !continues {
            return Ok(EventsRead::Expired);
        }
        let has_more = events.len() > per_page;
        events.truncate(per_page);
        Ok(EventsRead::Page(EventPage { events, has_more }))
    }
}

/// The event an item of the table is, if it is one (the stream hands the fan-out items).
impl Db {
    /// Rewrites the kept events about one chat user (`chat_user.*`, whose `data.id` is
    /// it) without its name and email: what an erasure leaves of them. A `Query` of the
    /// chat's log filtered to them, then an `UpdateItem` each (no new event: the log's
    /// `seq`s and what they say of everything else stay). How many were rewritten.
    pub async fn scrub_chat_user_events(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        erased_name: &str,
    ) -> Result<usize, ApiError> {
        let items = self
            .query_filtered(
                &keys::chat_partition(chat_id),
                PREFIX,
                (&["data", "id"], AttributeValue::S(chat_user_id.to_string())),
                usize::MAX,
            )
            .await?;
        for item in &items {
            let (Some(pk), Some(sk)) = (item.get(keys::PK), item.get(keys::SK)) else {
                continue;
            };
            let outcome = self
                .client()
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, pk.clone())
                .key(keys::SK, sk.clone())
                .update_expression("SET #data.#name = :erased REMOVE #data.#email")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_names("#data", "data")
                .expression_attribute_names("#name", "name")
                .expression_attribute_names("#email", "email")
                .expression_attribute_values(":erased", AttributeValue::S(erased_name.to_owned()))
                .send()
                .await;
            match outcome {
                Ok(_) => {}
                // Deleted by its TTL meanwhile: nothing left to rewrite.
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(items.len())
    }
}

pub fn event_of_item(item: Item) -> Result<Option<Event>, ApiError> {
    let is_event = matches!(
        item.get(keys::SK),
        Some(AttributeValue::S(sk)) if sk.starts_with(PREFIX)
    );
    if !is_event {
        return Ok(None);
    }
    from_item(item).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{n, s};
    use std::collections::HashMap;

    #[test]
    fn event_keys_sort_by_seq() {
        let chat = ChatId::new();
        assert!(key(chat, 9).sk < key(chat, 10).sk);
        assert!(key(chat, 999_999).sk < key(chat, 1_000_000).sk);
        assert_eq!(key(chat, 1).sk, "EVT#000000000001");
    }

    #[test]
    fn a_head_is_read_from_the_chat_item_handed_back() {
        let chat = ChatId::new();
        let newest = MessageId::new();
        let item = HashMap::from([
            ("event_seq".to_owned(), n(41)),
            ("last_message_id".to_owned(), s(newest.to_string())),
        ]);
        let head = ChatHead::from_item(chat, &item);
        assert_eq!((head.seq, head.newest_message), (41, Some(newest)));
        assert_eq!(ChatHead::from_item(chat, &HashMap::new()).seq, 0);
    }

    #[test]
    fn expiry_is_read_from_the_ttl() {
        let item = HashMap::from([(keys::TTL.to_owned(), n(100))]);
        assert!(is_expired(&item, 100));
        assert!(!is_expired(&item, 99));
        assert!(!is_expired(&HashMap::new(), 1_000));
    }
}

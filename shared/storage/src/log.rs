//! The event log's storage: one item per event in the chat's partition, written in the
//! same transaction as the change it records, with the chat item's `event_seq` as the
//! counter that transaction is conditional on (see [`append`]). Two writers that read the
//! same `event_seq` cannot both commit: the loser goes again with the counter the failed
//! condition hands back, so `seq` values are dense.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::chat::ChatRecord;
use domain::chat::ConversationStatus;
use domain::chat_user::ERASED_NAME;
use domain::clock;
use domain::conversation::StateRead;
use domain::events::{Change, Event};
use domain::ids::{ChatId, ChatUserId, CompanyId, EntityId, MessageId};

use crate::item::{Item, expire_after, from_item, is_expired, n, sort_key, to_item};
use crate::key::{Entity, chat_partition};
use crate::page::KeyRange;
use crate::retry::Backoff;
use crate::tx::{Cancelled, Slot, Transaction};
use crate::update::Update;
use crate::{Db, Key, Result, StoreError};

const PREFIX: &str = "EVT#";

impl Entity for Event {
    type Id<'a> = (ChatId, u64);

    /// Zero-padded so that sort keys sort by `seq` (12 digits: a trillion events a chat).
    fn key((chat_id, seq): (ChatId, u64)) -> Key {
        Key::new(chat_partition(chat_id), format!("{PREFIX}{seq:012}"))
    }
}

/// The chat item's counters as last read: the next event is `seq + 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChatHead {
    pub(crate) chat_id: ChatId,
    pub(crate) seq: u64,
    pub(crate) newest_message: Option<MessageId>,
    /// The chat's message retention (its company's): how long what is appended is kept.
    pub(crate) retention_days: Option<u32>,
    /// Messages ever posted (see `ChatRecord::message_count`).
    pub(crate) message_count: u64,
    /// A conversation's company and state (`None` for a room): what a message moves.
    pub(crate) conversation: Option<(CompanyId, StateRead)>,
}

impl ChatHead {
    /// The counters of `chat` as it was read.
    pub(crate) fn of(chat: &ChatRecord) -> Self {
        Self {
            chat_id: chat.id,
            seq: chat.event_seq,
            newest_message: chat.last_message_id,
            retention_days: chat.retention_days,
            message_count: chat.message_count,
            conversation: chat.is_conversation().then(|| {
                (
                    chat.company_id,
                    StateRead {
                        status: chat.status.unwrap_or_default(),
                        waiting_since: chat.waiting_since.clone(),
                        first_response_at: chat.first_response_at.clone(),
                        snoozed: chat.snoozed_until.is_some(),
                    },
                )
            }),
        }
    }

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
        let text = |attr: &str| match item.get(attr) {
            Some(AttributeValue::S(text)) => Some(text.clone()),
            _ => None,
        };
        let message_count = match item.get("message_count") {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
            _ => 0,
        };
        let conversation = match (text("kind").as_deref(), text("company_id")) {
            (Some("conversation"), Some(company)) => CompanyId::parse(&company).map(|company| {
                (
                    company,
                    StateRead {
                        status: text("status")
                            .as_deref()
                            .and_then(ConversationStatus::parse)
                            .unwrap_or_default(),
                        waiting_since: text("waiting_since"),
                        first_response_at: text("first_response_at"),
                        snoozed: text("snoozed_until").is_some(),
                    },
                )
            }),
            _ => None,
        };
        Self {
            chat_id,
            seq,
            newest_message,
            retention_days,
            message_count,
            conversation,
        }
    }
}

/// Appends `change` to the chat's log in `tx`: the chat item's counter moves from
/// `head.seq` to the event's `seq` (with `changes` to the chat item itself, and their
/// conditions), and the event item is put. A failed condition hands back the chat as it
/// was.
pub(crate) fn append(
    tx: &mut Transaction<'_>,
    head: ChatHead,
    change: Change,
    changes: Update,
    at_ms: i64,
) -> Result<Slot> {
    append_all(tx, head, vec![change], changes, at_ms)
}

/// [`append`] for several events of one write, logged in order (seq head + 1, + 2, …).
pub(crate) fn append_all(
    tx: &mut Transaction<'_>,
    head: ChatHead,
    logged: Vec<Change>,
    changes: Update,
    at_ms: i64,
) -> Result<Slot> {
    let last = head.seq + logged.len() as u64;
    // A chat written before the log existed has no counter yet.
    let counter = if head.seq == 0 {
        "attribute_not_exists(event_seq) OR event_seq = :head_seq"
    } else {
        "event_seq = :head_seq"
    };
    let update = changes
        .set("event_seq", n(last))
        .condition("attribute_exists(PK)")
        .condition(counter)
        .value(":head_seq", n(head.seq));
    let slot = tx.update_with(&ChatRecord::key(head.chat_id), update)?;
    for (seq, change) in (head.seq + 1..).zip(logged) {
        let event = Event {
            seq,
            chat_id: head.chat_id,
            at: clock::rfc3339(at_ms),
            change,
            actor: tx.db().actor.clone(),
        };
        let item = tx.db().event_item(&event, at_ms, head.retention_days)?;
        let event_slot = tx.put_new(item)?;
        tx.bookkeeping(event_slot);
    }
    Ok(slot)
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
    ) -> Result<Item> {
        let mut item = to_item(&Event::key((event.chat_id, event.seq)), event)?;
        let log_days = self.event_retention_secs / (24 * 3600);
        let days = retention_days.map_or(log_days, |days| log_days.min(i64::from(days)));
        expire_after(&mut item, now_ms, u32::try_from(days).ok());
        Ok(item)
    }

    /// Commits a change of a chat's conversation together with its event. `stage` adds
    /// the change (including the chat head's update, through [`append`]) to a fresh
    /// transaction for the head as read; when another event took that `seq` first, or a
    /// transaction conflicted, it is called again with the new head.
    pub(crate) async fn commit_with_event<S>(
        &self,
        mut head: ChatHead,
        mut stage: impl FnMut(&mut Transaction<'_>, ChatHead) -> Result<Staged<S>>,
    ) -> Result<Committed<S>> {
        // Every writer but one loses each race for the counter: the losers back off with
        // jitter, so that N concurrent writers do not all collide again at once.
        let mut contention = Backoff::new(4, 100, MAX_ATTEMPTS);
        loop {
            let mut tx = Transaction::new(self);
            let staged = stage(&mut tx, head.clone())?;
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
                return Err(StoreError::unavailable(
                    "TransactWriteItems",
                    "the chat's event counter stayed contended",
                ));
            }
        }
    }
}

/// The chats' logs.
#[derive(Debug, Clone, Copy)]
pub struct Log<'a> {
    pub(crate) db: &'a Db,
}

impl Log<'_> {
    /// The events of `chat` after `after` (all kept ones when `None`), oldest first.
    /// Items past their retention count as gone even before DynamoDB deletes them.
    pub async fn page(
        &self,
        chat: &ChatRecord,
        after: Option<u64>,
        per_page: usize,
        now_ms: i64,
    ) -> Result<EventsRead> {
        // `after` is at most the newest seq the caller can name (u64::MAX is a client's
        // number, not ours): past it, nothing follows.
        let from = after.map_or(0, |a| a.saturating_add(1));
        let items = self
            .db
            .query_range(KeyRange {
                partition: chat_partition(chat.id),
                low: Event::key((chat.id, from)).sk,
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
            (Some(after), Some(first)) => Some(first) == after.checked_add(1),
            (Some(after), None) => after >= chat.event_seq,
            (None, _) => true,
        };
        if !continues {
            return Ok(EventsRead::Expired);
        }
        let has_more = events.len() > per_page;
        events.truncate(per_page);
        Ok(EventsRead::Page(EventPage { events, has_more }))
    }

    /// One event as the log holds it now (rewritten by an edit or a delete since, it
    /// says so); `None` once it is past its retention.
    pub async fn event(&self, chat_id: ChatId, seq: u64, now_ms: i64) -> Result<Option<Event>> {
        let Some(item) = self.db.get_item(&Event::key((chat_id, seq))).await? else {
            return Ok(None);
        };
        if is_expired(&item, now_ms / 1000) {
            return Ok(None);
        }
        from_item(item).map(Some)
    }

    /// Rewrites the kept events about one chat user (`chat_user.*`, whose `data.id` is
    /// it) without its name and email: what an erasure leaves of them. A `Query` of the
    /// chat's log filtered to them, then an `UpdateItem` each (no new event: the log's
    /// `seq`s and what they say of everything else stay). How many were rewritten.
    pub async fn scrub_chat_user(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
    ) -> Result<usize> {
        self.db
            .rewrite_filtered(
                &chat_partition(chat_id),
                PREFIX,
                (&["data", "id"], AttributeValue::S(chat_user_id.to_string())),
                (&["data", "name"], ERASED_NAME),
                Some(&["data", "email"]),
            )
            .await
    }
}

/// The event an item of the table is, if it is one (the stream hands the fan-out items).
pub fn event_of_item(item: Item) -> Result<Option<Event>> {
    if !sort_key(&item).is_some_and(|sk| sk.starts_with(PREFIX)) {
        return Ok(None);
    }
    from_item(item).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::s;
    use std::collections::HashMap;

    #[test]
    fn event_keys_sort_by_seq() {
        let chat = ChatId::new();
        assert!(Event::key((chat, 9)).sk < Event::key((chat, 10)).sk);
        assert!(Event::key((chat, 999_999)).sk < Event::key((chat, 1_000_000)).sk);
        assert_eq!(Event::key((chat, 1)).sk, "EVT#000000000001");
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
}

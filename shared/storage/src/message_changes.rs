//! Editing and deleting a message, and what that does to the log: the earlier
//! `message.*` events of the message are rewritten in place, in the same transaction, so
//! that no kept event shows text its author took back. An edit leaves the current
//! message in each of them; a delete leaves its tombstone (the events become
//! `message.deleted`, the type whose data a tombstone is). The log's `seq`s stay as they
//! were; only what they say of this message changes.
//!
//! The events rewritten are the message's `message.created` (its `seq`) and each
//! `message.updated` (its `edit_seqs`), at most [`MAX_EDITS`] + 1: one transaction holds
//! them all. An event already past its retention (removed by DynamoDB, or about to be)
//! fails its `attribute_exists` condition and is left out on the next attempt.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::chat::ChatRecord;
use domain::clock;
use domain::events::{Change, Event, EventType};
use domain::ids::ChatUserId;
use domain::message::{MAX_EDITS, MessageRecord, Tombstone};
use serde::Serialize;

use crate::item::{from_item, n, s};
use crate::key::Entity;
use crate::log::{self, ChatHead, Committed, Staged};
use crate::messages::{ClientIdPointer, Messages};
use crate::tx::{Cancelled, Slot, Transaction};
use crate::update::Update;
use crate::{Result, StoreError};

/// How an edit ended.
#[derive(Debug)]
pub enum Edited {
    Done(MessageRecord),
    /// Gone (or, should the caller not have checked, not the author's).
    Gone,
    /// It was edited [`MAX_EDITS`] times already.
    TooManyEdits,
}

/// What the earlier events of a message are to say now.
enum Rewrite<'a> {
    Current(&'a MessageRecord),
    Deleted(Tombstone),
}

/// One earlier event being rewritten, and its slot.
struct Rewritten {
    seq: u64,
    slot: Slot,
}

/// Attempts at one edit or delete: each loses only to a concurrent change of the same
/// message or to an event leaving the log.
const MAX_ATTEMPTS: usize = 8;

fn attribute<T: Serialize>(value: &T) -> Result<AttributeValue> {
    Ok(serde_dynamo::to_attribute_value(value)?)
}

/// Rewrites the message's earlier events (`seqs`) in `tx`.
fn stage_rewrites(
    tx: &mut Transaction<'_>,
    message: &MessageRecord,
    seqs: &[u64],
    rewrite: &Rewrite<'_>,
) -> Result<Vec<Rewritten>> {
    let (kind, data) = match rewrite {
        Rewrite::Current(current) => (None, attribute(&current.resource())?),
        Rewrite::Deleted(tombstone) => (Some(EventType::MessageDeleted), attribute(tombstone)?),
    };
    let mut rewritten = Vec::with_capacity(seqs.len());
    for &seq in seqs {
        let mut update = Update::new()
            .set("data", data.clone())
            .condition("attribute_exists(PK)");
        if let Some(kind) = kind {
            update = update.set("type", s(kind.name()));
        }
        let slot = tx.update_with(&Event::key((message.chat_id, seq)), update)?;
        rewritten.push(Rewritten { seq, slot });
    }
    Ok(rewritten)
}

/// The message's earlier events: its creation and its edits.
fn earlier_events(message: &MessageRecord) -> Vec<u64> {
    let created = (message.seq > 0).then_some(message.seq);
    created
        .into_iter()
        .chain(message.edit_seqs.iter().copied())
        .collect()
}

/// What a refused attempt says: the message as it is now (`None`: gone), and which
/// earlier events are no longer kept.
fn after_refusal(
    cancelled: &Cancelled,
    message_slot: Slot,
    rewritten: &[Rewritten],
) -> Result<(Option<Option<MessageRecord>>, Vec<u64>)> {
    let gone_events = rewritten
        .iter()
        .filter(|r| cancelled.failed(r.slot))
        .map(|r| r.seq)
        .collect();
    let message = if cancelled.failed(message_slot) {
        Some(
            cancelled
                .item(message_slot)
                .cloned()
                .map(from_item)
                .transpose()?,
        )
    } else {
        None
    };
    Ok((message, gone_events))
}

impl Messages<'_> {
    /// Replaces the body of a message by its author, logs `message.updated`, and leaves
    /// the new text in the message's earlier events.
    pub async fn edit(
        &self,
        chat: &ChatRecord,
        message: &MessageRecord,
        body: String,
    ) -> Result<Edited> {
        let mut message = message.clone();
        let mut gone: Vec<u64> = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            if message.edit_seqs.len() >= MAX_EDITS {
                return Ok(Edited::TooManyEdits);
            }
            let earlier: Vec<u64> = earlier_events(&message)
                .into_iter()
                .filter(|seq| !gone.contains(seq))
                .collect();
            let read = message.clone();
            let outcome = self
                .db
                .commit_with_event(ChatHead::of(chat), |tx, head| {
                    let at_ms = clock::now_millis();
                    let at = clock::rfc3339(at_ms);
                    let mut edited = MessageRecord {
                        body: body.clone(),
                        edited_at: Some(at.clone()),
                        updated_at: at,
                        ..read.clone()
                    };
                    edited.edit_seqs.push(head.seq + 1);
                    let change = Change::MessageUpdated(edited.resource().into_owned());
                    let head = log::append(tx, head, change, Update::new(), at_ms)?;
                    let seqs: Vec<AttributeValue> =
                        edited.edit_seqs.iter().map(|q| n(*q)).collect();
                    let update = Update::new()
                        .set("body", s(&edited.body))
                        .set("edited_at", s(&edited.updated_at))
                        .set("updated_at", s(&edited.updated_at))
                        .set("edit_seqs", AttributeValue::L(seqs))
                        // As read: a concurrent edit adds an event this one must rewrite.
                        .condition("attribute_exists(PK)")
                        .condition("updated_at = :read_updated_at")
                        .value(":read_updated_at", s(&read.updated_at));
                    let message_slot =
                        tx.update_with(&MessageRecord::key((read.chat_id, read.id)), update)?;
                    let rewritten =
                        stage_rewrites(tx, &read, &earlier, &Rewrite::Current(&edited))?;
                    Ok(Staged {
                        head,
                        rest: (edited, message_slot, rewritten),
                    })
                })
                .await?;
            let (cancelled, message_slot, rewritten) = match outcome {
                Committed::Done {
                    rest: (edited, ..), ..
                } => return Ok(Edited::Done(edited)),
                Committed::Refused {
                    cancelled,
                    rest: (_, message_slot, rewritten),
                    ..
                } => (cancelled, message_slot, rewritten),
            };
            let (now, left_the_log) = after_refusal(&cancelled, message_slot, &rewritten)?;
            match now {
                Some(None) => return Ok(Edited::Gone),
                Some(Some(current)) if current.chat_user_id != message.chat_user_id => {
                    return Ok(Edited::Gone);
                }
                Some(Some(current)) => message = current,
                None if left_the_log.is_empty() => {
                    return Err(cancelled.unexpected("message edit"));
                }
                None => {}
            }
            gone.extend(left_the_log);
        }
        Err(StoreError::unavailable(
            "TransactWriteItems",
            "the message kept changing during its edit",
        ))
    }

    /// Deletes a message, frees its `client_id`, logs its tombstone (`message.deleted`,
    /// naming the author when it deleted it: `author`), and leaves the tombstone in the
    /// message's earlier events; `false` when it was already gone.
    pub async fn delete(
        &self,
        chat: &ChatRecord,
        message: &MessageRecord,
        author: Option<ChatUserId>,
    ) -> Result<bool> {
        let tombstone = Tombstone {
            internal: message.internal,
            ..Tombstone::new(message.id, author)
        };
        let mut message = message.clone();
        let mut gone: Vec<u64> = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            let earlier: Vec<u64> = earlier_events(&message)
                .into_iter()
                .filter(|seq| !gone.contains(seq))
                .collect();
            let read = message.clone();
            let outcome = self
                .db
                .commit_with_event(ChatHead::of(chat), |tx, head| {
                    let change = Change::MessageDeleted(tombstone);
                    let head = log::append(tx, head, change, Update::new(), clock::now_millis())?;
                    let message_slot = tx.delete(
                        &MessageRecord::key((read.chat_id, read.id)),
                        Some("attribute_exists(PK) AND updated_at = :read_updated_at"),
                        &[(":read_updated_at", s(&read.updated_at))],
                    )?;
                    if let Some(client_id) = &read.client_id {
                        let pointer =
                            ClientIdPointer::key((read.chat_id, &read.author_key(), client_id));
                        tx.delete(&pointer, None, &[])?;
                    }
                    // Its files go with it (the stream removes their objects).
                    crate::attachments::stage_delete(
                        tx,
                        read.chat_id,
                        read.attachments.iter().map(|a| a.id),
                    )?;
                    let rewritten =
                        stage_rewrites(tx, &read, &earlier, &Rewrite::Deleted(tombstone))?;
                    Ok(Staged {
                        head,
                        rest: (message_slot, rewritten),
                    })
                })
                .await?;
            let (cancelled, message_slot, rewritten) = match outcome {
                Committed::Done { .. } => return Ok(true),
                Committed::Refused {
                    cancelled,
                    rest: (message_slot, rewritten),
                    ..
                } => (cancelled, message_slot, rewritten),
            };
            let (now, left_the_log) = after_refusal(&cancelled, message_slot, &rewritten)?;
            match now {
                Some(None) => return Ok(false),
                Some(Some(current)) => message = current,
                None if left_the_log.is_empty() => {
                    return Err(cancelled.unexpected("message delete"));
                }
                None => {}
            }
            gone.extend(left_the_log);
        }
        Err(StoreError::unavailable(
            "TransactWriteItems",
            "the message kept changing during its delete",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{ChatId, MessageId};

    #[test]
    fn a_message_s_earlier_events_are_its_creation_and_its_edits() {
        let mut message = MessageRecord {
            id: MessageId::new(),
            seq: 4,
            chat_id: ChatId::new(),
            chat_user_id: Some(ChatUserId::new()),
            author: None,
            internal: false,
            body: "x".into(),
            created_at: "t".into(),
            updated_at: "t".into(),
            edited_at: None,
            client_id: None,
            edit_seqs: vec![],
            attachments: Vec::new(),
        };
        assert_eq!(earlier_events(&message), [4]);
        message.edit_seqs = vec![9, 12];
        assert_eq!(earlier_events(&message), [4, 9, 12]);
        // A message posted before the log existed has no creation event.
        message.seq = 0;
        assert_eq!(earlier_events(&message), [9, 12]);
    }
}

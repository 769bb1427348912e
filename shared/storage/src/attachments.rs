//! Attachments (spec §10): one item per upload slot, in its chat's partition
//! (`CHAT#<chat>` / `ATT#<attachment>`), so a chat's purge takes them with it.
//!
//! A slot is created pending, with the uploader's upload budgets counted in the same
//! transaction, and a TTL of a day (the bucket forgets the upload then too). The message
//! that names it attaches it in the message's own transaction (see `message_posts`): the
//! condition "pending, this chat, this uploader" makes each attachment attachable once,
//! and the TTL becomes the message's. Deleting the message deletes its attachments'
//! items (see `message_changes`).
//!
//! The item is the objects' owner: when it goes (a deleted message, a purged chat, an
//! erased chat user, retention's TTL, an upload never attached), the table's stream hands
//! its `REMOVE` to the `lifecycle` function, which removes both objects.

use domain::attachment::{AttachmentRecord, AttachmentState, PENDING_KEPT_SECS};
use domain::ids::{AttachmentId, ChatId, MessageId};
use domain::rate_limit::{Limit, Taken};

use crate::item::{Item, from_item, is_expired, n, s, to_item};
use crate::key::{Entity, SK, TTL, chat_partition};
use crate::rate_counters::take_some_in;
use crate::tx::{Slot, Transaction};
use crate::update::Update;
use crate::{Db, Key, Result};

pub(crate) const PREFIX: &str = "ATT#";

impl Entity for AttachmentRecord {
    type Id<'a> = (ChatId, AttachmentId);

    fn key((chat_id, id): (ChatId, AttachmentId)) -> Key {
        Key::new(chat_partition(chat_id), format!("{PREFIX}{id}"))
    }
}

/// The chat and attachment a removed item's keys name (the `lifecycle` function's
/// stream records), if they are an attachment's.
pub fn attachment_of_keys(keys: &Item) -> Option<(ChatId, AttachmentId)> {
    use aws_sdk_dynamodb::types::AttributeValue;
    use domain::ids::EntityId;
    let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) =
        (keys.get(crate::key::PK), keys.get(SK))
    else {
        return None;
    };
    let chat = ChatId::parse(pk.strip_prefix("CHAT#")?)?;
    let id = AttachmentId::parse(sk.strip_prefix(PREFIX)?)?;
    Some((chat, id))
}

/// How handing out a slot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Done,
    /// One of the uploader's budgets is spent: wait this long.
    OverBudget {
        retry_after_secs: u64,
    },
}

/// One budget a slot spends: a limit, per uploader, and how much of it.
#[derive(Debug, Clone, Copy)]
pub struct Spend {
    pub limit: Limit,
    pub amount: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct Attachments<'a> {
    pub(crate) db: &'a Db,
}

impl Db {
    pub fn attachments(&self) -> Attachments<'_> {
        Attachments { db: self }
    }
}

impl Attachments<'_> {
    /// Keeps a new pending slot, spending `budgets` of `budget_key` in the same write.
    pub async fn create(
        &self,
        record: &AttachmentRecord,
        budget_key: &str,
        budgets: &[Spend],
    ) -> Result<Created> {
        let mut tx = Transaction::new(self.db);
        let mut item = to_item(&AttachmentRecord::key((record.chat_id, record.id)), record)?;
        item.insert(
            TTL.to_owned(),
            n(record.created_ms / 1000 + PENDING_KEPT_SECS),
        );
        tx.put_new(item)?;
        let slots = budgets
            .iter()
            .map(|spend| {
                take_some_in(
                    &mut tx,
                    &spend.limit,
                    budget_key,
                    spend.amount,
                    record.created_ms,
                )
            })
            .collect::<Result<Vec<Slot>>>()?;
        match tx.commit().await? {
            Ok(()) => Ok(Created::Done),
            Err(cancelled) => {
                let spent = budgets
                    .iter()
                    .zip(&slots)
                    .filter(|(_, slot)| cancelled.failed(**slot))
                    .filter_map(|(spend, _)| match spend.limit.exceeded(record.created_ms) {
                        Taken::Exceeded { retry_after_secs } => Some(retry_after_secs),
                        Taken::Allowed => None,
                    })
                    .max();
                match spent {
                    Some(retry_after_secs) => Ok(Created::OverBudget { retry_after_secs }),
                    // A fresh id taken, or a conflict: nothing a caller did.
                    None => Err(cancelled.unexpected("attachment slot")),
                }
            }
        }
    }

    /// The attachments `ids` of the chat, in that order (`None`: no such item, or one
    /// past its TTL).
    pub async fn get_all(
        &self,
        chat: ChatId,
        ids: &[AttachmentId],
    ) -> Result<Vec<Option<AttachmentRecord>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<Key> = ids
            .iter()
            .map(|id| AttachmentRecord::key((chat, *id)))
            .collect();
        let now_secs = domain::clock::now_millis() / 1000;
        self.db
            .get_all(&keys.iter().collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|item| {
                item.filter(|item| !is_expired(item, now_secs))
                    .map(from_item)
                    .transpose()
            })
            .collect()
    }

    /// Removes the items of `uploader`'s attachments in the chat (an erased chat user's):
    /// the stream removes their objects. Its messages keep no filename (see
    /// `data_requests`).
    pub async fn delete_of_uploader(&self, chat: ChatId, uploader: &str) -> Result<usize> {
        let partition = chat_partition(chat);
        let uploader = aws_sdk_dynamodb::types::AttributeValue::S(uploader.to_owned());
        self.db
            .purge_filtered(&partition, PREFIX, (&["uploader"][..], uploader))
            .await
    }
}

/// Attaches `ids` to `message` in its transaction: each must be pending, of this chat
/// and of this uploader (a slot of another fails the write). Its TTL becomes the
/// message's (none when the chat keeps messages).
pub(crate) fn stage_attach(
    tx: &mut Transaction<'_>,
    chat: ChatId,
    uploader: &str,
    ids: &[AttachmentId],
    message: MessageId,
    message_ttl: Option<i64>,
) -> Result<Vec<Slot>> {
    ids.iter()
        .map(|id| {
            let update = Update::new()
                .set("state", s("attached"))
                .set("message_id", s(message.to_string()))
                .value(":pending", s("pending"))
                .value(":uploader", s(uploader))
                .value(":chat", s(chat.to_string()))
                .condition("#state = :pending AND uploader = :uploader AND chat_id = :chat");
            let update = match message_ttl {
                Some(ttl) => update.set(TTL, n(ttl)),
                None => update.remove(TTL),
            };
            tx.update_with(&AttachmentRecord::key((chat, *id)), update)
        })
        .collect()
}

/// Deletes a message's attachments' items with it (their objects follow, see above).
pub(crate) fn stage_delete(
    tx: &mut Transaction<'_>,
    chat: ChatId,
    ids: impl Iterator<Item = AttachmentId>,
) -> Result<()> {
    for id in ids {
        tx.delete(&AttachmentRecord::key((chat, id)), None, &[])?;
    }
    Ok(())
}

/// The state a pending record is in: the check the edge runs before a message names it.
pub fn attachable(record: &AttachmentRecord, chat: ChatId, uploader: &str, now_ms: i64) -> bool {
    record.state == AttachmentState::Pending
        && record.chat_id == chat
        && record.uploader == uploader
        && !record.expired(now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn removed_keys_name_their_attachment() {
        let (chat, id) = (ChatId::new(), AttachmentId::new());
        let key = AttachmentRecord::key((chat, id));
        let keys: Item = HashMap::from_iter(key.to_item());
        assert_eq!(attachment_of_keys(&keys), Some((chat, id)));
        let message = Key::new(chat_partition(chat), format!("MSG#{}", MessageId::new()));
        assert_eq!(attachment_of_keys(&message.to_item()), None);
    }
}

//! Chat users and the unique-email-in-chat item that points at each. Their tokens live
//! as long as the item: every chat-user request reads it. The writes that change a chat
//! user and log it are in [`crate::chat_user_changes`].

use aws_sdk_dynamodb::types::AttributeValue;
use domain::chat::ChatRecord;
use domain::chat_user::{ChatUserRecord, Removal, transcript_budget};
use domain::clock;
use domain::events::Change;
use domain::ids::{ChatId, ChatUserId};
use serde::{Deserialize, Serialize};

use crate::cap;
use crate::chats::must_exist;
use crate::item::{from_item, n, to_item};
use crate::key::{Entity, chat_partition};
use crate::log::{self, ChatHead, Committed, Staged};
use crate::page::{ListQuery, Page};
use crate::update::Update;
use crate::{Db, Key, Result, StoreError};

pub(crate) const PREFIX: &str = "MEMBER#";

impl Entity for ChatUserRecord {
    type Id<'a> = (ChatId, ChatUserId);

    fn key((chat_id, chat_user_id): (ChatId, ChatUserId)) -> Key {
        Key::new(chat_partition(chat_id), format!("{PREFIX}{chat_user_id}"))
    }
}

/// The unique-email-in-chat item: points at the chat user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChatUserEmailPointer {
    pub(crate) chat_user_id: ChatUserId,
    /// The chat user's own expiry: both go together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ttl: Option<i64>,
}

impl Entity for ChatUserEmailPointer {
    type Id<'a> = (ChatId, &'a str);

    /// Holds the chat-user id for an email within one chat (uniqueness by conditional put).
    fn key((chat_id, email): (ChatId, &str)) -> Key {
        Key::new(chat_partition(chat_id), format!("EMAIL#{email}"))
    }
}

impl ChatUserEmailPointer {
    pub(crate) fn of(chat_user: &ChatUserRecord) -> Self {
        Self {
            chat_user_id: chat_user.id,
            ttl: chat_user.ttl,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatUserInserted {
    Inserted,
    EmailTaken,
    ChatGone,
    /// The chat has [`domain::chat_user::MAX_CHAT_USERS_PER_CHAT`] participants.
    ChatFull,
}

/// The chat head's change when a chat user becomes a participant (+1, up to the cap) or
/// stops being one (-1).
pub(crate) fn count_change(delta: i64) -> Update {
    cap::CHAT_USERS.change(Update::new(), delta)
}

/// Reads of a chat user that changed under an update before that update gives up.
pub(crate) const MAX_REREADS: u32 = 5;

/// The chat users of every chat.
#[derive(Debug, Clone, Copy)]
pub struct ChatUsers<'a> {
    pub(crate) db: &'a Db,
}

impl ChatUsers<'_> {
    pub async fn get(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
    ) -> Result<Option<ChatUserRecord>> {
        self.db
            .get(&ChatUserRecord::key((chat_id, chat_user_id)))
            .await
    }

    /// A chat user with its chat, in one round trip; `None` when either is gone.
    pub async fn with_chat(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
    ) -> Result<Option<(ChatUserRecord, ChatRecord)>> {
        match self
            .db
            .get_many([
                &ChatUserRecord::key((chat_id, chat_user_id)),
                &ChatRecord::key(chat_id),
            ])
            .await?
        {
            [Some(chat_user), Some(chat)] => Ok(Some((from_item(chat_user)?, from_item(chat)?))),
            _ => Ok(None),
        }
    }

    fn list_query(chat_id: ChatId, per_page: usize, cursor: Option<String>) -> ListQuery {
        ListQuery {
            list: "chat-users",
            index: None,
            partition: chat_partition(chat_id),
            sort_prefix: PREFIX.to_owned(),
            per_page,
            cursor,
        }
    }

    pub async fn list(
        &self,
        chat_id: ChatId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<ChatUserRecord>> {
        self.db
            .list(&Self::list_query(chat_id, per_page, cursor))
            .await
    }

    /// Every chat user of a chat (the dispatcher's, per new message).
    pub async fn all(&self, chat_id: ChatId) -> Result<Vec<ChatUserRecord>> {
        self.db.list_all(Self::list_query(chat_id, 100, None)).await
    }

    /// Claims the queueing of one unread-message check due at `due_millis`; `false` when
    /// one is already pending (it will see this message too).
    pub async fn claim_notify_check(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        now_millis: i64,
        due_millis: i64,
    ) -> Result<bool> {
        let update = Update::new()
            .set("notify_pending_until", n(due_millis))
            .value(":now", n(now_millis))
            .condition("attribute_exists(PK)")
            .condition(
                "attribute_not_exists(notify_pending_until) OR notify_pending_until <= :now",
            );
        self.db
            .update_if(&ChatUserRecord::key((chat_id, chat_user_id)), update)
            .await
    }

    /// Claims the one unread-message email of a window, listing messages up to
    /// `newest_seq`: `false` when one went out less than `window_millis` ago, or when one
    /// already listed that message. The second condition makes a job that comes again
    /// (a queue redelivery, a retried dispatch) after the window a no-op instead of the
    /// same email twice.
    pub async fn claim_unread_email(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        newest_seq: u64,
        now_millis: i64,
        window_millis: i64,
    ) -> Result<bool> {
        let update = Update::new()
            .set("notified_at", n(now_millis))
            .set("notified_seq", n(newest_seq))
            .value(":since", n(now_millis - window_millis))
            .condition("attribute_exists(PK)")
            .condition("attribute_not_exists(notified_at) OR notified_at <= :since")
            .condition("attribute_not_exists(notified_seq) OR notified_seq < :notified_seq");
        self.db
            .update_if(&ChatUserRecord::key((chat_id, chat_user_id)), update)
            .await
    }

    /// Turns unread-message emails off for this chat user in this chat; `false` when the
    /// chat user is gone. Idempotent.
    pub async fn turn_off_unread_emails(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
    ) -> Result<bool> {
        let update = Update::new()
            .set("unread_emails_off", AttributeValue::Bool(true))
            .condition("attribute_exists(PK)");
        self.db
            .update_if(&ChatUserRecord::key((chat_id, chat_user_id)), update)
            .await
    }

    /// Refuses every chat-user token of this chat user issued until `now_ms`; `None` when
    /// the chat user is gone.
    pub async fn revoke_tokens(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        now_ms: i64,
    ) -> Result<Option<ChatUserRecord>> {
        let update = Update::new()
            .set("tokens_revoked_at_ms", n(now_ms))
            .condition("attribute_exists(PK)");
        let revoked: Option<ChatUserRecord> = self
            .db
            .update_returning(&ChatUserRecord::key((chat_id, chat_user_id)), update)
            .await?;
        if revoked.is_some() {
            // What its tokens opened closes with them.
            self.db
                .sockets()
                .close_chat_user(chat_id, chat_user_id)
                .await?;
        }
        Ok(revoked)
    }

    /// Records that a socket of this chat user closed now.
    pub async fn seen(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        now_millis: i64,
    ) -> Result<()> {
        let update = Update::new()
            .set("last_seen_at", n(now_millis))
            .condition("attribute_exists(PK)");
        self.db
            .update_if(&ChatUserRecord::key((chat_id, chat_user_id)), update)
            .await?;
        Ok(())
    }

    /// Takes one transcript from the chat user's budget (see [`transcript_budget`]);
    /// `Err(seconds)` to wait when it is spent, `Ok(false)` when the chat user is gone.
    pub async fn claim_transcript(
        &self,
        chat_user: &ChatUserRecord,
        now_millis: i64,
    ) -> Result<std::result::Result<bool, u64>> {
        let kept = match transcript_budget(&chat_user.transcripts_sent, now_millis) {
            Ok(kept) => kept,
            Err(wait) => return Ok(Err(wait)),
        };
        let mut sent: Vec<i64> = kept;
        sent.push(now_millis);
        // Conditional on the list read: two concurrent claims cannot both spend one slot.
        let before = serde_dynamo::to_attribute_value(&chat_user.transcripts_sent)?;
        let mut update = Update::new()
            .set("transcripts_sent", serde_dynamo::to_attribute_value(&sent)?)
            .condition("attribute_exists(PK)");
        update = if chat_user.transcripts_sent.is_empty() {
            update
                .condition(
                    "attribute_not_exists(transcripts_sent) OR size(transcripts_sent) = :zero",
                )
                .value(":zero", n(0))
        } else {
            update
                .condition("transcripts_sent = :before")
                .value(":before", before)
        };
        Ok(Ok(self
            .db
            .update_if(
                &ChatUserRecord::key((chat_user.chat_id, chat_user.id)),
                update,
            )
            .await?))
    }

    /// The chat users that `email` is in these chats (unverified joiners included), by
    /// their email items: a `BatchGetItem` per 100 chats, then one per 100 chat users.
    pub async fn by_email(&self, chat_ids: &[ChatId], email: &str) -> Result<Vec<ChatUserRecord>> {
        const BATCH: usize = 100;
        let mut member_keys = Vec::new();
        for chunk in chat_ids.chunks(BATCH) {
            let keys: Vec<Key> = chunk
                .iter()
                .map(|chat| ChatUserEmailPointer::key((*chat, email)))
                .collect();
            let found = self.db.get_all(&keys.iter().collect::<Vec<_>>()).await?;
            for (chat_id, item) in chunk.iter().zip(found) {
                if let Some(item) = item {
                    let pointer: ChatUserEmailPointer = from_item(item)?;
                    member_keys.push(ChatUserRecord::key((*chat_id, pointer.chat_user_id)));
                }
            }
        }
        let mut chat_users = Vec::with_capacity(member_keys.len());
        for chunk in member_keys.chunks(BATCH) {
            for item in self.db.get_all(&chunk.iter().collect::<Vec<_>>()).await? {
                chat_users.extend(item.map(from_item::<ChatUserRecord>).transpose()?);
            }
        }
        Ok(chat_users)
    }

    /// Adds a chat user with its email item; the chat must still exist (a concurrent
    /// chat delete wins) and the email must be free in the chat. With `announced`, the
    /// chat user's `chat_user.joined` is logged now; else at its first verification.
    pub async fn insert(
        &self,
        chat: &ChatRecord,
        chat_user: &ChatUserRecord,
    ) -> Result<ChatUserInserted> {
        let pointer = ChatUserEmailPointer::of(chat_user);
        let outcome = self
            .db
            .commit_with_event(ChatHead::of(chat), |tx, head| {
                let chat = if chat_user.announced {
                    let change = Change::ChatUserJoined(chat_user.resource(true).into_owned());
                    log::append(tx, head, change, count_change(1), clock::now_millis())?
                } else {
                    must_exist(tx, chat_user.chat_id)?
                };
                let email = tx.put_new(to_item(
                    &ChatUserEmailPointer::key((chat_user.chat_id, &chat_user.email)),
                    &pointer,
                )?)?;
                tx.put_new(to_item(
                    &ChatUserRecord::key((chat_user.chat_id, chat_user.id)),
                    chat_user,
                )?)?;
                Ok(Staged {
                    head: chat,
                    rest: email,
                })
            })
            .await?;
        match outcome {
            Committed::Done { .. } => Ok(ChatUserInserted::Inserted),
            Committed::Refused {
                cancelled, head, ..
            } if cancelled.failed(head) && cap::CHAT_USERS.is_full(cancelled.item(head)) => {
                Ok(ChatUserInserted::ChatFull)
            }
            Committed::Refused {
                cancelled, head, ..
            } if cancelled.failed(head) => Ok(ChatUserInserted::ChatGone),
            Committed::Refused {
                cancelled,
                rest: email,
                ..
            } if cancelled.failed(email) => Ok(ChatUserInserted::EmailTaken),
            Committed::Refused { cancelled, .. } => Err(cancelled.unexpected("chat user insert")),
        }
    }

    /// Removes a chat user with its email item (its messages stay; see `auth_codes` for
    /// its pending codes), logs `chat_user.removed` (for an erasure, with its name and
    /// email gone from the event), and closes its sockets; `false` when it was already
    /// gone.
    pub async fn delete(
        &self,
        chat: &ChatRecord,
        chat_user: &ChatUserRecord,
        removal: Removal,
    ) -> Result<bool> {
        let head = ChatHead::of(chat);
        let mut chat_user = chat_user.clone();
        // Counted participants only: if a guest verified (became one) since it was read,
        // the delete's condition fails and it goes again as read now.
        for _ in 0..MAX_REREADS {
            let chat_id = chat_user.chat_id;
            let removed = match removal {
                Removal::Deleted => chat_user.resource(true).into_owned(),
                Removal::Erased => chat_user.erased_resource(clock::now_rfc3339()),
            };
            let outcome = self
                .db
                .commit_with_event(head.clone(), |tx, head| {
                    let change = Change::ChatUserRemoved(removed.clone());
                    let changes = if chat_user.announced {
                        count_change(-1)
                    } else {
                        Update::new()
                    };
                    let head = log::append(tx, head, change, changes, clock::now_millis())?;
                    let as_read = if chat_user.announced {
                        "attribute_exists(PK) AND announced = :yes"
                    } else {
                        "attribute_exists(PK) AND (attribute_not_exists(announced) OR announced <> :yes)"
                    };
                    let record = tx.delete(
                        &ChatUserRecord::key((chat_id, chat_user.id)),
                        Some(as_read),
                        &[(":yes", AttributeValue::Bool(true))],
                    )?;
                    tx.delete(
                        &ChatUserEmailPointer::key((chat_id, &chat_user.email)),
                        None,
                        &[],
                    )?;
                    Ok(Staged { head, rest: record })
                })
                .await?;
            match outcome {
                Committed::Done { .. } => {
                    // Its sockets close now, not only when the fan-out gets to the event.
                    self.db
                        .sockets()
                        .close_chat_user(chat_id, chat_user.id)
                        .await?;
                    return Ok(true);
                }
                Committed::Refused {
                    cancelled,
                    rest: record,
                    ..
                } if cancelled.failed(record) => match self.get(chat_id, chat_user.id).await? {
                    Some(fresh) if fresh.announced != chat_user.announced => chat_user = fresh,
                    _ => return Ok(false),
                },
                Committed::Refused { cancelled, .. } if cancelled.any_failed() => return Ok(false),
                Committed::Refused { cancelled, .. } => {
                    return Err(cancelled.unexpected("chat user delete"));
                }
            }
        }
        Err(StoreError::unavailable(
            "TransactWriteItems",
            "the chat user kept changing during the delete",
        ))
    }
}

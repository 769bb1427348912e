//! Chat users and the unique-email-in-chat item that points at each. Their tokens live
//! as long as the item: every chat-user request reads it.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::events::{ChatHead, Committed, NewEvent, Staged};
use super::page::{ListQuery, Page};
use super::tx::{Slot, Transaction};
use super::update::Update;
use super::{Db, Key, chats, from_item, keys, n, s, to_item};
use crate::clock;
use crate::error::ApiError;
use crate::events::EventType;
use crate::ids::{ChatId, ChatUserId};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChatUserRecord {
    pub id: ChatUserId,
    pub chat_id: ChatId,
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// `chat_user.joined` was logged: at creation by the owner, or at the first
    /// verification of a guest who asked to join (an address typed into a form is not a
    /// participant yet).
    #[serde(default)]
    pub announced: bool,
    /// The newest event `seq` this chat user has seen (moves forward only).
    #[serde(default)]
    pub last_read_seq: u64,
    /// Turned off emails about unread messages in this chat (the one-click unsubscribe).
    #[serde(default)]
    pub unread_emails_off: bool,
    /// Epoch ms until which an unread-message check is already queued for this chat user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_pending_until: Option<i64>,
    /// Epoch ms of the last unread-message email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<i64>,
    /// Epoch ms when this chat user's last WebSocket closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<i64>,
    /// Epoch ms of the owner's last "revoke tokens": chat-user tokens issued until then
    /// are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_revoked_at_ms: Option<i64>,
    /// Epoch seconds after which DynamoDB deletes a chat user that joined by email and
    /// never proved it ([`UNVERIFIED_TTL_SECS`]); verifying removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    /// Epoch ms of the transcripts emailed in the last day (the throttle).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcripts_sent: Vec<i64>,
}

impl ChatUserRecord {
    /// `show_email`: operators and the chat user itself see it; other chat users do not.
    pub fn resource(&self, show_email: bool) -> Value {
        let mut value = json!({
            "id": self.id,
            "chat_id": self.chat_id,
            "name": self.name,
            "verified_at": self.verified_at,
            "last_read_seq": self.last_read_seq,
            "unread_emails": !self.unread_emails_off,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        });
        if show_email {
            value["email"] = json!(self.email);
        }
        value
    }

    /// The resource of an erased chat user: its id and times, nothing that names it.
    pub fn erased_resource(&self) -> Value {
        json!({
            "id": self.id,
            "chat_id": self.chat_id,
            "name": ERASED_NAME,
            "email": null,
            "verified_at": null,
            "created_at": self.created_at,
            "updated_at": clock::now_rfc3339(),
        })
    }
}

/// What an erased chat user is called wherever its name was (see the README's erasure rule).
pub const ERASED_NAME: &str = "(erased)";

/// Why a chat user goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Deleted by the owner or itself.
    Deleted,
    /// Erased at a personal-data request: its name and email leave no trace.
    Erased,
}

/// The unique-email-in-chat item: points at the chat user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChatUserEmailPointer {
    pub(crate) chat_user_id: ChatUserId,
    /// The chat user's own expiry: both go together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ttl: Option<i64>,
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
    /// The chat has [`MAX_CHAT_USERS_PER_CHAT`] participants.
    ChatFull,
}

/// How a guest's first verification ended.
#[derive(Debug)]
pub enum Verified {
    Done(ChatUserRecord),
    Gone,
    /// Becoming a participant would pass [`MAX_CHAT_USERS_PER_CHAT`].
    ChatFull,
}

/// Participants a chat may have: chat users added by the owner, and guests once they
/// proved their email. Counted on the chat item (`chat_user_count`) in the transaction
/// that makes one a participant or removes it; guests who asked to join and never
/// verified are not counted (they expire, see [`UNVERIFIED_TTL_SECS`], and the joiner
/// budgets of `send-code` bound them).
pub const MAX_CHAT_USERS_PER_CHAT: u32 = 1_000;
pub const AT_CHAT_USER_CAP: &str = "This chat has reached its limit of 1,000 chat users.";

const COUNT: &str = "chat_user_count";

/// The chat head's change when a chat user becomes a participant (+1, up to the cap) or
/// stops being one (-1).
fn count_change(delta: i64) -> Update {
    let update = Update::new().add(COUNT, n(delta));
    if delta > 0 {
        update
            .condition("attribute_not_exists(chat_user_count) OR chat_user_count < :cap")
            .value(":cap", n(MAX_CHAT_USERS_PER_CHAT))
    } else {
        update
    }
}

/// Whether the chat item a failed condition handed back is at the participant cap.
fn at_cap(chat: Option<&super::Item>) -> bool {
    chat.and_then(|item| item.get(COUNT))
        .and_then(|count| count.as_n().ok())
        .and_then(|count| count.parse::<u32>().ok())
        .is_some_and(|count| count >= MAX_CHAT_USERS_PER_CHAT)
}

/// How a read marker moved.
#[derive(Debug)]
pub enum ReadMarked {
    Moved(ChatUserRecord),
    /// The marker was already at or past it: nothing changes.
    NotForward,
    /// The `seq` is beyond the chat's newest event.
    BeyondLog,
    Gone,
}

#[derive(Debug)]
pub enum EmailChanged {
    Changed(ChatUserRecord),
    EmailTaken,
    Gone,
}

/// How a whole-record update of a chat user ended.
enum Updated {
    Done(ChatUserRecord),
    /// An item of the same change refused (e.g. the new email is taken).
    Refused,
    Gone,
    /// It would have made the chat user a participant past the cap.
    ChatFull,
}

impl Updated {
    fn into_record(self) -> Option<ChatUserRecord> {
        match self {
            Updated::Done(record) => Some(record),
            Updated::Refused | Updated::Gone | Updated::ChatFull => None,
        }
    }
}

/// A chat user who joined by email (password) and never entered its code is deleted by
/// DynamoDB after this long (within a day or two more: TTL deletes late; until then it
/// shows as unverified).
pub const UNVERIFIED_TTL_SECS: i64 = 24 * 3600;

/// Transcripts per chat user: at most [`TRANSCRIPTS_PER_DAY`] a day, one a minute (as auth
/// codes: the email goes to the chat user's address, whoever asks).
pub const TRANSCRIPTS_PER_DAY: usize = 5;

/// The sends still inside the last day, or the seconds to wait before the next one.
pub fn transcript_budget(sent: &[i64], now_millis: i64) -> Result<Vec<i64>, u64> {
    const DAY: i64 = 24 * 3600 * 1000;
    const MINUTE: i64 = 60 * 1000;
    let kept: Vec<i64> = sent
        .iter()
        .copied()
        .filter(|t| now_millis - t < DAY)
        .collect();
    let wait_until = [
        kept.iter().max().map(|last| last + MINUTE),
        (kept.len() >= TRANSCRIPTS_PER_DAY)
            .then(|| kept.iter().min().map(|oldest| oldest + DAY))
            .flatten(),
    ]
    .into_iter()
    .flatten()
    .max()
    .filter(|until| *until > now_millis);
    match wait_until {
        Some(until) => Err(u64::try_from((until - now_millis + 999) / 1000).unwrap_or(1)),
        None => Ok(kept),
    }
}

/// Reads of a chat user that changed under an update before that update gives up.
const MAX_REREADS: u32 = 5;

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

    /// Every chat user of a chat (the dispatcher's, per new message).
    pub async fn all_chat_users(&self, chat_id: ChatId) -> Result<Vec<ChatUserRecord>, ApiError> {
        self.list_all(ListQuery {
            list: "chat-users",
            index: None,
            partition: keys::chat_partition(chat_id),
            sort_prefix: PREFIX.to_owned(),
            per_page: 100,
            cursor: None,
        })
        .await
    }

    /// Claims the queueing of one unread-message check due at `due_millis`; `false` when
    /// one is already pending (it will see this message too).
    pub async fn claim_notify_check(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        now_millis: i64,
        due_millis: i64,
    ) -> Result<bool, ApiError> {
        let update = Update::new()
            .set("notify_pending_until", n(due_millis))
            .value(":now", n(now_millis))
            .condition("attribute_exists(PK)")
            .condition(
                "attribute_not_exists(notify_pending_until) OR notify_pending_until <= :now",
            );
        self.update_if(&key(chat_id, chat_user_id), update).await
    }

    /// Claims the one unread-message email of a window: `false` when one went out less
    /// than `window_millis` ago.
    pub async fn claim_unread_email(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        now_millis: i64,
        window_millis: i64,
    ) -> Result<bool, ApiError> {
        let update = Update::new()
            .set("notified_at", n(now_millis))
            .value(":since", n(now_millis - window_millis))
            .condition("attribute_exists(PK)")
            .condition("attribute_not_exists(notified_at) OR notified_at <= :since");
        self.update_if(&key(chat_id, chat_user_id), update).await
    }

    /// Turns unread-message emails off for this chat user in this chat; `false` when the
    /// chat user is gone. Idempotent.
    pub async fn turn_off_unread_emails(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
    ) -> Result<bool, ApiError> {
        let update = Update::new()
            .set("unread_emails_off", super::AttributeValue::Bool(true))
            .condition("attribute_exists(PK)");
        self.update_if(&key(chat_id, chat_user_id), update).await
    }

    /// Refuses every chat-user token of this chat user issued until `now_ms`; `None` when
    /// the chat user is gone.
    pub async fn revoke_chat_user_tokens(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        now_ms: i64,
    ) -> Result<Option<ChatUserRecord>, ApiError> {
        let update = Update::new()
            .set("tokens_revoked_at_ms", n(now_ms))
            .condition("attribute_exists(PK)");
        self.update_returning(&key(chat_id, chat_user_id), update)
            .await
    }

    /// Records that a socket of this chat user closed now.
    pub async fn chat_user_seen(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        now_millis: i64,
    ) -> Result<(), ApiError> {
        let update = Update::new()
            .set("last_seen_at", n(now_millis))
            .condition("attribute_exists(PK)");
        self.update_if(&key(chat_id, chat_user_id), update).await?;
        Ok(())
    }

    /// Takes one transcript from the chat user's budget (see [`transcript_budget`]);
    /// `Err(seconds)` to wait when it is spent, `Ok(false)` when the chat user is gone.
    pub async fn claim_transcript(
        &self,
        chat_user: &ChatUserRecord,
        now_millis: i64,
    ) -> Result<Result<bool, u64>, ApiError> {
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
            .update_if(&key(chat_user.chat_id, chat_user.id), update)
            .await?))
    }

    /// The chat users that `email` is in these chats (unverified joiners included), by
    /// their email items: a `BatchGetItem` per 100 chats, then one per 100 chat users.
    pub async fn chat_users_by_email(
        &self,
        chat_ids: &[ChatId],
        email: &str,
    ) -> Result<Vec<ChatUserRecord>, ApiError> {
        const BATCH: usize = 100;
        let mut member_keys = Vec::new();
        for chunk in chat_ids.chunks(BATCH) {
            let keys: Vec<Key> = chunk.iter().map(|chat| email_key(*chat, email)).collect();
            let found = self.get_all(&keys.iter().collect::<Vec<_>>()).await?;
            for (chat_id, item) in chunk.iter().zip(found) {
                if let Some(item) = item {
                    let pointer: ChatUserEmailPointer = from_item(item)?;
                    member_keys.push(key(*chat_id, pointer.chat_user_id));
                }
            }
        }
        let mut chat_users = Vec::with_capacity(member_keys.len());
        for chunk in member_keys.chunks(BATCH) {
            for item in self.get_all(&chunk.iter().collect::<Vec<_>>()).await? {
                chat_users.extend(item.map(from_item::<ChatUserRecord>).transpose()?);
            }
        }
        Ok(chat_users)
    }

    /// Adds a chat user with its email item; the chat must still exist (a concurrent
    /// chat delete wins) and the email must be free in the chat. With `announced`, the
    /// chat user's `chat_user.joined` is logged now; else at its first verification.
    pub async fn insert_chat_user(
        &self,
        head: ChatHead,
        chat_user: &ChatUserRecord,
    ) -> Result<ChatUserInserted, ApiError> {
        let pointer = ChatUserEmailPointer {
            chat_user_id: chat_user.id,
            ttl: chat_user.ttl,
        };
        let outcome = self
            .commit_with_event(head, |tx, head| {
                let chat = if chat_user.announced {
                    let event = NewEvent::new(EventType::ChatUserJoined, chat_user.resource(true));
                    chats::tx_parts::advance(tx, head, event, count_change(1), clock::now_millis())?
                } else {
                    chats::tx_parts::exists(tx, chat_user.chat_id)?
                };
                let email = tx.put_new(to_item(
                    &email_key(chat_user.chat_id, &chat_user.email),
                    &pointer,
                )?)?;
                tx.put_new(to_item(&key(chat_user.chat_id, chat_user.id), chat_user)?)?;
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
            } if cancelled.failed(head) && at_cap(cancelled.item(head)) => {
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

    /// Rewrites a chat user with `change` and logs the event it names, in one
    /// transaction with `more` (items of the same change; the slot it returns is asked
    /// about on failure). The write is conditional on the record being as read; when
    /// another write got in first, the record is read again and `change` re-applied.
    async fn update_chat_user(
        &self,
        head: ChatHead,
        mut current: ChatUserRecord,
        change: impl Fn(&ChatUserRecord) -> Option<(ChatUserRecord, EventType)>,
        more: impl Fn(
            &mut Transaction<'_>,
            &ChatUserRecord,
            &ChatUserRecord,
        ) -> Result<Option<Slot>, ApiError>,
    ) -> Result<Updated, ApiError> {
        for _ in 0..MAX_REREADS {
            let Some((updated, kind)) = change(&current) else {
                return Ok(Updated::Done(current));
            };
            let outcome = self
                .commit_with_event(head, |tx, head| {
                    let event = NewEvent::new(kind, updated.resource(true));
                    let changes = if updated.announced && !current.announced {
                        count_change(1)
                    } else {
                        Update::new()
                    };
                    let head =
                        chats::tx_parts::advance(tx, head, event, changes, clock::now_millis())?;
                    let record = tx.put(
                        to_item(&key(current.chat_id, current.id), &updated)?,
                        "attribute_exists(PK) AND updated_at = :read_at",
                        &[(":read_at", s(&current.updated_at))],
                    )?;
                    let more = more(tx, &current, &updated)?;
                    Ok(Staged {
                        head,
                        rest: (record, more),
                    })
                })
                .await?;
            match outcome {
                Committed::Done { .. } => return Ok(Updated::Done(updated)),
                Committed::Refused {
                    cancelled,
                    rest: (_, Some(more)),
                    ..
                } if cancelled.failed(more) => return Ok(Updated::Refused),
                Committed::Refused {
                    cancelled,
                    rest: (record, _),
                    ..
                } if cancelled.failed(record) => {
                    match self.chat_user(current.chat_id, current.id).await? {
                        Some(fresh) => current = fresh,
                        None => return Ok(Updated::Gone),
                    }
                }
                Committed::Refused {
                    cancelled, head, ..
                } if cancelled.failed(head) && at_cap(cancelled.item(head)) => {
                    return Ok(Updated::ChatFull);
                }
                Committed::Refused {
                    cancelled, head, ..
                } if cancelled.failed(head) => return Ok(Updated::Gone),
                Committed::Refused { cancelled, .. } => {
                    return Err(cancelled.unexpected("chat user update"));
                }
            }
        }
        Err(ApiError::unavailable(
            "TransactWriteItems",
            "the chat user kept changing during the update",
        ))
    }

    /// Renames a chat user (`chat_user.updated`); `None` when it is gone.
    pub async fn rename_chat_user(
        &self,
        head: ChatHead,
        current: &ChatUserRecord,
        name: String,
    ) -> Result<Option<ChatUserRecord>, ApiError> {
        let change = |current: &ChatUserRecord| {
            let renamed = ChatUserRecord {
                name: name.clone(),
                updated_at: clock::now_rfc3339(),
                ..current.clone()
            };
            Some((renamed, EventType::ChatUserUpdated))
        };
        let updated = self
            .update_chat_user(head, current.clone(), change, |_, _, _| Ok(None))
            .await?;
        Ok(updated.into_record())
    }

    /// Moves a chat user to `email` (`chat_user.updated`), unverified: the old email
    /// item and its code go, the new email must be free in the chat.
    pub async fn change_chat_user_email(
        &self,
        head: ChatHead,
        current: &ChatUserRecord,
        email: &str,
        name: Option<String>,
    ) -> Result<EmailChanged, ApiError> {
        let change = |current: &ChatUserRecord| {
            let moved = ChatUserRecord {
                email: email.to_owned(),
                name: name.clone().unwrap_or_else(|| current.name.clone()),
                verified_at: None,
                updated_at: clock::now_rfc3339(),
                ..current.clone()
            };
            Some((moved, EventType::ChatUserUpdated))
        };
        let more = |tx: &mut Transaction<'_>,
                    current: &ChatUserRecord,
                    updated: &ChatUserRecord| {
            let chat_id = current.chat_id;
            let pointer = ChatUserEmailPointer {
                chat_user_id: current.id,
                ttl: updated.ttl,
            };
            tx.delete(&email_key(chat_id, &current.email), None, &[])?;
            let new_email = tx.put_new(to_item(&email_key(chat_id, &updated.email), &pointer)?)?;
            Ok(Some(new_email))
        };
        Ok(
            match self
                .update_chat_user(head, current.clone(), change, more)
                .await?
            {
                Updated::Done(updated) => EmailChanged::Changed(updated),
                Updated::Refused => EmailChanged::EmailTaken,
                // Moving an email does not make a participant: never at the cap.
                Updated::Gone | Updated::ChatFull => EmailChanged::Gone,
            },
        )
    }

    /// Removes a chat user with its email item (its messages stay; see `auth_codes` for
    /// its pending codes), and logs `chat_user.removed` (for an erasure, with its name and
    /// email gone from the event); `false` when it was already gone.
    pub async fn delete_chat_user(
        &self,
        head: ChatHead,
        chat_user: &ChatUserRecord,
        removal: Removal,
    ) -> Result<bool, ApiError> {
        let mut chat_user = chat_user.clone();
        // Counted participants only: if a guest verified (became one) since it was read,
        // the delete's condition fails and it goes again as read now.
        for _ in 0..MAX_REREADS {
            let chat_id = chat_user.chat_id;
            let removed = match removal {
                Removal::Deleted => chat_user.resource(true),
                Removal::Erased => chat_user.erased_resource(),
            };
            let outcome = self
                .commit_with_event(head, |tx, head| {
                    let event = NewEvent::new(EventType::ChatUserRemoved, removed.clone());
                    let changes = if chat_user.announced {
                        count_change(-1)
                    } else {
                        Update::new()
                    };
                    let head =
                        chats::tx_parts::advance(tx, head, event, changes, clock::now_millis())?;
                    let as_read = if chat_user.announced {
                        "attribute_exists(PK) AND announced = :yes"
                    } else {
                        "attribute_exists(PK) AND (attribute_not_exists(announced) OR announced <> :yes)"
                    };
                    let record = tx.delete(
                        &key(chat_id, chat_user.id),
                        Some(as_read),
                        &[(":yes", AttributeValue::Bool(true))],
                    )?;
                    tx.delete(&email_key(chat_id, &chat_user.email), None, &[])?;
                    Ok(Staged { head, rest: record })
                })
                .await?;
            match outcome {
                Committed::Done { .. } => return Ok(true),
                Committed::Refused {
                    cancelled,
                    rest: record,
                    ..
                } if cancelled.failed(record) => {
                    match self.chat_user(chat_id, chat_user.id).await? {
                        Some(fresh) if fresh.announced != chat_user.announced => chat_user = fresh,
                        _ => return Ok(false),
                    }
                }
                Committed::Refused { cancelled, .. } if cancelled.any_failed() => return Ok(false),
                Committed::Refused { cancelled, .. } => {
                    return Err(cancelled.unexpected("chat user delete"));
                }
            }
        }
        Err(ApiError::unavailable(
            "TransactWriteItems",
            "the chat user kept changing during the delete",
        ))
    }

    /// Sets `verified_at` the first time (logging `chat_user.joined` for a guest who
    /// joined by email, `chat_user.updated` otherwise); `None` if the chat user is gone.
    pub async fn mark_chat_user_verified(
        &self,
        head: ChatHead,
        chat_user_id: ChatUserId,
    ) -> Result<Verified, ApiError> {
        let Some(current) = self.chat_user(head.chat_id, chat_user_id).await? else {
            return Ok(Verified::Gone);
        };
        let change = |current: &ChatUserRecord| {
            if current.verified_at.is_some() {
                return None;
            }
            let now = clock::now_rfc3339();
            let kind = if current.announced {
                EventType::ChatUserUpdated
            } else {
                EventType::ChatUserJoined
            };
            let verified = ChatUserRecord {
                verified_at: Some(now.clone()),
                updated_at: now,
                announced: true,
                ttl: None,
                ..current.clone()
            };
            Some((verified, kind))
        };
        // A chat user who proved its email stays: its email item loses the expiry too.
        let keep_email = |tx: &mut Transaction<'_>, before: &ChatUserRecord, _: &ChatUserRecord| {
            if before.ttl.is_none() {
                return Ok(None);
            }
            let pointer = ChatUserEmailPointer {
                chat_user_id: before.id,
                ttl: None,
            };
            tx.put(
                to_item(&email_key(before.chat_id, &before.email), &pointer)?,
                "attribute_exists(PK)",
                &[],
            )
            .map(Some)
        };
        Ok(
            match self
                .update_chat_user(head, current, change, keep_email)
                .await?
            {
                Updated::Done(record) => Verified::Done(record),
                Updated::ChatFull => Verified::ChatFull,
                Updated::Refused | Updated::Gone => Verified::Gone,
            },
        )
    }

    /// Moves a chat user's read marker forward to `seq` and logs `read.updated`.
    pub async fn mark_read(
        &self,
        head: ChatHead,
        chat_user: &ChatUserRecord,
        seq: u64,
    ) -> Result<ReadMarked, ApiError> {
        if seq > head.seq {
            return Ok(ReadMarked::BeyondLog);
        }
        let outcome = self
            .commit_with_event(head, |tx, head| {
                let data =
                    serde_json::json!({ "chat_user_id": chat_user.id, "last_read_seq": seq });
                let event = NewEvent::new(EventType::ReadUpdated, data);
                let within_log = Update::new()
                    .condition("event_seq >= :read_seq")
                    .value(":read_seq", n(seq));
                let head =
                    chats::tx_parts::advance(tx, head, event, within_log, clock::now_millis())?;
                let forward = Update::new()
                    .set("last_read_seq", n(seq))
                    .condition("attribute_exists(PK)")
                    .condition(
                        "attribute_not_exists(#last_read_seq) OR #last_read_seq < :last_read_seq",
                    );
                let marker = tx.update_with(&key(chat_user.chat_id, chat_user.id), forward)?;
                Ok(Staged { head, rest: marker })
            })
            .await?;
        Ok(match outcome {
            Committed::Done { .. } => ReadMarked::Moved(ChatUserRecord {
                last_read_seq: seq,
                ..chat_user.clone()
            }),
            Committed::Refused {
                cancelled,
                rest: marker,
                ..
            } if cancelled.failed(marker) => match cancelled.item(marker) {
                Some(_) => ReadMarked::NotForward,
                None => ReadMarked::Gone,
            },
            Committed::Refused {
                cancelled, head, ..
            } if cancelled.failed(head) => ReadMarked::BeyondLog,
            Committed::Refused { cancelled, .. } => return Err(cancelled.unexpected("read marker")),
        })
    }
}

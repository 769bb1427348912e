//! The writes that change a chat user and log it in one transaction: a rename, a new
//! email, the first verification, the read marker. Each is conditional on the chat user
//! as read; when another write got in first, the chat user is read again and the change
//! applied again.

use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::clock;
use domain::events::{Change, EventType, ReadMarker};
use domain::ids::ChatUserId;

use crate::cap;
use crate::chat_users::{ChatUserEmailPointer, ChatUsers, MAX_REREADS, count_change};
use crate::item::{n, s, to_item};
use crate::key::Entity;
use crate::log::{self, ChatHead, Committed, Staged};
use crate::tx::{Slot, Transaction};
use crate::update::Update;
use crate::{Result, StoreError};

/// How a guest's first verification ended.
#[derive(Debug)]
pub enum Verified {
    Done(ChatUserRecord),
    Gone,
    /// Becoming a participant would pass the chat's cap of chat users.
    ChatFull,
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

/// The event a change of `updated` logs.
fn change_of(kind: EventType, updated: &ChatUserRecord) -> Change {
    let resource = updated.resource(true).into_owned();
    match kind {
        EventType::ChatUserJoined => Change::ChatUserJoined(resource),
        _ => Change::ChatUserUpdated(resource),
    }
}

impl ChatUsers<'_> {
    /// Rewrites a chat user with `change` and logs the event it names, in one
    /// transaction with `more` (items of the same change; the slot it returns is asked
    /// about on failure). The write is conditional on the record being as read; when
    /// another write got in first, the record is read again and `change` re-applied.
    async fn update(
        &self,
        head: ChatHead,
        mut current: ChatUserRecord,
        change: impl Fn(&ChatUserRecord) -> Option<(ChatUserRecord, EventType)>,
        more: impl Fn(&mut Transaction<'_>, &ChatUserRecord, &ChatUserRecord) -> Result<Option<Slot>>,
    ) -> Result<Updated> {
        for _ in 0..MAX_REREADS {
            let Some((updated, kind)) = change(&current) else {
                return Ok(Updated::Done(current));
            };
            let outcome = self
                .db
                .commit_with_event(head.clone(), |tx, head| {
                    let changes = if updated.announced && !current.announced {
                        count_change(1)
                    } else {
                        Update::new()
                    };
                    let event = change_of(kind, &updated);
                    let head = log::append(tx, head, event, changes, clock::now_millis())?;
                    let record = tx.put(
                        to_item(
                            &ChatUserRecord::key((current.chat_id, current.id)),
                            &updated,
                        )?,
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
                    match self.get(current.chat_id, current.id).await? {
                        Some(fresh) => current = fresh,
                        None => return Ok(Updated::Gone),
                    }
                }
                Committed::Refused {
                    cancelled, head, ..
                } if cancelled.failed(head) && cap::CHAT_USERS.is_full(cancelled.item(head)) => {
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
        Err(StoreError::unavailable(
            "TransactWriteItems",
            "the chat user kept changing during the update",
        ))
    }

    /// Renames a chat user (`chat_user.updated`); `None` when it is gone.
    pub async fn rename(
        &self,
        chat: &ChatRecord,
        current: &ChatUserRecord,
        name: String,
    ) -> Result<Option<ChatUserRecord>> {
        let change = |current: &ChatUserRecord| {
            let renamed = ChatUserRecord {
                name: name.clone(),
                updated_at: clock::now_rfc3339(),
                ..current.clone()
            };
            Some((renamed, EventType::ChatUserUpdated))
        };
        let updated = self
            .update(ChatHead::of(chat), current.clone(), change, |_, _, _| {
                Ok(None)
            })
            .await?;
        Ok(updated.into_record())
    }

    /// Moves a chat user to `email` (`chat_user.updated`), unverified: the old email
    /// item and its code go, the new email must be free in the chat.
    pub async fn change_email(
        &self,
        chat: &ChatRecord,
        current: &ChatUserRecord,
        email: &str,
        name: Option<String>,
    ) -> Result<EmailChanged> {
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
        let more =
            |tx: &mut Transaction<'_>, current: &ChatUserRecord, updated: &ChatUserRecord| {
                let chat_id = current.chat_id;
                tx.delete(
                    &ChatUserEmailPointer::key((chat_id, &current.email)),
                    None,
                    &[],
                )?;
                let new_email = tx.put_new(to_item(
                    &ChatUserEmailPointer::key((chat_id, &updated.email)),
                    &ChatUserEmailPointer::of(updated),
                )?)?;
                Ok(Some(new_email))
            };
        Ok(
            match self
                .update(ChatHead::of(chat), current.clone(), change, more)
                .await?
            {
                Updated::Done(updated) => EmailChanged::Changed(updated),
                Updated::Refused => EmailChanged::EmailTaken,
                // Moving an email does not make a participant: never at the cap.
                Updated::Gone | Updated::ChatFull => EmailChanged::Gone,
            },
        )
    }

    /// Sets `verified_at` the first time (logging `chat_user.joined` for a guest who
    /// joined by email, `chat_user.updated` otherwise).
    pub async fn mark_verified(
        &self,
        chat: &ChatRecord,
        chat_user_id: ChatUserId,
    ) -> Result<Verified> {
        let Some(current) = self.get(chat.id, chat_user_id).await? else {
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
        let keep_email =
            |tx: &mut Transaction<'_>, before: &ChatUserRecord, after: &ChatUserRecord| {
                if before.ttl.is_none() {
                    return Ok(None);
                }
                tx.put(
                    to_item(
                        &ChatUserEmailPointer::key((before.chat_id, &before.email)),
                        &ChatUserEmailPointer::of(after),
                    )?,
                    "attribute_exists(PK)",
                    &[],
                )
                .map(Some)
            };
        Ok(
            match self
                .update(ChatHead::of(chat), current, change, keep_email)
                .await?
            {
                Updated::Done(record) => Verified::Done(record),
                Updated::ChatFull => Verified::ChatFull,
                Updated::Refused | Updated::Gone => Verified::Gone,
            },
        )
    }

    /// Moves a chat user's read marker forward to `seq` and logs `read.updated`, if the
    /// move passes a message: a marker that only passes events (another reader's
    /// `read.updated`, say) moves without an event, so two clients that each mark what
    /// they see do not log each other's marks for ever.
    pub async fn mark_read(
        &self,
        chat: &ChatRecord,
        chat_user: &ChatUserRecord,
        seq: u64,
    ) -> Result<ReadMarked> {
        let head = ChatHead::of(chat);
        if seq > head.seq {
            return Ok(ReadMarked::BeyondLog);
        }
        let passes_a_message = chat
            .last_message_seq
            .is_none_or(|newest| newest > chat_user.last_read_seq);
        if !passes_a_message {
            return self.move_marker_quietly(chat_user, seq).await;
        }
        let outcome = self
            .db
            .commit_with_event(head, |tx, head| {
                let change = Change::ReadUpdated(ReadMarker {
                    chat_user_id: chat_user.id,
                    last_read_seq: seq,
                });
                let within_log = Update::new()
                    .condition("event_seq >= :read_seq")
                    .value(":read_seq", n(seq));
                let head = log::append(tx, head, change, within_log, clock::now_millis())?;
                let forward = Update::new()
                    .set("last_read_seq", n(seq))
                    .condition("attribute_exists(PK)")
                    .condition(
                        "attribute_not_exists(#last_read_seq) OR #last_read_seq < :last_read_seq",
                    );
                let marker = tx.update_with(
                    &ChatUserRecord::key((chat_user.chat_id, chat_user.id)),
                    forward,
                )?;
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

    /// Moves the read marker forward without an event (it passes no message).
    async fn move_marker_quietly(
        &self,
        chat_user: &ChatUserRecord,
        seq: u64,
    ) -> Result<ReadMarked> {
        let forward = Update::new()
            .set("last_read_seq", n(seq))
            .condition("attribute_exists(PK)")
            .condition("attribute_not_exists(#last_read_seq) OR #last_read_seq < :last_read_seq");
        let key = ChatUserRecord::key((chat_user.chat_id, chat_user.id));
        if self.db.update_if(&key, forward).await? {
            return Ok(ReadMarked::Moved(ChatUserRecord {
                last_read_seq: seq,
                ..chat_user.clone()
            }));
        }
        // Refused: at or past it already, or gone.
        Ok(match self.db.get::<ChatUserRecord>(&key).await? {
            Some(_) => ReadMarked::NotForward,
            None => ReadMarked::Gone,
        })
    }
}

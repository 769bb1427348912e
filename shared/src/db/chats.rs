//! Chats: the head item of a chat's partition. Every write of the chat item is here,
//! including the parts of other entities' transactions that touch it (a message moves
//! `last_message_id`, a chat user's insert checks the chat exists).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::events::{ChatHead, Committed, NewEvent, Staged};
use super::page::{ListQuery, Page};
use super::tx::{Slot, Transaction};
use super::update::Update;
use super::{Db, Item, Key, companies, keys, n, s, to_item};
use crate::clock;
use crate::error::ApiError;
use crate::events::{Event, EventType};
use crate::ids::{ChatId, CompanyId, EntityId, MessageId, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatRecord {
    pub id: ChatId,
    pub company_id: CompanyId,
    pub owner_id: UserId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The join secret handed to guests; retrievable by design (it is shared, not personal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_at: Option<String>,
    /// The newest message id: new ids must sort after it (see [`super::messages`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_id: Option<MessageId>,
    /// The `seq` of the chat's newest event (see [`super::events`]).
    #[serde(default)]
    pub event_seq: u64,
    /// Minutes a chat user may stay away before unread messages are emailed (0: never;
    /// unset: [`DEFAULT_UNREAD_EMAIL_MINUTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_email_minutes: Option<u32>,
    /// Chat-user tokens issued at or before this (epoch ms) are dead: set by a password
    /// rotation that signs every guest out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_revoked_at_ms: Option<i64>,
    /// Days its messages (and their events) are kept: its company's `retention_days`,
    /// copied here when the chat is created or the company's setting changes, so a post
    /// reads it with the chat. `None` keeps them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

pub const DEFAULT_UNREAD_EMAIL_MINUTES: u32 = 10;

impl ChatRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "company_id": self.company_id,
            "name": self.name,
            "description": self.description,
            "has_password": self.password.is_some(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_message_at": self.last_message_at,
            "last_seq": self.event_seq,
            "unread_email_minutes": self.unread_email_delay_minutes(),
        })
    }

    /// See [`ChatRecord::unread_email_minutes`].
    pub fn unread_email_delay_minutes(&self) -> u32 {
        self.unread_email_minutes
            .unwrap_or(DEFAULT_UNREAD_EMAIL_MINUTES)
    }

    /// The counters the next event of this chat is conditional on.
    pub fn head(&self) -> ChatHead {
        ChatHead {
            chat_id: self.id,
            seq: self.event_seq,
            newest_message: self.last_message_id,
            retention_days: self.retention_days,
        }
    }

    /// The stored item: the record, its key, and its GSI1 keys (the owner's chats,
    /// grouped by company, oldest first).
    pub(crate) fn to_item(&self) -> Result<Item, ApiError> {
        let mut item = to_item(&key(self.id), self)?;
        item.insert(
            keys::GSI1PK.to_owned(),
            s(keys::user_partition(self.owner_id)),
        );
        item.insert(
            keys::GSI1SK.to_owned(),
            s(format!("{}{}", company_prefix(self.company_id), self.id)),
        );
        Ok(item)
    }
}

pub(crate) fn key(chat_id: ChatId) -> Key {
    Key::new(keys::chat_partition(chat_id), "CHAT")
}

const GSI1_PREFIX: &str = "CHAT#";

fn company_prefix(company_id: CompanyId) -> String {
    format!("{GSI1_PREFIX}{company_id}#")
}

/// What a `PUT` changes: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ChatChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    /// `Some(None)` turns the password (and so joining by email) off.
    pub password: Option<Option<String>>,
    pub unread_email_minutes: Option<u32>,
    pub updated_at: String,
}

#[derive(Debug)]
pub enum ChatCreated {
    Created,
    /// The company is not the owner's (or is gone).
    NoSuchCompany,
    /// The company has [`super::companies::MAX_CHATS_PER_COMPANY`] chats already.
    CompanyFull,
}

/// How the share password is to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordWrite {
    /// Only if the chat has none yet: two first calls at once agree on one password.
    IfUnset,
    Replace,
    /// Replace, and kill every chat-user token issued so far: each guest proves its email
    /// again (a chat user needs no password for a code).
    ReplaceSigningOut,
}

/// Parts of other entities' transactions that concern the chat item.
pub(crate) mod tx_parts {
    use super::*;

    /// The chat must exist when the transaction lands.
    pub(crate) fn exists(tx: &mut Transaction<'_>, chat_id: ChatId) -> Result<Slot, ApiError> {
        tx.check(&key(chat_id), "attribute_exists(PK)")
    }

    /// Appends `event` to the chat's log: the chat item's counter moves from `head.seq`
    /// to the event's `seq` (with `changes` to the chat item itself, and their conditions),
    /// and the event item is put. A failed condition hands back the chat as it was.
    pub(crate) fn advance(
        tx: &mut Transaction<'_>,
        head: ChatHead,
        event: NewEvent,
        changes: Update,
        at_ms: i64,
    ) -> Result<Slot, ApiError> {
        let next = head.seq + 1;
        // A chat written before the log existed has no counter yet.
        let counter = if head.seq == 0 {
            "attribute_not_exists(event_seq) OR event_seq = :head_seq"
        } else {
            "event_seq = :head_seq"
        };
        let update = changes
            .set("event_seq", n(next))
            .condition("attribute_exists(PK)")
            .condition(counter)
            .value(":head_seq", n(head.seq));
        let slot = tx.update_with(&key(head.chat_id), update)?;
        let event = Event {
            seq: next,
            kind: event.kind,
            chat_id: head.chat_id,
            at: clock::rfc3339(at_ms),
            data: event.data,
        };
        let item = tx.db().event_item(&event, at_ms, head.retention_days)?;
        let event_slot = tx.put_new(item)?;
        tx.bookkeeping(event_slot);
        Ok(slot)
    }
}

impl Db {
    pub async fn chat(&self, chat_id: ChatId) -> Result<Option<ChatRecord>, ApiError> {
        self.get(&key(chat_id)).await
    }

    /// The chat, counted in its company's `chat_count` in the same transaction; the
    /// company key lies in the owner's partition, so this also checks ownership.
    pub async fn create_chat(&self, chat: &ChatRecord) -> Result<ChatCreated, ApiError> {
        let mut tx = Transaction::new(self);
        let company = companies::tx_parts::count_chats(&mut tx, chat.owner_id, chat.company_id, 1)?;
        tx.put_new(chat.to_item()?)?;
        match tx.commit().await? {
            Ok(()) => Ok(ChatCreated::Created),
            Err(cancelled) if cancelled.failed(company) => Ok(match cancelled.item(company) {
                Some(_) => ChatCreated::CompanyFull,
                None => ChatCreated::NoSuchCompany,
            }),
            Err(cancelled) => Err(cancelled.unexpected("chat create")),
        }
    }

    /// The owner's chats, all or one company's (GSI1).
    pub async fn list_chats(
        &self,
        owner_id: UserId,
        company_id: Option<CompanyId>,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<ChatRecord>, ApiError> {
        self.list(&ListQuery {
            list: "chats",
            index: Some(keys::GSI1),
            partition: keys::user_partition(owner_id),
            sort_prefix: company_id.map_or_else(|| GSI1_PREFIX.to_owned(), company_prefix),
            per_page,
            cursor,
        })
        .await
    }

    /// Every chat of one company (at most `MAX_CHATS_PER_COMPANY`), page after page.
    pub async fn company_chats(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
    ) -> Result<Vec<ChatRecord>, ApiError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .list_chats(owner_id, Some(company_id), 100, cursor)
                .await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Applies `changes` to the owner's chat and logs `chat.updated`; `None` when the
    /// chat is gone (or not the owner's).
    pub async fn update_chat(
        &self,
        chat: &ChatRecord,
        changes: ChatChanges,
    ) -> Result<Option<ChatRecord>, ApiError> {
        let at_ms = clock::now_millis();
        let outcome = self
            .commit_with_event(chat.head(), |tx, head| {
                let mut updated = ChatRecord {
                    updated_at: clock::rfc3339(at_ms),
                    event_seq: head.seq + 1,
                    ..chat.clone()
                };
                let mut update = Update::new()
                    .set("updated_at", s(&updated.updated_at))
                    .condition("owner_id = :owner")
                    .value(":owner", s(chat.owner_id.to_string()));
                if let Some(name) = &changes.name {
                    updated.name = name.clone();
                    update = update.set("name", s(name));
                }
                if let Some(description) = &changes.description {
                    updated.description = description.clone();
                    update = update.set_or_remove("description", Some(description.clone()));
                }
                if let Some(password) = &changes.password {
                    updated.password = password.clone();
                    update = update.set_or_remove("password", Some(password.clone()));
                }
                if let Some(minutes) = changes.unread_email_minutes {
                    updated.unread_email_minutes = Some(minutes);
                    update = update.set("unread_email_minutes", n(minutes));
                }
                let event = NewEvent::new(EventType::ChatUpdated, updated.resource());
                let head = tx_parts::advance(tx, head, event, update, at_ms)?;
                Ok(Staged {
                    head,
                    rest: updated,
                })
            })
            .await?;
        match outcome {
            Committed::Done { rest, .. } => Ok(Some(rest)),
            Committed::Refused {
                cancelled, head, ..
            } if cancelled.failed(head) => Ok(None),
            Committed::Refused { cancelled, .. } => Err(cancelled.unexpected("chat update")),
        }
    }

    /// Sets the share password (and logs `chat.updated`); returns the password in effect
    /// afterwards (another request's, when `IfUnset` lost the race), or `None` when the
    /// chat is gone.
    pub async fn set_chat_password(
        &self,
        chat: &ChatRecord,
        password: &str,
        write: PasswordWrite,
    ) -> Result<Option<String>, ApiError> {
        let signs_out = write == PasswordWrite::ReplaceSigningOut;
        let current = match write {
            PasswordWrite::Replace | PasswordWrite::ReplaceSigningOut => chat.clone(),
            // Two first calls at once agree on one password: only a chat without one is
            // written, the loser reads the winner's.
            PasswordWrite::IfUnset => ChatRecord {
                password: None,
                ..chat.clone()
            },
        };
        let unset_only = write == PasswordWrite::IfUnset;
        let outcome = self
            .commit_with_event(current.head(), |tx, head| {
                let mut updated = current.clone();
                updated.password = Some(password.to_owned());
                updated.updated_at = clock::now_rfc3339();
                updated.event_seq = head.seq + 1;
                let mut update = Update::new()
                    .set("password", s(password))
                    .set("updated_at", s(&updated.updated_at))
                    .condition("owner_id = :owner")
                    .value(":owner", s(chat.owner_id.to_string()));
                if unset_only {
                    update = update.condition("attribute_not_exists(password)");
                }
                if signs_out {
                    update = update.set("tokens_revoked_at_ms", n(clock::now_millis()));
                }
                let event = NewEvent::new(EventType::ChatUpdated, updated.resource());
                let head = tx_parts::advance(tx, head, event, update, clock::now_millis())?;
                Ok(Staged { head, rest: () })
            })
            .await?;
        match outcome {
            Committed::Done { .. } => Ok(Some(password.to_owned())),
            Committed::Refused {
                cancelled, head, ..
            } if cancelled.failed(head) => Ok(self
                .chat(chat.id)
                .await?
                .filter(|now| now.owner_id == chat.owner_id)
                .and_then(|now| now.password)),
            Committed::Refused { cancelled, .. } => Err(cancelled.unexpected("chat password")),
        }
    }

    /// Deletes a chat: the chat item and its company's count, in one transaction. From
    /// then on every route answers as if the chat never existed, its chat users' tokens
    /// included; the rest of its partition (messages, events, chat users, of any number)
    /// is purged by the `purge` function, which the chat item's removal reaches through
    /// the table's stream. `false` when it was already gone.
    pub async fn delete_chat(&self, chat: &ChatRecord) -> Result<bool, ApiError> {
        let mut tx = Transaction::new(self);
        let head = tx.delete(
            &key(chat.id),
            Some("attribute_exists(PK) AND owner_id = :owner"),
            &[(":owner", s(chat.owner_id.to_string()))],
        )?;
        companies::tx_parts::count_chats(&mut tx, chat.owner_id, chat.company_id, -1)?;
        match tx.commit().await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.failed(head) => Ok(false),
            Err(cancelled) => Err(cancelled.unexpected("chat delete")),
        }
    }

    /// Sets (or, `None`, removes) the chat's copy of its company's `retention_days`;
    /// `false` when the chat is gone.
    pub async fn set_chat_retention(
        &self,
        chat_id: ChatId,
        retention_days: Option<u32>,
    ) -> Result<bool, ApiError> {
        let update = match retention_days {
            Some(days) => Update::new().set("retention_days", n(days)),
            None => Update::new().remove("retention_days"),
        };
        self.update_if(&key(chat_id), update.condition("attribute_exists(PK)"))
            .await
    }

    /// Deletes every item left in a deleted chat's partition; how many went. Safe to run
    /// again, and again after a stop part-way: it deletes what is left.
    pub async fn purge_chat(&self, chat_id: ChatId) -> Result<usize, ApiError> {
        self.purge_partition(&keys::chat_partition(chat_id)).await
    }
}

/// The chat whose chat item these keys are (as the table's stream hands them), if they
/// are a chat item's.
pub fn chat_of_keys(keys: &Item) -> Option<ChatId> {
    let sk = keys.get(keys::SK)?.as_s().ok()?;
    let pk = keys.get(keys::PK)?.as_s().ok()?;
    if sk != "CHAT" {
        return None;
    }
    ChatId::parse(pk.strip_prefix("CHAT#")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_item_carries_its_gsi_keys() {
        let chat = ChatRecord {
            id: ChatId::new(),
            company_id: CompanyId::new(),
            owner_id: UserId::new(),
            name: "Support".into(),
            description: None,
            password: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            last_message_at: None,
            last_message_id: None,
            event_seq: 0,
            unread_email_minutes: None,
            tokens_revoked_at_ms: None,
            retention_days: None,
        };
        let item = chat.to_item().unwrap();
        assert_eq!(item[keys::PK], s(format!("CHAT#{}", chat.id)));
        assert_eq!(item[keys::GSI1PK], s(format!("USER#{}", chat.owner_id)));
        assert_eq!(
            item[keys::GSI1SK],
            s(format!("CHAT#{}#{}", chat.company_id, chat.id))
        );
    }
}

//! Chats: the head item of a chat's partition. Every write of the chat item is here, or
//! in [`crate::log::append`] for the changes that move its log (a message moves
//! `last_message_id`, a chat user's insert checks the chat exists).

use aws_sdk_dynamodb::types::AttributeValue;
use domain::chat::{ChatKind, ChatRecord, ConversationStatus};
use domain::clock;
use domain::company::CompanyRecord;
use domain::conversation;
use domain::events::Change;
use domain::ids::{ChatId, CompanyId, EntityId};

use crate::cap::{self, Added};
use crate::item::{Item, n, s, sort_key, to_item};
use crate::key::{
    Entity, GSI1, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3SK, PK, chat_partition, company_partition,
};
use crate::log::{self, ChatHead, Committed, Staged};
use crate::page::{ListQuery, Page};
use crate::tx::{Slot, Transaction};
use crate::update::Update;
use crate::{Db, Key, Result, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

impl Entity for ChatRecord {
    type Id<'a> = ChatId;

    fn key(chat_id: ChatId) -> Key {
        Key::new(chat_partition(chat_id), "CHAT")
    }
}

const GSI1_PREFIX: &str = "CHAT#";
/// Conversations sit under their company on GSI1 too (so a company's removal purges
/// them), apart from its rooms: `GET /api/chats` lists rooms, the inbox conversations.
const GSI1_CONVERSATION_PREFIX: &str = "CONV#";

/// The stored item: the record, its key, its GSI1 keys (its company's chats, oldest
/// first) and, for a conversation, its inbox keys.
pub(crate) fn chat_item(chat: &ChatRecord) -> Result<Item> {
    let mut item = to_item(&ChatRecord::key(chat.id), chat)?;
    let (gsi1pk, gsi1sk) = index_keys(chat.company_id, chat.id, chat.kind);
    item.insert(GSI1PK.to_owned(), s(gsi1pk));
    item.insert(GSI1SK.to_owned(), s(gsi1sk));
    if let Some(inbox) = InboxKeys::of(chat) {
        item.extend(inbox.attributes());
    }
    Ok(item)
}

/// A chat's GSI1 keys: under its company.
pub(crate) fn index_keys(
    company_id: CompanyId,
    chat_id: ChatId,
    kind: ChatKind,
) -> (String, String) {
    let prefix = match kind {
        ChatKind::Room => GSI1_PREFIX,
        ChatKind::Conversation => GSI1_CONVERSATION_PREFIX,
    };
    (company_partition(company_id), format!("{prefix}{chat_id}"))
}

/// A conversation's place in its company's inbox: GSI2 holds every conversation by
/// newest activity; GSI3 only the unanswered ones, by the start of their wait. A message
/// moves a row on GSI2 (a delete and a put of a tiny index item) and enters or leaves
/// GSI3 only when it starts or ends a wait (one more write): see [`crate::write_units`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InboxKeys {
    pub(crate) partition: String,
    pub(crate) recent: String,
    /// `None`: answered, so not on GSI3 (the attribute is absent: a sparse index).
    pub(crate) waiting: Option<String>,
}

impl InboxKeys {
    pub(crate) fn new(
        company_id: CompanyId,
        status: ConversationStatus,
        waiting_since: Option<&str>,
        last_activity: &str,
    ) -> Self {
        Self {
            partition: inbox_partition(company_id, status),
            recent: conversation::recent_key(last_activity),
            waiting: waiting_since.map(conversation::waiting_key),
        }
    }

    /// A conversation's keys as its record says (`None` for a room).
    pub(crate) fn of(chat: &ChatRecord) -> Option<Self> {
        chat.is_conversation().then(|| {
            Self::new(
                chat.company_id,
                chat.status.unwrap_or_default(),
                chat.waiting_since.as_deref(),
                chat.last_message_at.as_deref().unwrap_or(&chat.created_at),
            )
        })
    }

    pub(crate) fn attributes(&self) -> Vec<(String, AttributeValue)> {
        let mut attributes = vec![
            (GSI2PK.to_owned(), s(&self.partition)),
            (GSI2SK.to_owned(), s(&self.recent)),
        ];
        if let Some(waiting) = &self.waiting {
            attributes.push((GSI3SK.to_owned(), s(waiting)));
        }
        attributes
    }

    /// Sets them on the chat item in `update` (an answered conversation leaves GSI3).
    pub(crate) fn set(&self, update: Update) -> Update {
        let update = update
            .set(GSI2PK, s(&self.partition))
            .set(GSI2SK, s(&self.recent));
        match &self.waiting {
            Some(waiting) => update.set(GSI3SK, s(waiting)),
            None => update.remove(GSI3SK),
        }
    }
}

/// One status of one company's inbox.
pub(crate) fn inbox_partition(company_id: CompanyId, status: ConversationStatus) -> String {
    format!("INBOX#{company_id}#{}", status.as_str())
}

/// Where a page of chats across companies stops: the company it ends in, and that
/// company's own cursor (`None`: its start).
#[derive(Serialize, Deserialize)]
struct AcrossCursor {
    c: CompanyId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatCreated {
    Created,
    /// The company is gone.
    NoSuchCompany,
    /// The company has [`domain::company::MAX_CHATS`] chats already.
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

/// The count a chat of `kind` is in.
fn counted_in(kind: ChatKind) -> cap::Cap {
    match kind {
        ChatKind::Room => cap::CHATS,
        ChatKind::Conversation => cap::CONVERSATIONS,
    }
}

/// The chat must exist when the transaction lands.
pub(crate) fn must_exist(tx: &mut Transaction<'_>, chat_id: ChatId) -> Result<Slot> {
    tx.check(&ChatRecord::key(chat_id), "attribute_exists(PK)")
}

#[derive(Debug, Clone, Copy)]
pub struct Chats<'a> {
    pub(crate) db: &'a Db,
}

impl Chats<'_> {
    pub async fn get(&self, chat_id: ChatId) -> Result<Option<ChatRecord>> {
        self.db.get(&ChatRecord::key(chat_id)).await
    }

    /// The chat, counted in its company's `chat_count` in the same transaction (which
    /// also checks the company still exists).
    pub async fn create(&self, chat: &ChatRecord) -> Result<ChatCreated> {
        let mut tx = Transaction::new(self.db);
        let company = CompanyRecord::key(chat.company_id);
        let counted = cap::CHATS.count(&mut tx, &company, 1)?;
        tx.put_new(chat_item(chat)?)?;
        match tx.commit().await? {
            Ok(()) => Ok(ChatCreated::Created),
            Err(cancelled) if cancelled.failed(counted) => {
                Ok(match cap::Cap::refusal(&cancelled, counted) {
                    Added::AtCap => ChatCreated::CompanyFull,
                    Added::Added | Added::HolderGone => ChatCreated::NoSuchCompany,
                })
            }
            Err(cancelled) => Err(cancelled.unexpected("chat create")),
        }
    }

    /// A page of one company's chats (GSI1).
    pub async fn list(
        &self,
        company_id: CompanyId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<ChatRecord>> {
        self.db
            .list(&ListQuery {
                list: "chats",
                index: Some(GSI1),
                partition: company_partition(company_id),
                sort_prefix: GSI1_PREFIX.to_owned(),
                per_page,
                cursor,
            })
            .await
    }

    /// A page of the chats of several companies (the ones a member sees every chat of),
    /// company after company in the order given: one Query per company the page reaches.
    pub async fn list_across(
        &self,
        companies: &[CompanyId],
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<ChatRecord>> {
        let (mut index, mut inner) = match cursor.as_deref() {
            None => (0, None),
            Some(raw) => {
                let at: AcrossCursor = URL_SAFE_NO_PAD
                    .decode(raw)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .ok_or(StoreError::ForeignCursor)?;
                let index = companies
                    .iter()
                    .position(|c| *c == at.c)
                    .ok_or(StoreError::ForeignCursor)?;
                (index, at.k)
            }
        };
        let mut items = Vec::with_capacity(per_page);
        while index < companies.len() {
            let page = self
                .list(companies[index], per_page - items.len(), inner.take())
                .await?;
            items.extend(page.items);
            let next = match page.next_cursor {
                Some(next) => Some(AcrossCursor {
                    c: companies[index],
                    k: Some(next),
                }),
                None => companies
                    .get(index + 1)
                    .map(|c| AcrossCursor { c: *c, k: None }),
            };
            if items.len() >= per_page || next.is_none() {
                let next_cursor = next
                    .map(|at| serde_json::to_vec(&at).map(|bytes| URL_SAFE_NO_PAD.encode(bytes)))
                    .transpose()
                    .map_err(|_| StoreError::Unexpected("a cursor did not serialise"))?;
                return Ok(Page { items, next_cursor });
            }
            index += 1;
        }
        Ok(Page {
            items,
            next_cursor: None,
        })
    }

    /// Every chat of one company, rooms and conversations, page after page.
    pub async fn of_company(&self, company_id: CompanyId) -> Result<Vec<ChatRecord>> {
        let mut all = Vec::new();
        for prefix in [GSI1_PREFIX, GSI1_CONVERSATION_PREFIX] {
            let mut cursor = None;
            loop {
                let page: Page<ChatRecord> = self
                    .db
                    .list(&ListQuery {
                        list: "chats",
                        index: Some(GSI1),
                        partition: company_partition(company_id),
                        sort_prefix: prefix.to_owned(),
                        per_page: 100,
                        cursor,
                    })
                    .await?;
                all.extend(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(all)
    }

    /// The ids of every conversation of one company (GSI1), page after page: what the
    /// company's purge removes.
    pub async fn conversations_of(&self, company_id: CompanyId) -> Result<Vec<ChatId>> {
        let mut ids = Vec::new();
        let mut cursor = None;
        loop {
            let page: Page<ChatRecord> = self
                .db
                .list(&ListQuery {
                    list: "conversations",
                    index: Some(GSI1),
                    partition: company_partition(company_id),
                    sort_prefix: GSI1_CONVERSATION_PREFIX.to_owned(),
                    per_page: 100,
                    cursor,
                })
                .await?;
            ids.extend(page.items.into_iter().map(|chat| chat.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(ids),
            }
        }
    }

    /// Applies `changes` to the chat and logs `chat.updated`; `None` when the chat is
    /// gone.
    pub async fn update(
        &self,
        chat: &ChatRecord,
        changes: ChatChanges,
    ) -> Result<Option<ChatRecord>> {
        let at_ms = clock::now_millis();
        let outcome = self
            .db
            .commit_with_event(ChatHead::of(chat), |tx, head| {
                let mut updated = ChatRecord {
                    updated_at: clock::rfc3339(at_ms),
                    event_seq: head.seq + 1,
                    ..chat.clone()
                };
                let mut update = Update::new().set("updated_at", s(&updated.updated_at));
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
                let change = Change::ChatUpdated(updated.resource().into_owned());
                let head = log::append(tx, head, change, update, at_ms)?;
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
    pub async fn set_password(
        &self,
        chat: &ChatRecord,
        password: &str,
        write: PasswordWrite,
    ) -> Result<Option<String>> {
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
            .db
            .commit_with_event(ChatHead::of(&current), |tx, head| {
                let mut updated = current.clone();
                updated.password = Some(password.to_owned());
                updated.updated_at = clock::now_rfc3339();
                updated.event_seq = head.seq + 1;
                let mut update = Update::new()
                    .set("password", s(password))
                    .set("updated_at", s(&updated.updated_at));
                if unset_only {
                    update = update.condition("attribute_not_exists(password)");
                }
                if signs_out {
                    update = update.set("tokens_revoked_at_ms", n(clock::now_millis()));
                }
                let change = Change::ChatUpdated(updated.resource().into_owned());
                let head = log::append(tx, head, change, update, clock::now_millis())?;
                Ok(Staged { head, rest: () })
            })
            .await?;
        match outcome {
            Committed::Done { .. } => {
                if signs_out {
                    // Every guest's tokens are refused from now on: so are their sockets.
                    self.db.sockets().close_chat_users(chat.id).await?;
                }
                Ok(Some(password.to_owned()))
            }
            Committed::Refused {
                cancelled, head, ..
            } if cancelled.failed(head) => {
                Ok(self.get(chat.id).await?.and_then(|now| now.password))
            }
            Committed::Refused { cancelled, .. } => Err(cancelled.unexpected("chat password")),
        }
    }

    /// Deletes a chat: the chat item and its company's count, in one transaction. From
    /// then on every route answers as if the chat never existed, its chat users' tokens
    /// included; the rest of its partition (messages, events, chat users, of any number)
    /// is purged by the `lifecycle` function, which the chat item's removal reaches
    /// through the table's stream. `false` when it was already gone.
    pub async fn delete(&self, chat: &ChatRecord) -> Result<bool> {
        let mut tx = Transaction::new(self.db);
        let head = tx.delete(&ChatRecord::key(chat.id), Some("attribute_exists(PK)"), &[])?;
        let company = CompanyRecord::key(chat.company_id);
        counted_in(chat.kind).count(&mut tx, &company, -1)?;
        match tx.commit().await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.failed(head) => Ok(false),
            Err(cancelled) => Err(cancelled.unexpected("chat delete")),
        }
    }

    /// Sets (or, `None`, removes) the chat's copy of its company's `retention_days`;
    /// `false` when the chat is gone.
    pub async fn set_retention(
        &self,
        chat_id: ChatId,
        retention_days: Option<u32>,
    ) -> Result<bool> {
        let update = match retention_days {
            Some(days) => Update::new().set("retention_days", n(days)),
            None => Update::new().remove("retention_days"),
        };
        self.db
            .update_if(
                &ChatRecord::key(chat_id),
                update.condition("attribute_exists(PK)"),
            )
            .await
    }

    /// Deletes every item left in a deleted chat's partition; how many went. Safe to run
    /// again, and again after a stop part-way: it deletes what is left.
    pub async fn purge(&self, chat_id: ChatId) -> Result<usize> {
        self.db.purge_partition(&chat_partition(chat_id)).await
    }
}

/// The chat whose chat item these keys are (as the table's stream hands them), if they
/// are a chat item's.
pub fn chat_of_keys(keys: &Item) -> Option<ChatId> {
    if sort_key(keys) != Some("CHAT") {
        return None;
    }
    let pk = keys.get(PK)?.as_s().ok()?;
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
            name: "Support".into(),
            description: None,
            password: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            last_message_at: None,
            last_message_id: None,
            event_seq: 0,
            last_message_seq: None,
            unread_email_minutes: None,
            tokens_revoked_at_ms: None,
            retention_days: None,
            ..ChatRecord::default()
        };
        let item = chat_item(&chat).unwrap();
        assert_eq!(item[PK], s(format!("CHAT#{}", chat.id)));
        assert_eq!(item[GSI1PK], s(format!("COMPANY#{}", chat.company_id)));
        assert_eq!(item[GSI1SK], s(format!("CHAT#{}", chat.id)));
    }
}

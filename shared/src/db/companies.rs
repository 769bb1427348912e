//! Companies, in their owner's partition: another owner's company id finds nothing.
//! `chat_count` is kept by the chat transactions (see [`super::chats`]), which is what
//! lets a company refuse deletion while it has chats, without a race.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::page::{ListQuery, Page};
use super::tx::Transaction;
use super::update::Update;
use super::users::{self, Added, Holding};
use super::{Db, Item, Key, from_item, keys, n, s, to_item};
use crate::error::ApiError;
use crate::ids::{CompanyId, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompanyRecord {
    pub id: CompanyId,
    pub owner_id: UserId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// The page that embeds the chat widget: unread-message emails link back to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Chats of this company; a company is deleted only at 0 (kept by transactions).
    #[serde(default)]
    pub chat_count: i64,
    /// Days its chats' messages (and their events) are kept from when they were sent;
    /// `None` keeps them. Each chat holds a copy (see `ChatRecord::retention_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

impl CompanyRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "owner_id": self.owner_id,
            "name": self.name,
            "website": self.website,
            "widget_url": self.widget_url,
            "retention_days": self.retention_days,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

const PREFIX: &str = "COMPANY#";

pub(crate) fn key(owner_id: UserId, company_id: CompanyId) -> Key {
    Key::new(
        keys::user_partition(owner_id),
        format!("{PREFIX}{company_id}"),
    )
}

/// A company item's change as the table's stream hands it (old and new images): the
/// company and its new `retention_days`, when that is what changed.
pub fn retention_change(old: Item, new: Item) -> Result<Option<CompanyRecord>, ApiError> {
    let keyed_as_company = |item: &Item| {
        item.get(keys::SK)
            .and_then(|sk| sk.as_s().ok())
            .is_some_and(|sk| sk.starts_with(PREFIX))
    };
    if !keyed_as_company(&old) || !keyed_as_company(&new) {
        return Ok(None);
    }
    let (old, new): (CompanyRecord, CompanyRecord) = (from_item(old)?, from_item(new)?);
    Ok((old.retention_days != new.retention_days).then_some(new))
}

/// What a `PUT` changes: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct CompanyChanges {
    pub name: Option<String>,
    pub website: Option<Option<String>>,
    pub widget_url: Option<Option<String>>,
    /// `Some(None)` keeps messages from now on.
    pub retention_days: Option<Option<u32>>,
    pub updated_at: String,
}

/// The most chats one company may have.
pub const MAX_CHATS_PER_COMPANY: u32 = 10_000;
/// What a caller at that cap is told.
pub const AT_CHAT_CAP: &str =
    "This company has 10,000 chats, the most one company may have. Delete one first.";

#[derive(Debug)]
pub enum CompanyDeleted {
    Deleted(CompanyRecord),
    HasChats,
    NotFound,
}

impl Db {
    /// Adds the company, counted against [`users::MAX_COMPANIES`] in the same transaction.
    pub async fn insert_company(&self, company: &CompanyRecord) -> Result<Added, ApiError> {
        let item = to_item(&key(company.owner_id, company.id), company)?;
        self.put_counted(item, company.owner_id, Holding::Companies)
            .await
    }

    pub async fn company(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
    ) -> Result<Option<CompanyRecord>, ApiError> {
        self.get(&key(owner_id, company_id)).await
    }

    pub async fn list_companies(
        &self,
        owner_id: UserId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<CompanyRecord>, ApiError> {
        self.list(&ListQuery {
            list: "companies",
            index: None,
            partition: keys::user_partition(owner_id),
            sort_prefix: PREFIX.to_owned(),
            per_page,
            cursor,
        })
        .await
    }

    /// Copies the company's `retention_days` onto each of its chats, which is where a
    /// post reads it: messages sent from then on are kept that long (what was sent
    /// before keeps the retention it was sent with). How many chats it set.
    pub async fn apply_retention(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
        retention_days: Option<u32>,
    ) -> Result<usize, ApiError> {
        let mut applied = 0;
        for chat in self.company_chats(owner_id, company_id).await? {
            applied += usize::from(self.set_chat_retention(chat.id, retention_days).await?);
        }
        Ok(applied)
    }

    /// Every company of the owner.
    pub async fn all_companies(&self, owner_id: UserId) -> Result<Vec<CompanyRecord>, ApiError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.list_companies(owner_id, 100, cursor).await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// `None` when the owner has no such company.
    pub async fn update_company(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
        changes: CompanyChanges,
    ) -> Result<Option<CompanyRecord>, ApiError> {
        let mut update = Update::new()
            .set("updated_at", s(changes.updated_at))
            .set_or_remove("website", changes.website)
            .set_or_remove("widget_url", changes.widget_url)
            .condition("attribute_exists(PK)");
        match changes.retention_days {
            Some(Some(days)) => update = update.set("retention_days", n(days)),
            Some(None) => update = update.remove("retention_days"),
            None => {}
        }
        if let Some(name) = changes.name {
            update = update.set("name", s(name));
        }
        self.update_returning(&key(owner_id, company_id), update)
            .await
    }

    /// Deletes a company that has no chats (and counts it off its owner).
    pub async fn delete_company(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
    ) -> Result<CompanyDeleted, ApiError> {
        let key = key(owner_id, company_id);
        let Some(company) = self.get::<CompanyRecord>(&key).await? else {
            return Ok(CompanyDeleted::NotFound);
        };
        let mut tx = Transaction::new(self);
        let deleted = tx.delete(
            &key,
            Some(
                "attribute_exists(PK) AND (attribute_not_exists(chat_count) OR chat_count = :zero)",
            ),
            &[(":zero", n(0))],
        )?;
        users::tx_parts::count(&mut tx, owner_id, Holding::Companies, -1)?;
        match tx.commit().await? {
            Ok(()) => Ok(CompanyDeleted::Deleted(company)),
            // Still there: it has chats (again). Gone: deleted meanwhile.
            Err(cancelled) if cancelled.failed(deleted) => {
                Ok(if cancelled.item(deleted).is_some() {
                    CompanyDeleted::HasChats
                } else {
                    CompanyDeleted::NotFound
                })
            }
            Err(cancelled) => Err(cancelled.unexpected("company delete")),
        }
    }
}

/// Parts of other entities' transactions that concern the company item.
pub(crate) mod tx_parts {
    use super::*;
    use crate::db::tx::{Slot, Transaction};

    /// Adds `delta` to the company's `chat_count`; fails when the owner has no such
    /// company, or (adding) when it has [`MAX_CHATS_PER_COMPANY`] already: the item the
    /// failure hands back tells which.
    pub(crate) fn count_chats(
        tx: &mut Transaction<'_>,
        owner_id: UserId,
        company_id: CompanyId,
        delta: i64,
    ) -> Result<Slot, ApiError> {
        let condition = if delta > 0 {
            "attribute_exists(PK) AND (attribute_not_exists(chat_count) OR chat_count < :max)"
        } else {
            "attribute_exists(PK)"
        };
        let mut values = vec![(":delta", n(delta))];
        if delta > 0 {
            values.push((":max", n(MAX_CHATS_PER_COMPANY)));
        }
        tx.update(
            &key(owner_id, company_id),
            "ADD chat_count :delta",
            condition,
            &values,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_message_names_the_cap() {
        let cap = MAX_CHATS_PER_COMPANY;
        let written = format!("{},{:03} chats", cap / 1000, cap % 1000);
        assert!(AT_CHAT_CAP.contains(&written), "{AT_CHAT_CAP}");
    }
}

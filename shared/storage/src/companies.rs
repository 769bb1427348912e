//! Companies, in their owner's partition: another owner's company id finds nothing.
//! `chat_count` and `webhook_count` are kept by the chat and webhook transactions (see
//! [`crate::cap`]), which is what lets a company refuse deletion while it has chats,
//! without a race.

use domain::company::CompanyRecord;
use domain::ids::{CompanyId, UserId};
use domain::user::UserRecord;

use crate::cap::{self, Added};
use crate::item::{Item, from_item, n, s, sort_key, to_item};
use crate::key::{Entity, user_partition};
use crate::page::{ListQuery, Page};
use crate::tx::Transaction;
use crate::update::Update;
use crate::{Db, Key, Result};

const PREFIX: &str = "COMPANY#";

impl Entity for CompanyRecord {
    /// The owner and the company.
    type Id<'a> = (UserId, CompanyId);

    fn key((owner_id, company_id): (UserId, CompanyId)) -> Key {
        Key::new(user_partition(owner_id), format!("{PREFIX}{company_id}"))
    }
}

/// A company item's change as the table's stream hands it (old and new images): the
/// company and its new `retention_days`, when that is what changed.
pub fn retention_change(old: Item, new: Item) -> Result<Option<CompanyRecord>> {
    let keyed_as_company = |item: &Item| sort_key(item).is_some_and(|sk| sk.starts_with(PREFIX));
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

#[derive(Debug)]
pub enum CompanyDeleted {
    Deleted(CompanyRecord),
    HasChats,
    NotFound,
}

#[derive(Debug, Clone, Copy)]
pub struct Companies<'a> {
    pub(crate) db: &'a Db,
}

impl Companies<'_> {
    /// Adds the company, counted against [`cap::COMPANIES`] in the same transaction.
    pub async fn insert(&self, company: &CompanyRecord) -> Result<Added> {
        let item = to_item(&CompanyRecord::key((company.owner_id, company.id)), company)?;
        self.db
            .put_counted(item, &UserRecord::key(company.owner_id), cap::COMPANIES)
            .await
    }

    pub async fn get(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
    ) -> Result<Option<CompanyRecord>> {
        self.db
            .get(&CompanyRecord::key((owner_id, company_id)))
            .await
    }

    pub async fn list(
        &self,
        owner_id: UserId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<CompanyRecord>> {
        self.db
            .list(&ListQuery {
                list: "companies",
                index: None,
                partition: user_partition(owner_id),
                sort_prefix: PREFIX.to_owned(),
                per_page,
                cursor,
            })
            .await
    }

    /// Every company of the owner.
    pub async fn all(&self, owner_id: UserId) -> Result<Vec<CompanyRecord>> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.list(owner_id, 100, cursor).await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Copies the company's `retention_days` onto each of its chats, which is where a
    /// post reads it: messages sent from then on are kept that long (what was sent
    /// before keeps the retention it was sent with). How many chats it set.
    pub async fn apply_retention(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
        retention_days: Option<u32>,
    ) -> Result<usize> {
        let chats = self.db.chats();
        let mut applied = 0;
        for chat in chats.of_company(owner_id, company_id).await? {
            applied += usize::from(chats.set_retention(chat.id, retention_days).await?);
        }
        Ok(applied)
    }

    /// `None` when the owner has no such company.
    pub async fn update(
        &self,
        owner_id: UserId,
        company_id: CompanyId,
        changes: CompanyChanges,
    ) -> Result<Option<CompanyRecord>> {
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
        self.db
            .update_returning(&CompanyRecord::key((owner_id, company_id)), update)
            .await
    }

    /// Deletes a company that has no chats (and counts it off its owner).
    pub async fn delete(&self, owner_id: UserId, company_id: CompanyId) -> Result<CompanyDeleted> {
        let key = CompanyRecord::key((owner_id, company_id));
        let Some(company) = self.db.get::<CompanyRecord>(&key).await? else {
            return Ok(CompanyDeleted::NotFound);
        };
        let mut tx = Transaction::new(self.db);
        let deleted = tx.delete(
            &key,
            Some(
                "attribute_exists(PK) AND (attribute_not_exists(chat_count) OR chat_count = :zero)",
            ),
            &[(":zero", n(0))],
        )?;
        cap::COMPANIES.count(&mut tx, &UserRecord::key(owner_id), -1)?;
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

//! Companies, each in a partition of its own (`COMPANY#<id>`) with its members,
//! invitations and webhook endpoints, so ownership and membership changes never re-key
//! anything. Who may read one is decided by the caller's memberships (its user item).
//! `chat_count`, `webhook_count` and `member_count` are kept by the transactions that
//! add and remove those (see [`crate::cap`]), which is what lets a company refuse
//! deletion while it has chats, without a race.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::availability::BusinessHours;
use domain::company::CompanyRecord;
use domain::ids::{CompanyId, EntityId, UserId};
use domain::team::Membership;
use domain::user::UserRecord;
use serde::{Deserialize, Serialize};

use crate::cap::{self, Added};
use crate::item::{Item, from_item, n, s, sort_key, to_item};
use crate::key::{Entity, company_partition};
use crate::members;
use crate::page::Page;
use crate::tx::Transaction;
use crate::update::Update;
use crate::{Db, Key, Result, StoreError};

/// The company item's sort key.
const COMPANY_SK: &str = "COMPANY";

impl Entity for CompanyRecord {
    type Id<'a> = CompanyId;

    fn key(company_id: CompanyId) -> Key {
        Key::new(company_partition(company_id), COMPANY_SK)
    }
}

/// A company item's change as the table's stream hands it (old and new images): the
/// company and its new `retention_days`, when that is what changed.
pub fn retention_change(old: Item, new: Item) -> Result<Option<CompanyRecord>> {
    let keyed_as_company = |item: &Item| sort_key(item) == Some(COMPANY_SK);
    if !keyed_as_company(&old) || !keyed_as_company(&new) {
        return Ok(None);
    }
    let (old, new): (CompanyRecord, CompanyRecord) = (from_item(old)?, from_item(new)?);
    Ok((old.retention_days != new.retention_days).then_some(new))
}

/// The company whose company item these keys are (as the table's stream hands them), if
/// they are a company item's.
pub fn company_of_keys(keys: &Item) -> Option<CompanyId> {
    if sort_key(keys) != Some(COMPANY_SK) {
        return None;
    }
    let pk = keys.get(crate::key::PK)?.as_s().ok()?;
    CompanyId::parse(pk.strip_prefix("COMPANY#")?)
}

/// Where a page of a member's companies ended: the member it was read for (another
/// caller's cursor is refused, as every list's is) and the last company on it.
#[derive(Serialize, Deserialize)]
struct MemberCursor {
    l: String,
    u: UserId,
    c: CompanyId,
}

impl MemberCursor {
    const LIST: &'static str = "companies";

    fn write(user: UserId, last: CompanyId) -> Result<String> {
        let body = MemberCursor {
            l: Self::LIST.to_owned(),
            u: user,
            c: last,
        };
        let bytes = serde_json::to_vec(&body)
            .map_err(|_| StoreError::Unexpected("a cursor did not serialise"))?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn read(raw: &str, user: UserId) -> Result<CompanyId> {
        let body: MemberCursor = URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(StoreError::ForeignCursor)?;
        if body.l != Self::LIST || body.u != user {
            return Err(StoreError::ForeignCursor);
        }
        Ok(body.c)
    }
}

/// What a `PUT` changes: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct CompanyChanges {
    pub name: Option<String>,
    pub website: Option<Option<String>>,
    pub widget_url: Option<Option<String>>,
    /// `Some(None)` keeps messages from now on.
    pub retention_days: Option<Option<u32>>,
    /// `Some(vec![])` allows no origin of its own any more.
    pub allowed_origins: Option<Vec<String>>,
    /// `Some(None)`: always open.
    pub business_hours: Option<Option<BusinessHours>>,
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
    /// Adds the company with its creator as its `owner` member, counted against
    /// [`cap::COMPANIES`] on the creator's item in the same transaction.
    pub async fn insert(&self, company: &CompanyRecord, owner: &UserRecord) -> Result<Added> {
        members::ensure_map(self.db, owner).await?;
        let member = members::founder(company, owner);
        let mut tx = Transaction::new(self.db);
        let counted = tx.update_with(
            &UserRecord::key(owner.id),
            cap::COMPANIES
                .change(members::grant_on_user(&member), 1)
                .condition("attribute_exists(PK)"),
        )?;
        let put = tx.put_new(to_item(
            &CompanyRecord::key(company.id),
            &CompanyRecord {
                member_count: 1,
                ..company.clone()
            },
        )?)?;
        tx.put_new(members::member_item(&member)?)?;
        tx.put_new(members::member_email_item(&member)?)?;
        match tx.commit().await? {
            Ok(()) => Ok(Added::Added),
            // This very write, committed by an attempt whose answer was lost.
            Err(cancelled) if cancelled.failed(put) => Ok(Added::Added),
            Err(cancelled) if cancelled.failed(counted) => {
                Ok(cap::Cap::refusal(&cancelled, counted))
            }
            Err(cancelled) => Err(cancelled.unexpected("company create")),
        }
    }

    pub async fn get(&self, company_id: CompanyId) -> Result<Option<CompanyRecord>> {
        self.db.get(&CompanyRecord::key(company_id)).await
    }

    /// A page of the companies `user` is a member of, in id order, with its membership
    /// in each: one `BatchGetItem` of the companies its user item names, never a read per
    /// company. The cursor is the last company id of the page before.
    pub async fn of_member(
        &self,
        user: &UserRecord,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<(CompanyRecord, Membership)>> {
        let after = match cursor.as_deref() {
            None => None,
            Some(raw) => Some(MemberCursor::read(raw, user.id)?),
        };
        let mut ids: Vec<(CompanyId, Membership)> = user
            .memberships
            .iter()
            .filter(|(id, _)| after.is_none_or(|after| **id > after))
            .map(|(id, membership)| (*id, *membership))
            .take(per_page + 1)
            .collect();
        let more = ids.len() > per_page;
        ids.truncate(per_page);
        let keys: Vec<Key> = ids.iter().map(|(id, _)| CompanyRecord::key(*id)).collect();
        let found = self.db.get_all(&keys.iter().collect::<Vec<_>>()).await?;
        let mut items = Vec::with_capacity(ids.len());
        for ((_, membership), item) in ids.iter().zip(found) {
            // A company deleted a moment ago (its members' entries are cleared after).
            if let Some(item) = item {
                items.push((from_item::<CompanyRecord>(item)?, *membership));
            }
        }
        let next_cursor = match ids.last() {
            Some((last, _)) if more => Some(MemberCursor::write(user.id, *last)?),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    /// Copies the company's `retention_days` onto each of its chats, which is where a
    /// post reads it: messages sent from then on are kept that long (what was sent
    /// before keeps the retention it was sent with). How many chats it set.
    pub async fn apply_retention(
        &self,
        company_id: CompanyId,
        retention_days: Option<u32>,
    ) -> Result<usize> {
        let chats = self.db.chats();
        let mut applied = 0;
        for chat in chats.of_company(company_id).await? {
            applied += usize::from(chats.set_retention(chat.id, retention_days).await?);
        }
        Ok(applied)
    }

    /// `None` when there is no such company.
    pub async fn update(
        &self,
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
        match changes.allowed_origins {
            Some(origins) if origins.is_empty() => update = update.remove("allowed_origins"),
            Some(origins) => {
                update = update.set(
                    "allowed_origins",
                    serde_dynamo::to_attribute_value(origins)?,
                )
            }
            None => {}
        }
        match changes.business_hours {
            Some(Some(hours)) => {
                update = update.set("business_hours", serde_dynamo::to_attribute_value(hours)?)
            }
            Some(None) => update = update.remove("business_hours"),
            None => {}
        }
        self.db
            .update_returning(&CompanyRecord::key(company_id), update)
            .await
    }

    /// Clears what is left of a deleted company: each member's entry for it (and the
    /// member's sockets), its visitors' conversations (each chat item's removal reaches
    /// the `lifecycle` function, which purges that chat's partition in turn), then every
    /// item of its partition. Safe to run again; how many items went.
    pub async fn purge(&self, company_id: CompanyId) -> Result<usize> {
        // A company is deleted without waiting for its conversations (its visitors made
        // them): they go here, off the request.
        for chat in self.db.chats().conversations_of(company_id).await? {
            self.db.delete(&domain::chat::ChatRecord::key(chat)).await?;
        }
        let members = self.db.members();
        loop {
            let page = members.list(company_id, 100, None).await?;
            for member in &page.items {
                members
                    .remove_after_company(company_id, member.user_id)
                    .await?;
            }
            if page.next_cursor.is_none() {
                break;
            }
        }
        self.db
            .purge_partition(&company_partition(company_id))
            .await
    }

    /// Deletes a company that has no chats, with its owner's membership (and counts it
    /// off its owner). The rest of its partition (other members, invitations, webhook
    /// endpoints) is purged by the `lifecycle` function, which the company item's removal
    /// reaches through the table's stream; until then, a member's entry for it finds no
    /// company (404).
    pub async fn delete(&self, company_id: CompanyId) -> Result<CompanyDeleted> {
        let key = CompanyRecord::key(company_id);
        let Some(company) = self.db.get::<CompanyRecord>(&key).await? else {
            return Ok(CompanyDeleted::NotFound);
        };
        let mut tx = Transaction::new(self.db);
        let deleted = tx.delete(
            &key,
            Some(
                "attribute_exists(PK) AND owner_id = :owner AND \
                 (attribute_not_exists(chat_count) OR chat_count = :zero)",
            ),
            &[(":zero", n(0)), (":owner", s(company.owner_id.to_string()))],
        )?;
        tx.update_with(
            &UserRecord::key(company.owner_id),
            cap::COMPANIES.change(members::revoke_on_user(company_id), -1),
        )?;
        tx.delete(
            &members::member_key(company_id, company.owner_id),
            None,
            &[],
        )?;
        match tx.commit().await? {
            Ok(()) => Ok(CompanyDeleted::Deleted(company)),
            // Still there: it has chats (again), or changed hands. Gone: deleted meanwhile.
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

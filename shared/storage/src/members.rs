//! A company's members: one item per (company, user) under the company
//! (`COMPANY#<company>` / `MEMBER#<user>`), and its copy in the user item's `memberships`
//! map, written in the same transaction. The copy is what authorization reads: the token
//! check reads the user item anyway, so asking "is a member, as what" costs no round
//! trip, and a removal (which deletes both at once) is honoured by the very next request.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::company::CompanyRecord;
use domain::ids::{CompanyId, InvitationId, UserId};
use domain::team::{MemberRecord, Membership};
use domain::user::UserRecord;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::cap;
use crate::item::{Item, to_item};
use crate::key::{Entity, company_partition};
use crate::page::{ListQuery, Page};
use crate::tx::Transaction;
use crate::update::Update;
use crate::{Db, Key, Result};

const PREFIX: &str = "MEMBER#";
/// The user item's map of memberships.
pub(crate) const MEMBERSHIPS: &str = "memberships";

impl Entity for MemberRecord {
    type Id<'a> = (CompanyId, UserId);

    fn key((company_id, user_id): (CompanyId, UserId)) -> Key {
        Key::new(company_partition(company_id), format!("{PREFIX}{user_id}"))
    }
}

pub(crate) fn member_key(company_id: CompanyId, user_id: UserId) -> Key {
    MemberRecord::key((company_id, user_id))
}

pub(crate) fn member_item(member: &MemberRecord) -> Result<Item> {
    to_item(&member_key(member.company_id, member.user_id), member)
}

/// An email's place in a company's team: invited, or a member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TeamEmail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) invitation_id: Option<InvitationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user_id: Option<UserId>,
}

pub(crate) fn team_email_key(company_id: CompanyId, email: &str) -> Key {
    Key::new(company_partition(company_id), format!("EMAIL#{email}"))
}

/// The item that keeps a member's email from being invited again.
pub(crate) fn member_email_item(member: &MemberRecord) -> Result<crate::Item> {
    to_item(
        &team_email_key(member.company_id, &member.email),
        &TeamEmail {
            invitation_id: None,
            user_id: Some(member.user_id),
        },
    )
}

/// A company's creator, its first `owner` member.
pub(crate) fn founder(company: &CompanyRecord, owner: &UserRecord) -> MemberRecord {
    MemberRecord {
        company_id: company.id,
        user_id: owner.id,
        role: Membership::OWNER.role,
        sees: Membership::OWNER.sees,
        name: owner.name.clone(),
        email: owner.email.clone(),
        created_at: company.created_at.clone(),
        updated_at: company.created_at.clone(),
    }
}

/// A membership as the user item's map holds it.
fn membership_value(membership: Membership) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        (
            "role".to_owned(),
            AttributeValue::S(membership.role.as_str().to_owned()),
        ),
        (
            "sees".to_owned(),
            AttributeValue::S(membership.sees.as_str().to_owned()),
        ),
    ]))
}

/// The user item's side of a new or changed membership.
pub(crate) fn grant_on_user(member: &MemberRecord) -> Update {
    Update::new().set_entry(
        MEMBERSHIPS,
        &member.company_id.to_string(),
        membership_value(member.membership()),
    )
}

/// The user item's side of a membership that ends.
pub(crate) fn revoke_on_user(company_id: CompanyId) -> Update {
    Update::new().remove_entry(MEMBERSHIPS, &company_id.to_string())
}

/// Gives a user item from before memberships its (empty) map, which entries are then
/// set into by path. Nothing when the map is known to exist.
pub(crate) async fn ensure_map(db: &Db, user: &UserRecord) -> Result<()> {
    if !user.memberships.is_empty() {
        return Ok(());
    }
    let update = Update::new()
        .value(":empty", AttributeValue::M(HashMap::new()))
        .condition("attribute_exists(PK)");
    let update = update.set_if_absent(MEMBERSHIPS, ":empty");
    db.update_if(&UserRecord::key(user.id), update).await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub enum HandedOver {
    /// The new owner's member record.
    Done(MemberRecord),
    /// The new owner owns as many companies as a user may.
    TargetAtCap,
    /// The owner or the member changed meanwhile.
    Changed,
}

#[derive(Debug, Clone, Copy)]
pub struct Members<'a> {
    pub(crate) db: &'a Db,
}

impl Members<'_> {
    pub async fn get(
        &self,
        company_id: CompanyId,
        user_id: UserId,
    ) -> Result<Option<MemberRecord>> {
        self.db.get(&member_key(company_id, user_id)).await
    }

    /// Changes a member's role or `sees` (not to or from `owner`: see
    /// [`Members::hand_over`]); the member item and the user item's entry in one
    /// transaction. `None` when it is no longer a member.
    pub async fn change(
        &self,
        member: &MemberRecord,
        membership: Membership,
        at: &str,
    ) -> Result<Option<MemberRecord>> {
        let changed = MemberRecord {
            role: membership.role,
            sees: membership.sees,
            updated_at: at.to_owned(),
            ..member.clone()
        };
        let mut tx = Transaction::new(self.db);
        tx.put(member_item(&changed)?, "attribute_exists(PK)", &[])?;
        tx.update_with(
            &UserRecord::key(member.user_id),
            grant_on_user(&changed).condition("attribute_exists(PK)"),
        )?;
        match tx.commit().await? {
            Ok(()) => {
                // Seeing fewer chats (an agent now bound to its assigned ones): its open
                // sockets saw chats it may no longer see, so they close. Seeing more: its
                // team sockets would go on filtering as before, so they close too (the
                // client reconnects and sees all); its chat sockets stay.
                let (before, after) = (
                    member.membership().sees_every_chat(),
                    membership.sees_every_chat(),
                );
                if before && !after {
                    self.db
                        .sockets()
                        .close_member(member.user_id, member.company_id)
                        .await?;
                } else if after && !before {
                    self.db
                        .sockets()
                        .close_member_team(member.user_id, member.company_id)
                        .await?;
                }
                Ok(Some(changed))
            }
            Err(cancelled) if cancelled.any_failed() => Ok(None),
            Err(cancelled) => Err(cancelled.unexpected("member change")),
        }
    }

    /// Hands the company from its owner `from` to the member `to`: `to` becomes its
    /// `owner`, `from` an `admin`, the company names its new owner, and the count of
    /// companies owned moves between the two, all in one transaction.
    pub async fn hand_over(
        &self,
        from: &MemberRecord,
        to: &MemberRecord,
        at: &str,
    ) -> Result<HandedOver> {
        use domain::team::Role;
        let company_id = from.company_id;
        let new_owner = MemberRecord {
            role: Role::Owner,
            sees: domain::team::Sees::All,
            updated_at: at.to_owned(),
            ..to.clone()
        };
        let old_owner = MemberRecord {
            role: Role::Admin,
            updated_at: at.to_owned(),
            ..from.clone()
        };
        let mut tx = Transaction::new(self.db);
        let company = tx.update_with(
            &CompanyRecord::key(company_id),
            Update::new()
                .set("owner_id", crate::item::s(to.user_id.to_string()))
                .set("updated_at", crate::item::s(at))
                .value(":from", crate::item::s(from.user_id.to_string()))
                .condition("attribute_exists(PK) AND owner_id = :from"),
        )?;
        let target = tx.put(member_item(&new_owner)?, "attribute_exists(PK)", &[])?;
        tx.put(member_item(&old_owner)?, "attribute_exists(PK)", &[])?;
        let counted = tx.update_with(
            &UserRecord::key(to.user_id),
            cap::COMPANIES
                .change(grant_on_user(&new_owner), 1)
                .condition("attribute_exists(PK)"),
        )?;
        tx.update_with(
            &UserRecord::key(from.user_id),
            cap::COMPANIES
                .change(grant_on_user(&old_owner), -1)
                .condition("attribute_exists(PK)"),
        )?;
        match tx.commit().await? {
            Ok(()) => Ok(HandedOver::Done(new_owner)),
            Err(cancelled) if cancelled.failed(counted) && cancelled.item(counted).is_some() => {
                Ok(HandedOver::TargetAtCap)
            }
            Err(cancelled) if cancelled.failed(company) || cancelled.failed(target) => {
                Ok(HandedOver::Changed)
            }
            Err(cancelled) => Err(cancelled.unexpected("ownership hand-over")),
        }
    }

    /// Ends a membership: the member item, the user item's entry and the company's count,
    /// in one transaction, so the user's next request is no longer a member's. `false`
    /// when it was not a member (any more).
    pub async fn remove(&self, company_id: CompanyId, user_id: UserId) -> Result<bool> {
        self.end(company_id, user_id, true).await
    }

    /// As [`Members::remove`], for a company already deleted (nothing left to count on).
    pub(crate) async fn remove_after_company(
        &self,
        company_id: CompanyId,
        user_id: UserId,
    ) -> Result<bool> {
        self.end(company_id, user_id, false).await
    }

    async fn end(&self, company_id: CompanyId, user_id: UserId, counted: bool) -> Result<bool> {
        let Some(current) = self.get(company_id, user_id).await? else {
            return Ok(false);
        };
        let mut tx = Transaction::new(self.db);
        // Its email may be invited again.
        tx.delete(&team_email_key(company_id, &current.email), None, &[])?;
        let member = tx.delete(
            &member_key(company_id, user_id),
            Some("attribute_exists(PK)"),
            &[],
        )?;
        let user = tx.update_with(
            &UserRecord::key(user_id),
            revoke_on_user(company_id).condition("attribute_exists(PK)"),
        )?;
        if counted {
            cap::MEMBERS.count(&mut tx, &CompanyRecord::key(company_id), -1)?;
        }
        match tx.commit().await? {
            Ok(()) => {
                self.db.sockets().close_member(user_id, company_id).await?;
                // Its conversations go back to the team.
                self.db
                    .conversations()
                    .unassign_member(company_id, user_id)
                    .await?;
                Ok(true)
            }
            Err(cancelled) if cancelled.failed(member) => Ok(false),
            // A user deleted without it (a stopped cascade): only its member item is left.
            Err(cancelled) if cancelled.failed(user) && cancelled.item(user).is_none() => {
                self.db.delete(&member_key(company_id, user_id)).await?;
                Ok(true)
            }
            Err(cancelled) => Err(cancelled.unexpected("member remove")),
        }
    }

    /// A page of the company's active members, oldest user id first.
    pub async fn list(
        &self,
        company_id: CompanyId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<MemberRecord>> {
        self.db
            .list(&ListQuery {
                list: "members",
                index: None,
                partition: company_partition(company_id),
                sort_prefix: PREFIX.to_owned(),
                per_page,
                cursor,
            })
            .await
    }
}

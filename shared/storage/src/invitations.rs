//! Invitations to a company's team: each one under its company (`COMPANY#<company>` /
//! `INVITE#<invitation>`), found by its code through a pointer keyed by the code's
//! SHA-256 (`INVITECODE#<digest>`: the table never holds a usable code; a 128-bit random
//! code needs no key to be unguessable), and counted with the members against the
//! company's cap. One email is invited or a member at most once per company: the
//! company's `EMAIL#<email>` item, put in the same transactions.

use domain::company::CompanyRecord;
use domain::ids::{CompanyId, InvitationId};
use domain::team::{InvitationRecord, MemberRecord};
use domain::user::UserRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cap::{self, Added};
use crate::item::{n, to_item};
use crate::key::{Entity, TTL, company_partition};
use crate::members;
use crate::page::ListQuery;
use crate::tx::Transaction;
use crate::{Db, Key, Result};

const PREFIX: &str = "INVITE#";

impl Entity for InvitationRecord {
    type Id<'a> = (CompanyId, InvitationId);

    fn key((company_id, invitation_id): (CompanyId, InvitationId)) -> Key {
        Key::new(
            company_partition(company_id),
            format!("{PREFIX}{invitation_id}"),
        )
    }
}

/// The pointer from a code to its invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CodePointer {
    company_id: CompanyId,
    invitation_id: InvitationId,
}

fn code_key(code: &str) -> Key {
    let digest = Sha256::digest(code.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Key::new(format!("INVITECODE#{hex}"), "INVITATION")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invited {
    Invited,
    /// The email is invited or a member already.
    EmailTaken,
    /// The company has `MAX_MEMBERS` members and invitations.
    AtCap,
    CompanyGone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Accepted,
    /// Accepted, revoked or expired meanwhile.
    Gone,
}

#[derive(Debug, Clone, Copy)]
pub struct Invitations<'a> {
    pub(crate) db: &'a Db,
}

impl Invitations<'_> {
    /// Keeps a new invitation whose code is `code`, counted against the company's cap.
    pub async fn insert(&self, invitation: &InvitationRecord, code: &str) -> Result<Invited> {
        let mut tx = Transaction::new(self.db);
        let counted = cap::MEMBERS.count(&mut tx, &CompanyRecord::key(invitation.company_id), 1)?;
        let email = tx.put_new(to_item(
            &members::team_email_key(invitation.company_id, &invitation.email),
            &members::TeamEmail {
                invitation_id: Some(invitation.id),
                user_id: None,
            },
        )?)?;
        tx.put_new(to_item(
            &InvitationRecord::key((invitation.company_id, invitation.id)),
            invitation,
        )?)?;
        let mut pointer = to_item(
            &code_key(code),
            &CodePointer {
                company_id: invitation.company_id,
                invitation_id: invitation.id,
            },
        )?;
        pointer.insert(TTL.to_owned(), n(invitation.expires_at_ms / 1000 + 60));
        tx.put_new(pointer)?;
        match tx.commit().await? {
            Ok(()) => Ok(Invited::Invited),
            Err(cancelled) if cancelled.failed(email) => Ok(Invited::EmailTaken),
            Err(cancelled) if cancelled.failed(counted) => {
                Ok(match cap::Cap::refusal(&cancelled, counted) {
                    Added::AtCap => Invited::AtCap,
                    Added::Added | Added::HolderGone => Invited::CompanyGone,
                })
            }
            Err(cancelled) => Err(cancelled.unexpected("invitation insert")),
        }
    }

    pub async fn get(
        &self,
        company_id: CompanyId,
        invitation_id: InvitationId,
    ) -> Result<Option<InvitationRecord>> {
        self.db
            .get(&InvitationRecord::key((company_id, invitation_id)))
            .await
    }

    /// The invitation `code` was made for, if it is still kept.
    pub async fn by_code(&self, code: &str) -> Result<Option<InvitationRecord>> {
        let Some(pointer) = self.db.get::<CodePointer>(&code_key(code)).await? else {
            return Ok(None);
        };
        self.get(pointer.company_id, pointer.invitation_id).await
    }

    /// The company's open invitations (at most `MAX_MEMBERS`).
    pub async fn of_company(&self, company_id: CompanyId) -> Result<Vec<InvitationRecord>> {
        self.db
            .list_all(ListQuery {
                list: "invitations",
                index: None,
                partition: company_partition(company_id),
                sort_prefix: PREFIX.to_owned(),
                per_page: 100,
                cursor: None,
            })
            .await
    }

    /// Withdraws an invitation (its code stops working); `false` when it was gone.
    /// (The code's pointer is left to its TTL: it points at nothing now.)
    pub async fn revoke(&self, invitation: &InvitationRecord) -> Result<bool> {
        let mut tx = Transaction::new(self.db);
        let kept = tx.delete(
            &InvitationRecord::key((invitation.company_id, invitation.id)),
            Some("attribute_exists(PK)"),
            &[],
        )?;
        tx.delete(
            &members::team_email_key(invitation.company_id, &invitation.email),
            None,
            &[],
        )?;
        cap::MEMBERS.count(&mut tx, &CompanyRecord::key(invitation.company_id), -1)?;
        match tx.commit().await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.failed(kept) => Ok(false),
            Err(cancelled) => Err(cancelled.unexpected("invitation revoke")),
        }
    }

    /// Turns the invitation found by `code` into `user`'s membership, in one transaction:
    /// the invitation and its code go, the member item and the user item's entry come.
    /// The count stays: the invitation was counted.
    pub async fn accept(
        &self,
        invitation: &InvitationRecord,
        code: &str,
        user: &UserRecord,
        at: &str,
    ) -> Result<Accepted> {
        members::ensure_map(self.db, user).await?;
        let member = MemberRecord {
            company_id: invitation.company_id,
            user_id: user.id,
            role: invitation.role,
            sees: invitation.sees,
            name: user.name.clone(),
            email: user.email.clone(),
            created_at: at.to_owned(),
            updated_at: at.to_owned(),
        };
        let mut tx = Transaction::new(self.db);
        let kept = tx.delete(
            &InvitationRecord::key((invitation.company_id, invitation.id)),
            Some("attribute_exists(PK)"),
            &[],
        )?;
        tx.delete(&code_key(code), None, &[])?;
        tx.put_over(members::member_email_item(&member)?)?;
        tx.put_new(members::member_item(&member)?)?;
        tx.update_with(
            &UserRecord::key(user.id),
            members::grant_on_user(&member).condition("attribute_exists(PK)"),
        )?;
        match tx.commit().await? {
            Ok(()) => Ok(Accepted::Accepted),
            Err(cancelled) if cancelled.failed(kept) => Ok(Accepted::Gone),
            Err(cancelled) => Err(cancelled.unexpected("invitation accept")),
        }
    }
}

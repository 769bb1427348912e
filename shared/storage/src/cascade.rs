//! What goes with a deleted operator (`chat-admin user delete`): in each company it
//! owns, its chats first (the rest of each one's items follow through the `lifecycle`
//! function; from each one's delete on, its chat users' tokens are dead, since every
//! chat-user request reads the chat), then the company's webhook endpoints (deliveries
//! expire on their own) and the company; in the others, its membership ends. Then its
//! API tokens, and itself last, so a delete stopped part-way leaves the operator to find
//! and delete again.

use domain::api_token::ApiTokenRecord;
use domain::team::Role;
use domain::user::UserRecord;
use serde::Serialize;

use crate::companies::CompanyDeleted;
use crate::key::Entity;
use crate::{Db, Result};

/// What went with a deleted operator.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UserDeleted {
    pub chats: usize,
    pub companies: usize,
    pub webhooks: usize,
    pub api_tokens: usize,
}

/// How deleting an operator ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cascade {
    Done(UserDeleted),
    /// A company of the user got a chat meanwhile (or one not yet in the index): the
    /// user stays, to be deleted again.
    CompanyStillHasChats(UserDeleted),
}

/// Deletes `user` and everything it owns, in the order the module explains; in the
/// companies it is only a member of, its membership ends.
pub async fn delete_user(db: &Db, user: &UserRecord) -> Result<Cascade> {
    let mut deleted = UserDeleted::default();
    for (company_id, membership) in &user.memberships {
        let company_id = *company_id;
        if membership.role != Role::Owner {
            db.members().remove(company_id, user.id).await?;
            continue;
        }
        for chat in db.chats().of_company(company_id).await? {
            deleted.chats += usize::from(db.chats().delete(&chat).await?);
        }
        for webhook in db.webhooks().of_company(company_id).await? {
            let gone = db.webhooks().delete(company_id, webhook.id).await?;
            deleted.webhooks += usize::from(gone.is_some());
        }
        match db.companies().delete(company_id).await? {
            CompanyDeleted::Deleted(_) => deleted.companies += 1,
            CompanyDeleted::NotFound => {}
            CompanyDeleted::HasChats => return Ok(Cascade::CompanyStillHasChats(deleted)),
        }
    }
    for token in db.api_tokens().all(user.id).await? {
        db.delete(&ApiTokenRecord::key((user.id, token.id))).await?;
        deleted.api_tokens += 1;
    }
    db.users().delete(user).await?;
    Ok(Cascade::Done(deleted))
}

//! What goes with a deleted operator (`chat-admin user delete`): its chats first (the
//! rest of each one's items follow through the `lifecycle` function; from each one's
//! delete on, its chat users' tokens are dead, since every chat-user request reads the
//! chat), then its companies with their webhook endpoints (deliveries expire on their
//! own), its API tokens, and itself last, so a delete stopped part-way leaves the
//! operator to find and delete again.

use domain::api_token::ApiTokenRecord;
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

/// Deletes `user` and everything it owns, in the order the module explains.
pub async fn delete_user(db: &Db, user: &UserRecord) -> Result<Cascade> {
    let mut deleted = UserDeleted::default();
    for chat in db.chats().all(user.id, None).await? {
        deleted.chats += usize::from(db.chats().delete(&chat).await?);
    }
    for company in db.companies().all(user.id).await? {
        for webhook in db.webhooks().of_company(user.id, company.id).await? {
            let gone = db
                .webhooks()
                .delete(user.id, company.id, webhook.id)
                .await?;
            deleted.webhooks += usize::from(gone.is_some());
        }
        match db.companies().delete(user.id, company.id).await? {
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

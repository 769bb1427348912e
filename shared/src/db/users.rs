//! Operators: the profile item and the unique-email item that points at it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::companies::CompanyDeleted;
use super::tx::Transaction;
use super::{Db, Item, Key, api_tokens, keys, to_item};
use crate::error::ApiError;
use crate::ids::UserId;

/// What went with a deleted operator.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UserDeleted {
    pub chats: usize,
    pub companies: usize,
    pub webhooks: usize,
    pub api_tokens: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: String,
    pub updated_at: String,
}

impl UserRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// The most API tokens one operator may hold at once.
pub const MAX_API_TOKENS: u32 = 50;
/// The most companies one operator may own.
pub const MAX_COMPANIES: u32 = 50;

/// What a caller at the API-token cap is told (the number is [`MAX_API_TOKENS`]).
pub const AT_API_TOKEN_CAP: &str =
    "You hold 50 API tokens, the most one user may have. Revoke one first.";
/// What a caller at the company cap is told (the number is [`MAX_COMPANIES`]).
pub const AT_COMPANY_CAP: &str =
    "You own 50 companies, the most one user may have. Delete one first.";

/// What an operator holds a bounded number of, counted on its profile item in the same
/// transaction as each item added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    ApiTokens,
    Companies,
}

impl Holding {
    pub const fn max(self) -> u32 {
        match self {
            Holding::ApiTokens => MAX_API_TOKENS,
            Holding::Companies => MAX_COMPANIES,
        }
    }

    fn counter(self) -> &'static str {
        match self {
            Holding::ApiTokens => "api_token_count",
            Holding::Companies => "company_count",
        }
    }
}

/// How adding one more of a [`Holding`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    Added,
    /// The operator holds [`Holding::max`] already.
    AtCap,
    /// The operator is gone.
    UserGone,
}

impl Added {
    /// The answer for the caller: a 409 saying `at_cap` at the cap, a 401 when its user
    /// went meanwhile.
    pub fn or_refuse(self, at_cap: &'static str) -> Result<(), ApiError> {
        match self {
            Added::Added => Ok(()),
            Added::AtCap => Err(ApiError::Conflict(at_cap)),
            Added::UserGone => Err(ApiError::Unauthenticated("Unauthenticated.")),
        }
    }
}

impl Db {
    /// Puts a new item of one of the user's holdings (a fresh id: never taken), counted
    /// against [`Holding::max`] in the same transaction.
    pub(crate) async fn put_counted(
        &self,
        item: Item,
        user_id: UserId,
        holding: Holding,
    ) -> Result<Added, ApiError> {
        let mut tx = Transaction::new(self);
        let counted = tx_parts::count(&mut tx, user_id, holding, 1)?;
        let put = tx.put_new(item)?;
        match tx.commit().await? {
            Ok(()) => Ok(Added::Added),
            // An existing item is this very write, committed by an attempt whose answer
            // was lost before the SDK retried it.
            Err(cancelled) if cancelled.failed(put) => Ok(Added::Added),
            Err(cancelled) if cancelled.failed(counted) => {
                Ok(tx_parts::refusal(&cancelled, counted))
            }
            Err(cancelled) => Err(cancelled.unexpected("counted insert")),
        }
    }
}

/// Parts of other entities' transactions that concern the profile item.
pub(crate) mod tx_parts {
    use super::*;
    use crate::db::n;
    use crate::db::tx::{Cancelled, Slot};
    use crate::db::update::Update;

    /// One more (refused at the cap, or when the user is gone) or one fewer. Items from
    /// before the counter existed were never counted: the count may go below zero.
    pub(crate) fn count(
        tx: &mut Transaction<'_>,
        user_id: UserId,
        holding: Holding,
        delta: i64,
    ) -> Result<Slot, ApiError> {
        let counter = holding.counter();
        let update = Update::new().add(counter, n(delta));
        let update = if delta > 0 {
            update.value(":max", n(holding.max())).condition(&format!(
                "attribute_exists(PK) AND (attribute_not_exists(#{counter}) OR #{counter} < :max)"
            ))
        } else {
            update.condition("attribute_exists(PK)")
        };
        tx.update_with(&key(user_id), update)
    }

    /// Why the count refused one more.
    pub(crate) fn refusal(cancelled: &Cancelled, slot: Slot) -> Added {
        if cancelled.item(slot).is_some() {
            Added::AtCap
        } else {
            Added::UserGone
        }
    }
}

/// The unique-email item: points at the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserEmailPointer {
    pub(crate) user_id: UserId,
}

pub(crate) fn key(user_id: UserId) -> Key {
    Key::new(keys::user_partition(user_id), "PROFILE")
}

/// Makes emails unique (conditional put) and is the login lookup.
pub(crate) fn email_key(email: &str) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

#[derive(Debug)]
pub enum UserCreated {
    Created,
    EmailTaken,
}

impl Db {
    pub async fn user(&self, user_id: UserId) -> Result<Option<UserRecord>, ApiError> {
        self.get(&key(user_id)).await
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, ApiError> {
        match self.get::<UserEmailPointer>(&email_key(email)).await? {
            Some(pointer) => self.user(pointer.user_id).await,
            None => Ok(None),
        }
    }

    /// The user and its email item, in one transaction: the email must be free.
    pub async fn create_user(&self, user: &UserRecord) -> Result<UserCreated, ApiError> {
        let pointer = UserEmailPointer { user_id: user.id };
        let mut tx = Transaction::new(self);
        let email = tx.put_new(to_item(&email_key(&user.email), &pointer)?)?;
        tx.put_new(to_item(&key(user.id), user)?)?;
        match tx.commit().await? {
            Ok(()) => Ok(UserCreated::Created),
            Err(cancelled) if cancelled.failed(email) => Ok(UserCreated::EmailTaken),
            Err(cancelled) => Err(cancelled.unexpected("user create")),
        }
    }

    /// Deletes an operator and everything it owns. Its chats go first (the rest of each
    /// one's items follow through the `purge` function): from each one's delete on, its
    /// chat users' tokens are dead (every chat-user request reads the chat). Then its companies with their webhook
    /// endpoints (deliveries expire on their own), its API tokens, and itself last, so a
    /// delete stopped part-way leaves the operator to find and delete again.
    pub async fn delete_user(&self, user: &UserRecord) -> Result<UserDeleted, ApiError> {
        let mut deleted = UserDeleted::default();
        let mut cursor = None;
        loop {
            let page = self.list_chats(user.id, None, 100, cursor).await?;
            for chat in &page.items {
                deleted.chats += usize::from(self.delete_chat(chat).await?);
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        for company in self.all_companies(user.id).await? {
            for webhook in self.company_webhooks(user.id, company.id).await? {
                let gone = self.delete_webhook(user.id, company.id, webhook.id).await?;
                deleted.webhooks += usize::from(gone.is_some());
            }
            match self.delete_company(user.id, company.id).await? {
                CompanyDeleted::Deleted(_) => deleted.companies += 1,
                CompanyDeleted::NotFound => {}
                // A chat created meanwhile (or not yet in the index): run it again.
                CompanyDeleted::HasChats => {
                    return Err(ApiError::internal(
                        "a company of the user still has chats: delete the user again",
                    ));
                }
            }
        }
        for token in self.all_api_tokens(user.id).await? {
            self.delete(&api_tokens::key(user.id, token.id)).await?;
            deleted.api_tokens += 1;
        }
        self.delete(&key(user.id)).await?;
        self.delete(&email_key(&user.email)).await?;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_messages_name_the_caps() {
        assert!(AT_API_TOKEN_CAP.contains(&format!("{MAX_API_TOKENS} API tokens")));
        assert!(AT_COMPANY_CAP.contains(&format!("{MAX_COMPANIES} companies")));
    }
}

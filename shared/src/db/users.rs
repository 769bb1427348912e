//! Operators: the profile item and the unique-email item that points at it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tx::Transaction;
use super::{Db, Key, api_tokens, keys, to_item};
use crate::error::ApiError;
use crate::ids::UserId;

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

    /// Deletes a user, its email and its API tokens (which stop working at once: every
    /// API-token request reads the user too).
    pub async fn delete_user(&self, user: &UserRecord) -> Result<(), ApiError> {
        for token in self.all_api_tokens(user.id).await? {
            self.delete(&api_tokens::key(user.id, token.id)).await?;
        }
        self.delete(&key(user.id)).await?;
        self.delete(&email_key(&user.email)).await
    }
}

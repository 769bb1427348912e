//! Operators: the profile item, and the unique-email item that points at it (the login
//! lookup). What goes with a deleted operator is [`crate::cascade`]'s.

use domain::ids::UserId;
use domain::user::UserRecord;
use serde::{Deserialize, Serialize};

use crate::item::to_item;
use crate::key::{Entity, user_partition};
use crate::tx::Transaction;
use crate::{Db, Key, Result};

impl Entity for UserRecord {
    type Id<'a> = UserId;

    fn key(user_id: UserId) -> Key {
        Key::new(user_partition(user_id), "PROFILE")
    }
}

/// The unique-email item: points at the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserEmailPointer {
    pub(crate) user_id: UserId,
}

impl Entity for UserEmailPointer {
    type Id<'a> = &'a str;

    /// Makes emails unique (conditional put) and is the login lookup.
    fn key(email: &str) -> Key {
        Key::new(format!("EMAIL#{email}"), "EMAIL")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCreated {
    Created,
    EmailTaken,
}

/// The operators of the table.
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    pub(crate) db: &'a Db,
}

impl Users<'_> {
    pub async fn get(&self, user_id: UserId) -> Result<Option<UserRecord>> {
        self.db.get(&UserRecord::key(user_id)).await
    }

    pub async fn by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        match self
            .db
            .get::<UserEmailPointer>(&UserEmailPointer::key(email))
            .await?
        {
            Some(pointer) => self.get(pointer.user_id).await,
            None => Ok(None),
        }
    }

    /// The user and its email item, in one transaction: the email must be free.
    pub async fn create(&self, user: &UserRecord) -> Result<UserCreated> {
        let pointer = UserEmailPointer { user_id: user.id };
        let mut tx = Transaction::new(self.db);
        let email = tx.put_new(to_item(&UserEmailPointer::key(&user.email), &pointer)?)?;
        tx.put_new(to_item(&UserRecord::key(user.id), user)?)?;
        match tx.commit().await? {
            Ok(()) => Ok(UserCreated::Created),
            Err(cancelled) if cancelled.failed(email) => Ok(UserCreated::EmailTaken),
            Err(cancelled) => Err(cancelled.unexpected("user create")),
        }
    }

    /// Deletes the profile and its email item (after everything it held: see
    /// [`crate::cascade`]).
    pub(crate) async fn delete(&self, user: &UserRecord) -> Result<()> {
        self.db.delete(&UserRecord::key(user.id)).await?;
        self.db.delete(&UserEmailPointer::key(&user.email)).await
    }
}

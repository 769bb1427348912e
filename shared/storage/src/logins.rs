//! Failed logins per email and source address, counted in a window (the login throttle).

use domain::login::LoginFailuresRecord;
use domain::user::UserRecord;

use crate::item::{from_item, n};
use crate::key::{Entity, TTL};
use crate::update::Update;
use crate::users::UserEmailPointer;
use crate::{Db, Key, Result};

impl Entity for LoginFailuresRecord {
    /// The email and the source address.
    type Id<'a> = (&'a str, &'a str);

    fn key((email, source): (&str, &str)) -> Key {
        Key::new(format!("LOGIN#{email}"), format!("FAILURES#{source}"))
    }
}

/// What a login attempt needs to know before checking the password.
#[derive(Debug)]
pub struct LoginLookup {
    pub failures: Option<LoginFailuresRecord>,
    pub user: Option<UserRecord>,
}

#[derive(Debug, Clone, Copy)]
pub struct Logins<'a> {
    pub(crate) db: &'a Db,
}

impl Logins<'_> {
    /// The failure count and the user of an email (two round trips: the email item
    /// names the user).
    pub async fn lookup(&self, email: &str, source: &str) -> Result<LoginLookup> {
        let [failures, pointer] = self
            .db
            .get_many([
                &LoginFailuresRecord::key((email, source)),
                &UserEmailPointer::key(email),
            ])
            .await?;
        let failures = failures.map(from_item).transpose()?;
        let user = match pointer {
            Some(item) => {
                let pointer: UserEmailPointer = from_item(item)?;
                self.db.users().get(pointer.user_id).await?
            }
            None => None,
        };
        Ok(LoginLookup { failures, user })
    }

    /// Counts one failure: in the open window (atomic `ADD`, so concurrent failures all
    /// count), or as the first of a new window that expires `window_ms` from `now_ms`.
    pub async fn record_failure(
        &self,
        email: &str,
        source: &str,
        window_open: bool,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<()> {
        let update = if window_open {
            Update::new().add("failures", n(1))
        } else {
            Update::new()
                .set("failures", n(1))
                .set("window_start_ms", n(now_ms))
                .set(TTL, n((now_ms + window_ms) / 1000 + 60))
        };
        self.db
            .update_if(&LoginFailuresRecord::key((email, source)), update)
            .await?;
        Ok(())
    }

    pub async fn clear(&self, email: &str, source: &str) -> Result<()> {
        self.db
            .delete(&LoginFailuresRecord::key((email, source)))
            .await
    }
}

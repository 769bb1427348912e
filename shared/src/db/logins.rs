//! Failed logins per email and source address, counted in a window (the login throttle).
//! Counting per source too means a stranger who knows an operator's email locks out
//! only itself, never the operator.

use serde::{Deserialize, Serialize};

use super::update::Update;
use super::users::{UserRecord, email_key};
use super::{Db, Key, from_item, keys, n};
use crate::error::ApiError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginFailuresRecord {
    pub failures: u32,
    pub window_start_ms: i64,
}

fn key(email: &str, source: &str) -> Key {
    Key::new(format!("LOGIN#{email}"), format!("FAILURES#{source}"))
}

/// What a login attempt needs to know before checking the password.
#[derive(Debug)]
pub struct LoginLookup {
    pub failures: Option<LoginFailuresRecord>,
    pub user: Option<UserRecord>,
}

impl Db {
    /// The failure count and the user of an email (two round trips: the email item
    /// names the user).
    pub async fn login_lookup(&self, email: &str, source: &str) -> Result<LoginLookup, ApiError> {
        let [failures, pointer] = self
            .get_many([&key(email, source), &email_key(email)])
            .await?;
        let failures = failures.map(from_item).transpose()?;
        let user = match pointer {
            Some(item) => {
                let pointer: super::users::UserEmailPointer = from_item(item)?;
                self.user(pointer.user_id).await?
            }
            None => None,
        };
        Ok(LoginLookup { failures, user })
    }

    /// Counts one failure: in the open window (atomic `ADD`, so concurrent failures all
    /// count), or as the first of a new window that expires `window_ms` from `now_ms`.
    pub async fn record_login_failure(
        &self,
        email: &str,
        source: &str,
        window_open: bool,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<(), ApiError> {
        let update = if window_open {
            Update::new().add("failures", n(1))
        } else {
            Update::new()
                .set("failures", n(1))
                .set("window_start_ms", n(now_ms))
                .set(keys::TTL, n((now_ms + window_ms) / 1000 + 60))
        };
        self.update_if(&key(email, source), update).await?;
        Ok(())
    }

    pub async fn clear_login_failures(&self, email: &str, source: &str) -> Result<(), ApiError> {
        self.delete(&key(email, source)).await
    }
}

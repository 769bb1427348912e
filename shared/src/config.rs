//! Configuration from the environment, read once per Lambda instance at start-up.
//! A missing or invalid variable stops the start with a message naming it.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        reason: &'static str,
    },
}

/// The signing secret: kept out of `Debug` so it never reaches a log line.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the single DynamoDB table.
    pub table_name: String,
    /// `TOKEN_SECRET`: signs both token kinds, keys the auth-code hashes (≥ 32 bytes).
    pub token_secret: Secret,
    /// `CHAT_USER_TOKEN_TTL_DAYS` (default 30).
    pub chat_user_token_ttl_secs: i64,
    /// `MAIL_FROM`: the SES sender; only the function that sends mail needs it.
    pub mail_from: Option<String>,
    /// `REALTIME_URL`: the WebSocket API's URL (`wss://…/stage`; locally `ws://…`), that
    /// realtime tickets are for; only the chats function needs it.
    pub realtime_url: Option<String>,
    /// `EVENT_RETENTION_DAYS` (default 30): how long a chat's events are kept at least.
    pub event_retention_days: i64,
    /// `PUBLIC_API_URL`: the API's public base URL, for links in emails (unsubscribe).
    pub public_api_url: Option<String>,
    /// `UNREAD_EMAIL_SECONDS_PER_MINUTE` (default 60, 1–60): how long one of a chat's
    /// `unread_email_minutes` lasts. Only the local stack shortens it, so its tests see
    /// the email after seconds; never set in AWS.
    pub unread_email_minute: std::time::Duration,
    /// `MESSAGES_PER_MINUTE` (default 60, 1–100,000): how many messages one chat user
    /// may send a minute (peers: Stream allows 60 requests a minute per user and route).
    pub messages_per_minute: u32,
    /// `CODE_ANSWER_FLOOR_MS` (default 400, 0–5,000): send-code's 202 never comes sooner,
    /// so the mail a member's code costs (SES's latency) does not tell members from
    /// strangers. Above SES's usual latency; locally moto answers in milliseconds.
    pub code_answer_floor: std::time::Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let table_name = required("TABLE_NAME")?;
        let token_secret = required("TOKEN_SECRET")?;
        if token_secret.len() < 32 {
            return Err(ConfigError::Invalid {
                name: "TOKEN_SECRET",
                reason: "it must be at least 32 bytes long",
            });
        }
        // A number of days, 1 to 3650, or the default when unset.
        let days = |name: &'static str, default: i64| match lookup(name) {
            None => Ok(default),
            Some(days) => days
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or(ConfigError::Invalid {
                    name,
                    reason: "it must be a whole number of days between 1 and 3650",
                }),
        };
        let chat_user_token_ttl_days = days("CHAT_USER_TOKEN_TTL_DAYS", 30)?;
        let event_retention_days = days(
            "EVENT_RETENTION_DAYS",
            crate::db::DEFAULT_EVENT_RETENTION_DAYS,
        )?;
        // A whole number in `range` (`reason` says which), or `default` when unset.
        let whole = |name: &'static str,
                     range: std::ops::RangeInclusive<u32>,
                     default: u32,
                     reason: &'static str| match lookup(name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or(ConfigError::Invalid { name, reason }),
        };
        let seconds_per_minute = whole(
            "UNREAD_EMAIL_SECONDS_PER_MINUTE",
            1..=60,
            60,
            "it must be a whole number from 1 to 60",
        )?;
        let messages_per_minute = whole(
            "MESSAGES_PER_MINUTE",
            1..=100_000,
            60,
            "it must be a whole number from 1 to 100000",
        )?;
        let code_answer_floor_ms = whole(
            "CODE_ANSWER_FLOOR_MS",
            0..=5_000,
            400,
            "it must be a whole number of milliseconds from 0 to 5000",
        )?;
        Ok(Self {
            code_answer_floor: std::time::Duration::from_millis(code_answer_floor_ms.into()),
            messages_per_minute,
            public_api_url: lookup("PUBLIC_API_URL")
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty()),
            unread_email_minute: std::time::Duration::from_secs(seconds_per_minute.into()),
            table_name,
            token_secret: Secret::new(token_secret.into_bytes()),
            chat_user_token_ttl_secs: chat_user_token_ttl_days * 24 * 3600,
            mail_from: lookup("MAIL_FROM").filter(|v| !v.trim().is_empty()),
            realtime_url: lookup("REALTIME_URL").filter(|v| !v.trim().is_empty()),
            event_retention_days,
        })
    }

    /// The WebSocket URL, for the function that hands out realtime tickets.
    pub fn require_realtime_url(&self) -> Result<&str, ConfigError> {
        self.realtime_url
            .as_deref()
            .ok_or(ConfigError::Missing("REALTIME_URL"))
    }

    /// The API's public URL, for the functions that put links in emails.
    pub fn require_public_api_url(&self) -> Result<&str, ConfigError> {
        self.public_api_url
            .as_deref()
            .ok_or(ConfigError::Missing("PUBLIC_API_URL"))
    }

    /// How long a chat user may stay away before unread messages are emailed.
    pub fn unread_email_delay(&self, minutes: u32) -> std::time::Duration {
        self.unread_email_minute * minutes
    }

    /// The sender address, for the functions that send mail.
    pub fn require_mail_from(&self) -> Result<&str, ConfigError> {
        self.mail_from
            .as_deref()
            .ok_or(ConfigError::Missing("MAIL_FROM"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn names_the_missing_variable() {
        let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("TOKEN_SECRET"));
        assert!(err.to_string().contains("TOKEN_SECRET"));
    }

    #[test]
    fn rejects_short_secrets_and_bad_lifetimes() {
        let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("TOKEN_SECRET", "short")]));
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "TOKEN_SECRET",
                ..
            })
        ));
        let secret = "x".repeat(32);
        let err = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("TOKEN_SECRET", &secret),
            ("CHAT_USER_TOKEN_TTL_DAYS", "0"),
        ]));
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "CHAT_USER_TOKEN_TTL_DAYS",
                ..
            })
        ));
    }

    #[test]
    fn the_secret_never_prints() {
        let secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t";
        let config =
            Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("TOKEN_SECRET", secret)])).unwrap();
        assert!(!format!("{config:?}").contains(secret));
        assert_eq!(config.chat_user_token_ttl_secs, 30 * 24 * 3600);
        assert_eq!(
            config.require_mail_from(),
            Err(ConfigError::Missing("MAIL_FROM"))
        );
    }
}

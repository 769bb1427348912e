//! Configuration from the environment, read once per Lambda instance at start-up.
//! A missing or invalid variable stops the start with a message naming it.

use std::time::Duration;

use services::standard_webhooks::{RetrySchedule, Targets};

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

#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the single DynamoDB table.
    pub table_name: String,
    /// `KEYS_SECRET_ID`: the Secrets Manager secret (ARN or name) that holds the keys
    /// (see the services' `keyring`); only the functions that sign or verify need it.
    pub keys_secret_id: Option<String>,
    /// `CHAT_USER_TOKEN_TTL_DAYS` (default 30).
    pub chat_user_token_ttl_secs: i64,
    /// `KEY_ROTATION_WINDOW_SECS` (default: the chat-user token lifetime): how long a
    /// retired key still verifies what it signed. The local test stack shortens it.
    pub key_rotation_window: Duration,
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
    pub unread_email_minute: Duration,
    /// `MESSAGES_PER_MINUTE` (default 60, 1–100,000): how many messages one chat user
    /// may send a minute (peers: Stream allows 60 requests a minute per user and route).
    pub messages_per_minute: u32,
    /// `CODE_ANSWER_FLOOR_MS` (default 400, 0–5,000): send-code's 202 never comes sooner,
    /// so the mail a member's code costs (SES's latency) does not tell members from
    /// strangers. Above SES's usual latency; locally moto answers in milliseconds.
    pub code_answer_floor: Duration,
    /// `ALLOWED_ORIGINS` (comma separated; default none): the browser origins allowed
    /// on every route, beside each company's own `allowed_origins` (see [`crate::cors`]).
    pub allowed_origins: Vec<String>,
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
            storage::DEFAULT_EVENT_RETENTION_DAYS,
        )?;
        let key_rotation_window_secs = match lookup("KEY_ROTATION_WINDOW_SECS") {
            None => chat_user_token_ttl_days as u64 * 24 * 3600,
            Some(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=3650 * 24 * 3600).contains(s))
                .ok_or(ConfigError::Invalid {
                    name: "KEY_ROTATION_WINDOW_SECS",
                    reason: "it must be a whole number of seconds, at least 1",
                })?,
        };
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
            allowed_origins: lookup("ALLOWED_ORIGINS")
                .map(|text| crate::cors::parse_deployment_list(&text))
                .unwrap_or_default(),
            code_answer_floor: Duration::from_millis(code_answer_floor_ms.into()),
            messages_per_minute,
            public_api_url: lookup("PUBLIC_API_URL")
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty()),
            unread_email_minute: Duration::from_secs(seconds_per_minute.into()),
            table_name,
            keys_secret_id: lookup("KEYS_SECRET_ID").filter(|v| !v.trim().is_empty()),
            key_rotation_window: Duration::from_secs(key_rotation_window_secs),
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
    pub fn unread_email_delay(&self, minutes: u32) -> Duration {
        self.unread_email_minute * minutes
    }

    /// The keys' secret, for the functions that sign or verify.
    pub fn require_keys_secret_id(&self) -> Result<&str, ConfigError> {
        self.keys_secret_id
            .as_deref()
            .ok_or(ConfigError::Missing("KEYS_SECRET_ID"))
    }

    /// The sender address, for the functions that send mail.
    pub fn require_mail_from(&self) -> Result<&str, ConfigError> {
        self.mail_from
            .as_deref()
            .ok_or(ConfigError::Missing("MAIL_FROM"))
    }
}

/// The webhook settings of the environment, read once per instance.
///
/// (Its parts are the services' `standard_webhooks`.)
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `WEBHOOK_ALLOW_LOOPBACK=true` (local stack only): [`Targets::PublicAndLoopback`].
    pub targets: Targets,
    /// `WEBHOOK_RETRY_SCHEDULE` (default [`RetrySchedule::default`]).
    pub retries: RetrySchedule,
    /// `WEBHOOK_DISABLE_AFTER` (default `24h`): an endpoint failing this long in a row is
    /// turned off and its owner emailed.
    pub disable_after: Duration,
}

impl WebhookSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        use ConfigError::Invalid;
        let targets = match lookup("WEBHOOK_ALLOW_LOOPBACK").as_deref().map(str::trim) {
            None | Some("") | Some("false") => Targets::Public,
            Some("true") => Targets::PublicAndLoopback,
            Some(_) => {
                return Err(Invalid {
                    name: "WEBHOOK_ALLOW_LOOPBACK",
                    reason: "it must be true or false",
                });
            }
        };
        let durations = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .map(|text| {
                    RetrySchedule::parse(&text).ok_or(Invalid {
                        name,
                        reason: "it must be durations like 5s,1m,2h",
                    })
                })
                .transpose()
        };
        let retries = durations("WEBHOOK_RETRY_SCHEDULE")?.unwrap_or_default();
        let disable_after = match durations("WEBHOOK_DISABLE_AFTER")? {
            Some(schedule) if schedule.single().is_some() => schedule.single().unwrap_or_default(),
            Some(_) => {
                return Err(Invalid {
                    name: "WEBHOOK_DISABLE_AFTER",
                    reason: "it must be one duration like 24h",
                });
            }
            None => Duration::from_secs(24 * 3600),
        };
        Ok(Self {
            targets,
            retries,
            disable_after,
        })
    }
}

/// A variable that must be set, for a function that needs it.
#[cfg(any(feature = "push", feature = "queue", feature = "files"))]
fn required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// The queue whose URL is in the environment variable `variable`.
#[cfg(feature = "queue")]
pub fn queue(
    aws: &aws_config::SdkConfig,
    variable: &'static str,
) -> Result<services::queue::Queue, ConfigError> {
    Ok(services::queue::Queue::new(aws, required(variable)?))
}

/// The attachments' bucket named by `FILES_BUCKET` (spec §10).
#[cfg(feature = "files")]
pub fn files(aws: &aws_config::SdkConfig) -> Result<services::files::Files, ConfigError> {
    Ok(services::files::Files::new(aws, required("FILES_BUCKET")?))
}

/// The management client of the WebSocket API at `WEBSOCKET_MANAGEMENT_URL`.
#[cfg(feature = "push")]
pub fn pusher(aws: &aws_config::SdkConfig) -> Result<services::push::Pusher, ConfigError> {
    Ok(services::push::Pusher::new(
        aws,
        required("WEBSOCKET_MANAGEMENT_URL")?,
    ))
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
        let err = Config::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("TABLE_NAME"));
        assert!(err.to_string().contains("TABLE_NAME"));
        let config = Config::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap();
        assert_eq!(
            config.require_keys_secret_id(),
            Err(ConfigError::Missing("KEYS_SECRET_ID"))
        );
    }

    #[test]
    fn rejects_bad_lifetimes_and_windows() {
        for (name, value) in [
            ("CHAT_USER_TOKEN_TTL_DAYS", "0"),
            ("KEY_ROTATION_WINDOW_SECS", "0"),
            ("KEY_ROTATION_WINDOW_SECS", "a day"),
        ] {
            let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), (name, value)]));
            assert!(
                matches!(err, Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn defaults() {
        let config = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("KEYS_SECRET_ID", "arn:secret"),
        ]))
        .unwrap();
        assert_eq!(config.chat_user_token_ttl_secs, 30 * 24 * 3600);
        // The window covers a chat-user token's whole life.
        assert_eq!(
            config.key_rotation_window.as_secs() as i64,
            config.chat_user_token_ttl_secs
        );
        assert_eq!(config.require_keys_secret_id(), Ok("arn:secret"));
        assert_eq!(
            config.require_mail_from(),
            Err(ConfigError::Missing("MAIL_FROM"))
        );
    }

    #[test]
    fn settings_default_to_production() {
        let settings = WebhookSettings::from_lookup(|_| None).unwrap();
        assert_eq!(settings.targets, Targets::Public);
        assert_eq!(settings.retries, RetrySchedule::default());
        assert_eq!(settings.disable_after, Duration::from_secs(86_400));
        let local = WebhookSettings::from_lookup(|name| match name {
            "WEBHOOK_ALLOW_LOOPBACK" => Some("true".into()),
            "WEBHOOK_RETRY_SCHEDULE" => Some("1s,2s".into()),
            "WEBHOOK_DISABLE_AFTER" => Some("30s".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(local.targets, Targets::PublicAndLoopback);
        assert_eq!(local.retries.attempts(), 3);
        assert_eq!(local.disable_after, Duration::from_secs(30));
        assert!(WebhookSettings::from_lookup(|_| Some("yes".into())).is_err());
    }
}

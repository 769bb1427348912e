//! What the Chat API's functions share: configuration, the one error type and its JSON
//! envelopes, request parsing and validation, both token kinds, the single-table
//! DynamoDB layer (see [`db`] for the access-pattern table), email, and the Lambda loop.

pub mod access;
pub mod auth;
pub mod aws;
pub mod batches;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod events;
pub mod http;
pub mod ids;
pub mod keys;
pub mod mail;
pub mod personal_data;
#[cfg(feature = "push")]
pub mod push;
#[cfg(feature = "queue")]
pub mod queue;
pub mod routes;
pub mod runtime;
pub mod validate;
pub mod webhook;

pub use error::{ApiError, FieldErrors};
// Re-exported so the functions use exactly the SDK versions this crate was built with.
pub use aws_sdk_dynamodb;
pub use aws_sdk_secretsmanager;
pub use aws_sdk_sesv2;
pub use http::ApiRequest;

use aws_config::SdkConfig;

/// What a handler needs for every request; built once per Lambda instance.
#[derive(Debug)]
pub struct Context {
    pub config: config::Config,
    pub db: db::Db,
    /// Only the functions that sign or verify read the keys; the others have none.
    keys: Option<keys::Keys>,
}

impl Context {
    /// Without keys: for functions that neither sign nor verify (see [`Context::load`]).
    pub fn new(config: config::Config, aws: &SdkConfig) -> Self {
        Self::with_dynamodb(config, aws_sdk_dynamodb::Client::new(aws))
    }

    /// With a given DynamoDB client (the benchmarks answer it in-process), without keys.
    pub fn with_dynamodb(config: config::Config, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        let db = db::Db::new(dynamodb, config.table_name.clone())
            .with_event_retention_days(config.event_retention_days);
        Self {
            config,
            db,
            keys: None,
        }
    }

    /// With keys given (in-process tests, benchmarks).
    pub fn with_keys(mut self, keys: keys::Keys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// With the keys read from Secrets Manager (`KEYS_SECRET_ID`): one GetSecretValue.
    pub async fn load(config: config::Config, aws: &SdkConfig) -> Result<Self, lambda_http::Error> {
        let secret_id = config.require_keys_secret_id()?.to_owned();
        let window = config.key_rotation_window;
        let client = aws_sdk_secretsmanager::Client::new(aws);
        // Display, not Debug: the start-up failure Lambda logs is one sentence naming the
        // secret and the cause.
        let keys = keys::Keys::load(client, secret_id, window)
            .await
            .map_err(|err| err.to_string())?;
        Ok(Self::new(config, aws).with_keys(keys))
    }

    /// The keys, for signing and verifying. A function started without them has no
    /// business here: that is a bug, answered as a 500.
    pub fn keys(&self) -> Result<&keys::Keys, ApiError> {
        self.keys
            .as_ref()
            .ok_or_else(|| ApiError::internal("this function was started without the keys"))
    }

    /// Reads the configuration, the AWS settings and the keys from the environment: a
    /// function that signs or verifies. Locally, `AWS_ENDPOINT_URL` points the SDK at
    /// moto: the same code path as in AWS.
    pub async fn from_env() -> Result<(Self, SdkConfig), lambda_http::Error> {
        let config = config::Config::from_env()?;
        let aws = aws::load().await;
        Ok((Self::load(config, &aws).await?, aws))
    }

    /// As [`Context::from_env`] without the keys: for the functions that neither sign nor
    /// verify (stream and queue consumers, the WebSocket routes), which so never read
    /// the secret nor get the right to.
    pub async fn from_env_without_keys() -> Result<(Self, SdkConfig), lambda_http::Error> {
        let config = config::Config::from_env()?;
        let aws = aws::load().await;
        Ok((Self::new(config, &aws), aws))
    }
}

/// The state of a function that needs nothing but the [`Context`]; built once per
/// instance by its `main`.
pub struct App {
    pub ctx: Context,
}

impl App {
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, _) = Context::from_env().await?;
        Ok(Self { ctx })
    }
}

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
    pub tokens: auth::TokenKeys,
}

impl Context {
    pub fn new(config: config::Config, aws: &SdkConfig) -> Self {
        Self::with_dynamodb(config, aws_sdk_dynamodb::Client::new(aws))
    }

    /// With a given DynamoDB client (the benchmarks answer it in-process).
    pub fn with_dynamodb(config: config::Config, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        let db = db::Db::new(dynamodb, config.table_name.clone())
            .with_event_retention_days(config.event_retention_days);
        let tokens = auth::TokenKeys::new(config.token_secret.expose());
        Self { config, db, tokens }
    }

    /// Reads the configuration and the AWS settings from the environment. Locally,
    /// `AWS_ENDPOINT_URL` points the SDK at moto: the same code path as in AWS.
    pub async fn from_env() -> Result<(Self, SdkConfig), lambda_http::Error> {
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

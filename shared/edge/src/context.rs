//! What a handler needs for every request, built once per Lambda instance by its
//! `main`: the configuration, the table, and the keys (read at the first request that
//! signs or verifies).

use std::sync::Arc;

use aws_config::SdkConfig;
use services::keyring::Keys;
use storage::Db;

use crate::api_error::ApiError;
use crate::config::Config;

/// What a handler needs for every request; built once per Lambda instance.
#[derive(Debug)]
pub struct Context {
    pub config: Config,
    pub db: Db,
    /// Only the functions that sign or verify read the keys; the others have none.
    keys: Option<Arc<KeysSlot>>,
}

/// The keys of an instance: read once, by the first request that signs or verifies (see
/// [`Context::load`]); a request that needs no key (a malformed token's 401) never
/// reads them.
#[derive(Debug)]
struct KeysSlot {
    keys: tokio::sync::OnceCell<Keys>,
    /// `None` for keys given up front.
    source: Option<KeysSource>,
}

#[derive(Debug)]
struct KeysSource {
    client: sdk::Deferred<services::aws_sdk_secretsmanager::Client>,
    secret_id: String,
    window: std::time::Duration,
}

impl KeysSlot {
    /// The keys, read now if no read has succeeded yet (a failed read is tried again by
    /// the next request that needs them, as a 503 meanwhile).
    async fn get(&self) -> Result<&Keys, ApiError> {
        let Some(source) = &self.source else {
            return self
                .keys
                .get()
                .ok_or_else(|| ApiError::internal("no keys were given"));
        };
        self.keys
            .get_or_try_init(|| async {
                Keys::load(
                    source.client.get().clone(),
                    source.secret_id.clone(),
                    source.window,
                )
                .await
                .inspect_err(|err| {
                    tracing::error!(error = %sdk::Chain(err), "the keys could not be read");
                })
            })
            .await
            .map_err(|err| {
                // Whatever kept the keys out, this request cannot go on now; the next
                // one reads them again.
                ApiError::Unavailable {
                    retry_after_secs: sdk::RETRY_AFTER_SECS,
                    cause: sdk::Failure::unavailable_because("GetSecretValue", err),
                }
            })
    }
}

impl Context {
    /// Without keys: for functions that neither sign nor verify (see [`Context::load`]).
    pub fn new(config: Config, aws: &SdkConfig) -> Self {
        Self::with_dynamodb(
            config,
            sdk::Deferred::new(aws, storage::aws_sdk_dynamodb::Client::new),
        )
    }

    /// With a given DynamoDB client (the benchmarks answer it in-process), without keys.
    pub fn with_dynamodb(
        config: Config,
        dynamodb: impl Into<sdk::Deferred<storage::aws_sdk_dynamodb::Client>>,
    ) -> Self {
        let db = Db::new(dynamodb, config.table_name.clone())
            .with_event_retention_days(config.event_retention_days);
        Self {
            config,
            db,
            keys: None,
        }
    }

    /// With keys given (in-process tests, benchmarks).
    pub fn with_keys(mut self, keys: Keys) -> Self {
        self.keys = Some(Arc::new(KeysSlot {
            keys: tokio::sync::OnceCell::new_with(Some(keys)),
            source: None,
        }));
        self
    }

    /// With the keys from Secrets Manager (`KEYS_SECRET_ID`): one GetSecretValue, made by
    /// the first request that needs a key (see [`KeysSlot`]), not here.
    ///
    /// Why not at init (as until 2026-11-26, started there and awaited later): on the
    /// functions' one-thread runtime that read's own work (request, signature, connect)
    /// ran in the gaps of the first request, so even a 401 that needs no key paid for it
    /// (BENCHMARKS.md §1), while a request that needs the keys waits for the read either
    /// way: Lambda hands the first invocation over as soon as init ends.
    pub fn load(config: Config, aws: &SdkConfig) -> Result<Self, lambda_http::Error> {
        let slot = Arc::new(KeysSlot {
            keys: tokio::sync::OnceCell::new(),
            source: Some(KeysSource {
                client: sdk::Deferred::new(aws, services::aws_sdk_secretsmanager::Client::new),
                secret_id: config.require_keys_secret_id()?.to_owned(),
                window: config.key_rotation_window,
            }),
        });
        let mut ctx = Self::new(config, aws);
        ctx.keys = Some(slot);
        Ok(ctx)
    }

    /// Whose origins this function's answers are for: the deployment's list, then the
    /// company a route concerns.
    pub fn cors(&self) -> crate::cors::Cors<'_> {
        crate::cors::Cors::Listed {
            deployment: &self.config.allowed_origins,
            db: &self.db,
        }
    }

    /// The keys, for signing and verifying (read by the first request that needs them). A function started without them has no business here: that is a bug,
    /// answered as a 500.
    pub async fn keys(&self) -> Result<&Keys, ApiError> {
        self.keys
            .as_deref()
            .ok_or_else(|| ApiError::internal("this function was started without the keys"))?
            .get()
            .await
    }

    /// Reads the configuration, the AWS settings and the keys from the environment: a
    /// function that signs or verifies. Locally, `AWS_ENDPOINT_URL` points the SDK at
    /// moto: the same code path as in AWS.
    pub fn from_env() -> Result<(Self, SdkConfig), lambda_http::Error> {
        let config = Config::from_env()?;
        let aws = sdk::from_lambda_env();
        Ok((Self::load(config, &aws)?, aws))
    }

    /// As [`Context::from_env`] without the keys: for the functions that neither sign nor
    /// verify (stream and queue consumers, the WebSocket routes), which so never read
    /// the secret nor get the right to.
    pub fn from_env_without_keys() -> Result<(Self, SdkConfig), lambda_http::Error> {
        let config = Config::from_env()?;
        let aws = sdk::from_lambda_env();
        Ok((Self::new(config, &aws), aws))
    }
}

/// The state of a function that needs nothing but the [`Context`]; built once per
/// instance by its `main`.
pub struct App {
    pub ctx: Context,
}

impl App {
    pub fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, _) = Context::from_env()?;
        Ok(Self { ctx })
    }
}

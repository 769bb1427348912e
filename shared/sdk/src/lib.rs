//! How this code reaches AWS: the one place that loads the AWS SDK configuration (every
//! function through [`from_lambda_env`], `chat-admin` and the tests' handler contexts
//! through [`loader`], so all of them wait for AWS the same bounded time), the HTTPS
//! client and its trust roots, clients built at their first use ([`Deferred`]), and what
//! a failed call means ([`Failure`]: "not now", or a bug).
//!
//! # Budgets
//!
//! The SDK's defaults bound nothing but the connect (3.1 s): a frozen DynamoDB hangs a
//! request until Lambda kills it at 15 s, and API Gateway answers its own bare error. With
//! these budgets a call to AWS either answers or fails within [`OPERATION_TIMEOUT`], and
//! the function turns the failure into a 503 with `Retry-After` (see [`Failure`], which
//! the edge maps).
//!
//! - [`CONNECT_TIMEOUT`] 1 s: TCP + TLS to an endpoint in the same region takes a few
//!   milliseconds; a connect still pending after 1 s is a dead path, better retried on a
//!   fresh connection.
//! - [`ATTEMPT_TIMEOUT`] 1.5 s: DynamoDB answers in milliseconds, SES in a few hundred. An
//!   attempt still waiting after 1.5 s is stuck, typically on a pooled connection the
//!   network dropped silently while the Lambda instance was frozen; the retry opens a new
//!   one. Retrying a write whose attempt timed out applies it at most once: the SDK keeps
//!   one `ClientRequestToken` for all attempts of a `TransactWriteItems`, and our
//!   single-item writes are conditional (a repeat fails its condition) or idempotent.
//! - [`MAX_ATTEMPTS`] 3 in the *standard* retry mode, with [`INITIAL_BACKOFF`] 200 ms
//!   (jittered, doubling): enough to ride out a reset connection or a moment of
//!   throttling. Not *adaptive*: its client-side rate limiter learns from the throttles
//!   of one instance, which serves one request at a time, and would only delay that
//!   instance's next requests; the standard mode's retry quota already stops retry storms.
//! - [`OPERATION_TIMEOUT`] 3 s: the cap on one call, attempts and backoff included. Two
//!   stuck attempts do not fit (that is intended: after one, AWS is more likely down than
//!   unlucky), but three fast failures (refused, 5xx, throttled) do.
//!
//! A handler calls AWS at most about [`SEQUENTIAL_CALLS`] times one after another (the
//! auth read, then its reads and writes), so the worst case is [`WORST_CASE`] = 9 s of
//! waiting plus well under a second of work: inside the functions' 15 s timeout
//! (`template.yaml`) and far inside API Gateway's 30 s. When AWS is down, the first call
//! fails and the answer is a 503 after at most 3 s.
//!
//! # Trust roots
//!
//! The SDK's default HTTPS client trusts the system's root store: at start-up it reads
//! and parses every certificate of the CA bundle (and, on Debian, scans `/etc/ssl/certs`),
//! then builds a rustls root store of them for each client and again for each connector
//! (about 140 roots, four times in a function that reads the keys secret). That was most
//! of a cold start's overhead above a hello world (BENCHMARKS.md §1). Every endpoint
//! these clients talk to (DynamoDB, Secrets Manager, SES, SQS, the API Gateway management
//! API, STS and SSO for `chat-admin`) presents an Amazon Trust Services certificate, so
//! [`https_client`] trusts only those roots, compiled in ([`AMAZON_TRUST_SERVICES`]:
//! Amazon Root CA 1–4 and Starfield Services Root CA G2, which cross-signs Amazon Root
//! CA 1; as AWS documents for clients of its endpoints). Everything else is the SDK's
//! default client: rustls on aws-lc, the proxy settings of the environment. Webhook
//! deliveries to receivers' own servers use another client (`functions/deliver`), with
//! the system's roots.
//!
//! One local-stack setting, never set in AWS: `AWS_BUDGET_SCALE`, a whole number that
//! multiplies the three timeouts (default: 1). The local DynamoDB (moto) applies requests
//! one at a time, so under the tests' 200 concurrent writers a request can queue for seconds that
//! DynamoDB would answer in milliseconds; `make dev` and `make test` set it to 10. The
//! fault tests pin the production budgets with [`loader_scaled`]`(1)`.

mod failure;

pub use failure::{Chain, Failure};

use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SystemTimeSource;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Time to open a connection (TCP and TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Time for one attempt: connect, send, and read the whole answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// Time for one call, all attempts and the backoff between them included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts per call, the first one included.
pub const MAX_ATTEMPTS: u32 = 3;
/// The backoff before the first retry (jittered: a random part of it), doubled after that.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// How many calls to AWS a handler makes one after another, at most (about).
pub const SEQUENTIAL_CALLS: u32 = 3;
/// The longest a request can wait on AWS.
pub const WORST_CASE: Duration = OPERATION_TIMEOUT.saturating_mul(SEQUENTIAL_CALLS);
/// What a 503 tells the client to wait (`Retry-After`): a throttle or a blip is usually
/// over by then, and clients that obey it do not add load while AWS recovers.
pub const RETRY_AFTER_SECS: u64 = 5;

/// The default AWS configuration chain (environment, profile, Lambda's credentials) with
/// the budgets above (scaled by `AWS_BUDGET_SCALE`, see the module's documentation).
/// Locally `AWS_ENDPOINT_URL` points it at moto; tests may override the endpoint, region
/// and credentials on the returned loader.
pub fn loader() -> ConfigLoader {
    loader_scaled(budget_scale(
        std::env::var("AWS_BUDGET_SCALE").ok().as_deref(),
    ))
}

/// `AWS_BUDGET_SCALE`: a whole number from 1 to 100; anything else is 1.
fn budget_scale(setting: Option<&str>) -> u32 {
    setting
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|n| (1..=100).contains(n))
        .unwrap_or(1)
}

/// The roots AWS endpoints' certificates chain to (see the module's documentation), PEM.
pub const AMAZON_TRUST_SERVICES: &str = include_str!("amazon-trust-services.pem");

/// The SDK's default HTTPS client (as `aws-smithy-runtime` builds it for the latest
/// behavior version) with [`AMAZON_TRUST_SERVICES`] as its only roots.
#[allow(
    clippy::expect_used,
    reason = "the roots are compiled in: they parse, or no function can start (tested)"
)]
pub fn https_client() -> SharedHttpClient {
    let trust = TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES.as_bytes());
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context of PEM roots");
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// [`loader`] with the timeouts multiplied by `scale` (1: the production budgets).
pub fn loader_scaled(scale: u32) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(timeouts(scale))
        .retry_config(retries())
}

fn timeouts(scale: u32) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT * scale)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT * scale)
        .operation_timeout(OPERATION_TIMEOUT * scale)
        .build()
}

fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
}

/// [`loader`], loaded: the whole default chain, for `chat-admin` (profiles, SSO) and the
/// tests' in-process contexts.
pub async fn load() -> SdkConfig {
    loader().load().await
}

/// The functions' configuration, read from the environment Lambda gives every function
/// and nothing else: the region (`AWS_REGION`), the execution role's credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and, locally,
/// `AWS_ENDPOINT_URL`; with the budgets, the HTTPS client and the identity cache
/// [`loader`] gives.
///
/// Why not [`load`]: its default chain first looks for shared config files, a profile,
/// web identity, ECS and IMDS credentials, none of which a Lambda function has. Building
/// the chain costs every cold start its file reads, and its providers (an STS client
/// among them) were about a tenth of each bootstrap (BENCHMARKS.md, binary sizes). The
/// function binaries link none of it now.
pub fn from_lambda_env() -> SdkConfig {
    from_lambda_env_scaled(budget_scale(
        std::env::var("AWS_BUDGET_SCALE").ok().as_deref(),
    ))
}

fn from_lambda_env_scaled(scale: u32) -> SdkConfig {
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()));
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region.map(Region::new))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .identity_cache(IdentityCache::lazy().build())
        .http_client(https_client())
        .sleep_impl(TokioSleep::new())
        .time_source(SystemTimeSource::new())
        .timeout_config(timeouts(scale))
        .retry_config(retries());
    if let Some(endpoint) = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|value| !value.is_empty())
    {
        config = config.endpoint_url(endpoint);
    }
    config.build()
}

/// An SDK client built by the first call that uses it, or given up front (tests, mocks).
///
/// Why: building a client is most of a function's start-up above a hello world (about
/// 0.2 ms for the DynamoDB client, 0.1 ms more for each further one, measured on the
/// bench machine), and a request that needs no AWS call (a malformed token's 401, a
/// preflight, the widget's script) should not pay for it. Every client of an instance is
/// still built at most once: clones share it.
#[derive(Debug, Clone)]
pub enum Deferred<C> {
    Ready(C),
    Later {
        config: Box<SdkConfig>,
        build: fn(&SdkConfig) -> C,
        client: std::sync::Arc<std::sync::OnceLock<C>>,
    },
}

impl<C> Deferred<C> {
    /// A client `build` makes from `config` when it is first used.
    pub fn new(config: &SdkConfig, build: fn(&SdkConfig) -> C) -> Self {
        Self::Later {
            config: Box::new(config.clone()),
            build,
            client: std::sync::Arc::default(),
        }
    }

    /// The client, built now if this is its first use.
    pub fn get(&self) -> &C {
        match self {
            Self::Ready(client) => client,
            Self::Later {
                config,
                build,
                client,
            } => client.get_or_init(|| build(config)),
        }
    }
}

impl<C> From<C> for Deferred<C> {
    fn from(client: C) -> Self {
        Self::Ready(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_loaded_config_carries_the_budgets() {
        let config = loader_scaled(1)
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await;
        let timeouts = config.timeout_config().expect("timeouts are set");
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
        let retries = config.retry_config().expect("retries are set");
        assert_eq!(retries.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(retries.initial_backoff(), INITIAL_BACKOFF);
    }

    #[tokio::test]
    async fn clients_trust_the_compiled_in_amazon_roots() {
        // Amazon Root CA 1-4 and Starfield Services Root CA G2.
        assert_eq!(
            AMAZON_TRUST_SERVICES
                .matches("-----BEGIN CERTIFICATE-----")
                .count(),
            5
        );
        let config = loader_scaled(1)
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await;
        // A client builds its HTTPS connector at construction, parsing the roots (a bad
        // one panics there).
        let _ = aws_sdk_dynamodb::Client::new(&config);
    }

    #[test]
    fn the_functions_config_carries_the_same_budgets_and_the_environments_endpoint() {
        // The variables a Lambda function (and the local stack) is given.
        let config = from_lambda_env_scaled(1);
        let timeouts = config.timeout_config().expect("timeouts are set");
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert_eq!(
            config.retry_config().map(|r| r.max_attempts()),
            Some(MAX_ATTEMPTS)
        );
        assert!(config.credentials_provider().is_some());
        assert!(config.identity_cache().is_some());
        assert!(config.sleep_impl().is_some());
        assert_eq!(
            config.endpoint_url(),
            std::env::var("AWS_ENDPOINT_URL").ok().as_deref()
        );
    }

    #[test]
    fn a_deferred_client_is_built_once_at_its_first_use() {
        static BUILT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let deferred = Deferred::new(&from_lambda_env_scaled(1), |config| {
            BUILT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            aws_sdk_dynamodb::Client::new(config)
        });
        assert_eq!(BUILT.load(std::sync::atomic::Ordering::SeqCst), 0);
        let copy = deferred.clone();
        let first: *const _ = deferred.get();
        let second: *const _ = deferred.get();
        let of_the_copy: *const _ = copy.get();
        assert_eq!(BUILT.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(first, second);
        assert_eq!(first, of_the_copy);
    }

    #[test]
    fn the_scale_is_a_bounded_whole_number() {
        assert_eq!(budget_scale(None), 1);
        assert_eq!(budget_scale(Some("10")), 10);
        for bad in ["0", "-3", "1.5", "x", "1000"] {
            assert_eq!(budget_scale(Some(bad)), 1, "{bad}");
        }
    }

    #[test]
    fn a_stuck_attempt_leaves_room_for_a_retry() {
        assert!(CONNECT_TIMEOUT < ATTEMPT_TIMEOUT);
        assert!(ATTEMPT_TIMEOUT + INITIAL_BACKOFF < OPERATION_TIMEOUT);
        assert_eq!(WORST_CASE, Duration::from_secs(9));
    }
}

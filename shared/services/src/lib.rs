//! What the Chat API asks of services other than its table: email through SES
//! ([`mail`]), background jobs on SQS ([`queue`]), frames to sockets through the
//! WebSocket management API ([`push`]), the deployment's keys from Secrets Manager
//! ([`keyring`]) with what they sign ([`tokens`], [`crypto`]), webhook signing and the
//! targets a webhook may call ([`standard_webhooks`]), and randomness ([`random`]).
//! Failures are a [`ServiceError`]; nothing here speaks HTTP or reads the table.

pub mod crypto;
#[cfg(feature = "files")]
pub mod files;
pub mod identity;
pub mod jwt;
pub mod keyring;
pub mod mail;
#[cfg(feature = "push")]
pub mod push;
#[cfg(feature = "queue")]
pub mod queue;
pub mod random;
mod service_error;
pub mod standard_webhooks;

pub use service_error::ServiceError;
// Re-exported so callers use exactly the SDK versions these services were built with.
pub use aws_sdk_secretsmanager;
pub use aws_sdk_sesv2;
#[cfg(feature = "queue")]
pub use aws_sdk_sqs;

//! The edge: where a Lambda invocation meets the layers below it.
//!
//! - HTTP: the request parsed into typed values ([`request`], [`input`], [`fields`]), a
//!   function's routes ([`router`]), the caller ([`auth`]) and what it may touch
//!   ([`access`]), the one error enum and its status + JSON ([`error`], [`envelope`]),
//!   CORS answered for every route ([`cors`]), and the Lambda loop with its log line
//!   ([`runtime`]).
//! - The other event sources: stream and queue batches ([`event_sources`]), and the
//!   functions that push frames ([`live`]).
//! - What every function is built from: [`config`] and [`context`].
//!
//! Storage and the services answer typed outcomes and errors of their own; this is the
//! one place that turns them into statuses.

pub mod access;
pub mod api_error;
pub mod api_tokens;
pub mod auth;
pub mod budgets;
pub mod config;
pub mod context;
pub mod cors;
pub mod envelope;
pub mod event_sources;
pub mod fields;
pub mod input;
#[cfg(feature = "push")]
pub mod live;
pub mod request;
pub mod router;
pub mod runtime;

pub use api_error::{ApiError, FieldErrors, UNAUTHENTICATED};
pub use context::{App, Context};
pub use request::ApiRequest;

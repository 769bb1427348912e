//! What can go wrong in storage, as a type of its own: the edge maps each case to a
//! status in one place (its error enum's `From<StoreError>`), the way realworld's
//! `on_constraint` does; nothing here knows of HTTP. Outcomes a caller expects (a taken email, a full company, a
//! gone chat) are not errors here: each write answers them with a typed outcome.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB failed the call: "not now" (`unavailable`), or a bug.
    #[error(transparent)]
    Aws(#[from] sdk::Failure),
    /// An item did not read as its record, or a record did not write as an item.
    #[error("an item and its record do not agree")]
    Item(#[from] serde_dynamo::Error),
    /// A request could not be built (a required part was missing: a bug).
    #[error("a DynamoDB request could not be built")]
    Build(#[from] aws_sdk_dynamodb::error::BuildError),
    /// A transaction was cancelled for a reason no caller expects.
    #[error("{what} was cancelled: {reasons:?}")]
    Cancelled {
        what: &'static str,
        reasons: Vec<String>,
    },
    /// A list cursor this list did not issue (another list's, another tenant's, forged).
    #[error("the cursor is invalid or belongs to another list")]
    ForeignCursor,
    /// What DynamoDB answered breaks a promise of its API (a bug, ours or its).
    #[error("DynamoDB answered what it should not: {0}")]
    Unexpected(&'static str),
}

impl<E> From<SdkError<E, HttpResponse>> for StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        Self::Aws(sdk::Failure::of(err))
    }
}

impl StoreError {
    /// DynamoDB saying "not now" without an SDK error (keys left unprocessed, a
    /// transaction cancelled for throttling, a counter that stayed contended).
    pub(crate) fn unavailable(operation: &'static str, detail: impl Into<String>) -> Self {
        Self::Aws(sdk::Failure::unavailable(operation, detail))
    }
}

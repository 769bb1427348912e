//! Spending a caller's budget for a kind of write (the domain's `rate_limit::budgets`):
//! one counted use, or a 429 that says what and how long to wait.

use domain::clock;
use domain::rate_limit::{Limit, Taken};

use crate::api_error::ApiError;
use crate::context::Context;

/// Counts one use of `limit` for `key`; a spent budget is a 429 with `message`.
pub async fn spend(
    ctx: &Context,
    limit: &Limit,
    key: &str,
    message: &'static str,
) -> Result<(), ApiError> {
    match ctx
        .db
        .rate_counters()
        .take(limit, key, clock::now_millis())
        .await?
    {
        Taken::Allowed => Ok(()),
        Taken::Exceeded { retry_after_secs } => Err(ApiError::TooManyRequests {
            message,
            retry_after_secs,
        }),
    }
}

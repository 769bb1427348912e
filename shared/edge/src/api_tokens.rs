//! Issuing an operator's API token: what logging in (`POST /api/tokens`) and accepting
//! an invitation answer with.

use domain::api_token::ApiTokenRecord;
use domain::clock;
use domain::ids::ApiTokenId;
use domain::user::{AT_API_TOKEN_CAP, UserRecord};
use serde_json::{Value, json};
use storage::cap::Added;

use crate::api_error::{ApiError, UNAUTHENTICATED};
use crate::context::Context;

/// A new API token for `user`, kept (against the token cap) and signed: the answer's
/// `{token, token_type, api_token}`.
pub async fn issue(ctx: &Context, user: &UserRecord, name: &str) -> Result<Value, ApiError> {
    let token = ApiTokenRecord {
        id: ApiTokenId::new(),
        user_id: user.id,
        name: name.to_owned(),
        created_at: clock::now_rfc3339(),
        last_used_at: None,
        last_used_ms: None,
    };
    let secret = ctx.keys().await?.issue_api_token(user.id, token.id).await?;
    match ctx.db.api_tokens().insert(&token).await? {
        Added::Added => {}
        Added::AtCap => return Err(ApiError::Conflict(AT_API_TOKEN_CAP)),
        Added::HolderGone => return Err(ApiError::Unauthenticated(UNAUTHENTICATED)),
    }
    tracing::info!(user_id = %user.id, token_id = %token.id, "api token issued");
    Ok(json!({ "token": secret, "token_type": "Bearer", "api_token": token.resource() }))
}

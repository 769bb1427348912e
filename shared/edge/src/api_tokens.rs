//! Issuing an operator's API token: what logging in (`POST /api/tokens`) and accepting
//! an invitation answer with.

use domain::api_token::ApiTokenRecord;
use domain::clock;
use domain::ids::ApiTokenId;
use domain::text::ExpiresIn;
use domain::user::{AT_API_TOKEN_CAP, UserRecord};
use serde_json::{Value, json};
use storage::cap::Added;

use crate::api_error::{ApiError, UNAUTHENTICATED};
use crate::context::Context;

/// A new API token for `user` that lives until revoked: see [`issue_for`].
pub async fn issue(ctx: &Context, user: &UserRecord, name: &str) -> Result<Value, ApiError> {
    issue_for(ctx, user, name, None).await
}

/// A new API token for `user`, kept (against the token cap) and signed, that stops
/// working after `expires_in` (or lives until revoked): the answer's `{token,
/// token_type, expires_at, api_token}`. At the cap, the user's expired tokens are
/// revoked first; and a short-lived token (a console's sign-in) then takes the place of
/// the user's token that expires first, so console sign-ins never fill the cap. A
/// token that lives until revoked is never evicted, nor does one make room for itself.
pub async fn issue_for(
    ctx: &Context,
    user: &UserRecord,
    name: &str,
    expires_in: Option<ExpiresIn>,
) -> Result<Value, ApiError> {
    let now_ms = clock::now_millis();
    // Whole seconds, as the JWT's `exp` counts them: `expires_at` is exactly when it stops.
    let exp = expires_in.map(|lifetime| now_ms / 1000 + lifetime.secs());
    let token = ApiTokenRecord {
        id: ApiTokenId::new(),
        user_id: user.id,
        name: name.to_owned(),
        created_at: clock::rfc3339(now_ms),
        last_used_at: None,
        last_used_ms: None,
        expires_at: exp.map(|exp| clock::rfc3339(exp * 1000)),
    };
    let secret = ctx
        .keys()
        .await?
        .issue_api_token_until(user.id, token.id, exp)
        .await?;
    let tokens = ctx.db.api_tokens();
    let mut added = tokens.insert(&token).await?;
    if matches!(added, Added::AtCap) && tokens.revoke_expired(user.id, now_ms).await? > 0 {
        added = tokens.insert(&token).await?;
    }
    if matches!(added, Added::AtCap)
        && exp.is_some()
        && tokens.revoke_soonest_expiring(user.id).await?
    {
        added = tokens.insert(&token).await?;
    }
    match added {
        Added::Added => {}
        Added::AtCap => return Err(ApiError::Conflict(AT_API_TOKEN_CAP)),
        Added::HolderGone => return Err(ApiError::Unauthenticated(UNAUTHENTICATED)),
    }
    tracing::info!(user_id = %user.id, token_id = %token.id, "api token issued");
    Ok(json!({
        "token": secret,
        "token_type": "Bearer",
        "expires_at": token.expires_at,
        "api_token": token.resource(),
    }))
}

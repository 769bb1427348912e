//! `tokens`: personal API tokens. `POST /api/tokens` logs in with email + password and
//! issues a token; `GET /api/tokens` lists the caller's tokens (never their secrets);
//! `DELETE /api/tokens/{token_id}` revokes one at once (the token item is what every
//! API-token request checks).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::db::records::{ApiTokenRecord, LoginFailuresRecord, UserEmailRecord, UserRecord};
use shared::db::{self, ListQuery, keys};
use shared::routes::Function;
use shared::validate::{Email, Fields, Id, Name, PresentedPassword};
use shared::{ApiError, ApiRequest, FieldErrors, auth, clock, crypto, http, validate};

pub use shared::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, Function::Tokens, |req| dispatch(app, req)).await
}

async fn dispatch(app: &App, req: ApiRequest) -> Result<Response<Body>, ApiError> {
    match (req.route.path, req.method.as_str()) {
        ("/api/tokens", "POST") => create(app, &req).await,
        ("/api/tokens", "GET") => list(app, &req).await,
        ("/api/tokens/{token_id}", "DELETE") => revoke(app, &req).await,
        _ => Err(ApiError::NotFound("There is no such route.")),
    }
}

/// Failed logins per email allowed in one window before 429.
pub const MAX_FAILED_LOGINS: u32 = 10;
pub const FAILED_LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;

const BAD_CREDENTIALS: &str = "These credentials do not match our records.";

async fn create(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let input = (
        fields.required::<Email>("email"),
        fields.required::<PresentedPassword>("password"),
        fields.optional::<Name>("name"),
    );
    fields.finish()?;
    let (Some(email), Some(password), name) = input else {
        unreachable!("finish() reports every missing required field")
    };

    let user = login(app, &email, &password).await?;
    let now = clock::now_rfc3339();
    let token = ApiTokenRecord {
        id: Id::new().to_string(),
        user_id: user.id.clone(),
        name: name.map_or_else(|| "API token".to_owned(), Name::into_inner),
        created_at: now,
        last_used_at: None,
        last_used_ms: None,
    };
    let secret = app.ctx.tokens.issue_api_token(&user.id, &token.id)?;
    if !app
        .ctx
        .db
        .put_new(&keys::api_token(&user.id, &token.id), &token)
        .await?
    {
        return Err(ApiError::internal("a new token id already existed"));
    }
    tracing::info!(user_id = %user.id, token_id = %token.id, "api token issued");
    Ok(http::data(
        StatusCode::CREATED,
        json!({ "token": secret, "token_type": "Bearer", "api_token": token.resource() }),
    ))
}

/// Checks email + password under the failed-login throttle. Unknown email and wrong
/// password answer the same 422, after the same argon2 work.
async fn login(
    app: &App,
    email: &Email,
    password: &PresentedPassword,
) -> Result<UserRecord, ApiError> {
    let db = &app.ctx.db;
    let failures_key = keys::login_failures(email.as_str());
    let [failures, email_item]: [Option<db::Item>; 2] = db
        .get_many(&[failures_key.clone(), keys::user_email(email.as_str())])
        .await?
        .try_into()
        .map_err(|_| ApiError::internal("BatchGetItem answered the wrong number of keys"))?;
    let now = clock::now_millis();
    let failures: Option<LoginFailuresRecord> = failures
        .map(db::from_item::<LoginFailuresRecord>)
        .transpose()?
        .filter(|f| now - f.window_start_ms < FAILED_LOGIN_WINDOW_MS);
    if let Some(f) = &failures {
        if f.failures >= MAX_FAILED_LOGINS {
            let retry_after_ms = f.window_start_ms + FAILED_LOGIN_WINDOW_MS - now;
            return Err(ApiError::TooManyRequests {
                message: "Too many failed logins for this email. Try again later.",
                retry_after_secs: (retry_after_ms as u64).div_ceil(1000).max(1),
            });
        }
    }
    let user = match email_item {
        Some(item) => {
            let pointer: UserEmailRecord = db::from_item(item)?;
            db.get::<UserRecord>(&keys::user(&pointer.user_id)).await?
        }
        None => None,
    };
    let hash = match &user {
        Some(user) => user.password_hash.as_str(),
        None => crypto::decoy_password_hash(),
    };
    let verified = crypto::verify_password(password.as_str(), hash);
    match user {
        Some(user) if verified => {
            if failures.is_some() {
                db.client()
                    .delete_item()
                    .table_name(db.table())
                    .set_key(Some(failures_key.to_item()))
                    .send()
                    .await?;
            }
            Ok(user)
        }
        _ => {
            record_failed_login(app, &failures_key, failures.is_some(), now).await?;
            Err(FieldErrors::single("email", BAD_CREDENTIALS))
        }
    }
}

async fn record_failed_login(
    app: &App,
    key: &db::Key,
    window_open: bool,
    now: i64,
) -> Result<(), ApiError> {
    let db = &app.ctx.db;
    let expires = db::n((now + FAILED_LOGIN_WINDOW_MS) / 1000 + 60);
    let update = db
        .client()
        .update_item()
        .table_name(db.table())
        .set_key(Some(key.to_item()));
    let update = if window_open {
        // Counting in the open window; concurrent failures all count (ADD is atomic).
        update
            .update_expression("ADD failures :one")
            .expression_attribute_values(":one", db::n(1))
    } else {
        // A new window starts with this failure.
        update
            .update_expression("SET failures = :one, window_start_ms = :now, #ttl = :ttl")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":one", db::n(1))
            .expression_attribute_values(":now", db::n(now))
            .expression_attribute_values(":ttl", expires)
    };
    update.send().await?;
    Ok(())
}

async fn list(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let per_page = validate::per_page(req.query("per_page"), 25, 100)?;
    let page = app
        .ctx
        .db
        .list::<ApiTokenRecord>(&ListQuery {
            list: "tokens",
            index: None,
            partition: keys::user_partition(&operator.user.id),
            sort_prefix: keys::API_TOKEN_PREFIX.to_owned(),
            per_page,
            cursor: req.query("cursor").map(str::to_owned),
        })
        .await?;
    Ok(http::list(
        page.items.iter().map(ApiTokenRecord::resource).collect(),
        per_page,
        page.next_cursor,
    ))
}

async fn revoke(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let token_id = Id::from_path(req.param("token_id"), "No such API token.")?;
    let deleted: ApiTokenRecord = app
        .ctx
        .db
        .delete_existing(&keys::api_token(&operator.user.id, &token_id.to_string()))
        .await?
        .ok_or(ApiError::NotFound("No such API token."))?;
    tracing::info!(user_id = %operator.user.id, token_id = %deleted.id, "api token revoked");
    Ok(http::data(StatusCode::OK, deleted.resource()))
}

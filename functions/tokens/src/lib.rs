//! `tokens`: personal API tokens. `POST /api/tokens` logs in with email + password and
//! issues a token; `GET /api/tokens` lists the caller's tokens (never their secrets);
//! `DELETE /api/tokens/{token_id}` revokes one at once (the token item is what every
//! API-token request checks).

pub mod routes;

use domain::api_token::ApiTokenRecord;
use domain::clock;
use domain::ids::{ApiTokenId, EntityId};
use domain::login::LoginFailuresRecord;
use domain::text::{Email, ExpiresIn, Name, PresentedPassword};
use domain::user::UserRecord;
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, FieldErrors, auth, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use routes::{Endpoint, ROUTES};
use services::crypto;

pub use edge::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    edge::runtime::respond(request, &ROUTES, app.ctx.cors(), |endpoint, req| {
        dispatch(app, endpoint, req)
    })
    .await
}

async fn dispatch(
    app: &App,
    endpoint: Endpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    match endpoint {
        Endpoint::Login => create(app, &req).await,
        Endpoint::List => list(app, &req).await,
        Endpoint::Revoke(token) => revoke(app, &req, token).await,
    }
}

pub const MAX_FAILED_LOGINS: u32 = 10;
pub const FAILED_LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;

const BAD_CREDENTIALS: &str = "These credentials do not match our records.";

struct Login {
    email: Email,
    password: PresentedPassword,
    token_name: Option<Name>,
    /// How long the token lives (a console's short-lived sign-in); absent: until revoked.
    expires_in: Option<ExpiresIn>,
}

impl Login {
    fn parse(req: &ApiRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::new(&req.body);
        let email = fields.required::<Email>("email");
        let password = fields.required::<PresentedPassword>("password");
        let token_name = fields.optional::<Name>("name");
        let expires_in = fields.optional::<ExpiresIn>("expires_in");
        fields.finish_with(|| {
            Some(Login {
                email: email?,
                password: password?,
                token_name,
                expires_in,
            })
        })
    }
}

async fn create(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let input = Login::parse(req)?;
    let user = login(app, req.source(), &input.email, &input.password).await?;
    let name = input
        .token_name
        .map_or_else(|| "API token".to_owned(), Name::into_inner);
    let issued = edge::api_tokens::issue_for(&app.ctx, &user, &name, input.expires_in).await?;
    Ok(envelope::data(StatusCode::CREATED, issued))
}

/// The failures that still count at `now_ms` (their window is open), or `None`.
fn open_window(failures: Option<LoginFailuresRecord>, now_ms: i64) -> Option<LoginFailuresRecord> {
    failures.filter(|f| now_ms - f.window_start_ms < FAILED_LOGIN_WINDOW_MS)
}

/// The 429 when the open window has used up its failures.
fn login_throttle(failures: Option<&LoginFailuresRecord>, now_ms: i64) -> Result<(), ApiError> {
    match failures {
        Some(f) if f.failures >= MAX_FAILED_LOGINS => {
            let retry_after_ms = f.window_start_ms + FAILED_LOGIN_WINDOW_MS - now_ms;
            Err(ApiError::TooManyRequests {
                message: "Too many failed logins for this email from here. Try again later.",
                retry_after_secs: (retry_after_ms.max(0) as u64).div_ceil(1000).max(1),
            })
        }
        _ => Ok(()),
    }
}

/// Checks email + password under the failed-login throttle. Unknown email and wrong
/// password answer the same 422, after the same argon2 work.
async fn login(
    app: &App,
    source: &str,
    email: &Email,
    password: &PresentedPassword,
) -> Result<UserRecord, ApiError> {
    let logins = app.ctx.db.logins();
    let lookup = logins.lookup(email.as_str(), source).await?;
    let now = clock::now_millis();
    let failures = open_window(lookup.failures, now);
    login_throttle(failures.as_ref(), now)?;
    let hash = match &lookup.user {
        Some(user) => user.password_hash.as_str(),
        None => crypto::decoy_password_hash(),
    };
    let verified = crypto::verify_password(password.as_str(), hash);
    match lookup.user {
        Some(user) if verified => {
            if failures.is_some() {
                logins.clear(email.as_str(), source).await?;
            }
            Ok(user)
        }
        _ => {
            logins
                .record_failure(
                    email.as_str(),
                    source,
                    failures.is_some(),
                    now,
                    FAILED_LOGIN_WINDOW_MS,
                )
                .await?;
            Err(FieldErrors::single("email", BAD_CREDENTIALS))
        }
    }
}

async fn list(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let per_page = req.per_page(25, 100)?;
    let page = app
        .ctx
        .db
        .api_tokens()
        .list(operator.user.id, per_page, req.cursor())
        .await?;
    let items: Vec<_> = page.items.iter().map(ApiTokenRecord::resource).collect();
    Ok(envelope::list(&items, per_page, page.next_cursor))
}

async fn revoke(
    app: &App,
    req: &ApiRequest,
    token: ApiTokenId,
) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let deleted = app
        .ctx
        .db
        .api_tokens()
        .revoke(operator.user.id, token)
        .await?
        .ok_or(ApiError::NotFound(ApiTokenId::NOT_FOUND))?;
    tracing::info!(user_id = %operator.user.id, token_id = %deleted.id, "api token revoked");
    Ok(envelope::data(StatusCode::OK, deleted.resource()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_fits_and_builds_its_endpoint() {
        assert_eq!(ROUTES.check(), Ok(()));
        assert_eq!(ROUTES.check_builds(), Ok(()));
    }

    fn failures(count: u32, window_start_ms: i64) -> Option<LoginFailuresRecord> {
        Some(LoginFailuresRecord {
            failures: count,
            window_start_ms,
        })
    }

    #[test]
    fn failures_count_only_inside_their_window() {
        assert!(open_window(failures(3, 0), FAILED_LOGIN_WINDOW_MS - 1).is_some());
        assert!(open_window(failures(3, 0), FAILED_LOGIN_WINDOW_MS).is_none());
        assert!(open_window(None, 0).is_none());
    }

    #[test]
    fn the_tenth_failure_closes_the_door_until_the_window_ends() {
        let now = 60_000;
        assert!(login_throttle(failures(MAX_FAILED_LOGINS - 1, 0).as_ref(), now).is_ok());
        let err = login_throttle(failures(MAX_FAILED_LOGINS, 0).as_ref(), now).unwrap_err();
        let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = err
        else {
            panic!("expected 429, got {err:?}");
        };
        assert_eq!(
            retry_after_secs,
            ((FAILED_LOGIN_WINDOW_MS - now) / 1000) as u64
        );
    }
}

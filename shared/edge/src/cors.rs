//! CORS, answered by the functions themselves (an HTTP API with a `CorsConfiguration`
//! would replace their headers, so the template has none): a preflight on any known
//! path is a 204, and every answer to an allowed origin carries
//! `Access-Control-Allow-Origin`.
//!
//! An origin is allowed when it is in the deployment's list (`ALLOWED_ORIGINS`, the
//! template's `AllowedOrigins`) or in the `allowed_origins` of the company the route
//! concerns: the path's `{company_id}`, or the company of the path's `{chat_id}`. Adding
//! a site is then an API call (`PUT /api/companies/{id}`), not a redeploy. The company is
//! read only for a request that has an `Origin` the deployment's list does not allow, so
//! requests without one (servers, same-origin pages) cost nothing extra.
//!
//! A route that names no company or chat in its path (`/api/chat-user`) concerns the chat
//! of its chat-user token, when it comes with one (see [`Cors::allow_preflight`]).
//!
//! A disallowed origin gets its answer without the header (a preflight still its 204):
//! the browser then refuses, and nothing tells the caller which origins are allowed.

use domain::ids::{ChatId, CompanyId};
use lambda_http::http::{HeaderMap, HeaderValue, header};
use storage::{Db, StoreError};

use crate::router::Concerns;

/// What a browser may send: the token, a JSON or form body, and the headers the API
/// reads. `idempotency-key` is allowed ahead of use (messages are made idempotent by
/// their body's `client_id` today), so a client that sends it is not refused at the
/// preflight.
pub const ALLOW_HEADERS: &str =
    "authorization, content-type, accept, idempotency-key, x-request-id";
/// What a script may read of an answer besides the simple headers: the request id to
/// quote, how long to wait after a 429 or 503, and the methods of a 405.
pub const EXPOSE_HEADERS: &str = "x-request-id, retry-after, allow";
/// How long a browser keeps a preflight's answer (a day; Chromium caps it at 2 hours).
pub const MAX_AGE_SECS: &str = "86400";

/// Whose origins an answer is for.
#[derive(Debug, Clone, Copy)]
pub enum Cors<'a> {
    /// Public, static answers (the widget's script and demo page): any origin (`*`),
    /// without a lookup or credentials.
    Anyone,
    /// The API: the deployment's list, then the company the route concerns.
    Listed {
        deployment: &'a [String],
        db: &'a Db,
    },
}

impl Cors<'_> {
    /// A preflight's `Access-Control-Allow-Origin`: as [`Cors::allow_origin`] where the
    /// path names a company or chat. A path that names neither (`/api/chat-user`, whose
    /// chat is its token's) lets any origin *send*: a preflight carries no token, and
    /// whether the page may *read* the answer is decided on the answer, from its token's
    /// chat. The API takes no cookies, so sending grants a page nothing it did not hold.
    pub async fn allow_preflight(&self, origin: &str, concerns: Concerns) -> Option<HeaderValue> {
        match (self, concerns) {
            (Cors::Listed { .. }, Concerns::Nothing) => HeaderValue::from_str(origin).ok(),
            _ => self.allow_origin(origin, concerns).await,
        }
    }

    /// The `Access-Control-Allow-Origin` for `origin` on a route that `concerns` this
    /// company or chat: `None` when it is not allowed (or a lookup failed: then the
    /// browser refuses, and the answer itself is not turned into an error).
    pub async fn allow_origin(&self, origin: &str, concerns: Concerns) -> Option<HeaderValue> {
        match self {
            Cors::Anyone => Some(HeaderValue::from_static("*")),
            Cors::Listed { deployment, db } => {
                let allowed = deployment.iter().any(|o| o == origin)
                    || match company_allows_origin(db, concerns, origin).await {
                        Ok(allowed) => allowed,
                        Err(err) => {
                            tracing::warn!(error = %sdk::Chain(&err), "the company's allowed origins could not be read");
                            false
                        }
                    };
                allowed
                    .then(|| HeaderValue::from_str(origin).ok())
                    .flatten()
            }
        }
    }
}

/// Whether the company a route concerns lists `origin` in its `allowed_origins`: for a
/// company route that company (one `GetItem`), for a chat route the chat's company (the
/// chat, then the company). A route of neither, or one gone, allows none.
pub async fn company_allows_origin(
    db: &Db,
    concerns: Concerns,
    origin: &str,
) -> Result<bool, StoreError> {
    let company: CompanyId = match concerns {
        Concerns::Company(company) => company,
        Concerns::Chat(chat) => match chat_company(db, chat).await? {
            Some(company) => company,
            None => return Ok(false),
        },
        Concerns::Nothing => return Ok(false),
    };
    Ok(db
        .companies()
        .get(company)
        .await?
        .is_some_and(|company| company.allowed_origins.iter().any(|o| o == origin)))
}

async fn chat_company(db: &Db, chat: ChatId) -> Result<Option<CompanyId>, StoreError> {
    Ok(db.chats().get(chat).await?.map(|chat| chat.company_id))
}

/// The headers of an answer to an allowed origin. `Vary: Origin` goes on every answer
/// (see [`vary`]).
pub fn allow(headers: &mut HeaderMap, allow_origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}

/// Every answer may differ by `Origin` (the header above comes or not), so a shared
/// cache (the availability route is cacheable) keys on it.
pub fn vary(headers: &mut HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// A preflight's headers beyond the origin's: the path's methods, the headers a request
/// may carry, and how long the browser may keep this.
pub fn preflight(headers: &mut HeaderMap, methods: &str) {
    if let Ok(methods) = HeaderValue::from_str(methods) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods.clone());
        headers.insert(header::ALLOW, methods);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE_SECS),
    );
}

/// The deployment's list from `ALLOWED_ORIGINS` (comma separated, as the template joins
/// its `AllowedOrigins`): each entry trimmed, without a trailing slash, lowercased as
/// browsers send origins. Empty entries are dropped.
pub fn parse_deployment_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
        .filter(|o| !o.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployment_list_reads_as_browsers_send_origins() {
        assert_eq!(
            parse_deployment_list(" https://Shop.example/ ,,http://localhost:5173"),
            vec!["https://shop.example", "http://localhost:5173"]
        );
        assert!(parse_deployment_list("").is_empty());
    }
}

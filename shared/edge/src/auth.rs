//! Who a request comes from: the token it presents, checked against the table.
//!
//! A token may come as `Authorization: Bearer`, as the query parameter `api_token` /
//! `chat_user_token`, or as the body field of the same name. How tokens are signed and
//! checked is the services' `tokens`; here the token's user and token item (API
//! tokens) or its chat user and chat (chat-user tokens) are read, and must still exist.

use domain::api_token::ApiTokenRecord;
use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::clock;
use domain::ids::{ApiTokenId, ChatId, ChatUserId, EntityId, UserId};
use domain::user::UserRecord;
use services::jwt::{Claims, TokenKind, kid_of};

use crate::api_error::{ApiError, UNAUTHENTICATED};
use crate::context::Context;
use crate::request::ApiRequest;

/// Where a token was found decides which kinds it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presented<'a> {
    /// `Authorization: Bearer`: either kind.
    Bearer(&'a str),
    /// `api_token` / `chat_user_token`: only the named kind.
    Named(TokenKind, &'a str),
}

fn presented(request: &ApiRequest) -> Option<Presented<'_>> {
    if let Some(token) = request.bearer.as_deref() {
        return Some(Presented::Bearer(token));
    }
    let named = [
        ("api_token", TokenKind::Api),
        ("chat_user_token", TokenKind::ChatUser),
    ];
    let from_query = named
        .iter()
        .find_map(|(name, kind)| request.query(name).map(|t| Presented::Named(*kind, t)));
    from_query.or_else(|| {
        named.iter().find_map(|(name, kind)| {
            request
                .body
                .get(name)
                .and_then(|v| v.as_str())
                .map(|t| Presented::Named(*kind, t))
        })
    })
}

/// An operator, authenticated by an API token.
#[derive(Debug, Clone)]
pub struct Operator {
    pub user: UserRecord,
    pub token: ApiTokenRecord,
}

/// A chat user, authenticated by a chat-user token, with its chat.
#[derive(Debug, Clone)]
pub struct Guest {
    pub chat_user: ChatUserRecord,
    /// Boxed: a conversation's chat item is large, and every request carries a caller.
    pub chat: Box<ChatRecord>,
    /// When the token it presented was issued (epoch ms): a revocation after it ends
    /// what the token opened, sockets included.
    pub token_issued_ms: i64,
}

impl Operator {
    /// The key its budgets (the domain's `rate_limit::budgets`) count under.
    pub fn budget_key(&self) -> String {
        format!("user#{}", self.user.id)
    }

    /// The table as this member writes to it: the events its writes log name it.
    pub fn db(&self, ctx: &Context) -> storage::Db {
        ctx.db
            .acting_as(domain::events::Actor::user(self.user.id, &self.user.name))
    }
}

impl Guest {
    /// The key its budgets (the domain's `rate_limit::budgets`) count under.
    pub fn budget_key(&self) -> String {
        format!("member#{}", self.chat_user.id)
    }
}

#[derive(Debug, Clone)]
pub enum Caller {
    Operator(Operator),
    Guest(Guest),
}

/// Don't write `last_used_at` more often than this: it would cost a write per request.
const LAST_USED_RESOLUTION_MS: i64 = 5 * 60 * 1000;

/// Whoever the request's token says, checked against the table.
pub async fn authenticate(ctx: &Context, request: &ApiRequest) -> Result<Caller, ApiError> {
    let presented = presented(request).ok_or(ApiError::Unauthenticated(UNAUTHENTICATED))?;
    let (token, required_kind) = match presented {
        Presented::Bearer(t) => (t, None),
        Presented::Named(kind, t) => (t, Some(kind)),
    };
    // A token that names no key version is refused before the keys are needed: it never
    // waits for them (see `Context::load`).
    if kid_of(token).is_none() {
        return Err(ApiError::Unauthenticated(UNAUTHENTICATED));
    }
    let claims = ctx.keys().await?.verify_token(token).await?;
    if required_kind.is_some_and(|k| k != claims.kind) {
        return Err(ApiError::Unauthenticated(UNAUTHENTICATED));
    }
    match claims.kind {
        TokenKind::Api => load_operator(ctx, &claims).await.map(Caller::Operator),
        TokenKind::ChatUser => load_guest(ctx, &claims).await.map(Caller::Guest),
    }
}

/// For routes only operators may use: a chat-user token is a 401 that says so.
pub async fn operator(ctx: &Context, request: &ApiRequest) -> Result<Operator, ApiError> {
    match authenticate(ctx, request).await? {
        Caller::Operator(operator) => Ok(operator),
        Caller::Guest(_) => Err(ApiError::Unauthenticated(
            "This route needs an API token, not a chat-user token.",
        )),
    }
}

/// For routes only chat users may use: an API token is a 401 that says so.
pub async fn guest(ctx: &Context, request: &ApiRequest) -> Result<Guest, ApiError> {
    match authenticate(ctx, request).await? {
        Caller::Guest(guest) => Ok(guest),
        Caller::Operator(_) => Err(ApiError::Unauthenticated(
            "This route needs a chat-user token, not an API token.",
        )),
    }
}

async fn load_operator(ctx: &Context, claims: &Claims) -> Result<Operator, ApiError> {
    let unauthenticated = || ApiError::Unauthenticated(UNAUTHENTICATED);
    let user_id = UserId::parse(&claims.sub).ok_or_else(unauthenticated)?;
    let token_id = claims
        .jti
        .as_deref()
        .and_then(ApiTokenId::parse)
        .ok_or_else(unauthenticated)?;
    // Revoked token, or its user was deleted: both read in one round trip.
    let (user, mut token) = ctx
        .db
        .api_tokens()
        .with_user(user_id, token_id)
        .await?
        .ok_or_else(unauthenticated)?;
    let now = clock::now_millis();
    if token
        .last_used_ms
        .is_none_or(|t| now - t > LAST_USED_RESOLUTION_MS)
    {
        let used_at = clock::rfc3339(now);
        if !ctx.db.api_tokens().touch(&token, &used_at, now).await? {
            // Revoked between the read and this write.
            return Err(unauthenticated());
        }
        token.last_used_at = Some(used_at);
        token.last_used_ms = Some(now);
    }
    Ok(Operator { user, token })
}

async fn load_guest(ctx: &Context, claims: &Claims) -> Result<Guest, ApiError> {
    let unauthenticated = || ApiError::Unauthenticated(UNAUTHENTICATED);
    let chat_id = claims
        .chat
        .as_deref()
        .and_then(ChatId::parse)
        .ok_or_else(unauthenticated)?;
    let chat_user_id = ChatUserId::parse(&claims.sub).ok_or_else(unauthenticated)?;
    // The chat user or the whole chat was deleted: the token died with it.
    let (chat_user, chat) = ctx
        .db
        .chat_users()
        .with_chat(chat_id, chat_user_id)
        .await?
        .ok_or_else(unauthenticated)?;
    // Issued before the owner revoked this chat user's tokens, or every guest's.
    let issued_ms = claims.iat_ms.unwrap_or(claims.iat * 1000);
    let revoked_at = chat_user
        .tokens_revoked_at_ms
        .max(chat.tokens_revoked_at_ms);
    if revoked_at.is_some_and(|revoked| issued_ms <= revoked) {
        return Err(unauthenticated());
    }
    Ok(Guest {
        chat_user,
        chat: Box::new(chat),
        token_issued_ms: issued_ms,
    })
}

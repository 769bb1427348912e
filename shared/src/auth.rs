//! The two token kinds and who a request comes from.
//!
//! Both kinds are HS256 JWTs signed with the deployment secret; the `kind` claim names
//! which one a token is, so neither can pass for the other. An API token also names a
//! token item that must still exist (revocation is deleting it); a chat-user token names
//! its chat and chat user, which must still exist, and expires.
//!
//! A token may come as `Authorization: Bearer`, as the query parameter `api_token` /
//! `chat_user_token`, or as the body field of the same name.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::Context;
use crate::clock;
use crate::db::api_tokens::ApiTokenRecord;
use crate::db::chat_users::ChatUserRecord;
use crate::db::chats::ChatRecord;
use crate::db::users::UserRecord;
use crate::error::ApiError;
use crate::http::ApiRequest;
use crate::ids::{ApiTokenId, ChatId, ChatUserId, EntityId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Api,
    ChatUser,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub kind: TokenKind,
    /// The user (API token) or the chat user (chat-user token).
    pub sub: String,
    /// API tokens: the token item's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Chat-user tokens: the chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
    pub iat: i64,
    /// Chat-user tokens: the issue time in milliseconds, which an owner's revocation is
    /// compared with (`iat` has whole seconds only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// Signing and verifying keys, derived once from the secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<redacted>)")
    }
}

const UNAUTHENTICATED: &str = "Unauthenticated.";

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        // HS256 only: a token whose header names any other algorithm is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ApiError::internal(format!("signing a token failed: {e}")))
    }

    /// Checks signature, algorithm and expiry; any failure is a plain 401.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| ApiError::Unauthenticated(UNAUTHENTICATED))?
            .claims;
        // `exp` is optional for API tokens, but a chat-user token must expire.
        let expired = claims
            .exp
            .is_some_and(|exp| exp * 1000 <= clock::now_millis());
        let complete = match claims.kind {
            TokenKind::Api => claims.jti.is_some(),
            TokenKind::ChatUser => claims.chat.is_some() && claims.exp.is_some(),
        };
        if expired || !complete {
            return Err(ApiError::Unauthenticated(UNAUTHENTICATED));
        }
        Ok(claims)
    }

    pub fn issue_api_token(
        &self,
        user_id: UserId,
        token_id: ApiTokenId,
    ) -> Result<String, ApiError> {
        self.sign(&Claims {
            kind: TokenKind::Api,
            sub: user_id.to_string(),
            jti: Some(token_id.to_string()),
            chat: None,
            iat: clock::now_millis() / 1000,
            iat_ms: None,
            exp: None,
        })
    }

    /// Returns the token and its expiry (epoch seconds).
    pub fn issue_chat_user_token(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        ttl_secs: i64,
    ) -> Result<(String, i64), ApiError> {
        let now_ms = clock::now_millis();
        let now = now_ms / 1000;
        let exp = now + ttl_secs;
        let token = self.sign(&Claims {
            kind: TokenKind::ChatUser,
            sub: chat_user_id.to_string(),
            jti: None,
            chat: Some(chat_id.to_string()),
            iat: now,
            iat_ms: Some(now_ms),
            exp: Some(exp),
        })?;
        Ok((token, exp))
    }
}

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
    pub chat: ChatRecord,
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
    let claims = ctx.tokens.verify(token)?;
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
        .operator(user_id, token_id)
        .await?
        .ok_or_else(unauthenticated)?;
    let now = clock::now_millis();
    if token
        .last_used_ms
        .is_none_or(|t| now - t > LAST_USED_RESOLUTION_MS)
    {
        let used_at = clock::rfc3339(now);
        if !ctx.db.touch_api_token(&token, &used_at, now).await? {
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
        .chat_user_with_chat(chat_id, chat_user_id)
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
    Ok(Guest { chat_user, chat })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn tokens_round_trip_and_name_their_kind() {
        let keys = TokenKeys::new(SECRET);
        let (user, token) = (UserId::new(), ApiTokenId::new());
        let api = keys.issue_api_token(user, token).unwrap();
        let claims = keys.verify(&api).unwrap();
        assert_eq!(claims.kind, TokenKind::Api);
        assert_eq!(
            (claims.sub, claims.jti),
            (user.to_string(), Some(token.to_string()))
        );
        let chat = ChatId::new();
        let (guest, exp) = keys
            .issue_chat_user_token(chat, ChatUserId::new(), 60)
            .unwrap();
        let claims = keys.verify(&guest).unwrap();
        assert_eq!(claims.kind, TokenKind::ChatUser);
        assert_eq!(claims.chat, Some(chat.to_string()));
        assert_eq!(claims.exp, Some(exp));
    }

    #[test]
    fn other_secrets_algorithms_and_expired_tokens_are_refused() {
        let keys = TokenKeys::new(SECRET);
        let other = TokenKeys::new(b"another-secret-another-secret-xx");
        let token = other
            .issue_api_token(UserId::new(), ApiTokenId::new())
            .unwrap();
        assert_eq!(keys.verify(&token).unwrap_err().status(), 401);

        let claims = Claims {
            kind: TokenKind::Api,
            sub: "U1".into(),
            jti: Some("T1".into()),
            chat: None,
            iat: 0,
            iat_ms: None,
            exp: None,
        };
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(keys.verify(&hs512).unwrap_err().status(), 401);

        // An unsigned token with `alg: none`.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(
            keys.verify(&format!("{header}.{payload}."))
                .unwrap_err()
                .status(),
            401
        );

        let expired = keys
            .sign(&Claims {
                kind: TokenKind::ChatUser,
                sub: "CU".into(),
                jti: None,
                chat: Some("C".into()),
                iat: 0,
                iat_ms: None,
                exp: Some(1),
            })
            .unwrap();
        assert_eq!(keys.verify(&expired).unwrap_err().status(), 401);
        assert_eq!(keys.verify("garbage").unwrap_err().status(), 401);
    }

    #[test]
    fn chat_user_tokens_must_expire() {
        let keys = TokenKeys::new(SECRET);
        let forever = keys
            .sign(&Claims {
                kind: TokenKind::ChatUser,
                sub: "CU".into(),
                jti: None,
                chat: Some("C".into()),
                iat: 0,
                iat_ms: None,
                exp: None,
            })
            .unwrap();
        assert_eq!(keys.verify(&forever).unwrap_err().status(), 401);
    }
}

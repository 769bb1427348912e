//! The two token kinds: how they are signed and checked.
//!
//! Both kinds are HS256 JWTs, each kind signed with its own key (see [`crate::keyring`]),
//! whose version the header's `kid` names; the `kind` claim names which one a token is,
//! and only that kind's key verifies it, so neither can pass for the other. An API token
//! also names a token item that must still exist (revocation is deleting it); a
//! chat-user token names its chat and chat user, which must still exist, and expires.
//! Those reads are the edge's (`auth`): here a token is only signed, or checked.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use domain::clock;
use domain::ids::{ApiTokenId, ChatId, ChatUserId, EntityId, UserId};

use crate::ServiceError;
use crate::keyring::{KeyVersion, Keys, Purpose};

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

/// A token that is not one of ours, or no longer good: malformed, forged, of another
/// algorithm, expired, incomplete, or signed with a key version past its window. Which
/// of these it was is never told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the token is not valid")]
pub struct Rejected;

impl TokenKind {
    /// Each kind has its own key: one kind's key cannot make the other.
    fn purpose(self) -> Purpose {
        match self {
            TokenKind::Api => Purpose::ApiToken,
            TokenKind::ChatUser => Purpose::ChatUserToken,
        }
    }
}

/// Signs `claims` with `version`'s key for their kind, naming the version in the header's
/// `kid`. [`Keys`]' methods sign with the current version; tests sign with any.
pub fn sign(version: &KeyVersion, claims: &Claims) -> Result<String, ServiceError> {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(version.kid().to_owned());
    let key = EncodingKey::from_secret(version.key(claims.kind.purpose()));
    jsonwebtoken::encode(&header, claims, &key).map_err(ServiceError::Sign)
}

/// Checks signature, algorithm and expiry against `version`, whatever kid the token
/// names; any failure is the same [`Rejected`]. [`Keys::verify_token`] picks the version
/// by kid.
pub fn verify_with(version: &KeyVersion, token: &str) -> Result<Claims, Rejected> {
    // HS256 only: a token whose header names any other algorithm is refused.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = true;
    validation.leeway = 0;
    // The kind is a claim, read only once verified: the key that verifies decides it.
    let claims = [TokenKind::Api, TokenKind::ChatUser]
        .into_iter()
        .find_map(|kind| {
            let key = DecodingKey::from_secret(version.key(kind.purpose()));
            jsonwebtoken::decode::<Claims>(token, &key, &validation)
                .ok()
                .map(|data| data.claims)
                .filter(|claims| claims.kind == kind)
        })
        .ok_or(Rejected)?;
    // `exp` is optional for API tokens, but a chat-user token must expire.
    let expired = claims
        .exp
        .is_some_and(|exp| exp * 1000 <= clock::now_millis());
    let complete = match claims.kind {
        TokenKind::Api => claims.jti.is_some(),
        TokenKind::ChatUser => claims.chat.is_some() && claims.exp.is_some(),
    };
    if expired || !complete {
        return Err(Rejected);
    }
    Ok(claims)
}

/// The kid a token's header names, without checking anything else.
pub fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// The chat a chat-user token names, read without checking its signature: only for a
/// choice that grants nothing (which company's origins a CORS answer follows); the
/// request itself verifies the token.
pub fn unverified_chat(token: &str) -> Option<ChatId> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    match claims.kind {
        TokenKind::ChatUser => claims.chat.as_deref().and_then(ChatId::parse),
        TokenKind::Api => None,
    }
}

impl Keys {
    /// Checks a token: its kid picks the key version (a token without one, or naming a
    /// version that is unknown or past its window, is rejected), then signature,
    /// algorithm, expiry and completeness.
    pub async fn verify_token(&self, token: &str) -> Result<Claims, Rejected> {
        let kid = kid_of(token).ok_or(Rejected)?;
        let version = self.find(&kid).await.ok_or(Rejected)?;
        verify_with(&version, token)
    }

    pub async fn issue_api_token(
        &self,
        user_id: UserId,
        token_id: ApiTokenId,
    ) -> Result<String, ServiceError> {
        api_token(&*self.current().await, user_id, token_id)
    }

    /// An API token that stops working at `exp` (epoch seconds), or never (`None`).
    pub async fn issue_api_token_until(
        &self,
        user_id: UserId,
        token_id: ApiTokenId,
        exp: Option<i64>,
    ) -> Result<String, ServiceError> {
        api_token_until(&*self.current().await, user_id, token_id, exp)
    }

    /// Returns the token and its expiry (epoch seconds).
    pub async fn issue_chat_user_token(
        &self,
        chat_id: ChatId,
        chat_user_id: ChatUserId,
        ttl_secs: i64,
    ) -> Result<(String, i64), ServiceError> {
        chat_user_token(&*self.current().await, chat_id, chat_user_id, ttl_secs)
    }
}

/// An API token signed with `version` ([`Keys::issue_api_token`] uses the current one).
pub fn api_token(
    version: &KeyVersion,
    user_id: UserId,
    token_id: ApiTokenId,
) -> Result<String, ServiceError> {
    api_token_until(version, user_id, token_id, None)
}

/// An API token signed with `version` that expires at `exp` (epoch seconds), if given.
pub fn api_token_until(
    version: &KeyVersion,
    user_id: UserId,
    token_id: ApiTokenId,
    exp: Option<i64>,
) -> Result<String, ServiceError> {
    let claims = Claims {
        kind: TokenKind::Api,
        sub: user_id.to_string(),
        jti: Some(token_id.to_string()),
        chat: None,
        iat: clock::now_millis() / 1000,
        iat_ms: None,
        exp,
    };
    sign(version, &claims)
}

/// A chat-user token signed with `version`, and its expiry (epoch seconds).
pub fn chat_user_token(
    version: &KeyVersion,
    chat_id: ChatId,
    chat_user_id: ChatUserId,
    ttl_secs: i64,
) -> Result<(String, i64), ServiceError> {
    let now_ms = clock::now_millis();
    let now = now_ms / 1000;
    let exp = now + ttl_secs;
    let claims = Claims {
        kind: TokenKind::ChatUser,
        sub: chat_user_id.to_string(),
        jti: None,
        chat: Some(chat_id.to_string()),
        iat: now,
        iat_ms: Some(now_ms),
        exp: Some(exp),
    };
    Ok((sign(version, &claims)?, exp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::{KeyRing, StoredKeys};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use std::time::Duration;

    const MATERIAL: &str = "0123456789abcdef0123456789abcdef";
    const OTHER: &str = "another-secret-another-secret-xx";

    fn keys(material: &str) -> Keys {
        let json = format!(r#"{{"current": "{material}"}}"#);
        Keys::fixed(KeyRing::parse(&json, Duration::from_secs(3600)).unwrap())
    }

    fn version(material: &str) -> KeyVersion {
        KeyVersion::derive(material).unwrap()
    }

    fn api_claims() -> Claims {
        Claims {
            kind: TokenKind::Api,
            sub: "U1".into(),
            jti: Some("T1".into()),
            chat: None,
            iat: 0,
            iat_ms: None,
            exp: None,
        }
    }

    #[tokio::test]
    async fn tokens_round_trip_name_their_kind_and_carry_the_kid() {
        let keys = keys(MATERIAL);
        let (user, token) = (UserId::new(), ApiTokenId::new());
        let api = keys.issue_api_token(user, token).await.unwrap();
        assert_eq!(kid_of(&api).as_deref(), Some(version(MATERIAL).kid()));
        let claims = keys.verify_token(&api).await.unwrap();
        assert_eq!(claims.kind, TokenKind::Api);
        assert_eq!(
            (claims.sub, claims.jti),
            (user.to_string(), Some(token.to_string()))
        );
        let chat = ChatId::new();
        let (guest, exp) = keys
            .issue_chat_user_token(chat, ChatUserId::new(), 60)
            .await
            .unwrap();
        assert_eq!(kid_of(&guest), kid_of(&api));
        let claims = keys.verify_token(&guest).await.unwrap();
        assert_eq!(claims.kind, TokenKind::ChatUser);
        assert_eq!(claims.chat, Some(chat.to_string()));
        assert_eq!(claims.exp, Some(exp));
    }

    #[tokio::test]
    async fn the_kid_picks_the_key_and_each_kind_has_its_own() {
        let keys = keys(MATERIAL);
        let ours = version(MATERIAL);
        assert_eq!(
            keys.verify_token(&sign(&ours, &api_claims()).unwrap())
                .await
                .unwrap()
                .kind,
            TokenKind::Api
        );
        // Another material: an unknown kid.
        let foreign = sign(&version(OTHER), &api_claims()).unwrap();
        assert_eq!(keys.verify_token(&foreign).await.unwrap_err(), Rejected);
        // Our kid, signed with another key.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(ours.kid().to_owned());
        let forged = jsonwebtoken::encode(
            &header,
            &api_claims(),
            &EncodingKey::from_secret(version(OTHER).key(Purpose::ApiToken)),
        )
        .unwrap();
        assert_eq!(keys.verify_token(&forged).await.unwrap_err(), Rejected);
        // No kid, signed with the right key.
        let no_kid = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &api_claims(),
            &EncodingKey::from_secret(ours.key(Purpose::ApiToken)),
        )
        .unwrap();
        assert_eq!(keys.verify_token(&no_kid).await.unwrap_err(), Rejected);
        // An API token made with the chat-user key: the kind's own key is required.
        let crossed = jsonwebtoken::encode(
            &header,
            &api_claims(),
            &EncodingKey::from_secret(ours.key(Purpose::ChatUserToken)),
        )
        .unwrap();
        assert_eq!(keys.verify_token(&crossed).await.unwrap_err(), Rejected);
        // The raw material is no key either.
        let raw = jsonwebtoken::encode(
            &header,
            &api_claims(),
            &EncodingKey::from_secret(MATERIAL.as_bytes()),
        )
        .unwrap();
        assert_eq!(keys.verify_token(&raw).await.unwrap_err(), Rejected);
    }

    #[tokio::test]
    async fn previous_keys_verify_during_their_window_and_never_sign() {
        let now = clock::now_millis();
        let stored = StoredKeys {
            current: OTHER.into(),
            previous: None,
            previous_retired_at: None,
        }
        .rotated(MATERIAL.into(), now - 10_000, false);
        let old_token = sign(&version(OTHER), &api_claims()).unwrap();
        let within =
            Keys::fixed(KeyRing::parse(&stored.to_json(), Duration::from_secs(60)).unwrap());
        assert!(within.verify_token(&old_token).await.is_ok());
        let fresh = within
            .issue_api_token(UserId::new(), ApiTokenId::new())
            .await
            .unwrap();
        assert_eq!(kid_of(&fresh).as_deref(), Some(version(MATERIAL).kid()));
        let after = Keys::fixed(KeyRing::parse(&stored.to_json(), Duration::from_secs(5)).unwrap());
        assert_eq!(after.verify_token(&old_token).await.unwrap_err(), Rejected);
    }

    #[tokio::test]
    async fn other_algorithms_and_expired_tokens_are_refused() {
        let keys = keys(MATERIAL);
        let ours = version(MATERIAL);
        let mut header = Header::new(Algorithm::HS512);
        header.kid = Some(ours.kid().to_owned());
        let hs512 = jsonwebtoken::encode(
            &header,
            &api_claims(),
            &EncodingKey::from_secret(ours.key(Purpose::ApiToken)),
        )
        .unwrap();
        assert_eq!(keys.verify_token(&hs512).await.unwrap_err(), Rejected);

        // An unsigned token with `alg: none`.
        let header = URL_SAFE_NO_PAD
            .encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#, ours.kid()).as_bytes());
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&api_claims()).unwrap());
        assert_eq!(
            keys.verify_token(&format!("{header}.{payload}."))
                .await
                .unwrap_err(),
            Rejected
        );

        let expired = sign(
            &ours,
            &Claims {
                kind: TokenKind::ChatUser,
                sub: "CU".into(),
                jti: None,
                chat: Some("C".into()),
                iat: 0,
                iat_ms: None,
                exp: Some(1),
            },
        )
        .unwrap();
        assert_eq!(keys.verify_token(&expired).await.unwrap_err(), Rejected);
        assert_eq!(keys.verify_token("garbage").await.unwrap_err(), Rejected);
    }

    #[tokio::test]
    async fn chat_user_tokens_must_expire() {
        let keys = keys(MATERIAL);
        let forever = sign(
            &version(MATERIAL),
            &Claims {
                kind: TokenKind::ChatUser,
                sub: "CU".into(),
                jti: None,
                chat: Some("C".into()),
                iat: 0,
                iat_ms: None,
                exp: None,
            },
        )
        .unwrap();
        assert_eq!(keys.verify_token(&forever).await.unwrap_err(), Rejected);
    }
}

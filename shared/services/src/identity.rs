//! Identified visitors: a company's site signs, on its server, an HS256 JWT with the
//! company's identity secret, saying who its logged-in visitor is (`sub`, and
//! optionally `name` and `email`). Here such a token is checked against the company's
//! secrets (the current one, and for a day the one a rotation replaced).

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// The longest a site's identity token may live: a leaked one opens a visitor's
/// conversation for at most this long.
pub const MAX_IDENTITY_TOKEN_SECS: i64 = 24 * 3600;

/// The longest `sub` a site may send (its own user id).
pub const MAX_SUBJECT_CHARS: usize = 200;

/// What a site says of its visitor.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VisitorIdentity {
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub exp: i64,
}

/// Why a token was refused (the caller answers every one alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityRefused {
    /// Not signed by any of the secrets, or not HS256, or malformed.
    Signature,
    /// No `exp`, or past, or more than [`MAX_IDENTITY_TOKEN_SECS`] ahead.
    Expiry,
    /// No `sub`, or an empty or too long one.
    Subject,
}

/// The visitor `token` names, if one of `secrets` signed it and its claims hold at
/// `now_secs`.
pub fn verify(
    token: &str,
    secrets: &[&str],
    now_secs: i64,
) -> Result<VisitorIdentity, IdentityRefused> {
    // HS256 only: a token naming any other algorithm (`none` included) is refused.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    // Expiry is judged below, against our own clock and bound.
    validation.validate_exp = false;
    validation.leeway = 0;
    let identity = secrets
        .iter()
        .find_map(|secret| {
            let key = DecodingKey::from_secret(secret.as_bytes());
            jsonwebtoken::decode::<VisitorIdentity>(token, &key, &validation).ok()
        })
        .map(|data| data.claims)
        .ok_or(IdentityRefused::Signature)?;
    if identity.exp <= now_secs || identity.exp > now_secs + MAX_IDENTITY_TOKEN_SECS {
        return Err(IdentityRefused::Expiry);
    }
    let sub = identity.sub.trim();
    if sub.is_empty()
        || sub.chars().count() > MAX_SUBJECT_CHARS
        || sub.chars().any(char::is_control)
    {
        return Err(IdentityRefused::Subject);
    }
    Ok(identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn sign(secret: &str, claims: serde_json::Value, alg: Algorithm) -> String {
        jsonwebtoken::encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn a_token_signed_with_a_current_or_overlapping_secret_names_its_visitor() {
        let claims =
            json!({"sub": "u-42", "name": "Ann", "email": "ann@example.com", "exp": NOW + 600});
        let old = sign("old-secret", claims.clone(), Algorithm::HS256);
        let identity = verify(&old, &["new-secret", "old-secret"], NOW).unwrap();
        assert_eq!(identity.sub, "u-42");
        assert_eq!(identity.email.as_deref(), Some("ann@example.com"));
        assert_eq!(
            verify(&old, &["new-secret"], NOW),
            Err(IdentityRefused::Signature)
        );
    }

    #[test]
    fn expiry_must_be_there_in_the_future_and_within_a_day() {
        for (exp, ok) in [
            (NOW - 1, false),
            (NOW, false),
            (NOW + 60, true),
            (NOW + MAX_IDENTITY_TOKEN_SECS, true),
            (NOW + MAX_IDENTITY_TOKEN_SECS + 1, false),
        ] {
            let token = sign("s", json!({"sub": "u", "exp": exp}), Algorithm::HS256);
            assert_eq!(verify(&token, &["s"], NOW).is_ok(), ok, "exp {exp}");
        }
        let no_exp = sign("s", json!({"sub": "u"}), Algorithm::HS256);
        assert_eq!(
            verify(&no_exp, &["s"], NOW),
            Err(IdentityRefused::Signature)
        );
    }

    #[test]
    fn other_algorithms_and_empty_subjects_are_refused() {
        let hs512 = sign("s", json!({"sub": "u", "exp": NOW + 60}), Algorithm::HS512);
        assert_eq!(verify(&hs512, &["s"], NOW), Err(IdentityRefused::Signature));
        let empty = sign("s", json!({"sub": " ", "exp": NOW + 60}), Algorithm::HS256);
        assert_eq!(verify(&empty, &["s"], NOW), Err(IdentityRefused::Subject));
    }
}

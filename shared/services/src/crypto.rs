//! Secrets at rest: argon2 for account passwords, keyed HMAC-SHA256 for auth codes,
//! source tags and unsubscribe links (each under its own key, see [`crate::keyring`]).

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::ServiceError;
use crate::keyring::{KeyVersion, Keys, Purpose};
use crate::random::random_token_string;

/// argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's baseline).
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(ServiceError::PasswordHash)
}

/// Checks a password against a stored PHC string; a malformed hash is simply "no".
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid hash of a password nobody knows: verifying against it costs the same as a
/// real check, so an unknown email takes as long as a wrong password.
pub fn decoy_password_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        random_token_string(32)
            .and_then(|password| hash_password(&password))
            .unwrap_or_else(|_| String::from("$argon2id$"))
    })
}

type HmacSha256 = Hmac<Sha256>;

/// Keyed hash of an auth code, bound to where it may be used (chat and email), so a
/// stored hash is useless for any other chat or address.
pub fn auth_code_digest(
    key: &[u8],
    chat_id: &str,
    email: &str,
    code: u32,
) -> Result<String, ServiceError> {
    // HMAC takes keys of any length: this cannot fail, but it is not a reason to panic.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .map_err(|_| ServiceError::BadKey("the auth-code key was refused"))?;
    mac.update(b"auth-code\0");
    mac.update(chat_id.as_bytes());
    mac.update(b"\0");
    mac.update(email.as_bytes());
    mac.update(b"\0");
    mac.update(code.to_string().as_bytes());
    Ok(hex(&mac.finalize().into_bytes()))
}

/// A stable, keyed tag of a caller's address (16 hex digits): codes and their throttles
/// are kept per source under it, and the address itself is never stored.
pub fn source_tag(secret: &[u8], source: &str) -> Result<String, ServiceError> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .map_err(|_| ServiceError::BadKey("the source-tag key was refused"))?;
    mac.update(b"code-source\0");
    mac.update(source.as_bytes());
    let digest = mac.finalize().into_bytes();
    Ok(hex(&digest[..8]))
}

/// The MAC of an unread-message email's unsubscribe link for this chat user and chat.
fn unsubscribe_mac(key: &[u8], chat_id: &str, chat_user_id: &str) -> Result<String, ServiceError> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .map_err(|_| ServiceError::BadKey("the unsubscribe key was refused"))?;
    mac.update(b"unsubscribe\0");
    mac.update(chat_id.as_bytes());
    mac.update(b"\0");
    mac.update(chat_user_id.as_bytes());
    Ok(hex(&mac.finalize().into_bytes()))
}

/// The token of an unsubscribe link: `<chat>.<chat user>.<kid>.<mac>`, the MAC under
/// `version`'s unsubscribe key, so it unsubscribes this chat user from this chat's emails
/// and proves nothing else. [`Keys::unsubscribe_token`] uses the current version.
pub fn unsubscribe_token(
    version: &KeyVersion,
    chat_id: &str,
    chat_user_id: &str,
) -> Result<String, ServiceError> {
    let mac = unsubscribe_mac(version.key(Purpose::Unsubscribe), chat_id, chat_user_id)?;
    Ok(format!("{chat_id}.{chat_user_id}.{}.{mac}", version.kid()))
}

/// Auth codes are stored as `<kid>:<digest>`: the kid says which key version to check a
/// presented code with, so a code sent just before a rotation still works after it.
const CODE_KID_SEPARATOR: char = ':';

/// A code's digest as stored: `<kid>:<HMAC>` under `version`'s auth-code key.
pub fn stored_code_digest(
    version: &KeyVersion,
    chat_id: &str,
    email: &str,
    code: u32,
) -> Result<String, ServiceError> {
    let digest = auth_code_digest(version.key(Purpose::AuthCode), chat_id, email, code)?;
    Ok(format!("{}{CODE_KID_SEPARATOR}{digest}", version.kid()))
}

impl Keys {
    /// What to store for a new code: its digest under the current auth-code key.
    pub async fn auth_code_digest(
        &self,
        chat_id: &str,
        email: &str,
        code: u32,
    ) -> Result<String, ServiceError> {
        stored_code_digest(&*self.current().await, chat_id, email, code)
    }

    /// A presented code's digest under the key version `stored` (a digest as
    /// [`Keys::auth_code_digest`] makes them) was made with, to compare with `stored`. A
    /// version that is unknown or past its window gives the current one's: it cannot match.
    pub async fn auth_code_digest_like(
        &self,
        stored: Option<&str>,
        chat_id: &str,
        email: &str,
        code: u32,
    ) -> Result<String, ServiceError> {
        let kid = stored
            .and_then(|digest| digest.split_once(CODE_KID_SEPARATOR))
            .map(|(kid, _)| kid);
        let named = match kid {
            Some(kid) => self.find(kid).await,
            None => None,
        };
        let version = match named {
            Some(version) => version,
            None => self.current().await,
        };
        stored_code_digest(&version, chat_id, email, code)
    }

    /// The tags of a caller's address (see [`source_tag`]) under each key version that
    /// may verify, the current one first: new codes are kept under the first; a code
    /// asked for before a rotation is found under the second.
    pub async fn source_tags(&self, source: &str) -> Result<Vec<String>, ServiceError> {
        self.verifying()
            .await
            .iter()
            .map(|version| source_tag(version.key(Purpose::SourceTag), source))
            .collect()
    }

    /// The token of a new unsubscribe link (see [`unsubscribe_token`]).
    pub async fn unsubscribe_token(
        &self,
        chat_id: &str,
        chat_user_id: &str,
    ) -> Result<String, ServiceError> {
        unsubscribe_token(&*self.current().await, chat_id, chat_user_id)
    }

    /// The (chat, chat user) of a genuine unsubscribe token whose key version may still
    /// verify.
    pub async fn verify_unsubscribe_token(&self, token: &str) -> Option<(String, String)> {
        let mut parts = token.split('.');
        let (chat_id, chat_user_id, kid) = (parts.next()?, parts.next()?, parts.next()?);
        let version = self.find(kid).await?;
        let expected = unsubscribe_token(&version, chat_id, chat_user_id).ok()?;
        constant_time_eq(&expected, token).then(|| (chat_id.to_owned(), chat_user_id.to_owned()))
    }
}

/// Compares two secrets without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::random_auth_code;

    use crate::keyring::KeyRing;

    const MATERIAL: &str = "0123456789abcdef0123456789abcdef";

    fn keys(json: &str) -> Keys {
        Keys::fixed(KeyRing::parse(json, std::time::Duration::from_secs(3600)).unwrap())
    }

    #[tokio::test]
    async fn unsubscribe_tokens_are_bound_to_their_chat_user_and_key() {
        let keys = keys(&format!(r#"{{"current": "{MATERIAL}"}}"#));
        let token = keys.unsubscribe_token("C1", "U1").await.unwrap();
        let kid = KeyVersion::derive(MATERIAL).unwrap().kid().to_owned();
        assert!(token.starts_with(&format!("C1.U1.{kid}.")));
        assert_eq!(
            keys.verify_unsubscribe_token(&token).await,
            Some(("C1".into(), "U1".into()))
        );
        let forged = token.replacen("U1", "U2", 1);
        assert_eq!(keys.verify_unsubscribe_token(&forged).await, None);
        let other = KeyVersion::derive("another-secret-another-secret-xx").unwrap();
        let foreign = unsubscribe_token(&other, "C1", "U1").unwrap();
        assert_eq!(keys.verify_unsubscribe_token(&foreign).await, None);
        assert_eq!(keys.verify_unsubscribe_token("C1.U1").await, None);
        // The old format (no kid) is refused.
        let mac = token.rsplit('.').next().unwrap();
        assert_eq!(
            keys.verify_unsubscribe_token(&format!("C1.U1.{mac}")).await,
            None
        );
    }

    #[tokio::test]
    async fn stored_codes_check_under_the_key_they_were_made_with() {
        let before = keys(&format!(r#"{{"current": "{MATERIAL}"}}"#));
        let stored = before
            .auth_code_digest("chat", "a@x.io", 123456)
            .await
            .unwrap();
        let rotated = crate::keyring::StoredKeys {
            current: MATERIAL.into(),
            previous: None,
            previous_retired_at: None,
        }
        .rotated(
            "another-secret-another-secret-xx".into(),
            domain::clock::now_millis(),
            false,
        );
        let after = keys(&rotated.to_json());
        let presented = after
            .auth_code_digest_like(Some(&stored), "chat", "a@x.io", 123456)
            .await
            .unwrap();
        assert!(constant_time_eq(&presented, &stored));
        let wrong = after
            .auth_code_digest_like(Some(&stored), "chat", "a@x.io", 123457)
            .await
            .unwrap();
        assert!(!constant_time_eq(&wrong, &stored));
        // New codes are stored under the new key.
        let new = after
            .auth_code_digest("chat", "a@x.io", 123456)
            .await
            .unwrap();
        assert_ne!(new, stored);
        // Once the old key is gone, its codes no longer match.
        let discarded = rotated.rotated(MATERIAL.repeat(2), domain::clock::now_millis(), true);
        let presented = keys(&discarded.to_json())
            .auth_code_digest_like(Some(&stored), "chat", "a@x.io", 123456)
            .await
            .unwrap();
        assert!(!constant_time_eq(&presented, &stored));
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("correct horse"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not-a-hash"));
        assert!(!verify_password("anything", decoy_password_hash()));
    }

    #[test]
    fn code_digests_are_bound_to_secret_chat_and_email() {
        let d = auth_code_digest(b"k1", "chat", "a@x.io", 123456).unwrap();
        assert_eq!(d.len(), 64);
        assert_eq!(
            d,
            auth_code_digest(b"k1", "chat", "a@x.io", 123456).unwrap()
        );
        assert_ne!(
            d,
            auth_code_digest(b"k2", "chat", "a@x.io", 123456).unwrap()
        );
        assert_ne!(
            d,
            auth_code_digest(b"k1", "chat2", "a@x.io", 123456).unwrap()
        );
        assert_ne!(
            d,
            auth_code_digest(b"k1", "chat", "b@x.io", 123456).unwrap()
        );
        assert_ne!(
            d,
            auth_code_digest(b"k1", "chat", "a@x.io", 123457).unwrap()
        );
    }

    #[test]
    fn random_values_have_their_shape() {
        for _ in 0..1000 {
            assert!((100_000..=999_999).contains(&random_auth_code().unwrap()));
        }
        let a = random_token_string(16).unwrap();
        assert_eq!(a.len(), 16);
        assert_ne!(a, random_token_string(16).unwrap());
        assert!(
            constant_time_eq("abc", "abc")
                && !constant_time_eq("abc", "abd")
                && !constant_time_eq("abc", "ab")
        );
    }
}

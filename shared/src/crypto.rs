//! Secrets at rest and random values: argon2 for account passwords, keyed HMAC-SHA256
//! for auth codes, OS randomness for codes, chat passwords and token ids.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's baseline).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(format!("argon2 hash failed: {e}")))
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
    secret: &[u8],
    chat_id: &str,
    email: &str,
    code: u32,
) -> Result<String, ApiError> {
    // HMAC takes keys of any length: this cannot fail, but it is not a reason to panic.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .map_err(|_| ApiError::internal("the auth-code key was refused"))?;
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
pub fn source_tag(secret: &[u8], source: &str) -> Result<String, ApiError> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .map_err(|_| ApiError::internal("the source-tag key was refused"))?;
    mac.update(b"code-source\0");
    mac.update(source.as_bytes());
    let digest = mac.finalize().into_bytes();
    Ok(hex(&digest[..8]))
}

/// The token of an unread-message email's unsubscribe link: `<chat>.<chat user>.<mac>`,
/// a keyed HMAC bound to that purpose, so it unsubscribes this chat user from this chat's
/// emails and proves nothing else.
pub fn unsubscribe_token(
    secret: &[u8],
    chat_id: &str,
    chat_user_id: &str,
) -> Result<String, ApiError> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .map_err(|_| ApiError::internal("the unsubscribe key was refused"))?;
    mac.update(b"unsubscribe\0");
    mac.update(chat_id.as_bytes());
    mac.update(b"\0");
    mac.update(chat_user_id.as_bytes());
    Ok(format!(
        "{chat_id}.{chat_user_id}.{}",
        hex(&mac.finalize().into_bytes())
    ))
}

/// The (chat, chat user) of a genuine unsubscribe token.
pub fn verify_unsubscribe_token(secret: &[u8], token: &str) -> Option<(String, String)> {
    let mut parts = token.split('.');
    let (chat_id, chat_user_id) = (parts.next()?, parts.next()?);
    let expected = unsubscribe_token(secret, chat_id, chat_user_id).ok()?;
    constant_time_eq(&expected, token).then(|| (chat_id.to_owned(), chat_user_id.to_owned()))
}

/// Compares two secrets without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| ApiError::internal(format!("the OS random source failed: {e}")))?;
    Ok(buf)
}

/// A uniformly drawn 6-digit code in 100000..=999999 (rejection sampling, no modulo bias).
pub fn random_auth_code() -> Result<u32, ApiError> {
    const SPAN: u32 = 900_000;
    const LIMIT: u32 = u32::MAX - (u32::MAX % SPAN);
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>()?);
        if n < LIMIT {
            return Ok(100_000 + n % SPAN);
        }
    }
}

/// Random text from an alphabet without look-alike characters (no 0/O, 1/l/I).
pub fn random_token_string(len: usize) -> Result<String, ApiError> {
    const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    let limit = 256 - (256 % ALPHABET.len());
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random_bytes::<32>()? {
            if (byte as usize) < limit && out.len() < len {
                out.push(ALPHABET[byte as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_tokens_are_bound_to_their_chat_user() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let token = unsubscribe_token(secret, "C1", "U1").unwrap();
        assert_eq!(
            verify_unsubscribe_token(secret, &token),
            Some(("C1".into(), "U1".into()))
        );
        let forged = token.replacen("U1", "U2", 1);
        assert_eq!(verify_unsubscribe_token(secret, &forged), None);
        assert_eq!(
            verify_unsubscribe_token(b"another-secret-another-secret-xx", &token),
            None
        );
        assert_eq!(verify_unsubscribe_token(secret, "C1.U1"), None);
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

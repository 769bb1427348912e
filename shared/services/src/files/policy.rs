//! The upload slot's POST policy, signed here with SigV4 (see the parent module for why a
//! POST and not a PUT): pinned to one key, one `Content-Type` and one exact size.

use base64::Engine;
use domain::attachment::{ContentType, UPLOAD_VALID_SECS};
use domain::clock;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::json;
use sha2::Sha256;

use crate::ServiceError;

type HmacSha256 = Hmac<Sha256>;

/// A presigned upload: the client POSTs `fields`, then the file as the multipart `file`,
/// to `url` before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresignedPost {
    pub method: &'static str,
    pub url: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub expires_at: String,
}

/// What a POST policy is signed with.
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
}

/// What a slot is pinned to.
pub struct Slot<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub content_type: ContentType,
    pub size: u64,
}

/// `20261205T203000Z` and `20261205` of an instant.
fn amz_dates(at_ms: i64) -> (String, String) {
    let iso = clock::rfc3339(at_ms);
    let date_time: String = iso
        .chars()
        .take(19)
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let day = date_time.chars().take(8).collect();
    (format!("{date_time}Z"), day)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .map_err(|_| ServiceError::BadKey("HMAC refused the signing key"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SigV4 POST policy for one upload slot, signed at `now_ms`, valid
/// [`UPLOAD_VALID_SECS`]: only `slot.key`, only `Content-Type: slot.content_type`, and
/// exactly `slot.size` bytes (`content-length-range`), as S3 enforces.
pub fn post_policy(
    signer: &Signer<'_>,
    slot: &Slot<'_>,
    url: String,
    now_ms: i64,
) -> Result<PresignedPost, ServiceError> {
    let (amz_date, day) = amz_dates(now_ms);
    let credential = format!(
        "{}/{day}/{}/s3/aws4_request",
        signer.access_key_id, signer.region
    );
    let expires_at = clock::rfc3339(now_ms + UPLOAD_VALID_SECS * 1000);
    let mut conditions = vec![
        json!({ "bucket": slot.bucket }),
        json!({ "key": slot.key }),
        json!({ "Content-Type": slot.content_type.as_str() }),
        json!(["content-length-range", slot.size, slot.size]),
        json!({ "x-amz-algorithm": "AWS4-HMAC-SHA256" }),
        json!({ "x-amz-credential": credential }),
        json!({ "x-amz-date": amz_date }),
    ];
    if let Some(token) = signer.session_token {
        conditions.push(json!({ "x-amz-security-token": token }));
    }
    let policy = json!({ "expiration": expires_at, "conditions": conditions });
    let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let key = hmac_sha256(
        format!("AWS4{}", signer.secret_access_key).as_bytes(),
        day.as_bytes(),
    )?;
    let key = hmac_sha256(&key, signer.region.as_bytes())?;
    let key = hmac_sha256(&key, b"s3")?;
    let key = hmac_sha256(&key, b"aws4_request")?;
    let signature = hex(&hmac_sha256(&key, policy.as_bytes())?);
    let mut fields = serde_json::Map::new();
    let mut field = |name: &str, value: &str| {
        fields.insert(name.to_owned(), json!(value));
    };
    field("key", slot.key);
    field("Content-Type", slot.content_type.as_str());
    field("x-amz-algorithm", "AWS4-HMAC-SHA256");
    field("x-amz-credential", &credential);
    field("x-amz-date", &amz_date);
    if let Some(token) = signer.session_token {
        field("x-amz-security-token", token);
    }
    field("policy", &policy);
    field("x-amz-signature", &signature);
    Ok(PresignedPost {
        method: "POST",
        url,
        fields,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNER: Signer<'static> = Signer {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token: Some("session"),
        region: "eu-west-1",
    };

    fn slot() -> PresignedPost {
        post_policy(
            &SIGNER,
            &Slot {
                bucket: "files-bucket",
                key: "uploads/C/A",
                content_type: ContentType::Png,
                size: 1234,
            },
            "https://files-bucket.s3.eu-west-1.amazonaws.com/".into(),
            // 2026-12-05T20:30:00.000Z
            1_796_502_600_000,
        )
        .unwrap()
    }

    fn policy(post: &PresignedPost) -> serde_json::Value {
        let encoded = post.fields["policy"].as_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        serde_json::from_slice(&decoded).unwrap()
    }

    #[test]
    fn the_policy_pins_key_type_and_exact_size_for_ten_minutes() {
        let post = slot();
        let policy = policy(&post);
        assert_eq!(
            clock::rfc3339(1_796_502_600_000),
            "2026-12-05T20:30:00.000Z"
        );
        assert_eq!(policy["expiration"], "2026-12-05T20:40:00.000Z");
        assert_eq!(post.expires_at, "2026-12-05T20:40:00.000Z");
        let conditions = policy["conditions"].as_array().unwrap();
        assert!(conditions.contains(&json!({ "key": "uploads/C/A" })));
        assert!(conditions.contains(&json!({ "bucket": "files-bucket" })));
        assert!(conditions.contains(&json!({ "Content-Type": "image/png" })));
        assert!(conditions.contains(&json!(["content-length-range", 1234, 1234])));
        assert!(conditions.contains(&json!({ "x-amz-security-token": "session" })));
        assert!(conditions.contains(&json!({ "x-amz-date": "20261205T203000Z" })));
        assert!(conditions.contains(
            &json!({ "x-amz-credential": "AKIDEXAMPLE/20261205/eu-west-1/s3/aws4_request" })
        ));
        // Every field the client must send is one the policy names, with the same value.
        assert_eq!(post.fields["key"], "uploads/C/A");
        assert_eq!(post.fields["Content-Type"], "image/png");
        assert_eq!(post.fields["x-amz-date"], "20261205T203000Z");
        assert_eq!(post.method, "POST");
    }

    #[test]
    fn the_signature_is_sigv4_over_the_encoded_policy() {
        let post = slot();
        let policy = post.fields["policy"].as_str().unwrap();
        // The SigV4 key derivation, spelled out step by step.
        let k_date =
            hmac_sha256(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20261205").unwrap();
        let k_region = hmac_sha256(&k_date, b"eu-west-1").unwrap();
        let k_service = hmac_sha256(&k_region, b"s3").unwrap();
        let k_signing = hmac_sha256(&k_service, b"aws4_request").unwrap();
        let expected = hex(&hmac_sha256(&k_signing, policy.as_bytes()).unwrap());
        assert_eq!(post.fields["x-amz-signature"], expected.as_str());
        assert_eq!(expected.len(), 64);
        // Any other size is another policy, and another signature.
        let other = post_policy(
            &SIGNER,
            &Slot {
                bucket: "files-bucket",
                key: "uploads/C/A",
                content_type: ContentType::Png,
                size: 1235,
            },
            String::new(),
            1_796_502_600_000,
        )
        .unwrap();
        assert_ne!(
            other.fields["x-amz-signature"],
            post.fields["x-amz-signature"]
        );
    }

    #[test]
    fn the_hmac_is_rfc_4231s() {
        // RFC 4231, test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

//! The deployment's keys: where they live, one key per purpose, and which key signs or
//! verifies what.
//!
//! **Where.** The key material is in one Secrets Manager secret; a function's environment
//! holds only its id (`KEYS_SECRET_ID`), never a key. Its value is JSON:
//!
//! ```json
//! {"current": "<key material>", "previous": "<key material>", "previous_retired_at": "2026-11-26T06:00:00.000Z"}
//! ```
//!
//! `current` signs everything new. `previous`, with the time `chat-admin secret rotate`
//! retired it, still verifies what it signed for the rotation window (`KEY_ROTATION_WINDOW_SECS`,
//! by default the chat-user token lifetime), then nothing. The template generates the
//! first value (`{"current": "..."}`, see `KeysSecret`); rotations write the others.
//!
//! **Per purpose.** Each key version yields one key per [`Purpose`] (HKDF-SHA256 of the
//! material, the purpose's label as info), so the key of one use cannot forge another (a
//! chat-user token key makes no API token, an auth-code key no unsubscribe link). Its id
//! (`kid`) is derived the same way: it names the version in what it signed (the JWT
//! header, the stored code digest, the unsubscribe link) and tells nothing of the key.
//!
//! **When it is read.** An instance reads the secret once ([`Keys::load`], one
//! GetSecretValue, made by the first request that needs a key); functions that neither
//! sign nor verify never read it.
//! A warm instance reads it again when it meets a kid it does not know (a key rotated
//! after its start; at most once per [`UNKNOWN_KID_READ_INTERVAL`], so made-up kids cannot
//! turn requests into AWS calls), and when its copy is older than a quarter of the
//! window (at most [`MAX_KEYS_AGE`]): without that, an instance that only signs (the
//! unread-message emails) would sign with a retired key for as long as it lives, and an
//! emergency rotation would never reach it. A failed re-read keeps the keys it has.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::hkdf;
use serde::{Deserialize, Serialize};

use domain::clock;

use crate::ServiceError;
pub use crate::service_error::KeyError;

/// Key material shorter than this is refused: 32 bytes, HMAC-SHA256's full strength.
pub const MIN_MATERIAL_LEN: usize = 32;
/// The least time between two re-reads that unknown kids trigger.
pub const UNKNOWN_KID_READ_INTERVAL: Duration = Duration::from_secs(30);
/// The longest a warm instance keeps its copy of the keys without reading them again.
pub const MAX_KEYS_AGE: Duration = Duration::from_secs(3600);
/// A failed re-read is tried again after this long (or the maximum age, if shorter).
const RETRY_AFTER_FAILED_READ: Duration = Duration::from_secs(30);

/// What a key is for. Each has its own key, derived from the same material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Signs operators' API tokens (JWT HS256).
    ApiToken,
    /// Signs chat users' tokens (JWT HS256).
    ChatUserToken,
    /// Keys the HMAC under which auth codes are stored.
    AuthCode,
    /// Keys the HMAC of unread-message emails' unsubscribe links.
    Unsubscribe,
    /// Keys the tag of a caller's address that auth codes are kept under.
    SourceTag,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Purpose::ApiToken,
        Purpose::ChatUserToken,
        Purpose::AuthCode,
        Purpose::Unsubscribe,
        Purpose::SourceTag,
    ];

    /// The HKDF info: changing one changes that purpose's key (and invalidates what it
    /// signed), so these never change.
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::ApiToken => b"chat-api/api-token",
            Purpose::ChatUserToken => b"chat-api/chat-user-token",
            Purpose::AuthCode => b"chat-api/auth-code",
            Purpose::Unsubscribe => b"chat-api/unsubscribe",
            Purpose::SourceTag => b"chat-api/source-tag",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The HKDF info of the key id.
const KID_LABEL: &[u8] = b"chat-api/kid";
/// Binds every derived key to this scheme: other uses of the same material differ.
const HKDF_SALT: &[u8] = b"chat-api/keys/v1";
const KEY_LEN: usize = 32;
/// 8 bytes, 16 hex digits: ample to tell a handful of versions apart, and plain enough to
/// sit in a URL or an email without escaping.
const KID_LEN: usize = 8;

/// One key version: its id and one key per purpose.
pub struct KeyVersion {
    kid: String,
    keys: [[u8; KEY_LEN]; Purpose::ALL.len()],
}

impl std::fmt::Debug for KeyVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyVersion({}, <redacted>)", self.kid)
    }
}

/// `hkdf::Okm` wants its output length as a type.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl KeyVersion {
    /// The keys of one version of the material (as stored, at least 32 bytes).
    pub fn derive(material: &str) -> Result<Self, KeyError> {
        if material.len() < MIN_MATERIAL_LEN {
            return Err(KeyError::Malformed(
                "a key must be at least 32 characters long",
            ));
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(material.as_bytes());
        let expand = |label: &[u8], out: &mut [u8]| {
            let info = [label];
            prk.expand(&info, Len(out.len()))
                .and_then(|okm| okm.fill(out))
                .map_err(|_| KeyError::Derive)
        };
        let mut keys = [[0u8; KEY_LEN]; Purpose::ALL.len()];
        for purpose in Purpose::ALL {
            expand(purpose.label(), &mut keys[purpose.index()])?;
        }
        let mut kid = [0u8; KID_LEN];
        expand(KID_LABEL, &mut kid)?;
        Ok(Self {
            kid: kid.iter().map(|b| format!("{b:02x}")).collect(),
            keys,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn key(&self, purpose: Purpose) -> &[u8] {
        &self.keys[purpose.index()]
    }
}

/// The secret's value as stored. Only `chat-admin` writes it; [`KeyRing::parse`] reads it.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKeys {
    pub current: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// RFC 3339: when `previous` stopped signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_retired_at: Option<String>,
}

impl std::fmt::Debug for StoredKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKeys")
            .field("previous_retired_at", &self.previous_retired_at)
            .finish_non_exhaustive()
    }
}

impl StoredKeys {
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        // serde_json's error would quote the text around the fault: it stays out.
        serde_json::from_str(text).map_err(|_| {
            KeyError::Malformed("the value must be JSON with a \"current\" key (a string)")
        })
    }

    /// After a rotation: `new_material` signs, the current key retires at `now_ms` (and
    /// still verifies during the window) unless `discard_current`, which ends everything
    /// it signed at once (a key that leaked). The older previous key is dropped either way.
    pub fn rotated(&self, new_material: String, now_ms: i64, discard_current: bool) -> Self {
        let (previous, previous_retired_at) = if discard_current {
            (None, None)
        } else {
            (Some(self.current.clone()), Some(clock::rfc3339(now_ms)))
        };
        Self {
            current: new_material,
            previous,
            previous_retired_at,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Fresh key material: 64 characters from the OS CSPRNG (56 symbols, about 370 bits).
    pub fn new_material() -> Result<String, ServiceError> {
        crate::random::random_token_string(64)
    }
}

/// A retired version and until when it still verifies.
#[derive(Debug)]
struct Retired {
    version: Arc<KeyVersion>,
    valid_until_ms: i64,
}

/// The versions one instance knows: the current one, and the previous one while its
/// window lasts.
#[derive(Debug)]
pub struct KeyRing {
    current: Arc<KeyVersion>,
    previous: Option<Retired>,
}

impl KeyRing {
    /// Reads the secret's value; `window` is how long a retired version still verifies.
    pub fn parse(text: &str, window: Duration) -> Result<Self, KeyError> {
        let stored = StoredKeys::parse(text)?;
        let previous = match (&stored.previous, &stored.previous_retired_at) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(KeyError::Malformed(
                    "\"previous\" needs \"previous_retired_at\"",
                ));
            }
            (Some(material), Some(retired_at)) => {
                let retired_at_ms = clock::parse_rfc3339(retired_at).ok_or(KeyError::Malformed(
                    "\"previous_retired_at\" must be an RFC 3339 time",
                ))?;
                Some(Retired {
                    version: Arc::new(KeyVersion::derive(material)?),
                    valid_until_ms: retired_at_ms
                        .saturating_add(i64::try_from(window.as_millis()).unwrap_or(i64::MAX)),
                })
            }
        };
        Ok(Self {
            current: Arc::new(KeyVersion::derive(&stored.current)?),
            previous,
        })
    }

    /// The version that signs.
    pub fn current(&self) -> &Arc<KeyVersion> {
        &self.current
    }

    /// The version named `kid`, if it may verify at `now_ms`.
    pub fn find(&self, kid: &str, now_ms: i64) -> Option<&Arc<KeyVersion>> {
        if self.current.kid == kid {
            return Some(&self.current);
        }
        self.previous
            .as_ref()
            .filter(|retired| retired.version.kid == kid && now_ms < retired.valid_until_ms)
            .map(|retired| &retired.version)
    }

    /// The versions that may verify at `now_ms`: the current one first.
    pub fn verifying(&self, now_ms: i64) -> Vec<&Arc<KeyVersion>> {
        let previous = self
            .previous
            .as_ref()
            .filter(|retired| now_ms < retired.valid_until_ms)
            .map(|retired| &retired.version);
        std::iter::once(&self.current).chain(previous).collect()
    }

    /// Whether `kid` is one of its versions, even past its window.
    fn knows(&self, kid: &str) -> bool {
        self.current.kid == kid
            || self
                .previous
                .as_ref()
                .is_some_and(|retired| retired.version.kid == kid)
    }

    /// The kids it holds, for the logs.
    fn kids(&self) -> (String, Option<String>) {
        (
            self.current.kid.clone(),
            self.previous.as_ref().map(|r| r.version.kid.clone()),
        )
    }
}

/// Where a [`Keys`] reads its ring again.
enum Source {
    SecretsManager {
        client: aws_sdk_secretsmanager::Client,
        secret_id: String,
    },
    /// Keys given at construction (benchmarks, handler tests): nothing to re-read.
    Fixed,
    #[cfg(test)]
    Memory(Arc<Mutex<String>>),
}

struct State {
    ring: Arc<KeyRing>,
    /// When the copy is old enough to be read again.
    refresh_at: Instant,
    /// When an unknown kid may next make the instance read the secret.
    unknown_kid_read_at: Instant,
}

/// The keys of one instance: read at start-up, re-read as the module explains.
pub struct Keys {
    source: Source,
    window: Duration,
    max_age: Duration,
    state: Mutex<State>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

/// How long a copy of the keys is used before it is read again: a quarter of the window
/// (so what a stale copy signs with a just-retired key keeps most of its window), at
/// most [`MAX_KEYS_AGE`], at least a second.
pub fn max_age(window: Duration) -> Duration {
    (window / 4).clamp(Duration::from_secs(1), MAX_KEYS_AGE)
}

impl Keys {
    /// Reads the secret (the one GetSecretValue of a cold start).
    pub async fn load(
        client: aws_sdk_secretsmanager::Client,
        secret_id: String,
        window: Duration,
    ) -> Result<Self, KeyError> {
        let started = Instant::now();
        let source = Source::SecretsManager { client, secret_id };
        let ring = read(&source, window).await?;
        let (kid, previous_kid) = ring.kids();
        tracing::info!(
            kid,
            previous_kid,
            load_ms = started.elapsed().as_millis() as u64,
            "keys loaded"
        );
        Ok(Self::with_source(source, ring, window))
    }

    /// Keys that are never re-read (benchmarks, in-process tests).
    pub fn fixed(ring: KeyRing) -> Self {
        Self::with_source(Source::Fixed, ring, Duration::ZERO)
    }

    fn with_source(source: Source, ring: KeyRing, window: Duration) -> Self {
        let now = Instant::now();
        let max_age = max_age(window);
        Self {
            source,
            window,
            max_age,
            state: Mutex::new(State {
                ring: Arc::new(ring),
                refresh_at: now + max_age,
                unknown_kid_read_at: now,
            }),
        }
    }

    /// The version that signs now.
    pub async fn current(&self) -> Arc<KeyVersion> {
        Arc::clone(self.fresh_ring().await.current())
    }

    /// The versions that may verify now: the current one first.
    pub async fn verifying(&self) -> Vec<Arc<KeyVersion>> {
        let ring = self.fresh_ring().await;
        ring.verifying(clock::now_millis())
            .into_iter()
            .map(Arc::clone)
            .collect()
    }

    /// The version named `kid` if it may verify now. A kid this instance does not know
    /// makes it read the secret again (rate-limited): it may be a key rotated after the
    /// instance started.
    pub async fn find(&self, kid: &str) -> Option<Arc<KeyVersion>> {
        let ring = self.fresh_ring().await;
        if let Some(version) = ring.find(kid, clock::now_millis()) {
            return Some(Arc::clone(version));
        }
        // Known but retired past its window: reading again would not change that.
        if ring.knows(kid) {
            return None;
        }
        let due = self.claim(|state, now| {
            let due = now >= state.unknown_kid_read_at;
            if due {
                state.unknown_kid_read_at = now + UNKNOWN_KID_READ_INTERVAL;
            }
            due
        });
        if !due {
            return None;
        }
        self.reread("unknown kid").await;
        self.ring().find(kid, clock::now_millis()).map(Arc::clone)
    }

    /// The ring, read again first when this copy is older than its maximum age (for
    /// verifying too: a discarded key stops being trusted within that age).
    async fn fresh_ring(&self) -> Arc<KeyRing> {
        let retry_after = RETRY_AFTER_FAILED_READ.min(self.max_age);
        let due = self.claim(|state, now| {
            let due = now >= state.refresh_at;
            if due {
                state.refresh_at = now + retry_after;
            }
            due
        });
        if due {
            self.reread("age").await;
        }
        self.ring()
    }

    fn ring(&self) -> Arc<KeyRing> {
        Arc::clone(&self.lock().ring)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written (every
        // write is one assignment): the poisoned guard is still good.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a read is due, as `decide` says under the lock; it also books the read it
    /// allows, so concurrent requests do not all read. Fixed keys are never read.
    fn claim(&self, decide: impl FnOnce(&mut State, Instant) -> bool) -> bool {
        !matches!(self.source, Source::Fixed) && decide(&mut self.lock(), Instant::now())
    }

    async fn reread(&self, why: &'static str) {
        match read(&self.source, self.window).await {
            Ok(ring) => {
                let (kid, previous_kid) = ring.kids();
                tracing::info!(kid, previous_kid, why, "keys read again");
                let mut state = self.lock();
                state.ring = Arc::new(ring);
                state.refresh_at = Instant::now() + self.max_age;
            }
            // Keep serving with the keys at hand; `fresh_ring` tries again later.
            Err(err) => {
                tracing::warn!(error = %sdk::Chain(&err), why, "reading the keys again failed")
            }
        }
    }
}

async fn read(source: &Source, window: Duration) -> Result<KeyRing, KeyError> {
    let text = match source {
        Source::SecretsManager { client, secret_id } => secret_text(client, secret_id).await?,
        Source::Fixed => return Err(KeyError::Malformed("fixed keys are not read")),
        #[cfg(test)]
        Source::Memory(text) => text.lock().unwrap().clone(),
    };
    KeyRing::parse(&text, window)
}

/// The secret's current value (GetSecretValue).
async fn secret_text(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<String, KeyError> {
    client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|err| KeyError::Read {
            secret_id: secret_id.to_owned(),
            source: sdk::Failure::of(err),
        })?
        .secret_string
        .ok_or_else(|| KeyError::NoString {
            secret_id: secret_id.to_owned(),
        })
}

/// The secret's value as stored: for `chat-admin secret rotate` and the tests, which
/// handle the material itself (the functions only ever hold a [`KeyRing`]).
pub async fn read_stored(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<StoredKeys, KeyError> {
    StoredKeys::parse(&secret_text(client, secret_id).await?)
}

/// Writes `keys` as the secret's new current version (PutSecretValue; Secrets Manager
/// keeps the version before as AWSPREVIOUS).
pub async fn write_stored(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    keys: &StoredKeys,
) -> Result<(), KeyError> {
    client
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(keys.to_json())
        .send()
        .await
        .map_err(|err| KeyError::Write {
            secret_id: secret_id.to_owned(),
            source: sdk::Failure::of(err),
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "material-a-material-a-material-a-material-a";
    const B: &str = "material-b-material-b-material-b-material-b";
    const DAY: Duration = Duration::from_secs(24 * 3600);

    #[test]
    fn each_purpose_and_each_material_gets_its_own_key() {
        let a = KeyVersion::derive(A).unwrap();
        let mut seen: Vec<&[u8]> = Purpose::ALL.iter().map(|p| a.key(*p)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), Purpose::ALL.len(), "each purpose its own key");
        assert!(
            seen.iter()
                .all(|key| key.len() == 32 && *key != A.as_bytes())
        );
        let again = KeyVersion::derive(A).unwrap();
        assert_eq!(a.key(Purpose::AuthCode), again.key(Purpose::AuthCode));
        assert_eq!(a.kid(), again.kid());
        let b = KeyVersion::derive(B).unwrap();
        assert_ne!(a.kid(), b.kid());
        assert_eq!(a.kid().len(), 16);
        assert!(a.kid().bytes().all(|b| b.is_ascii_hexdigit()));
        for purpose in Purpose::ALL {
            assert_ne!(a.key(purpose), b.key(purpose));
        }
        assert!(matches!(
            KeyVersion::derive("short"),
            Err(KeyError::Malformed(_))
        ));
    }

    #[test]
    fn the_previous_key_verifies_only_during_its_window() {
        let now = clock::now_millis();
        let retired = StoredKeys {
            current: A.into(),
            previous: None,
            previous_retired_at: None,
        }
        .rotated(B.into(), now - 1000, false);
        let ring = KeyRing::parse(&retired.to_json(), DAY).unwrap();
        let (a, b) = (
            KeyVersion::derive(A).unwrap(),
            KeyVersion::derive(B).unwrap(),
        );
        assert_eq!(ring.current().kid(), b.kid());
        assert_eq!(ring.find(b.kid(), now).unwrap().kid(), b.kid());
        assert_eq!(ring.find(a.kid(), now).unwrap().kid(), a.kid());
        let after_window = now - 1000 + DAY.as_millis() as i64;
        assert!(ring.find(a.kid(), after_window).is_none());
        assert!(ring.find(b.kid(), after_window).is_some());
        assert!(ring.find("unknown-kid0", now).is_none());

        // A second rotation drops the oldest; discarding ends the current one at once.
        let twice = retired.rotated("material-c".repeat(4), now, false);
        let ring = KeyRing::parse(&twice.to_json(), DAY).unwrap();
        assert!(ring.find(a.kid(), now).is_none());
        assert!(ring.find(b.kid(), now).is_some());
        let discarded = twice.rotated("material-d".repeat(4), now, true);
        assert_eq!(discarded.previous, None);
        let ring = KeyRing::parse(&discarded.to_json(), DAY).unwrap();
        assert!(ring.find(b.kid(), now).is_none());
    }

    #[test]
    fn malformed_secrets_are_refused_without_quoting_them() {
        let window = DAY;
        for text in [
            "not json",
            "{}",
            r#"{"current": 5}"#,
            r#"{"current": "short"}"#,
            r#"{"current": "material-a-material-a-material-a-x", "previous": "material-b-material-b-material-b-x"}"#,
            r#"{"current": "material-a-material-a-material-a-x", "previous": "material-b-material-b-material-b-x", "previous_retired_at": "yesterday"}"#,
        ] {
            let err = KeyRing::parse(text, window).unwrap_err();
            assert!(!err.to_string().contains("material"), "{err}");
        }
        // As the template generates it: extra keys are ignored.
        let generated = format!(r#"{{"current": "{A}", "note": "x"}}"#);
        assert!(KeyRing::parse(&generated, window).is_ok());
        let stored = StoredKeys::parse(&generated).unwrap();
        assert!(!format!("{stored:?}").contains(A));
        assert!(!format!("{:?}", KeyVersion::derive(A).unwrap()).contains(A));
    }

    #[tokio::test]
    async fn an_unknown_kid_reads_the_secret_again_at_most_every_interval() {
        let value = Arc::new(Mutex::new(format!(r#"{{"current": "{A}"}}"#)));
        let source = Source::Memory(Arc::clone(&value));
        let ring = read(&source, DAY).await.unwrap();
        let keys = Keys::with_source(source, ring, DAY);
        let (a, b) = (
            KeyVersion::derive(A).unwrap(),
            KeyVersion::derive(B).unwrap(),
        );
        assert_eq!(keys.current().await.kid(), a.kid());

        // Rotated elsewhere: the first token under the new kid makes this instance read.
        let rotated = StoredKeys::parse(&value.lock().unwrap()).unwrap().rotated(
            B.into(),
            clock::now_millis(),
            false,
        );
        *value.lock().unwrap() = rotated.to_json();
        assert_eq!(keys.find(b.kid()).await.unwrap().kid(), b.kid());
        assert_eq!(keys.find(a.kid()).await.unwrap().kid(), a.kid());
        assert_eq!(keys.current().await.kid(), b.kid());

        // Another rotation right after: the new kid waits for the interval to pass.
        let c = "material-c".repeat(4);
        let again = rotated.rotated(c.clone(), clock::now_millis(), false);
        *value.lock().unwrap() = again.to_json();
        let c_kid = KeyVersion::derive(&c).unwrap().kid().to_owned();
        assert!(keys.find(&c_kid).await.is_none());
        keys.lock().unknown_kid_read_at = Instant::now();
        assert!(keys.find(&c_kid).await.is_some());

        // Fixed keys never read anything.
        let fixed = Keys::fixed(KeyRing::parse(&format!(r#"{{"current": "{A}"}}"#), DAY).unwrap());
        assert!(fixed.find(b.kid()).await.is_none());
        assert_eq!(fixed.current().await.kid(), a.kid());
    }

    #[test]
    fn copies_are_read_again_within_a_quarter_of_the_window() {
        assert_eq!(max_age(Duration::from_secs(20)), Duration::from_secs(5));
        assert_eq!(max_age(30 * DAY), MAX_KEYS_AGE);
        assert_eq!(max_age(Duration::ZERO), Duration::from_secs(1));
    }
}

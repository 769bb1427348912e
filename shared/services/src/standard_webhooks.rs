//! Webhooks as the Standard Webhooks specification defines them (<https://www.standardwebhooks.com>):
//! the signing secret, the signature header, the body, the retry schedule, and which
//! targets may be called at all.
//!
//! - The secret is `whsec_` + base64 of 32 random bytes; the HMAC key is the decoded bytes.
//! - `webhook-signature` is `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per
//!   secret, separated by spaces: during a rotation both secrets sign, so a receiver that
//!   still holds the old one keeps verifying.
//! - The body is the domain's `webhook::Payload`: `{type, timestamp, data}`, `data` the
//!   log event as the owner sees it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::webhook::SigningSecret;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::ServiceError;
use crate::random::random_key;

const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` + base64 of 32 random bytes.
pub fn generate_secret() -> Result<SigningSecret, ServiceError> {
    let key = random_key()?;
    Ok(SigningSecret::new(format!(
        "{SECRET_PREFIX}{}",
        STANDARD.encode(key)
    )))
}

/// `v1,<signature>` of one message under `secret` (the HMAC key is the decoded bytes).
pub fn sign(
    secret: &SigningSecret,
    message_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, ServiceError> {
    let text = secret.expose();
    let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| ServiceError::BadKey("a stored webhook secret is not base64"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| ServiceError::BadKey("a webhook secret is not a valid HMAC key"))?;
    mac.update(format!("{message_id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret (the current one first).
pub fn signature_header(
    secrets: &[&SigningSecret],
    message_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, ServiceError> {
    let signatures = secrets
        .iter()
        .map(|secret| sign(secret, message_id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

/// When failed deliveries are tried again: the delay after the 1st, 2nd, … failed
/// attempt; after the last one the delivery is given up (dead-letter queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    /// About a day in all: 5 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h.
    fn default() -> Self {
        Self(
            [5, 60, 300, 1800, 7200, 21_600, 43_200]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl RetrySchedule {
    /// `5s,1m,5m,30m,2h`: whole numbers with `s`, `m` or `h`.
    pub fn parse(text: &str) -> Option<Self> {
        let delays = text
            .split(',')
            .map(|part| {
                let part = part.trim();
                let (number, unit) = part.split_at(part.len().checked_sub(1)?);
                let n: u64 = number.parse().ok()?;
                let secs = match unit {
                    "s" => n,
                    "m" => n * 60,
                    "h" => n * 3600,
                    _ => return None,
                };
                (secs > 0).then(|| Duration::from_secs(secs))
            })
            .collect::<Option<Vec<_>>>()?;
        (!delays.is_empty()).then_some(Self(delays))
    }

    /// The wait before attempt `attempts + 1`, after `attempts` failed ones; `None` when
    /// the delivery is given up.
    pub fn delay_after(&self, attempts: u32) -> Option<Duration> {
        let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
        self.0.get(index).copied()
    }

    /// The one duration of a schedule that has only one (a setting such as "24h").
    pub fn single(&self) -> Option<Duration> {
        match self.0.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Attempts in all: the first one and one per delay.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.0.len() + 1).unwrap_or(u32::MAX)
    }
}

/// A retry delay with jitter: a uniformly drawn 80–120 % of it, so the retries of many
/// deliveries that failed together (a receiver's outage) do not return together.
pub fn jittered(delay: Duration) -> Duration {
    let mut byte = [0u8; 2];
    let draw = match getrandom::fill(&mut byte) {
        Ok(()) => f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX),
        Err(_) => 0.5,
    };
    delay.mul_f64(0.8 + 0.4 * draw)
}

/// Which addresses a webhook may be delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    /// Production: `https` only, to public addresses only.
    Public,
    /// The local stack (`WEBHOOK_ALLOW_LOOPBACK=true`): also `http://127.0.0.1:<port>`,
    /// where the tests' receivers listen. Nothing else private.
    PublicAndLoopback,
}

/// Why a webhook URL is refused; the text is the field error shown to the owner.
pub const REFUSED_URL: &str = "The url must be an https URL of a public host (no credentials, no private, loopback or link-local address).";

/// Checks a URL as far as it can be checked without resolving its host: scheme, shape,
/// and an address literal's kind. Names are checked again when the delivery resolves
/// them (see [`Targets::allows`]).
pub fn check_url(text: &str, targets: Targets) -> Result<url::Url, &'static str> {
    let url = url::Url::parse(text.trim()).map_err(|_| REFUSED_URL)?;
    if text.len() > 2000 || !url.username().is_empty() || url.password().is_some() {
        return Err(REFUSED_URL);
    }
    let loopback_literal =
        matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip == Ipv4Addr::LOCALHOST);
    let scheme_ok = match url.scheme() {
        "https" => true,
        "http" => targets == Targets::PublicAndLoopback && loopback_literal,
        _ => false,
    };
    let host_ok = match url.host() {
        Some(url::Host::Ipv4(ip)) => targets.allows(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => targets.allows(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            // Names that always mean this machine or a cloud's metadata service.
            name.contains('.')
                && name != "localhost"
                && !name.ends_with(".localhost")
                && !name.ends_with(".internal")
        }
        None => false,
    };
    if scheme_ok && host_ok {
        Ok(url)
    } else {
        Err(REFUSED_URL)
    }
}

impl Targets {
    /// Whether a resolved address may be connected to.
    pub fn allows(self, ip: IpAddr) -> bool {
        is_public(ip)
            || (self == Targets::PublicAndLoopback && ip == IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

/// A globally routable unicast address: not loopback, private, shared, link-local (the
/// cloud metadata service is 169.254.169.254), documentation, benchmarking, multicast or
/// reserved; IPv6 forms that embed an IPv4 address are judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 88 && c == 99) // the 6to4 relay anycast (deprecated)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Global unicast (2000::/3) and nothing IANA marks as not globally reachable in it; the
/// forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that address.
/// Outside 2000::/3 nothing is public: unique local, site-local (fec0::/10), link-local,
/// discard (100::/64), IPv4-compatible and IPv4-translated (::ffff:0:0/96) among them.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let embedded_v4 =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if segments[..6] == [0x0064, 0xff9b, 0, 0, 0, 0] {
        // NAT64 reaches the IPv4 address it carries.
        return is_public_v4(embedded_v4(segments[6], segments[7]));
    }
    if segments[0] == 0x2002 {
        // 6to4, likewise.
        return is_public_v4(embedded_v4(segments[1], segments[2]));
    }
    let global_unicast = (segments[0] & 0xe000) == 0x2000;
    global_unicast
        && !(segments[0] == 0x2001 && segments[1] < 0x0200) // IETF protocol assignments (Teredo, benchmarking, ORCHID)
        && !(segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        && !(segments[0] == 0x3fff && segments[1] < 0x1000) // documentation (3fff::/20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_specification_example() {
        // The example of the Standard Webhooks specification.
        let secret = SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let body = r#"{"test": 2432232314}"#;
        let signature = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn every_secret_signs_during_a_rotation() {
        let (old, new) = (generate_secret().unwrap(), generate_secret().unwrap());
        let header = signature_header(&[&new, &old], "id", 1, "{}").unwrap();
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&new, "id", 1, "{}").unwrap());
        assert_eq!(parts[1], sign(&old, "id", 1, "{}").unwrap());
        assert!(!format!("{new:?}").contains(new.expose()));
    }

    #[test]
    fn the_schedule_reads_units_and_ends() {
        let schedule = RetrySchedule::parse("1s, 2m,3h").unwrap();
        assert_eq!(schedule.delay_after(1), Some(Duration::from_secs(1)));
        assert_eq!(schedule.delay_after(2), Some(Duration::from_secs(120)));
        assert_eq!(schedule.delay_after(3), Some(Duration::from_secs(3 * 3600)));
        assert_eq!(schedule.delay_after(4), None);
        assert_eq!(schedule.attempts(), 4);
        for bad in ["", "5", "5d", "0s", "x,1s"] {
            assert_eq!(RetrySchedule::parse(bad), None, "{bad}");
        }
        let day: Duration = RetrySchedule::default().0.iter().sum();
        assert!(day > Duration::from_secs(20 * 3600) && day < Duration::from_secs(24 * 3600));
    }

    #[test]
    fn only_public_https_targets_in_production() {
        for ok in [
            "https://hooks.example.com/in",
            "https://93.184.215.14:8443/x?y=1",
        ] {
            assert!(check_url(ok, Targets::Public).is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.example.com/in",
            "https://127.0.0.1/",
            "http://127.0.0.1:8080/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[fd00::1]/",
            "https://[::ffff:0:a9fe:a9fe]/",
            "https://[fec0::1]/",
            "https://[2001::a9fe:a9fe]/",
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            "https://[100::1]/",
            "https://192.88.99.1/",
            "https://[3fff::1]/",
            "https://localhost/",
            "https://metadata.google.internal/",
            "https://user:pw@hooks.example.com/",
            "ftp://hooks.example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, Targets::Public).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_local_allowance_is_loopback_only() {
        assert!(check_url("http://127.0.0.1:8080/hook", Targets::PublicAndLoopback).is_ok());
        for bad in [
            "http://10.0.0.1/",
            "http://localhost:8080/",
            "http://169.254.169.254/",
        ] {
            assert!(check_url(bad, Targets::PublicAndLoopback).is_err(), "{bad}");
        }
        assert!(Targets::PublicAndLoopback.allows("127.0.0.1".parse().unwrap()));
        assert!(!Targets::Public.allows("127.0.0.1".parse().unwrap()));
        assert!(!Targets::PublicAndLoopback.allows("192.168.1.1".parse().unwrap()));
        assert!(!is_public("64:ff9b::a00:1".parse().unwrap()));
        assert!(!is_public("2002:a00:1::".parse().unwrap()));
        assert!(is_public("2606:4700::1111".parse().unwrap()));
        assert!(is_public("2a00:1450:4001::200e".parse().unwrap()));
        assert!(is_public("64:ff9b::5db8:d70e".parse().unwrap())); // NAT64 of a public v4
        assert!(!is_public("fec0::1".parse().unwrap()));
        assert!(!is_public("100::1".parse().unwrap()));
        assert!(!is_public("100.64.0.1".parse().unwrap()));
    }
}

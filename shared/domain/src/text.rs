//! The values requests carry, parsed into types: text fields (names, emails, bodies, …)
//! and the few numbers with a meaning (an auth code, an event `seq`, minutes, days).
//! Each `parse` takes the field's name for its message, which the edge shows under that
//! field in a 422; a handler only ever sees the typed value.

use crate::events::EventType;

fn char_len_between(field: &str, text: &str, min: usize, max: usize) -> Result<(), String> {
    let len = text.chars().count();
    if len < min {
        Err(format!(
            "The {field} field must be at least {min} characters."
        ))
    } else if len > max {
        Err(format!(
            "The {field} field must not be greater than {max} characters."
        ))
    } else {
        Ok(())
    }
}

/// A newtype over `String`, with `parse(field, text)`, `as_str` and `into_inner`.
macro_rules! text {
    ($(#[$meta:meta])* $name:ident, |$field:ident, $text:ident| $parse:block) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The value of the field `field`, or the message shown under it.
            pub fn parse($field: &str, $text: &str) -> Result<Self, String> {
                $parse
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }
    };
}

text!(
    /// A display name: 1–255 characters after trimming, stored trimmed, with no control
    /// character (newlines, NUL, …) and none that reorders or hides text around it
    /// ([`is_deceptive`]). Message bodies keep theirs: clients render them as text.
    Name,
    |field, text| {
        let trimmed = text.trim();
        char_len_between(field, trimmed, 1, 255)?;
        if trimmed.chars().any(|c| c.is_control() || is_deceptive(c)) {
            return Err(format!(
                "The {field} field must not hold control characters, direction overrides or invisible spaces."
            ));
        }
        Ok(Name(trimmed.to_owned()))
    }
);

text!(
    /// An attachment's file name as the uploader gave it: 1–255 characters, no path
    /// separator, no control character or direction override (a `.exe` shown as `.pdf`),
    /// not `.` or `..`. It is only ever shown (and sent as the download's file name),
    /// never used as a key.
    Filename,
    |field, text| {
        let len = text.chars().count();
        if len == 0 || len > 255 {
            return Err(format!("The {field} must be 1 to 255 characters."));
        }
        if text
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || is_deceptive(c))
        {
            return Err(format!(
                "The {field} must not hold path separators, control characters or direction overrides."
            ));
        }
        if text.trim().is_empty() || text == "." || text == ".." {
            return Err(format!("The {field} must name a file."));
        }
        Ok(Filename(text.to_owned()))
    }
);

/// A character that reorders the text around it or hides in it: the bidirectional
/// embeddings, overrides and isolates (a name shown as "Support" that reads otherwise),
/// the direction marks, and the zero-width space and its kin. The zero-width (non-)joiners
/// stay: emoji sequences and Persian names need them.
pub fn is_deceptive(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' // embeddings and overrides
            | '\u{2066}'..='\u{2069}' // isolates
            | '\u{200E}' | '\u{200F}' | '\u{061C}' // direction marks
            | '\u{200B}' | '\u{2060}' | '\u{FEFF}' // zero-width space, word joiner, BOM
            | '\u{00AD}' // soft hyphen
    )
}

text!(
    /// An email address: trimmed, lower-cased, syntactically valid, at most 254 characters.
    Email,
    |field, text| {
        Email::normalized(text)
            .ok_or_else(|| format!("The {field} field must be a valid email address."))
    }
);

impl Email {
    /// The address, trimmed and lower-cased, if it is one.
    pub fn normalized(text: &str) -> Option<Self> {
        let email = text.trim().to_lowercase();
        if email.len() > 254 {
            return None;
        }
        let (local, domain) = email.rsplit_once('@')?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        (local_ok && domain_ok).then_some(Email(email))
    }
}

text!(
    /// A company website: an absolute http(s) URL, at most 255 characters.
    Website,
    |field, text| {
        let url = text.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
        let valid = url.len() <= 255
            && !url.chars().any(char::is_whitespace)
            && host.is_some_and(|h| h.contains('.') && !h.starts_with('.') && !h.ends_with('.'));
        if valid {
            Ok(Website(url.to_owned()))
        } else {
            Err(format!("The {field} field must be a valid URL (http or https)."))
        }
    }
);

text!(
    /// A URL as sent, before the checks that depend on where it is deployed (see the
    /// services' `standard_webhooks::check_url`).
    UrlText,
    |field, text| {
        char_len_between(field, text.trim(), 1, 2000)?;
        Ok(UrlText(text.trim().to_owned()))
    }
);

text!(
    /// A chat description: up to 2000 characters, stored as sent.
    Description,
    |field, text| {
        char_len_between(field, text, 0, 2000)?;
        Ok(Description(text.to_owned()))
    }
);

text!(
    /// A chat password set by the owner: 8–128 characters, stored as sent, and not one a
    /// guesser tries early (30,000 common passwords, swapped characters, runs, keyboard
    /// walks, repeats, short numbers: see [`crate::guessable`]). Online guessing is
    /// throttled besides (see `chat-users`).
    ChatPassword,
    |field, text| {
        char_len_between(field, text, 8, 128)?;
        if crate::guessable::is_guessable(text) {
            return Err(format!(
                "The {field} is too easy to guess: use a few uncommon words, or let the share endpoint generate one."
            ));
        }
        Ok(ChatPassword(text.to_owned()))
    }
);

text!(
    /// A new account's password (accepting an invitation): 8–128 characters, and not
    /// one a guesser tries early (see [`crate::guessable`]).
    AccountPassword,
    |field, text| {
        char_len_between(field, text, 8, 128)?;
        if crate::guessable::is_guessable(text) {
            return Err(format!(
                "The {field} is too easy to guess: use a few uncommon words."
            ));
        }
        Ok(AccountPassword(text.to_owned()))
    }
);

text!(
    /// An invitation's code as presented: 16–64 letters and digits (a wrong one is
    /// "invalid", whatever its shape).
    InvitationCode,
    |field, text| {
        let text = text.trim();
        if !(16..=64).contains(&text.len()) || !text.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("The {field} is invalid or has expired."));
        }
        Ok(InvitationCode(text.to_owned()))
    }
);

text!(
    /// A password presented for checking (login or joining a chat): never validated for
    /// shape beyond a sane length, so a wrong one is "wrong", not "invalid".
    PresentedPassword,
    |field, text| {
        char_len_between(field, text, 1, 1024)?;
        Ok(PresentedPassword(text.to_owned()))
    }
);

text!(
    /// A message body: not blank, at most 5000 characters as stored (exactly as sent,
    /// spaces included: the limit bounds what is kept, not what is visible).
    MessageBody,
    |field, text| {
        if text.trim().is_empty() {
            return Err(format!("The {field} field is required."));
        }
        char_len_between(field, text, 1, 5000)?;
        Ok(MessageBody(text.to_owned()))
    }
);

text!(
    /// A client-chosen idempotency key for a message: 1–64 characters.
    ClientId,
    |field, text| {
        char_len_between(field, text, 1, 64)?;
        Ok(ClientId(text.to_owned()))
    }
);

/// The 6-digit auth code a guest presents (100000–999999, so it survives being sent as a
/// number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthCode(u32);

impl AuthCode {
    pub fn parse(field: &str, code: u64) -> Result<Self, String> {
        match u32::try_from(code) {
            Ok(c) if (100_000..=999_999).contains(&c) => Ok(AuthCode(c)),
            _ => Err(format!("The {field} field must be a 6-digit code.")),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// An event `seq` a client names (a read marker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seq(u64);

impl Seq {
    pub fn new(seq: u64) -> Self {
        Self(seq)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// Minutes before unread messages are emailed: 0 (never) to 1440 (a day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadEmailMinutes(u32);

impl UnreadEmailMinutes {
    pub fn parse(field: &str, minutes: u64) -> Result<Self, String> {
        u32::try_from(minutes)
            .ok()
            .filter(|m| *m <= 1440)
            .map(UnreadEmailMinutes)
            .ok_or_else(|| {
                format!("The {field} field must be a whole number of minutes from 0 (off) to 1440.")
            })
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A company's message retention in days, 1 to 3650 (`null` keeps messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays(u32);

impl RetentionDays {
    pub fn parse(field: &str, days: u64) -> Result<Self, String> {
        u32::try_from(days)
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .map(RetentionDays)
            .ok_or_else(|| {
                format!("The {field} field must be a whole number of days from 1 to 3650, or null to keep messages.")
            })
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// How long a new API token lives, in seconds: 60 to 30 days (a console signs in with
/// short-lived tokens). Without it a token lives until revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiresIn(u32);

impl ExpiresIn {
    pub const MIN_SECS: u64 = 60;
    pub const MAX_SECS: u64 = 30 * 24 * 3600;

    pub fn parse(field: &str, secs: u64) -> Result<Self, String> {
        u32::try_from(secs)
            .ok()
            .filter(|s| (Self::MIN_SECS..=Self::MAX_SECS).contains(&u64::from(*s)))
            .map(ExpiresIn)
            .ok_or_else(|| {
                format!(
                    "The {field} field must be a whole number of seconds from {} to {} (30 days).",
                    Self::MIN_SECS,
                    Self::MAX_SECS
                )
            })
    }

    pub fn secs(self) -> i64 {
        i64::from(self.0)
    }
}

/// The most origins a company may allow.
pub const MAX_ALLOWED_ORIGINS: usize = 20;

/// One exact browser origin a company allows to call its routes (CORS), as a browser
/// sends it in `Origin`: `https://host[:port]`, or `http://localhost:PORT` /
/// `http://127.0.0.1:PORT` for local development. Lowercase, no path, no trailing
/// slash, no wildcard; a default port (`:443`) is refused, since a browser never sends it
/// and the entry would match nothing.
fn origin(text: &str) -> Result<String, &'static str> {
    const SHAPE: &str = "must be https://host[:port], or http://localhost:PORT or http://127.0.0.1:PORT, with no path or trailing slash";
    if text != text.to_ascii_lowercase() {
        return Err("must be lowercase (browsers send origins in lowercase)");
    }
    let (secure, rest) = if let Some(rest) = text.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(SHAPE);
    };
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(SHAPE);
    }
    let port = match port {
        None => None,
        Some(digits) => {
            let number = digits
                .parse::<u16>()
                .ok()
                .filter(|p| {
                    *p > 0 && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
                })
                .ok_or(SHAPE)?;
            Some(number)
        }
    };
    match (secure, port) {
        (true, Some(443)) => Err("must leave out the default port :443"),
        (true, _) => Ok(text.to_owned()),
        (false, Some(_)) if host == "localhost" || host == "127.0.0.1" => Ok(text.to_owned()),
        (false, _) => {
            Err("must use https:// (plain http only for localhost or 127.0.0.1 with a port)")
        }
    }
}

/// A company's `allowed_origins`: at most [`MAX_ALLOWED_ORIGINS`] exact origins (see
/// [`origin`]), in the order given, repeats removed. An empty list allows none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// The entries of the list (`None` for an entry that is not a string), or the
    /// message shown under the field, naming the first bad entry.
    pub fn parse<'a>(
        field: &str,
        entries: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Result<Self, String> {
        let mut origins: Vec<String> = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let text = entry.ok_or_else(|| format!("The {field} entry {i} must be a string."))?;
            let origin =
                origin(text).map_err(|why| format!("The {field} entry {i} ({text:?}) {why}."))?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        if origins.len() > MAX_ALLOWED_ORIGINS {
            return Err(format!(
                "The {field} field may hold at most {MAX_ALLOWED_ORIGINS} origins."
            ));
        }
        Ok(AllowedOrigins(origins))
    }

    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

/// A non-empty list of event types, without repeats (what a webhook subscribes to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTypes(Vec<EventType>);

impl EventTypes {
    /// The types named, in order and without repeats; the message when a name is not an
    /// event type or there is none.
    pub fn parse<'a>(
        field: &str,
        names: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Result<Self, String> {
        let invalid = || {
            let all: Vec<&str> = EventType::ALL.iter().map(|t| t.name()).collect();
            format!(
                "The {field} field must be a non-empty list of event types: {}.",
                all.join(", ")
            )
        };
        let mut types = Vec::new();
        for name in names {
            let kind = name.and_then(EventType::from_name).ok_or_else(invalid)?;
            if !types.contains(&kind) {
                types.push(kind);
            }
        }
        if types.is_empty() {
            return Err(invalid());
        }
        Ok(EventTypes(types))
    }

    pub fn into_inner(self) -> Vec<EventType> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_names_not_paths() {
        assert!(Filename::parse("filename", "report 2026.pdf").is_ok());
        for bad in [
            "",
            "../etc/passwd",
            "a\\b",
            "a\nb",
            "..",
            "   ",
            "evil\u{202E}fdp.exe",
        ] {
            assert!(Filename::parse("filename", bad).is_err(), "{bad:?}");
        }
        assert!(Filename::parse("filename", &"x".repeat(256)).is_err());
    }

    #[test]
    fn allowed_origins_are_exact_lowercase_origins_without_repeats() {
        let parse = |items: &[&str]| {
            AllowedOrigins::parse("allowed_origins", items.iter().map(|i| Some(*i)))
        };
        let good = parse(&[
            "https://shop.example",
            "https://shop.example:8443",
            "http://localhost:5173",
            "http://127.0.0.1:8080",
            "https://shop.example",
        ])
        .unwrap()
        .into_inner();
        assert_eq!(good.len(), 4, "the repeat is dropped: {good:?}");
        for bad in [
            "https://shop.example/",
            "https://shop.example/path",
            "https://Shop.example",
            "HTTPS://shop.example",
            "http://shop.example",
            "http://localhost",
            "https://*.example",
            "*",
            "shop.example",
            "https://shop.example:443",
            "https://shop.example:0",
            "https://shop.example:99999",
            "https://user@shop.example",
            "https://shop.example?x=1",
            "https://shop..example",
            "https://-shop.example",
            "",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad:?}");
        }
        let many: Vec<String> = (0..=MAX_ALLOWED_ORIGINS)
            .map(|i| format!("https://s{i}.example"))
            .collect();
        assert!(AllowedOrigins::parse("o", many.iter().map(|s| Some(s.as_str()))).is_err());
        assert!(AllowedOrigins::parse("o", [None]).is_err());
        let message = parse(&["https://ok.example", "https://x.example/"]).unwrap_err();
        assert!(message.contains("entry 1"), "{message}");
    }

    #[test]
    fn token_lifetimes_are_one_minute_to_thirty_days() {
        assert!(ExpiresIn::parse("expires_in", 59).is_err());
        assert_eq!(ExpiresIn::parse("expires_in", 60).unwrap().secs(), 60);
        assert!(ExpiresIn::parse("expires_in", 2_592_000).is_ok());
        assert!(ExpiresIn::parse("expires_in", 2_592_001).is_err());
        assert!(ExpiresIn::parse("expires_in", u64::MAX).is_err());
    }

    #[test]
    fn names_refuse_controls_overrides_and_invisible_spaces() {
        for bad in [
            "Support\u{202E}moc.live",
            "a\u{0}b",
            "two\nlines",
            "tab\there",
            "zero\u{200B}width",
            "\u{2067}isolated",
            "mark\u{200F}",
        ] {
            assert!(Name::parse("name", bad).is_err(), "{bad:?}");
        }
        for good in [
            "Ann",
            "  Ann Lee ",
            "José",
            "👨\u{200D}👩\u{200D}👧 family",
            "می\u{200C}خواهم",
            "שלום",
        ] {
            assert!(Name::parse("name", good).is_ok(), "{good:?}");
        }
        // Bodies keep what they were sent.
        assert!(MessageBody::parse("body", "see\u{202E}this\nand that").is_ok());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::normalized("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.io",
            "ann@localhost",
            "a b@x.io",
            "ann@x..io",
            "ann@-x.io",
        ] {
            assert!(Email::normalized(bad).is_none(), "{bad} should be invalid");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::normalized(&long).is_none());
    }

    #[test]
    fn message_bodies_keep_their_exact_text() {
        let body = MessageBody::parse("body", "  héllo 👋 שלום  ").unwrap();
        assert_eq!(body.as_str(), "  héllo 👋 שלום  ");
        assert!(MessageBody::parse("body", "   ").is_err());
        assert!(MessageBody::parse("body", &"é".repeat(5000)).is_ok());
        assert!(MessageBody::parse("body", &"é".repeat(5001)).is_err());
        for weak in [
            "aaaaaaaa",
            "        ",
            "password1",
            "12345678",
            "qwertyuiop",
        ] {
            assert!(ChatPassword::parse("password", weak).is_err(), "{weak}");
        }
        for fine in [
            "kettle-club-2026",
            "kettle-orbit-lantern",
            "copper lantern orbit",
        ] {
            assert!(ChatPassword::parse("password", fine).is_ok(), "{fine}");
        }
        // What is stored counts, not what is visible.
        let padded = format!("a{}", " ".repeat(60_000));
        assert!(MessageBody::parse("body", &padded).is_err());
    }

    #[test]
    fn auth_codes_have_six_digits() {
        assert_eq!(AuthCode::parse("c", 123456).unwrap().get(), 123456);
        assert!(AuthCode::parse("c", 99999).is_err());
        assert!(AuthCode::parse("c", 1_000_000).is_err());
    }

    #[test]
    fn event_types_are_named_once_each() {
        let types = EventTypes::parse("events", [Some("message.created"), Some("message.created")])
            .unwrap();
        assert_eq!(types.into_inner(), vec![EventType::MessageCreated]);
        assert!(EventTypes::parse("events", [Some("message.shouted")]).is_err());
        assert!(EventTypes::parse("events", [None]).is_err());
        assert!(EventTypes::parse("events", []).is_err());
    }
}

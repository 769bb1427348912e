//! Parse, don't validate: request fields become typed values here, at the edge, or the
//! request is a 422 naming every bad field. Handlers only ever see the typed values.

use serde_json::Value;

use crate::error::{ApiError, FieldErrors};
use crate::http::Input;

/// A value that can be read from one request field (JSON or form).
pub trait FromField: Sized {
    /// Parses the value of `field`; the error is the message shown for that field.
    fn from_field(field: &str, value: &Value) -> Result<Self, String>;
}

/// Collects field errors while a handler reads its input, then reports them together.
pub struct Fields<'a> {
    input: &'a Input,
    errors: FieldErrors,
}

impl<'a> Fields<'a> {
    pub fn new(input: &'a Input) -> Self {
        Self {
            input,
            errors: FieldErrors::new(),
        }
    }

    /// A field that must be present and valid.
    pub fn required<T: FromField>(&mut self, field: &str) -> Option<T> {
        match self.input.get(field) {
            None | Some(Value::Null) => {
                self.errors
                    .add(field, format!("The {field} field is required."));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.errors
                    .add(field, format!("The {field} field is required."));
                None
            }
            Some(value) => self.parse(field, value),
        }
    }

    /// A field that may be absent (or null); present means it must be valid.
    pub fn optional<T: FromField>(&mut self, field: &str) -> Option<T> {
        match self.input.get(field) {
            None | Some(Value::Null) => None,
            Some(value) => self.parse(field, value),
        }
    }

    /// For partial updates: absent → `None` (leave as is), null → `Some(None)` (clear),
    /// a value → `Some(Some(v))`. An empty string from a form also clears.
    pub fn nullable<T: FromField>(&mut self, field: &str) -> Option<Option<T>> {
        match self.input.get(field) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.is_empty() => Some(None),
            Some(value) => self.parse(field, value).map(Some),
        }
    }

    /// For partial updates of a non-nullable field: absent → `None`.
    pub fn present<T: FromField>(&mut self, field: &str) -> Option<T> {
        if self.input.contains(field) {
            self.required(field)
        } else {
            None
        }
    }

    fn parse<T: FromField>(&mut self, field: &str, value: &Value) -> Option<T> {
        match T::from_field(field, value) {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.add(field, message);
                None
            }
        }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.add(field, message);
    }

    /// `Ok` when every field read so far was valid.
    pub fn finish(self) -> Result<(), ApiError> {
        self.errors.into_result()
    }

    /// The typed input, once every field read was valid: `build` assembles it from the
    /// values read (`None` only if a required field was missing, which is a 422 then).
    pub fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        self.errors.into_result()?;
        // Every required field that came back `None` added its error: not reached.
        build().ok_or_else(|| ApiError::internal("a required field was missing without an error"))
    }
}

fn expect_str<'v>(field: &str, value: &'v Value) -> Result<&'v str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("The {field} field must be a string."))
}

impl FromField for bool {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        match value {
            Value::Bool(b) => Ok(*b),
            // Form bodies carry every value as text.
            Value::String(s) => match s.as_str() {
                "true" | "1" | "on" | "yes" => Ok(true),
                "false" | "0" | "off" | "no" => Ok(false),
                _ => Err(format!("The {field} field must be true or false.")),
            },
            Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
            Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
            _ => Err(format!("The {field} field must be true or false.")),
        }
    }
}

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

/// Defines a newtype over `String` with its `FromField`, `as_str` and `into_inner`.
macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident, |$field:ident, $text:ident| $parse:block) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl FromField for $name {
            fn from_field($field: &str, value: &Value) -> Result<Self, String> {
                let $text = expect_str($field, value)?;
                $parse
            }
        }
    };
}

text_newtype!(
    /// A display name: 1–255 characters after trimming, stored trimmed.
    Name,
    |field, text| {
        let trimmed = text.trim();
        char_len_between(field, trimmed, 1, 255)?;
        Ok(Name(trimmed.to_owned()))
    }
);

text_newtype!(
    /// An email address: trimmed, lower-cased, syntactically valid, at most 254 characters.
    Email,
    |field, text| {
        Email::parse(text).ok_or_else(|| format!("The {field} field must be a valid email address."))
    }
);

impl Email {
    pub fn parse(text: &str) -> Option<Self> {
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

text_newtype!(
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

text_newtype!(
    /// A URL as sent, before the checks that depend on where it is deployed (see
    /// `webhook::check_url`).
    UrlText,
    |field, text| {
        char_len_between(field, text.trim(), 1, 2000)?;
        Ok(UrlText(text.trim().to_owned()))
    }
);

/// A non-empty list of event type names, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTypes(pub Vec<crate::events::EventType>);

impl FromField for EventTypes {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        let names: Vec<String> = crate::events::EventType::ALL
            .iter()
            .filter_map(|t| serde_json::to_value(t).ok())
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let invalid = || {
            format!(
                "The {field} field must be a non-empty list of event types: {}.",
                names.join(", ")
            )
        };
        let items = value
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(invalid)?;
        let mut types = Vec::new();
        for item in items {
            let kind: crate::events::EventType =
                serde_json::from_value(item.clone()).map_err(|_| invalid())?;
            if !types.contains(&kind) {
                types.push(kind);
            }
        }
        Ok(EventTypes(types))
    }
}

text_newtype!(
    /// A chat description: up to 2000 characters, stored as sent.
    Description,
    |field, text| {
        char_len_between(field, text, 0, 2000)?;
        Ok(Description(text.to_owned()))
    }
);

text_newtype!(
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

text_newtype!(
    /// A password presented for checking (login or joining a chat): never validated for
    /// shape beyond a sane length, so a wrong one is "wrong", not "invalid".
    PresentedPassword,
    |field, text| {
        char_len_between(field, text, 1, 1024)?;
        Ok(PresentedPassword(text.to_owned()))
    }
);

text_newtype!(
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

text_newtype!(
    /// A client-chosen idempotency key for a message: 1–64 characters.
    ClientId,
    |field, text| {
        char_len_between(field, text, 1, 64)?;
        Ok(ClientId(text.to_owned()))
    }
);

/// The 6-digit auth code, sent as a number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthCode(pub u32);

impl FromField for AuthCode {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        let code = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) if s.trim().len() == 6 => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match code {
            Some(c) if (100_000..=999_999).contains(&c) => Ok(AuthCode(c as u32)),
            _ => Err(format!("The {field} field must be a 6-digit code.")),
        }
    }
}

/// A whole number, as a JSON number or a string (form bodies carry only strings).
fn whole_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
}

/// An event `seq` (a read marker): a whole number, as a JSON number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seq(pub u64);

impl FromField for Seq {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        whole_number(value)
            .map(Seq)
            .ok_or_else(|| format!("The {field} field must be a whole number (an event seq)."))
    }
}

/// Minutes before unread messages are emailed: 0 (never) to 1440 (a day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadEmailMinutes(pub u32);

impl FromField for UnreadEmailMinutes {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        whole_number(value)
            .filter(|m| *m <= 1440)
            .map(|m| UnreadEmailMinutes(m as u32))
            .ok_or_else(|| {
                format!("The {field} field must be a whole number of minutes from 0 (off) to 1440.")
            })
    }
}

/// A company's message retention in days, 1 to 3650 (`null` keeps messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays(pub u32);

impl FromField for RetentionDays {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        whole_number(value)
            .filter(|d| (1..=3650).contains(d))
            .map(|d| RetentionDays(d as u32))
            .ok_or_else(|| {
                format!("The {field} field must be a whole number of days from 1 to 3650, or null to keep messages.")
            })
    }
}

/// `?per_page=` in 1..=max, with a default.
pub fn per_page(raw: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    match raw {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(FieldErrors::single(
                "per_page",
                format!("The per_page field must be an integer between 1 and {max}."),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(value: Value) -> Input {
        Input::from_map(value.as_object().unwrap().clone())
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
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
            assert!(Email::parse(bad).is_none(), "{bad} should be invalid");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_none());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let body = input(json!({"name": "  ", "email": 5, "website": "ftp://x"}));
        let mut fields = Fields::new(&body);
        let _: Option<Name> = fields.required("name");
        let _: Option<Email> = fields.required("email");
        let _: Option<Option<Website>> = fields.nullable("website");
        let err = fields.finish().unwrap_err();
        let ApiError::Validation(errors) = err else {
            panic!("expected 422")
        };
        assert!(errors.contains("name") && errors.contains("email") && errors.contains("website"));
    }

    #[test]
    fn message_bodies_keep_their_exact_text() {
        let body = MessageBody::from_field("body", &json!("  héllo 👋 שלום  ")).unwrap();
        assert_eq!(body.as_str(), "  héllo 👋 שלום  ");
        assert!(MessageBody::from_field("body", &json!("   ")).is_err());
        assert!(MessageBody::from_field("body", &json!("é".repeat(5000))).is_ok());
        assert!(MessageBody::from_field("body", &json!("é".repeat(5001))).is_err());
        for weak in [
            "aaaaaaaa",
            "        ",
            "password1",
            "12345678",
            "qwertyuiop",
        ] {
            assert!(
                ChatPassword::from_field("password", &json!(weak)).is_err(),
                "{weak}"
            );
        }
        for fine in [
            "kettle-club-2026",
            "demo-chat-password",
            "copper lantern orbit",
        ] {
            assert!(
                ChatPassword::from_field("password", &json!(fine)).is_ok(),
                "{fine}"
            );
        }
        // What is stored counts, not what is visible.
        let padded = format!("a{}", " ".repeat(60_000));
        assert!(MessageBody::from_field("body", &json!(padded)).is_err());
    }

    #[test]
    fn auth_codes_come_as_numbers_or_strings() {
        assert_eq!(
            AuthCode::from_field("c", &json!(123456)).unwrap(),
            AuthCode(123456)
        );
        assert_eq!(
            AuthCode::from_field("c", &json!("123456")).unwrap(),
            AuthCode(123456)
        );
        assert!(AuthCode::from_field("c", &json!("012345")).is_err());
        assert!(AuthCode::from_field("c", &json!(99999)).is_err());
        assert!(AuthCode::from_field("c", &json!(true)).is_err());
    }

    #[test]
    fn nullable_distinguishes_absent_null_and_value() {
        let body = input(json!({"a": null, "b": "https://acme.io"}));
        let mut fields = Fields::new(&body);
        assert_eq!(fields.nullable::<Website>("a"), Some(None));
        assert!(matches!(fields.nullable::<Website>("b"), Some(Some(_))));
        assert_eq!(fields.nullable::<Website>("c"), None);
        assert!(fields.finish().is_ok());
    }

    #[test]
    fn per_page_is_bounded() {
        assert_eq!(per_page(None, 25, 100).unwrap(), 25);
        assert_eq!(per_page(Some("100"), 25, 100).unwrap(), 100);
        assert_eq!(per_page(Some("0"), 25, 100).unwrap_err().status(), 422);
        assert_eq!(per_page(Some("x"), 25, 100).unwrap_err().status(), 422);
    }
}

//! Parse, don't validate: request fields become typed values here, at the edge, or the
//! request is a 422 naming every bad field. Handlers only ever see the typed values; the
//! rules of each value are the domain's (`domain::text`), this reads them from JSON or
//! form fields.

use domain::attachment::{AttachmentIds, ContentType, Size};
use domain::availability::BusinessHours;
use domain::chat::ConversationStatus;
use domain::ids::{
    ApiTokenId, ChatId, ChatUserId, CompanyId, DeliveryId, EntityId, MessageId, UserId, WebhookId,
};
use domain::team::{Role, Sees};
use domain::text::{
    AccountPassword, AllowedOrigins, AuthCode, ChatPassword, ClientId, Description, Email,
    EventTypes, ExpiresIn, Filename, InvitationCode, MessageBody, Name, PresentedPassword,
    RetentionDays, Seq, UnreadEmailMinutes, UrlText, Website,
};
use serde_json::Value;

use crate::api_error::{ApiError, FieldErrors};
use crate::input::Input;

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

/// A whole number, as a JSON number or a string (form bodies carry only strings).
fn whole_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
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

/// The domain's text values: a string field, parsed by the value's own rule.
macro_rules! text_fields {
    ($($name:ty),* $(,)?) => {
        $(
            impl FromField for $name {
                fn from_field(field: &str, value: &Value) -> Result<Self, String> {
                    <$name>::parse(field, expect_str(field, value)?)
                }
            }
        )*
    };
}

text_fields!(
    Name,
    Email,
    Website,
    UrlText,
    Description,
    ChatPassword,
    PresentedPassword,
    AccountPassword,
    InvitationCode,
    MessageBody,
    ClientId,
    Filename,
);

/// A member's role (`owner`, `admin`, `agent`).
impl FromField for Role {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        Role::parse(expect_str(field, value)?)
            .ok_or_else(|| format!("The {field} must be owner, admin or agent."))
    }
}

/// Which chats a member sees (`all`, `assigned`).
impl FromField for Sees {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        Sees::parse(expect_str(field, value)?)
            .ok_or_else(|| format!("The {field} must be all or assigned."))
    }
}

/// A conversation's status (`open`, `pending`, `snoozed`, `resolved`).
impl FromField for ConversationStatus {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        ConversationStatus::parse(expect_str(field, value)?)
            .ok_or_else(|| format!("The {field} must be open, pending, snoozed or resolved."))
    }
}

/// A body field holding an id (e.g. `company_id`): a 422 when malformed.
macro_rules! id_fields {
    ($($name:ty),* $(,)?) => {
        $(
            impl FromField for $name {
                fn from_field(field: &str, value: &Value) -> Result<Self, String> {
                    value
                        .as_str()
                        .and_then(<$name as EntityId>::parse)
                        .ok_or_else(|| format!("The {field} field must be a valid ID."))
                }
            }
        )*
    };
}

id_fields!(
    UserId, ApiTokenId, CompanyId, ChatId, ChatUserId, WebhookId, DeliveryId, MessageId,
);

/// An attachment's declared type: on the allowlist, or a 422 listing it.
impl FromField for ContentType {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        ContentType::parse_field(field, expect_str(field, value)?)
    }
}

/// A size in bytes, as a JSON number or a string.
impl FromField for Size {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        whole_number(value)
            .map(Size)
            .ok_or_else(|| format!("The {field} field must be a whole number of bytes."))
    }
}

/// `attachment_ids`: a JSON array of ids (a form sends them comma-separated).
impl FromField for AttachmentIds {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        let texts: Vec<&str> = match value {
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .ok_or_else(|| format!("The {field} field must hold attachment IDs."))
                })
                .collect::<Result<_, _>>()?,
            Value::String(list) => list
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect(),
            _ => {
                return Err(format!(
                    "The {field} field must be an array of attachment IDs."
                ));
            }
        };
        AttachmentIds::parse(field, &texts)
    }
}

/// The 6-digit auth code, sent as a number or a string.
impl FromField for AuthCode {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        let code = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) if s.trim().len() == 6 => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        AuthCode::parse(field, code.unwrap_or_default())
    }
}

/// An event `seq` (a read marker): a whole number, as a JSON number or a string.
impl FromField for Seq {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        whole_number(value)
            .map(Seq::new)
            .ok_or_else(|| format!("The {field} field must be a whole number (an event seq)."))
    }
}

impl FromField for UnreadEmailMinutes {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        // Not a whole number at all: the same message as one out of range.
        UnreadEmailMinutes::parse(field, whole_number(value).unwrap_or(u64::MAX))
    }
}

impl FromField for RetentionDays {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        RetentionDays::parse(field, whole_number(value).unwrap_or(u64::MAX))
    }
}

/// A non-empty list of event type names, without repeats.
impl FromField for EventTypes {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
        if value.as_array().is_none() {
            // Not a list: the same message as a list of unknown names.
            return EventTypes::parse(field, [None]);
        }
        EventTypes::parse(field, items.iter().map(Value::as_str))
    }
}

/// A list of exact origins (a company's `allowed_origins`).
impl FromField for AllowedOrigins {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        match value.as_array() {
            Some(items) => AllowedOrigins::parse(field, items.iter().map(Value::as_str)),
            None => Err(format!(
                "The {field} field must be a list of origins such as https://shop.example."
            )),
        }
    }
}

/// A company's weekly hours in its time zone (`null` is read by [`Fields::nullable`]).
impl FromField for BusinessHours {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        BusinessHours::parse(field, value)
    }
}

/// A token lifetime in seconds: a JSON integer or, from a form, its digits.
impl FromField for ExpiresIn {
    fn from_field(field: &str, value: &Value) -> Result<Self, String> {
        // Not a whole number at all: the same message as one out of range.
        ExpiresIn::parse(field, whole_number(value).unwrap_or(u64::MAX))
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
    fn auth_codes_come_as_numbers_or_strings() {
        assert_eq!(
            AuthCode::from_field("c", &json!(123456)).unwrap().get(),
            123456
        );
        assert_eq!(
            AuthCode::from_field("c", &json!("123456")).unwrap().get(),
            123456
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
    fn numbers_come_as_numbers_or_strings_and_keep_their_ranges() {
        assert_eq!(Seq::from_field("seq", &json!("7")).unwrap().get(), 7);
        assert!(UnreadEmailMinutes::from_field("m", &json!(1441)).is_err());
        assert!(UnreadEmailMinutes::from_field("m", &json!("x")).is_err());
        assert_eq!(
            RetentionDays::from_field("d", &json!("30")).unwrap().get(),
            30
        );
        assert!(EventTypes::from_field("events", &json!("message.created")).is_err());
        assert!(EventTypes::from_field("events", &json!(["message.created"])).is_ok());
    }

    #[test]
    fn per_page_is_bounded() {
        assert_eq!(per_page(None, 25, 100).unwrap(), 25);
        assert_eq!(per_page(Some("100"), 25, 100).unwrap(), 100);
        assert_eq!(per_page(Some("0"), 25, 100).unwrap_err().status(), 422);
        assert_eq!(per_page(Some("x"), 25, 100).unwrap_err().status(), 422);
    }
}

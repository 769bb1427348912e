//! A request body as named fields, whether it came as JSON or as a form: what the
//! handlers' field readers ([`crate::fields`]) take values from.

use serde_json::{Map, Value};

use crate::ApiError;

/// Request bodies above this are refused with 413 before any parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request body as named fields, whether it came as JSON or as a form.
/// Form values are strings; [`crate::fields`] accepts them where a JSON client
/// would send a number or a boolean.
#[derive(Debug, Default, Clone)]
pub struct Input(Map<String, Value>);

impl Input {
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let media_type = content_type
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        match media_type.as_str() {
            // No content type at all: most clients that forget it send JSON.
            "" | "application/json" => Self::from_json(body),
            t if t.starts_with("application/") && t.ends_with("+json") => Self::from_json(body),
            "application/x-www-form-urlencoded" => Self::from_form(body),
            _ => Err(ApiError::UnsupportedMediaType),
        }
    }

    fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::BadRequest(
                "The request body must be a JSON object.",
            )),
            Err(_) => Err(ApiError::BadRequest("The request body is not valid JSON.")),
        }
    }

    fn from_form(body: &[u8]) -> Result<Self, ApiError> {
        let invalid = || ApiError::BadRequest("The request body is not a valid form.");
        let mut fields = Map::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let name = form_decode(parts.next().unwrap_or_default()).ok_or_else(invalid)?;
            let value = form_decode(parts.next().unwrap_or_default()).ok_or_else(invalid)?;
            fields.insert(name, Value::String(value));
        }
        Ok(Self(fields))
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space, `%XX` a
/// byte). Unlike a lossy decoder it refuses what is not UTF-8 afterwards: text is stored
/// exactly as sent, or not at all.
fn form_decode(raw: &[u8]) -> Option<String> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_form_bodies_give_the_same_fields() {
        let json = Input::parse(Some("application/json"), br#"{"name":"Acme","n":1}"#).unwrap();
        let form = Input::parse(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"name=Acme&n=1",
        )
        .unwrap();
        assert_eq!(json.get("name"), form.get("name"));
        assert_eq!(json.get("n"), Some(&json!(1)));
        assert_eq!(form.get("n"), Some(&json!("1")));
        let form = Input::parse(
            Some("application/x-www-form-urlencoded"),
            b"body=caf%C3%A9+%F0%9F%91%8B&a%2Bb=1%2B1%3D2&empty=",
        )
        .unwrap();
        assert_eq!(form.get("body"), Some(&json!("café 👋")));
        assert_eq!(form.get("a+b"), Some(&json!("1+1=2")));
        assert_eq!(form.get("empty"), Some(&json!("")));
    }

    #[test]
    fn bad_bodies_have_their_own_statuses() {
        let status = |ct, body: &[u8]| Input::parse(ct, body).unwrap_err().status().as_u16();
        assert_eq!(status(Some("application/json"), b"{nope"), 400);
        assert_eq!(status(Some("application/json"), b"[1,2]"), 400);
        assert_eq!(status(Some("text/plain"), b"hello"), 415);
        // Not UTF-8: the local gateway refuses these before us; deployed, they are a 400.
        assert_eq!(
            status(Some("application/json"), b"{\"a\": \"\xff\xfe\"}"),
            400
        );
        assert_eq!(
            status(Some("application/x-www-form-urlencoded"), b"a=\xff\xfe"),
            400
        );
        assert_eq!(
            status(Some("application/x-www-form-urlencoded"), b"a=%FF"),
            400
        );
        assert_eq!(
            status(Some("application/x-www-form-urlencoded"), b"a=%G1"),
            400
        );
        assert_eq!(
            status(Some("application/json"), &vec![b' '; MAX_BODY_BYTES + 1]),
            413
        );
        assert!(Input::parse(None, b"").unwrap().get("x").is_none());
    }
}

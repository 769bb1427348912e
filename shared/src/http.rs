//! The edge: an API Gateway request parsed into an [`ApiRequest`] (route, path
//! parameters, query, body fields), and the JSON envelopes every response uses.

use std::collections::HashMap;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::routes::{self, FunctionEndpoint, Method, Route, Unroutable};

/// Request bodies above this are refused with 413 before any parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    // Serialising our own `Value`s and derive(Serialize) types cannot fail.
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `{"data": ...}` with the given status.
pub fn data(status: StatusCode, resource: impl Serialize) -> Response<Body> {
    // Serialised as it is: `json!` would first copy the resource into a new `Value`.
    #[derive(Serialize)]
    struct Data<T> {
        data: T,
    }
    json_response(status, &Data { data: resource })
}

/// `{"data": [...], "meta": {"per_page", "next_cursor"}}`.
pub fn list(items: Vec<Value>, per_page: usize, next_cursor: Option<String>) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({ "data": items, "meta": { "per_page": per_page, "next_cursor": next_cursor } }),
    )
}

/// `{"message": ...}` with the given status (e.g. the 202 of send-code).
pub fn message(status: StatusCode, text: &str) -> Response<Body> {
    json_response(status, &json!({ "message": text }))
}

/// A request that reached one of our routes, parsed at the edge. The endpoint it asks
/// for (with the path's ids, typed) comes beside it from [`ApiRequest::parse`].
#[derive(Debug)]
pub struct ApiRequest {
    pub method: Method,
    pub route: &'static Route,
    pub query: HashMap<String, String>,
    pub body: Input,
    pub bearer: Option<String>,
    /// The caller's address as API Gateway saw it (`requestContext.http.sourceIp`): what
    /// per-source limits count. Not a header, so a client cannot choose it.
    pub source_ip: Option<String>,
}

impl ApiRequest {
    /// Resolves the endpoint of function `E` (404 / 405, or the 404 of a malformed id)
    /// and parses query and body (400 / 413 / 415). A route of another function is a 404.
    pub fn parse<E: FunctionEndpoint>(request: &Request) -> Result<(Self, E), ApiError> {
        const NO_ROUTE: ApiError = ApiError::NotFound("There is no such route.");
        let path = request.uri().path();
        let (route, _) = routes::resolve(path).ok_or(NO_ROUTE)?;
        if route.function != E::FUNCTION {
            return Err(NO_ROUTE);
        }
        let endpoint = match routes::endpoint(request.method().as_str(), path) {
            Ok(built) => built?,
            Err(Unroutable::NoRoute) => return Err(NO_ROUTE),
            Err(Unroutable::MethodNotAllowed { allow }) => {
                return Err(ApiError::MethodNotAllowed {
                    method: request.method().to_string(),
                    allow,
                });
            }
        };
        let endpoint = E::from_endpoint(endpoint).ok_or(NO_ROUTE)?;
        let method = Method::parse(request.method().as_str()).ok_or(NO_ROUTE)?;
        let query = request
            .query_string_parameters_ref()
            .map(|q| {
                q.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let bearer = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            });
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let body = Input::parse(content_type, request.body().as_ref())?;
        let source_ip = match request.request_context_ref() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
                context.http.source_ip.clone()
            }
            _ => None,
        };
        let parsed = Self {
            method,
            route,
            query,
            body,
            bearer,
            source_ip,
        };
        Ok((parsed, endpoint))
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// `?per_page=` in 1..=max, with a default.
    pub fn per_page(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        crate::validate::per_page(self.query("per_page"), default, max)
    }

    /// `?cursor=` of a list, as given.
    pub fn cursor(&self) -> Option<String> {
        self.query("cursor").map(str::to_owned)
    }
}

/// The request body as named fields, whether it came as JSON or as a form.
/// Form values are strings; [`crate::validate`] accepts them where a JSON client
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

    #[test]
    fn data_wraps_the_resource_as_json_did() {
        let resource = json!({ "name": "Acme", "id": "c1", "n": [1, null] });
        let response = data(StatusCode::CREATED, &resource);
        assert_eq!(response.status(), StatusCode::CREATED);
        let expected = serde_json::to_string(&json!({ "data": resource })).unwrap();
        assert!(matches!(response.body(), Body::Text(text) if *text == expected));
    }

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

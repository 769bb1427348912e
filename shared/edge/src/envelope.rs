//! The JSON envelopes every answer uses: `{"data": …}`, a list with its `meta`, and
//! `{"message": …}`.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

/// A JSON answer with this status. Serialising our own types cannot fail; should one
/// ever, the client gets `{}` rather than a broken body.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `{"data": ...}` with the given status, serialised as it is (no copy into a `Value`).
pub fn data(status: StatusCode, resource: impl Serialize) -> Response<Body> {
    #[derive(Serialize)]
    struct Data<T> {
        data: T,
    }
    json_response(status, &Data { data: resource })
}

/// `{"data": [...], "meta": {"next_cursor", "per_page"}}`.
pub fn list<T: Serialize>(
    items: &[T],
    per_page: usize,
    next_cursor: Option<String>,
) -> Response<Body> {
    #[derive(Serialize)]
    struct Meta {
        next_cursor: Option<String>,
        per_page: usize,
    }
    #[derive(Serialize)]
    struct List<'a, T> {
        data: &'a [T],
        meta: Meta,
    }
    json_response(
        StatusCode::OK,
        &List {
            data: items,
            meta: Meta {
                next_cursor,
                per_page,
            },
        },
    )
}

/// `{"message": ...}` with the given status (e.g. the 202 of send-code).
pub fn message(status: StatusCode, text: &str) -> Response<Body> {
    #[derive(Serialize)]
    struct Message<'a> {
        message: &'a str,
    }
    json_response(status, &Message { message: text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_wraps_the_resource_as_json_did() {
        let resource = json!({ "name": "Acme", "id": "c1", "n": [1, null] });
        let response = data(StatusCode::CREATED, &resource);
        assert_eq!(response.status(), StatusCode::CREATED);
        let expected = serde_json::to_string(&json!({ "data": resource })).unwrap();
        assert!(matches!(response.body(), Body::Text(text) if *text == expected));
    }

    #[test]
    fn lists_carry_their_meta_as_json_did() {
        let items = [json!({"id": 1}), json!({"id": 2})];
        let response = list(&items, 25, Some("next".into()));
        let expected = serde_json::to_string(
            // Keys in the order the functions' builds write them (alphabetical: no
            // `preserve_order` there, unlike in the tests' build).
            &json!({ "data": items, "meta": { "next_cursor": "next", "per_page": 25 } }),
        )
        .unwrap();
        assert!(matches!(response.body(), Body::Text(text) if *text == expected));
    }
}

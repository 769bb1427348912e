//! The one error type of the API and its mapping to status + JSON body.
//!
//! Every handler returns `Result<_, ApiError>`; [`ApiError::into_response`] is the only
//! place that turns a failure into HTTP. Internal failures keep their cause for the log
//! line (with the request id) and answer a generic 500 body.

use std::collections::BTreeMap;
use std::fmt;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::json;

/// Field name → messages, serialised as the `errors` object of a 422.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// `Ok(())` when nothing was added, else a 422 carrying every field error at once.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self))
        }
    }

    /// A 422 with a single field error.
    pub fn single(field: &str, message: impl Into<String>) -> ApiError {
        let mut errors = Self::new();
        errors.add(field, message);
        ApiError::Validation(errors)
    }
}

/// Boxed cause of a 500; only ever logged, never sent.
pub type InternalCause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body could not be parsed.
    #[error("{0}")]
    BadRequest(&'static str),
    /// 401: no usable token (missing, malformed, expired, revoked, wrong kind, gone user).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// 403: a valid caller that may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404: unknown route, or a resource that does not exist for this caller.
    #[error("{0}")]
    NotFound(&'static str),
    /// 405 with the `Allow` header.
    #[error("The {method} method is not supported for this route.")]
    MethodNotAllowed { method: String, allow: String },
    /// 409: the resource's state forbids the change.
    #[error("{0}")]
    Conflict(&'static str),
    /// 413: body over the limit.
    #[error("The request body is too large (at most 64 KiB).")]
    PayloadTooLarge,
    /// 415: a body in a format we do not read.
    #[error("Send the request body as application/json or application/x-www-form-urlencoded.")]
    UnsupportedMediaType,
    /// 422 with field errors.
    #[error("The given data was invalid.")]
    Validation(FieldErrors),
    /// 429 with `Retry-After` (seconds).
    #[error("{message}")]
    TooManyRequests {
        message: &'static str,
        retry_after_secs: u64,
    },
    /// 500: the cause goes to the log only.
    #[error("internal error: {0}")]
    Internal(InternalCause),
}

impl ApiError {
    pub fn internal(cause: impl Into<InternalCause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON error envelope; `errors` only on 422, no internals on 500.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        let body = match &self {
            Self::Validation(errors) => json!({
                "message": self.to_string(),
                "errors": errors.0,
            }),
            Self::Internal(_) => {
                json!({ "message": "Something went wrong on our side. Quote the X-Request-Id header if you contact support." })
            }
            other => json!({ "message": other.to_string() }),
        };
        let mut response = crate::http::json_response(status, &body);
        let headers = response.headers_mut();
        match &self {
            Self::MethodNotAllowed { allow, .. } => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, value);
                }
            }
            Self::TooManyRequests {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// Any AWS SDK failure we did not handle on purpose is a 500.
impl<E, R> From<aws_sdk_dynamodb::error::SdkError<E, R>> for ApiError
where
    E: std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    fn from(err: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        // DisplayErrorContext keeps the whole chain (service code, message) for the log.
        Self::Internal(
            aws_sdk_dynamodb::error::DisplayErrorContext(err)
                .to_string()
                .into(),
        )
    }
}

impl From<serde_dynamo::Error> for ApiError {
    fn from(err: serde_dynamo::Error) -> Self {
        Self::Internal(Box::new(err))
    }
}

impl From<aws_sdk_dynamodb::error::BuildError> for ApiError {
    fn from(err: aws_sdk_dynamodb::error::BuildError) -> Self {
        Self::Internal(Box::new(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(response: Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn validation_lists_every_field() {
        let mut errors = FieldErrors::new();
        errors.add("email", "The email field is required.");
        errors.add("name", "The name field is required.");
        let response = errors.into_result().unwrap_err().into_response();
        assert_eq!(response.status(), 422);
        let body = body_json(response);
        assert_eq!(body["message"], "The given data was invalid.");
        assert_eq!(body["errors"]["email"][0], "The email field is required.");
        assert_eq!(body["errors"]["name"][0], "The name field is required.");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let response = ApiError::internal("table chat-secret-stuff is gone").into_response();
        assert_eq!(response.status(), 500);
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(!text.contains("chat-secret-stuff"));
        assert!(!text.contains("errors"));
    }

    #[test]
    fn throttling_and_method_errors_carry_their_headers() {
        let response = ApiError::TooManyRequests {
            message: "slow down",
            retry_after_secs: 42,
        }
        .into_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "42");
        let response = ApiError::MethodNotAllowed {
            method: "PATCH".into(),
            allow: "GET, POST".into(),
        }
        .into_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, POST");
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}

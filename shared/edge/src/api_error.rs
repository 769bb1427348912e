//! The one error type of the API and its mapping to status + JSON body.
//!
//! Every handler returns `Result<_, ApiError>`; [`ApiError::into_response`] is the only
//! place that turns a failure into HTTP, and the `From` impls below are the only places
//! that turn storage's and the services' failures into an `ApiError`. Internal failures
//! keep their cause (and its source chain) for the log line with the request id, and
//! answer a generic 500 body; AWS failures that mean "not now" (timeouts, unreachable,
//! throttled, 5xx) answer 503 with `Retry-After` instead.

use std::collections::BTreeMap;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::json;
use services::ServiceError;
use services::jwt::Rejected;
use services::keyring::KeyError;
use storage::StoreError;

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

/// What a 401 says, whatever the reason (never which check failed).
pub const UNAUTHENTICATED: &str = "Unauthenticated.";

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
    /// 409 with `"reset": true`: the event log no longer holds what the client asked to
    /// resume from; it must reload instead of silently missing events.
    #[error(
        "The events after this seq are no longer kept. Reload the messages, then follow the events from the newest seq."
    )]
    ResetRequired,
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
    #[error("internal error")]
    Internal(#[source] InternalCause),
    /// 503 with `Retry-After` (seconds): AWS timed out, could not be reached or is
    /// throttling us. The cause goes to the log only.
    #[error("AWS is unavailable")]
    Unavailable {
        retry_after_secs: u64,
        #[source]
        cause: sdk::Failure,
    },
}

impl ApiError {
    pub fn internal(cause: impl Into<InternalCause>) -> Self {
        Self::Internal(cause.into())
    }

    /// A failed call to AWS: 503 when it means "not now", else a 500.
    pub fn of_aws(failure: sdk::Failure) -> Self {
        if failure.unavailable {
            Self::Unavailable {
                retry_after_secs: sdk::RETRY_AFTER_SECS,
                cause: failure,
            }
        } else {
            Self::Internal(Box::new(failure))
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::ResetRequired => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
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
            Self::Unavailable { .. } => {
                json!({ "message": "The service is briefly unavailable. Try again after the number of seconds in the Retry-After header." })
            }
            Self::ResetRequired => json!({ "message": self.to_string(), "reset": true }),
            other => json!({ "message": other.to_string() }),
        };
        let mut response = crate::envelope::json_response(status, &body);
        let headers = response.headers_mut();
        match &self {
            Self::MethodNotAllowed { allow, .. } => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, value);
                }
            }
            Self::TooManyRequests {
                retry_after_secs, ..
            }
            | Self::Unavailable {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// Storage's failures: its only one a client caused is a cursor of another list.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Aws(failure) => Self::of_aws(failure),
            StoreError::ForeignCursor => FieldErrors::single(
                "cursor",
                "The cursor is invalid or belongs to another list.",
            ),
            other => Self::internal(other),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Aws(failure) => Self::of_aws(failure),
            ServiceError::Keys(keys) => keys.into(),
            other => Self::internal(other),
        }
    }
}

/// The keys could not be read: a 503 (the next request reads them again), or a bug.
impl From<KeyError> for ApiError {
    fn from(err: KeyError) -> Self {
        match err {
            KeyError::Read { source, .. } => Self::Unavailable {
                retry_after_secs: sdk::RETRY_AFTER_SECS,
                cause: source,
            },
            other => Self::internal(other),
        }
    }
}

/// A token that is not one of ours, or no longer good.
impl From<Rejected> for ApiError {
    fn from(_: Rejected) -> Self {
        Self::Unauthenticated(UNAUTHENTICATED)
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

    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::error::{ConnectorError, ErrorMetadata, SdkError};
    use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemError;
    use aws_sdk_sesv2::operation::send_email::SendEmailError;

    /// A raw answer of AWS with this status and request id.
    fn raw(status: u16, request_id: &str) -> HttpResponse {
        let mut response = HttpResponse::new(status.try_into().unwrap(), "{}".into());
        response
            .headers_mut()
            .insert("x-amzn-requestid", request_id.to_owned());
        response
    }

    /// A DynamoDB failure, as storage hands it over.
    fn dynamodb(code: &str, status: u16) -> StoreError {
        let meta = ErrorMetadata::builder()
            .code(code)
            .message("details")
            .custom("aws_request_id", "REQ-1")
            .build();
        SdkError::service_error(BatchGetItemError::generic(meta), raw(status, "REQ-1")).into()
    }

    /// An SES failure, as the mailer hands it over.
    fn ses(code: &str, status: u16) -> ServiceError {
        let meta = ErrorMetadata::builder().code(code).build();
        SdkError::service_error(SendEmailError::generic(meta), raw(status, "REQ-2")).into()
    }

    fn status_of(err: impl Into<ApiError>) -> u16 {
        err.into().status().as_u16()
    }

    #[test]
    fn unavailable_without_an_sdk_error_is_the_same_503() {
        let response = ApiError::of_aws(sdk::Failure::unavailable(
            "BatchGetItem",
            "keys left unprocessed",
        ))
        .into_response();
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(!text.contains("unprocessed"));
    }

    #[test]
    fn unavailable_is_a_503_with_retry_after_and_no_internals() {
        let response = ApiError::from(dynamodb("ThrottlingException", 400)).into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(
            response.headers()["retry-after"],
            sdk::RETRY_AFTER_SECS.to_string().as_str()
        );
        assert_eq!(response.headers()["content-type"], "application/json");
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        for internal in ["Throttling", "BatchGetItem", "REQ-1", "details"] {
            assert!(!text.contains(internal), "{internal} leaked into {text}");
        }
    }

    #[test]
    fn timeouts_unreachable_and_unreadable_answers_are_503() {
        type Err = SdkError<BatchGetItemError, HttpResponse>;
        let store = |err: Err| StoreError::from(err);
        assert_eq!(
            status_of(store(Err::timeout_error("operation timeout"))),
            503
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            status_of(store(Err::dispatch_failure(ConnectorError::io(
                refused.into()
            )))),
            503
        );
        assert_eq!(
            status_of(store(Err::dispatch_failure(ConnectorError::timeout(
                "connect timeout".into()
            )))),
            503
        );
        assert_eq!(
            status_of(store(Err::response_error(
                "truncated body",
                raw(200, "REQ-3")
            ))),
            503
        );
    }

    #[test]
    fn throttling_and_server_errors_are_503_for_dynamodb_and_ses() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
        ] {
            assert_eq!(status_of(dynamodb(code, 400)), 503, "{code}");
        }
        assert_eq!(status_of(dynamodb("InternalServerError", 500)), 503);
        assert_eq!(status_of(dynamodb("ServiceUnavailable", 503)), 503);
        assert_eq!(status_of(ses("TooManyRequestsException", 429)), 503);
        assert_eq!(status_of(ses("ThrottlingException", 400)), 503);
    }

    #[test]
    fn other_failures_stay_500() {
        assert_eq!(status_of(dynamodb("ValidationException", 400)), 500);
        assert_eq!(
            status_of(dynamodb("ConditionalCheckFailedException", 400)),
            500
        );
        assert_eq!(status_of(ses("MessageRejected", 400)), 500);
        assert_eq!(status_of(ses("LimitExceededException", 400)), 500);
        type Err = SdkError<BatchGetItemError, HttpResponse>;
        let store = |err: Err| StoreError::from(err);
        assert_eq!(
            status_of(store(Err::construction_failure("no table name"))),
            500
        );
        assert_eq!(
            status_of(store(Err::dispatch_failure(ConnectorError::user(
                "invalid URI".into()
            )))),
            500
        );
    }

    #[test]
    fn the_cause_names_the_operation_and_the_aws_request_id() {
        let ApiError::Unavailable { cause, .. } =
            ApiError::from(dynamodb("ThrottlingException", 400))
        else {
            panic!("throttling is a 503");
        };
        assert_eq!(cause.operation, "BatchGetItem");
        assert_eq!(cause.aws_request_id.as_deref(), Some("REQ-1"));
        assert!(
            sdk::Chain(&cause)
                .to_string()
                .contains("ThrottlingException")
        );
        let ApiError::Unavailable { cause, .. } =
            ApiError::from(ses("TooManyRequestsException", 429))
        else {
            panic!("a 429 is a 503");
        };
        assert_eq!(cause.operation, "SendEmail");
        assert_eq!(cause.aws_request_id.as_deref(), Some("REQ-2"));
    }

    #[test]
    fn a_foreign_cursor_is_a_422_on_the_cursor() {
        let ApiError::Validation(errors) = ApiError::from(StoreError::ForeignCursor) else {
            panic!("a foreign cursor is a 422");
        };
        assert!(errors.contains("cursor"));
    }
}

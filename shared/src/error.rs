//! The one error type of the API and its mapping to status + JSON body.
//!
//! Every handler returns `Result<_, ApiError>`; [`ApiError::into_response`] is the only
//! place that turns a failure into HTTP. Internal failures keep their cause for the log
//! line (with the request id) and answer a generic 500 body; AWS failures that mean "not
//! now" (timeouts, unreachable, throttled, 5xx) answer 503 with `Retry-After` instead.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::RequestId;
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
    #[error("internal error: {0}")]
    Internal(InternalCause),
    /// 503 with `Retry-After` (seconds): AWS timed out, could not be reached or is
    /// throttling us. The cause goes to the log only.
    #[error("AWS is unavailable: {cause}")]
    Unavailable {
        retry_after_secs: u64,
        cause: DependencyFailure,
    },
}

/// Which call to AWS failed and how, for the log line of a 503; never sent to the client.
#[derive(Debug)]
pub struct DependencyFailure {
    /// The SDK operation, e.g. `BatchGetItem`.
    pub operation: &'static str,
    /// AWS's id for the request, when AWS answered (for a support case).
    pub aws_request_id: Option<String>,
    /// The SDK's error chain: kind, service code and message.
    pub detail: String,
}

impl fmt::Display for DependencyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.operation, self.detail)?;
        if let Some(id) = &self.aws_request_id {
            write!(f, " (AWS request id {id})")?;
        }
        Ok(())
    }
}

impl ApiError {
    pub fn internal(cause: impl Into<InternalCause>) -> Self {
        Self::Internal(cause.into())
    }

    /// A 503 for AWS saying "not now" without an SDK error: keys a batch left unprocessed,
    /// a transaction cancelled for `ThrottlingError`. SDK errors convert with `?`.
    pub fn unavailable(operation: &'static str, detail: impl Into<String>) -> Self {
        Self::Unavailable {
            retry_after_secs: crate::aws::RETRY_AFTER_SECS,
            cause: DependencyFailure {
                operation,
                aws_request_id: None,
                detail: detail.into(),
            },
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

/// An AWS SDK failure the caller did not handle on purpose: a 503 when AWS says "not now"
/// (see [`is_unavailable`]), else a 500. DynamoDB and SES v2 share this error type.
impl<E> From<SdkError<E, HttpResponse>> for ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        if !is_unavailable(&err) {
            // DisplayErrorContext keeps the whole chain (service code, message) for the log.
            return Self::Internal(DisplayErrorContext(err).to_string().into());
        }
        Self::Unavailable {
            retry_after_secs: crate::aws::RETRY_AFTER_SECS,
            cause: DependencyFailure {
                operation: operation_name::<E>(),
                aws_request_id: err.request_id().map(str::to_owned),
                detail: DisplayErrorContext(&err).to_string(),
            },
        }
    }
}

/// Service error codes that mean "too many requests right now", not "this request is
/// wrong". DynamoDB: `ThrottlingException`, `ProvisionedThroughputExceededException`,
/// `RequestLimitExceeded`. SES v2: `TooManyRequestsException` (429), and
/// `ThrottlingException` for its sending rate and daily quota. Not SES's
/// `LimitExceededException`: too many resources of a kind, a setup problem.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// True when AWS could not serve the call right now, so the same request may well succeed
/// later: a timeout (the budgets in [`crate::aws`]), no connection, an unreadable answer,
/// throttling, or a server-side error. Everything else (a rejected request, a failed
/// condition nobody handled, a request we could not even build) is our bug: a 500.
pub fn is_unavailable<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        // Refused, reset, DNS, connect timeout. A "user" connector error is a request the
        // HTTP client rejected itself: retrying it would not help.
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(service) => {
            let status = service.raw().status();
            status.is_server_error()
                || status.as_u16() == 429
                || service
                    .err()
                    .code()
                    .is_some_and(|code| THROTTLING_CODES.contains(&code))
        }
        _ => false,
    }
}

/// `BatchGetItem` from `aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemError`:
/// the SDK error says which operation failed only through its type.
fn operation_name<E>() -> &'static str {
    let name = std::any::type_name::<E>();
    let last = name.rsplit("::").next().unwrap_or(name);
    last.strip_suffix("Error").unwrap_or(last)
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

    use aws_sdk_dynamodb::error::{ConnectorError, ErrorMetadata};
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

    fn dynamodb(code: &str, status: u16) -> SdkError<BatchGetItemError, HttpResponse> {
        let meta = ErrorMetadata::builder()
            .code(code)
            .message("details")
            .custom("aws_request_id", "REQ-1")
            .build();
        SdkError::service_error(BatchGetItemError::generic(meta), raw(status, "REQ-1"))
    }

    fn ses(code: &str, status: u16) -> SdkError<SendEmailError, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).build();
        SdkError::service_error(SendEmailError::generic(meta), raw(status, "REQ-2"))
    }

    fn status_of(err: impl Into<ApiError>) -> u16 {
        err.into().status().as_u16()
    }

    #[test]
    fn unavailable_without_an_sdk_error_is_the_same_503() {
        let response =
            ApiError::unavailable("BatchGetItem", "keys left unprocessed").into_response();
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
            crate::aws::RETRY_AFTER_SECS.to_string().as_str()
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
        assert_eq!(status_of(Err::timeout_error("operation timeout")), 503);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            status_of(Err::dispatch_failure(ConnectorError::io(refused.into()))),
            503
        );
        assert_eq!(
            status_of(Err::dispatch_failure(ConnectorError::timeout(
                "connect timeout".into()
            ))),
            503
        );
        assert_eq!(
            status_of(Err::response_error("truncated body", raw(200, "REQ-3"))),
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
        assert_eq!(status_of(Err::construction_failure("no table name")), 500);
        assert_eq!(
            status_of(Err::dispatch_failure(ConnectorError::user(
                "invalid URI".into()
            ))),
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
        assert!(cause.detail.contains("ThrottlingException"));
        let ApiError::Unavailable { cause, .. } =
            ApiError::from(ses("TooManyRequestsException", 429))
        else {
            panic!("a 429 is a 503");
        };
        assert_eq!(cause.operation, "SendEmail");
        assert_eq!(cause.aws_request_id.as_deref(), Some("REQ-2"));
    }
}

//! What a failed call to AWS means: "not now" (a timeout, no connection, an unreadable
//! answer, throttling, a server-side error), after which the same request may well
//! succeed, or anything else (a rejected request, a failed condition nobody handled, a
//! request we could not even build), which is our bug. Storage and the services wrap
//! their SDK errors in a [`Failure`]; the edge answers the first kind with a 503 and
//! `Retry-After`, the second with a 500.

use std::error::Error;
use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// A call to AWS that failed: which one, AWS's id for the request (for a support case),
/// whether it may succeed later, and the SDK's error as its source. Never sent to a
/// client.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed{}", request_id_note(.aws_request_id))]
pub struct Failure {
    /// The SDK operation, e.g. `BatchGetItem`.
    pub operation: &'static str,
    pub aws_request_id: Option<String>,
    /// AWS said "not now": worth a retry after [`crate::RETRY_AFTER_SECS`].
    pub unavailable: bool,
    #[source]
    source: BoxError,
}

fn request_id_note(id: &Option<String>) -> String {
    id.as_ref()
        .map(|id| format!(" (AWS request id {id})"))
        .unwrap_or_default()
}

/// What AWS said, when it said it without an SDK error (keys a batch left unprocessed,
/// a transaction cancelled for throttling).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Detail(String);

impl Failure {
    /// An SDK error of `operation`'s call, judged by [`is_unavailable`].
    pub fn of<E>(err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    {
        Self {
            operation: operation_name::<E>(),
            aws_request_id: err.request_id().map(str::to_owned),
            unavailable: is_unavailable(&err),
            source: Box::new(err),
        }
    }

    /// AWS saying "not now" without an SDK error.
    pub fn unavailable(operation: &'static str, detail: impl Into<String>) -> Self {
        Self {
            operation,
            aws_request_id: None,
            unavailable: true,
            source: Box::new(Detail(detail.into())),
        }
    }

    /// AWS saying "not now", for a reason of its own error type (a keys read that failed).
    pub fn unavailable_because(
        operation: &'static str,
        source: impl Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            operation,
            aws_request_id: None,
            unavailable: true,
            source: Box::new(source),
        }
    }

    /// A call that went wrong for a reason no retry changes.
    pub fn failed(operation: &'static str, detail: impl Into<String>) -> Self {
        Self {
            operation,
            aws_request_id: None,
            unavailable: false,
            source: Box::new(Detail(detail.into())),
        }
    }
}

/// An error and every source under it, `: `-separated: what a log line should carry (a
/// plain `Display` shows only the outermost).
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(inner) = source {
            write!(f, ": {inner}")?;
            source = inner.source();
        }
        Ok(())
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
/// later: a timeout (the budgets of this crate), no connection, an unreadable answer,
/// throttling, or a server-side error.
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

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn timeouts_unreachable_and_unreadable_answers_are_unavailable() {
        type Err = SdkError<BatchGetItemError, HttpResponse>;
        assert!(Failure::of(Err::timeout_error("operation timeout")).unavailable);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(Failure::of(Err::dispatch_failure(ConnectorError::io(refused.into()))).unavailable);
        assert!(
            Failure::of(Err::dispatch_failure(ConnectorError::timeout(
                "connect timeout".into()
            )))
            .unavailable
        );
        assert!(Failure::of(Err::response_error("truncated body", raw(200, "REQ-3"))).unavailable);
    }

    #[test]
    fn throttling_and_server_errors_are_unavailable_for_dynamodb_and_ses() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
        ] {
            assert!(Failure::of(dynamodb(code, 400)).unavailable, "{code}");
        }
        assert!(Failure::of(dynamodb("InternalServerError", 500)).unavailable);
        assert!(Failure::of(dynamodb("ServiceUnavailable", 503)).unavailable);
        assert!(Failure::of(ses("TooManyRequestsException", 429)).unavailable);
        assert!(Failure::of(ses("ThrottlingException", 400)).unavailable);
    }

    #[test]
    fn other_failures_are_bugs() {
        assert!(!Failure::of(dynamodb("ValidationException", 400)).unavailable);
        assert!(!Failure::of(dynamodb("ConditionalCheckFailedException", 400)).unavailable);
        assert!(!Failure::of(ses("MessageRejected", 400)).unavailable);
        assert!(!Failure::of(ses("LimitExceededException", 400)).unavailable);
        type Err = SdkError<BatchGetItemError, HttpResponse>;
        assert!(!Failure::of(Err::construction_failure("no table name")).unavailable);
        assert!(
            !Failure::of(Err::dispatch_failure(ConnectorError::user(
                "invalid URI".into()
            )))
            .unavailable
        );
    }

    #[test]
    fn the_failure_names_the_operation_the_aws_request_id_and_its_chain() {
        let failure = Failure::of(dynamodb("ThrottlingException", 400));
        assert_eq!(failure.operation, "BatchGetItem");
        assert_eq!(failure.aws_request_id.as_deref(), Some("REQ-1"));
        assert!(Chain(&failure).to_string().contains("ThrottlingException"));
        let failure = Failure::of(ses("TooManyRequestsException", 429));
        assert_eq!(failure.operation, "SendEmail");
        assert_eq!(failure.aws_request_id.as_deref(), Some("REQ-2"));
        let detail = Failure::unavailable("BatchGetItem", "keys left unprocessed");
        assert!(detail.unavailable);
        assert!(Chain(&detail).to_string().contains("keys left unprocessed"));
    }
}

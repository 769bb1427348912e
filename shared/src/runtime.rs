//! What every function's `main` and handler share: JSON logs, the request id, routing
//! to 404 / 405, the error mapping, and the Lambda loop.

use std::convert::Infallible;
use std::future::Future;
use std::time::Instant;

use lambda_http::http::HeaderValue;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use tracing::Instrument;

use crate::error::ApiError;
use crate::http::ApiRequest;
use crate::routes::Function;

/// JSON log lines on stdout (CloudWatch), at the level `RUST_LOG` names (`error` ..
/// `trace`, default `info`). Every line of a request carries its `request_id` (from the
/// span). A plain level rather than `EnvFilter` directives keeps the regex engine out of
/// the binaries.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| {
            v.trim()
                .parse::<tracing_subscriber::filter::LevelFilter>()
                .ok()
        })
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    // A second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// API Gateway's request id (the one in its access log), else Lambda's, else a new one.
fn request_id(request: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = request.request_context_ref() {
        if let Some(id) = ctx.request_id.as_deref().filter(|id| !id.is_empty()) {
            return id.to_owned();
        }
    }
    request
        .lambda_context_ref()
        .map(|ctx| ctx.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| ulid::Ulid::new().to_string())
}

/// Parses the request for `function`, runs `dispatch`, and turns any error into its
/// JSON response. Logs one line per request: method, route pattern, status, duration;
/// never the query string, headers or body (they may hold tokens and codes).
pub async fn respond<F, Fut>(request: Request, function: Function, dispatch: F) -> Response<Body>
where
    F: FnOnce(ApiRequest) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let request_id = request_id(&request);
    let span = tracing::info_span!("request", request_id = %request_id);
    async move {
        let started = Instant::now();
        let method = request.method().to_string();
        let parsed = ApiRequest::parse(&request, function);
        let route = parsed.as_ref().map(|r| r.route.path).unwrap_or("(none)");
        let result = match parsed {
            Ok(api_request) => dispatch(api_request).await,
            Err(err) => Err(err),
        };
        let mut response = result.unwrap_or_else(|err| {
            match &err {
                ApiError::Internal(cause) => tracing::error!(error = %cause, "request failed"),
                ApiError::Unavailable { cause, .. } => tracing::error!(
                    operation = cause.operation,
                    aws_request_id = cause.aws_request_id.as_deref(),
                    error = %cause.detail,
                    "AWS unavailable"
                ),
                _ => {}
            }
            err.into_response()
        });
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        tracing::info!(
            method = %method,
            route,
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_millis() as u64,
            "handled"
        );
        response
    }
    .instrument(span)
    .await
}

/// The Lambda loop: `handler` serves every invocation of this instance.
pub async fn serve<H, Fut>(handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    lambda_http::run(service_fn(|request| {
        let response = handler(request);
        async move { Ok::<_, Infallible>(response.await) }
    }))
    .await
}

//! What every function's `main` and handler share: JSON logs, the request id, routing
//! to 404 / 405, the error mapping, and the Lambda loop.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use tracing::Instrument;

use crate::api_error::ApiError;
use crate::cors::{self, Cors};
use crate::request::ApiRequest;
use crate::router::{Concerns, Routes};

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
    if let Some(RequestContext::ApiGatewayV2(ctx)) = request.request_context_ref()
        && let Some(id) = ctx.request_id.as_deref().filter(|id| !id.is_empty())
    {
        return id.to_owned();
    }
    request
        .lambda_context_ref()
        .map(|ctx| ctx.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| ulid::Ulid::new().to_string())
}

/// Parses the request into an endpoint among `routes`, runs `dispatch`, and turns any
/// error into its JSON response. A panic in `dispatch` (a bug) is caught and answered as
/// a JSON 500 with the request id, so the instance lives on and the client gets our
/// envelope rather than API Gateway's bare 502. Logs one line per request: method, route
/// pattern, status, duration; never the query string, headers or body (they may hold
/// tokens and codes).
///
/// CORS is answered here for every route, as `cors` says (see [`crate::cors`]): an
/// `OPTIONS` preflight on a known path is a 204 that never reaches `dispatch` (no token,
/// no budget, no 405), and any other answer to an allowed `Origin`, errors included,
/// carries `Access-Control-Allow-Origin`.
pub async fn respond<E, F, Fut>(
    request: Request,
    routes: &Routes<E>,
    cors: Cors<'_>,
    dispatch: F,
) -> Response<Body>
where
    F: FnOnce(E, ApiRequest) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let request_id = request_id(&request);
    let span = tracing::info_span!("request", request_id = %request_id);
    async move {
        let started = Instant::now();
        let method = request.method().to_string();
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let located = routes.locate(request.uri().path());
        let is_preflight = request.method() == lambda_http::http::Method::OPTIONS;
        let (route, mut response) = if is_preflight {
            match located {
                Some((route, _)) => (route.path, preflight(route.allow_with_options())),
                None => ("(none)", answer(Err(NO_ROUTE))),
            }
        } else {
            let parsed = ApiRequest::parse(&request, routes);
            let route = parsed.as_ref().map(|(r, _)| r.route).unwrap_or("(none)");
            let result = match parsed {
                // Boxed: a handler's future holds every AWS call it makes, nested deep (the
                // SDK's own futures are deep); one allocation per request keeps this
                // function's future small and every function under the compiler's default
                // recursion limit.
                Ok((api_request, endpoint)) => {
                    AssertUnwindSafe(Box::pin(dispatch(endpoint, api_request)))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|panic| Err(ApiError::internal(panic_message(&panic))))
                }
                Err(err) => Err(err),
            };
            (route, answer(result))
        };
        // After the handler: a change of the company's origins counts from its own answer.
        if let (Some(origin), Some((_, concerns))) = (origin.as_deref(), located) {
            let allowed = if is_preflight {
                Box::pin(cors.allow_preflight(origin, concerns)).await
            } else {
                let concerns = match concerns {
                    Concerns::Nothing => token_concerns(&request),
                    named => named,
                };
                Box::pin(cors.allow_origin(origin, concerns)).await
            };
            if let Some(allow_origin) = allowed {
                cors::allow(response.headers_mut(), allow_origin);
            }
        }
        cors::vary(response.headers_mut());
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        secure_headers(response.headers_mut());
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

/// The chat of the request's chat-user token (as `Authorization: Bearer` or
/// `?chat_user_token=`), for a path that names none: what its CORS answer follows.
fn token_concerns(request: &Request) -> Concerns {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let token = bearer.or_else(|| {
        request
            .query_string_parameters_ref()
            .and_then(|q| q.first("chat_user_token").map(str::to_owned))
    });
    token
        .as_deref()
        .and_then(services::jwt::unverified_chat)
        .map_or(Concerns::Nothing, Concerns::Chat)
}

const NO_ROUTE: ApiError = ApiError::NotFound("There is no such route.");

/// A handler's result as its response; a failure logged when it is ours or AWS's.
fn answer(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(|err| {
        match &err {
            ApiError::Internal(cause) => {
                tracing::error!(error = %sdk::Chain(cause.as_ref()), "request failed");
            }
            ApiError::Unavailable { cause, .. } => tracing::error!(
                operation = cause.operation,
                aws_request_id = cause.aws_request_id.as_deref(),
                error = %sdk::Chain(cause),
                "AWS unavailable"
            ),
            _ => {}
        }
        err.into_response()
    })
}

/// A preflight's 204: the path's methods, the headers a request may carry, `Max-Age`.
/// The origin's header is added (or not) as on every answer.
fn preflight(methods: String) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    cors::preflight(response.headers_mut(), &methods);
    response
}

/// Headers every answer carries: no cache keeps a response (API answers hold tokens, codes
/// and personal data) unless the handler chose a policy itself (the widget's script), and
/// no browser guesses a content type other than the one declared.
fn secure_headers(headers: &mut lambda_http::http::HeaderMap) {
    use lambda_http::http::header;
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("panic in a handler: {text}")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope;
    use crate::router::{Method, Route, op};

    static ROUTES: Routes<()> = Routes::new(&[Route {
        path: "/api/user",
        operations: &[op(Method::Get, |_| Ok(()))],
    }]);

    fn get(path: &str) -> Request {
        let mut request = Request::new(Body::Empty);
        *request.uri_mut() = path.parse().unwrap();
        request
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_json_500_with_its_request_id() {
        let response = respond(get("/api/user"), &ROUTES, Cors::Anyone, |_, _| async {
            let items: Vec<u8> = Vec::new();
            // An out-of-bounds index: the kind of bug this guards against.
            Ok(envelope::message(
                StatusCode::OK,
                &items[items.len()].to_string(),
            ))
        })
        .await;
        assert_eq!(response.status(), 500);
        assert!(response.headers().contains_key("x-request-id"));
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert!(body["message"].as_str().unwrap().contains("X-Request-Id"));
    }

    #[tokio::test]
    async fn routes_of_other_functions_and_bad_methods_never_reach_dispatch() {
        let response = respond(get("/api/tokens"), &ROUTES, Cors::Anyone, |_, _| async {
            Err(ApiError::Conflict("dispatched"))
        })
        .await;
        assert_eq!(response.status(), 404);
        let mut post = get("/api/user");
        *post.method_mut() = lambda_http::http::Method::POST;
        let response = respond(post, &ROUTES, Cors::Anyone, |_, _| async {
            Err(ApiError::Conflict("dispatched"))
        })
        .await;
        assert_eq!(response.status(), 405);
    }

    #[tokio::test]
    async fn a_preflight_is_a_204_with_the_paths_methods_and_never_dispatches() {
        let mut options = get("/api/user");
        *options.method_mut() = lambda_http::http::Method::OPTIONS;
        options
            .headers_mut()
            .insert("origin", HeaderValue::from_static("https://shop.example"));
        let response = respond(options, &ROUTES, Cors::Anyone, |_, _| async {
            Err(ApiError::Conflict("dispatched"))
        })
        .await;
        assert_eq!(response.status(), 204);
        let headers = response.headers();
        assert_eq!(headers["access-control-allow-methods"], "GET, OPTIONS");
        assert_eq!(headers["access-control-max-age"], "86400");
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert!(
            headers["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .contains("authorization")
        );
        assert_eq!(headers["vary"], "Origin");
        let mut unknown = get("/api/nope");
        *unknown.method_mut() = lambda_http::http::Method::OPTIONS;
        let response = respond(unknown, &ROUTES, Cors::Anyone, |_, _| async {
            Err(ApiError::Conflict("dispatched"))
        })
        .await;
        assert_eq!(response.status(), 404);
    }
}

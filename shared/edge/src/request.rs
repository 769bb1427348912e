//! A request that reached one of our routes, parsed at the edge: its endpoint (with the
//! path's ids typed, matched once by the function's [`Routes`]), query, body fields,
//! bearer token and source address.

use std::collections::HashMap;

use lambda_http::http::header;
use lambda_http::{Request, RequestExt};

use crate::ApiError;
use crate::input::Input;
use crate::router::{Method, Routes};

/// A request of this API, parsed. The endpoint it asks for comes beside it from
/// [`ApiRequest::parse`].
#[derive(Debug)]
pub struct ApiRequest {
    pub method: Method,
    /// The route's pattern (`/api/chats/{chat_id}`): what the log line names.
    pub route: &'static str,
    pub query: HashMap<String, String>,
    pub body: Input,
    pub bearer: Option<String>,
    /// The caller's address as API Gateway saw it (`requestContext.http.sourceIp`): what
    /// per-source limits count. Not a header, so a client cannot choose it.
    pub source_ip: Option<String>,
}

impl ApiRequest {
    /// Resolves the endpoint among `routes` (404 / 405, or the 404 of a malformed id)
    /// and parses query and body (400 / 413 / 415). A route of another function is a 404.
    pub fn parse<E>(request: &Request, routes: &Routes<E>) -> Result<(Self, E), ApiError> {
        let (route, method, endpoint) =
            routes.resolve(request.method().as_str(), request.uri().path())?;
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
            route: route.path,
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
        crate::fields::per_page(self.query("per_page"), default, max)
    }

    /// `?cursor=` of a list, as given.
    pub fn cursor(&self) -> Option<String> {
        self.query("cursor").map(str::to_owned)
    }

    /// The caller's address, for per-source limits (`unknown` when API Gateway gave none).
    pub fn source(&self) -> &str {
        self.source_ip.as_deref().unwrap_or("unknown")
    }
}

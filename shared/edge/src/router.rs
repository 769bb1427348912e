//! Each function's routes: its paths, and for each method the endpoint it is, with the
//! path's ids parsed into their types. A function declares them once, as a
//! [`Routes`] of its own endpoint enum (its `routes.rs`); a request's path is matched
//! once, by a radix-tree router (`matchit`) built at the first request of an instance.
//!
//! `template.yaml`, the `cargo lambda watch` router in `Cargo.toml` and `openapi.yaml`
//! repeat the paths in their own formats; the `all_routes_agree` test in `tests/` collects
//! every function's routes and fails when any of them drifts.

use std::sync::OnceLock;

use domain::ids::{ChatId, CompanyId, EntityId};

use crate::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Get, Method::Post, Method::Put, Method::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `{name}` segments of a matched path. A malformed id is the 404 of its type.
#[derive(Debug)]
pub struct PathParams<'k, 'v>(matchit::Params<'k, 'v>);

impl PathParams<'_, '_> {
    /// The id in the segment `{name}`.
    pub fn id<T: EntityId>(&self, name: &str) -> Result<T, ApiError> {
        let raw = self
            .0
            .get(name)
            // A route built from a path without this parameter: a bug of its table,
            // which each function's `every_endpoint_builds_from_its_path` test catches.
            .ok_or_else(|| ApiError::internal(format!("the route has no {name} parameter")))?;
        T::parse(raw).ok_or(ApiError::NotFound(T::NOT_FOUND))
    }
}

/// Builds the endpoint of one method of a route from the path's parameters.
pub type Build<E> = fn(&PathParams<'_, '_>) -> Result<E, ApiError>;

#[derive(Debug)]
pub struct Operation<E: 'static> {
    pub method: Method,
    build: Build<E>,
}

pub const fn op<E>(method: Method, build: Build<E>) -> Operation<E> {
    Operation { method, build }
}

#[derive(Debug)]
pub struct Route<E: 'static> {
    /// Path pattern; `{name}` matches one non-empty segment.
    pub path: &'static str,
    pub operations: &'static [Operation<E>],
}

impl<E> Route<E> {
    pub fn methods(&self) -> impl Iterator<Item = Method> + '_ {
        self.operations.iter().map(|op| op.method)
    }

    fn allow(&self) -> String {
        self.methods()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The methods a preflight names: the path's, and `OPTIONS` itself.
    pub fn allow_with_options(&self) -> String {
        format!("{}, OPTIONS", self.allow())
    }
}

/// The company or chat a path is about (its `{company_id}` or `{chat_id}`): whose
/// `allowed_origins` its CORS answers follow (see [`crate::cors`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concerns {
    Company(CompanyId),
    Chat(ChatId),
    /// No company or chat in the path (or a malformed id, which is a 404 anyway).
    Nothing,
}

/// One function's routes, and their router.
#[derive(Debug)]
pub struct Routes<E: 'static> {
    routes: &'static [Route<E>],
    router: OnceLock<matchit::Router<usize>>,
}

const NO_ROUTE: ApiError = ApiError::NotFound("There is no such route.");

impl<E> Routes<E> {
    pub const fn new(routes: &'static [Route<E>]) -> Self {
        Self {
            routes,
            router: OnceLock::new(),
        }
    }

    pub fn all(&self) -> &'static [Route<E>] {
        self.routes
    }

    /// Every pattern in one radix tree; a pattern that does not fit (two that conflict)
    /// is a bug of the table: [`Routes::check`] finds it in the tests, and it is left out
    /// (a 404) rather than stopping every other route.
    fn router(&self) -> &matchit::Router<usize> {
        self.router.get_or_init(|| {
            let mut router = matchit::Router::new();
            for (index, route) in self.routes.iter().enumerate() {
                if let Err(err) = router.insert(route.path, index) {
                    tracing::error!(path = route.path, error = %err, "a route does not fit the router");
                }
            }
            router
        })
    }

    /// Whether every pattern fits the router (the functions' tests ask).
    pub fn check(&self) -> Result<(), String> {
        let mut router = matchit::Router::new();
        for route in self.routes {
            router
                .insert(route.path, ())
                .map_err(|err| format!("{}: {err}", route.path))?;
        }
        Ok(())
    }

    /// The route of a path, whatever the method, and what it concerns; `None` for a path
    /// of no route here.
    pub fn locate(&self, path: &str) -> Option<(&'static Route<E>, Concerns)> {
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        let matched = self.router().at(path).ok()?;
        let route = self.routes.get(*matched.value)?;
        let concerns = if let Some(company) = matched.params.get("company_id") {
            CompanyId::parse(company).map_or(Concerns::Nothing, Concerns::Company)
        } else if let Some(chat) = matched.params.get("chat_id") {
            ChatId::parse(chat).map_or(Concerns::Nothing, Concerns::Chat)
        } else {
            Concerns::Nothing
        };
        Some((route, concerns))
    }

    /// The route and endpoint of a method and path: 404 for a path of no route here (a
    /// literal segment beats a parameter, as in API Gateway), 405 with `Allow` for a
    /// method the path lacks, the 404 of its type for a malformed id.
    pub fn resolve(
        &self,
        method: &str,
        path: &str,
    ) -> Result<(&'static Route<E>, Method, E), ApiError> {
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        let matched = self.router().at(path).map_err(|_| NO_ROUTE)?;
        let route = self.routes.get(*matched.value).ok_or(NO_ROUTE)?;
        let operation = Method::parse(method)
            .and_then(|m| route.operations.iter().find(|op| op.method == m))
            .ok_or_else(|| ApiError::MethodNotAllowed {
                method: method.to_owned(),
                allow: route.allow(),
            })?;
        let endpoint = (operation.build)(&PathParams(matched.params))?;
        Ok((route, operation.method, endpoint))
    }

    /// Every operation builds its endpoint from its own path, with fresh ids in it: no
    /// builder reads a parameter its path lacks (the functions' tests ask).
    pub fn check_builds(&self) -> Result<(), String> {
        for route in self.routes {
            let path = route
                .path
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        ulid::Ulid::new().to_string()
                    } else {
                        s.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for operation in route.operations {
                let (found, _, _) = self
                    .resolve(operation.method.as_str(), &path)
                    .map_err(|e| format!("{} {}: {e}", operation.method, route.path))?;
                if found.path != route.path {
                    return Err(format!("{path} resolved to {}", found.path));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{ChatId, ChatUserId, MessageId};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Endpoint {
        Users(ChatId),
        User(ChatId, ChatUserId),
        SendCode(ChatId),
        Message(ChatId, MessageId),
        Companies,
    }

    static ROUTES: Routes<Endpoint> = Routes::new(&[
        Route {
            path: "/api/chats/{chat_id}/users",
            operations: &[op(Method::Get, |p| Ok(Endpoint::Users(p.id("chat_id")?)))],
        },
        Route {
            path: "/api/chats/{chat_id}/users/{chat_user_id}",
            operations: &[op(Method::Get, |p| {
                Ok(Endpoint::User(p.id("chat_id")?, p.id("chat_user_id")?))
            })],
        },
        Route {
            path: "/api/chats/{chat_id}/users/send-code",
            operations: &[op(Method::Post, |p| {
                Ok(Endpoint::SendCode(p.id("chat_id")?))
            })],
        },
        Route {
            path: "/api/chats/{chat_id}/messages/{message_id}",
            operations: &[op(Method::Get, |p| {
                Ok(Endpoint::Message(p.id("chat_id")?, p.id("message_id")?))
            })],
        },
        Route {
            path: "/api/companies",
            operations: &[
                op(Method::Get, |_| Ok(Endpoint::Companies)),
                op(Method::Post, |_| Ok(Endpoint::Companies)),
            ],
        },
    ]);

    #[test]
    fn literal_segments_win_over_parameters() {
        let chat = ChatId::new();
        let (route, _, endpoint) = ROUTES
            .resolve("POST", &format!("/api/chats/{chat}/users/send-code"))
            .unwrap();
        assert_eq!(route.path, "/api/chats/{chat_id}/users/send-code");
        assert_eq!(endpoint, Endpoint::SendCode(chat));
        let user = ChatUserId::new();
        let (route, _, endpoint) = ROUTES
            .resolve("GET", &format!("/api/chats/{chat}/users/{user}"))
            .unwrap();
        assert_eq!(route.path, "/api/chats/{chat_id}/users/{chat_user_id}");
        assert_eq!(endpoint, Endpoint::User(chat, user));
    }

    #[test]
    fn unknown_paths_do_not_resolve() {
        let status = |path: &str| ROUTES.resolve("GET", path).unwrap_err().status();
        assert_eq!(status("/api/nope"), 404);
        assert_eq!(status("/api/chats//users"), 404);
        assert_eq!(status("/"), 404);
        assert!(ROUTES.resolve("GET", "/api/companies/").is_ok());
    }

    #[test]
    fn malformed_ids_are_the_404_of_their_type() {
        let err = ROUTES
            .resolve("GET", "/api/chats/01J/messages/x")
            .unwrap_err();
        assert_eq!(err.status(), 404);
        assert_eq!(err.to_string(), "No such chat.");
        let chat = ChatId::new();
        let err = ROUTES
            .resolve("GET", &format!("/api/chats/{chat}/messages/x"))
            .unwrap_err();
        assert_eq!(err.to_string(), "No such message.");
        let err = ROUTES.resolve("PATCH", "/api/companies").unwrap_err();
        assert!(matches!(
            err,
            ApiError::MethodNotAllowed { allow, .. } if allow == "GET, POST"
        ));
    }

    #[test]
    fn a_path_names_the_chat_or_company_it_concerns() {
        let chat = ChatId::new();
        let (route, concerns) = ROUTES.locate(&format!("/api/chats/{chat}/users/")).unwrap();
        assert_eq!(route.path, "/api/chats/{chat_id}/users");
        assert_eq!(concerns, Concerns::Chat(chat));
        assert_eq!(route.allow_with_options(), "GET, OPTIONS");
        assert_eq!(
            ROUTES.locate("/api/companies").unwrap().1,
            Concerns::Nothing
        );
        assert_eq!(
            ROUTES.locate("/api/chats/x/users").unwrap().1,
            Concerns::Nothing
        );
        assert!(ROUTES.locate("/api/nope").is_none());
    }

    #[test]
    fn every_pattern_fits_and_builds() {
        assert_eq!(ROUTES.check(), Ok(()));
        assert_eq!(ROUTES.check_builds(), Ok(()));
    }
}

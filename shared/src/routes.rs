//! The route table: every path the API serves, and for each method the endpoint it is,
//! with its path ids already parsed into their types.
//!
//! This is the one source of routes. The functions dispatch on [`Endpoint`] with an
//! exhaustive `match`; `template.yaml`, the `cargo lambda watch` router in `Cargo.toml`
//! and `openapi.yaml` repeat the paths in their own formats, and the `routes_agree` test
//! in `tests/` fails when any of them drifts from this table.

use crate::error::ApiError;
use crate::ids::{
    ApiTokenId, ChatId, ChatUserId, CompanyId, DeliveryId, EntityId, MessageId, WebhookId,
};

/// The Lambda functions, one per resource family; the name is the binary's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    CurrentUser,
    Tokens,
    Companies,
    Chats,
    ChatUsers,
    ChatMessages,
    Webhooks,
    Widget,
}

impl Function {
    pub const ALL: [Function; 8] = [
        Function::CurrentUser,
        Function::Tokens,
        Function::Companies,
        Function::Chats,
        Function::ChatUsers,
        Function::ChatMessages,
        Function::Webhooks,
        Function::Widget,
    ];

    pub fn binary_name(self) -> &'static str {
        match self {
            Function::CurrentUser => "current-user",
            Function::Tokens => "tokens",
            Function::Companies => "companies",
            Function::Chats => "chats",
            Function::ChatUsers => "chat-users",
            Function::ChatMessages => "chat-messages",
            Function::Webhooks => "webhooks",
            Function::Widget => "widget",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Method::Get, Method::Post, Method::Put, Method::Delete]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request asks for, by function; ids from the path are parsed and typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    CurrentUser(CurrentUserEndpoint),
    Tokens(TokensEndpoint),
    Companies(CompaniesEndpoint),
    Chats(ChatsEndpoint),
    ChatUsers(ChatUsersEndpoint),
    ChatMessages(ChatMessagesEndpoint),
    Webhooks(WebhooksEndpoint),
    Widget(WidgetEndpoint),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurrentUserEndpoint {
    User,
    ChatUser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokensEndpoint {
    Login,
    List,
    Revoke(ApiTokenId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompaniesEndpoint {
    List,
    Create,
    Get(CompanyId),
    Update(CompanyId),
    Delete(CompanyId),
    /// Everything kept about one email in the company's chats.
    ExportData(CompanyId),
    /// Erases one email from the company's chats.
    EraseData(CompanyId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatsEndpoint {
    List,
    Create,
    Get(ChatId),
    Update(ChatId),
    Delete(ChatId),
    Share(ChatId),
    RealtimeTicket(ChatId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatUsersEndpoint {
    List(ChatId),
    Create(ChatId),
    Get(ChatId, ChatUserId),
    Update(ChatId, ChatUserId),
    Delete(ChatId, ChatUserId),
    MintToken(ChatId, ChatUserId),
    RevokeTokens(ChatId, ChatUserId),
    SendCode(ChatId),
    GetToken(ChatId),
    MarkRead(ChatId),
    Transcript(ChatId, ChatUserId),
    /// A guest's own export, after proving its email with a code.
    ExportData(ChatId),
    /// A guest's own erasure, after proving its email with a code.
    EraseData(ChatId),
    /// The one-click unsubscribe link of the unread-message emails (RFC 8058).
    Unsubscribe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatMessagesEndpoint {
    List(ChatId),
    Post(ChatId),
    Get(ChatId, MessageId),
    Edit(ChatId, MessageId),
    Delete(ChatId, MessageId),
    Events(ChatId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhooksEndpoint {
    List(CompanyId),
    Create(CompanyId),
    Get(CompanyId, WebhookId),
    Update(CompanyId, WebhookId),
    Delete(CompanyId, WebhookId),
    RotateSecret(CompanyId, WebhookId),
    Deliveries(CompanyId, WebhookId),
    RetryDelivery(CompanyId, WebhookId, DeliveryId),
}

/// The embeddable chat widget: its script and a page that embeds it (no AWS calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetEndpoint {
    Script,
    Demo(ChatId),
}

impl Endpoint {
    pub fn function(self) -> Function {
        match self {
            Endpoint::CurrentUser(_) => Function::CurrentUser,
            Endpoint::Tokens(_) => Function::Tokens,
            Endpoint::Companies(_) => Function::Companies,
            Endpoint::Chats(_) => Function::Chats,
            Endpoint::ChatUsers(_) => Function::ChatUsers,
            Endpoint::ChatMessages(_) => Function::ChatMessages,
            Endpoint::Webhooks(_) => Function::Webhooks,
            Endpoint::Widget(_) => Function::Widget,
        }
    }
}

/// The endpoints of one function: what its dispatch matches on.
pub trait FunctionEndpoint: Copy + Sized {
    const FUNCTION: Function;
    fn from_endpoint(endpoint: Endpoint) -> Option<Self>;
}

macro_rules! function_endpoint {
    ($type:ident, $variant:ident) => {
        impl FunctionEndpoint for $type {
            const FUNCTION: Function = Function::$variant;
            fn from_endpoint(endpoint: Endpoint) -> Option<Self> {
                match endpoint {
                    Endpoint::$variant(e) => Some(e),
                    _ => None,
                }
            }
        }
    };
}

function_endpoint!(CurrentUserEndpoint, CurrentUser);
function_endpoint!(TokensEndpoint, Tokens);
function_endpoint!(CompaniesEndpoint, Companies);
function_endpoint!(ChatsEndpoint, Chats);
function_endpoint!(ChatUsersEndpoint, ChatUsers);
function_endpoint!(ChatMessagesEndpoint, ChatMessages);
function_endpoint!(WebhooksEndpoint, Webhooks);
function_endpoint!(WidgetEndpoint, Widget);

/// The `{name}` segments of a matched path. Only the route table reads them, through
/// typed accessors; a malformed id is the 404 of its type.
#[derive(Debug, Default)]
pub struct PathParams(Vec<(&'static str, String)>);

impl PathParams {
    fn id<T: EntityId>(&self, name: &str) -> Result<T, ApiError> {
        let raw = self
            .0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            // A route built from a path without this parameter: a bug of this table,
            // which the `every_endpoint_builds_from_its_path` test catches.
            .ok_or_else(|| ApiError::internal(format!("the route has no {name} parameter")))?;
        T::parse(raw).ok_or(ApiError::NotFound(T::NOT_FOUND))
    }

    fn chat(&self) -> Result<ChatId, ApiError> {
        self.id("chat_id")
    }
    fn chat_user(&self) -> Result<ChatUserId, ApiError> {
        self.id("chat_user_id")
    }
    fn message(&self) -> Result<MessageId, ApiError> {
        self.id("message_id")
    }
    fn company(&self) -> Result<CompanyId, ApiError> {
        self.id("company_id")
    }
    fn api_token(&self) -> Result<ApiTokenId, ApiError> {
        self.id("token_id")
    }
    fn webhook(&self) -> Result<(CompanyId, WebhookId), ApiError> {
        Ok((self.company()?, self.id("webhook_id")?))
    }
    fn delivery(&self) -> Result<DeliveryId, ApiError> {
        self.id("delivery_id")
    }
}

type Build = fn(&PathParams) -> Result<Endpoint, ApiError>;

#[derive(Debug)]
pub struct Operation {
    pub method: Method,
    build: Build,
}

#[derive(Debug)]
pub struct Route {
    /// Path pattern; `{name}` matches one non-empty segment.
    pub path: &'static str,
    pub function: Function,
    pub operations: &'static [Operation],
}

impl Route {
    pub fn methods(&self) -> Vec<&'static str> {
        self.operations
            .iter()
            .map(|op| op.method.as_str())
            .collect()
    }

    fn operation(&self, method: Method) -> Option<&Operation> {
        self.operations.iter().find(|op| op.method == method)
    }
}

const fn op(method: Method, build: Build) -> Operation {
    Operation { method, build }
}

use Function::*;
use Method::{Delete, Get, Post, Put};
use WebhooksEndpoint as Hooks;

pub const ROUTES: &[Route] = &[
    Route {
        path: "/api/user",
        function: CurrentUser,
        operations: &[op(Get, |_| {
            Ok(Endpoint::CurrentUser(CurrentUserEndpoint::User))
        })],
    },
    Route {
        path: "/api/chat-user",
        function: CurrentUser,
        operations: &[op(Get, |_| {
            Ok(Endpoint::CurrentUser(CurrentUserEndpoint::ChatUser))
        })],
    },
    Route {
        path: "/api/tokens",
        function: Tokens,
        operations: &[
            op(Get, |_| Ok(Endpoint::Tokens(TokensEndpoint::List))),
            op(Post, |_| Ok(Endpoint::Tokens(TokensEndpoint::Login))),
        ],
    },
    Route {
        path: "/api/tokens/{token_id}",
        function: Tokens,
        operations: &[op(Delete, |p| {
            Ok(Endpoint::Tokens(TokensEndpoint::Revoke(p.api_token()?)))
        })],
    },
    Route {
        path: "/api/companies",
        function: Companies,
        operations: &[
            op(Get, |_| Ok(Endpoint::Companies(CompaniesEndpoint::List))),
            op(Post, |_| Ok(Endpoint::Companies(CompaniesEndpoint::Create))),
        ],
    },
    Route {
        path: "/api/companies/{company_id}",
        function: Companies,
        operations: &[
            op(Get, |p| {
                Ok(Endpoint::Companies(CompaniesEndpoint::Get(p.company()?)))
            }),
            op(Put, |p| {
                Ok(Endpoint::Companies(CompaniesEndpoint::Update(p.company()?)))
            }),
            op(Delete, |p| {
                Ok(Endpoint::Companies(CompaniesEndpoint::Delete(p.company()?)))
            }),
        ],
    },
    Route {
        path: "/api/companies/{company_id}/export-data",
        function: Companies,
        operations: &[op(Post, |p| {
            Ok(Endpoint::Companies(CompaniesEndpoint::ExportData(
                p.company()?,
            )))
        })],
    },
    Route {
        path: "/api/companies/{company_id}/erase-data",
        function: Companies,
        operations: &[op(Post, |p| {
            Ok(Endpoint::Companies(CompaniesEndpoint::EraseData(
                p.company()?,
            )))
        })],
    },
    Route {
        path: "/api/chats",
        function: Chats,
        operations: &[
            op(Get, |_| Ok(Endpoint::Chats(ChatsEndpoint::List))),
            op(Post, |_| Ok(Endpoint::Chats(ChatsEndpoint::Create))),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}",
        function: Chats,
        operations: &[
            op(Get, |p| Ok(Endpoint::Chats(ChatsEndpoint::Get(p.chat()?)))),
            op(Put, |p| {
                Ok(Endpoint::Chats(ChatsEndpoint::Update(p.chat()?)))
            }),
            op(Delete, |p| {
                Ok(Endpoint::Chats(ChatsEndpoint::Delete(p.chat()?)))
            }),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/share",
        function: Chats,
        operations: &[op(Post, |p| {
            Ok(Endpoint::Chats(ChatsEndpoint::Share(p.chat()?)))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/realtime-ticket",
        function: Chats,
        operations: &[op(Post, |p| {
            Ok(Endpoint::Chats(ChatsEndpoint::RealtimeTicket(p.chat()?)))
        })],
    },
    // The seed's path, kept as an alias of the /api one.
    Route {
        path: "/chats/{chat_id}/share",
        function: Chats,
        operations: &[op(Post, |p| {
            Ok(Endpoint::Chats(ChatsEndpoint::Share(p.chat()?)))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/users",
        function: ChatUsers,
        operations: &[
            op(Get, |p| {
                Ok(Endpoint::ChatUsers(ChatUsersEndpoint::List(p.chat()?)))
            }),
            op(Post, |p| {
                Ok(Endpoint::ChatUsers(ChatUsersEndpoint::Create(p.chat()?)))
            }),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/users/{chat_user_id}",
        function: ChatUsers,
        operations: &[
            op(Get, |p| {
                Ok(Endpoint::ChatUsers(ChatUsersEndpoint::Get(
                    p.chat()?,
                    p.chat_user()?,
                )))
            }),
            op(Put, |p| {
                Ok(Endpoint::ChatUsers(ChatUsersEndpoint::Update(
                    p.chat()?,
                    p.chat_user()?,
                )))
            }),
            op(Delete, |p| {
                Ok(Endpoint::ChatUsers(ChatUsersEndpoint::Delete(
                    p.chat()?,
                    p.chat_user()?,
                )))
            }),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/users/{chat_user_id}/token",
        function: ChatUsers,
        operations: &[op(Post, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::MintToken(
                p.chat()?,
                p.chat_user()?,
            )))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/users/send-code",
        function: ChatUsers,
        operations: &[op(Post, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::SendCode(p.chat()?)))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/users/get-token",
        function: ChatUsers,
        operations: &[op(Post, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::GetToken(p.chat()?)))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/users/export-data",
        function: ChatUsers,
        operations: &[op(Post, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::ExportData(
                p.chat()?,
            )))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/users/erase-data",
        function: ChatUsers,
        operations: &[op(Post, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::EraseData(p.chat()?)))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/users/{chat_user_id}/revoke-tokens",
        function: ChatUsers,
        operations: &[op(Post, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::RevokeTokens(
                p.chat()?,
                p.chat_user()?,
            )))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/users/{chat_user_id}/transcript",
        function: ChatUsers,
        operations: &[op(Post, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::Transcript(
                p.chat()?,
                p.chat_user()?,
            )))
        })],
    },
    Route {
        path: "/api/email/unsubscribe",
        function: ChatUsers,
        operations: &[
            op(Get, |_| {
                Ok(Endpoint::ChatUsers(ChatUsersEndpoint::Unsubscribe))
            }),
            op(Post, |_| {
                Ok(Endpoint::ChatUsers(ChatUsersEndpoint::Unsubscribe))
            }),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/read",
        function: ChatUsers,
        operations: &[op(Put, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::MarkRead(p.chat()?)))
        })],
    },
    // The seed's paths, kept as aliases of the /api ones.
    Route {
        path: "/chats/{chat_id}/users/send-code",
        function: ChatUsers,
        operations: &[op(Post, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::SendCode(p.chat()?)))
        })],
    },
    Route {
        path: "/chats/{chat_id}/users/get-token",
        function: ChatUsers,
        operations: &[op(Post, |p| {
            Ok(Endpoint::ChatUsers(ChatUsersEndpoint::GetToken(p.chat()?)))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/messages",
        function: ChatMessages,
        operations: &[
            op(Get, |p| {
                Ok(Endpoint::ChatMessages(ChatMessagesEndpoint::List(
                    p.chat()?,
                )))
            }),
            op(Post, |p| {
                Ok(Endpoint::ChatMessages(ChatMessagesEndpoint::Post(
                    p.chat()?,
                )))
            }),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/messages/{message_id}",
        function: ChatMessages,
        operations: &[
            op(Get, |p| {
                Ok(Endpoint::ChatMessages(ChatMessagesEndpoint::Get(
                    p.chat()?,
                    p.message()?,
                )))
            }),
            op(Put, |p| {
                Ok(Endpoint::ChatMessages(ChatMessagesEndpoint::Edit(
                    p.chat()?,
                    p.message()?,
                )))
            }),
            op(Delete, |p| {
                Ok(Endpoint::ChatMessages(ChatMessagesEndpoint::Delete(
                    p.chat()?,
                    p.message()?,
                )))
            }),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/events",
        function: ChatMessages,
        operations: &[op(Get, |p| {
            Ok(Endpoint::ChatMessages(ChatMessagesEndpoint::Events(
                p.chat()?,
            )))
        })],
    },
    Route {
        path: "/api/companies/{company_id}/webhooks",
        function: Webhooks,
        operations: &[
            op(Get, |p| Ok(Endpoint::Webhooks(Hooks::List(p.company()?)))),
            op(Post, |p| {
                Ok(Endpoint::Webhooks(Hooks::Create(p.company()?)))
            }),
        ],
    },
    Route {
        path: "/api/companies/{company_id}/webhooks/{webhook_id}",
        function: Webhooks,
        operations: &[
            op(Get, |p| {
                let (c, w) = p.webhook()?;
                Ok(Endpoint::Webhooks(Hooks::Get(c, w)))
            }),
            op(Put, |p| {
                let (c, w) = p.webhook()?;
                Ok(Endpoint::Webhooks(Hooks::Update(c, w)))
            }),
            op(Delete, |p| {
                let (c, w) = p.webhook()?;
                Ok(Endpoint::Webhooks(Hooks::Delete(c, w)))
            }),
        ],
    },
    Route {
        path: "/api/companies/{company_id}/webhooks/{webhook_id}/rotate-secret",
        function: Webhooks,
        operations: &[op(Post, |p| {
            let (c, w) = p.webhook()?;
            Ok(Endpoint::Webhooks(Hooks::RotateSecret(c, w)))
        })],
    },
    Route {
        path: "/api/companies/{company_id}/webhooks/{webhook_id}/deliveries",
        function: Webhooks,
        operations: &[op(Get, |p| {
            let (c, w) = p.webhook()?;
            Ok(Endpoint::Webhooks(Hooks::Deliveries(c, w)))
        })],
    },
    Route {
        path: "/api/companies/{company_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
        function: Webhooks,
        operations: &[op(Post, |p| {
            let (c, w) = p.webhook()?;
            Ok(Endpoint::Webhooks(Hooks::RetryDelivery(
                c,
                w,
                p.delivery()?,
            )))
        })],
    },
    // The chat widget, served by the API itself so that `sam deploy` alone ships it.
    Route {
        path: "/widget.js",
        function: Widget,
        operations: &[op(Get, |_| Ok(Endpoint::Widget(WidgetEndpoint::Script)))],
    },
    Route {
        path: "/widget/demo/{chat_id}",
        function: Widget,
        operations: &[op(Get, |p| {
            Ok(Endpoint::Widget(WidgetEndpoint::Demo(p.chat()?)))
        })],
    },
];

/// The functions that serve no HTTP route: the WebSocket API's routes, the DynamoDB
/// stream's consumers (`fanout`: sockets; `dispatch`: webhook and email jobs) and the SQS
/// queues' consumers (`deliver`: webhooks; `notify`: unread-message emails); see
/// `template.yaml`.
pub const EVENT_FUNCTIONS: [&str; 6] = [
    "realtime",
    "fanout",
    "dispatch",
    "lifecycle",
    "deliver",
    "notify",
];

/// The WebSocket API's routes besides `$connect`, `$disconnect` and `$default`: the
/// `action` of a client frame (route selection `$request.body.action`).
pub const WEBSOCKET_ACTIONS: [&str; 2] = ["ping", "typing"];

/// Finds the route for a path and its parameters. A literal segment beats a parameter
/// (`/users/send-code` is not the chat user `send-code`), as in API Gateway.
///
/// Every request of every function resolves its path (twice: [`crate::http`] checks the
/// function, then [`endpoint`] builds the endpoint), so patterns are compared in place and
/// only the winner's parameters are copied: collecting each pattern's segments and
/// parameters allocated about 85,000 instructions' worth per request (BENCHMARKS.md §2).
pub fn resolve(path: &str) -> Option<(&'static Route, PathParams)> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    // The best match so far: the route and its count of literal segments.
    let mut best: Option<(&'static Route, usize)> = None;
    for route in ROUTES {
        if route.path.split('/').count() != segments.len() {
            continue;
        }
        let mut literals = 0;
        let matched = route.path.split('/').zip(&segments).all(|(p, s)| {
            if parameter(p).is_some() {
                !s.is_empty()
            } else {
                literals += 1;
                p == *s
            }
        });
        if matched && best.is_none_or(|(_, l)| literals > l) {
            best = Some((route, literals));
        }
    }
    let (route, _) = best?;
    let params = route
        .path
        .split('/')
        .zip(&segments)
        .filter_map(|(p, s)| parameter(p).map(|name| (name, (*s).to_owned())))
        .collect();
    Some((route, PathParams(params)))
}

/// The name of a pattern segment that is a parameter (`{chat_id}`).
fn parameter(segment: &str) -> Option<&str> {
    segment.strip_prefix('{').and_then(|p| p.strip_suffix('}'))
}

/// Why a path and method are not an endpoint of this API.
#[derive(Debug)]
pub enum Unroutable {
    NoRoute,
    /// The path exists, the method does not: answer 405 with `Allow`.
    MethodNotAllowed {
        allow: String,
    },
}

/// The endpoint a method and path ask for. Ids in the path that are not ids are the
/// 404 of their type (`Err(Ok(..))` holds that error).
pub fn endpoint(method: &str, path: &str) -> Result<Result<Endpoint, ApiError>, Unroutable> {
    let (route, params) = resolve(path).ok_or(Unroutable::NoRoute)?;
    let operation = Method::parse(method)
        .and_then(|m| route.operation(m))
        .ok_or_else(|| Unroutable::MethodNotAllowed {
            allow: route.methods().join(", "),
        })?;
    Ok((operation.build)(&params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_over_parameters() {
        let (route, params) = resolve("/api/chats/01J/users/send-code").unwrap();
        assert_eq!(route.path, "/api/chats/{chat_id}/users/send-code");
        assert_eq!(params.0, vec![("chat_id", "01J".to_owned())]);
        let (route, params) = resolve("/api/chats/01J/users/01K").unwrap();
        assert_eq!(route.path, "/api/chats/{chat_id}/users/{chat_user_id}");
        assert_eq!(params.0[1], ("chat_user_id", "01K".to_owned()));
    }

    #[test]
    fn unknown_paths_do_not_resolve() {
        assert!(resolve("/api/nope").is_none());
        assert!(resolve("/api/chats//users").is_none());
        assert!(resolve("/").is_none());
        assert!(resolve("/api/companies/").is_some());
    }

    #[test]
    fn every_pattern_is_unique() {
        let mut paths: Vec<_> = ROUTES.iter().map(|r| r.path).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), ROUTES.len());
    }

    /// Every operation builds its endpoint from its own path (so no builder reads a
    /// parameter its path lacks) and belongs to its route's function.
    #[test]
    fn every_endpoint_builds_from_its_path() {
        for route in ROUTES {
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
                let endpoint = endpoint(operation.method.as_str(), &path)
                    .unwrap_or_else(|e| panic!("{} {}: {e:?}", operation.method, route.path))
                    .unwrap_or_else(|e| panic!("{} {}: {e}", operation.method, route.path));
                assert_eq!(endpoint.function(), route.function, "{}", route.path);
            }
        }
    }

    #[test]
    fn malformed_ids_are_the_404_of_their_type() {
        let err = endpoint("GET", "/api/chats/01J/messages/x")
            .unwrap()
            .unwrap_err();
        assert_eq!(err.status(), 404);
        assert_eq!(err.to_string(), "No such chat.");
        let chat = ChatId::new();
        let err = endpoint("GET", &format!("/api/chats/{chat}/messages/x"))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.to_string(), "No such message.");
        assert!(matches!(
            endpoint("PATCH", "/api/companies"),
            Err(Unroutable::MethodNotAllowed { allow }) if allow == "GET, POST"
        ));
    }
}

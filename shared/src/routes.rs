//! The route table: every path the API serves, its methods and the function that owns it.
//!
//! This is the source the functions dispatch from. `template.yaml`, the `cargo lambda
//! watch` router in `Cargo.toml` and `openapi.yaml` repeat it in their own formats; the
//! `routes_agree` test in `tests/` fails when any of them drifts from this table.

/// The Lambda functions, one per resource family; the name is the binary's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    CurrentUser,
    Tokens,
    Companies,
    Chats,
    ChatUsers,
    ChatMessages,
}

impl Function {
    pub const ALL: [Function; 6] = [
        Function::CurrentUser,
        Function::Tokens,
        Function::Companies,
        Function::Chats,
        Function::ChatUsers,
        Function::ChatMessages,
    ];

    pub fn binary_name(self) -> &'static str {
        match self {
            Function::CurrentUser => "current-user",
            Function::Tokens => "tokens",
            Function::Companies => "companies",
            Function::Chats => "chats",
            Function::ChatUsers => "chat-users",
            Function::ChatMessages => "chat-messages",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Route {
    /// Path pattern; `{name}` matches one non-empty segment.
    pub path: &'static str,
    pub methods: &'static [&'static str],
    pub function: Function,
}

const fn route(path: &'static str, methods: &'static [&'static str], function: Function) -> Route {
    Route {
        path,
        methods,
        function,
    }
}

use Function::*;

pub const ROUTES: &[Route] = &[
    route("/api/user", &["GET"], CurrentUser),
    route("/api/chat-user", &["GET"], CurrentUser),
    route("/api/tokens", &["GET", "POST"], Tokens),
    route("/api/tokens/{token_id}", &["DELETE"], Tokens),
    route("/api/companies", &["GET", "POST"], Companies),
    route(
        "/api/companies/{company_id}",
        &["GET", "PUT", "DELETE"],
        Companies,
    ),
    route("/api/chats", &["GET", "POST"], Chats),
    route("/api/chats/{chat_id}", &["GET", "PUT", "DELETE"], Chats),
    route("/api/chats/{chat_id}/share", &["POST"], Chats),
    route("/chats/{chat_id}/share", &["POST"], Chats),
    route("/api/chats/{chat_id}/users", &["GET", "POST"], ChatUsers),
    route(
        "/api/chats/{chat_id}/users/{chat_user_id}",
        &["GET", "PUT", "DELETE"],
        ChatUsers,
    ),
    route(
        "/api/chats/{chat_id}/users/{chat_user_id}/token",
        &["POST"],
        ChatUsers,
    ),
    route("/api/chats/{chat_id}/users/send-code", &["POST"], ChatUsers),
    route("/api/chats/{chat_id}/users/get-token", &["POST"], ChatUsers),
    route("/chats/{chat_id}/users/send-code", &["POST"], ChatUsers),
    route("/chats/{chat_id}/users/get-token", &["POST"], ChatUsers),
    route(
        "/api/chats/{chat_id}/messages",
        &["GET", "POST"],
        ChatMessages,
    ),
    route(
        "/api/chats/{chat_id}/messages/{message_id}",
        &["GET", "PUT", "DELETE"],
        ChatMessages,
    ),
];

/// Finds the route for a path and its parameters. A literal segment beats a parameter
/// (`/users/send-code` is not the chat user `send-code`), as in API Gateway.
pub fn resolve(path: &str) -> Option<(&'static Route, Vec<(&'static str, String)>)> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(&'static Route, Vec<(&'static str, String)>, usize)> = None;
    for route in ROUTES {
        let pattern: Vec<&str> = route.path.split('/').collect();
        if pattern.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let mut literals = 0;
        let matched = pattern.iter().zip(&segments).all(|(p, s)| {
            if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                params.push((name, (*s).to_owned()));
                !s.is_empty()
            } else {
                literals += 1;
                p == s
            }
        });
        if matched && best.as_ref().is_none_or(|(_, _, l)| literals > *l) {
            best = Some((route, params, literals));
        }
    }
    best.map(|(route, params, _)| (route, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_over_parameters() {
        let (route, params) = resolve("/api/chats/01J/users/send-code").unwrap();
        assert_eq!(route.path, "/api/chats/{chat_id}/users/send-code");
        assert_eq!(params, vec![("chat_id", "01J".to_owned())]);
        let (route, params) = resolve("/api/chats/01J/users/01K").unwrap();
        assert_eq!(route.path, "/api/chats/{chat_id}/users/{chat_user_id}");
        assert_eq!(params[1], ("chat_user_id", "01K".to_owned()));
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
}

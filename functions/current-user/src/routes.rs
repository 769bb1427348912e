//! The routes of `current-user` (API Gateway's `$default` route also lands here, so an
//! unknown path gets the same JSON 404 as everything else).

use edge::router::Method::Get;
use edge::router::{Route, Routes, op};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    User,
    ChatUser,
}

pub static ROUTES: Routes<Endpoint> = Routes::new(&[
    Route {
        path: "/api/user",
        operations: &[op(Get, |_| Ok(Endpoint::User))],
    },
    Route {
        path: "/api/chat-user",
        operations: &[op(Get, |_| Ok(Endpoint::ChatUser))],
    },
]);

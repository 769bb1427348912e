//! The routes of `tokens`.

use domain::ids::ApiTokenId;
use edge::router::Method::{Delete, Get, Post};
use edge::router::{Route, Routes, op};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Login,
    List,
    Revoke(ApiTokenId),
}

pub static ROUTES: Routes<Endpoint> = Routes::new(&[
    Route {
        path: "/api/tokens",
        operations: &[
            op(Get, |_| Ok(Endpoint::List)),
            op(Post, |_| Ok(Endpoint::Login)),
        ],
    },
    Route {
        path: "/api/tokens/{token_id}",
        operations: &[op(Delete, |p| Ok(Endpoint::Revoke(p.id("token_id")?)))],
    },
]);

//! The routes of `chats`.

use domain::ids::ChatId;
use edge::router::Method::{Delete, Get, Post, Put};
use edge::router::{Route, Routes, op};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    List,
    Create,
    Get(ChatId),
    Update(ChatId),
    Delete(ChatId),
    Share(ChatId),
    RealtimeTicket(ChatId),
    Assign(ChatId),
    Status(ChatId),
    Inbox,
}

const CHAT: &str = "chat_id";

pub static ROUTES: Routes<Endpoint> = Routes::new(&[
    Route {
        path: "/api/chats",
        operations: &[
            op(Get, |_| Ok(Endpoint::List)),
            op(Post, |_| Ok(Endpoint::Create)),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}",
        operations: &[
            op(Get, |p| Ok(Endpoint::Get(p.id(CHAT)?))),
            op(Put, |p| Ok(Endpoint::Update(p.id(CHAT)?))),
            op(Delete, |p| Ok(Endpoint::Delete(p.id(CHAT)?))),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/share",
        operations: &[op(Post, |p| Ok(Endpoint::Share(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/chats/{chat_id}/realtime-ticket",
        operations: &[op(Post, |p| Ok(Endpoint::RealtimeTicket(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/chats/{chat_id}/assign",
        operations: &[op(Post, |p| Ok(Endpoint::Assign(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/chats/{chat_id}/status",
        operations: &[op(Post, |p| Ok(Endpoint::Status(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/inbox",
        operations: &[op(Get, |_| Ok(Endpoint::Inbox))],
    },
    // The seed's path, kept as an alias of the /api one.
    Route {
        path: "/chats/{chat_id}/share",
        operations: &[op(Post, |p| Ok(Endpoint::Share(p.id(CHAT)?)))],
    },
]);

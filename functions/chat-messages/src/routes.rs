//! The routes of `chat-messages`.

use domain::ids::{ChatId, MessageId};
use edge::router::Method::{Delete, Get, Post, Put};
use edge::router::{Route, Routes, op};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    List(ChatId),
    Post(ChatId),
    Get(ChatId, MessageId),
    Edit(ChatId, MessageId),
    Delete(ChatId, MessageId),
    Events(ChatId),
    /// An upload slot for a file (spec §10).
    Upload(ChatId),
}

const CHAT: &str = "chat_id";
const MESSAGE: &str = "message_id";

pub static ROUTES: Routes<Endpoint> = Routes::new(&[
    Route {
        path: "/api/chats/{chat_id}/messages",
        operations: &[
            op(Get, |p| Ok(Endpoint::List(p.id(CHAT)?))),
            op(Post, |p| Ok(Endpoint::Post(p.id(CHAT)?))),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/messages/{message_id}",
        operations: &[
            op(Get, |p| Ok(Endpoint::Get(p.id(CHAT)?, p.id(MESSAGE)?))),
            op(Put, |p| Ok(Endpoint::Edit(p.id(CHAT)?, p.id(MESSAGE)?))),
            op(Delete, |p| {
                Ok(Endpoint::Delete(p.id(CHAT)?, p.id(MESSAGE)?))
            }),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/attachments",
        operations: &[op(Post, |p| Ok(Endpoint::Upload(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/chats/{chat_id}/events",
        operations: &[op(Get, |p| Ok(Endpoint::Events(p.id(CHAT)?)))],
    },
]);

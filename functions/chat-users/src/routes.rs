//! The routes of `chat-users`.

use domain::ids::{ChatId, ChatUserId, CompanyId};
use edge::router::Method::{Delete, Get, Post, Put};
use edge::router::{Route, Routes, op};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
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
    /// A company's front door: a code for the visitor's own conversation.
    ConversationCode(CompanyId),
    /// The code in exchange for the conversation and a chat-user token.
    ConversationToken(CompanyId),
    /// A visitor its company's site vouches for (a signed identity).
    Identify(CompanyId),
}

const CHAT: &str = "chat_id";
const COMPANY: &str = "company_id";
const CHAT_USER: &str = "chat_user_id";

pub static ROUTES: Routes<Endpoint> = Routes::new(&[
    Route {
        path: "/api/chats/{chat_id}/users",
        operations: &[
            op(Get, |p| Ok(Endpoint::List(p.id(CHAT)?))),
            op(Post, |p| Ok(Endpoint::Create(p.id(CHAT)?))),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/users/{chat_user_id}",
        operations: &[
            op(Get, |p| Ok(Endpoint::Get(p.id(CHAT)?, p.id(CHAT_USER)?))),
            op(Put, |p| Ok(Endpoint::Update(p.id(CHAT)?, p.id(CHAT_USER)?))),
            op(Delete, |p| {
                Ok(Endpoint::Delete(p.id(CHAT)?, p.id(CHAT_USER)?))
            }),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/users/{chat_user_id}/token",
        operations: &[op(Post, |p| {
            Ok(Endpoint::MintToken(p.id(CHAT)?, p.id(CHAT_USER)?))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/users/send-code",
        operations: &[op(Post, |p| Ok(Endpoint::SendCode(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/chats/{chat_id}/users/get-token",
        operations: &[op(Post, |p| Ok(Endpoint::GetToken(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/chats/{chat_id}/users/export-data",
        operations: &[op(Post, |p| Ok(Endpoint::ExportData(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/chats/{chat_id}/users/erase-data",
        operations: &[op(Post, |p| Ok(Endpoint::EraseData(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/chats/{chat_id}/users/{chat_user_id}/revoke-tokens",
        operations: &[op(Post, |p| {
            Ok(Endpoint::RevokeTokens(p.id(CHAT)?, p.id(CHAT_USER)?))
        })],
    },
    Route {
        path: "/api/chats/{chat_id}/users/{chat_user_id}/transcript",
        operations: &[op(Post, |p| {
            Ok(Endpoint::Transcript(p.id(CHAT)?, p.id(CHAT_USER)?))
        })],
    },
    Route {
        path: "/api/email/unsubscribe",
        operations: &[
            op(Get, |_| Ok(Endpoint::Unsubscribe)),
            op(Post, |_| Ok(Endpoint::Unsubscribe)),
        ],
    },
    Route {
        path: "/api/chats/{chat_id}/read",
        operations: &[op(Put, |p| Ok(Endpoint::MarkRead(p.id(CHAT)?)))],
    },
    Route {
        path: "/api/companies/{company_id}/conversations/send-code",
        operations: &[op(Post, |p| Ok(Endpoint::ConversationCode(p.id(COMPANY)?)))],
    },
    Route {
        path: "/api/companies/{company_id}/conversations/get-token",
        operations: &[op(Post, |p| {
            Ok(Endpoint::ConversationToken(p.id(COMPANY)?))
        })],
    },
    Route {
        path: "/api/companies/{company_id}/conversations/identify",
        operations: &[op(Post, |p| Ok(Endpoint::Identify(p.id(COMPANY)?)))],
    },
    // The seed's paths, kept as aliases of the /api ones.
    Route {
        path: "/chats/{chat_id}/users/send-code",
        operations: &[op(Post, |p| Ok(Endpoint::SendCode(p.id(CHAT)?)))],
    },
    Route {
        path: "/chats/{chat_id}/users/get-token",
        operations: &[op(Post, |p| Ok(Endpoint::GetToken(p.id(CHAT)?)))],
    },
]);

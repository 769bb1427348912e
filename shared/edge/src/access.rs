//! Who may touch a chat: its owner (API token of the user owning the chat's company)
//! or one of its chat users (chat-user token of that chat). Shared by the chats,
//! chat-users and chat-messages functions.

use domain::chat::ChatRecord;
use domain::events::Audience;
use domain::ids::{ChatId, EntityId};
use domain::realtime::{Grant, Subscriber};

use crate::api_error::ApiError;
use crate::auth::{self, Caller, Guest, Operator};
use crate::context::Context;
use crate::request::ApiRequest;

pub const NO_SUCH_CHAT: &str = ChatId::NOT_FOUND;
pub const OTHER_CHAT: &str = "This chat-user token belongs to another chat.";

/// The caller, allowed into the chat of the path's `chat_id`.
#[derive(Debug, Clone)]
pub enum ChatAccess {
    Owner {
        operator: Operator,
        chat: ChatRecord,
    },
    Member(Guest),
}

impl ChatAccess {
    pub fn chat(&self) -> &ChatRecord {
        match self {
            ChatAccess::Owner { chat, .. } => chat,
            ChatAccess::Member(guest) => &guest.chat,
        }
    }

    /// Who it is, as what its events show it.
    pub fn audience(&self) -> Audience {
        self.subscriber().audience()
    }

    /// Who it is, as a socket's holder.
    pub fn subscriber(&self) -> Subscriber {
        match self {
            ChatAccess::Owner { operator, .. } => Subscriber::Owner(operator.user.id),
            ChatAccess::Member(guest) => Subscriber::ChatUser(guest.chat_user.id),
        }
    }

    /// The key its budgets (the domain's `rate_limit::budgets`) count under.
    pub fn budget_key(&self) -> String {
        match self {
            ChatAccess::Owner { operator, .. } => operator.budget_key(),
            ChatAccess::Member(guest) => guest.budget_key(),
        }
    }

    /// Who it is and the access it came with: what a realtime ticket is minted under.
    pub fn grant(&self) -> (Subscriber, Grant) {
        let grant = match self {
            ChatAccess::Owner { operator, .. } => Grant::ApiToken {
                token_id: operator.token.id,
            },
            ChatAccess::Member(guest) => Grant::ChatUserToken {
                token_issued_ms: guest.token_issued_ms,
            },
        };
        (self.subscriber(), grant)
    }
}

/// Reads a chat for its owner: another owner's chat (or none) is a 404.
pub async fn owned_chat(
    ctx: &Context,
    operator: &Operator,
    chat_id: ChatId,
) -> Result<ChatRecord, ApiError> {
    ctx.db
        .chats()
        .get(chat_id)
        .await?
        .filter(|chat| chat.owner_id == operator.user.id)
        .ok_or(ApiError::NotFound(NO_SUCH_CHAT))
}

/// Owner or member of the chat. A chat-user token of another chat is a 403.
pub async fn chat_access(
    ctx: &Context,
    request: &ApiRequest,
    chat_id: ChatId,
) -> Result<ChatAccess, ApiError> {
    match auth::authenticate(ctx, request).await? {
        Caller::Operator(operator) => {
            let chat = owned_chat(ctx, &operator, chat_id).await?;
            Ok(ChatAccess::Owner { operator, chat })
        }
        Caller::Guest(guest) => member_of(guest, chat_id).map(ChatAccess::Member),
    }
}

/// Only the owner of the chat (API token).
pub async fn owner_access(
    ctx: &Context,
    request: &ApiRequest,
    chat_id: ChatId,
) -> Result<(Operator, ChatRecord), ApiError> {
    let operator = auth::operator(ctx, request).await?;
    let chat = owned_chat(ctx, &operator, chat_id).await?;
    Ok((operator, chat))
}

/// Only a chat user of the chat (chat-user token).
pub async fn member_access(
    ctx: &Context,
    request: &ApiRequest,
    chat_id: ChatId,
) -> Result<Guest, ApiError> {
    let guest = auth::guest(ctx, request).await?;
    member_of(guest, chat_id)
}

fn member_of(guest: Guest, chat_id: ChatId) -> Result<Guest, ApiError> {
    if guest.chat.id == chat_id {
        Ok(guest)
    } else {
        Err(ApiError::Forbidden(OTHER_CHAT))
    }
}

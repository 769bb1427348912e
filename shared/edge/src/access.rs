//! Who may touch a company and its chats: a member of the company whose role allows the
//! action (API token), decided by [`authorize`] from the domain's one table of actions ×
//! roles and the caller's memberships (its user item, read with its token: no extra
//! round trip); or, for a chat, one of its chat users (chat-user token of that chat).
//! A non-member gets the 404 a missing company or chat gets; a member whose role is too
//! low a 403. Shared by every function with company or chat routes.

use std::borrow::Cow;

use domain::chat::{ChatRecord, ChatResource};
use domain::events::Audience;
use domain::ids::{ChatId, CompanyId, EntityId};
use domain::message::Author;
use domain::realtime::{Grant, Subscriber};
use domain::team::{Action, Membership};

use crate::api_error::ApiError;
use crate::auth::{self, Caller, Guest, Operator};
use crate::context::Context;
use crate::request::ApiRequest;
use storage::Db;

pub const NO_SUCH_CHAT: &str = ChatId::NOT_FOUND;
pub const NO_SUCH_COMPANY: &str = CompanyId::NOT_FOUND;
pub const OTHER_CHAT: &str = "This chat-user token belongs to another chat.";
pub const ROLE_TOO_LOW: &str = "Your role in this company does not allow this.";

/// The caller's membership of `company`, if its role allows `action`: a non-member gets
/// `not_found` (404, as if the company did not exist), a member whose role does not
/// allow it a 403. The one place that answers "may this operator do that here".
pub fn authorize(
    operator: &Operator,
    company: CompanyId,
    action: Action,
    not_found: &'static str,
) -> Result<Membership, ApiError> {
    let membership = *operator
        .user
        .memberships
        .get(&company)
        .ok_or(ApiError::NotFound(not_found))?;
    if membership.allows(action) {
        Ok(membership)
    } else {
        Err(ApiError::Forbidden(ROLE_TOO_LOW))
    }
}

/// [`authorize`] for a company's own routes (404: "No such company.").
pub fn company_member(
    operator: &Operator,
    company: CompanyId,
    action: Action,
) -> Result<Membership, ApiError> {
    authorize(operator, company, action, NO_SUCH_COMPANY)
}

/// The caller, allowed into the chat of the path's `chat_id`.
#[derive(Debug, Clone)]
pub enum ChatAccess {
    /// A member of the chat's company (API token).
    Staff {
        operator: Operator,
        membership: Membership,
        /// Boxed as a guest's is: a conversation's chat item is large.
        chat: Box<ChatRecord>,
    },
    Member(Guest),
}

impl ChatAccess {
    pub fn chat(&self) -> &ChatRecord {
        match self {
            ChatAccess::Staff { chat, .. } => chat,
            ChatAccess::Member(guest) => &guest.chat,
        }
    }

    /// The chat as this caller may see it: a guest sees no assignee.
    pub fn chat_resource(&self) -> ChatResource<'_> {
        match self {
            ChatAccess::Staff { chat, .. } => chat.resource(),
            ChatAccess::Member(guest) => guest.chat.resource().for_guest(),
        }
    }

    /// Who it is, as the author of what it posts.
    pub fn author(&self) -> Author {
        match self {
            ChatAccess::Staff { operator, .. } => Author::Staff {
                id: operator.user.id,
                name: operator.user.name.clone(),
            },
            ChatAccess::Member(guest) => Author::Guest {
                id: guest.chat_user.id,
                name: guest.chat_user.name.clone(),
            },
        }
    }

    /// A chat user's sending count as its token's check read it (`None` for a member).
    pub fn sent(&self) -> Option<domain::rate_limit::WindowCount> {
        match self {
            ChatAccess::Staff { .. } => None,
            ChatAccess::Member(guest) => guest.chat_user.sent(),
        }
    }

    /// Who it is, as what its events show it.
    pub fn audience(&self) -> Audience {
        self.subscriber().audience()
    }

    /// Who it is, as a socket's holder.
    pub fn subscriber(&self) -> Subscriber {
        match self {
            ChatAccess::Staff { operator, .. } => Subscriber::Owner(operator.user.id),
            ChatAccess::Member(guest) => Subscriber::ChatUser(guest.chat_user.id),
        }
    }

    /// The key its budgets (the domain's `rate_limit::budgets`) count under.
    pub fn budget_key(&self) -> String {
        match self {
            ChatAccess::Staff { operator, .. } => operator.budget_key(),
            ChatAccess::Member(guest) => guest.budget_key(),
        }
    }

    /// The table as this caller writes to it: the events a member's writes log name it.
    pub fn db<'a>(&self, ctx: &'a Context) -> Cow<'a, Db> {
        match self {
            ChatAccess::Staff { operator, .. } => Cow::Owned(operator.db(ctx)),
            ChatAccess::Member(_) => Cow::Borrowed(&ctx.db),
        }
    }

    /// Who it is and the access it came with: what a realtime ticket is minted under.
    pub fn grant(&self) -> (Subscriber, Grant) {
        let grant = match self {
            ChatAccess::Staff { operator, chat, .. } => Grant::ApiToken {
                token_id: operator.token.id,
                company_id: Some(chat.company_id),
            },
            ChatAccess::Member(guest) => Grant::ChatUserToken {
                token_issued_ms: guest.token_issued_ms,
            },
        };
        (self.subscriber(), grant)
    }
}

/// Reads a chat for a member of its company whose role allows `action` and who sees the
/// chat: no such chat, a non-member, or a chat the member does not see (an agent that
/// sees only its assigned chats) is a 404; a role too low a 403.
pub async fn staff_chat(
    ctx: &Context,
    operator: &Operator,
    chat_id: ChatId,
    action: Action,
) -> Result<(Membership, ChatRecord), ApiError> {
    let chat = ctx
        .db
        .chats()
        .get(chat_id)
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_CHAT))?;
    // An agent that sees only its assigned chats sees this one once it is assigned.
    let seen = operator
        .user
        .memberships
        .get(&chat.company_id)
        .is_some_and(|membership| {
            membership.sees_every_chat() || chat.assignee_id == Some(operator.user.id)
        });
    if !seen {
        return Err(ApiError::NotFound(NO_SUCH_CHAT));
    }
    let membership = authorize(operator, chat.company_id, action, NO_SUCH_CHAT)?;
    Ok((membership, chat))
}

/// A member of the chat's company allowed `action` (API token), or a chat user of the
/// chat (whose own rules are the route's). A chat-user token of another chat is a 403.
pub async fn chat_access(
    ctx: &Context,
    request: &ApiRequest,
    chat_id: ChatId,
    action: Action,
) -> Result<ChatAccess, ApiError> {
    match auth::authenticate(ctx, request).await? {
        Caller::Operator(operator) => {
            let (membership, chat) = staff_chat(ctx, &operator, chat_id, action).await?;
            Ok(ChatAccess::Staff {
                operator,
                membership,
                chat: Box::new(chat),
            })
        }
        Caller::Guest(guest) => member_of(guest, chat_id).map(ChatAccess::Member),
    }
}

/// Only a member of the chat's company allowed `action` (API token).
pub async fn staff_access(
    ctx: &Context,
    request: &ApiRequest,
    chat_id: ChatId,
    action: Action,
) -> Result<(Operator, ChatRecord), ApiError> {
    let operator = auth::operator(ctx, request).await?;
    let (_, chat) = staff_chat(ctx, &operator, chat_id, action).await?;
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

//! `chat-users`: the people of a chat, and how a guest proves an email to become one.
//!
//! Owners manage chat users with their API token; a chat user can read the chat's
//! users (others' emails hidden) and rename or delete itself. Guests get a chat-user
//! token by email: `send-code` mails a 6-digit code, `get-token` exchanges it.

mod codes;
mod email;
mod front_door;
mod own_data;
pub mod routes;

use domain::chat::ChatRecord;
use domain::chat_user::{AT_CHAT_USER_CAP, ChatUserRecord, Removal, UNVERIFIED_TTL_SECS};
use domain::clock;
use domain::ids::{ChatId, ChatUserId, EntityId};
use domain::message::Reader;
use domain::rate_limit::budgets::{CHAT_USER_CHANGES, READ_MARKS};
use domain::team::Action;
use domain::text::{Email, Name, Seq};
use edge::access::{self, ChatAccess, NO_SUCH_CHAT};
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, Context, FieldErrors, budgets, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use routes::{Endpoint, ROUTES};
use serde_json::json;
use services::mail::Mailer;
use services::queue::Queue;
use storage::chat_user_changes::{EmailChanged, ReadMarked};
use storage::chat_users::ChatUserInserted;

pub use front_door::{IDENTIFY_FAILURES_PER_SOURCE, NEW_CONVERSATIONS_PER_SOURCE};

pub use codes::{
    GUESSES_PER_SOURCE, MAX_CODE_ATTEMPTS, MAX_SENDS_PER_HOUR, RESEND_AFTER_MS,
    WRONG_PASSWORDS_PER_SOURCE,
};
pub use domain::auth_code::CODE_TTL_MS;

pub struct App {
    pub ctx: Context,
    /// Transcripts, mailed while the request waits.
    pub mailer: Mailer,
    /// `NOTIFY_QUEUE_URL`, the mail queue: auth codes are made and mailed from it.
    pub mail_jobs: Queue,
}

impl App {
    pub fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, aws) = Context::from_env()?;
        let from = ctx.config.require_mail_from()?.to_owned();
        let mailer = Mailer::from_config(&aws, from);
        let mail_jobs = edge::config::queue(&aws, "NOTIFY_QUEUE_URL")?;
        Ok(Self {
            ctx,
            mailer,
            mail_jobs,
        })
    }
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    edge::runtime::respond(request, &ROUTES, app.ctx.cors(), |endpoint, req| {
        dispatch(app, endpoint, req)
    })
    .await
}

async fn dispatch(
    app: &App,
    endpoint: Endpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    use Endpoint as E;
    match endpoint {
        E::List(chat) => list(app, &req, chat).await,
        E::Create(chat) => create(app, &req, chat).await,
        E::Get(chat, chat_user) => get(app, &req, chat, chat_user).await,
        E::Update(chat, chat_user) => update(app, &req, chat, chat_user).await,
        E::Delete(chat, chat_user) => delete(app, &req, chat, chat_user).await,
        E::MintToken(chat, chat_user) => mint_token(app, &req, chat, chat_user).await,
        E::RevokeTokens(chat, chat_user) => revoke_tokens(app, &req, chat, chat_user).await,
        E::SendCode(chat) => codes::send_code(app, &req, chat).await,
        E::GetToken(chat) => codes::get_token(app, &req, chat).await,
        E::MarkRead(chat) => mark_read(app, &req, chat).await,
        E::Transcript(chat, chat_user) => email::transcript(app, &req, chat, chat_user).await,
        E::ExportData(chat) => own_data::export(app, &req, chat).await,
        E::EraseData(chat) => own_data::erase(app, &req, chat).await,
        E::Unsubscribe => email::unsubscribe(app, &req).await,
        E::ConversationCode(company) => front_door::send_code(app, &req, company).await,
        E::ConversationToken(company) => front_door::get_token(app, &req, company).await,
        E::Identify(company) => front_door::identify(app, &req, company).await,
    }
}

const NO_SUCH_CHAT_USER: ApiError = ApiError::NotFound(ChatUserId::NOT_FOUND);
const CHAT_FULL: ApiError = ApiError::Conflict(AT_CHAT_USER_CAP);

fn email_taken() -> ApiError {
    FieldErrors::single("email", "The email has already been taken in this chat.")
}

/// Operators and the chat user itself see an email; other chat users do not.
fn shows_email(access: &ChatAccess, chat_user: &ChatUserRecord) -> bool {
    match access {
        ChatAccess::Staff { .. } => true,
        ChatAccess::Member(guest) => guest.chat_user.id == chat_user.id,
    }
}

async fn list(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::Read).await?;
    let per_page = req.per_page(25, 100)?;
    let page = app
        .ctx
        .db
        .chat_users()
        .list(access.chat().id, per_page, req.cursor())
        .await?;
    let items: Vec<_> = page
        .items
        .iter()
        .map(|cu| cu.resource(shows_email(&access, cu)))
        .collect();
    Ok(envelope::list(&items, per_page, page.next_cursor))
}

async fn load(app: &App, chat: ChatId, chat_user: ChatUserId) -> Result<ChatUserRecord, ApiError> {
    app.ctx
        .db
        .chat_users()
        .get(chat, chat_user)
        .await?
        .ok_or(NO_SUCH_CHAT_USER)
}

async fn get(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    chat_user: ChatUserId,
) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::Read).await?;
    let chat_user = load(app, access.chat().id, chat_user).await?;
    Ok(envelope::data(
        StatusCode::OK,
        chat_user.resource(shows_email(&access, &chat_user)),
    ))
}

async fn create(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let (operator, chat) =
        access::staff_access(&app.ctx, req, chat, Action::ManageChatUsers).await?;
    let mut fields = Fields::new(&req.body);
    let email = fields.required::<Email>("email");
    let name = fields.required::<Name>("name");
    let send_code = fields.optional::<bool>("send_code").unwrap_or(false);
    let (email, name) = fields.finish_with(|| Some((email?, name?)))?;
    if chat.is_conversation() {
        // A conversation has one visitor: nobody else is added to it.
        return Err(ApiError::Conflict(
            "A conversation has its one visitor: add chat users to a room.",
        ));
    }
    let db = operator.db(&app.ctx);
    let chat_user = match insert(&db, &chat, &email, name, Joined::ByOwner).await? {
        (chat_user, ChatUserInserted::Inserted) => chat_user,
        (_, ChatUserInserted::EmailTaken) => return Err(email_taken()),
        (_, ChatUserInserted::ChatGone) => return Err(ApiError::NotFound(NO_SUCH_CHAT)),
        (_, ChatUserInserted::ChatFull) => return Err(CHAT_FULL),
    };
    if send_code {
        codes::issue_and_send(app, &chat, &email).await?;
    }
    Ok(envelope::data(
        StatusCode::CREATED,
        chat_user.resource(true),
    ))
}

/// How a chat user came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Joined {
    /// Added by the owner: a participant at once (`chat_user.joined` now).
    ByOwner,
    /// Asked to join by email: a participant once it proves the address.
    ByEmail,
}

/// A new chat user of `chat`, and whether it could be stored.
async fn insert(
    db: &storage::Db,
    chat: &ChatRecord,
    email: &Email,
    name: Name,
    joined: Joined,
) -> Result<(ChatUserRecord, ChatUserInserted), ApiError> {
    let now = clock::now_rfc3339();
    let chat_user = ChatUserRecord {
        id: ChatUserId::new(),
        chat_id: chat.id,
        name: name.into_inner(),
        email: email.as_str().to_owned(),
        verified_at: None,
        created_at: now.clone(),
        updated_at: now,
        announced: joined == Joined::ByOwner,
        // A guest who asked to join is kept only once it proves its email.
        ttl: (joined == Joined::ByEmail).then(|| clock::now_millis() / 1000 + UNVERIFIED_TTL_SECS),
        ..ChatUserRecord::default()
    };
    let inserted = db.chat_users().insert(chat, &chat_user).await?;
    Ok((chat_user, inserted))
}

/// Owners may rename a chat user and change its email; a chat user only renames itself.
async fn update(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    chat_user: ChatUserId,
) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::ManageChatUsers).await?;
    let mut fields = Fields::new(&req.body);
    let name = fields.present::<Name>("name");
    let email = match &access {
        ChatAccess::Staff { .. } => fields.present::<Email>("email"),
        ChatAccess::Member(guest) => {
            if guest.chat_user.id != chat_user {
                return Err(ApiError::Forbidden("A chat user may only change itself."));
            }
            if req.body.contains("email") {
                fields.error("email", "A chat user cannot change its email.");
            }
            None
        }
    };
    fields.finish()?;
    let current = load(app, access.chat().id, chat_user).await?;
    let db = access.db(&app.ctx);
    let chat_users = db.chat_users();
    let name = name
        .map(Name::into_inner)
        .filter(|name| *name != current.name);
    let email = email.filter(|e| e.as_str() != current.email);
    if name.is_none() && email.is_none() {
        // Nothing changes: nothing is written, and nothing logged.
        return Ok(envelope::data(StatusCode::OK, current.resource(true)));
    }
    budgets::spend(
        &app.ctx,
        &CHAT_USER_CHANGES,
        &access.budget_key(),
        "Too many chat-user changes. Wait, then try again.",
    )
    .await?;
    let updated = match email {
        // The new address is not verified yet.
        Some(email) => match chat_users
            .change_email(access.chat(), &current, email.as_str(), name)
            .await?
        {
            EmailChanged::Changed(updated) => updated,
            EmailChanged::EmailTaken => return Err(email_taken()),
            EmailChanged::Gone => return Err(NO_SUCH_CHAT_USER),
        },
        None => {
            let name = name.unwrap_or_else(|| current.name.clone());
            chat_users
                .rename(access.chat(), &current, name)
                .await?
                .ok_or(NO_SUCH_CHAT_USER)?
        }
    };
    Ok(envelope::data(StatusCode::OK, updated.resource(true)))
}

async fn delete(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    chat_user: ChatUserId,
) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::ManageChatUsers).await?;
    if let ChatAccess::Member(guest) = &access
        && guest.chat_user.id != chat_user
    {
        return Err(ApiError::Forbidden("A chat user may only delete itself."));
    }
    let current = load(app, access.chat().id, chat_user).await?;
    // Its tokens die with the item (every chat-user request reads it); its messages stay.
    if !access
        .db(&app.ctx)
        .chat_users()
        .delete(access.chat(), &current, Removal::Deleted)
        .await?
    {
        return Err(NO_SUCH_CHAT_USER);
    }
    Ok(envelope::data(StatusCode::OK, current.resource(true)))
}

/// `POST .../users/{chat_user_id}/token`: a chat-user token without email, for an
/// owner's server-side integration.
async fn mint_token(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    chat_user: ChatUserId,
) -> Result<Response<Body>, ApiError> {
    let (_, chat) = access::staff_access(&app.ctx, req, chat, Action::ManageChatUsers).await?;
    let chat_user = load(app, chat.id, chat_user).await?;
    Ok(envelope::data(
        StatusCode::CREATED,
        token_body(app, &chat_user).await?,
    ))
}

/// `POST …/users/{chat_user_id}/revoke-tokens` (owner): every chat-user token of this chat
/// user issued until now stops working at once; the chat user stays (a new token can be
/// minted, or the guest signs in again by email).
async fn revoke_tokens(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    chat_user: ChatUserId,
) -> Result<Response<Body>, ApiError> {
    let (_, chat) = access::staff_access(&app.ctx, req, chat, Action::ManageChatUsers).await?;
    let revoked = app
        .ctx
        .db
        .chat_users()
        .revoke_tokens(chat.id, chat_user, clock::now_millis())
        .await?
        .ok_or(NO_SUCH_CHAT_USER)?;
    Ok(envelope::data(StatusCode::OK, revoked.resource(true)))
}

/// `{token, token_type, expires_at, chat_user}` for a chat user.
async fn token_body(app: &App, chat_user: &ChatUserRecord) -> Result<serde_json::Value, ApiError> {
    let (token, expires_at) = app
        .ctx
        .keys()
        .await?
        .issue_chat_user_token(
            chat_user.chat_id,
            chat_user.id,
            app.ctx.config.chat_user_token_ttl_secs,
        )
        .await?;
    Ok(json!({
        "token": token,
        "token_type": "Bearer",
        "expires_at": clock::rfc3339(expires_at * 1000),
        "chat_user": chat_user.resource(true),
    }))
}

/// `PUT /api/chats/{chat_id}/read` with `{"seq": n}`: the chat user has seen the chat's
/// events up to `n`. The marker only moves forward (an older `n` changes nothing and is
/// still a 200); answers the marker and the unread count.
async fn mark_read(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::Answer).await?;
    let mut fields = Fields::new(&req.body);
    let seq = fields.required::<Seq>("seq");
    let seq = fields.finish_with(|| seq)?.get();
    let guest = match access {
        ChatAccess::Member(guest) => guest,
        ChatAccess::Staff { operator, chat, .. } => {
            return mark_staff_read(app, &operator, &chat, seq).await;
        }
    };
    if seq > guest.chat_user.last_read_seq {
        budgets::spend(
            &app.ctx,
            &READ_MARKS,
            &guest.budget_key(),
            "Too many read markers. Wait, then mark what was read since.",
        )
        .await?;
    }
    let chat_users = app.ctx.db.chat_users();
    let marked = chat_users
        .mark_read(&guest.chat, &guest.chat_user, seq)
        .await?;
    let chat_user = match marked {
        ReadMarked::Moved(chat_user) => chat_user,
        ReadMarked::NotForward => chat_users
            .get(chat, guest.chat_user.id)
            .await?
            .ok_or(ApiError::Unauthenticated(edge::UNAUTHENTICATED))?,
        ReadMarked::BeyondLog => {
            return Err(FieldErrors::single(
                "seq",
                "The seq field must not be above the chat's newest event.",
            ));
        }
        ReadMarked::Gone => return Err(ApiError::Unauthenticated(edge::UNAUTHENTICATED)),
    };
    let unread_count = app
        .ctx
        .db
        .messages()
        .unread_count(chat, Reader::Guest(chat_user.id), chat_user.last_read_seq)
        .await?;
    Ok(envelope::data(
        StatusCode::OK,
        json!({ "last_read_seq": chat_user.last_read_seq, "unread_count": unread_count }),
    ))
}

/// A member's own read marker (API token): moves forward only, and keeps the chat's
/// message count it has seen, from which the inbox counts its unread messages.
async fn mark_staff_read(
    app: &App,
    operator: &edge::auth::Operator,
    chat: &ChatRecord,
    seq: u64,
) -> Result<Response<Body>, ApiError> {
    if seq > chat.event_seq {
        return Err(FieldErrors::single(
            "seq",
            "The seq field must not be above the chat's newest event.",
        ));
    }
    let db = &app.ctx.db;
    let reader = Reader::Staff(operator.user.id);
    let current = db.staff_reads().get(chat.id, operator.user.id).await?;
    let marker = match current {
        Some(current) if current.last_read_seq >= seq => current,
        _ => {
            budgets::spend(
                &app.ctx,
                &READ_MARKS,
                &operator.budget_key(),
                "Too many read markers. Wait, then mark what was read since.",
            )
            .await?;
            let unread = db.messages().unread_count(chat.id, reader, seq).await?;
            let read_count = chat.message_count.saturating_sub(u64::from(unread));
            db.staff_reads()
                .mark(chat.id, operator.user.id, seq, read_count)
                .await?
        }
    };
    let unread_count = db
        .messages()
        .unread_count(chat.id, reader, marker.last_read_seq)
        .await?;
    Ok(envelope::data(
        StatusCode::OK,
        json!({ "last_read_seq": marker.last_read_seq, "unread_count": unread_count }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_fits_and_builds_its_endpoint() {
        assert_eq!(ROUTES.check(), Ok(()));
        assert_eq!(ROUTES.check_builds(), Ok(()));
    }
}

//! `chats`: the owner's chats, and the chat password ("share").
//!
//! A chat counts towards its company's `chat_count` in the same transaction that
//! creates or deletes it (see `shared::db::chats`), which is what lets a company refuse
//! deletion (409) while it still has chats without any race.
// The AWS SDK's futures nest deeply; the handler's needs more than the default 128.
#![recursion_limit = "256"]

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::access::{self, ChatAccess, NO_SUCH_CHAT};
use shared::db::chats::{ChatChanges, ChatCreated, ChatRecord, PasswordWrite};
use shared::db::realtime::Subscriber;
use shared::ids::{ChatId, CompanyId, EntityId};
use shared::routes::ChatsEndpoint;
use shared::validate::{ChatPassword, Description, Fields, Name, UnreadEmailMinutes};
use shared::{ApiError, ApiRequest, FieldErrors, auth, clock, crypto, http};

pub use shared::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, |endpoint, req| dispatch(app, endpoint, req)).await
}

async fn dispatch(
    app: &App,
    endpoint: ChatsEndpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    match endpoint {
        ChatsEndpoint::List => list(app, &req).await,
        ChatsEndpoint::Create => create(app, &req).await,
        ChatsEndpoint::Get(chat) => {
            let access = access::chat_access(&app.ctx, &req, chat).await?;
            Ok(http::data(StatusCode::OK, access.chat().resource()))
        }
        ChatsEndpoint::Update(chat) => update(app, &req, chat).await,
        ChatsEndpoint::Delete(chat) => delete(app, &req, chat).await,
        ChatsEndpoint::Share(chat) => share(app, &req, chat).await,
        ChatsEndpoint::RealtimeTicket(chat) => realtime_ticket(app, &req, chat).await,
    }
}

fn invalid_company() -> ApiError {
    FieldErrors::single("company_id", "The selected company_id is invalid.")
}

async fn list(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let per_page = req.per_page(25, 100)?;
    let company = match req.query("company_id") {
        None => None,
        Some(raw) => {
            let company = CompanyId::parse(raw).ok_or_else(invalid_company)?;
            // Only the caller's own companies: another owner's id is invalid, not empty.
            app.ctx
                .db
                .company(operator.user.id, company)
                .await?
                .ok_or_else(invalid_company)?;
            Some(company)
        }
    };
    let page = app
        .ctx
        .db
        .list_chats(operator.user.id, company, per_page, req.cursor())
        .await?;
    Ok(http::list(
        page.items.iter().map(ChatRecord::resource).collect(),
        per_page,
        page.next_cursor,
    ))
}

struct NewChat {
    company: CompanyId,
    name: Name,
    description: Option<Description>,
    password: Option<ChatPassword>,
    unread_email_minutes: Option<UnreadEmailMinutes>,
}

impl NewChat {
    fn parse(req: &ApiRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::new(&req.body);
        let company = fields.required::<CompanyId>("company_id");
        let name = fields.required::<Name>("name");
        let description = fields.nullable::<Description>("description");
        let password = fields.nullable::<ChatPassword>("password");
        let unread_email_minutes = fields.optional::<UnreadEmailMinutes>("unread_email_minutes");
        fields.finish_with(|| {
            Some(NewChat {
                company: company?,
                name: name?,
                description: description.flatten(),
                password: password.flatten(),
                unread_email_minutes,
            })
        })
    }
}

async fn create(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let input = NewChat::parse(req)?;
    // The company's retention goes with the chat (a missing company fails the create).
    let retention_days = app
        .ctx
        .db
        .company(operator.user.id, input.company)
        .await?
        .and_then(|company| company.retention_days);
    let now = clock::now_rfc3339();
    let chat = ChatRecord {
        id: ChatId::new(),
        company_id: input.company,
        owner_id: operator.user.id,
        name: input.name.into_inner(),
        description: input.description.map(Description::into_inner),
        password: input.password.map(ChatPassword::into_inner),
        created_at: now.clone(),
        updated_at: now,
        last_message_at: None,
        last_message_id: None,
        event_seq: 0,
        unread_email_minutes: input.unread_email_minutes.map(|m| m.0),
        tokens_revoked_at_ms: None,
        retention_days,
    };
    match app.ctx.db.create_chat(&chat).await? {
        ChatCreated::Created => Ok(http::data(StatusCode::CREATED, chat.resource())),
        ChatCreated::NoSuchCompany => Err(invalid_company()),
        ChatCreated::CompanyFull => Err(ApiError::Conflict(shared::db::companies::AT_CHAT_CAP)),
    }
}

/// A partial update built from the present fields; `null` clears a field (a `null`
/// password turns sharing off).
async fn update(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let (_, chat) = access::owner_access(&app.ctx, req, chat).await?;
    let mut fields = Fields::new(&req.body);
    let name = fields.present::<Name>("name");
    let description = fields.nullable::<Description>("description");
    let password = fields.nullable::<ChatPassword>("password");
    let unread_email_minutes = fields.present::<UnreadEmailMinutes>("unread_email_minutes");
    fields.finish()?;
    let changes = ChatChanges {
        name: name.map(Name::into_inner),
        description: description.map(|d| d.map(Description::into_inner)),
        password: password.map(|p| p.map(ChatPassword::into_inner)),
        unread_email_minutes: unread_email_minutes.map(|m| m.0),
        updated_at: clock::now_rfc3339(),
    };
    let chat = app
        .ctx
        .db
        .update_chat(&chat, changes)
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_CHAT))?;
    Ok(http::data(StatusCode::OK, chat.resource()))
}

async fn delete(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let (_, chat) = access::owner_access(&app.ctx, req, chat).await?;
    // Deleted concurrently by another request: `false`.
    if !app.ctx.db.delete_chat(&chat).await? {
        return Err(ApiError::NotFound(NO_SUCH_CHAT));
    }
    tracing::info!(chat_id = %chat.id, "chat deleted; its items follow (purge)");
    Ok(http::data(StatusCode::OK, chat.resource()))
}

/// `POST /chats/{chat_id}/share`: the chat's join password, created on first use;
/// `{"regenerate": true}` replaces it, and with `"sign_out": true` also ends every
/// chat-user token issued so far (for a password that leaked).
async fn share(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let (_, chat) = access::owner_access(&app.ctx, req, chat).await?;
    let mut fields = Fields::new(&req.body);
    let regenerate = fields.optional::<bool>("regenerate").unwrap_or(false);
    let sign_out = fields.optional::<bool>("sign_out").unwrap_or(false);
    fields.finish()?;
    if sign_out && !regenerate {
        return Err(FieldErrors::single(
            "sign_out",
            "sign_out goes with regenerate: true.",
        ));
    }
    if let (Some(password), false) = (&chat.password, regenerate) {
        return Ok(share_response(chat.id, password));
    }
    let write = match (regenerate, sign_out) {
        (true, true) => PasswordWrite::ReplaceSigningOut,
        (true, false) => PasswordWrite::Replace,
        (false, _) => PasswordWrite::IfUnset,
    };
    let new_password = crypto::random_token_string(16)?;
    let password = app
        .ctx
        .db
        .set_chat_password(&chat, &new_password, write)
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_CHAT))?;
    Ok(share_response(chat.id, &password))
}

fn share_response(chat: ChatId, password: &str) -> Response<Body> {
    http::data(
        StatusCode::OK,
        json!({ "chat_id": chat, "password": password }),
    )
}

/// How long a realtime ticket may wait to be used.
const TICKET_TTL_MS: i64 = 60_000;

/// `POST /api/chats/{chat_id}/realtime-ticket`: the URL that opens this caller's
/// WebSocket on the chat (browsers cannot send headers on a WebSocket, so a single-use
/// ticket in the URL stands in for the token), valid for 60 s.
async fn realtime_ticket(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat).await?;
    let realtime_url = app
        .ctx
        .config
        .require_realtime_url()
        .map_err(ApiError::internal)?;
    let subscriber = match &access {
        ChatAccess::Owner { operator, .. } => Subscriber::Owner(operator.user.id),
        ChatAccess::Member(guest) => Subscriber::ChatUser(guest.chat_user.id),
    };
    let (ticket, expires_at_ms) = app
        .ctx
        .db
        .issue_ticket(
            access.chat().id,
            subscriber,
            clock::now_millis(),
            TICKET_TTL_MS,
        )
        .await?;
    Ok(http::data(
        StatusCode::CREATED,
        json!({
            "url": format!("{realtime_url}?ticket={ticket}"),
            "expires_at": clock::rfc3339(expires_at_ms),
        }),
    ))
}

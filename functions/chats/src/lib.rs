//! `chats`: a company's chats, for its members (what each role may do: the edge's
//! `access`), and the chat password ("share").
//!
//! A chat counts towards its company's `chat_count` in the same transaction that
//! creates or deletes it (see storage's `chats`), which is what lets a company refuse
//! deletion (409) while it still has chats without any race.

mod desk;
pub mod routes;

use domain::chat::ChatRecord;
use domain::clock;
use domain::company::AT_CHAT_CAP;
use domain::ids::{ChatId, CompanyId, EntityId};
use domain::rate_limit::Taken;
use domain::rate_limit::budgets::CHAT_CHANGES;
use domain::realtime::{TICKET_TTL_MS, TICKETS};
use domain::team::Action;
use domain::text::{ChatPassword, Description, Name, UnreadEmailMinutes};
use edge::access::{self, NO_SUCH_CHAT};
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, FieldErrors, auth, budgets, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use routes::{Endpoint, ROUTES};
use serde_json::json;
use services::random::random_token_string;
use storage::chats::{ChatChanges, ChatCreated, PasswordWrite};

pub use desk::{INBOX_PER_PAGE, MAX_INBOX_PER_PAGE};

pub struct App {
    pub ctx: edge::Context,
    /// `NOTIFY_QUEUE_URL`: where a snooze's end waits (see the notify function).
    pub wake_jobs: services::queue::Queue,
}

impl App {
    pub fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, aws) = edge::Context::from_env()?;
        let wake_jobs = edge::config::queue(&aws, "NOTIFY_QUEUE_URL")?;
        Ok(Self { ctx, wake_jobs })
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
    match endpoint {
        Endpoint::List => list(app, &req).await,
        Endpoint::Create => create(app, &req).await,
        Endpoint::Get(chat) => {
            let access = access::chat_access(&app.ctx, &req, chat, Action::Read).await?;
            Ok(envelope::data(StatusCode::OK, access.chat_resource()))
        }
        Endpoint::Update(chat) => update(app, &req, chat).await,
        Endpoint::Delete(chat) => delete(app, &req, chat).await,
        Endpoint::Share(chat) => share(app, &req, chat).await,
        Endpoint::RealtimeTicket(chat) => realtime_ticket(app, &req, chat).await,
        Endpoint::Assign(chat) => desk::assign(app, &req, chat).await,
        Endpoint::Status(chat) => desk::status(app, &req, chat).await,
        Endpoint::Inbox => desk::inbox(app, &req).await,
    }
}

/// A conversation is its one visitor's: nobody joins it by a password.
const NO_PASSWORD: &str =
    "A conversation has no password and is not shared: it is its one visitor's.";

fn invalid_company() -> ApiError {
    FieldErrors::single("company_id", "The selected company_id is invalid.")
}

async fn list(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let per_page = req.per_page(25, 100)?;
    // The companies whose every chat the caller sees (an agent that sees only its
    // assigned chats lists none of a company's others).
    let companies: Vec<CompanyId> = match req.query("company_id") {
        None => operator
            .user
            .memberships
            .iter()
            .filter(|(_, membership)| membership.sees_every_chat())
            .map(|(company, _)| *company)
            .collect(),
        Some(raw) => {
            let company = CompanyId::parse(raw).ok_or_else(invalid_company)?;
            // Only the caller's companies: another's id is invalid, not empty.
            let membership =
                access::authorize(&operator, company, Action::Read, CompanyId::NOT_FOUND)
                    .map_err(|_| invalid_company())?;
            if membership.sees_every_chat() {
                vec![company]
            } else {
                Vec::new()
            }
        }
    };
    let page = app
        .ctx
        .db
        .chats()
        .list_across(&companies, per_page, req.cursor())
        .await?;
    let items: Vec<_> = page.items.iter().map(ChatRecord::resource).collect();
    Ok(envelope::list(&items, per_page, page.next_cursor))
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
    // Another's company is an invalid company_id, as if there were none.
    access::authorize(
        &operator,
        input.company,
        Action::ManageChats,
        CompanyId::NOT_FOUND,
    )
    .map_err(|err| match err {
        ApiError::NotFound(_) => invalid_company(),
        other => other,
    })?;
    // The company's retention goes with the chat (a missing company fails the create).
    let company = app.ctx.db.companies().get(input.company).await?;
    if let (Some(password), Some(company)) = (&input.password, &company) {
        refuse_guessable(password, &[input.name.as_str(), &company.name])?;
    }
    let retention_days = company.and_then(|company| company.retention_days);
    let now = clock::now_rfc3339();
    let chat = ChatRecord {
        id: ChatId::new(),
        company_id: input.company,
        name: input.name.into_inner(),
        description: input.description.map(Description::into_inner),
        password: input.password.map(ChatPassword::into_inner),
        created_at: now.clone(),
        updated_at: now,
        last_message_at: None,
        last_message_id: None,
        event_seq: 0,
        last_message_seq: Some(0),
        unread_email_minutes: input.unread_email_minutes.map(UnreadEmailMinutes::get),
        tokens_revoked_at_ms: None,
        retention_days,
        ..ChatRecord::default()
    };
    match app.ctx.db.chats().create(&chat).await? {
        ChatCreated::Created => Ok(envelope::data(StatusCode::CREATED, chat.resource())),
        ChatCreated::NoSuchCompany => Err(invalid_company()),
        ChatCreated::CompanyFull => Err(ApiError::Conflict(AT_CHAT_CAP)),
    }
}

/// A partial update built from the present fields; `null` clears a field (a `null`
/// password turns sharing off).
async fn update(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let (operator, chat) = access::staff_access(&app.ctx, req, chat, Action::ManageChats).await?;
    let mut fields = Fields::new(&req.body);
    let name = fields.present::<Name>("name");
    let description = fields.nullable::<Description>("description");
    let password = fields.nullable::<ChatPassword>("password");
    let unread_email_minutes = fields.present::<UnreadEmailMinutes>("unread_email_minutes");
    fields.finish()?;
    if chat.is_conversation() && matches!(password, Some(Some(_))) {
        return Err(ApiError::Conflict(NO_PASSWORD));
    }
    if let Some(Some(password)) = &password {
        let company = app.ctx.db.companies().get(chat.company_id).await?;
        let chat_name = name.as_ref().map_or(chat.name.as_str(), Name::as_str);
        let company_name = company.as_ref().map_or("", |c| c.name.as_str());
        refuse_guessable(password, &[chat_name, company_name])?;
    }
    spend_chat_change(app, &operator).await?;
    let changes = ChatChanges {
        name: name.map(Name::into_inner),
        description: description.map(|d| d.map(Description::into_inner)),
        password: password.map(|p| p.map(ChatPassword::into_inner)),
        unread_email_minutes: unread_email_minutes.map(UnreadEmailMinutes::get),
        updated_at: clock::now_rfc3339(),
    };
    let chat = operator
        .db(&app.ctx)
        .chats()
        .update(&chat, changes)
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_CHAT))?;
    Ok(envelope::data(StatusCode::OK, chat.resource()))
}

/// A password a guesser who knows the chat's and the company's names tries early is a
/// 422 under `password` (the shape and the common lists were checked by its parse).
fn refuse_guessable(password: &ChatPassword, names: &[&str]) -> Result<(), ApiError> {
    if domain::guessable::is_guessable_with(password.as_str(), names) {
        return Err(FieldErrors::single(
            "password",
            "The password is too easy to guess for this chat: use a few uncommon words, or let the share endpoint generate one.",
        ));
    }
    Ok(())
}

/// Counts a change that logs `chat.updated` against the operator's budget.
async fn spend_chat_change(app: &App, operator: &auth::Operator) -> Result<(), ApiError> {
    budgets::spend(
        &app.ctx,
        &CHAT_CHANGES,
        &operator.budget_key(),
        "Too many chat changes. Wait, then try again.",
    )
    .await
}

async fn delete(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let (_, chat) = access::staff_access(&app.ctx, req, chat, Action::ManageChats).await?;
    // Deleted concurrently by another request: `false`.
    if !app.ctx.db.chats().delete(&chat).await? {
        return Err(ApiError::NotFound(NO_SUCH_CHAT));
    }
    tracing::info!(chat_id = %chat.id, "chat deleted; its items follow (lifecycle)");
    Ok(envelope::data(StatusCode::OK, chat.resource()))
}

/// `POST /chats/{chat_id}/share`: the chat's join password, created on first use;
/// `{"regenerate": true}` replaces it, and with `"sign_out": true` also ends every
/// chat-user token issued so far (for a password that leaked).
async fn share(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let (operator, chat) = access::staff_access(&app.ctx, req, chat, Action::ManageChats).await?;
    let mut fields = Fields::new(&req.body);
    let regenerate = fields.optional::<bool>("regenerate").unwrap_or(false);
    let sign_out = fields.optional::<bool>("sign_out").unwrap_or(false);
    fields.finish()?;
    if chat.is_conversation() {
        return Err(ApiError::Conflict(NO_PASSWORD));
    }
    if sign_out && !regenerate {
        return Err(FieldErrors::single(
            "sign_out",
            "sign_out goes with regenerate: true.",
        ));
    }
    if let (Some(password), false) = (&chat.password, regenerate) {
        return Ok(share_response(chat.id, password));
    }
    spend_chat_change(app, &operator).await?;
    let write = match (regenerate, sign_out) {
        (true, true) => PasswordWrite::ReplaceSigningOut,
        (true, false) => PasswordWrite::Replace,
        (false, _) => PasswordWrite::IfUnset,
    };
    let new_password = random_token_string(16)?;
    let password = operator
        .db(&app.ctx)
        .chats()
        .set_password(&chat, &new_password, write)
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_CHAT))?;
    Ok(share_response(chat.id, &password))
}

fn share_response(chat: ChatId, password: &str) -> Response<Body> {
    envelope::data(
        StatusCode::OK,
        json!({ "chat_id": chat, "password": password }),
    )
}

/// `POST /api/chats/{chat_id}/realtime-ticket`: the URL that opens this caller's
/// WebSocket on the chat (browsers cannot send headers on a WebSocket, so a single-use
/// ticket in the URL stands in for the token), valid for 60 s.
async fn realtime_ticket(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::Read).await?;
    let realtime_url = app
        .ctx
        .config
        .require_realtime_url()
        .map_err(ApiError::internal)?;
    let now = clock::now_millis();
    let (subscriber, grant) = access.grant();
    if let Taken::Exceeded { retry_after_secs } = app
        .ctx
        .db
        .rate_counters()
        .take(&TICKETS, &subscriber.limit_key(chat), now)
        .await?
    {
        return Err(ApiError::TooManyRequests {
            message: "Too many realtime tickets: reconnect with the ones you have, or wait.",
            retry_after_secs,
        });
    }
    let ticket = random_token_string(32)?;
    let expires_at_ms = app
        .ctx
        .db
        .sockets()
        .issue_ticket(
            &ticket,
            access.chat().id,
            (subscriber, grant, access.author().name()),
            now,
            TICKET_TTL_MS,
        )
        .await?;
    Ok(envelope::data(
        StatusCode::CREATED,
        json!({
            "url": format!("{realtime_url}?ticket={ticket}"),
            "expires_at": clock::rfc3339(expires_at_ms),
        }),
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

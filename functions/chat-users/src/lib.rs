//! `chat-users`: the people of a chat, and how a guest proves an email to become one.
//!
//! Owners manage chat users with their API token; a chat user can read the chat's
//! users (others' emails hidden) and rename or delete itself. Guests get a chat-user
//! token by email: `send-code` mails a 6-digit code, `get-token` exchanges it.

mod codes;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::access::{self, ChatAccess, NO_SUCH_CHAT};
use shared::aws_sdk_dynamodb::types::ReturnValue;
use shared::db::records::{ChatRecord, ChatUserEmailRecord, ChatUserRecord};
use shared::db::{self, ListQuery, keys, tx};
use shared::mail::Mailer;
use shared::routes::Function;
use shared::validate::{Email, Fields, Id, Name};
use shared::{ApiError, ApiRequest, Context, FieldErrors, clock, http, validate};

pub use codes::{CODE_TTL_MS, MAX_CODE_ATTEMPTS, MAX_SENDS_PER_HOUR, RESEND_AFTER_MS};

pub struct App {
    pub ctx: Context,
    pub mailer: Mailer,
}

impl App {
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, aws) = Context::from_env().await?;
        let from = ctx.config.require_mail_from()?.to_owned();
        let mailer = Mailer::new(shared::aws_sdk_sesv2::Client::new(&aws), from);
        Ok(Self { ctx, mailer })
    }
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, Function::ChatUsers, |req| dispatch(app, req)).await
}

async fn dispatch(app: &App, req: ApiRequest) -> Result<Response<Body>, ApiError> {
    const ONE: &str = "/api/chats/{chat_id}/users/{chat_user_id}";
    match (req.route.path, req.method.as_str()) {
        ("/api/chats/{chat_id}/users", "GET") => list(app, &req).await,
        ("/api/chats/{chat_id}/users", "POST") => create(app, &req).await,
        (ONE, "GET") => get(app, &req).await,
        (ONE, "PUT") => update(app, &req).await,
        (ONE, "DELETE") => delete(app, &req).await,
        ("/api/chats/{chat_id}/users/{chat_user_id}/token", "POST") => mint_token(app, &req).await,
        ("/chats/{chat_id}/users/send-code" | "/api/chats/{chat_id}/users/send-code", "POST") => {
            codes::send_code(app, &req).await
        }
        ("/chats/{chat_id}/users/get-token" | "/api/chats/{chat_id}/users/get-token", "POST") => {
            codes::get_token(app, &req).await
        }
        _ => Err(ApiError::NotFound("There is no such route.")),
    }
}

const NO_SUCH_CHAT_USER: &str = "No such chat user.";
const EMAIL_TAKEN: &str = "The email has already been taken in this chat.";

/// Operators and the chat user itself see an email; other chat users do not.
fn shows_email(access: &ChatAccess, chat_user: &ChatUserRecord) -> bool {
    match access {
        ChatAccess::Owner { .. } => true,
        ChatAccess::Member(guest) => guest.chat_user.id == chat_user.id,
    }
}

async fn list(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req).await?;
    let per_page = validate::per_page(req.query("per_page"), 25, 100)?;
    let page = app
        .ctx
        .db
        .list::<ChatUserRecord>(&ListQuery {
            list: "chat-users",
            index: None,
            partition: keys::chat_partition(&access.chat().id),
            sort_prefix: keys::CHAT_USER_PREFIX.to_owned(),
            per_page,
            cursor: req.query("cursor").map(str::to_owned),
        })
        .await?;
    Ok(http::list(
        page.items
            .iter()
            .map(|cu| cu.resource(shows_email(&access, cu)))
            .collect(),
        per_page,
        page.next_cursor,
    ))
}

fn chat_user_id(req: &ApiRequest) -> Result<String, ApiError> {
    Ok(Id::from_path(req.param("chat_user_id"), NO_SUCH_CHAT_USER)?.to_string())
}

async fn get(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req).await?;
    let chat_user = load(app, &access.chat().id, &chat_user_id(req)?).await?;
    Ok(http::data(
        StatusCode::OK,
        chat_user.resource(shows_email(&access, &chat_user)),
    ))
}

async fn load(app: &App, chat_id: &str, chat_user_id: &str) -> Result<ChatUserRecord, ApiError> {
    app.ctx
        .db
        .get(&keys::chat_user(chat_id, chat_user_id))
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_CHAT_USER))
}

async fn create(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let (_, chat) = access::owner_access(&app.ctx, req).await?;
    let mut fields = Fields::new(&req.body);
    let input = (
        fields.required::<Email>("email"),
        fields.required::<Name>("name"),
        fields.optional::<bool>("send_code").unwrap_or(false),
    );
    fields.finish()?;
    let (Some(email), Some(name), send_code) = input else {
        unreachable!("finish() reports every missing required field")
    };
    let chat_user = insert(app, &chat, &email, name)
        .await?
        .ok_or_else(|| FieldErrors::single("email", EMAIL_TAKEN))?;
    if send_code {
        codes::issue_and_send(app, &chat, &email).await?;
    }
    Ok(http::data(StatusCode::CREATED, chat_user.resource(true)))
}

/// Adds a chat user; `Ok(None)` when the email is already in the chat. The chat must
/// still exist (a concurrent chat delete wins).
async fn insert(
    app: &App,
    chat: &ChatRecord,
    email: &Email,
    name: Name,
) -> Result<Option<ChatUserRecord>, ApiError> {
    let db = &app.ctx.db;
    let now = clock::now_rfc3339();
    let chat_user = ChatUserRecord {
        id: Id::new().to_string(),
        chat_id: chat.id.clone(),
        name: name.into_inner(),
        email: email.as_str().to_owned(),
        verified_at: None,
        created_at: now.clone(),
        updated_at: now,
    };
    let email_item = db::to_item(
        &keys::chat_user_email(&chat.id, email.as_str()),
        &ChatUserEmailRecord {
            chat_user_id: chat_user.id.clone(),
        },
    )?;
    let outcome = db::transact(
        db,
        vec![
            tx::check(
                db.table(),
                &keys::chat(&chat.id),
                "attribute_exists(PK)",
                &[],
            )?,
            tx::put(db.table(), email_item, "attribute_not_exists(PK)", &[])?,
            tx::put(
                db.table(),
                db::to_item(&keys::chat_user(&chat.id, &chat_user.id), &chat_user)?,
                "attribute_not_exists(PK)",
                &[],
            )?,
        ],
    )
    .await?;
    match outcome {
        Ok(()) => Ok(Some(chat_user)),
        Err(reasons) if reasons[0].0 == "ConditionalCheckFailed" => {
            Err(ApiError::NotFound(NO_SUCH_CHAT))
        }
        Err(reasons) if reasons[1].0 == "ConditionalCheckFailed" => Ok(None),
        Err(reasons) => Err(ApiError::internal(format!(
            "chat user insert cancelled: {reasons:?}"
        ))),
    }
}

async fn update(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req).await?;
    let chat_user_id = chat_user_id(req)?;
    let mut fields = Fields::new(&req.body);
    let name = fields.present::<Name>("name");
    let email = match &access {
        ChatAccess::Owner { .. } => fields.present::<Email>("email"),
        ChatAccess::Member(guest) => {
            if guest.chat_user.id != chat_user_id {
                return Err(ApiError::Forbidden("A chat user may only change itself."));
            }
            if req.body.contains("email") {
                fields.error("email", "A chat user cannot change its email.");
            }
            None
        }
    };
    fields.finish()?;
    let chat_id = access.chat().id.clone();
    let current = load(app, &chat_id, &chat_user_id).await?;
    let updated = match email.filter(|e| e.as_str() != current.email) {
        Some(email) => change_email(app, &current, &email, name).await?,
        None => rename(app, &current, name).await?,
    };
    Ok(http::data(StatusCode::OK, updated.resource(true)))
}

async fn rename(
    app: &App,
    current: &ChatUserRecord,
    name: Option<Name>,
) -> Result<ChatUserRecord, ApiError> {
    let db = &app.ctx.db;
    let name = name.map_or_else(|| current.name.clone(), Name::into_inner);
    let result = db
        .client()
        .update_item()
        .table_name(db.table())
        .set_key(Some(
            keys::chat_user(&current.chat_id, &current.id).to_item(),
        ))
        .update_expression("SET #name = :name, updated_at = :now")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#name", "name")
        .expression_attribute_values(":name", db::s(name))
        .expression_attribute_values(":now", db::s(clock::now_rfc3339()))
        .return_values(ReturnValue::AllNew)
        .send()
        .await;
    match result {
        Ok(output) => db::from_item(output.attributes.unwrap_or_default()),
        Err(err) if db::is_condition_failed(&err) => Err(ApiError::NotFound(NO_SUCH_CHAT_USER)),
        Err(err) => Err(err.into()),
    }
}

/// Moves the chat user to a new email: the old email item goes, the new one must be
/// free, and the change is one transaction. The new address is not verified yet.
async fn change_email(
    app: &App,
    current: &ChatUserRecord,
    email: &Email,
    name: Option<Name>,
) -> Result<ChatUserRecord, ApiError> {
    let db = &app.ctx.db;
    let mut updated = current.clone();
    if let Some(name) = name {
        updated.name = name.into_inner();
    }
    updated.email = email.as_str().to_owned();
    updated.verified_at = None;
    updated.updated_at = clock::now_rfc3339();
    let chat_id = &current.chat_id;
    let outcome = db::transact(
        db,
        vec![
            tx::put(
                db.table(),
                db::to_item(&keys::chat_user(chat_id, &current.id), &updated)?,
                "attribute_exists(PK) AND email = :old",
                &[(":old", db::s(&current.email))],
            )?,
            tx::delete(
                db.table(),
                &keys::chat_user_email(chat_id, &current.email),
                None,
                &[],
            )?,
            tx::put(
                db.table(),
                db::to_item(
                    &keys::chat_user_email(chat_id, email.as_str()),
                    &ChatUserEmailRecord {
                        chat_user_id: current.id.clone(),
                    },
                )?,
                "attribute_not_exists(PK)",
                &[],
            )?,
            tx::delete(
                db.table(),
                &keys::auth_code(chat_id, &current.email),
                None,
                &[],
            )?,
        ],
    )
    .await?;
    match outcome {
        Ok(()) => Ok(updated),
        Err(reasons) if reasons[2].0 == "ConditionalCheckFailed" => {
            Err(FieldErrors::single("email", EMAIL_TAKEN))
        }
        Err(reasons) if reasons[0].0 == "ConditionalCheckFailed" => Err(ApiError::Conflict(
            "The chat user changed meanwhile; try again.",
        )),
        Err(reasons) => Err(ApiError::internal(format!(
            "chat user email change cancelled: {reasons:?}"
        ))),
    }
}

async fn delete(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req).await?;
    let chat_user_id = chat_user_id(req)?;
    if let ChatAccess::Member(guest) = &access {
        if guest.chat_user.id != chat_user_id {
            return Err(ApiError::Forbidden("A chat user may only delete itself."));
        }
    }
    let chat_id = access.chat().id.clone();
    let current = load(app, &chat_id, &chat_user_id).await?;
    let db = &app.ctx.db;
    // The chat user, its email and any pending code go together; its messages stay.
    // Its tokens die with the item (every chat-user request reads it).
    let outcome = db::transact(
        db,
        vec![
            tx::delete(
                db.table(),
                &keys::chat_user(&chat_id, &chat_user_id),
                Some("attribute_exists(PK)"),
                &[],
            )?,
            tx::delete(
                db.table(),
                &keys::chat_user_email(&chat_id, &current.email),
                None,
                &[],
            )?,
            tx::delete(
                db.table(),
                &keys::auth_code(&chat_id, &current.email),
                None,
                &[],
            )?,
        ],
    )
    .await?;
    match outcome {
        Ok(()) => Ok(http::data(StatusCode::OK, current.resource(true))),
        Err(reasons) if reasons[0].0 == "ConditionalCheckFailed" => {
            Err(ApiError::NotFound(NO_SUCH_CHAT_USER))
        }
        Err(reasons) => Err(ApiError::internal(format!(
            "chat user delete cancelled: {reasons:?}"
        ))),
    }
}

/// `POST .../users/{chat_user_id}/token`: a chat-user token without email, for an
/// owner's server-side integration.
async fn mint_token(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let (_, chat) = access::owner_access(&app.ctx, req).await?;
    let chat_user = load(app, &chat.id, &chat_user_id(req)?).await?;
    Ok(http::data(
        StatusCode::CREATED,
        token_body(app, &chat_user)?,
    ))
}

/// `{token, token_type, expires_at, chat_user}` for a chat user.
fn token_body(app: &App, chat_user: &ChatUserRecord) -> Result<serde_json::Value, ApiError> {
    let (token, expires_at) = app.ctx.tokens.issue_chat_user_token(
        &chat_user.chat_id,
        &chat_user.id,
        app.ctx.config.chat_user_token_ttl_secs,
    )?;
    Ok(json!({
        "token": token,
        "token_type": "Bearer",
        "expires_at": clock::rfc3339(expires_at * 1000),
        "chat_user": chat_user.resource(true),
    }))
}

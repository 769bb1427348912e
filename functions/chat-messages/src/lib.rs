//! `chat-messages`: posting, reading, editing and deleting a chat's messages.
//!
//! Ordering is the contract here: a poller asking `?after=<last id it saw>` must never
//! miss a message and never see one twice. Message ids are ULIDs, and a message is
//! written in one transaction with the chat item on the condition that its id sorts
//! after the chat's `last_message_id`. So ids become visible in strictly increasing
//! order: once a reader has seen id X, no message with an id below X can appear later.
//! A writer that loses the race (a later id was committed first) retries with an id
//! above the winner's, which the failed condition hands back.

use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::access::{self, ChatAccess, NO_SUCH_CHAT};
use shared::auth::Guest;
use shared::aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use shared::db::records::{ChatRecord, MessageClientIdRecord, MessageRecord};
use shared::db::{self, keys, tx};
use shared::routes::Function;
use shared::validate::{ClientId, Fields, Id, MessageBody};
use shared::{ApiError, ApiRequest, FieldErrors, clock, http, validate};
use ulid::Ulid;

pub use shared::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, Function::ChatMessages, |req| dispatch(app, req)).await
}

async fn dispatch(app: &App, req: ApiRequest) -> Result<Response<Body>, ApiError> {
    const ONE: &str = "/api/chats/{chat_id}/messages/{message_id}";
    match (req.route.path, req.method.as_str()) {
        ("/api/chats/{chat_id}/messages", "GET") => list(app, &req).await,
        ("/api/chats/{chat_id}/messages", "POST") => create(app, &req).await,
        (ONE, "GET") => get(app, &req).await,
        (ONE, "PUT") => edit(app, &req).await,
        (ONE, "DELETE") => delete(app, &req).await,
        _ => Err(ApiError::NotFound("There is no such route.")),
    }
}

const NO_SUCH_MESSAGE: &str = "No such message.";
pub const DEFAULT_PER_PAGE: usize = 50;
pub const MAX_PER_PAGE: usize = 100;
/// Attempts at winning the chat's ordering condition before giving up with a 503-like 429.
const MAX_POST_ATTEMPTS: u32 = 60;

async fn create(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    // An API token gets the 401 that says a chat-user token is needed.
    let guest = access::member_access(&app.ctx, req).await?;
    let mut fields = Fields::new(&req.body);
    let input = (
        fields.required::<MessageBody>("body"),
        fields.optional::<ClientId>("client_id"),
    );
    fields.finish()?;
    let (Some(body), client_id) = input else {
        unreachable!("finish() reports every missing required field")
    };
    match post(app, &guest, body, client_id).await? {
        Posted::New(message) => Ok(http::data(StatusCode::CREATED, message.resource())),
        Posted::Repeat(message) => Ok(http::data(StatusCode::OK, message.resource())),
    }
}

pub enum Posted {
    New(MessageRecord),
    /// The same `client_id` was sent before: the first message, unchanged.
    Repeat(MessageRecord),
}

/// The next id: now, but above `last` (the chat's newest), whatever the clocks say.
fn next_id(last: Option<&str>) -> Ulid {
    let now = Ulid::new();
    match last.and_then(|l| Ulid::from_string(l).ok()) {
        Some(last) if now <= last => last.increment().unwrap_or(now),
        _ => now,
    }
}

async fn post(
    app: &App,
    guest: &Guest,
    body: MessageBody,
    client_id: Option<ClientId>,
) -> Result<Posted, ApiError> {
    let db = &app.ctx.db;
    let chat_id = guest.chat.id.clone();
    let chat_user_id = guest.chat_user.id.clone();
    let body = body.into_inner();
    let client_id = client_id.map(ClientId::into_inner);
    let client_key = client_id
        .as_deref()
        .map(|c| keys::message_client_id(&chat_id, &chat_user_id, c));
    let mut last_seen = guest.chat.last_message_id.clone();
    for attempt in 0..MAX_POST_ATTEMPTS {
        let id = next_id(last_seen.as_deref()).to_string();
        let now = clock::now_rfc3339();
        let message = MessageRecord {
            id: id.clone(),
            chat_id: chat_id.clone(),
            chat_user_id: chat_user_id.clone(),
            body: body.clone(),
            created_at: now.clone(),
            updated_at: now.clone(),
            edited_at: None,
            client_id: client_id.clone(),
        };
        let mut items = vec![
            tx::update(
                db.table(),
                &keys::chat(&chat_id),
                "SET last_message_id = :id, last_message_at = :now",
                "attribute_exists(PK) AND (attribute_not_exists(last_message_id) OR last_message_id < :id)",
                &[(":id", db::s(&id)), (":now", db::s(&now))],
            )?,
            // The author must still be a chat user when the message lands.
            tx::check(
                db.table(),
                &keys::chat_user(&chat_id, &chat_user_id),
                "attribute_exists(PK)",
                &[],
            )?,
            tx::put(
                db.table(),
                db::to_item(&keys::message(&chat_id, &id), &message)?,
                "attribute_not_exists(PK)",
                &[],
            )?,
        ];
        if let Some(key) = &client_key {
            let pointer = MessageClientIdRecord {
                message_id: id.clone(),
            };
            items.push(tx::put(
                db.table(),
                db::to_item(key, &pointer)?,
                "attribute_not_exists(PK)",
                &[],
            )?);
        }
        let reasons = match db::transact(db, items).await? {
            Ok(()) => return Ok(Posted::New(message)),
            Err(reasons) => reasons,
        };
        let failed = |i: usize| {
            reasons
                .get(i)
                .is_some_and(|(code, _)| code == "ConditionalCheckFailed")
        };
        if failed(3) {
            // This client_id was used before (by this chat user): answer with that message.
            return repeat(
                app,
                &chat_id,
                client_key.as_ref().expect("client item present"),
            )
            .await;
        }
        if failed(1) {
            return Err(ApiError::Unauthenticated("Unauthenticated."));
        }
        if failed(0) {
            match reasons[0].1.as_ref() {
                // A later id got in first: go again above it.
                Some(chat) => {
                    last_seen = match chat.get("last_message_id") {
                        Some(AttributeValue::S(last)) => Some(last.clone()),
                        _ => None,
                    };
                    continue;
                }
                None => return Err(ApiError::NotFound(NO_SUCH_CHAT)),
            }
        }
        // A transaction conflict with a concurrent writer: back off a little, then retry.
        let jitter = u64::from(Ulid::new().random() as u16 % 20);
        tokio::time::sleep(Duration::from_millis(
            5 + jitter + 5 * u64::from(attempt.min(10)),
        ))
        .await;
    }
    Err(ApiError::TooManyRequests {
        message: "This chat is very busy right now. Send the message again.",
        retry_after_secs: 1,
    })
}

async fn repeat(app: &App, chat_id: &str, client_key: &db::Key) -> Result<Posted, ApiError> {
    let db = &app.ctx.db;
    let pointer: MessageClientIdRecord = db
        .get(client_key)
        .await?
        .ok_or_else(|| ApiError::internal("client id vanished between write and read"))?;
    let message: MessageRecord = db
        .get(&keys::message(chat_id, &pointer.message_id))
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_MESSAGE))?;
    Ok(Posted::Repeat(message))
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    Latest,
    Before(Id),
    After(Id),
}

fn window(req: &ApiRequest) -> Result<Window, ApiError> {
    let cursor = |field: &str| -> Result<Option<Id>, ApiError> {
        req.query(field)
            .map(|raw| {
                Id::parse(raw).ok_or_else(|| {
                    FieldErrors::single(field, format!("The {field} field must be a message id."))
                })
            })
            .transpose()
    };
    match (cursor("before")?, cursor("after")?) {
        (Some(_), Some(_)) => Err(FieldErrors::single(
            "before",
            "Give either before or after, not both.",
        )),
        (Some(id), None) => Ok(Window::Before(id)),
        (None, Some(id)) => Ok(Window::After(id)),
        (None, None) => Ok(Window::Latest),
    }
}

/// One `Query` per page, in the chat's partition, bounded by the cursor id.
async fn list(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req).await?;
    let per_page = validate::per_page(req.query("per_page"), DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let window = window(req)?;
    let chat_id = &access.chat().id;
    let prefix = keys::MESSAGE_PREFIX;
    let bound = |id: &Id| keys::message(chat_id, &id.to_string()).sk;
    // Bounds are inclusive in DynamoDB: the cursor's own message is dropped below, so
    // one more than a page plus one tells whether there is more.
    let (low, high, newest_first) = match window {
        Window::Latest => (prefix.to_owned(), format!("{prefix}~"), true),
        Window::Before(id) => (prefix.to_owned(), bound(&id), true),
        Window::After(id) => (bound(&id), format!("{prefix}~"), false),
    };
    let db = &app.ctx.db;
    let output = db
        .client()
        .query()
        .table_name(db.table())
        .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
        .expression_attribute_values(":pk", db::s(keys::chat_partition(chat_id)))
        .expression_attribute_values(":low", db::s(low))
        .expression_attribute_values(":high", db::s(high))
        .scan_index_forward(!newest_first)
        .limit((per_page + 2) as i32)
        .consistent_read(true)
        .send()
        .await?;
    let cursor_id = match window {
        Window::Before(id) | Window::After(id) => Some(id.to_string()),
        Window::Latest => None,
    };
    let mut messages: Vec<MessageRecord> = output
        .items
        .unwrap_or_default()
        .into_iter()
        .map(db::from_item::<MessageRecord>)
        .filter(|m| {
            m.as_ref()
                .map_or(true, |m| Some(&m.id) != cursor_id.as_ref())
        })
        .collect::<Result<_, _>>()?;
    let has_more = messages.len() > per_page;
    messages.truncate(per_page);
    if newest_first {
        messages.reverse();
    }
    Ok(http::json_response(
        StatusCode::OK,
        &json!({
            "data": messages.iter().map(MessageRecord::resource).collect::<Vec<_>>(),
            "meta": { "per_page": per_page, "has_more": has_more },
        }),
    ))
}

fn message_id(req: &ApiRequest) -> Result<String, ApiError> {
    Ok(Id::from_path(req.param("message_id"), NO_SUCH_MESSAGE)?.to_string())
}

async fn load(app: &App, chat: &ChatRecord, message_id: &str) -> Result<MessageRecord, ApiError> {
    app.ctx
        .db
        .get(&keys::message(&chat.id, message_id))
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_MESSAGE))
}

async fn get(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req).await?;
    let message = load(app, access.chat(), &message_id(req)?).await?;
    Ok(http::data(StatusCode::OK, message.resource()))
}

/// Only its author edits a message.
async fn edit(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let guest = access::member_access(&app.ctx, req).await?;
    let message_id = message_id(req)?;
    let mut fields = Fields::new(&req.body);
    let body = fields.required::<MessageBody>("body");
    fields.finish()?;
    let Some(body) = body else {
        unreachable!("finish() reports every missing required field")
    };
    let current = load(app, &guest.chat, &message_id).await?;
    if current.chat_user_id != guest.chat_user.id {
        return Err(ApiError::Forbidden("Only its author can edit a message."));
    }
    let db = &app.ctx.db;
    let now = clock::now_rfc3339();
    let result = db
        .client()
        .update_item()
        .table_name(db.table())
        .set_key(Some(keys::message(&guest.chat.id, &message_id).to_item()))
        .update_expression("SET body = :body, edited_at = :now, updated_at = :now")
        .condition_expression("attribute_exists(PK) AND chat_user_id = :author")
        .expression_attribute_values(":body", db::s(body.into_inner()))
        .expression_attribute_values(":now", db::s(now))
        .expression_attribute_values(":author", db::s(&guest.chat_user.id))
        .return_values(ReturnValue::AllNew)
        .send()
        .await;
    match result {
        Ok(output) => {
            let message: MessageRecord = db::from_item(output.attributes.unwrap_or_default())?;
            Ok(http::data(StatusCode::OK, message.resource()))
        }
        Err(err) if db::is_condition_failed(&err) => Err(ApiError::NotFound(NO_SUCH_MESSAGE)),
        Err(err) => Err(err.into()),
    }
}

/// Its author (chat-user token) or the chat's owner (API token) deletes a message.
async fn delete(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req).await?;
    let message_id = message_id(req)?;
    let current = load(app, access.chat(), &message_id).await?;
    if let ChatAccess::Member(guest) = &access {
        if current.chat_user_id != guest.chat_user.id {
            return Err(ApiError::Forbidden(
                "Only its author or the chat's owner can delete a message.",
            ));
        }
    }
    let db = &app.ctx.db;
    let chat_id = &access.chat().id;
    let mut items = vec![tx::delete(
        db.table(),
        &keys::message(chat_id, &message_id),
        Some("attribute_exists(PK)"),
        &[],
    )?];
    // Its client_id is free again once the message is gone.
    if let Some(client_id) = &current.client_id {
        items.push(tx::delete(
            db.table(),
            &keys::message_client_id(chat_id, &current.chat_user_id, client_id),
            None,
            &[],
        )?);
    }
    match db::transact(db, items).await? {
        Ok(()) => Ok(http::data(StatusCode::OK, current.resource())),
        Err(reasons) if reasons[0].0 == "ConditionalCheckFailed" => {
            Err(ApiError::NotFound(NO_SUCH_MESSAGE))
        }
        Err(reasons) => Err(ApiError::internal(format!(
            "message delete cancelled: {reasons:?}"
        ))),
    }
}

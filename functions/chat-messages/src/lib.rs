//! `chat-messages`: posting, reading, editing and deleting a chat's messages. The
//! ordering contract (ids become visible in increasing order, so `?after=` polling
//! never skips or repeats) is kept by `shared::db::messages`.
// The AWS SDK's futures nest deeply; the handler's needs more than the default 128.
#![recursion_limit = "256"]

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::access::{self, ChatAccess, NO_SUCH_CHAT};
use shared::db::events::EventsRead;
use shared::db::messages::{MessageRecord, NewMessage, Posted, Window, sending_rate};
use shared::events::{Audience, DeletedBy};
use shared::ids::{ChatId, EntityId, MessageId};
use shared::routes::ChatMessagesEndpoint;
use shared::validate::{ClientId, Fields, MessageBody};
use shared::{ApiError, ApiRequest, FieldErrors, clock, http};

pub use shared::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, |endpoint, req| dispatch(app, endpoint, req)).await
}

async fn dispatch(
    app: &App,
    endpoint: ChatMessagesEndpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    match endpoint {
        ChatMessagesEndpoint::List(chat) => list(app, &req, chat).await,
        ChatMessagesEndpoint::Post(chat) => create(app, &req, chat).await,
        ChatMessagesEndpoint::Get(chat, message) => {
            let (_, message) = find(app, &req, chat, message).await?;
            Ok(http::data(StatusCode::OK, message.resource()))
        }
        ChatMessagesEndpoint::Edit(chat, message) => edit(app, &req, chat, message).await,
        ChatMessagesEndpoint::Delete(chat, message) => delete(app, &req, chat, message).await,
        ChatMessagesEndpoint::Events(chat) => events(app, &req, chat).await,
    }
}

const NO_SUCH_MESSAGE: ApiError = ApiError::NotFound(MessageId::NOT_FOUND);
pub const DEFAULT_PER_PAGE: usize = 50;
pub const MAX_PER_PAGE: usize = 100;

async fn create(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    // An API token gets the 401 that says a chat-user token is needed.
    let guest = access::member_access(&app.ctx, req, chat).await?;
    let mut fields = Fields::new(&req.body);
    let body = fields.required::<MessageBody>("body");
    let client_id = fields.optional::<ClientId>("client_id");
    let (body, client_id) = fields.finish_with(|| Some((body?, client_id)))?;
    let new = NewMessage {
        chat_id: guest.chat.id,
        author: guest.chat_user.id,
        body: body.into_inner(),
        client_id: client_id.map(ClientId::into_inner),
        head: guest.chat.head(),
        rate: sending_rate(app.ctx.config.messages_per_minute),
    };
    match app.ctx.db.post_message(new).await? {
        Posted::New(message) => Ok(http::data(StatusCode::CREATED, message.resource())),
        Posted::Repeat(message) => Ok(http::data(StatusCode::OK, message.resource())),
        Posted::RepeatOfDeleted => Err(NO_SUCH_MESSAGE),
        Posted::AuthorGone => Err(ApiError::Unauthenticated("Unauthenticated.")),
        Posted::ChatGone => Err(ApiError::NotFound(NO_SUCH_CHAT)),
        Posted::Busy => Err(ApiError::TooManyRequests {
            message: "This chat is very busy right now. Send the message again.",
            retry_after_secs: 1,
        }),
        Posted::TooFast { retry_after_secs } => Err(ApiError::TooManyRequests {
            message: "You are sending messages too fast. Wait, then send again.",
            retry_after_secs,
        }),
    }
}

/// `?before=` / `?after=`: a message id each, at most one of them.
fn window(req: &ApiRequest) -> Result<Window, ApiError> {
    let bound = |field: &str| -> Result<Option<MessageId>, ApiError> {
        req.query(field)
            .map(|raw| {
                MessageId::parse(raw).ok_or_else(|| {
                    FieldErrors::single(field, format!("The {field} field must be a message id."))
                })
            })
            .transpose()
    };
    match (bound("before")?, bound("after")?) {
        (Some(_), Some(_)) => Err(FieldErrors::single(
            "before",
            "Give either before or after, not both.",
        )),
        (Some(id), None) => Ok(Window::Before(id)),
        (None, Some(id)) => Ok(Window::After(id)),
        (None, None) => Ok(Window::Latest),
    }
}

async fn list(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat).await?;
    let per_page = req.per_page(DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let window = window(req)?;
    let page = app
        .ctx
        .db
        .list_messages(access.chat().id, window, per_page)
        .await?;
    Ok(http::json_response(
        StatusCode::OK,
        &MessageList {
            data: page.messages.iter().map(MessageView::of).collect(),
            meta: ListMeta {
                has_more: page.has_more,
                per_page,
            },
        },
    ))
}

/// A page of messages as the list answers it, serialised straight from the records
/// (no `serde_json::Value` per message: the list is the hottest read). Byte for byte what
/// `json!` of [`MessageRecord::resource`] gave: the same fields, in its (sorted) order.
#[derive(serde::Serialize)]
struct MessageList<'a> {
    data: Vec<MessageView<'a>>,
    meta: ListMeta,
}

#[derive(serde::Serialize)]
struct ListMeta {
    has_more: bool,
    per_page: usize,
}

/// [`MessageRecord::resource`], borrowed.
#[derive(serde::Serialize)]
struct MessageView<'a> {
    body: &'a str,
    chat_id: &'a ChatId,
    chat_user_id: &'a shared::ids::ChatUserId,
    created_at: &'a str,
    edited_at: Option<&'a str>,
    id: &'a MessageId,
    seq: u64,
    updated_at: &'a str,
}

impl<'a> MessageView<'a> {
    fn of(message: &'a MessageRecord) -> Self {
        Self {
            body: &message.body,
            chat_id: &message.chat_id,
            chat_user_id: &message.chat_user_id,
            created_at: &message.created_at,
            edited_at: message.edited_at.as_deref(),
            id: &message.id,
            seq: message.seq,
            updated_at: &message.updated_at,
        }
    }
}

async fn load(app: &App, chat: ChatId, message: MessageId) -> Result<MessageRecord, ApiError> {
    app.ctx
        .db
        .message(chat, message)
        .await?
        .ok_or(NO_SUCH_MESSAGE)
}

/// The caller's access to the chat (owner or member), and the message in it.
async fn find(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    message: MessageId,
) -> Result<(ChatAccess, MessageRecord), ApiError> {
    let access = access::chat_access(&app.ctx, req, chat).await?;
    let message = load(app, access.chat().id, message).await?;
    Ok((access, message))
}

/// Only its author edits a message.
async fn edit(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    message: MessageId,
) -> Result<Response<Body>, ApiError> {
    let guest = access::member_access(&app.ctx, req, chat).await?;
    let mut fields = Fields::new(&req.body);
    let body = fields.required::<MessageBody>("body");
    let body = fields.finish_with(|| body)?;
    let current = load(app, guest.chat.id, message).await?;
    if current.chat_user_id != guest.chat_user.id {
        return Err(ApiError::Forbidden("Only its author can edit a message."));
    }
    let edited = app
        .ctx
        .db
        .edit_message(guest.chat.head(), &current, body.into_inner())
        .await?
        .ok_or(NO_SUCH_MESSAGE)?;
    Ok(http::data(StatusCode::OK, edited.resource()))
}

/// Its author (chat-user token) or the chat's owner (API token) deletes a message.
async fn delete(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    message: MessageId,
) -> Result<Response<Body>, ApiError> {
    let (access, current) = find(app, req, chat, message).await?;
    if let ChatAccess::Member(guest) = &access
        && current.chat_user_id != guest.chat_user.id
    {
        return Err(ApiError::Forbidden(
            "Only its author or the chat's owner can delete a message.",
        ));
    }
    let deleted_by = match &access {
        ChatAccess::Owner { .. } => DeletedBy::Owner,
        ChatAccess::Member(guest) => DeletedBy::Author(guest.chat_user.id),
    };
    if !app
        .ctx
        .db
        .delete_message(access.chat().head(), &current, deleted_by)
        .await?
    {
        return Err(NO_SUCH_MESSAGE);
    }
    Ok(http::data(StatusCode::OK, current.resource()))
}

pub const DEFAULT_EVENTS_PER_PAGE: usize = 100;

/// `GET /api/chats/{chat_id}/events?after=<seq>`: the chat's log in `seq` order, as the
/// caller may see it. An `after` older than the oldest kept event is a 409 with
/// `reset: true`: the client reloads the messages instead of silently missing some.
async fn events(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat).await?;
    let per_page = req.per_page(DEFAULT_EVENTS_PER_PAGE, MAX_PER_PAGE)?;
    let after = req
        .query("after")
        .map(|raw| {
            raw.parse::<u64>().map_err(|_| {
                FieldErrors::single(
                    "after",
                    "The after field must be an event seq (a whole number).",
                )
            })
        })
        .transpose()?;
    let chat = access.chat();
    let read = app
        .ctx
        .db
        .list_events(
            chat.id,
            after,
            chat.event_seq,
            per_page,
            clock::now_millis(),
        )
        .await?;
    let page = match read {
        EventsRead::Page(page) => page,
        EventsRead::Expired => return Err(ApiError::ResetRequired),
    };
    let audience = match &access {
        ChatAccess::Owner { .. } => Audience::Owner,
        ChatAccess::Member(guest) => Audience::ChatUser(guest.chat_user.id),
    };
    let last_seq = page
        .events
        .last()
        .map_or(chat.event_seq, |e| e.seq.max(chat.event_seq));
    Ok(http::json_response(
        StatusCode::OK,
        &json!({
            "data": page.events.iter().map(|e| e.render(audience)).collect::<Vec<_>>(),
            "meta": { "per_page": per_page, "has_more": page.has_more, "last_seq": last_seq },
        }),
    ))
}

#[cfg(test)]
mod list_tests {
    use super::*;
    use shared::ids::ChatUserId;

    fn message(edited_at: Option<&str>) -> MessageRecord {
        MessageRecord {
            id: MessageId::new(),
            seq: 7,
            chat_id: ChatId::new(),
            chat_user_id: ChatUserId::new(),
            body: "Hello \"there\" 👋\n".into(),
            created_at: "2026-11-26T09:00:00.000Z".into(),
            updated_at: "2026-11-26T09:01:00.000Z".into(),
            edited_at: edited_at.map(str::to_owned),
            client_id: Some("not in the resource".into()),
        }
    }

    #[test]
    fn the_list_is_byte_for_byte_the_resources() {
        let messages = [message(None), message(Some("2026-11-26T09:01:00.000Z"))];
        let straight = serde_json::to_string(&MessageList {
            data: messages.iter().map(MessageView::of).collect(),
            meta: ListMeta {
                has_more: true,
                per_page: 50,
            },
        })
        .unwrap();
        let through_values = serde_json::to_string(&json!({
            "data": messages.iter().map(MessageRecord::resource).collect::<Vec<_>>(),
            "meta": { "per_page": 50, "has_more": true },
        }))
        .unwrap();
        assert_eq!(straight, through_values);
    }
}

//! `chat-messages`: posting, reading, editing and deleting a chat's messages, and its
//! event log. The ordering contract (ids become visible in increasing order, so
//! `?after=` polling never skips or repeats) is kept by storage's `messages`.

pub mod attachments;
pub mod routes;

use domain::attachment::AttachmentIds;
use domain::clock;
use domain::events::{MAX_SEQ, Rendered};
use domain::ids::{ChatId, EntityId, MessageId};
use domain::message::{MessageRecord, MessageResource, sending_rate};
use domain::rate_limit::budgets::MESSAGE_CHANGES;
use domain::team::Action;
use domain::text::{ClientId, MessageBody};
use edge::access::{self, ChatAccess, NO_SUCH_CHAT};
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, Context, FieldErrors, budgets, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use routes::{Endpoint, ROUTES};
use serde::Serialize;
use storage::log::EventsRead;
use storage::message_changes::Edited;
use storage::message_posts::{NewMessage, Posted};
use storage::messages::Window;

/// What the function needs per instance: the context, and the attachments' bucket.
pub struct App {
    pub ctx: Context,
    pub files: services::files::Files,
}

impl App {
    pub fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, aws) = Context::from_env()?;
        let files = edge::config::files(&aws)?;
        Ok(Self { ctx, files })
    }

    /// With a bucket no call reaches (handler tests, benchmarks: no files in them).
    pub fn offline(ctx: Context) -> Self {
        Self {
            ctx,
            files: services::files::Files::offline("offline"),
        }
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
        Endpoint::List(chat) => list(app, &req, chat).await,
        Endpoint::Post(chat) => create(app, &req, chat).await,
        Endpoint::Get(chat, message) => {
            let (_, message) = find(app, &req, chat, message, Action::Read).await?;
            shown(app, StatusCode::OK, &message).await
        }
        Endpoint::Upload(chat) => attachments::upload(app, &req, chat).await,
        Endpoint::Edit(chat, message) => edit(app, &req, chat, message).await,
        Endpoint::Delete(chat, message) => delete(app, &req, chat, message).await,
        Endpoint::Events(chat) => events(app, &req, chat).await,
    }
}

/// A message as an HTTP answer shows it: its attachments with fresh links.
async fn shown(
    app: &App,
    status: StatusCode,
    message: &MessageRecord,
) -> Result<Response<Body>, ApiError> {
    let resource = attachments::with_links(&app.files, message.resource()).await?;
    Ok(envelope::data(status, resource))
}

const NO_SUCH_MESSAGE: ApiError = ApiError::NotFound(MessageId::NOT_FOUND);
pub const DEFAULT_PER_PAGE: usize = 50;
pub const MAX_PER_PAGE: usize = 100;

/// A chat user of the chat (chat-user token) or a member of its company (API token)
/// posts; a member may write a note (`internal: true`), which no chat user ever sees.
async fn create(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::Answer).await?;
    let mut fields = Fields::new(&req.body);
    let attachment_ids = fields
        .optional::<AttachmentIds>("attachment_ids")
        .map(|ids| ids.0)
        .unwrap_or_default();
    // With attachments, the body may be "" or absent.
    let body = if attachment_ids.is_empty() {
        fields
            .required::<MessageBody>("body")
            .map(MessageBody::into_inner)
    } else {
        match req.body.get("body") {
            None | Some(serde_json::Value::Null) => Some(String::new()),
            Some(serde_json::Value::String(text)) if text.is_empty() => Some(String::new()),
            Some(_) => fields
                .required::<MessageBody>("body")
                .map(MessageBody::into_inner),
        }
    };
    let client_id = fields.optional::<ClientId>("client_id");
    let internal = fields.optional::<bool>("internal").unwrap_or(false);
    let (body, client_id) = fields.finish_with(|| Some((body?, client_id)))?;
    if internal && matches!(access, ChatAccess::Member(_)) {
        return Err(FieldErrors::single(
            "internal",
            "Only members of the company write notes: a chat user's messages are never internal.",
        ));
    }
    let author = access.author();
    let client_id = client_id.map(ClientId::into_inner);
    // A replay's attachments are attached already: answer the first message as it is.
    if let (Some(client_id), false) = (&client_id, attachment_ids.is_empty())
        && let Some(first) = app
            .ctx
            .db
            .messages()
            .by_client_id(access.chat().id, &author, client_id)
            .await?
    {
        return shown(app, StatusCode::OK, &first).await;
    }
    let attachments = attachments::check(app, &access, &attachment_ids).await?;
    let new = NewMessage {
        author,
        internal,
        body,
        client_id,
        rate: sending_rate(app.ctx.config.messages_per_minute),
        sent: access.sent(),
        attachments,
    };
    match access
        .db(&app.ctx)
        .messages()
        .post(access.chat(), new)
        .await?
    {
        Posted::New(message) => shown(app, StatusCode::CREATED, &message).await,
        Posted::Repeat(message) => shown(app, StatusCode::OK, &message).await,
        Posted::RepeatOfDeleted => Err(NO_SUCH_MESSAGE),
        Posted::AuthorGone => Err(match access {
            ChatAccess::Member(_) => ApiError::Unauthenticated(edge::UNAUTHENTICATED),
            // A member removed meanwhile: as for everything of the company now.
            ChatAccess::Staff { .. } => ApiError::NotFound(NO_SUCH_CHAT),
        }),
        Posted::ChatGone => Err(ApiError::NotFound(NO_SUCH_CHAT)),
        Posted::TooFast { retry_after_secs } => Err(ApiError::TooManyRequests {
            message: "You are sending messages too fast. Wait, then send again.",
            retry_after_secs,
        }),
        Posted::AttachmentTaken => Err(FieldErrors::single(
            "attachment_ids",
            attachments::ALREADY_USED,
        )),
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
    let access = access::chat_access(&app.ctx, req, chat, Action::Read).await?;
    let per_page = req.per_page(DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let window = window(req)?;
    let messages = app.ctx.db.messages();
    let page = match access {
        ChatAccess::Staff { .. } => messages.page(access.chat().id, window, per_page).await?,
        // A chat user never sees a note.
        ChatAccess::Member(_) => {
            messages
                .page_without_notes(access.chat().id, window, per_page)
                .await?
        }
    };
    let mut data = Vec::with_capacity(page.messages.len());
    for message in &page.messages {
        data.push(attachments::with_links(&app.files, message.resource()).await?);
    }
    Ok(envelope::json_response(
        StatusCode::OK,
        &MessageList {
            data,
            meta: ListMeta {
                has_more: page.has_more,
                per_page,
            },
        },
    ))
}

/// A page of messages as the list answers it, serialised straight from the records
/// (borrowed resources, no `serde_json::Value`: the list is the hottest read).
#[derive(Serialize)]
struct MessageList<'a> {
    data: Vec<MessageResource<'a>>,
    meta: ListMeta,
}

#[derive(Serialize)]
struct ListMeta {
    has_more: bool,
    per_page: usize,
}

async fn load(app: &App, chat: ChatId, message: MessageId) -> Result<MessageRecord, ApiError> {
    app.ctx
        .db
        .messages()
        .get(chat, message)
        .await?
        .ok_or(NO_SUCH_MESSAGE)
}

/// The caller's access to the chat (owner or member), and the message in it.
async fn find(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    message: MessageId,
    action: Action,
) -> Result<(ChatAccess, MessageRecord), ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, action).await?;
    let message = load(app, access.chat().id, message).await?;
    // A note does not exist for a chat user.
    if message.internal && matches!(access, ChatAccess::Member(_)) {
        return Err(NO_SUCH_MESSAGE);
    }
    Ok((access, message))
}

const TOO_MANY_CHANGES: &str = "Too many message edits and deletes. Wait, then try again.";

/// Only its author edits a message: a chat user its own, a member its own (a note stays a
/// note).
async fn edit(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    message: MessageId,
) -> Result<Response<Body>, ApiError> {
    let (access, current) = find(app, req, chat, message, Action::Answer).await?;
    let mut fields = Fields::new(&req.body);
    let body = fields.required::<MessageBody>("body");
    let body = fields.finish_with(|| body)?;
    if !current.written_by(&access.author()) {
        return Err(ApiError::Forbidden("Only its author can edit a message."));
    }
    budgets::spend(
        &app.ctx,
        &MESSAGE_CHANGES,
        &access.budget_key(),
        TOO_MANY_CHANGES,
    )
    .await?;
    match access
        .db(&app.ctx)
        .messages()
        .edit(access.chat(), &current, body.into_inner())
        .await?
    {
        Edited::Done(edited) => shown(app, StatusCode::OK, &edited).await,
        Edited::Gone => Err(NO_SUCH_MESSAGE),
        Edited::TooManyEdits => Err(ApiError::Conflict(
            "This message was edited as often as a message may be: post a new one.",
        )),
    }
}

/// Its author deletes a message (a chat user its own, a member its own), and a member
/// whose role moderates deletes anyone's.
async fn delete(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    message: MessageId,
) -> Result<Response<Body>, ApiError> {
    let (access, current) = find(app, req, chat, message, Action::Answer).await?;
    let own = current.written_by(&access.author());
    let moderates = match &access {
        ChatAccess::Staff { membership, .. } => membership.allows(Action::ModerateMessages),
        ChatAccess::Member(_) => false,
    };
    if !own && !moderates {
        return Err(match access {
            ChatAccess::Member(_) => {
                ApiError::Forbidden("Only its author or the chat's owner can delete a message.")
            }
            ChatAccess::Staff { .. } => ApiError::Forbidden(access::ROLE_TOO_LOW),
        });
    }
    let author = match &access {
        ChatAccess::Staff { .. } => None,
        ChatAccess::Member(guest) => Some(guest.chat_user.id),
    };
    budgets::spend(
        &app.ctx,
        &MESSAGE_CHANGES,
        &access.budget_key(),
        TOO_MANY_CHANGES,
    )
    .await?;
    if !access
        .db(&app.ctx)
        .messages()
        .delete(access.chat(), &current, author)
        .await?
    {
        return Err(NO_SUCH_MESSAGE);
    }
    // Its files are gone with it: the answer names them, without links.
    Ok(envelope::data(StatusCode::OK, current.resource()))
}

pub const DEFAULT_EVENTS_PER_PAGE: usize = 100;

/// A page of the log as the caller sees it.
#[derive(Serialize)]
struct EventList<'a> {
    data: Vec<Rendered<'a>>,
    meta: EventsMeta,
}

#[derive(Serialize)]
struct EventsMeta {
    has_more: bool,
    last_seq: u64,
    per_page: usize,
}

/// `GET /api/chats/{chat_id}/events?after=<seq>`: the chat's log in `seq` order, as the
/// caller may see it. An `after` older than the oldest kept event is a 409 with
/// `reset: true`: the client reloads the messages instead of silently missing some.
async fn events(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::Read).await?;
    let per_page = req.per_page(DEFAULT_EVENTS_PER_PAGE, MAX_PER_PAGE)?;
    let after = req
        .query("after")
        .map(|raw| {
            raw.parse::<u64>()
                .ok()
                .filter(|seq| *seq <= MAX_SEQ)
                .ok_or_else(|| {
                    FieldErrors::single(
                        "after",
                        "The after field must be an event seq: a whole number from 0 to 999999999999.",
                    )
                })
        })
        .transpose()?;
    let chat = access.chat();
    let audience = access.audience();
    let log = app.ctx.db.log();
    // A chat user's pages leave out what it may not see (notes, members-only events):
    // its log has gaps in `seq`, but a page is never empty while more follow.
    let mut events = Vec::new();
    let mut from = after;
    let has_more = loop {
        let page = match log.page(chat, from, per_page, clock::now_millis()).await? {
            EventsRead::Page(page) => page,
            EventsRead::Expired => return Err(ApiError::ResetRequired),
        };
        let last_read = page.events.last().map(|e| e.seq);
        events.extend(page.events.into_iter().filter(|e| e.shown_to(audience)));
        match last_read {
            Some(last) if page.has_more && events.is_empty() => from = Some(last),
            _ => break page.has_more,
        }
    };
    // The head of the whole log, seen or not: the client knows it has caught up.
    let last_seq = events
        .last()
        .map_or(chat.event_seq, |e| e.seq.max(chat.event_seq));
    Ok(envelope::json_response(
        StatusCode::OK,
        &EventList {
            data: events.iter().map(|e| e.render(audience)).collect(),
            meta: EventsMeta {
                has_more,
                last_seq,
                per_page,
            },
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::ChatUserId;
    use domain::message::Author;
    use serde_json::json;

    fn message(edited_at: Option<&str>) -> MessageRecord {
        let author = ChatUserId::new();
        MessageRecord {
            id: MessageId::new(),
            seq: 7,
            chat_id: ChatId::new(),
            chat_user_id: Some(author),
            author: Some(Author::Guest {
                id: author,
                name: "Ann".into(),
            }),
            internal: false,
            body: "Hello \"there\" 👋\n".into(),
            created_at: "2026-11-26T09:00:00.000Z".into(),
            updated_at: "2026-11-26T09:01:00.000Z".into(),
            edited_at: edited_at.map(str::to_owned),
            client_id: Some("not in the resource".into()),
            edit_seqs: vec![3, 5],
            attachments: Vec::new(),
        }
    }

    #[test]
    fn the_list_is_byte_for_byte_the_resources_as_they_were() {
        let messages = [message(None), message(Some("2026-11-26T09:01:00.000Z"))];
        let straight = serde_json::to_string(&MessageList {
            data: messages.iter().map(MessageRecord::resource).collect(),
            meta: ListMeta {
                has_more: true,
                per_page: 50,
            },
        })
        .unwrap();
        // What the API has written since its first list: each message as a JSON object
        // of its fields, keys in alphabetical order (a `serde_json::Map` without
        // `preserve_order`, as the functions are built), and the meta. Written here in
        // that order: the tests' build turns `preserve_order` on (aws-smithy-mocks).
        let as_values = serde_json::to_string(&json!({
            "data": messages.iter().map(|m| json!({
                "author": { "id": m.chat_user_id, "name": "Ann", "type": "guest" },
                "body": m.body,
                "chat_id": m.chat_id,
                "chat_user_id": m.chat_user_id,
                "created_at": m.created_at,
                "edited_at": m.edited_at,
                "id": m.id,
                "internal": false,
                "seq": m.seq,
                "updated_at": m.updated_at,
            })).collect::<Vec<_>>(),
            "meta": { "has_more": true, "per_page": 50 },
        }))
        .unwrap();
        assert_eq!(straight, as_values);
    }

    #[test]
    fn every_route_fits_and_builds_its_endpoint() {
        assert_eq!(ROUTES.check(), Ok(()));
        assert_eq!(ROUTES.check_builds(), Ok(()));
    }
}

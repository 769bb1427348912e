//! What a chat user gets by email besides its codes: the transcript of the conversation
//! on request, and the one-click unsubscribe of the unread-message emails (RFC 8058).

use domain::chat_user::{ChatUserRecord, TRANSCRIPTS_PER_DAY};
use domain::clock;
use domain::ids::{ChatId, ChatUserId, EntityId};
use domain::team::Action;
use domain::text::Email;
use edge::access::{self, ChatAccess};
use edge::router::Method;
use edge::{ApiError, ApiRequest, envelope};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use services::mail::{Letter, Team, escape_html, message_lines};

use crate::App;

/// Messages a transcript holds at most (SES takes messages up to 40 MB; this is far below).
pub const MAX_TRANSCRIPT_MESSAGES: usize = 10_000;

// The 429's message names the budget.
const _: () = assert!(TRANSCRIPTS_PER_DAY == 5);

const NO_SUCH_CHAT_USER: ApiError = ApiError::NotFound(ChatUserId::NOT_FOUND);

/// `POST …/users/{chat_user_id}/transcript`: the owner, or that chat user itself, has the
/// whole conversation emailed to the chat user. Throttled as codes are: it mails an
/// address, whoever asks.
pub async fn transcript(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
    chat_user_id: ChatUserId,
) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::ManageChatUsers).await?;
    let chat_user: ChatUserRecord = match &access {
        ChatAccess::Member(guest) if guest.chat_user.id == chat_user_id => guest.chat_user.clone(),
        ChatAccess::Member(_) => {
            return Err(ApiError::Forbidden(
                "A chat user may ask for its own transcript only.",
            ));
        }
        ChatAccess::Staff { chat, .. } => app
            .ctx
            .db
            .chat_users()
            .get(chat.id, chat_user_id)
            .await?
            .ok_or(NO_SUCH_CHAT_USER)?,
    };
    if chat_user.verified_at.is_none() {
        // An address an owner typed in, never proven: it may not be the guest's.
        return Err(ApiError::Conflict(
            "This chat user has not proven its email yet: a transcript goes only to a verified address.",
        ));
    }
    let to = Email::normalized(&chat_user.email).ok_or(NO_SUCH_CHAT_USER)?;
    match app
        .ctx
        .db
        .chat_users()
        .claim_transcript(&chat_user, clock::now_millis())
        .await?
    {
        Ok(true) => {}
        Ok(false) => return Err(NO_SUCH_CHAT_USER),
        Err(retry_after_secs) => {
            return Err(ApiError::TooManyRequests {
                message: "Too many transcripts: one a minute and five a day per chat user.",
                retry_after_secs,
            });
        }
    }
    let chat = access.chat();
    let messages = app
        .ctx
        .db
        .messages()
        .all(chat.id, MAX_TRANSCRIPT_MESSAGES)
        .await?;
    let chat_users = app.ctx.db.chat_users().all(chat.id).await?;
    let company = app.ctx.db.companies().get(chat.company_id).await?;
    let lines = message_lines(&messages, &chat_users, Team::of(company.as_ref()));
    let letter = Letter::transcript(&chat.name, &lines);
    app.mailer.send(&to, &letter).await?;
    Ok(envelope::message(
        StatusCode::ACCEPTED,
        "The transcript is on its way to the chat user's email address.",
    ))
}

/// `GET` shows a page with one button; `POST` (that button, or a mail client's one-click
/// request) turns the emails off. A GET never changes anything: link scanners open links.
pub async fn unsubscribe(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    const INVALID: ApiError =
        ApiError::NotFound("This unsubscribe link is not valid (or the chat user is gone).");
    let token = req.query("token").unwrap_or_default();
    let (chat, chat_user) = app
        .ctx
        .keys()
        .await?
        .verify_unsubscribe_token(token)
        .await
        .and_then(|(chat, chat_user)| Some((ChatId::parse(&chat)?, ChatUserId::parse(&chat_user)?)))
        .ok_or(INVALID)?;
    if req.method == Method::Get {
        let chat_user = app
            .ctx
            .db
            .chat_users()
            .get(chat, chat_user)
            .await?
            .ok_or(INVALID)?;
        return Ok(page(&format!(
            "<p>Stop emails about unread messages in this chat for {}?</p>\
             <form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
            escape_html(&chat_user.email)
        )));
    }
    if !app
        .ctx
        .db
        .chat_users()
        .turn_off_unread_emails(chat, chat_user)
        .await?
    {
        return Err(INVALID);
    }
    Ok(page(
        "<p>Done: no more emails about unread messages in this chat.</p>",
    ))
}

fn page(inner: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Email settings</title></head>\
         <body style=\"font-family:sans-serif\">{inner}</body></html>"
    );
    let mut response = Response::new(Body::Text(html));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    // No other site may frame it: a hidden frame over a lure would turn a click into
    // the one-click unsubscribe.
    headers.insert(
        "content-security-policy",
        header::HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    response
}

//! Auth codes: `send-code` and `get-token`.
//!
//! One item per (chat, email) holds the current code's keyed hash, its expiry and wrong
//! tries, and the send throttle. Every write to it is conditional on the version read,
//! so concurrent sends or guesses cannot both win: a code is used at most once, and at
//! most one email goes out per window however many requests race.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use shared::access::NO_SUCH_CHAT;
use shared::db::records::{AuthCodeRecord, ChatRecord, ChatUserEmailRecord, ChatUserRecord};
use shared::db::{self, keys};
use shared::mail::AuthCodeEmail;
use shared::validate::{AuthCode, Email, Fields, Id, Name, PresentedPassword};
use shared::{ApiError, ApiRequest, FieldErrors, clock, crypto, http};

use crate::App;

pub const CODE_TTL_MS: i64 = 10 * 60 * 1000;
pub const MAX_CODE_ATTEMPTS: u32 = 5;
pub const RESEND_AFTER_MS: i64 = 60 * 1000;
pub const MAX_SENDS_PER_HOUR: u32 = 10;
const HOUR_MS: i64 = 3600 * 1000;

const ACCEPTED: &str = "If the address can join this chat, a code is on its way.";
const WRONG_PASSWORD: &str = "The chat password is not correct.";
const INVALID_CODE: &str = "The auth code is invalid or has expired.";

/// `POST /chats/{chat_id}/users/send-code`: `email`, and `name` + `password` to join.
/// Answers the same 202 whether or not the email belongs to the chat.
pub async fn send_code(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let input = (
        fields.required::<Email>("email"),
        fields.optional::<PresentedPassword>("password"),
        fields.optional::<Name>("name"),
    );
    fields.finish()?;
    let (Some(email), password, name) = input else {
        unreachable!("finish() reports every missing required field")
    };
    let chat_id = Id::from_path(req.param("chat_id"), NO_SUCH_CHAT)?.to_string();
    // The chat, whether the email is in it, and its current code: one round trip.
    let code_key = keys::auth_code(&chat_id, email.as_str());
    let [chat, member, current]: [Option<db::Item>; 3] = app
        .ctx
        .db
        .get_many(&[
            keys::chat(&chat_id),
            keys::chat_user_email(&chat_id, email.as_str()),
            code_key,
        ])
        .await?
        .try_into()
        .map_err(|_| ApiError::internal("BatchGetItem answered the wrong number of keys"))?;
    let chat: ChatRecord = db::from_item(chat.ok_or(ApiError::NotFound(NO_SUCH_CHAT))?)?;
    // The password is checked before anything about the email is looked at, so a wrong
    // one is a 403 whatever the email.
    let may_join = match &password {
        None => false,
        Some(given) => match &chat.password {
            Some(expected) if crypto::constant_time_eq(given.as_str(), expected) => true,
            _ => return Err(ApiError::Forbidden(WRONG_PASSWORD)),
        },
    };
    if member.is_none() {
        if !may_join {
            // Unknown email, no (valid) password: nothing is sent, and nothing says so.
            return Ok(http::message(StatusCode::ACCEPTED, ACCEPTED));
        }
        let name = name.ok_or_else(|| {
            FieldErrors::single("name", "The name field is required to join the chat.")
        })?;
        // A concurrent join with the same email may win the insert: then it exists.
        crate::insert(app, &chat, &email, name).await?;
    }
    let current = current.map(db::from_item::<AuthCodeRecord>).transpose()?;
    send_new_code(app, &chat, &email, current).await?;
    Ok(http::message(StatusCode::ACCEPTED, ACCEPTED))
}

/// Replaces the email's code with a new one and mails it, within the send throttle.
pub async fn issue_and_send(app: &App, chat: &ChatRecord, email: &Email) -> Result<(), ApiError> {
    let current = app
        .ctx
        .db
        .get(&keys::auth_code(&chat.id, email.as_str()))
        .await?;
    send_new_code(app, chat, email, current).await
}

/// As [`issue_and_send`], given the code item as just read (`current`).
async fn send_new_code(
    app: &App,
    chat: &ChatRecord,
    email: &Email,
    current: Option<AuthCodeRecord>,
) -> Result<(), ApiError> {
    let db = &app.ctx.db;
    let key = keys::auth_code(&chat.id, email.as_str());
    let now = clock::now_millis();
    let (window_start_ms, sent_in_window, version) = match &current {
        Some(c) => {
            let since_last = now - c.last_sent_ms;
            if since_last < RESEND_AFTER_MS {
                return Err(throttled(RESEND_AFTER_MS - since_last));
            }
            if now - c.window_start_ms < HOUR_MS {
                if c.sent_in_window >= MAX_SENDS_PER_HOUR {
                    return Err(throttled(c.window_start_ms + HOUR_MS - now));
                }
                (c.window_start_ms, c.sent_in_window, c.version)
            } else {
                (now, 0, c.version)
            }
        }
        None => (now, 0, 0),
    };
    let code = crypto::random_auth_code();
    let record = AuthCodeRecord {
        code_digest: Some(crypto::auth_code_digest(
            app.ctx.config.token_secret.expose(),
            &chat.id,
            email.as_str(),
            code,
        )),
        expires_at_ms: now + CODE_TTL_MS,
        failed_attempts: 0,
        last_sent_ms: now,
        window_start_ms,
        sent_in_window: sent_in_window + 1,
        version: version + 1,
    };
    let mut item = db::to_item(&key, &record)?;
    // DynamoDB may drop the item once both the code and the throttle window are over.
    let forget_at_ms = (now + CODE_TTL_MS).max(window_start_ms + HOUR_MS);
    item.insert(keys::TTL.to_owned(), db::n(forget_at_ms / 1000 + 60));
    let result = db
        .client()
        .put_item()
        .table_name(db.table())
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK) OR version = :version")
        .expression_attribute_values(":version", db::n(version))
        .send()
        .await;
    match result {
        Ok(_) => {}
        // Another send for this email won the race: it is the one within the window.
        Err(err) if db::is_condition_failed(&err) => return Err(throttled(RESEND_AFTER_MS)),
        Err(err) => return Err(err.into()),
    }
    let message = AuthCodeEmail::new(&chat.name, code, CODE_TTL_MS / 60_000);
    app.mailer.send(email, &message).await?;
    tracing::info!(chat_id = %chat.id, "auth code sent");
    Ok(())
}

fn throttled(retry_after_ms: i64) -> ApiError {
    ApiError::TooManyRequests {
        message: "A code was sent to this address recently. Wait before asking again.",
        retry_after_secs: (retry_after_ms.max(1000) as u64).div_ceil(1000),
    }
}

/// `POST /chats/{chat_id}/users/get-token`: `email` + `auth-code` (or `auth_code`).
pub async fn get_token(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let code_field = if req.body.contains("auth-code") {
        "auth-code"
    } else if req.body.contains("auth_code") {
        "auth_code"
    } else {
        "auth-code"
    };
    let mut fields = Fields::new(&req.body);
    let input = (
        fields.required::<Email>("email"),
        fields.required::<AuthCode>(code_field),
    );
    fields.finish()?;
    let (Some(email), Some(code)) = input else {
        unreachable!("finish() reports every missing required field")
    };
    let invalid = || FieldErrors::single("auth-code", INVALID_CODE);
    let chat_id = Id::from_path(req.param("chat_id"), NO_SUCH_CHAT)?.to_string();
    let db = &app.ctx.db;
    let code_key = keys::auth_code(&chat_id, email.as_str());
    let [chat, member, stored]: [Option<db::Item>; 3] = db
        .get_many(&[
            keys::chat(&chat_id),
            keys::chat_user_email(&chat_id, email.as_str()),
            code_key.clone(),
        ])
        .await?
        .try_into()
        .map_err(|_| ApiError::internal("BatchGetItem answered the wrong number of keys"))?;
    if chat.is_none() {
        return Err(ApiError::NotFound(NO_SUCH_CHAT));
    }
    // No such chat user, no code, a used or dead code, an expired one: all the same 422.
    let (Some(member), Some(stored)) = (member, stored) else {
        return Err(invalid());
    };
    let member: ChatUserEmailRecord = db::from_item(member)?;
    let stored: AuthCodeRecord = db::from_item(stored)?;
    let now = clock::now_millis();
    let Some(digest) = stored.code_digest.as_deref() else {
        return Err(invalid());
    };
    if stored.expires_at_ms <= now || stored.failed_attempts >= MAX_CODE_ATTEMPTS {
        return Err(invalid());
    }
    let presented = crypto::auth_code_digest(
        app.ctx.config.token_secret.expose(),
        &chat_id,
        email.as_str(),
        code.0,
    );
    let correct = crypto::constant_time_eq(&presented, digest);
    // Consume the code (right) or count the try (wrong), conditional on the version
    // read: of two concurrent uses of one code, only one gets a token.
    let update = db
        .client()
        .update_item()
        .table_name(db.table())
        .set_key(Some(code_key.to_item()))
        .condition_expression("version = :version")
        .expression_attribute_values(":version", db::n(stored.version))
        .expression_attribute_values(":next", db::n(stored.version + 1));
    let update = if correct {
        update.update_expression("SET version = :next REMOVE code_digest")
    } else if stored.failed_attempts + 1 >= MAX_CODE_ATTEMPTS {
        // The fifth wrong try kills the code.
        update
            .update_expression("SET version = :next, failed_attempts = :tries REMOVE code_digest")
            .expression_attribute_values(":tries", db::n(stored.failed_attempts + 1))
    } else {
        update
            .update_expression("SET version = :next, failed_attempts = :tries")
            .expression_attribute_values(":tries", db::n(stored.failed_attempts + 1))
    };
    match update.send().await {
        Ok(_) => {}
        Err(err) if db::is_condition_failed(&err) => return Err(invalid()),
        Err(err) => return Err(err.into()),
    }
    if !correct {
        return Err(invalid());
    }
    let chat_user = mark_verified(app, &chat_id, &member.chat_user_id)
        .await?
        .ok_or_else(invalid)?;
    tracing::info!(chat_id = %chat_id, chat_user_id = %chat_user.id, "chat-user token issued");
    Ok(http::data(
        StatusCode::OK,
        crate::token_body(app, &chat_user)?,
    ))
}

/// Sets `verified_at` the first time; `None` if the chat user was deleted meanwhile.
async fn mark_verified(
    app: &App,
    chat_id: &str,
    chat_user_id: &str,
) -> Result<Option<ChatUserRecord>, ApiError> {
    let db = &app.ctx.db;
    let result = db
        .client()
        .update_item()
        .table_name(db.table())
        .set_key(Some(keys::chat_user(chat_id, chat_user_id).to_item()))
        .update_expression("SET verified_at = if_not_exists(verified_at, :now)")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_values(":now", db::s(clock::now_rfc3339()))
        .return_values(shared::aws_sdk_dynamodb::types::ReturnValue::AllNew)
        .send()
        .await;
    match result {
        Ok(output) => Ok(Some(db::from_item(output.attributes.unwrap_or_default())?)),
        Err(err) if db::is_condition_failed(&err) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

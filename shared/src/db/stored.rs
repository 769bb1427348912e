//! Items exactly as the table stores them, for the benchmarks, whose mocked DynamoDB
//! answers with items of its own. Each delegates to its entity's own key and record.

use super::api_tokens::{self, ApiTokenRecord};
use super::auth_codes::{self, AuthCodeRecord, CodeSource};
use super::chat_users::{self, ChatUserEmailPointer, ChatUserRecord};
use super::chats::ChatRecord;
use super::messages::{self, MessageRecord};
use super::users::{self, UserRecord};
use super::{Item, to_item};
use crate::error::ApiError;
use crate::ids::ChatId;

pub fn user(user: &UserRecord) -> Result<Item, ApiError> {
    to_item(&users::key(user.id), user)
}

pub fn api_token(token: &ApiTokenRecord) -> Result<Item, ApiError> {
    to_item(&api_tokens::key(token.user_id, token.id), token)
}

pub fn chat(chat: &ChatRecord) -> Result<Item, ApiError> {
    chat.to_item()
}

pub fn chat_user(chat_user: &ChatUserRecord) -> Result<Item, ApiError> {
    to_item(&chat_users::key(chat_user.chat_id, chat_user.id), chat_user)
}

/// The unique-email item of a chat user.
pub fn chat_user_email(chat_user: &ChatUserRecord) -> Result<Item, ApiError> {
    let pointer = ChatUserEmailPointer {
        chat_user_id: chat_user.id,
        ttl: chat_user.ttl,
    };
    to_item(
        &chat_users::email_key(chat_user.chat_id, &chat_user.email),
        &pointer,
    )
}

pub fn auth_code(
    chat_id: ChatId,
    email: &str,
    source: &CodeSource,
    code: &AuthCodeRecord,
) -> Result<Item, ApiError> {
    to_item(&auth_codes::key(chat_id, email, source), code)
}

pub fn message(message: &MessageRecord) -> Result<Item, ApiError> {
    to_item(&messages::key(message.chat_id, message.id), message)
}

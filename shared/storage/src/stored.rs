//! Items exactly as the table stores them, for the benchmarks, whose mocked DynamoDB
//! answers with items of its own. Each delegates to its entity's own key and record.

use domain::api_token::ApiTokenRecord;
use domain::auth_code::{AuthCodeRecord, CodeSource};
use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::ids::ChatId;
use domain::message::MessageRecord;
use domain::user::UserRecord;

use crate::Result;
use crate::chat_users::ChatUserEmailPointer;
use crate::item::{Item, to_item};
use crate::key::Entity;

pub fn user(user: &UserRecord) -> Result<Item> {
    to_item(&UserRecord::key(user.id), user)
}

pub fn api_token(token: &ApiTokenRecord) -> Result<Item> {
    to_item(&ApiTokenRecord::key((token.user_id, token.id)), token)
}

pub fn chat(chat: &ChatRecord) -> Result<Item> {
    crate::chats::chat_item(chat)
}

pub fn chat_user(chat_user: &ChatUserRecord) -> Result<Item> {
    to_item(
        &ChatUserRecord::key((chat_user.chat_id, chat_user.id)),
        chat_user,
    )
}

/// The unique-email item of a chat user.
pub fn chat_user_email(chat_user: &ChatUserRecord) -> Result<Item> {
    to_item(
        &ChatUserEmailPointer::key((chat_user.chat_id, &chat_user.email)),
        &ChatUserEmailPointer::of(chat_user),
    )
}

pub fn auth_code(
    chat_id: ChatId,
    email: &str,
    source: &CodeSource,
    code: &AuthCodeRecord,
) -> Result<Item> {
    to_item(
        &AuthCodeRecord::key((domain::auth_code::CodeScope::Chat(chat_id), email, source)),
        code,
    )
}

pub fn message(message: &MessageRecord) -> Result<Item> {
    to_item(&MessageRecord::key((message.chat_id, message.id)), message)
}

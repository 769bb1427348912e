//! Key builders: the only place that knows how keys are spelled.
//! See the access-pattern table in [`crate::db`].

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
/// Epoch seconds after which DynamoDB may delete the item (it does so late; code that
/// reads such items checks their own expiry).
pub const TTL: &str = "ttl";

/// The primary key of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }

    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }
}

pub fn user_partition(user_id: &str) -> String {
    format!("USER#{user_id}")
}

pub fn chat_partition(chat_id: &str) -> String {
    format!("CHAT#{chat_id}")
}

pub fn user(user_id: &str) -> Key {
    Key::new(user_partition(user_id), "PROFILE")
}

/// Holds the user id for an email: makes emails unique (conditional put) and is the
/// login lookup.
pub fn user_email(email: &str) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

pub const API_TOKEN_PREFIX: &str = "TOKEN#";

pub fn api_token(user_id: &str, token_id: &str) -> Key {
    Key::new(
        user_partition(user_id),
        format!("{API_TOKEN_PREFIX}{token_id}"),
    )
}

/// Failed logins of one email in the current window.
pub fn login_failures(email: &str) -> Key {
    Key::new(format!("LOGIN#{email}"), "FAILURES")
}

pub const COMPANY_PREFIX: &str = "COMPANY#";

/// Companies live in their owner's partition: another owner's id simply finds nothing.
pub fn company(owner_id: &str, company_id: &str) -> Key {
    Key::new(
        user_partition(owner_id),
        format!("{COMPANY_PREFIX}{company_id}"),
    )
}

pub fn chat(chat_id: &str) -> Key {
    Key::new(chat_partition(chat_id), "CHAT")
}

/// GSI1 keys of a chat: the owner's chats, grouped by company, oldest first.
pub fn chat_gsi1(owner_id: &str, company_id: &str, chat_id: &str) -> (String, String) {
    (
        user_partition(owner_id),
        format!("{}{chat_id}", chats_of_company_prefix(company_id)),
    )
}

pub const CHATS_PREFIX: &str = "CHAT#";

pub fn chats_of_company_prefix(company_id: &str) -> String {
    format!("{CHATS_PREFIX}{company_id}#")
}

pub const CHAT_USER_PREFIX: &str = "MEMBER#";

pub fn chat_user(chat_id: &str, chat_user_id: &str) -> Key {
    Key::new(
        chat_partition(chat_id),
        format!("{CHAT_USER_PREFIX}{chat_user_id}"),
    )
}

/// Holds the chat-user id for an email within one chat (uniqueness by conditional put).
pub fn chat_user_email(chat_id: &str, email: &str) -> Key {
    Key::new(chat_partition(chat_id), format!("EMAIL#{email}"))
}

/// The current auth code (and its send throttle) of one email in one chat.
pub fn auth_code(chat_id: &str, email: &str) -> Key {
    Key::new(chat_partition(chat_id), format!("CODE#{email}"))
}

pub const MESSAGE_PREFIX: &str = "MSG#";

pub fn message(chat_id: &str, message_id: &str) -> Key {
    Key::new(
        chat_partition(chat_id),
        format!("{MESSAGE_PREFIX}{message_id}"),
    )
}

/// Makes a `client_id` unique per chat user: holds the id of the message it created.
pub fn message_client_id(chat_id: &str, chat_user_id: &str, client_id: &str) -> Key {
    Key::new(
        chat_partition(chat_id),
        format!("CLIENT#{chat_user_id}#{client_id}"),
    )
}

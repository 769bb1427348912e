//! The key shape of the single table: attribute names, the [`Key`] of one item, the
//! partitions, and [`Entity`]: how each kind of item is keyed (modyne's model). Each
//! entity's sort-key prefixes live in its own module.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ids::{ChatId, CompanyId, UserId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
/// The inbox (conversations only, sparse indexes), one partition per company and
/// status, `INBOX#<company>#<status>` (GSI2PK on both): GSI2 holds every conversation by
/// newest activity (GSI2SK); GSI3 only the unanswered ones, by the start of their wait
/// (GSI3SK, absent once answered).
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3: &str = "GSI3";
pub const GSI3SK: &str = "GSI3SK";
/// What each inbox index carries beyond the keys (template.yaml and `chat-admin` declare
/// the same; a test compares them): the assignee (the inbox filters on it) and, on GSI2,
/// whether the row waits (the `waiting` sort's answered part reads GSI2 without them).
pub const GSI2_PROJECTED: [&str; 2] = ["assignee_id", GSI3SK];
pub const GSI3_PROJECTED: [&str; 1] = ["assignee_id"];
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
    pub(crate) fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }

    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }

    /// The primary key of a stored item (or of an index entry, which carries it).
    pub fn of_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        match (item.get(PK), item.get(SK)) {
            (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some(Self {
                pk: pk.clone(),
                sk: sk.clone(),
            }),
            _ => None,
        }
    }
}

/// A kind of item: what names one of them, and the key that follows.
pub(crate) trait Entity {
    /// What names one item (e.g. `(ChatId, MessageId)` for a message).
    type Id<'a>;

    fn key(id: Self::Id<'_>) -> Key;
}

/// Everything of one operator: profile, API tokens, companies.
pub fn user_partition(user_id: UserId) -> String {
    format!("USER#{user_id}")
}

/// Everything of one company but its chats: the company, its members and invitations,
/// its webhook endpoints. Its chats point here from GSI1.
pub fn company_partition(company_id: CompanyId) -> String {
    format!("COMPANY#{company_id}")
}

/// Everything of one chat: the chat, its users, their codes, its messages.
pub fn chat_partition(chat_id: ChatId) -> String {
    format!("CHAT#{chat_id}")
}

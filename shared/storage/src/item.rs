//! Records as items and back, and the small pieces of expressions every repository uses.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Result;
use crate::key::{self, Key};

pub type Item = HashMap<String, AttributeValue>;

/// Condition or update values: `(":placeholder", value)`.
pub(crate) type Values<'a> = &'a [(&'a str, AttributeValue)];

pub(crate) fn values(values: Values<'_>) -> Option<Item> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    })
}

/// A record plus its key attributes, ready for `PutItem` or a transaction.
pub fn to_item<T: Serialize>(key: &Key, record: &T) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(record)?;
    item.extend(key.to_item());
    Ok(item)
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    Ok(serde_dynamo::from_item(item)?)
}

/// Whether an item's TTL has passed: DynamoDB deletes expired items late (within days),
/// so reads treat them as gone from the moment they expire.
pub(crate) fn is_expired(item: &Item, now_secs: i64) -> bool {
    match item.get(key::TTL) {
        Some(AttributeValue::N(ttl)) => ttl.parse::<i64>().is_ok_and(|ttl| ttl <= now_secs),
        _ => false,
    }
}

/// Gives an item of a chat's conversation (a message, its event, its client id) the
/// TTL of the chat's `retention_days`, counted from `at_ms`; none when it keeps messages.
pub(crate) fn expire_after(item: &mut Item, at_ms: i64, retention_days: Option<u32>) {
    if let Some(days) = retention_days {
        item.insert(
            key::TTL.to_owned(),
            n(at_ms / 1000 + i64::from(days) * 24 * 3600),
        );
    }
}

/// An item's sort key, if it has one.
pub(crate) fn sort_key(item: &Item) -> Option<&str> {
    match item.get(key::SK) {
        Some(AttributeValue::S(sk)) => Some(sk),
        _ => None,
    }
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// True when a write failed only because its condition did not hold.
pub(crate) fn is_condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_read_from_the_ttl() {
        let item = HashMap::from([(key::TTL.to_owned(), n(100))]);
        assert!(is_expired(&item, 100));
        assert!(!is_expired(&item, 99));
        assert!(!is_expired(&HashMap::new(), 1_000));
    }
}

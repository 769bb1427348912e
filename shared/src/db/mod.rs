//! The single DynamoDB table.
//!
//! Every request is served by `GetItem`, `BatchGetItem`, `Query`, conditional writes and
//! transactions; nothing on a request path scans. Uniqueness is a conditional put of a
//! dedicated item, never read-then-write. Updates are conditional on `attribute_exists`
//! so a concurrently deleted item is never written back to life.
//!
//! ## Access patterns
//!
//! | entity | PK | SK | GSI1PK / GSI1SK | used by |
//! |---|---|---|---|---|
//! | user | `USER#<user>` | `PROFILE` | | every API-token request (with its token, one `BatchGetItem`), `GET /api/user` |
//! | user email (unique) | `EMAIL#<email>` | `EMAIL` | | `POST /api/tokens` (login lookup), `chat-admin user create` (conditional put) |
//! | login failures | `LOGIN#<email>` | `FAILURES` | | `POST /api/tokens` (10 per 15 min, TTL) |
//! | API token | `USER#<user>` | `TOKEN#<token>` | | auth (revocation check), `GET /api/tokens` (Query `begins_with`), `DELETE /api/tokens/{id}` |
//! | company | `USER#<owner>` | `COMPANY#<company>` | | `/api/companies*` (Get / Query in the owner's partition: another owner's id finds nothing), chat create (transaction keeps `chat_count`) |
//! | chat | `CHAT#<chat>` | `CHAT` | `USER#<owner>` / `CHAT#<company>#<chat>` | `/api/chats/{id}`, share, every chat-user and message route; `GET /api/chats` (Query GSI1, `?company_id=` narrows the prefix) |
//! | chat user | `CHAT#<chat>` | `MEMBER#<chat user>` | | chat-user token auth (with the chat, one `BatchGetItem`), `/api/chats/{id}/users*` (Query `begins_with`) |
//! | chat-user email (unique in chat) | `CHAT#<chat>` | `EMAIL#<email>` | | chat-user create (transaction), send-code / get-token lookup |
//! | auth code + send throttle | `CHAT#<chat>` | `CODE#<email>` | | send-code, get-token (versioned conditional writes, TTL) |
//! | message | `CHAT#<chat>` | `MSG#<message>` | | `/api/chats/{id}/messages*` (one Query per page, `before` / `after` as key bounds) |
//! | message client id (unique per chat user) | `CHAT#<chat>` | `CLIENT#<chat user>#<client id>` | | idempotent `POST` messages (same transaction as the message) |
//!
//! Everything of a chat shares its partition, so deleting a chat is one paginated Query
//! plus batched deletes, after the chat item itself is gone (which makes the rest
//! unreachable at once).

pub mod keys;
mod page;
pub mod records;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use keys::Key;
pub use page::{ListQuery, Page};

use crate::error::ApiError;

pub type Item = HashMap<String, AttributeValue>;

/// The table and the client to reach it; built once per Lambda instance.
#[derive(Debug, Clone)]
pub struct Db {
    client: Client,
    table: String,
}

impl Db {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A strongly consistent read of one item: a resource just created is readable at once.
    pub async fn get<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, ApiError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .consistent_read(true)
            .send()
            .await?;
        output.item.map(from_item).transpose()
    }

    /// Reads several items in one round trip (strongly consistent), in the order of `keys`.
    pub async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, ApiError> {
        let mut pending: Vec<Item> = keys.iter().map(Key::to_item).collect();
        let mut found: Vec<Item> = Vec::with_capacity(keys.len());
        // BatchGetItem may hand some keys back unprocessed under load: ask again for those.
        for attempt in 0..8 {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()?;
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await?;
            if let Some(mut responses) = output.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            if let Some(mut unprocessed) = output.unprocessed_keys {
                if let Some(rest) = unprocessed.remove(&self.table) {
                    pending = rest.keys;
                }
            }
        }
        if !pending.is_empty() {
            return Err(ApiError::internal("BatchGetItem left keys unprocessed"));
        }
        Ok(keys
            .iter()
            .map(|key| {
                found
                    .iter()
                    .position(|item| item_has_key(item, key))
                    .map(|i| found.swap_remove(i))
            })
            .collect())
    }

    /// Puts a new item; `Ok(false)` when an item with that key already exists.
    pub async fn put_new<T: Serialize>(&self, key: &Key, record: &T) -> Result<bool, ApiError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(key, record)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes an item if it exists and returns it as it was.
    pub async fn delete_existing<T: DeserializeOwned>(
        &self,
        key: &Key,
    ) -> Result<Option<T>, ApiError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .condition_expression("attribute_exists(PK)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes.map(from_item).transpose(),
            Err(err) if is_condition_failed(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

/// What a partial update (`PUT`) changes: `SET` for the values given, `REMOVE` for the
/// nulls. Attribute names go through `#name` placeholders, values through `:name`.
#[derive(Debug, Default)]
pub struct Changes {
    sets: Vec<String>,
    removes: Vec<String>,
    names: Vec<(String, String)>,
    values: Vec<(String, AttributeValue)>,
}

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        self.names.push((format!("#{attr}"), attr.to_owned()));
        self.values.push((format!(":{attr}"), value));
        self.sets.push(format!("#{attr} = :{attr}"));
        self
    }

    /// `Some(Some(v))` sets, `Some(None)` removes, `None` leaves the attribute alone.
    pub fn set_or_remove(&mut self, attr: &str, change: Option<Option<String>>) -> &mut Self {
        match change {
            Some(Some(text)) => {
                self.set(attr, s(text));
            }
            Some(None) => {
                self.names.push((format!("#{attr}"), attr.to_owned()));
                self.removes.push(format!("#{attr}"));
            }
            None => {}
        }
        self
    }

    /// Adds the update expression and its placeholders to an `UpdateItem`.
    pub fn apply(
        self,
        mut update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let mut expression = String::new();
        if !self.sets.is_empty() {
            expression = format!("SET {}", self.sets.join(", "));
        }
        if !self.removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", self.removes.join(", ")));
        }
        for (placeholder, name) in self.names {
            update = update.expression_attribute_names(placeholder, name);
        }
        for (placeholder, value) in self.values {
            update = update.expression_attribute_values(placeholder, value);
        }
        update.update_expression(expression.trim())
    }
}

/// A record plus its key attributes, ready for `PutItem` or a transaction.
pub fn to_item<T: Serialize>(key: &Key, record: &T) -> Result<Item, ApiError> {
    let mut item: Item = serde_dynamo::to_item(record)?;
    item.extend(key.to_item());
    Ok(item)
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, ApiError> {
    Ok(serde_dynamo::from_item(item)?)
}

fn item_has_key(item: &Item, key: &Key) -> bool {
    let attr = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    };
    attr(keys::PK) == Some(key.pk.as_str()) && attr(keys::SK) == Some(key.sk.as_str())
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// True when a write failed only because its condition did not hold.
pub fn is_condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

/// Builders for the items of a `TransactWriteItems` on this table.
pub mod tx {
    use aws_sdk_dynamodb::types::{
        AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
        TransactWriteItem, Update,
    };

    use super::{Item, Key};
    use crate::error::ApiError;

    pub type Values<'a> = &'a [(&'a str, AttributeValue)];

    fn values(values: Values<'_>) -> Option<Item> {
        (!values.is_empty()).then(|| {
            values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect()
        })
    }

    pub fn put(
        table: &str,
        item: Item,
        condition: &str,
        condition_values: Values<'_>,
    ) -> Result<TransactWriteItem, ApiError> {
        Ok(TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(item))
                    .condition_expression(condition)
                    .set_expression_attribute_values(values(condition_values))
                    .build()?,
            )
            .build())
    }

    pub fn delete(
        table: &str,
        key: &Key,
        condition: Option<&str>,
        condition_values: Values<'_>,
    ) -> Result<TransactWriteItem, ApiError> {
        Ok(TransactWriteItem::builder()
            .delete(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(key.to_item()))
                    .set_condition_expression(condition.map(str::to_owned))
                    .set_expression_attribute_values(values(condition_values))
                    .build()?,
            )
            .build())
    }

    /// An update whose failed condition hands back the item as it was (`ALL_OLD`).
    pub fn update(
        table: &str,
        key: &Key,
        expression: &str,
        condition: &str,
        expression_values: Values<'_>,
    ) -> Result<TransactWriteItem, ApiError> {
        Ok(TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(key.to_item()))
                    .update_expression(expression)
                    .condition_expression(condition)
                    .set_expression_attribute_values(values(expression_values))
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()?,
            )
            .build())
    }

    pub fn check(
        table: &str,
        key: &Key,
        condition: &str,
        condition_values: Values<'_>,
    ) -> Result<TransactWriteItem, ApiError> {
        Ok(TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key.to_item()))
                    .condition_expression(condition)
                    .set_expression_attribute_values(values(condition_values))
                    .build()?,
            )
            .build())
    }
}

/// Runs a transaction; on cancellation returns each item's reason code and, where the
/// item asked for it, the item as it was.
pub async fn transact(
    db: &Db,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> Result<Result<(), Vec<(String, Option<Item>)>>, ApiError> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let result = db
        .client()
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await;
    match result {
        Ok(_) => Ok(Ok(())),
        Err(err) => match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                Ok(Err(cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| (r.code().unwrap_or("None").to_owned(), r.item().cloned()))
                    .collect()))
            }
            _ => Err(err.into()),
        },
    }
}

//! The single DynamoDB table, and the only code that speaks to it.
//!
//! Each entity has one module here: its record, its keys (GSI keys included, derived
//! from the record), its reads and writes, and the typed outcomes of those writes. The
//! functions call these and never see a key, an expression or a cancellation reason.
//!
//! Every request is served by `GetItem`, `BatchGetItem`, `Query`, conditional writes and
//! transactions; nothing scans. Uniqueness is a conditional put of a dedicated item, never
//! read-then-write. Updates are conditional on `attribute_exists` so a concurrently
//! deleted item is never written back to life.
//!
//! ## Access patterns
//!
//! | entity (module) | PK | SK | GSI1PK / GSI1SK | used by |
//! |---|---|---|---|---|
//! | user ([`users`]) | `USER#<user>` | `PROFILE` | | every API-token request (with its token, one `BatchGetItem`), `GET /api/user` |
//! | user email, unique ([`users`]) | `EMAIL#<email>` | `EMAIL` | | `POST /api/tokens` (login lookup), `chat-admin user create` (conditional put) |
//! | login failures ([`logins`]) | `LOGIN#<email>` | `FAILURES#<source address>` | | `POST /api/tokens` (10 per 15 min per email and source, TTL) |
//! | API token ([`api_tokens`]) | `USER#<user>` | `TOKEN#<token>` | | auth (revocation check), `GET /api/tokens` (Query `begins_with`), `DELETE /api/tokens/{id}` |
//! | company ([`companies`]) | `USER#<owner>` | `COMPANY#<company>` | | `/api/companies*` (Get / Query in the owner's partition: another owner's id finds nothing), chat create (transaction keeps `chat_count`) |
//! | chat ([`chats`]) | `CHAT#<chat>` | `CHAT` | `USER#<owner>` / `CHAT#<company>#<chat>` | `/api/chats/{id}`, share, every chat-user and message route; `GET /api/chats` (Query GSI1, `?company_id=` narrows the prefix) |
//! | chat user ([`chat_users`]) | `CHAT#<chat>` | `MEMBER#<chat user>` | | chat-user token auth (with the chat, one `BatchGetItem`), `/api/chats/{id}/users*` (Query `begins_with`) |
//! | chat-user email, unique in chat ([`chat_users`]) | `CHAT#<chat>` | `EMAIL#<email>` | | chat-user create (transaction), send-code / get-token lookup |
//! | auth code + send throttle ([`auth_codes`]) | `CHAT#<chat>` | `CODE#<email>` | | send-code, get-token (versioned conditional writes, TTL) |
//! | message ([`messages`]) | `CHAT#<chat>` | `MSG#<message>` | | `/api/chats/{id}/messages*` (one Query per page, `before` / `after` as key bounds) |
//! | message client id, unique per chat user ([`messages`]) | `CHAT#<chat>` | `CLIENT#<chat user>#<client id>` | | idempotent `POST` messages (same transaction as the message) |
//! | event ([`events`]) | `CHAT#<chat>` | `EVT#<seq, 12 digits>` | | every change of a conversation (same transaction, conditional on the chat's `event_seq`); `GET /api/chats/{id}/events` (one Query); the stream fan-out (TTL: the retention) |
//! | WebSocket connection ([`realtime`]) | `CHAT#<chat>` | `CONN#<connection id>` | | the fan-out's Query of a chat's sockets; its removal closes the socket (TTL 3 h) |
//! | connection pointer ([`realtime`]) | `CONN#<connection id>` | `CONN` | | `$disconnect` and frames from a socket find its chat (TTL 3 h) |
//! | webhook endpoint ([`webhooks`]) | `USER#<owner>` | `WEBHOOK#<company>#<webhook>` | | `/api/companies/{id}/webhooks*` (Get / Query in the owner's partition), the dispatcher's Query of a company's endpoints |
//! | webhook delivery ([`webhooks`]) | `WEBHOOK#<webhook>` | `DELIVERY#<delivery>` | | the delivery log (Query, newest first), the delivery function's reads and updates; the dispatcher's conditional put (ids derive from the event: a replayed stream record finds its delivery) (TTL 30 days) |
//! | rate-limit counter ([`limits`]) | `LIMIT#<limit>#<key>` | `W#<window start>` | | wrong chat passwords per chat and per source (conditional `ADD`; TTL: the window's end) |
//! | realtime ticket ([`realtime`]) | `TICKET#<sha-256 of the ticket>` | `TICKET` | | `$connect` consumes it (conditional delete; TTL 60 s) |
//!
//! Everything of a chat shares its partition, so deleting a chat is one paginated Query
//! plus batched deletes, after the chat item itself is gone (which makes the rest
//! unreachable at once).
//!
//! The plumbing every entity shares: [`page`] (cursor lists), `tx` (transactions with
//! named outcomes), `update` (conditional `UpdateItem`), `batch` (`BatchGetItem`, the
//! partition purge) and `retry` (the one back-off).

pub mod api_tokens;
pub mod auth_codes;
mod batch;
pub mod chat_users;
pub mod chats;
pub mod companies;
pub mod events;
pub mod keys;
pub mod limits;
pub mod logins;
pub mod messages;
mod page;
pub mod realtime;
mod retry;
pub mod stored;
mod tx;
mod update;
pub mod users;
pub mod webhooks;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use keys::Key;
pub use page::Page;

use crate::error::ApiError;

pub type Item = HashMap<String, AttributeValue>;

/// The table and the client to reach it; built once per Lambda instance (the client at
/// its first use, see [`crate::aws::Deferred`]).
#[derive(Debug, Clone)]
pub struct Db {
    client: crate::aws::Deferred<Client>,
    table: String,
    /// How long events are kept (their TTL), in seconds.
    event_retention_secs: i64,
}

/// Events are kept at least this long by default.
pub const DEFAULT_EVENT_RETENTION_DAYS: i64 = 30;

impl Db {
    pub fn new(client: impl Into<crate::aws::Deferred<Client>>, table: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            table: table.into(),
            event_retention_secs: DEFAULT_EVENT_RETENTION_DAYS * 24 * 3600,
        }
    }

    /// Keeps events `days` days (at least: DynamoDB deletes expired items late).
    pub fn with_event_retention_days(mut self, days: i64) -> Self {
        self.event_retention_secs = days * 24 * 3600;
        self
    }

    fn client(&self) -> &Client {
        self.client.get()
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A strongly consistent read of one item: a resource just created is readable at once.
    async fn get<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, ApiError> {
        self.get_item(key).await?.map(from_item).transpose()
    }

    /// As [`Db::get`], the item as stored.
    async fn get_item(&self, key: &Key) -> Result<Option<Item>, ApiError> {
        let output = self
            .client()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item)
    }

    /// Puts a new item; `Ok(false)` when an item with that key already exists.
    async fn put_new(&self, item: Item) -> Result<bool, ApiError> {
        self.put_if(item, "attribute_not_exists(PK)", &[]).await
    }

    /// Puts an item under a condition; `Ok(false)` when the condition did not hold.
    async fn put_if(
        &self,
        item: Item,
        condition: &str,
        condition_values: Values<'_>,
    ) -> Result<bool, ApiError> {
        let result = self
            .client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values(condition_values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes an item under a condition (none: if it exists) and returns it as it was;
    /// `None` when it was not there or the condition did not hold.
    async fn delete_returning<T: DeserializeOwned>(
        &self,
        key: &Key,
        condition: &str,
        condition_values: Values<'_>,
    ) -> Result<Option<T>, ApiError> {
        let result = self
            .client()
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .condition_expression(condition)
            .set_expression_attribute_values(values(condition_values))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes.map(from_item).transpose(),
            Err(err) if is_condition_failed(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes an item whether or not it exists.
    async fn delete(&self, key: &Key) -> Result<(), ApiError> {
        self.client()
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .send()
            .await?;
        Ok(())
    }
}

/// Condition or update values: `(":placeholder", value)`.
type Values<'a> = &'a [(&'a str, AttributeValue)];

fn values(values: Values<'_>) -> Option<Item> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    })
}

/// A record plus its key attributes, ready for `PutItem` or a transaction.
pub fn to_item<T: Serialize>(key: &Key, record: &T) -> Result<Item, ApiError> {
    let mut item: Item = serde_dynamo::to_item(record)?;
    item.extend(key.to_item());
    Ok(item)
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, ApiError> {
    Ok(serde_dynamo::from_item(item)?)
}

/// Whether an item's TTL has passed: DynamoDB deletes expired items late (within days),
/// so reads treat them as gone from the moment they expire.
pub(crate) fn is_expired(item: &Item, now_secs: i64) -> bool {
    match item.get(keys::TTL) {
        Some(AttributeValue::N(ttl)) => ttl.parse::<i64>().is_ok_and(|ttl| ttl <= now_secs),
        _ => false,
    }
}

/// Gives an item of a chat's conversation (a message, its event, its client id) the
/// TTL of the chat's `retention_days`, counted from `at_ms`; none when it keeps messages.
pub(crate) fn expire_after(item: &mut Item, at_ms: i64, retention_days: Option<u32>) {
    if let Some(days) = retention_days {
        item.insert(
            keys::TTL.to_owned(),
            n(at_ms / 1000 + i64::from(days) * 24 * 3600),
        );
    }
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// True when a write failed only because its condition did not hold.
fn is_condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

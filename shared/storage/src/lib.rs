//! The single DynamoDB table, and the only code that speaks to it.
//!
//! Each entity has one repository here ([`Db::users`], [`Db::chats`], [`Db::messages`],
//! …): its keys (an [`key::Entity`], GSI keys derived from the record), its reads and
//! writes, and the typed outcomes of those writes. The records themselves are the
//! domain's. Callers never see a key, an expression or a cancellation reason, and
//! nothing here speaks HTTP: failures are a [`StoreError`].
//!
//! Every request is served by `GetItem`, `BatchGetItem`, `Query`, conditional writes and
//! transactions; nothing on a request's path scans (the one `Scan` is [`migrate`]'s, run
//! once by an operator to move items from before companies had partitions of their own). Uniqueness is a conditional put of a dedicated item, never
//! read-then-write. Updates are conditional on `attribute_exists` so a concurrently
//! deleted item is never written back to life. Capped counts (tokens, companies, chats,
//! webhooks, chat users) are one piece, [`cap`], counted in the writing transaction.
//!
//! ## Access patterns
//!
//! | entity (module) | PK | SK | GSI1PK / GSI1SK | used by |
//! |---|---|---|---|---|
//! | user ([`users`]) | `USER#<user>` | `PROFILE` | | every API-token request (with its token, one `BatchGetItem`): its `memberships` map (company → role, sees) is what authorization reads; `GET /api/user` |
//! | user email, unique ([`users`]) | `EMAIL#<email>` | `EMAIL` | | `POST /api/tokens` (login lookup), `chat-admin user create` (conditional put) |
//! | login failures ([`logins`]) | `LOGIN#<email>` | `FAILURES#<source address>` | | `POST /api/tokens` (10 per 15 min per email and source, TTL) |
//! | API token ([`api_tokens`]) | `USER#<user>` | `TOKEN#<token>` | | auth (revocation check), `GET /api/tokens` (Query `begins_with`), `DELETE /api/tokens/{id}` |
//! | company ([`companies`]) | `COMPANY#<company>` | `COMPANY` | | `/api/companies/{id}*` (Get, after the caller's membership allowed it), `GET /api/companies` (one `BatchGetItem` of the companies the caller's user item names), chat, webhook and member writes (transactions keep `chat_count`, `webhook_count`, `member_count`) |
//! | open team stream (read by [`availability`]; written by the team stream) | `COMPANY#<company>` | `TEAMSOCKET#<connection id>` | | `GET /api/companies/{id}/availability`: `online` (Query `begins_with`, `Limit 1`) |
//! | first response (read by [`availability`]; written with a conversation's first staff reply) | `COMPANY#<company>` | `FIRSTRESPONSE#<RFC 3339 time>#<chat>` | | `GET /api/companies/{id}/availability`: the reply time (Query `begins_with`, newest first, `Limit 50`; TTL) |
//! | member ([`members`]) | `COMPANY#<company>` | `MEMBER#<user>` | | `/api/companies/{id}/members*` (Query `begins_with`); written with the user item's `memberships` entry in one transaction |
//! | chat ([`chats`]) | `CHAT#<chat>` | `CHAT` | `COMPANY#<company>` / `CHAT#<chat>` | `/api/chats/{id}`, share, every chat-user and message route; `GET /api/chats` (Query GSI1 per company the caller sees, `?company_id=` for one; the index holds keys only, so a page's chats are one `BatchGetItem`: a message rewrites the chat item and moves no index entry) |
//! | chat user ([`chat_users`]) | `CHAT#<chat>` | `MEMBER#<chat user>` | | chat-user token auth (with the chat, one `BatchGetItem`), `/api/chats/{id}/users*` (Query `begins_with`); its sending count (`sent_in_window`), updated by each of its messages' transactions, whose condition is also the proof it is still a chat user |
//! | chat-user email, unique in chat ([`chat_users`]) | `CHAT#<chat>` | `EMAIL#<email>` | | chat-user create (transaction), send-code / get-token lookup |
//! | auth code + send throttle ([`auth_codes`]) | `CHAT#<chat>` | `CODE#<email>#<source>` | | send-code, get-token (versioned conditional writes, TTL) |
//! | message ([`messages`]) | `CHAT#<chat>` | `MSG#<message>` | | `/api/chats/{id}/messages*` (one Query per page, `before` / `after` as key bounds) |
//! | attachment ([`attachments`]) | `CHAT#<chat>` | `ATT#<attachment>` | | `POST /api/chats/{id}/attachments` (put with the upload budgets), a message naming it (`BatchGetItem`, then attached in the message's transaction), deleted with its message; its `REMOVE` on the stream removes its objects (`lifecycle`) (TTL: a day while pending, then the message's) |
//! | message client id, unique per chat user ([`messages`]) | `CHAT#<chat>` | `CLIENT#<chat user>#<client id>` | | idempotent `POST` messages (same transaction as the message) |
//! | event ([`log`]) | `CHAT#<chat>` | `EVT#<seq, 12 digits>` | | every change of a conversation (same transaction, conditional on the chat's `event_seq`); `GET /api/chats/{id}/events` (one Query); the stream fan-out (TTL: the retention) |
//! | WebSocket connection ([`sockets`]) | `CHAT#<chat>` | `CONN#<connection id>` | | the fan-out's Query of a chat's sockets; its removal closes the socket (TTL 3 h) |
//! | connection pointer ([`sockets`]) | `CONN#<connection id>` | `CONN` | | `$disconnect` and frames from a socket find its chat, or for a team socket its company (TTL 3 h) |
//! | team socket ([`sockets`]) | `COMPANY#<company>` | `TEAMSOCKET#<connection id>` | | the fan-out's Query of a company's team sockets (one per company per batch), the caps at `$connect`, a company's `online` (`begins_with`, Limit 1); its removal closes the socket (TTL 3 h) |
//! | a member's team socket ([`sockets`]) | `USER#<user>` | `TEAMSOCKET#<API token>#<connection id>` | | deleting the API token, ending or changing the membership close it (Query `begins_with`; TTL 3 h) |
//! | webhook endpoint ([`webhooks`]) | `COMPANY#<company>` | `WEBHOOK#<webhook>` | | `/api/companies/{id}/webhooks*` (Get / Query in the company's partition), the dispatcher's Query of a company's endpoints |
//! | webhook delivery ([`deliveries`]) | `WEBHOOK#<webhook>` | `DELIVERY#<delivery>` | | the delivery log (Query, newest first), the delivery function's reads and updates; the dispatcher's conditional put (ids derive from the event: a replayed stream record finds its delivery) (TTL 30 days) |
//! | rate-limit counter ([`rate_counters`]) | `LIMIT#<limit>#<key>` | `W#<window start>` | | wrong chat passwords, joiners, code sends, a member's messages (conditional `ADD`; TTL: the window's end) |
//! | realtime ticket ([`sockets`]) | `TICKET#<sha-256 of the ticket>` | `TICKET` | | `$connect` consumes it (conditional update; TTL 60 s) |
//!
//! Everything of a chat shares its partition, so deleting a chat is one paginated Query
//! plus batched deletes, after the chat item itself is gone (which makes the rest
//! unreachable at once).
//!
//! The plumbing every repository shares: [`page`] (cursor lists), [`tx`] (transactions
//! with named outcomes), [`update`] (conditional `UpdateItem`), [`bulk`] (`BatchGetItem`,
//! the partition purge), [`cap`] (capped counts), [`item`] (records as items) and
//! [`retry`] (the one back-off).

pub mod api_tokens;
pub mod attachments;
pub mod auth_codes;
pub mod availability;
mod bulk;
pub mod cap;
pub mod cascade;
pub mod chat_user_changes;
pub mod chat_users;
pub mod chats;
pub mod companies;
pub mod conversations;
pub mod data_requests;
pub mod deliveries;
pub mod identity_secrets;
pub mod inbox;
pub mod invitations;
mod item;
pub mod key;
pub mod log;
pub mod logins;
pub mod members;
pub mod message_changes;
pub mod message_posts;
pub mod messages;
pub mod migrate;
pub mod page;
pub mod rate_counters;
mod retry;
pub mod sockets;
pub mod staff_reads;
mod store_error;
pub mod stored;
mod tx;
mod update;
pub mod users;
pub mod webhooks;
pub mod write_units;

use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;

pub use store_error::StoreError;
// Re-exported so callers (the tests, the benchmarks' mocks) use exactly this SDK version.
pub use aws_sdk_dynamodb;
pub use item::{Item, n, s, to_item};
pub use key::Key;
pub use page::Page;

use item::{Values, from_item, is_condition_failed, values};

/// What storage answers: a typed outcome, or a [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The table and the client to reach it; built once per Lambda instance (the client at
/// its first use, see [`sdk::Deferred`]).
#[derive(Debug, Clone)]
pub struct Db {
    client: sdk::Deferred<Client>,
    table: String,
    /// How long events are kept (their TTL), in seconds.
    event_retention_secs: i64,
    /// The company's member on whose behalf this handle writes: the events it logs
    /// name it (see [`Db::acting_as`]).
    actor: Option<domain::events::Actor>,
}

/// Events are kept at least this long by default.
pub const DEFAULT_EVENT_RETENTION_DAYS: i64 = 30;

impl Db {
    pub fn new(client: impl Into<sdk::Deferred<Client>>, table: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            table: table.into(),
            event_retention_secs: DEFAULT_EVENT_RETENTION_DAYS * 24 * 3600,
            actor: None,
        }
    }

    /// This table, for writes a company's member makes: every event they log names it.
    pub fn acting_as(&self, actor: domain::events::Actor) -> Db {
        Db {
            actor: Some(actor),
            ..self.clone()
        }
    }

    /// Keeps events `days` days (at least: DynamoDB deletes expired items late).
    pub fn with_event_retention_days(mut self, days: i64) -> Self {
        self.event_retention_secs = days * 24 * 3600;
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn users(&self) -> users::Users<'_> {
        users::Users { db: self }
    }

    pub fn logins(&self) -> logins::Logins<'_> {
        logins::Logins { db: self }
    }

    pub fn api_tokens(&self) -> api_tokens::ApiTokens<'_> {
        api_tokens::ApiTokens { db: self }
    }

    pub fn availability(&self) -> availability::Availability<'_> {
        availability::Availability { db: self }
    }

    pub fn companies(&self) -> companies::Companies<'_> {
        companies::Companies { db: self }
    }

    pub fn members(&self) -> members::Members<'_> {
        members::Members { db: self }
    }

    pub fn invitations(&self) -> invitations::Invitations<'_> {
        invitations::Invitations { db: self }
    }

    pub fn chats(&self) -> chats::Chats<'_> {
        chats::Chats { db: self }
    }

    pub fn identity_secrets(&self) -> identity_secrets::IdentitySecrets<'_> {
        identity_secrets::IdentitySecrets { db: self }
    }

    pub fn conversations(&self) -> conversations::Conversations<'_> {
        conversations::Conversations { db: self }
    }

    pub fn inbox(&self) -> inbox::Inbox<'_> {
        inbox::Inbox { db: self }
    }

    pub fn staff_reads(&self) -> staff_reads::StaffReads<'_> {
        staff_reads::StaffReads { db: self }
    }

    pub fn chat_users(&self) -> chat_users::ChatUsers<'_> {
        chat_users::ChatUsers { db: self }
    }

    pub fn auth_codes(&self) -> auth_codes::AuthCodes<'_> {
        auth_codes::AuthCodes { db: self }
    }

    pub fn messages(&self) -> messages::Messages<'_> {
        messages::Messages { db: self }
    }

    pub fn log(&self) -> log::Log<'_> {
        log::Log { db: self }
    }

    pub fn sockets(&self) -> sockets::Sockets<'_> {
        sockets::Sockets { db: self }
    }

    pub fn webhooks(&self) -> webhooks::Webhooks<'_> {
        webhooks::Webhooks { db: self }
    }

    pub fn deliveries(&self) -> deliveries::Deliveries<'_> {
        deliveries::Deliveries { db: self }
    }

    pub fn rate_counters(&self) -> rate_counters::RateCounters<'_> {
        rate_counters::RateCounters { db: self }
    }

    fn client(&self) -> &Client {
        self.client.get()
    }

    /// A strongly consistent read of one item: a resource just created is readable at once.
    async fn get<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<T>> {
        self.get_item(key).await?.map(from_item).transpose()
    }

    /// As [`Db::get`], the item as stored.
    async fn get_item(&self, key: &Key) -> Result<Option<Item>> {
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
    async fn put_new(&self, item: Item) -> Result<bool> {
        self.put_if(item, "attribute_not_exists(PK)", &[]).await
    }

    /// Puts an item under a condition; `Ok(false)` when the condition did not hold.
    async fn put_if(
        &self,
        item: Item,
        condition: &str,
        condition_values: Values<'_>,
    ) -> Result<bool> {
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

    /// Deletes an item under a condition; `Ok(false)` when the condition did not hold.
    async fn delete_if(
        &self,
        key: &Key,
        condition: &str,
        condition_values: Values<'_>,
    ) -> Result<bool> {
        let result = self
            .client()
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
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

    /// Deletes an item whether or not it exists.
    async fn delete(&self, key: &Key) -> Result<()> {
        self.client()
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .send()
            .await?;
        Ok(())
    }
}

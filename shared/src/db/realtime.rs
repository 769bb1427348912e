//! What live delivery stores: single-use tickets that open a WebSocket, and the open
//! connections of each chat.
//!
//! A connection is two items: one in its chat's partition (what the fan-out queries, and
//! what a chat delete purges) and a pointer by connection id (what `$disconnect` and the
//! socket's frames look up). Removing the chat's item is what closes a socket: the
//! stream fan-out closes the connection of every such item removed, whoever removed it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::page::ListQuery;
use super::tx::Transaction;
use super::update::Update;
use super::{Db, Item, Key, chats, from_item, keys, n, s, to_item};
use crate::crypto;
use crate::error::ApiError;
use crate::events::Audience;
use crate::ids::{ChatId, ChatUserId, UserId};

/// Who holds a ticket or a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subscriber {
    /// The chat's owner.
    Owner(UserId),
    ChatUser(ChatUserId),
}

impl Subscriber {
    pub fn audience(self) -> Audience {
        match self {
            Subscriber::Owner(_) => Audience::Owner,
            Subscriber::ChatUser(id) => Audience::ChatUser(id),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketRecord {
    pub chat_id: ChatId,
    pub subscriber: Subscriber,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub connection_id: String,
    pub chat_id: ChatId,
    pub subscriber: Subscriber,
    pub connected_at_ms: i64,
    /// When this socket last had a typing notice broadcast (at most one per 2 s).
    #[serde(default)]
    pub last_typing_ms: i64,
}

/// A ticket is stored only as its hash: the table never holds a usable one.
fn ticket_key(ticket: &str) -> Key {
    let digest = Sha256::digest(ticket.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Key::new(format!("TICKET#{hex}"), "TICKET")
}

const CONNECTION_PREFIX: &str = "CONN#";

fn connection_key(chat_id: ChatId, connection_id: &str) -> Key {
    Key::new(
        keys::chat_partition(chat_id),
        format!("{CONNECTION_PREFIX}{connection_id}"),
    )
}

fn pointer_key(connection_id: &str) -> Key {
    Key::new(format!("{CONNECTION_PREFIX}{connection_id}"), "CONN")
}

/// Connections outlive API Gateway's 2-hour limit by an hour before DynamoDB may drop them.
const CONNECTION_TTL_SECS: i64 = 3 * 3600;
/// Typing notices per socket: at most one this often.
pub const TYPING_INTERVAL_MS: i64 = 2_000;

fn with_ttl(mut item: Item, expires_at_secs: i64) -> Item {
    item.insert(keys::TTL.to_owned(), n(expires_at_secs));
    item
}

impl Db {
    /// A new single-use ticket for `subscriber` to open a socket on `chat_id`, valid
    /// `ttl_ms`; returns the ticket and its expiry (epoch ms).
    pub async fn issue_ticket(
        &self,
        chat_id: ChatId,
        subscriber: Subscriber,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(String, i64), ApiError> {
        let ticket = crypto::random_token_string(32)?;
        let record = TicketRecord {
            chat_id,
            subscriber,
            expires_at_ms: now_ms + ttl_ms,
        };
        let item = with_ttl(
            to_item(&ticket_key(&ticket), &record)?,
            record.expires_at_ms / 1000 + 1,
        );
        self.put_new(item).await?;
        Ok((ticket, record.expires_at_ms))
    }

    /// Uses a ticket up for one connection: the first connection gets it (if it has not
    /// expired), any other gets `None`. Marking it used (rather than deleting it) keeps
    /// this idempotent: an SDK retry of a write that was applied but whose answer was
    /// lost asks again for the same connection, and gets the same answer. The TTL
    /// removes used tickets.
    pub async fn redeem_ticket(
        &self,
        ticket: &str,
        connection_id: &str,
        now_ms: i64,
    ) -> Result<Option<TicketRecord>, ApiError> {
        let update = Update::new()
            .set("used_by", s(connection_id))
            .condition("attribute_exists(PK)")
            .condition("attribute_not_exists(#used_by) OR #used_by = :used_by");
        let record: Option<TicketRecord> =
            self.update_returning(&ticket_key(ticket), update).await?;
        Ok(record.filter(|t| t.expires_at_ms > now_ms))
    }

    /// Registers an open socket; `false` when its chat is gone.
    pub async fn open_connection(&self, connection: &ConnectionRecord) -> Result<bool, ApiError> {
        let expires = connection.connected_at_ms / 1000 + CONNECTION_TTL_SECS;
        let mut tx = Transaction::new(self);
        let chat = chats::tx_parts::exists(&mut tx, connection.chat_id)?;
        // Ids are API Gateway's, unique: the only earlier item of the same key is this
        // very write, applied by an attempt whose answer was lost.
        let same = [(":connection_id", s(&connection.connection_id))];
        let once = "attribute_not_exists(PK) OR connection_id = :connection_id";
        let in_chat = connection_key(connection.chat_id, &connection.connection_id);
        tx.put(
            with_ttl(to_item(&in_chat, connection)?, expires),
            once,
            &same,
        )?;
        let pointer = pointer_key(&connection.connection_id);
        tx.put(
            with_ttl(to_item(&pointer, connection)?, expires),
            once,
            &same,
        )?;
        match tx.commit().await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.failed(chat) => Ok(false),
            Err(cancelled) => Err(cancelled.unexpected("connection open")),
        }
    }

    /// The socket with this id, if it is open.
    pub async fn connection(
        &self,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, ApiError> {
        self.get(&pointer_key(connection_id)).await
    }

    /// Forgets a socket (closed by its client, gone, or to be closed).
    pub async fn forget_connection(&self, connection: &ConnectionRecord) -> Result<(), ApiError> {
        self.delete(&pointer_key(&connection.connection_id)).await?;
        self.delete(&connection_key(
            connection.chat_id,
            &connection.connection_id,
        ))
        .await
    }

    /// Every open socket of a chat.
    pub async fn chat_connections(
        &self,
        chat_id: ChatId,
    ) -> Result<Vec<ConnectionRecord>, ApiError> {
        self.list_all(ListQuery {
            list: "connections",
            index: None,
            partition: keys::chat_partition(chat_id),
            sort_prefix: CONNECTION_PREFIX.to_owned(),
            per_page: 100,
            cursor: None,
        })
        .await
    }

    /// Whether this socket may broadcast a typing notice now (and records that it does).
    pub async fn allow_typing(
        &self,
        connection: &ConnectionRecord,
        now_ms: i64,
    ) -> Result<bool, ApiError> {
        let update = Update::new()
            .set("last_typing_ms", n(now_ms))
            .condition("attribute_exists(PK)")
            .condition("#last_typing_ms <= :quiet_since")
            .value(":quiet_since", n(now_ms - TYPING_INTERVAL_MS));
        self.update_if(&pointer_key(&connection.connection_id), update)
            .await
    }
}

/// The connection an item removed from a chat's partition was, if it was one (the
/// fan-out closes it).
pub fn removed_connection(old_image: Item) -> Option<ConnectionRecord> {
    let is_connection = matches!(
        old_image.get(keys::SK),
        Some(aws_sdk_dynamodb::types::AttributeValue::S(sk)) if sk.starts_with(CONNECTION_PREFIX)
    );
    if !is_connection {
        return None;
    }
    from_item(old_image).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_stored_as_their_hash() {
        let key = ticket_key("the-ticket");
        assert!(!key.pk.contains("the-ticket"));
        assert_eq!(key.pk.len(), "TICKET#".len() + 64);
        assert_eq!(key, ticket_key("the-ticket"));
    }

    #[test]
    fn subscribers_name_their_kind() {
        let owner = Subscriber::Owner(UserId::new());
        let json = serde_json::to_value(owner).unwrap();
        assert_eq!(json["kind"], "owner");
        assert_eq!(serde_json::from_value::<Subscriber>(json).unwrap(), owner);
    }
}

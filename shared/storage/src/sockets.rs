//! What live delivery stores: single-use tickets that open a WebSocket, and the open
//! connections of each chat.
//!
//! A connection is two items: one in its chat's partition (what the fan-out queries, and
//! what a chat delete purges) and a pointer by connection id (what `$disconnect` and the
//! socket's frames look up). Removing the chat's item is what closes a socket: the
//! stream fan-out closes the connection of every such item removed, whoever removed it.

use domain::ids::ChatId;
use domain::realtime::{ConnectionRecord, Subscriber, TYPING_INTERVAL_MS, TicketRecord};
use sha2::{Digest, Sha256};

use crate::chats::must_exist;
use crate::item::{Item, from_item, n, s, sort_key, to_item};
use crate::key::{Entity, TTL, chat_partition};
use crate::page::ListQuery;
use crate::tx::Transaction;
use crate::update::Update;
use crate::{Db, Key, Result};

impl Entity for TicketRecord {
    /// The ticket itself, as presented.
    type Id<'a> = &'a str;

    /// A ticket is stored only as its hash: the table never holds a usable one.
    fn key(ticket: &str) -> Key {
        let digest = Sha256::digest(ticket.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Key::new(format!("TICKET#{hex}"), "TICKET")
    }
}

const CONNECTION_PREFIX: &str = "CONN#";

impl Entity for ConnectionRecord {
    type Id<'a> = (ChatId, &'a str);

    /// The item in its chat's partition.
    fn key((chat_id, connection_id): (ChatId, &str)) -> Key {
        Key::new(
            chat_partition(chat_id),
            format!("{CONNECTION_PREFIX}{connection_id}"),
        )
    }
}

/// The pointer by connection id.
fn pointer_key(connection_id: &str) -> Key {
    Key::new(format!("{CONNECTION_PREFIX}{connection_id}"), "CONN")
}

/// Connections outlive API Gateway's 2-hour limit by an hour before DynamoDB may drop them.
const CONNECTION_TTL_SECS: i64 = 3 * 3600;

fn with_ttl(mut item: Item, expires_at_secs: i64) -> Item {
    item.insert(TTL.to_owned(), n(expires_at_secs));
    item
}

#[derive(Debug, Clone, Copy)]
pub struct Sockets<'a> {
    pub(crate) db: &'a Db,
}

impl Sockets<'_> {
    /// Stores a new single-use `ticket` for `subscriber` to open a socket on `chat_id`,
    /// valid `ttl_ms`; returns its expiry (epoch ms).
    pub async fn issue_ticket(
        &self,
        ticket: &str,
        chat_id: ChatId,
        subscriber: Subscriber,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<i64> {
        let record = TicketRecord {
            chat_id,
            subscriber,
            expires_at_ms: now_ms + ttl_ms,
        };
        let item = with_ttl(
            to_item(&TicketRecord::key(ticket), &record)?,
            record.expires_at_ms / 1000 + 1,
        );
        self.db.put_new(item).await?;
        Ok(record.expires_at_ms)
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
    ) -> Result<Option<TicketRecord>> {
        let update = Update::new()
            .set("used_by", s(connection_id))
            .condition("attribute_exists(PK)")
            .condition("attribute_not_exists(#used_by) OR #used_by = :used_by");
        let record: Option<TicketRecord> = self
            .db
            .update_returning(&TicketRecord::key(ticket), update)
            .await?;
        Ok(record.filter(|t| t.expires_at_ms > now_ms))
    }

    /// Registers an open socket; `false` when its chat is gone.
    pub async fn open(&self, connection: &ConnectionRecord) -> Result<bool> {
        let expires = connection.connected_at_ms / 1000 + CONNECTION_TTL_SECS;
        let mut tx = Transaction::new(self.db);
        let chat = must_exist(&mut tx, connection.chat_id)?;
        // Ids are API Gateway's, unique: the only earlier item of the same key is this
        // very write, applied by an attempt whose answer was lost.
        let same = [(":connection_id", s(&connection.connection_id))];
        let once = "attribute_not_exists(PK) OR connection_id = :connection_id";
        let in_chat = ConnectionRecord::key((connection.chat_id, &connection.connection_id));
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
    pub async fn connection(&self, connection_id: &str) -> Result<Option<ConnectionRecord>> {
        self.db.get(&pointer_key(connection_id)).await
    }

    /// Forgets a socket (closed by its client, gone, or to be closed).
    pub async fn forget(&self, connection: &ConnectionRecord) -> Result<()> {
        self.db
            .delete(&pointer_key(&connection.connection_id))
            .await?;
        self.db
            .delete(&ConnectionRecord::key((
                connection.chat_id,
                &connection.connection_id,
            )))
            .await
    }

    /// Every open socket of a chat.
    pub async fn of_chat(&self, chat_id: ChatId) -> Result<Vec<ConnectionRecord>> {
        self.db
            .list_all(ListQuery {
                list: "connections",
                index: None,
                partition: chat_partition(chat_id),
                sort_prefix: CONNECTION_PREFIX.to_owned(),
                per_page: 100,
                cursor: None,
            })
            .await
    }

    /// Whether this socket may broadcast a typing notice now (and records that it does).
    pub async fn allow_typing(&self, connection: &ConnectionRecord, now_ms: i64) -> Result<bool> {
        let update = Update::new()
            .set("last_typing_ms", n(now_ms))
            .condition("attribute_exists(PK)")
            .condition("#last_typing_ms <= :quiet_since")
            .value(":quiet_since", n(now_ms - TYPING_INTERVAL_MS));
        self.db
            .update_if(&pointer_key(&connection.connection_id), update)
            .await
    }
}

/// The connection an item removed from a chat's partition was, if it was one (the
/// fan-out closes it).
pub fn removed_connection(old_image: Item) -> Option<ConnectionRecord> {
    if !sort_key(&old_image).is_some_and(|sk| sk.starts_with(CONNECTION_PREFIX)) {
        return None;
    }
    from_item(old_image).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_stored_as_their_hash() {
        let key = TicketRecord::key("the-ticket");
        assert!(!key.pk.contains("the-ticket"));
        assert_eq!(key.pk.len(), "TICKET#".len() + 64);
        assert_eq!(key, TicketRecord::key("the-ticket"));
    }
}

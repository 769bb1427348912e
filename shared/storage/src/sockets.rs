//! What live delivery stores: single-use tickets that open a WebSocket, and the open
//! connections of each chat.
//!
//! A connection is two items, three for an operator's: one in its chat's partition (what
//! the fan-out queries, and what a chat delete purges), a pointer by connection id (what
//! `$disconnect` and the socket's frames look up), and for an operator one in its user
//! partition by API token (what deleting that token closes, and what its socket cap
//! counts). Removing the chat's item is what closes a socket: the stream fan-out closes
//! the connection of every such item removed, whoever removed it.
//!
//! A socket opens only while the access its ticket was minted under still holds: the
//! open's transaction checks the operator's API token item, or the chat user's and the
//! chat's token revocations. Revoking access and then closing the sockets found (a
//! strongly consistent Query) leaves no window: an open that lands first is found, one
//! that lands later is refused.

use domain::api_token::ApiTokenRecord;
use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::ids::{ApiTokenId, ChatId, ChatUserId, CompanyId, UserId};
use domain::realtime::{ConnectionRecord, Grant, Subscriber, TicketRecord};
use domain::user::UserRecord;
use sha2::{Digest, Sha256};

use crate::item::{Item, from_item, n, s, sort_key, to_item};
use crate::key::{Entity, TTL, chat_partition, user_partition};
use crate::members;
use crate::page::ListQuery;
use crate::tx::{Slot, Transaction};
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
const OPERATOR_SOCKET_PREFIX: &str = "SOCKET#";

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

/// An operator's socket in its user partition, under the API token it was opened with.
fn operator_socket_key(user: UserId, token: ApiTokenId, connection_id: &str) -> Key {
    Key::new(
        user_partition(user),
        format!("{OPERATOR_SOCKET_PREFIX}{token}#{connection_id}"),
    )
}

/// The operator item of a connection, if it has one.
fn operator_socket_of(connection: &ConnectionRecord) -> Option<Key> {
    match (connection.subscriber, connection.grant) {
        (Subscriber::Owner(user), Some(Grant::ApiToken { token_id, .. })) => Some(
            operator_socket_key(user, token_id, &connection.connection_id),
        ),
        _ => None,
    }
}

/// Connections outlive API Gateway's 2-hour limit by an hour before DynamoDB may drop them.
const CONNECTION_TTL_SECS: i64 = 3 * 3600;

fn with_ttl(mut item: Item, expires_at_secs: i64) -> Item {
    item.insert(TTL.to_owned(), n(expires_at_secs));
    item
}

/// How an open ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    Opened,
    ChatGone,
    /// The access the ticket was minted under is gone: the API token was deleted, the
    /// chat user removed, or its tokens revoked since.
    AccessGone,
}

/// The slots of an open whose failure means something.
struct OpenSlots {
    chat: Slot,
    access: Slot,
    /// A member's membership of the chat's company.
    member: Option<Slot>,
}

/// The conditions that the socket's access still holds, in `tx`.
fn stage_access(tx: &mut Transaction<'_>, connection: &ConnectionRecord) -> Result<OpenSlots> {
    let chat_id = connection.chat_id;
    Ok(match (connection.subscriber, connection.grant) {
        (
            Subscriber::Owner(user),
            Some(Grant::ApiToken {
                token_id,
                company_id: Some(company_id),
            }),
        ) => {
            let chat = tx.check(&ChatRecord::key(chat_id), "attribute_exists(PK)")?;
            let access = tx.check(
                &ApiTokenRecord::key((user, token_id)),
                "attribute_exists(PK)",
            )?;
            // Still a member of the chat's company: a removal ends its sockets too.
            let member = tx.check_named(
                &UserRecord::key(user),
                "attribute_exists(#memberships.#company)",
                &[
                    ("#memberships", members::MEMBERSHIPS),
                    ("#company", &company_id.to_string()),
                ],
            )?;
            OpenSlots {
                chat,
                access,
                member: Some(member),
            }
        }
        (Subscriber::ChatUser(chat_user), Some(Grant::ChatUserToken { token_issued_ms })) => {
            let not_revoked = "attribute_exists(PK) AND (attribute_not_exists(tokens_revoked_at_ms) \
                 OR tokens_revoked_at_ms < :issued)";
            let issued = [(":issued", n(token_issued_ms))];
            OpenSlots {
                chat: tx.check_with(&ChatRecord::key(chat_id), not_revoked, &issued)?,
                access: tx.check_with(
                    &ChatUserRecord::key((chat_id, chat_user)),
                    not_revoked,
                    &issued,
                )?,
                member: None,
            }
        }
        // A ticket without its grant (or a grant of the other kind) opens nothing: a
        // check that cannot hold.
        _ => OpenSlots {
            chat: tx.check(&ChatRecord::key(chat_id), "attribute_exists(PK)")?,
            access: tx.check(&ChatRecord::key(chat_id), "attribute_not_exists(PK)")?,
            member: None,
        },
    })
}

#[derive(Debug, Clone, Copy)]
pub struct Sockets<'a> {
    pub(crate) db: &'a Db,
}

impl Sockets<'_> {
    /// Stores a new single-use `ticket` for `subscriber` to open a socket on `chat_id`
    /// while its `grant` holds, valid `ttl_ms`; returns its expiry (epoch ms).
    pub async fn issue_ticket(
        &self,
        ticket: &str,
        chat_id: ChatId,
        (subscriber, grant): (Subscriber, Grant),
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<i64> {
        let record = TicketRecord {
            chat_id,
            subscriber,
            expires_at_ms: now_ms + ttl_ms,
            grant: Some(grant),
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

    /// Registers an open socket, if the access its ticket was minted under still holds.
    pub async fn open(&self, connection: &ConnectionRecord) -> Result<Opened> {
        let expires = connection.connected_at_ms / 1000 + CONNECTION_TTL_SECS;
        let mut tx = Transaction::new(self.db);
        let slots = stage_access(&mut tx, connection)?;
        // Ids are API Gateway's, unique: the only earlier item of the same key is this
        // very write, applied by an attempt whose answer was lost.
        let same = [(":connection_id", s(&connection.connection_id))];
        let once = "attribute_not_exists(PK) OR connection_id = :connection_id";
        let mut keys = vec![
            ConnectionRecord::key((connection.chat_id, &connection.connection_id)),
            pointer_key(&connection.connection_id),
        ];
        keys.extend(operator_socket_of(connection));
        for key in &keys {
            tx.put(with_ttl(to_item(key, connection)?, expires), once, &same)?;
        }
        match tx.commit().await? {
            Ok(()) => Ok(Opened::Opened),
            Err(cancelled) if cancelled.failed(slots.chat) => Ok(Opened::ChatGone),
            Err(cancelled)
                if cancelled.failed(slots.access)
                    || slots.member.is_some_and(|member| cancelled.failed(member)) =>
            {
                Ok(Opened::AccessGone)
            }
            Err(cancelled) => Err(cancelled.unexpected("connection open")),
        }
    }

    /// The socket with this id, if it is open.
    pub async fn connection(&self, connection_id: &str) -> Result<Option<ConnectionRecord>> {
        self.db.get(&pointer_key(connection_id)).await
    }

    /// Forgets a socket (closed by its client, gone, or to be closed): removing its
    /// chat's item closes it (see the module's notes).
    pub async fn forget(&self, connection: &ConnectionRecord) -> Result<()> {
        self.db
            .delete(&pointer_key(&connection.connection_id))
            .await?;
        if let Some(key) = operator_socket_of(connection) {
            self.db.delete(&key).await?;
        }
        self.db
            .delete(&ConnectionRecord::key((
                connection.chat_id,
                &connection.connection_id,
            )))
            .await
    }

    /// Closes every socket of `chat_id` that `closing` picks; how many.
    async fn close_where(
        &self,
        chat_id: ChatId,
        closing: impl Fn(&ConnectionRecord) -> bool,
    ) -> Result<usize> {
        let mut closed = 0;
        for connection in self.of_chat(chat_id).await? {
            if closing(&connection) {
                self.forget(&connection).await?;
                closed += 1;
            }
        }
        Ok(closed)
    }

    /// Closes a chat user's sockets (removed, or its tokens revoked).
    pub async fn close_chat_user(&self, chat_id: ChatId, chat_user: ChatUserId) -> Result<usize> {
        self.close_where(chat_id, |c| c.subscriber == Subscriber::ChatUser(chat_user))
            .await
    }

    /// Closes every chat user's socket of a chat (every guest signed out).
    pub async fn close_chat_users(&self, chat_id: ChatId) -> Result<usize> {
        self.close_where(chat_id, |c| matches!(c.subscriber, Subscriber::ChatUser(_)))
            .await
    }

    /// The sockets an operator opened with one API token, or with any (`None`).
    pub async fn of_operator(
        &self,
        user: UserId,
        token: Option<ApiTokenId>,
    ) -> Result<Vec<ConnectionRecord>> {
        let prefix = match token {
            Some(token) => format!("{OPERATOR_SOCKET_PREFIX}{token}#"),
            None => OPERATOR_SOCKET_PREFIX.to_owned(),
        };
        self.db
            .list_all(ListQuery {
                list: "sockets",
                index: None,
                partition: user_partition(user),
                sort_prefix: prefix,
                per_page: 100,
                cursor: None,
            })
            .await
    }

    /// Closes the sockets opened with an API token (deleted); how many.
    pub async fn close_api_token(&self, user: UserId, token: ApiTokenId) -> Result<usize> {
        let sockets = self.of_operator(user, Some(token)).await?;
        for connection in &sockets {
            self.forget(connection).await?;
        }
        Ok(sockets.len())
    }

    /// Closes a member's sockets to the chats of a company it is no longer a member of;
    /// how many.
    pub async fn close_member(&self, user: UserId, company_id: CompanyId) -> Result<usize> {
        let mut closed = 0;
        for connection in self.of_operator(user, None).await? {
            if let Some(Grant::ApiToken {
                company_id: Some(of),
                ..
            }) = connection.grant
                && of == company_id
            {
                self.forget(&connection).await?;
                closed += 1;
            }
        }
        Ok(closed)
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

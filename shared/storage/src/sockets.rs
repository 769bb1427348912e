//! What live delivery stores: single-use tickets that open a WebSocket, the open
//! connections of each chat, and each company's team sockets.
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
//!
//! A team socket (every chat of a company a member may see) is three items too: one in
//! its company's partition, `COMPANY#<company>` / `TEAMSOCKET#<connection id>` (what the
//! fan-out queries, what says a company has someone online, and whose removal closes
//! it), the same pointer by connection id, and one in the member's user partition by API
//! token (what deleting the token and ending the membership close). Tickets and pointers
//! name a chat (`chat_id`) when they are a chat's; without one they are a team's.

use domain::api_token::ApiTokenRecord;
use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::ids::{ApiTokenId, ChatId, ChatUserId, CompanyId, UserId};
use domain::realtime::{
    ConnectionRecord, Grant, Subscriber, TEAM_SOCKETS_PER_COMPANY, TeamSocketRecord,
    TeamTicketRecord, TicketRecord,
};
use domain::team::{Membership, Sees};
use domain::user::UserRecord;
use sha2::{Digest, Sha256};

use crate::item::{Item, from_item, n, s, sort_key, to_item};
use crate::key::{Entity, TTL, chat_partition, company_partition, user_partition};
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

const TEAM_SOCKET_PREFIX: &str = "TEAMSOCKET#";

impl Entity for TeamSocketRecord {
    type Id<'a> = (CompanyId, &'a str);

    /// The item in its company's partition.
    fn key((company_id, connection_id): (CompanyId, &str)) -> Key {
        Key::new(
            company_partition(company_id),
            format!("{TEAM_SOCKET_PREFIX}{connection_id}"),
        )
    }
}

/// A team socket in its member's user partition, under the API token it was opened with.
fn member_team_socket_key(socket: &TeamSocketRecord) -> Key {
    Key::new(
        user_partition(socket.user_id),
        format!(
            "{TEAM_SOCKET_PREFIX}{}#{}",
            socket.token_id, socket.connection_id
        ),
    )
}

/// Whether a ticket or pointer item is a chat's (else a team's).
fn names_a_chat(item: &Item) -> bool {
    item.contains_key("chat_id")
}

/// A redeemed ticket: what it opens.
#[derive(Debug, Clone)]
pub enum Redeemed {
    Chat(TicketRecord),
    Team(TeamTicketRecord),
}

/// An open socket, as its connection id finds it.
#[derive(Debug, Clone)]
pub enum Socket {
    Chat(ConnectionRecord),
    Team(TeamSocketRecord),
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
    /// Stores a new single-use `ticket` for `subscriber` (named `name`) to open a socket
    /// on `chat_id` while its `grant` holds, valid `ttl_ms`; returns its expiry (epoch ms).
    pub async fn issue_ticket(
        &self,
        ticket: &str,
        chat_id: ChatId,
        (subscriber, grant, name): (Subscriber, Grant, &str),
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<i64> {
        let record = TicketRecord {
            chat_id,
            subscriber,
            name: Some(name.to_owned()),
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
    ) -> Result<Option<Redeemed>> {
        let update = Update::new()
            .set("used_by", s(connection_id))
            .condition("attribute_exists(PK)")
            .condition("attribute_not_exists(#used_by) OR #used_by = :used_by");
        let Some(item) = self
            .db
            .update_returning_item(&TicketRecord::key(ticket), update)
            .await?
        else {
            return Ok(None);
        };
        Ok(if names_a_chat(&item) {
            let record: TicketRecord = from_item(item)?;
            (record.expires_at_ms > now_ms).then_some(Redeemed::Chat(record))
        } else {
            let record: TeamTicketRecord = from_item(item)?;
            (record.expires_at_ms > now_ms).then_some(Redeemed::Team(record))
        })
    }

    /// Stores a new single-use `ticket` for a member's team socket (valid until the
    /// record's `expires_at_ms`); it shares the chat tickets' key space, so one redeem
    /// serves both.
    pub async fn issue_team_ticket(&self, ticket: &str, record: &TeamTicketRecord) -> Result<()> {
        let item = with_ttl(
            to_item(&TicketRecord::key(ticket), record)?,
            record.expires_at_ms / 1000 + 1,
        );
        self.db.put_new(item).await?;
        Ok(())
    }

    /// Registers an open team socket, if the API token it was minted with still exists
    /// and the member's membership is still `membership` (a change in between would
    /// otherwise let it open with what the member no longer sees).
    pub async fn open_team(
        &self,
        socket: &TeamSocketRecord,
        membership: Membership,
    ) -> Result<Opened> {
        let expires = socket.connected_at_ms / 1000 + CONNECTION_TTL_SECS;
        let mut tx = Transaction::new(self.db);
        let token = tx.check(
            &ApiTokenRecord::key((socket.user_id, socket.token_id)),
            "attribute_exists(PK)",
        )?;
        // Entries written before `sees` was kept read as `all`.
        let sees = match membership.sees {
            Sees::All => "(#m.#c.#sees = :sees OR attribute_not_exists(#m.#c.#sees))",
            Sees::Assigned => "#m.#c.#sees = :sees",
        };
        let member = tx.check_named_with(
            &UserRecord::key(socket.user_id),
            &format!("#m.#c.#role = :role AND {sees}"),
            &[
                ("#m", members::MEMBERSHIPS),
                ("#c", &socket.company_id.to_string()),
                ("#role", "role"),
                ("#sees", "sees"),
            ],
            &[
                (":role", s(membership.role.as_str())),
                (":sees", s(membership.sees.as_str())),
            ],
        )?;
        let same = [(":connection_id", s(&socket.connection_id))];
        let once = "attribute_not_exists(PK) OR connection_id = :connection_id";
        for key in [
            TeamSocketRecord::key((socket.company_id, &socket.connection_id)),
            pointer_key(&socket.connection_id),
            member_team_socket_key(socket),
        ] {
            tx.put(with_ttl(to_item(&key, socket)?, expires), once, &same)?;
        }
        match tx.commit().await? {
            Ok(()) => Ok(Opened::Opened),
            Err(cancelled) if cancelled.failed(token) || cancelled.failed(member) => {
                Ok(Opened::AccessGone)
            }
            Err(cancelled) => Err(cancelled.unexpected("team socket open")),
        }
    }

    /// Forgets a team socket: removing its company's item (last) closes it.
    pub async fn forget_team(&self, socket: &TeamSocketRecord) -> Result<()> {
        self.db.delete(&pointer_key(&socket.connection_id)).await?;
        self.db.delete(&member_team_socket_key(socket)).await?;
        self.db
            .delete(&TeamSocketRecord::key((
                socket.company_id,
                &socket.connection_id,
            )))
            .await
    }

    /// Every open team socket of a company: one Query (the cap keeps them within one
    /// page).
    pub async fn of_company(&self, company_id: CompanyId) -> Result<Vec<TeamSocketRecord>> {
        self.db
            .list_all(ListQuery {
                list: "team_sockets",
                index: None,
                partition: company_partition(company_id),
                sort_prefix: TEAM_SOCKET_PREFIX.to_owned(),
                per_page: TEAM_SOCKETS_PER_COMPANY + 1,
                cursor: None,
            })
            .await
    }

    /// The team sockets a member opened with one API token, or with any (`None`).
    async fn team_of_member(
        &self,
        user: UserId,
        token: Option<ApiTokenId>,
    ) -> Result<Vec<TeamSocketRecord>> {
        let prefix = match token {
            Some(token) => format!("{TEAM_SOCKET_PREFIX}{token}#"),
            None => TEAM_SOCKET_PREFIX.to_owned(),
        };
        self.db
            .list_all(ListQuery {
                list: "team_sockets",
                index: None,
                partition: user_partition(user),
                sort_prefix: prefix,
                per_page: 100,
                cursor: None,
            })
            .await
    }

    /// Closes a member's team sockets to one company (its membership changed what it
    /// sees: the client reconnects under the new one); how many.
    pub async fn close_member_team(&self, user: UserId, company_id: CompanyId) -> Result<usize> {
        let mut closed = 0;
        for socket in self.team_of_member(user, None).await? {
            if socket.company_id == company_id {
                self.forget_team(&socket).await?;
                closed += 1;
            }
        }
        Ok(closed)
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

    /// The socket with this id, if it is open: a chat's or a team's.
    pub async fn socket(&self, connection_id: &str) -> Result<Option<Socket>> {
        let Some(item) = self.db.get_item(&pointer_key(connection_id)).await? else {
            return Ok(None);
        };
        Ok(Some(if names_a_chat(&item) {
            Socket::Chat(from_item(item)?)
        } else {
            Socket::Team(from_item(item)?)
        }))
    }

    /// The chat socket with this id, if it is open (a team socket is not one).
    pub async fn connection(&self, connection_id: &str) -> Result<Option<ConnectionRecord>> {
        Ok(match self.socket(connection_id).await? {
            Some(Socket::Chat(connection)) => Some(connection),
            _ => None,
        })
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

    /// Closes the sockets opened with an API token (deleted), chats' and teams'; how
    /// many.
    pub async fn close_api_token(&self, user: UserId, token: ApiTokenId) -> Result<usize> {
        let sockets = self.of_operator(user, Some(token)).await?;
        for connection in &sockets {
            self.forget(connection).await?;
        }
        let team = self.team_of_member(user, Some(token)).await?;
        for socket in &team {
            self.forget_team(socket).await?;
        }
        Ok(sockets.len() + team.len())
    }

    /// Closes a member's sockets to the chats of a company it is no longer a member of
    /// (or sees fewer of), and its team sockets to that company; how many.
    pub async fn close_member(&self, user: UserId, company_id: CompanyId) -> Result<usize> {
        let mut closed = self.close_member_team(user, company_id).await?;
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

/// The team socket an item removed from a company's partition was, if it was one (the
/// fan-out closes it).
pub fn removed_team_socket(old_image: Item) -> Option<TeamSocketRecord> {
    if !sort_key(&old_image).is_some_and(|sk| sk.starts_with(TEAM_SOCKET_PREFIX)) {
        return None;
    }
    from_item(old_image).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_socket_is_keyed_by_its_company_and_by_its_member_s_token() {
        let socket = TeamSocketRecord {
            connection_id: "abc=".into(),
            company_id: CompanyId::new(),
            user_id: UserId::new(),
            token_id: ApiTokenId::new(),
            sees: Sees::All,
            connected_at_ms: 0,
        };
        let key = TeamSocketRecord::key((socket.company_id, &socket.connection_id));
        assert_eq!(key.pk, format!("COMPANY#{}", socket.company_id));
        assert_eq!(key.sk, "TEAMSOCKET#abc=");
        let own = member_team_socket_key(&socket);
        assert_eq!(own.pk, format!("USER#{}", socket.user_id));
        assert!(
            own.sk
                .starts_with(&format!("TEAMSOCKET#{}#", socket.token_id))
        );
        // Neither is mistaken for a chat's socket by the prefixes chats' sockets use.
        assert!(!own.sk.starts_with(OPERATOR_SOCKET_PREFIX));
        assert!(!key.sk.starts_with(CONNECTION_PREFIX));
        let item = to_item(&key, &socket).unwrap();
        assert!(!names_a_chat(&item));
        assert_eq!(removed_team_socket(item), Some(socket));
    }

    #[test]
    fn tickets_are_stored_as_their_hash() {
        let key = TicketRecord::key("the-ticket");
        assert!(!key.pk.contains("the-ticket"));
        assert_eq!(key.pk.len(), "TICKET#".len() + 64);
        assert_eq!(key, TicketRecord::key("the-ticket"));
    }
}

//! Live delivery: who holds a realtime ticket or an open socket, under which grant, and
//! how many sockets, tickets, pings and typing notices each may have. A socket is either
//! a chat's (one chat, for a member or a chat user of it) or a team's (every chat of a
//! company that one member may see: [`TeamSocketRecord`]).

use serde::{Deserialize, Serialize};

use crate::chat::ChatRecord;
use crate::events::Audience;
use crate::ids::{ApiTokenId, ChatId, ChatUserId, CompanyId, UserId};
use crate::rate_limit::Limit;
use crate::team::{Membership, Sees};

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

/// The access a ticket was minted under, and so what must still hold for its socket to
/// open and stay open: the operator's API token still exists, or the chat user's tokens
/// issued at `token_issued_ms` were not revoked since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Grant {
    /// A member's API token, and the company it is a member of (absent on tickets from
    /// before teams: such a ticket opens nothing).
    ApiToken {
        token_id: ApiTokenId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        company_id: Option<CompanyId>,
    },
    ChatUserToken {
        token_issued_ms: i64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketRecord {
    pub chat_id: ChatId,
    pub subscriber: Subscriber,
    /// The holder's name when the ticket was minted: typing notices name their author
    /// without a read per keystroke (a rename shows on the next socket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub expires_at_ms: i64,
    /// Absent on tickets minted before grants were kept: such a ticket opens nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub connection_id: String,
    pub chat_id: ChatId,
    pub subscriber: Subscriber,
    /// Its holder's name, from its ticket (absent on sockets opened before names were
    /// kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub connected_at_ms: i64,
    /// What the socket was opened under (absent on sockets opened before grants were
    /// kept: those close within API Gateway's two hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
}

/// A ticket for a company's team stream: minted by a member with its API token, it
/// opens a socket only while that token exists and the membership still is what it
/// was (`membership`), so a change between minting and opening cannot slip past the
/// close that change makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamTicketRecord {
    pub company_id: CompanyId,
    pub user_id: UserId,
    pub token_id: ApiTokenId,
    pub membership: Membership,
    pub expires_at_ms: i64,
}

/// An open team socket: it receives every event of every chat of `company_id` that
/// `user_id` may see, rendered as members see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamSocketRecord {
    pub connection_id: String,
    pub company_id: CompanyId,
    pub user_id: UserId,
    /// The API token it was opened with: deleting the token closes it.
    pub token_id: ApiTokenId,
    /// What the membership let it see when it opened: `all` chats, or only those
    /// `assigned` to `user_id` (an owner's or an admin's is `all` whatever its
    /// membership's `sees` says). A change of it closes the socket rather than being
    /// followed: the client reconnects under the new one.
    pub sees: Sees,
    pub connected_at_ms: i64,
}

impl TeamSocketRecord {
    /// What a socket opened under `membership` sees.
    pub fn sees_of(membership: Membership) -> Sees {
        if membership.sees_every_chat() {
            Sees::All
        } else {
            Sees::Assigned
        }
    }

    /// Whether the events of `chat` reach this socket: a chat of its company that its
    /// member sees (all of them, or those assigned to it as the chat item says now).
    pub fn sees_chat(&self, chat: &ChatRecord) -> bool {
        chat.company_id == self.company_id
            && (self.sees == Sees::All || chat.assignee_id == Some(self.user_id))
    }

    /// The key its tickets count under: a team's tickets are a budget of their own,
    /// beside each chat's.
    pub fn limit_key(company_id: CompanyId, user_id: UserId) -> String {
        format!("team#{company_id}#{user_id}")
    }
}

/// Open team sockets a member may hold in one company (a console in a few tabs).
pub const TEAM_SOCKETS_PER_MEMBER: usize = 10;
/// Open team sockets of one company, every member together: each event of each of its
/// chats is pushed to each of them.
pub const TEAM_SOCKETS_PER_COMPANY: usize = 200;

/// Why a team socket of `user` may not open, counted from the company's open ones.
pub fn over_team_socket_cap(user: UserId, in_company: &[TeamSocketRecord]) -> Option<SocketCap> {
    if in_company.len() >= TEAM_SOCKETS_PER_COMPANY {
        return Some(SocketCap::Company);
    }
    let own = in_company.iter().filter(|s| s.user_id == user).count();
    (own >= TEAM_SOCKETS_PER_MEMBER).then_some(SocketCap::Subscriber)
}

/// What frames are pushed to: an open socket of either kind.
pub trait OpenSocket {
    /// API Gateway's id of the connection.
    fn connection_id(&self) -> &str;
}

impl OpenSocket for ConnectionRecord {
    fn connection_id(&self) -> &str {
        &self.connection_id
    }
}

impl OpenSocket for TeamSocketRecord {
    fn connection_id(&self) -> &str {
        &self.connection_id
    }
}

/// Typing notices per subscriber and chat: at most one in each 2-second window, however
/// many sockets it holds.
pub const TYPING: Limit = Limit {
    name: "typing",
    max: 1,
    window_ms: 2_000,
};

/// How long a realtime ticket (a chat's or a team's) may wait to be used.
pub const TICKET_TTL_MS: i64 = 60_000;

/// Tickets minted per subscriber and chat a minute: a client reconnecting now and then
/// needs a few; a loop minting them is stopped.
pub const TICKETS: Limit = Limit {
    name: "tickets",
    max: 10,
    window_ms: 60_000,
};

/// Pings answered per socket a minute (a client keeping its socket alive pings once
/// every few minutes); past it, pings go unanswered.
pub const PINGS: Limit = Limit {
    name: "pings",
    max: 10,
    window_ms: 60_000,
};

/// Open sockets a chat user may hold in its chat (a few tabs and devices).
pub const SOCKETS_PER_CHAT_USER: usize = 5;
/// Open sockets an operator may hold, over all its chats (a console watching several).
pub const SOCKETS_PER_OPERATOR: usize = 50;
/// Open sockets of one chat, everyone together: each event is pushed to each of them.
pub const SOCKETS_PER_CHAT: usize = 500;

/// Why a socket may not open, counted from the sockets already open: `Some(reason)`.
pub fn over_socket_cap(
    subscriber: Subscriber,
    in_chat: &[ConnectionRecord],
    operator_sockets: usize,
) -> Option<SocketCap> {
    if in_chat.len() >= SOCKETS_PER_CHAT {
        return Some(SocketCap::Chat);
    }
    match subscriber {
        Subscriber::ChatUser(_) => {
            let own = in_chat
                .iter()
                .filter(|c| c.subscriber == subscriber)
                .count();
            (own >= SOCKETS_PER_CHAT_USER).then_some(SocketCap::Subscriber)
        }
        Subscriber::Owner(_) => {
            (operator_sockets >= SOCKETS_PER_OPERATOR).then_some(SocketCap::Subscriber)
        }
    }
}

/// Which socket cap is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketCap {
    Subscriber,
    Chat,
    /// A company's team sockets.
    Company,
}

impl Subscriber {
    /// The key its per-subscriber limits count under in `chat`.
    pub fn limit_key(self, chat: ChatId) -> String {
        match self {
            Subscriber::Owner(user) => format!("{chat}#owner#{user}"),
            Subscriber::ChatUser(chat_user) => format!("{chat}#member#{chat_user}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(subscriber: Subscriber) -> ConnectionRecord {
        ConnectionRecord {
            connection_id: "c".into(),
            chat_id: ChatId::new(),
            subscriber,
            name: None,
            connected_at_ms: 0,
            grant: None,
        }
    }

    #[test]
    fn socket_caps_count_the_chat_the_chat_user_and_the_operator() {
        let guest = Subscriber::ChatUser(ChatUserId::new());
        let other = Subscriber::ChatUser(ChatUserId::new());
        let owner = Subscriber::Owner(UserId::new());
        let mut open = vec![socket(other); SOCKETS_PER_CHAT_USER];
        assert_eq!(over_socket_cap(guest, &open, 0), None);
        open.extend(vec![socket(guest); SOCKETS_PER_CHAT_USER]);
        assert_eq!(
            over_socket_cap(guest, &open, 0),
            Some(SocketCap::Subscriber)
        );
        assert_eq!(over_socket_cap(owner, &open, 0), None);
        assert_eq!(
            over_socket_cap(owner, &open, SOCKETS_PER_OPERATOR),
            Some(SocketCap::Subscriber)
        );
        let full = vec![socket(other); SOCKETS_PER_CHAT];
        assert_eq!(over_socket_cap(owner, &full, 0), Some(SocketCap::Chat));
    }

    fn team_socket(user: UserId, sees: Sees) -> TeamSocketRecord {
        TeamSocketRecord {
            connection_id: "t".into(),
            company_id: CompanyId::new(),
            user_id: user,
            token_id: ApiTokenId::new(),
            sees,
            connected_at_ms: 0,
        }
    }

    #[test]
    fn team_socket_caps_count_the_member_and_the_company() {
        let (ann, bob) = (UserId::new(), UserId::new());
        let mut open = vec![team_socket(bob, Sees::All); TEAM_SOCKETS_PER_MEMBER];
        assert_eq!(over_team_socket_cap(ann, &open), None);
        assert_eq!(
            over_team_socket_cap(bob, &open),
            Some(SocketCap::Subscriber)
        );
        open.resize(
            TEAM_SOCKETS_PER_COMPANY,
            team_socket(UserId::new(), Sees::All),
        );
        assert_eq!(over_team_socket_cap(ann, &open), Some(SocketCap::Company));
    }

    #[test]
    fn an_assigned_only_team_socket_sees_the_chats_assigned_to_its_member() {
        let agent = UserId::new();
        let socket = team_socket(agent, Sees::Assigned);
        let chat = |company_id, assignee_id| ChatRecord {
            id: ChatId::new(),
            company_id,
            name: "Support".into(),
            description: None,
            password: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            last_message_at: None,
            last_message_id: None,
            event_seq: 0,
            last_message_seq: None,
            unread_email_minutes: None,
            tokens_revoked_at_ms: None,
            retention_days: None,
            assignee_id,
            ..ChatRecord::default()
        };
        let company = socket.company_id;
        assert!(!socket.sees_chat(&chat(company, None)));
        assert!(!socket.sees_chat(&chat(company, Some(UserId::new()))));
        assert!(socket.sees_chat(&chat(company, Some(agent))));
        assert!(!socket.sees_chat(&chat(CompanyId::new(), Some(agent))));
        let all = team_socket(agent, Sees::All);
        assert!(all.sees_chat(&chat(all.company_id, None)));
        assert!(!all.sees_chat(&chat(CompanyId::new(), None)));
    }

    #[test]
    fn owners_and_admins_see_all_whatever_their_sees_says() {
        use crate::team::Role;
        let of = |role, sees| TeamSocketRecord::sees_of(Membership { role, sees });
        assert_eq!(of(Role::Admin, Sees::Assigned), Sees::All);
        assert_eq!(of(Role::Owner, Sees::All), Sees::All);
        assert_eq!(of(Role::Agent, Sees::All), Sees::All);
        assert_eq!(of(Role::Agent, Sees::Assigned), Sees::Assigned);
    }

    #[test]
    fn grants_name_their_kind() {
        let grant = Grant::ChatUserToken { token_issued_ms: 5 };
        let json = serde_json::to_value(grant).unwrap();
        assert_eq!(json["kind"], "chat_user_token");
        assert_eq!(serde_json::from_value::<Grant>(json).unwrap(), grant);
    }

    #[test]
    fn subscribers_name_their_kind() {
        let owner = Subscriber::Owner(UserId::new());
        let json = serde_json::to_value(owner).unwrap();
        assert_eq!(json["kind"], "owner");
        assert_eq!(serde_json::from_value::<Subscriber>(json).unwrap(), owner);
    }
}

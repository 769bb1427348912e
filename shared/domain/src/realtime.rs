//! Live delivery: who holds a realtime ticket or an open socket, under which grant, and
//! how many sockets, tickets, pings and typing notices each may have.

use serde::{Deserialize, Serialize};

use crate::events::Audience;
use crate::ids::{ApiTokenId, ChatId, ChatUserId, CompanyId, UserId};
use crate::rate_limit::Limit;

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
    pub connected_at_ms: i64,
    /// What the socket was opened under (absent on sockets opened before grants were
    /// kept: those close within API Gateway's two hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
}

/// Typing notices per subscriber and chat: at most one in each 2-second window, however
/// many sockets it holds.
pub const TYPING: Limit = Limit {
    name: "typing",
    max: 1,
    window_ms: 2_000,
};

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

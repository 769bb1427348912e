//! Live delivery: who holds a realtime ticket or an open socket.

use serde::{Deserialize, Serialize};

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

/// Typing notices per socket: at most one this often.
pub const TYPING_INTERVAL_MS: i64 = 2_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_name_their_kind() {
        let owner = Subscriber::Owner(UserId::new());
        let json = serde_json::to_value(owner).unwrap();
        assert_eq!(json["kind"], "owner");
        assert_eq!(serde_json::from_value::<Subscriber>(json).unwrap(), owner);
    }
}

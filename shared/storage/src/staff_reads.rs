//! A member's own read marker in a chat (`CHAT#<chat>` / `STAFFREAD#<user>`), apart
//! from the chat users' markers: moved by `PUT /read` with an API token and by the
//! member's own post (in the post's transaction), read by the inbox for its unread
//! counts.

use domain::ids::{ChatId, UserId};
use serde::{Deserialize, Serialize};

use crate::item::{n, to_item};
use crate::key::{Entity, chat_partition};
use crate::{Db, Key, Result};

/// A member's read marker in a chat.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StaffReadRecord {
    pub user_id: UserId,
    pub last_read_seq: u64,
    /// The chat's `message_count` the marker has seen (its unread count in the inbox is
    /// the chat's count minus this, without reading a message).
    pub read_count: u64,
}

impl Entity for StaffReadRecord {
    type Id<'a> = (ChatId, UserId);

    fn key((chat_id, user_id): (ChatId, UserId)) -> Key {
        Key::new(chat_partition(chat_id), format!("STAFFREAD#{user_id}"))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct StaffReads<'a> {
    pub(crate) db: &'a Db,
}

impl StaffReads<'_> {
    /// The member's marker in a chat, if it has one.
    pub async fn get(&self, chat_id: ChatId, user: UserId) -> Result<Option<StaffReadRecord>> {
        self.db.get(&StaffReadRecord::key((chat_id, user))).await
    }

    /// Moves a member's marker forward to `seq` (never back), with the chat's message
    /// count it has seen (`read_count`); the marker as it is afterwards.
    pub async fn mark(
        &self,
        chat_id: ChatId,
        user: UserId,
        seq: u64,
        read_count: u64,
    ) -> Result<StaffReadRecord> {
        let marker = StaffReadRecord {
            user_id: user,
            last_read_seq: seq,
            read_count,
        };
        let moved = self
            .db
            .put_if(
                to_item(&StaffReadRecord::key((chat_id, user)), &marker)?,
                "attribute_not_exists(PK) OR last_read_seq < :seq",
                &[(":seq", n(seq))],
            )
            .await?;
        if moved {
            return Ok(marker);
        }
        Ok(self.get(chat_id, user).await?.unwrap_or(marker))
    }
}

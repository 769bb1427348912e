//! Operators' API tokens. The item is what makes a token valid: revoking is deleting it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::page::{ListQuery, Page};
use super::tx::Transaction;
use super::update::Update;
use super::users::{Added, Holding};
use super::{Db, Key, from_item, keys, n, s, to_item, users};
use crate::error::ApiError;
use crate::ids::{ApiTokenId, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiTokenRecord {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// `last_used_at` in epoch ms, so the write can be skipped while it is recent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_ms: Option<i64>,
}

impl ApiTokenRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
        })
    }
}

const PREFIX: &str = "TOKEN#";

pub(crate) fn key(user_id: UserId, token_id: ApiTokenId) -> Key {
    Key::new(keys::user_partition(user_id), format!("{PREFIX}{token_id}"))
}

fn list_query(user_id: UserId, per_page: usize, cursor: Option<String>) -> ListQuery {
    ListQuery {
        list: "tokens",
        index: None,
        partition: keys::user_partition(user_id),
        sort_prefix: PREFIX.to_owned(),
        per_page,
        cursor,
    }
}

impl Db {
    /// Adds the token, counted against [`users::MAX_API_TOKENS`] in the same transaction.
    pub async fn insert_api_token(&self, token: &ApiTokenRecord) -> Result<Added, ApiError> {
        let item = to_item(&key(token.user_id, token.id), token)?;
        self.put_counted(item, token.user_id, Holding::ApiTokens)
            .await
    }

    /// The user and the token of an API token's claims, in one round trip; `None` when
    /// either is gone (revoked token, deleted user).
    pub async fn operator(
        &self,
        user_id: UserId,
        token_id: ApiTokenId,
    ) -> Result<Option<(users::UserRecord, ApiTokenRecord)>, ApiError> {
        match self
            .get_many([&users::key(user_id), &key(user_id, token_id)])
            .await?
        {
            [Some(user), Some(token)] => Ok(Some((from_item(user)?, from_item(token)?))),
            _ => Ok(None),
        }
    }

    /// Records a use of the token; `false` when it was revoked meanwhile.
    pub async fn touch_api_token(
        &self,
        token: &ApiTokenRecord,
        used_at: &str,
        used_ms: i64,
    ) -> Result<bool, ApiError> {
        let update = Update::new()
            .set("last_used_at", s(used_at))
            .set("last_used_ms", n(used_ms))
            .condition("attribute_exists(PK)");
        self.update_if(&key(token.user_id, token.id), update).await
    }

    pub async fn list_api_tokens(
        &self,
        user_id: UserId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<ApiTokenRecord>, ApiError> {
        self.list(&list_query(user_id, per_page, cursor)).await
    }

    /// Every token of a user (the admin tool lists and deletes them).
    pub async fn all_api_tokens(&self, user_id: UserId) -> Result<Vec<ApiTokenRecord>, ApiError> {
        self.list_all(list_query(user_id, 100, None)).await
    }

    /// Revokes a token; `None` when the user has no such token.
    /// Deletes the token (and counts it off); `None` when there was no such token.
    pub async fn revoke_api_token(
        &self,
        user_id: UserId,
        token_id: ApiTokenId,
    ) -> Result<Option<ApiTokenRecord>, ApiError> {
        let key = key(user_id, token_id);
        let Some(token) = self.get::<ApiTokenRecord>(&key).await? else {
            return Ok(None);
        };
        let mut tx = Transaction::new(self);
        tx.delete(&key, Some("attribute_exists(PK)"), &[])?;
        users::tx_parts::count(&mut tx, user_id, Holding::ApiTokens, -1)?;
        match tx.commit().await? {
            Ok(()) => Ok(Some(token)),
            // Revoked meanwhile by another request (or its user deleted).
            Err(cancelled) if cancelled.any_failed() => Ok(None),
            Err(cancelled) => Err(cancelled.unexpected("token revoke")),
        }
    }
}

//! Operators' API tokens. The item is what makes a token valid: revoking is deleting it.

use domain::api_token::ApiTokenRecord;
use domain::ids::{ApiTokenId, UserId};
use domain::user::UserRecord;

use crate::cap::{self, Added};
use crate::item::{from_item, n, s, to_item};
use crate::key::{Entity, user_partition};
use crate::page::{ListQuery, Page};
use crate::tx::Transaction;
use crate::update::Update;
use crate::{Db, Key, Result};

const PREFIX: &str = "TOKEN#";

impl Entity for ApiTokenRecord {
    type Id<'a> = (UserId, ApiTokenId);

    fn key((user_id, token_id): (UserId, ApiTokenId)) -> Key {
        Key::new(user_partition(user_id), format!("{PREFIX}{token_id}"))
    }
}

fn list_query(user_id: UserId, per_page: usize, cursor: Option<String>) -> ListQuery {
    ListQuery {
        list: "tokens",
        index: None,
        partition: user_partition(user_id),
        sort_prefix: PREFIX.to_owned(),
        per_page,
        cursor,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ApiTokens<'a> {
    pub(crate) db: &'a Db,
}

impl ApiTokens<'_> {
    /// Adds the token, counted against [`cap::API_TOKENS`] in the same transaction. A
    /// token that expires gets no TTL: a removal by DynamoDB would count nothing off the
    /// cap. Its JWT stops working on time; [`ApiTokens::revoke_expired`] clears the item.
    pub async fn insert(&self, token: &ApiTokenRecord) -> Result<Added> {
        let item = to_item(&ApiTokenRecord::key((token.user_id, token.id)), token)?;
        self.db
            .put_counted(item, &UserRecord::key(token.user_id), cap::API_TOKENS)
            .await
    }

    /// The user and the token of an API token's claims, in one round trip; `None` when
    /// either is gone (revoked token, deleted user).
    pub async fn with_user(
        &self,
        user_id: UserId,
        token_id: ApiTokenId,
    ) -> Result<Option<(UserRecord, ApiTokenRecord)>> {
        match self
            .db
            .get_many([
                &UserRecord::key(user_id),
                &ApiTokenRecord::key((user_id, token_id)),
            ])
            .await?
        {
            [Some(user), Some(token)] => Ok(Some((from_item(user)?, from_item(token)?))),
            _ => Ok(None),
        }
    }

    /// Records a use of the token; `false` when it was revoked meanwhile.
    pub async fn touch(&self, token: &ApiTokenRecord, used_at: &str, used_ms: i64) -> Result<bool> {
        let update = Update::new()
            .set("last_used_at", s(used_at))
            .set("last_used_ms", n(used_ms))
            .condition("attribute_exists(PK)");
        self.db
            .update_if(&ApiTokenRecord::key((token.user_id, token.id)), update)
            .await
    }

    pub async fn list(
        &self,
        user_id: UserId,
        per_page: usize,
        cursor: Option<String>,
    ) -> Result<Page<ApiTokenRecord>> {
        self.db.list(&list_query(user_id, per_page, cursor)).await
    }

    /// Every token of a user (the admin tool lists and deletes them).
    pub async fn all(&self, user_id: UserId) -> Result<Vec<ApiTokenRecord>> {
        self.db.list_all(list_query(user_id, 100, None)).await
    }

    /// Revokes the user's expired tokens (counting each off its cap): short-lived console
    /// tokens a client never revoked would otherwise hold the cap, since DynamoDB's TTL
    /// removal counts nothing off. How many went. Run only at the cap.
    pub async fn revoke_expired(&self, user_id: UserId, now_ms: i64) -> Result<usize> {
        let mut revoked = 0;
        for token in self.all(user_id).await? {
            if token.expired(now_ms) && self.revoke(user_id, token.id).await?.is_some() {
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    /// Revokes the user's token that stops working first (the older of two that stop
    /// together); a token that lives until revoked is never chosen. `true` when one went.
    pub async fn revoke_soonest_expiring(&self, user_id: UserId) -> Result<bool> {
        let soonest = self
            .all(user_id)
            .await?
            .into_iter()
            .filter_map(|token| Some((token.expires_ms()?, token.created_at, token.id)))
            .min_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        match soonest {
            Some((_, _, token_id)) => Ok(self.revoke(user_id, token_id).await?.is_some()),
            None => Ok(false),
        }
    }

    /// Deletes the token (and counts it off); `None` when there was no such token.
    pub async fn revoke(
        &self,
        user_id: UserId,
        token_id: ApiTokenId,
    ) -> Result<Option<ApiTokenRecord>> {
        let key = ApiTokenRecord::key((user_id, token_id));
        let Some(token) = self.db.get::<ApiTokenRecord>(&key).await? else {
            return Ok(None);
        };
        let mut tx = Transaction::new(self.db);
        tx.delete(&key, Some("attribute_exists(PK)"), &[])?;
        cap::API_TOKENS.count(&mut tx, &UserRecord::key(user_id), -1)?;
        match tx.commit().await? {
            Ok(()) => {
                // What the token opened closes with it.
                self.db.sockets().close_api_token(user_id, token_id).await?;
                Ok(Some(token))
            }
            // Revoked meanwhile by another request (or its user deleted).
            Err(cancelled) if cancelled.any_failed() => Ok(None),
            Err(cancelled) => Err(cancelled.unexpected("token revoke")),
        }
    }
}

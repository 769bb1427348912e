//! Operators' API tokens: the record is what makes a token valid (revoking deletes it).

use serde::{Deserialize, Serialize};

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
    /// When the token stops working (its JWT's `exp`), for a token issued with
    /// `expires_in`; `None`: until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// A token as the API lists it: never its secret, which only its creation shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiTokenResource<'a> {
    pub created_at: &'a str,
    pub expires_at: Option<&'a str>,
    pub id: ApiTokenId,
    pub last_used_at: Option<&'a str>,
    pub name: &'a str,
}

impl ApiTokenRecord {
    /// Whether the token has stopped working at `now_ms` (it expired).
    pub fn expired(&self, now_ms: i64) -> bool {
        self.expires_ms().is_some_and(|at| at <= now_ms)
    }

    /// When the token stops working (ms); `None` for one that lives until revoked.
    pub fn expires_ms(&self) -> Option<i64> {
        self.expires_at
            .as_deref()
            .and_then(crate::clock::parse_rfc3339)
    }

    pub fn resource(&self) -> ApiTokenResource<'_> {
        ApiTokenResource {
            created_at: &self.created_at,
            expires_at: self.expires_at.as_deref(),
            id: self.id,
            last_used_at: self.last_used_at.as_deref(),
            name: &self.name,
        }
    }
}

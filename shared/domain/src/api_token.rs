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
}

/// A token as the API lists it: never its secret, which only its creation shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiTokenResource<'a> {
    pub created_at: &'a str,
    pub id: ApiTokenId,
    pub last_used_at: Option<&'a str>,
    pub name: &'a str,
}

impl ApiTokenRecord {
    pub fn resource(&self) -> ApiTokenResource<'_> {
        ApiTokenResource {
            created_at: &self.created_at,
            id: self.id,
            last_used_at: self.last_used_at.as_deref(),
            name: &self.name,
        }
    }
}

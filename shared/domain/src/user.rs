//! Operators: people with an account, who hold API tokens and own companies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{CompanyId, UserId};
use crate::team::Membership;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: String,
    pub updated_at: String,
    /// The companies it is a member of, and as what: a copy of its membership items,
    /// written in the same transactions, so the token check's read of this item is all a
    /// membership check needs. Always written (even empty): memberships are set into it by
    /// path.
    #[serde(default)]
    pub memberships: BTreeMap<CompanyId, Membership>,
}

/// A user as the API shows it (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserResource<'a> {
    pub created_at: &'a str,
    pub email: &'a str,
    pub id: UserId,
    pub name: &'a str,
    pub updated_at: &'a str,
}

impl UserRecord {
    pub fn resource(&self) -> UserResource<'_> {
        UserResource {
            created_at: &self.created_at,
            email: &self.email,
            id: self.id,
            name: &self.name,
            updated_at: &self.updated_at,
        }
    }
}

/// The most API tokens one operator may hold at once.
pub const MAX_API_TOKENS: u32 = 50;
/// The most companies one operator may own.
pub const MAX_COMPANIES: u32 = 50;

/// What a caller at the API-token cap is told (the number is [`MAX_API_TOKENS`]).
pub const AT_API_TOKEN_CAP: &str =
    "You hold 50 API tokens, the most one user may have. Revoke one first.";
/// What a caller at the company cap is told (the number is [`MAX_COMPANIES`]).
pub const AT_COMPANY_CAP: &str =
    "You own 50 companies, the most one user may have. Delete one first.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_messages_name_the_caps() {
        assert!(AT_API_TOKEN_CAP.contains(&format!("{MAX_API_TOKENS} API tokens")));
        assert!(AT_COMPANY_CAP.contains(&format!("{MAX_COMPANIES} companies")));
    }
}

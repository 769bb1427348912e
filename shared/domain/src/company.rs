//! Companies: what an operator runs chats for.

use serde::{Deserialize, Serialize};

use crate::availability::BusinessHours;
use crate::ids::{CompanyId, UserId};
use crate::team::Membership;
use crate::webhook::SigningSecret;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompanyRecord {
    pub id: CompanyId,
    /// Its one `owner` member (changed by a hand-over).
    pub owner_id: UserId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// The page that embeds the chat widget: unread-message emails link back to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Chats of this company; a company is deleted only at 0 (kept by transactions).
    #[serde(default)]
    pub chat_count: i64,
    /// Webhook endpoints of this company (kept by transactions, see [`MAX_WEBHOOKS`]).
    #[serde(default)]
    pub webhook_count: i64,
    /// Days its chats' messages (and their events) are kept from when they were sent;
    /// `None` keeps them. Each chat holds a copy (see `ChatRecord::retention_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// Members and invitations (kept by transactions, see `team::MAX_MEMBERS`).
    #[serde(default)]
    pub member_count: i64,
    /// Browser origins allowed to call the routes of this company and its chats (CORS),
    /// beside the deployment's own list: adding a site is an API call, not a redeploy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
    /// When the team answers (`None`: always open); what `availability` shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<BusinessHours>,
}

/// A company as the API shows it, to one of its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyResource<'a> {
    pub allowed_origins: &'a [String],
    pub business_hours: Option<&'a BusinessHours>,
    pub created_at: &'a str,
    pub id: CompanyId,
    /// The caller's own role and `sees` in it.
    pub membership: Membership,
    pub name: &'a str,
    pub owner_id: UserId,
    pub retention_days: Option<u32>,
    pub updated_at: &'a str,
    pub website: Option<&'a str>,
    pub widget_url: Option<&'a str>,
}

impl CompanyRecord {
    /// The company as `membership`'s holder sees it.
    pub fn resource(&self, membership: Membership) -> CompanyResource<'_> {
        CompanyResource {
            allowed_origins: &self.allowed_origins,
            business_hours: self.business_hours.as_ref(),
            created_at: &self.created_at,
            id: self.id,
            membership,
            name: &self.name,
            owner_id: self.owner_id,
            retention_days: self.retention_days,
            updated_at: &self.updated_at,
            website: self.website.as_deref(),
            widget_url: self.widget_url.as_deref(),
        }
    }
}

/// The secret a company's site signs its visitors' identities with (see the services'
/// `identity`): shown once, when made; a new one replaces it, the old one still
/// verifying for [`IDENTITY_SECRET_OVERLAP_MS`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentitySecretRecord {
    pub company_id: CompanyId,
    pub secret: SigningSecret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<SigningSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_until_ms: Option<i64>,
    pub created_at: String,
}

/// How long a replaced identity secret keeps verifying: a site has a day to deploy the
/// new one.
pub const IDENTITY_SECRET_OVERLAP_MS: i64 = 24 * 3600 * 1000;

impl IdentitySecretRecord {
    /// The secrets that verify at `now_ms`: the current one, and the replaced one during
    /// its overlap.
    pub fn verifying(&self, now_ms: i64) -> Vec<&str> {
        let mut secrets = vec![self.secret.expose()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_until_ms)
            && now_ms < until
        {
            secrets.push(previous.expose());
        }
        secrets
    }
}

/// The most chats one company may have.
pub const MAX_CHATS: u32 = 10_000;
/// What a caller at that cap is told.
pub const AT_CHAT_CAP: &str =
    "This company has 10,000 chats, the most one company may have. Delete one first.";

/// The most conversations one company may have at once (its visitors open them; the
/// front door's per-source budgets keep a stranger from filling it).
pub const MAX_CONVERSATIONS: u32 = 1_000_000;

/// The most webhook endpoints one company may have.
pub const MAX_WEBHOOKS: u32 = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_message_names_the_cap() {
        let cap = MAX_CHATS;
        let written = format!("{},{:03} chats", cap / 1000, cap % 1000);
        assert!(AT_CHAT_CAP.contains(&written), "{AT_CHAT_CAP}");
    }
}

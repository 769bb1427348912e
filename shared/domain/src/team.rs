//! A company's team: who is a member, with which role, and what each role may do.
//!
//! [`allows`] is the one answer to "may this member do that": every route of a company
//! (and of its chats) asks it, through the edge's `team::authorize`. [`RULES`] is the
//! table it reads, which the README and `openapi.yaml` show and the role matrix test
//! asserts route by route.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{CompanyId, InvitationId, UserId};

/// A member's role in one company: exactly one `Owner` (the creator, until it hands
/// ownership over), any number of `Admin`s and `Agent`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Agent];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which of the company's chats a member sees. `Assigned` binds agents only: owners and
/// admins see every chat whatever it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sees {
    #[default]
    All,
    Assigned,
}

impl Sees {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "all" => Some(Sees::All),
            "assigned" => Some(Sees::Assigned),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sees::All => "all",
            Sees::Assigned => "assigned",
        }
    }
}

/// What a user is in one company: kept on its membership item and, copied in the same
/// transaction, on its user item (which every API-token request reads anyway, so a
/// membership check costs no round trip).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub role: Role,
    #[serde(default)]
    pub sees: Sees,
}

impl Membership {
    pub const OWNER: Membership = Membership {
        role: Role::Owner,
        sees: Sees::All,
    };

    /// Whether the member may do `action` (see [`RULES`]).
    pub fn allows(&self, action: Action) -> bool {
        allows(self.role, action)
    }

    /// Whether it sees every chat of the company. An agent with `sees: assigned` sees
    /// only the chats assigned to it (none before conversations have assignees).
    pub fn sees_every_chat(&self) -> bool {
        self.role != Role::Agent || self.sees == Sees::All
    }
}

/// Something a member asks to do in its company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read the company, its members list, its chats, their chat users, messages and
    /// events; open a realtime socket to a chat.
    Read,
    /// Answer conversations and rooms: post and edit its own messages and notes, keep its
    /// read marker, change a conversation's status, assign it to itself.
    Answer,
    /// Assign a conversation to another member.
    AssignOthers,
    /// Change the company's settings (name, website, widget URL, retention, allowed
    /// origins, business hours).
    ChangeCompany,
    /// Create, change, share and delete chats.
    ManageChats,
    /// Add, change, remove chat users, mint their tokens, send transcripts, revoke.
    ManageChatUsers,
    /// Delete another's message.
    ModerateMessages,
    /// Webhook endpoints, their secrets and deliveries.
    ManageWebhooks,
    /// Personal-data exports and erasures across the company.
    PersonalData,
    /// Invite, change or remove agents.
    ManageAgents,
    /// Invite, change or remove admins.
    ManageAdmins,
    /// Hand ownership to another member.
    HandOver,
    /// Delete the company.
    DeleteCompany,
}

impl Action {
    /// What the README and `openapi.yaml` call it.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Read => {
                "read the company, its members, chats, chat users, messages and events; open sockets"
            }
            Action::Answer => {
                "answer conversations and rooms: messages, notes, read markers, status, assign itself"
            }
            Action::AssignOthers => "assign a conversation to another member",
            Action::ChangeCompany => "change the company's settings",
            Action::ManageChats => "create, change, share and delete chats",
            Action::ManageChatUsers => {
                "add, change and remove chat users, mint their tokens, send transcripts"
            }
            Action::ModerateMessages => "delete another's message",
            Action::ManageWebhooks => "manage webhooks and their deliveries",
            Action::PersonalData => "export and erase a person's data",
            Action::ManageAgents => "invite, change and remove agents",
            Action::ManageAdmins => "invite, change and remove admins",
            Action::HandOver => "hand ownership over",
            Action::DeleteCompany => "delete the company",
        }
    }

    /// Managing a member whose role is `role`.
    pub fn manage(role: Role) -> Action {
        match role {
            Role::Agent => Action::ManageAgents,
            Role::Admin => Action::ManageAdmins,
            Role::Owner => Action::HandOver,
        }
    }
}

/// Every action and the roles that may do it: the one table authorization reads.
pub const RULES: &[(Action, &[Role])] = &[
    (Action::Read, &[Role::Owner, Role::Admin, Role::Agent]),
    (Action::Answer, &[Role::Owner, Role::Admin, Role::Agent]),
    (Action::AssignOthers, &[Role::Owner, Role::Admin]),
    (Action::ChangeCompany, &[Role::Owner, Role::Admin]),
    (Action::ManageChats, &[Role::Owner, Role::Admin]),
    (Action::ManageChatUsers, &[Role::Owner, Role::Admin]),
    (Action::ModerateMessages, &[Role::Owner, Role::Admin]),
    (Action::ManageWebhooks, &[Role::Owner, Role::Admin]),
    (Action::PersonalData, &[Role::Owner, Role::Admin]),
    (Action::ManageAgents, &[Role::Owner, Role::Admin]),
    (Action::ManageAdmins, &[Role::Owner, Role::Admin]),
    (Action::HandOver, &[Role::Owner]),
    (Action::DeleteCompany, &[Role::Owner]),
];

/// Whether `role` may do `action`.
pub fn allows(role: Role, action: Action) -> bool {
    RULES
        .iter()
        .find(|(listed, _)| *listed == action)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

/// The most members (active and invited) one company may have.
pub const MAX_MEMBERS: u32 = 100;

/// What a caller at the member cap is told (the number is [`MAX_MEMBERS`]).
pub const AT_MEMBER_CAP: &str =
    "The company has 100 members and invitations, the most one company may have. Remove one first.";

/// A member as kept under its company.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberRecord {
    pub company_id: CompanyId,
    pub user_id: UserId,
    pub role: Role,
    #[serde(default)]
    pub sees: Sees,
    /// The user's name and email when it joined (or last changed them).
    pub name: String,
    pub email: String,
    pub created_at: String,
    pub updated_at: String,
}

impl MemberRecord {
    pub fn membership(&self) -> Membership {
        Membership {
            role: self.role,
            sees: self.sees,
        }
    }

    pub fn resource(&self) -> MemberResource<'_> {
        MemberResource {
            created_at: &self.created_at,
            email: &self.email,
            id: self.user_id.to_string(),
            name: Some(&self.name),
            role: self.role,
            sees: self.sees,
            status: MemberStatus::Active,
            user_id: Some(self.user_id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    Active,
    Invited,
}

/// A member (or an invitation) as the API shows it: `id` is the user id of an active
/// member and the invitation id of an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberResource<'a> {
    pub created_at: &'a str,
    pub email: &'a str,
    pub id: String,
    pub name: Option<&'a str>,
    pub role: Role,
    pub sees: Sees,
    pub status: MemberStatus,
    pub user_id: Option<UserId>,
}

/// How long an invitation may wait to be accepted.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// An invitation to join a company, kept under it until accepted, revoked or expired.
/// Its code is kept only as a digest (see storage's `invitations`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvitationRecord {
    pub id: InvitationId,
    pub company_id: CompanyId,
    /// Normalized: the address the code was mailed to, and the only one it admits.
    pub email: String,
    pub role: Role,
    #[serde(default)]
    pub sees: Sees,
    pub invited_by: UserId,
    pub created_at: String,
    pub expires_at_ms: i64,
}

impl InvitationRecord {
    pub fn resource(&self) -> MemberResource<'_> {
        MemberResource {
            created_at: &self.created_at,
            email: &self.email,
            id: self.id.to_string(),
            name: None,
            role: self.role,
            sees: self.sees,
            status: MemberStatus::Invited,
            user_id: None,
        }
    }

    pub fn is_live(&self, now_ms: i64) -> bool {
        self.expires_at_ms > now_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_rule_and_the_owner_may_do_everything() {
        let actions = [
            Action::Read,
            Action::Answer,
            Action::AssignOthers,
            Action::ChangeCompany,
            Action::ManageChats,
            Action::ManageChatUsers,
            Action::ModerateMessages,
            Action::ManageWebhooks,
            Action::PersonalData,
            Action::ManageAgents,
            Action::ManageAdmins,
            Action::HandOver,
            Action::DeleteCompany,
        ];
        assert_eq!(RULES.len(), actions.len());
        for action in actions {
            assert!(allows(Role::Owner, action), "{action:?}");
        }
    }

    #[test]
    fn agents_read_admins_manage_only_the_owner_hands_over() {
        assert!(allows(Role::Agent, Action::Read));
        assert!(!allows(Role::Agent, Action::ManageChats));
        assert!(allows(Role::Admin, Action::ManageAdmins));
        assert!(!allows(Role::Admin, Action::HandOver));
        assert!(!allows(Role::Admin, Action::DeleteCompany));
    }

    #[test]
    fn assigned_only_binds_agents() {
        let agent = Membership {
            role: Role::Agent,
            sees: Sees::Assigned,
        };
        assert!(!agent.sees_every_chat());
        let admin = Membership {
            role: Role::Admin,
            sees: Sees::Assigned,
        };
        assert!(admin.sees_every_chat());
    }

    #[test]
    fn roles_and_sees_read_as_written() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(
            serde_json::to_value(Membership::OWNER).unwrap(),
            serde_json::json!({"role": "owner", "sees": "all"})
        );
    }
}

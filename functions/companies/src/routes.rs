//! The routes of `companies`.

use domain::ids::{CompanyId, MemberId};
use edge::router::Method::{Delete, Get, Post, Put};
use edge::router::{Route, Routes, op};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    List,
    Create,
    Get(CompanyId),
    Update(CompanyId),
    Delete(CompanyId),
    /// Everything kept about one email in the company's chats.
    ExportData(CompanyId),
    /// Erases one email from the company's chats.
    EraseData(CompanyId),
    Members(CompanyId),
    Invite(CompanyId),
    /// A member (its user id) or an invitation (its id).
    ChangeMember(CompanyId, MemberId),
    RemoveMember(CompanyId, MemberId),
    AcceptInvitation,
    /// A new identity secret for the company's site (the old one verifies a day more).
    IdentitySecret(CompanyId),
    /// What a site shows its visitors (no token).
    Availability(CompanyId),
    /// A ticket for the team's live stream (every chat of the company the caller sees).
    RealtimeTicket(CompanyId),
}

const COMPANY: &str = "company_id";
const MEMBER: &str = "member_id";

pub static ROUTES: Routes<Endpoint> = Routes::new(&[
    Route {
        path: "/api/companies",
        operations: &[
            op(Get, |_| Ok(Endpoint::List)),
            op(Post, |_| Ok(Endpoint::Create)),
        ],
    },
    Route {
        path: "/api/companies/{company_id}",
        operations: &[
            op(Get, |p| Ok(Endpoint::Get(p.id(COMPANY)?))),
            op(Put, |p| Ok(Endpoint::Update(p.id(COMPANY)?))),
            op(Delete, |p| Ok(Endpoint::Delete(p.id(COMPANY)?))),
        ],
    },
    Route {
        path: "/api/companies/{company_id}/export-data",
        operations: &[op(Post, |p| Ok(Endpoint::ExportData(p.id(COMPANY)?)))],
    },
    Route {
        path: "/api/companies/{company_id}/erase-data",
        operations: &[op(Post, |p| Ok(Endpoint::EraseData(p.id(COMPANY)?)))],
    },
    Route {
        path: "/api/companies/{company_id}/members",
        operations: &[
            op(Get, |p| Ok(Endpoint::Members(p.id(COMPANY)?))),
            op(Post, |p| Ok(Endpoint::Invite(p.id(COMPANY)?))),
        ],
    },
    Route {
        path: "/api/companies/{company_id}/members/{member_id}",
        operations: &[
            op(Put, |p| {
                Ok(Endpoint::ChangeMember(p.id(COMPANY)?, p.id(MEMBER)?))
            }),
            op(Delete, |p| {
                Ok(Endpoint::RemoveMember(p.id(COMPANY)?, p.id(MEMBER)?))
            }),
        ],
    },
    Route {
        path: "/api/companies/{company_id}/identity-secret",
        operations: &[op(Post, |p| Ok(Endpoint::IdentitySecret(p.id(COMPANY)?)))],
    },
    Route {
        path: "/api/companies/{company_id}/availability",
        operations: &[op(Get, |p| Ok(Endpoint::Availability(p.id(COMPANY)?)))],
    },
    Route {
        path: "/api/companies/{company_id}/realtime-ticket",
        operations: &[op(Post, |p| Ok(Endpoint::RealtimeTicket(p.id(COMPANY)?)))],
    },
    Route {
        path: "/api/invitations/accept",
        operations: &[op(Post, |_| Ok(Endpoint::AcceptInvitation))],
    },
]);

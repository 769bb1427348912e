//! The routes of `webhooks`.

use domain::ids::{CompanyId, DeliveryId, WebhookId};
use edge::ApiError;
use edge::router::Method::{Delete, Get, Post, Put};
use edge::router::{PathParams, Route, Routes, op};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    List(CompanyId),
    Create(CompanyId),
    Get(CompanyId, WebhookId),
    Update(CompanyId, WebhookId),
    Delete(CompanyId, WebhookId),
    RotateSecret(CompanyId, WebhookId),
    Deliveries(CompanyId, WebhookId),
    RetryDelivery(CompanyId, WebhookId, DeliveryId),
}

impl Endpoint {
    /// The company of the path: every route of this function is under one.
    pub fn company(self) -> CompanyId {
        match self {
            Endpoint::List(company)
            | Endpoint::Create(company)
            | Endpoint::Get(company, _)
            | Endpoint::Update(company, _)
            | Endpoint::Delete(company, _)
            | Endpoint::RotateSecret(company, _)
            | Endpoint::Deliveries(company, _)
            | Endpoint::RetryDelivery(company, _, _) => company,
        }
    }
}

const COMPANY: &str = "company_id";

/// The company and the endpoint of a path.
fn webhook(p: &PathParams<'_, '_>) -> Result<(CompanyId, WebhookId), ApiError> {
    Ok((p.id(COMPANY)?, p.id("webhook_id")?))
}

pub static ROUTES: Routes<Endpoint> = Routes::new(&[
    Route {
        path: "/api/companies/{company_id}/webhooks",
        operations: &[
            op(Get, |p| Ok(Endpoint::List(p.id(COMPANY)?))),
            op(Post, |p| Ok(Endpoint::Create(p.id(COMPANY)?))),
        ],
    },
    Route {
        path: "/api/companies/{company_id}/webhooks/{webhook_id}",
        operations: &[
            op(Get, |p| webhook(p).map(|(c, w)| Endpoint::Get(c, w))),
            op(Put, |p| webhook(p).map(|(c, w)| Endpoint::Update(c, w))),
            op(Delete, |p| webhook(p).map(|(c, w)| Endpoint::Delete(c, w))),
        ],
    },
    Route {
        path: "/api/companies/{company_id}/webhooks/{webhook_id}/rotate-secret",
        operations: &[op(Post, |p| {
            webhook(p).map(|(c, w)| Endpoint::RotateSecret(c, w))
        })],
    },
    Route {
        path: "/api/companies/{company_id}/webhooks/{webhook_id}/deliveries",
        operations: &[op(Get, |p| {
            webhook(p).map(|(c, w)| Endpoint::Deliveries(c, w))
        })],
    },
    Route {
        path: "/api/companies/{company_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
        operations: &[op(Post, |p| {
            let (c, w) = webhook(p)?;
            Ok(Endpoint::RetryDelivery(c, w, p.id("delivery_id")?))
        })],
    },
]);

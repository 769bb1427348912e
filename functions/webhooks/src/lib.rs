//! `webhooks`: a company's webhook endpoints, their secrets and their delivery log, for
//! the members whose role manages webhooks (the edge's `access`); a non-member gets 404.
//!
//! The events themselves are sent by `dispatch` (stream → one job per endpoint and event)
//! and `deliver` (job → signed POST, retried); this function only manages endpoints and
//! queues a delivery again on request.

pub mod routes;

use std::time::Duration;

use domain::clock;
use domain::company::MAX_WEBHOOKS;
use domain::ids::{CompanyId, DeliveryId, EntityId, WebhookId};
use domain::jobs::DeliveryJob;
use domain::team::Action;
use domain::text::{Description, EventTypes, UrlText};
use domain::webhook::{DeliveryRecord, DeliveryStatus, WebhookRecord};
use edge::access::company_member;
use edge::config::WebhookSettings;
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, Context, FieldErrors, auth, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use routes::{Endpoint, ROUTES};
use services::queue::Queue;
use services::standard_webhooks::{self, generate_secret};
use storage::cap::Added;
use storage::deliveries::Requeued;
use storage::webhooks::WebhookChanges;

pub struct App {
    pub ctx: Context,
    /// Where a retried delivery's job goes (`DELIVERY_QUEUE_URL`).
    pub deliveries: Queue,
    pub settings: WebhookSettings,
}

impl App {
    pub fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, aws) = Context::from_env()?;
        Ok(Self {
            deliveries: edge::config::queue(&aws, "DELIVERY_QUEUE_URL")?,
            settings: WebhookSettings::from_env()?,
            ctx,
        })
    }
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    edge::runtime::respond(request, &ROUTES, app.ctx.cors(), |endpoint, req| {
        dispatch(app, endpoint, req)
    })
    .await
}

async fn dispatch(
    app: &App,
    endpoint: Endpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    use Endpoint as E;
    let operator = auth::operator(&app.ctx, &req).await?;
    company_member(&operator, endpoint.company(), Action::ManageWebhooks)?;
    match endpoint {
        E::List(company) => list(app, &req, company).await,
        E::Create(company) => create(app, &req, company).await,
        E::Get(company, id) => {
            let webhook = find(app, company, id).await?;
            Ok(envelope::data(StatusCode::OK, webhook.resource(false)))
        }
        E::Update(company, id) => update(app, &req, company, id).await,
        E::Delete(company, id) => {
            let gone = app.ctx.db.webhooks().delete(company, id).await?;
            let webhook = gone.ok_or(NOT_FOUND)?;
            Ok(envelope::data(StatusCode::OK, webhook.resource(false)))
        }
        E::RotateSecret(company, id) => rotate(app, company, id).await,
        E::Deliveries(company, id) => deliveries(app, &req, company, id).await,
        E::RetryDelivery(company, id, delivery) => retry(app, company, id, delivery).await,
    }
}

const NOT_FOUND: ApiError = ApiError::NotFound(WebhookId::NOT_FOUND);

async fn find(app: &App, company: CompanyId, id: WebhookId) -> Result<WebhookRecord, ApiError> {
    app.ctx
        .db
        .webhooks()
        .get(company, id)
        .await?
        .ok_or(NOT_FOUND)
}

/// The company must still exist (a member's entry may name one deleted a moment ago).
async fn require_company(app: &App, company: CompanyId) -> Result<(), ApiError> {
    match app.ctx.db.companies().get(company).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(CompanyId::NOT_FOUND)),
    }
}

async fn list(app: &App, req: &ApiRequest, company: CompanyId) -> Result<Response<Body>, ApiError> {
    let per_page = req.per_page(25, 100)?;
    require_company(app, company).await?;
    let page = app
        .ctx
        .db
        .webhooks()
        .list(company, per_page, req.cursor())
        .await?;
    let items: Vec<_> = page.items.iter().map(|w| w.resource(false)).collect();
    Ok(envelope::list(&items, per_page, page.next_cursor))
}

/// The URL field, checked for where this stack may deliver.
fn target_url(fields: &mut Fields<'_>, url: Option<UrlText>, app: &App) -> Option<String> {
    let url = url?;
    match standard_webhooks::check_url(url.as_str(), app.settings.targets) {
        Ok(parsed) => Some(parsed.to_string()),
        Err(message) => {
            fields.error("url", message);
            None
        }
    }
}

async fn create(
    app: &App,
    req: &ApiRequest,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let url = fields.required::<UrlText>("url");
    let url = target_url(&mut fields, url, app);
    let events = fields.optional::<EventTypes>("events");
    let description = fields.optional::<Description>("description");
    let url = fields.finish_with(|| url)?;
    require_company(app, company).await?;
    let now = clock::now_rfc3339();
    let webhook = WebhookRecord {
        id: WebhookId::new(),
        company_id: company,
        url,
        events: events.map(EventTypes::into_inner),
        description: description.map(Description::into_inner),
        enabled: true,
        disabled_reason: None,
        secret: generate_secret()?,
        previous_secret: None,
        previous_secret_until: None,
        failing_since: None,
        created_at: now.clone(),
        updated_at: now,
    };
    match app.ctx.db.webhooks().insert(&webhook).await? {
        Added::Added => Ok(envelope::data(StatusCode::CREATED, webhook.resource(true))),
        Added::AtCap => Err(FieldErrors::single(
            "url",
            format!("A company has at most {MAX_WEBHOOKS} webhooks."),
        )),
        Added::HolderGone => Err(ApiError::NotFound(CompanyId::NOT_FOUND)),
    }
}

async fn update(
    app: &App,
    req: &ApiRequest,
    company: CompanyId,
    id: WebhookId,
) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let url = fields.present::<UrlText>("url");
    let url = target_url(&mut fields, url, app);
    let events = fields.nullable::<EventTypes>("events");
    let description = fields.nullable::<Description>("description");
    let enabled = fields.present::<bool>("enabled");
    fields.finish()?;
    let changes = WebhookChanges {
        url,
        events: events.map(|e| e.map(EventTypes::into_inner)),
        description: description.map(|d| d.map(Description::into_inner)),
        enabled,
        updated_at: clock::now_rfc3339(),
    };
    let webhook = app
        .ctx
        .db
        .webhooks()
        .update(company, id, changes)
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(envelope::data(StatusCode::OK, webhook.resource(false)))
}

async fn rotate(app: &App, company: CompanyId, id: WebhookId) -> Result<Response<Body>, ApiError> {
    let webhook = find(app, company, id).await?;
    let rotated = app
        .ctx
        .db
        .webhooks()
        .rotate_secret(&webhook, generate_secret()?, clock::now_millis())
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(envelope::data(StatusCode::OK, rotated.resource(true)))
}

async fn deliveries(
    app: &App,
    req: &ApiRequest,
    company: CompanyId,
    id: WebhookId,
) -> Result<Response<Body>, ApiError> {
    let per_page = req.per_page(25, 100)?;
    find(app, company, id).await?;
    let page = app
        .ctx
        .db
        .deliveries()
        .list(id, per_page, req.cursor())
        .await?;
    let items: Vec<_> = page.items.iter().map(DeliveryRecord::resource).collect();
    Ok(envelope::list(&items, per_page, page.next_cursor))
}

/// Queues the delivery again now, whatever its state; `202` with the delivery.
async fn retry(
    app: &App,
    company: CompanyId,
    id: WebhookId,
    delivery_id: DeliveryId,
) -> Result<Response<Body>, ApiError> {
    let webhook = find(app, company, id).await?;
    if !webhook.enabled {
        return Err(ApiError::Conflict(
            "The webhook is disabled. Enable it first.",
        ));
    }
    let delivery = app
        .ctx
        .db
        .deliveries()
        .get(id, delivery_id)
        .await?
        .ok_or(ApiError::NotFound(DeliveryId::NOT_FOUND))?;
    let now = clock::now_millis();
    match app.ctx.db.deliveries().requeue(&delivery, now).await? {
        Requeued::Queued => {}
        Requeued::Pending => {
            return Err(ApiError::Conflict(
                "An attempt of this delivery is pending already: wait for it.",
            ));
        }
        Requeued::TooMany => {
            return Err(ApiError::Conflict(
                "This delivery was retried as often as a delivery may be (5 times).",
            ));
        }
        Requeued::Gone => return Err(ApiError::NotFound(DeliveryId::NOT_FOUND)),
    }
    let job = DeliveryJob {
        company_id: company,
        webhook_id: id,
        delivery_id,
        not_before: None,
    };
    app.deliveries.send(&job, Duration::ZERO).await?;
    let next_attempt_at = clock::rfc3339(now);
    let shown = domain::webhook::DeliveryResource {
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(&next_attempt_at),
        ..delivery.resource()
    };
    Ok(envelope::data(StatusCode::ACCEPTED, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_fits_and_builds_its_endpoint() {
        assert_eq!(ROUTES.check(), Ok(()));
        assert_eq!(ROUTES.check_builds(), Ok(()));
    }
}

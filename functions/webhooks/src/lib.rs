//! `webhooks`: a company's webhook endpoints, their secrets and their delivery log. Owner
//! only: endpoints live in the owner's partition, so another owner's is a 404.
//!
//! The events themselves are sent by `dispatch` (stream → one job per endpoint and event)
//! and `deliver` (job → signed POST, retried); this function only manages endpoints and
//! queues a delivery again on request.

// The AWS SDK's futures nest deeply (the keys read awaited inside the handlers): a
// clean build needs more than the default 128.
#![recursion_limit = "256"]

use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::db::webhooks::{
    DeliveryRecord, DeliveryStatus, MAX_WEBHOOKS_PER_COMPANY, WebhookChanges, WebhookRecord,
};
use shared::ids::{CompanyId, DeliveryId, EntityId, UserId, WebhookId};
use shared::queue::{DeliveryJob, Queue};
use shared::routes::WebhooksEndpoint;
use shared::validate::{Description, EventTypes, Fields, UrlText};
use shared::webhook::{self, SigningSecret};
use shared::{ApiError, ApiRequest, Context, FieldErrors, auth, clock, http};

pub struct App {
    pub ctx: Context,
    /// Where a retried delivery's job goes (`DELIVERY_QUEUE_URL`).
    pub deliveries: Queue,
    pub settings: webhook::Settings,
}

impl App {
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, aws) = Context::from_env().await?;
        Ok(Self {
            deliveries: Queue::from_env(&aws, "DELIVERY_QUEUE_URL")?,
            settings: webhook::Settings::from_env()?,
            ctx,
        })
    }
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, |endpoint, req| dispatch(app, endpoint, req)).await
}

async fn dispatch(
    app: &App,
    endpoint: WebhooksEndpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    use WebhooksEndpoint as E;
    let owner = auth::operator(&app.ctx, &req).await?.user.id;
    match endpoint {
        E::List(company) => list(app, &req, owner, company).await,
        E::Create(company) => create(app, &req, owner, company).await,
        E::Get(company, id) => {
            let webhook = find(app, owner, company, id).await?;
            Ok(http::data(StatusCode::OK, webhook.resource(false)))
        }
        E::Update(company, id) => update(app, &req, owner, company, id).await,
        E::Delete(company, id) => {
            let gone = app.ctx.db.delete_webhook(owner, company, id).await?;
            let webhook = gone.ok_or(NOT_FOUND)?;
            Ok(http::data(StatusCode::OK, webhook.resource(false)))
        }
        E::RotateSecret(company, id) => rotate(app, owner, company, id).await,
        E::Deliveries(company, id) => deliveries(app, &req, owner, company, id).await,
        E::RetryDelivery(company, id, delivery) => retry(app, owner, company, id, delivery).await,
    }
}

const NOT_FOUND: ApiError = ApiError::NotFound(WebhookId::NOT_FOUND);

async fn find(
    app: &App,
    owner: UserId,
    company: CompanyId,
    id: WebhookId,
) -> Result<WebhookRecord, ApiError> {
    app.ctx
        .db
        .webhook(owner, company, id)
        .await?
        .ok_or(NOT_FOUND)
}

/// The company must be the caller's: another owner's is a 404, like a missing one.
async fn require_company(app: &App, owner: UserId, company: CompanyId) -> Result<(), ApiError> {
    match app.ctx.db.company(owner, company).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(CompanyId::NOT_FOUND)),
    }
}

async fn list(
    app: &App,
    req: &ApiRequest,
    owner: UserId,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let per_page = req.per_page(25, 100)?;
    require_company(app, owner, company).await?;
    let page = app
        .ctx
        .db
        .list_webhooks(owner, company, per_page, req.cursor())
        .await?;
    let items = page.items.iter().map(|w| w.resource(false)).collect();
    Ok(http::list(items, per_page, page.next_cursor))
}

/// The URL field, checked for where this stack may deliver.
fn target_url(fields: &mut Fields<'_>, url: Option<UrlText>, app: &App) -> Option<String> {
    let url = url?;
    match webhook::check_url(url.as_str(), app.settings.targets) {
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
    owner: UserId,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let url = fields.required::<UrlText>("url");
    let url = target_url(&mut fields, url, app);
    let events = fields.optional::<EventTypes>("events");
    let description = fields.optional::<Description>("description");
    let url = fields.finish_with(|| url)?;
    require_company(app, owner, company).await?;
    let now = clock::now_rfc3339();
    let webhook = WebhookRecord {
        id: WebhookId::new(),
        owner_id: owner,
        company_id: company,
        url,
        events: events.map(|e| e.0),
        description: description.map(Description::into_inner),
        enabled: true,
        disabled_reason: None,
        secret: SigningSecret::generate()?,
        previous_secret: None,
        previous_secret_until: None,
        failing_since: None,
        created_at: now.clone(),
        updated_at: now,
    };
    if !app.ctx.db.insert_webhook(&webhook).await? {
        return Err(FieldErrors::single(
            "url",
            format!("A company has at most {MAX_WEBHOOKS_PER_COMPANY} webhooks."),
        ));
    }
    Ok(http::data(StatusCode::CREATED, webhook.resource(true)))
}

async fn update(
    app: &App,
    req: &ApiRequest,
    owner: UserId,
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
        events: events.map(|e| e.map(|e| e.0)),
        description: description.map(|d| d.map(Description::into_inner)),
        enabled,
        updated_at: clock::now_rfc3339(),
    };
    let webhook = app
        .ctx
        .db
        .update_webhook(owner, company, id, changes)
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(http::data(StatusCode::OK, webhook.resource(false)))
}

async fn rotate(
    app: &App,
    owner: UserId,
    company: CompanyId,
    id: WebhookId,
) -> Result<Response<Body>, ApiError> {
    let webhook = find(app, owner, company, id).await?;
    let rotated = app
        .ctx
        .db
        .rotate_webhook_secret(&webhook, SigningSecret::generate()?, clock::now_millis())
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(http::data(StatusCode::OK, rotated.resource(true)))
}

async fn deliveries(
    app: &App,
    req: &ApiRequest,
    owner: UserId,
    company: CompanyId,
    id: WebhookId,
) -> Result<Response<Body>, ApiError> {
    let per_page = req.per_page(25, 100)?;
    find(app, owner, company, id).await?;
    let page = app
        .ctx
        .db
        .list_deliveries(id, per_page, req.cursor())
        .await?;
    let items = page.items.iter().map(DeliveryRecord::resource).collect();
    Ok(http::list(items, per_page, page.next_cursor))
}

/// Queues the delivery again now, whatever its state; `202` with the delivery.
async fn retry(
    app: &App,
    owner: UserId,
    company: CompanyId,
    id: WebhookId,
    delivery_id: DeliveryId,
) -> Result<Response<Body>, ApiError> {
    let webhook = find(app, owner, company, id).await?;
    if !webhook.enabled {
        return Err(ApiError::Conflict(
            "The webhook is disabled. Enable it first.",
        ));
    }
    let delivery = app
        .ctx
        .db
        .delivery(id, delivery_id)
        .await?
        .ok_or(ApiError::NotFound(DeliveryId::NOT_FOUND))?;
    let now = clock::now_millis();
    app.ctx
        .db
        .set_delivery_status(&delivery, DeliveryStatus::Pending, Some(now))
        .await?;
    let job = DeliveryJob {
        owner_id: owner,
        company_id: company,
        webhook_id: id,
        delivery_id,
        not_before: None,
    };
    app.deliveries.send(&job, Duration::ZERO).await?;
    let mut shown = delivery.resource();
    shown["status"] = serde_json::json!(DeliveryStatus::Pending);
    shown["next_attempt_at"] = serde_json::json!(clock::rfc3339(now));
    Ok(http::data(StatusCode::ACCEPTED, shown))
}

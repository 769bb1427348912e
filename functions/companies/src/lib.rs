//! `companies`: the companies the caller is a member of. What a member may do in one is
//! the edge's `access::company_member` (one table of actions × roles); a company the
//! caller is not a member of is simply not found (404).

pub mod availability;
pub mod live;
pub mod routes;
pub mod team;

use domain::availability::BusinessHours;
use domain::clock;
use domain::company::CompanyRecord;
use domain::ids::{CompanyId, EntityId};
use domain::personal_data::ErasureAnswer;
use domain::team::{Action, Membership};
use domain::text::{AllowedOrigins, Email, Name, RetentionDays, Website};
use domain::user::AT_COMPANY_CAP;
use edge::access::company_member;
use edge::auth::Operator;
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, auth, envelope};

use edge::Context;
use services::mail::Mailer;

pub struct App {
    pub ctx: Context,
    /// Invitations, mailed while the request waits.
    pub mailer: Mailer,
    /// `INVITATION_ACCEPT_URL`: the page an invitation email links to, with `?code=`
    /// (the console's); without it the email carries the code alone.
    pub accept_page: Option<String>,
}

impl App {
    pub fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, aws) = Context::from_env()?;
        let from = ctx.config.require_mail_from()?.to_owned();
        Ok(Self {
            mailer: Mailer::from_config(&aws, from),
            accept_page: std::env::var("INVITATION_ACCEPT_URL")
                .ok()
                .filter(|url| !url.trim().is_empty()),
            ctx,
        })
    }
}
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use routes::{Endpoint, ROUTES};
use storage::cap::Added;
use storage::companies::{CompanyChanges, CompanyDeleted};
use storage::data_requests::{self, Scope};

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
    match endpoint {
        Endpoint::AcceptInvitation => return team::accept(app, &req).await,
        Endpoint::Availability(company) => return availability::get(app, &req, company).await,
        _ => {}
    }
    let operator = auth::operator(&app.ctx, &req).await?;
    match endpoint {
        Endpoint::AcceptInvitation => team::accept(app, &req).await,
        Endpoint::Availability(company) => availability::get(app, &req, company).await,
        Endpoint::Members(company) => team::list(app, &operator, company).await,
        Endpoint::Invite(company) => team::invite(app, &req, &operator, company).await,
        Endpoint::ChangeMember(company, id) => {
            team::change(app, &req, &operator, company, id).await
        }
        Endpoint::RemoveMember(company, id) => team::remove(app, &operator, company, id).await,
        Endpoint::List => list(app, &req, &operator).await,
        Endpoint::Create => create(app, &req, &operator).await,
        Endpoint::Get(company) => get(app, &operator, company).await,
        Endpoint::Update(company) => update(app, &req, &operator, company).await,
        Endpoint::Delete(company) => delete(app, &operator, company).await,
        Endpoint::ExportData(company) => export_data(app, &req, &operator, company).await,
        Endpoint::EraseData(company) => erase_data(app, &req, &operator, company).await,
        Endpoint::IdentitySecret(company) => identity_secret(app, &operator, company).await,
        Endpoint::RealtimeTicket(company) => live::realtime_ticket(app, &operator, company).await,
    }
}

const NOT_FOUND: ApiError = ApiError::NotFound(CompanyId::NOT_FOUND);

async fn list(
    app: &App,
    req: &ApiRequest,
    operator: &Operator,
) -> Result<Response<Body>, ApiError> {
    let per_page = req.per_page(25, 100)?;
    let page = app
        .ctx
        .db
        .companies()
        .of_member(&operator.user, per_page, req.cursor())
        .await?;
    let items: Vec<_> = page
        .items
        .iter()
        .map(|(company, membership)| company.resource(*membership))
        .collect();
    Ok(envelope::list(&items, per_page, page.next_cursor))
}

async fn create(
    app: &App,
    req: &ApiRequest,
    operator: &Operator,
) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let name = fields.required::<Name>("name");
    let website = fields.nullable::<Website>("website");
    let widget_url = fields.nullable::<Website>("widget_url");
    let retention_days = fields.nullable::<RetentionDays>("retention_days");
    let (name, website) = fields.finish_with(|| Some((name?, website.flatten())))?;
    let now = clock::now_rfc3339();
    let company = CompanyRecord {
        id: CompanyId::new(),
        owner_id: operator.user.id,
        name: name.into_inner(),
        website: website.map(Website::into_inner),
        widget_url: widget_url.flatten().map(Website::into_inner),
        created_at: now.clone(),
        updated_at: now,
        chat_count: 0,
        webhook_count: 0,
        retention_days: retention_days.flatten().map(RetentionDays::get),
        member_count: 1,
        allowed_origins: Vec::new(),
        business_hours: None,
    };
    match app
        .ctx
        .db
        .companies()
        .insert(&company, &operator.user)
        .await?
    {
        Added::Added => Ok(envelope::data(
            StatusCode::CREATED,
            company.resource(Membership::OWNER),
        )),
        Added::AtCap => Err(ApiError::Conflict(AT_COMPANY_CAP)),
        Added::HolderGone => Err(ApiError::Unauthenticated(edge::UNAUTHENTICATED)),
    }
}

async fn get(
    app: &App,
    operator: &Operator,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let membership = company_member(operator, company, Action::Read)?;
    let company = app
        .ctx
        .db
        .companies()
        .get(company)
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(envelope::data(StatusCode::OK, company.resource(membership)))
}

async fn update(
    app: &App,
    req: &ApiRequest,
    operator: &Operator,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let membership = company_member(operator, company, Action::ChangeCompany)?;
    let mut fields = Fields::new(&req.body);
    let name = fields.present::<Name>("name");
    let website = fields.nullable::<Website>("website");
    let widget_url = fields.nullable::<Website>("widget_url");
    let retention_days = fields.nullable::<RetentionDays>("retention_days");
    // null clears the list, as an empty one does.
    let allowed_origins = fields.nullable::<AllowedOrigins>("allowed_origins");
    let business_hours = fields.nullable::<BusinessHours>("business_hours");
    fields.finish()?;
    let changes = CompanyChanges {
        name: name.map(Name::into_inner),
        website: website.map(|w| w.map(Website::into_inner)),
        widget_url: widget_url.map(|w| w.map(Website::into_inner)),
        retention_days: retention_days.map(|days| days.map(RetentionDays::get)),
        allowed_origins: allowed_origins
            .map(|origins| origins.map(AllowedOrigins::into_inner).unwrap_or_default()),
        business_hours,
        updated_at: clock::now_rfc3339(),
    };
    // A changed retention_days reaches the company's chats through the table's stream
    // (the `lifecycle` function): never inside this request, however many chats.
    let company = app
        .ctx
        .db
        .companies()
        .update(company, changes)
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(envelope::data(StatusCode::OK, company.resource(membership)))
}

async fn delete(
    app: &App,
    operator: &Operator,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let membership = company_member(operator, company, Action::DeleteCompany)?;
    match app.ctx.db.companies().delete(company).await? {
        CompanyDeleted::Deleted(company) => {
            Ok(envelope::data(StatusCode::OK, company.resource(membership)))
        }
        CompanyDeleted::HasChats => Err(ApiError::Conflict(
            "The company still has chats. Delete them first.",
        )),
        CompanyDeleted::NotFound => Err(NOT_FOUND),
    }
}

/// The company (a member's allowed personal-data requests, else 404 or 403) and the
/// `email` a personal-data request is about.
async fn data_request(
    app: &App,
    req: &ApiRequest,
    operator: &Operator,
    company: CompanyId,
) -> Result<(Scope, Email), ApiError> {
    company_member(operator, company, Action::PersonalData)?;
    let mut fields = Fields::new(&req.body);
    let email = fields.required::<Email>("email");
    let email = fields.finish_with(|| email)?;
    let company = app
        .ctx
        .db
        .companies()
        .get(company)
        .await?
        .ok_or(NOT_FOUND)?;
    let scope = Scope {
        company_id: company.id,
    };
    Ok((scope, email))
}

/// `POST /api/companies/{company_id}/export-data`: everything kept about `email` in the
/// company's chats.
async fn export_data(
    app: &App,
    req: &ApiRequest,
    operator: &Operator,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let (scope, email) = data_request(app, req, operator, company).await?;
    let export = data_requests::export(&app.ctx.db, scope, email.as_str()).await?;
    Ok(envelope::data(StatusCode::OK, export))
}

/// `POST /api/companies/{company_id}/erase-data`: erases `email` from the company's chats
/// (the rule: storage's `personal_data`).
async fn erase_data(
    app: &App,
    req: &ApiRequest,
    operator: &Operator,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let (scope, email) = data_request(app, req, operator, company).await?;
    let erased = data_requests::erase(&app.ctx.db, scope, email.as_str()).await?;
    Ok(envelope::data(StatusCode::OK, ErasureAnswer { erased }))
}

/// `POST /api/companies/{company_id}/identity-secret` (owner, admin): a new secret for the
/// company's site to sign its visitors' identities with, shown this once; the one it
/// replaces verifies for a day more, while the site deploys the new one.
async fn identity_secret(
    app: &App,
    operator: &auth::Operator,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    company_member(operator, company, Action::ChangeCompany)?;
    let secret = format!("idsec_{}", services::random::random_token_string(32)?);
    let record = app
        .ctx
        .db
        .identity_secrets()
        .rotate(company, secret)
        .await?
        .ok_or(ApiError::Conflict(
            "Another new identity secret was made at the same time: make one again.",
        ))?;
    tracing::info!(company_id = %company, "identity secret rotated");
    Ok(envelope::data(
        StatusCode::CREATED,
        serde_json::json!({ "secret": record.secret.expose(), "created_at": record.created_at }),
    ))
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

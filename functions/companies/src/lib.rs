//! `companies`: the caller's companies. They are stored in the owner's partition, so a
//! company of another owner is simply not found (404), never forbidden.

pub mod routes;

use domain::clock;
use domain::company::CompanyRecord;
use domain::ids::{CompanyId, EntityId, UserId};
use domain::personal_data::ErasureAnswer;
use domain::text::{Email, Name, RetentionDays, Website};
use domain::user::AT_COMPANY_CAP;
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, auth, envelope};

pub use edge::App;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use routes::{Endpoint, ROUTES};
use storage::cap::Added;
use storage::companies::{CompanyChanges, CompanyDeleted};
use storage::data_requests::{self, Scope};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    edge::runtime::respond(request, &ROUTES, |endpoint, req| {
        dispatch(app, endpoint, req)
    })
    .await
}

async fn dispatch(
    app: &App,
    endpoint: Endpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    let owner = auth::operator(&app.ctx, &req).await?.user.id;
    match endpoint {
        Endpoint::List => list(app, &req, owner).await,
        Endpoint::Create => create(app, &req, owner).await,
        Endpoint::Get(company) => get(app, owner, company).await,
        Endpoint::Update(company) => update(app, &req, owner, company).await,
        Endpoint::Delete(company) => delete(app, owner, company).await,
        Endpoint::ExportData(company) => export_data(app, &req, owner, company).await,
        Endpoint::EraseData(company) => erase_data(app, &req, owner, company).await,
    }
}

const NOT_FOUND: ApiError = ApiError::NotFound(CompanyId::NOT_FOUND);

async fn list(app: &App, req: &ApiRequest, owner: UserId) -> Result<Response<Body>, ApiError> {
    let per_page = req.per_page(25, 100)?;
    let page = app
        .ctx
        .db
        .companies()
        .list(owner, per_page, req.cursor())
        .await?;
    let items: Vec<_> = page.items.iter().map(CompanyRecord::resource).collect();
    Ok(envelope::list(&items, per_page, page.next_cursor))
}

async fn create(app: &App, req: &ApiRequest, owner: UserId) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let name = fields.required::<Name>("name");
    let website = fields.nullable::<Website>("website");
    let widget_url = fields.nullable::<Website>("widget_url");
    let retention_days = fields.nullable::<RetentionDays>("retention_days");
    let (name, website) = fields.finish_with(|| Some((name?, website.flatten())))?;
    let now = clock::now_rfc3339();
    let company = CompanyRecord {
        id: CompanyId::new(),
        owner_id: owner,
        name: name.into_inner(),
        website: website.map(Website::into_inner),
        widget_url: widget_url.flatten().map(Website::into_inner),
        created_at: now.clone(),
        updated_at: now,
        chat_count: 0,
        webhook_count: 0,
        retention_days: retention_days.flatten().map(RetentionDays::get),
    };
    match app.ctx.db.companies().insert(&company).await? {
        Added::Added => Ok(envelope::data(StatusCode::CREATED, company.resource())),
        Added::AtCap => Err(ApiError::Conflict(AT_COMPANY_CAP)),
        Added::HolderGone => Err(ApiError::Unauthenticated(edge::UNAUTHENTICATED)),
    }
}

async fn get(app: &App, owner: UserId, company: CompanyId) -> Result<Response<Body>, ApiError> {
    let company = app
        .ctx
        .db
        .companies()
        .get(owner, company)
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(envelope::data(StatusCode::OK, company.resource()))
}

async fn update(
    app: &App,
    req: &ApiRequest,
    owner: UserId,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let name = fields.present::<Name>("name");
    let website = fields.nullable::<Website>("website");
    let widget_url = fields.nullable::<Website>("widget_url");
    let retention_days = fields.nullable::<RetentionDays>("retention_days");
    fields.finish()?;
    let changes = CompanyChanges {
        name: name.map(Name::into_inner),
        website: website.map(|w| w.map(Website::into_inner)),
        widget_url: widget_url.map(|w| w.map(Website::into_inner)),
        retention_days: retention_days.map(|days| days.map(RetentionDays::get)),
        updated_at: clock::now_rfc3339(),
    };
    // A changed retention_days reaches the company's chats through the table's stream
    // (the `lifecycle` function): never inside this request, however many chats.
    let company = app
        .ctx
        .db
        .companies()
        .update(owner, company, changes)
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(envelope::data(StatusCode::OK, company.resource()))
}

async fn delete(app: &App, owner: UserId, company: CompanyId) -> Result<Response<Body>, ApiError> {
    match app.ctx.db.companies().delete(owner, company).await? {
        CompanyDeleted::Deleted(company) => Ok(envelope::data(StatusCode::OK, company.resource())),
        CompanyDeleted::HasChats => Err(ApiError::Conflict(
            "The company still has chats. Delete them first.",
        )),
        CompanyDeleted::NotFound => Err(NOT_FOUND),
    }
}

/// The company (the owner's, else 404) and the `email` a personal-data request is about.
async fn data_request(
    app: &App,
    req: &ApiRequest,
    owner: UserId,
    company: CompanyId,
) -> Result<(Scope, Email), ApiError> {
    let mut fields = Fields::new(&req.body);
    let email = fields.required::<Email>("email");
    let email = fields.finish_with(|| email)?;
    let company = app
        .ctx
        .db
        .companies()
        .get(owner, company)
        .await?
        .ok_or(NOT_FOUND)?;
    let scope = Scope {
        owner_id: owner,
        company_id: company.id,
    };
    Ok((scope, email))
}

/// `POST /api/companies/{company_id}/export-data`: everything kept about `email` in the
/// company's chats.
async fn export_data(
    app: &App,
    req: &ApiRequest,
    owner: UserId,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let (scope, email) = data_request(app, req, owner, company).await?;
    let export = data_requests::export(&app.ctx.db, scope, email.as_str()).await?;
    Ok(envelope::data(StatusCode::OK, export))
}

/// `POST /api/companies/{company_id}/erase-data`: erases `email` from the company's chats
/// (the rule: storage's `personal_data`).
async fn erase_data(
    app: &App,
    req: &ApiRequest,
    owner: UserId,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let (scope, email) = data_request(app, req, owner, company).await?;
    let erased = data_requests::erase(&app.ctx.db, scope, email.as_str()).await?;
    Ok(envelope::data(StatusCode::OK, ErasureAnswer { erased }))
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

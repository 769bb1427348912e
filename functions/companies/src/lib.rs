//! `companies`: the caller's companies. They are stored in the owner's partition, so a
//! company of another owner is simply not found (404), never forbidden.

// The AWS SDK's futures nest deeply (the keys read is awaited inside the handlers):
// a clean build needs more than the default 128.
#![recursion_limit = "256"]

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::db::companies::{CompanyChanges, CompanyDeleted, CompanyRecord};
use shared::ids::{CompanyId, EntityId, UserId};
use shared::personal_data::{self, Scope};
use shared::routes::CompaniesEndpoint;
use shared::validate::{Email, Fields, Name, RetentionDays, Website};
use shared::{ApiError, ApiRequest, auth, clock, http};

pub use shared::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, |endpoint, req| dispatch(app, endpoint, req)).await
}

async fn dispatch(
    app: &App,
    endpoint: CompaniesEndpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    let owner = auth::operator(&app.ctx, &req).await?.user.id;
    match endpoint {
        CompaniesEndpoint::List => list(app, &req, owner).await,
        CompaniesEndpoint::Create => create(app, &req, owner).await,
        CompaniesEndpoint::Get(company) => get(app, owner, company).await,
        CompaniesEndpoint::Update(company) => update(app, &req, owner, company).await,
        CompaniesEndpoint::Delete(company) => delete(app, owner, company).await,
        CompaniesEndpoint::ExportData(company) => export_data(app, &req, owner, company).await,
        CompaniesEndpoint::EraseData(company) => erase_data(app, &req, owner, company).await,
    }
}

const NOT_FOUND: ApiError = ApiError::NotFound(CompanyId::NOT_FOUND);

async fn list(app: &App, req: &ApiRequest, owner: UserId) -> Result<Response<Body>, ApiError> {
    let per_page = req.per_page(25, 100)?;
    let page = app
        .ctx
        .db
        .list_companies(owner, per_page, req.cursor())
        .await?;
    Ok(http::list(
        page.items.iter().map(CompanyRecord::resource).collect(),
        per_page,
        page.next_cursor,
    ))
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
        retention_days: retention_days.flatten().map(|days| days.0),
    };
    app.ctx
        .db
        .insert_company(&company)
        .await?
        .or_refuse(shared::db::users::AT_COMPANY_CAP)?;
    Ok(http::data(StatusCode::CREATED, company.resource()))
}

async fn get(app: &App, owner: UserId, company: CompanyId) -> Result<Response<Body>, ApiError> {
    let company = app.ctx.db.company(owner, company).await?.ok_or(NOT_FOUND)?;
    Ok(http::data(StatusCode::OK, company.resource()))
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
        retention_days: retention_days.map(|days| days.map(|d| d.0)),
        updated_at: clock::now_rfc3339(),
    };
    // A changed retention_days reaches the company's chats through the table's stream
    // (the `lifecycle` function): never inside this request, however many chats.
    let company = app
        .ctx
        .db
        .update_company(owner, company, changes)
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(http::data(StatusCode::OK, company.resource()))
}

async fn delete(app: &App, owner: UserId, company: CompanyId) -> Result<Response<Body>, ApiError> {
    match app.ctx.db.delete_company(owner, company).await? {
        CompanyDeleted::Deleted(company) => Ok(http::data(StatusCode::OK, company.resource())),
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
    let company = app.ctx.db.company(owner, company).await?.ok_or(NOT_FOUND)?;
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
    let export = personal_data::export(&app.ctx.db, scope, email.as_str()).await?;
    Ok(http::data(StatusCode::OK, export))
}

/// `POST /api/companies/{company_id}/erase-data`: erases `email` from the company's chats
/// (the rule: `shared::personal_data`).
async fn erase_data(
    app: &App,
    req: &ApiRequest,
    owner: UserId,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let (scope, email) = data_request(app, req, owner, company).await?;
    let erased = personal_data::erase(&app.ctx.db, scope, email.as_str()).await?;
    Ok(http::data(StatusCode::OK, erased.resource()))
}

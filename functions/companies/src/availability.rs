//! `GET /api/companies/{company_id}/availability`: what a company's site shows before a
//! visitor writes (no token): its name, whether a member has the team stream open, whether
//! it is within its business hours, and how fast it typically replies. Budgeted per source
//! address like the other routes without a token; cacheable for half a minute.

use domain::availability::{self, Availability, PublicCompany};
use domain::clock;
use domain::ids::{CompanyId, EntityId};
use domain::rate_limit::budgets::AVAILABILITY_PER_SOURCE;
use edge::{ApiError, ApiRequest, envelope};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};

use crate::App;

/// Long enough that a page's widgets and reloads share one answer, short enough that
/// "online" follows a team that just signed in.
pub const CACHE_CONTROL: &str = "public, max-age=30";

const SPENT: &str = "Too many availability requests from here. Try again in a minute.";

pub async fn get(
    app: &App,
    req: &ApiRequest,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    // Before the company is looked up: probing ids spends the budget as well.
    let source = source_tag(app, req).await?;
    edge::budgets::spend(&app.ctx, &AVAILABILITY_PER_SOURCE, &source, SPENT).await?;
    let db = &app.ctx.db;
    let record = db
        .companies()
        .get(company)
        .await?
        .ok_or(ApiError::NotFound(CompanyId::NOT_FOUND))?;
    let reads = db.availability();
    let (online, first_responses) =
        tokio::try_join!(reads.online(company), reads.recent_first_responses(company))?;
    let answer = Availability {
        company: PublicCompany { name: &record.name },
        online,
        open_now: availability::open_now(record.business_hours.as_ref(), clock::now_millis()),
        typically_replies_within_minutes: availability::typical_reply_minutes(&first_responses),
    };
    let mut response = envelope::data(StatusCode::OK, answer);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    Ok(response)
}

/// A keyed tag of the caller's address (budget items never hold an address).
async fn source_tag(app: &App, req: &ApiRequest) -> Result<String, ApiError> {
    app.ctx
        .keys()
        .await?
        .source_tags(req.source())
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("no key version signs"))
}

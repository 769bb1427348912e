//! The team's live stream: `POST /api/companies/{company_id}/realtime-ticket` mints the
//! single-use URL of a WebSocket that hears every chat of the company the member sees
//! (the `realtime` function opens it, the `fanout` function feeds it). It lives here, not
//! in `realtime`, for the reason the chat's ticket lives in `chats`: minting needs the
//! caller's API token verified, and only the HTTP functions hold the keys for that.

use domain::clock;
use domain::ids::CompanyId;
use domain::rate_limit::Taken;
use domain::realtime::{TICKET_TTL_MS, TICKETS, TeamSocketRecord, TeamTicketRecord};
use domain::team::Action;
use edge::access::company_member;
use edge::auth::Operator;
use edge::{ApiError, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;
use services::random::random_token_string;

use crate::App;

/// Any member may open the stream (what it then hears is what it sees); a non-member
/// gets the company's 404. Tickets count against the same per-minute budget as a
/// chat's, under a key of the company's stream.
pub async fn realtime_ticket(
    app: &App,
    operator: &Operator,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let membership = company_member(operator, company, Action::Read)?;
    let realtime_url = app
        .ctx
        .config
        .require_realtime_url()
        .map_err(ApiError::internal)?;
    let now = clock::now_millis();
    let user_id = operator.user.id;
    if let Taken::Exceeded { retry_after_secs } = app
        .ctx
        .db
        .rate_counters()
        .take(
            &TICKETS,
            &TeamSocketRecord::limit_key(company, user_id),
            now,
        )
        .await?
    {
        return Err(ApiError::TooManyRequests {
            message: "Too many realtime tickets: reconnect with the ones you have, or wait.",
            retry_after_secs,
        });
    }
    let ticket = random_token_string(32)?;
    let record = TeamTicketRecord {
        company_id: company,
        user_id,
        token_id: operator.token.id,
        membership,
        expires_at_ms: now + TICKET_TTL_MS,
    };
    app.ctx
        .db
        .sockets()
        .issue_team_ticket(&ticket, &record)
        .await?;
    Ok(envelope::data(
        StatusCode::CREATED,
        json!({
            "url": format!("{realtime_url}?ticket={ticket}"),
            "expires_at": clock::rfc3339(record.expires_at_ms),
        }),
    ))
}

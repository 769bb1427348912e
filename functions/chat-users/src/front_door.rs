//! A company's front door: how a visitor opens its own conversation with the company's
//! team, by proving its email with a code (`send-code`, `get-token`) or, logged in on the
//! company's site, by the site's signed word (`identify`). Either way the visitor gets
//! its one conversation (made at the first visit, the same one after) and a chat-user
//! token for it. Conversations are made by a public route: each source may make only a
//! few (the company cannot be filled by a stranger), and wrong codes and bad identity
//! tokens count per source.

use domain::auth_code::CodeScope;
use domain::clock;
use domain::company::CompanyRecord;
use domain::ids::CompanyId;
use domain::rate_limit::{Limit, Taken};
use domain::text::{Email, Name};
use edge::access::NO_SUCH_COMPANY;
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, FieldErrors, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use services::identity;
use storage::conversations::{NewVisitor, Opened, Visitor};

use crate::App;
use crate::codes::{
    CODE_SENT_RECENTLY, Presented, SENDS_PER_ADDRESS, SENDS_PER_SOURCE, code_sources, plan_send,
    queue_code, settle_presented, tag, take_all, throttled,
};

const HOUR_MS: i64 = 3600 * 1000;

/// New conversations one source address may open with one company: a few people behind
/// one address (an office) get theirs; a stranger cannot fill the company's inbox.
pub const NEW_CONVERSATIONS_PER_SOURCE: [Limit; 2] = [
    Limit {
        name: "conversations-source",
        max: 20,
        window_ms: HOUR_MS,
    },
    Limit {
        name: "conversations-source-day",
        max: 50,
        window_ms: 24 * HOUR_MS,
    },
];

/// Refused identity tokens from one source address for one company: a guesser is
/// stopped after 10 in a quarter of an hour, 30 in a day.
pub const IDENTIFY_FAILURES_PER_SOURCE: [Limit; 2] = [
    Limit {
        name: "identify-failures-source",
        max: 10,
        window_ms: 15 * 60 * 1000,
    },
    Limit {
        name: "identify-failures-source-day",
        max: 30,
        window_ms: 24 * HOUR_MS,
    },
];

const ACCEPTED: &str = "A code is on its way to this address.";
const NO_CONVERSATION: &str = "This company takes no new conversations now.";

/// The key a company's per-source limits count under.
async fn source_key(app: &App, req: &ApiRequest, company: CompanyId) -> Result<String, ApiError> {
    Ok(format!(
        "company#{company}#{}",
        tag(app, req.source()).await?
    ))
}

/// `POST /api/companies/{company_id}/conversations/send-code` `{email, name?}`: mails a
/// code that opens the visitor's conversation (made by the first `get-token`). The
/// throttles of the chats' codes hold: one email a minute and ten an hour per address
/// and source, fifty sends an hour per source, ten an hour per address from anywhere.
pub async fn send_code(
    app: &App,
    req: &ApiRequest,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let answer_after = tokio::time::Instant::now() + app.ctx.config.code_answer_floor;
    let mut fields = Fields::new(&req.body);
    let email = fields.required::<Email>("email");
    let name = fields.optional::<Name>("name");
    let (email, name) = fields.finish_with(|| Some((email?, name)))?;
    let source = code_sources(app, req)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("no key version signs"))?;
    let lookup = app
        .ctx
        .db
        .auth_codes()
        .lookup_company(company, email.as_str(), std::slice::from_ref(&source))
        .await?;
    lookup.company.ok_or(ApiError::NotFound(NO_SUCH_COMPANY))?;
    let own = lookup.codes.into_iter().next().map(|(_, code)| code);
    let plan = plan_send(own.as_ref(), clock::now_millis()).map_err(throttled)?;
    let by_source = source_key(app, req, company).await?;
    let by_address = format!("company#{company}#{}", tag(app, email.as_str()).await?);
    take_all(
        app,
        &[
            (&SENDS_PER_SOURCE, by_source.as_str()),
            (&SENDS_PER_ADDRESS, by_address.as_str()),
        ],
        CODE_SENT_RECENTLY,
    )
    .await?;
    queue_code(
        app,
        CodeScope::Company(company),
        &email,
        source,
        plan,
        true,
        name.map(Name::into_inner),
    )
    .await?;
    tokio::time::sleep_until(answer_after).await;
    Ok(envelope::message(StatusCode::ACCEPTED, ACCEPTED))
}

/// `POST /api/companies/{company_id}/conversations/get-token` `{email, auth_code}`: the
/// visitor's conversation with this company and a chat-user token for it.
pub async fn get_token(
    app: &App,
    req: &ApiRequest,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let presented = Presented::parse(req)?;
    let sources = code_sources(app, req).await?;
    let lookup = app
        .ctx
        .db
        .auth_codes()
        .lookup_company(company, presented.email.as_str(), &sources)
        .await?;
    let company_record = lookup.company.ok_or(ApiError::NotFound(NO_SUCH_COMPANY))?;
    // The name the visitor gave with its code (the newest of its codes that has one).
    let given_name = lookup
        .codes
        .iter()
        .filter_map(|(_, code)| code.name.clone())
        .next();
    let guesser = source_key(app, req, company).await?;
    settle_presented(
        app,
        CodeScope::Company(company),
        &guesser,
        &presented,
        lookup.codes,
    )
    .await?;
    let email = presented.email.as_str();
    let visitor = NewVisitor {
        name: given_name.unwrap_or_else(|| default_name(email)),
        email: Some(email.to_owned()),
    };
    open(app, req, &company_record, Visitor::Email(email), &visitor).await
}

/// What a visitor that gave no name is called: its address's local part.
fn default_name(email: &str) -> String {
    email.split('@').next().unwrap_or(email).to_owned()
}

/// `POST /api/companies/{company_id}/conversations/identify` `{token}`: a visitor the
/// company's site vouches for with an HS256 JWT signed by the company's identity secret
/// (`sub` required, `name` and `email` optional, `exp` at most a day ahead). The
/// conversation is the `sub`'s, never the email's: an address the site did not verify
/// cannot open another visitor's history.
pub async fn identify(
    app: &App,
    req: &ApiRequest,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let token = match req.body.get("token") {
        Some(serde_json::Value::String(token)) if !token.is_empty() => token.clone(),
        _ => return Err(FieldErrors::single("token", "The token field is required.")),
    };
    let counters = app.ctx.db.rate_counters();
    let now = clock::now_millis();
    let by_source = source_key(app, req, company).await?;
    if let Taken::Exceeded { retry_after_secs } = counters
        .check_all(&IDENTIFY_FAILURES_PER_SOURCE, &by_source, now)
        .await?
    {
        return Err(too_many_refusals(retry_after_secs));
    }
    let company_record = app
        .ctx
        .db
        .companies()
        .get(company)
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_COMPANY))?;
    let secrets = app.ctx.db.identity_secrets().get(company).await?;
    let verified = secrets
        .as_ref()
        .map(|secrets| identity::verify(&token, &secrets.verifying(now), now / 1000));
    let identity = match verified {
        Some(Ok(identity)) => identity,
        refused => {
            for limit in IDENTIFY_FAILURES_PER_SOURCE {
                if let Taken::Exceeded { retry_after_secs } =
                    counters.take(&limit, &by_source, now).await?
                {
                    return Err(too_many_refusals(retry_after_secs));
                }
            }
            let message = match refused {
                None => {
                    "This company has no identity secret: its site cannot identify visitors yet."
                }
                _ => {
                    "The token is not valid: it must be an HS256 JWT signed with the company's identity secret, with sub and an exp at most 24 hours ahead."
                }
            };
            return Err(FieldErrors::single("token", message));
        }
    };
    let name = identity
        .name
        .as_deref()
        .and_then(|name| Name::parse("name", name).ok())
        .map(Name::into_inner);
    let email = identity
        .email
        .as_deref()
        .and_then(Email::normalized)
        .map(|email| email.as_str().to_owned());
    let visitor = NewVisitor {
        name: name.unwrap_or_else(|| "Visitor".to_owned()),
        email,
    };
    open(
        app,
        req,
        &company_record,
        Visitor::Subject(identity.sub.trim()),
        &visitor,
    )
    .await
}

fn too_many_refusals(retry_after_secs: u64) -> ApiError {
    ApiError::TooManyRequests {
        message: "Too many refused identity tokens from here. Wait, then try again.",
        retry_after_secs,
    }
}

/// The visitor's conversation (found, or made within the source's budget) and a token
/// for it: `{token, token_type, expires_at, chat_user, chat}`.
async fn open(
    app: &App,
    req: &ApiRequest,
    company: &CompanyRecord,
    visitor: Visitor<'_>,
    new: &NewVisitor,
) -> Result<Response<Body>, ApiError> {
    let conversations = app.ctx.db.conversations();
    if conversations.find(company.id, visitor).await?.is_none() {
        let by_source = source_key(app, req, company.id).await?;
        let now = clock::now_millis();
        for limit in &NEW_CONVERSATIONS_PER_SOURCE {
            if let Taken::Exceeded { retry_after_secs } = app
                .ctx
                .db
                .rate_counters()
                .take(limit, &by_source, now)
                .await?
            {
                return Err(ApiError::TooManyRequests {
                    message: "Too many new conversations from here. Wait, then try again.",
                    retry_after_secs,
                });
            }
        }
    }
    let (chat, chat_user) = match conversations.open(company, visitor, new).await? {
        Opened::Ready {
            chat, chat_user, ..
        } => (chat, chat_user),
        Opened::NoSuchCompany => return Err(ApiError::NotFound(NO_SUCH_COMPANY)),
        Opened::AtCap => return Err(ApiError::Conflict(NO_CONVERSATION)),
    };
    tracing::info!(chat_id = %chat.id, chat_user_id = %chat_user.id, "visitor token issued");
    let mut body = crate::token_body(app, &chat_user).await?;
    body["chat"] = serde_json::to_value(chat.resource().for_guest()).map_err(ApiError::internal)?;
    Ok(envelope::data(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_without_a_name_is_called_by_its_address() {
        assert_eq!(default_name("ann.lee@example.com"), "ann.lee");
    }
}

//! The support desk's routes of `chats`: a conversation's assignee and status, and the
//! company's inbox. Who may do what is the domain's role table (`Action::Answer` for
//! every member, `Action::AssignOthers` to assign someone else), asked through the
//! edge's `access`.

use domain::chat::{ChatResource, ConversationStatus, GuestSummary, LastMessageResource};
use domain::clock;
use domain::ids::{CompanyId, EntityId, UserId};
use domain::jobs::{MailJob, WakeJob};
use domain::message::UNREAD_WINDOW;
use domain::rate_limit::budgets::CHAT_CHANGES;
use domain::team::Action;
use edge::access::{self, NO_SUCH_CHAT, ROLE_TOO_LOW};
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, FieldErrors, auth, budgets, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;
use storage::conversations::{StateChange, StateChanged};
use storage::inbox::{AssigneeFilter, InboxQuery, InboxRow, InboxSort};

use crate::App;

const NOT_A_CONVERSATION: &str =
    "This chat is a room: only a conversation has an assignee and a status.";

/// The longest a conversation may be snoozed.
const MAX_SNOOZE_MS: i64 = 365 * 24 * 3600 * 1000;

/// `POST /api/chats/{chat_id}/assign` `{assignee_id}` (`null` unassigns): an agent may
/// assign the conversation to itself or take itself off it; admins and the owner assign
/// it to any active member.
pub async fn assign(
    app: &App,
    req: &ApiRequest,
    chat: domain::ids::ChatId,
) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let (membership, chat) = access::staff_chat(&app.ctx, &operator, chat, Action::Answer).await?;
    let mut fields = Fields::new(&req.body);
    let assignee = fields.nullable::<UserId>("assignee_id");
    fields.finish()?;
    let Some(assignee) = assignee else {
        return Err(FieldErrors::single(
            "assignee_id",
            "The assignee_id field is required (null unassigns).",
        ));
    };
    if !chat.is_conversation() {
        return Err(ApiError::Conflict(NOT_A_CONVERSATION));
    }
    let me = operator.user.id;
    let only_me = match assignee {
        Some(user) => user == me,
        None => chat.assignee_id.is_none_or(|current| current == me),
    };
    if !only_me && !membership.allows(Action::AssignOthers) {
        return Err(ApiError::Forbidden(ROLE_TOO_LOW));
    }
    if let Some(user) = assignee
        && app
            .ctx
            .db
            .members()
            .get(chat.company_id, user)
            .await?
            .is_none()
    {
        return Err(FieldErrors::single(
            "assignee_id",
            "The assignee_id must be the user id of an active member of the company.",
        ));
    }
    spend(app, &operator).await?;
    let changed = operator
        .db(&app.ctx)
        .conversations()
        .change_state(&chat, &StateChange::Assign(assignee))
        .await?;
    answer(changed)
}

/// `POST /api/chats/{chat_id}/status` `{status, snoozed_until?}`: any member who sees the
/// conversation; `snoozed` needs a future `snoozed_until` (at most a year ahead), after
/// which the conversation is open again by itself.
pub async fn status(
    app: &App,
    req: &ApiRequest,
    chat: domain::ids::ChatId,
) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let (_, chat) = access::staff_chat(&app.ctx, &operator, chat, Action::Answer).await?;
    let mut fields = Fields::new(&req.body);
    let status = fields.required::<ConversationStatus>("status");
    let until = match req.body.get("snoozed_until") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(text)) => Some(text.clone()),
        Some(_) => {
            fields.error("snoozed_until", "The snoozed_until field must be a string.");
            None
        }
    };
    let status = fields.finish_with(|| status)?;
    if !chat.is_conversation() {
        return Err(ApiError::Conflict(NOT_A_CONVERSATION));
    }
    let now = clock::now_millis();
    let snoozed_until = match (status, until) {
        (ConversationStatus::Snoozed, Some(until)) => {
            let at = clock::parse_rfc3339(&until)
                .filter(|at| *at > now && *at - now <= MAX_SNOOZE_MS)
                .ok_or_else(|| {
                    FieldErrors::single(
                        "snoozed_until",
                        "The snoozed_until field must be a time (RFC 3339) in the future, at most a year ahead.",
                    )
                })?;
            Some((clock::rfc3339(at), at))
        }
        (ConversationStatus::Snoozed, None) => {
            return Err(FieldErrors::single(
                "snoozed_until",
                "The snoozed_until field is required to snooze a conversation.",
            ));
        }
        (_, Some(_)) => {
            return Err(FieldErrors::single(
                "snoozed_until",
                "The snoozed_until field goes only with the status snoozed.",
            ));
        }
        (_, None) => None,
    };
    spend(app, &operator).await?;
    let change = StateChange::Status {
        status,
        snoozed_until: snoozed_until.as_ref().map(|(text, _)| text.clone()),
    };
    let changed = operator
        .db(&app.ctx)
        .conversations()
        .change_state(&chat, &change)
        .await?;
    if let (StateChanged::Done(chat), Some((until, at))) = (&changed, snoozed_until) {
        let job = MailJob::Wake(WakeJob {
            chat_id: chat.id,
            snoozed_until: until,
            wake_at_ms: at,
        });
        let wait = std::time::Duration::from_millis(u64::try_from(at - now).unwrap_or(0));
        app.wake_jobs.send(&job, wait).await?;
    }
    answer(changed)
}

fn answer(changed: StateChanged) -> Result<Response<Body>, ApiError> {
    match changed {
        StateChanged::Done(chat) | StateChanged::Unchanged(chat) => {
            Ok(envelope::data(StatusCode::OK, chat.resource()))
        }
        StateChanged::Gone => Err(ApiError::NotFound(NO_SUCH_CHAT)),
    }
}

async fn spend(app: &App, operator: &auth::Operator) -> Result<(), ApiError> {
    budgets::spend(
        &app.ctx,
        &CHAT_CHANGES,
        &operator.budget_key(),
        "Too many chat changes. Wait, then try again.",
    )
    .await
}

/// One inbox row: the conversation as members see it, its guest, its newest message
/// and the caller's unread count.
#[derive(Serialize)]
struct InboxRowResource<'a> {
    #[serde(flatten)]
    chat: ChatResource<'a>,
    guest: Option<&'a GuestSummary>,
    last_message: Option<LastMessageResource<'a>>,
    unread_count: u64,
}

impl<'a> InboxRowResource<'a> {
    fn of(row: &'a InboxRow) -> Self {
        let seen = row.read.as_ref().map_or(0, |read| read.read_count);
        Self {
            chat: row.chat.resource(),
            guest: row.chat.guest.as_ref(),
            last_message: row
                .chat
                .last_message
                .as_ref()
                .map(|message| LastMessageResource {
                    message,
                    created_at: row
                        .chat
                        .last_message_at
                        .as_deref()
                        .unwrap_or(&row.chat.updated_at),
                }),
            unread_count: row
                .chat
                .message_count
                .saturating_sub(seen)
                .min(UNREAD_WINDOW as u64),
        }
    }
}

pub const INBOX_PER_PAGE: usize = 25;
pub const MAX_INBOX_PER_PAGE: usize = 50;

/// `GET /api/inbox?company_id=&status=&assignee=me|none|<user id>&sort=recent|waiting`:
/// the company's conversations the caller may see (an agent that sees only its
/// assigned ones gets those whatever it asks).
pub async fn inbox(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let invalid_company = || {
        FieldErrors::single(
            "company_id",
            "The company_id must be one of your companies.",
        )
    };
    let company_id = req
        .query("company_id")
        .and_then(CompanyId::parse)
        .ok_or_else(invalid_company)?;
    let membership = access::authorize(&operator, company_id, Action::Read, CompanyId::NOT_FOUND)
        .map_err(|_| invalid_company())?;
    let status = match req.query("status") {
        None => ConversationStatus::Open,
        Some(raw) => ConversationStatus::parse(raw).ok_or_else(|| {
            FieldErrors::single(
                "status",
                "The status must be open, pending, snoozed or resolved.",
            )
        })?,
    };
    let asked = match req.query("assignee") {
        None => AssigneeFilter::Anyone,
        Some("me") => AssigneeFilter::Member(operator.user.id),
        Some("none") => AssigneeFilter::Unassigned,
        Some(raw) => UserId::parse(raw)
            .map(AssigneeFilter::Member)
            .ok_or_else(|| {
                FieldErrors::single(
                    "assignee",
                    "The assignee must be me, none or a member's user id.",
                )
            })?,
    };
    let assignee = if membership.sees_every_chat() {
        asked
    } else {
        AssigneeFilter::Member(operator.user.id)
    };
    let sort = match req.query("sort") {
        None | Some("recent") => InboxSort::Recent,
        Some("waiting") => InboxSort::Waiting,
        Some(_) => {
            return Err(FieldErrors::single(
                "sort",
                "The sort must be recent or waiting.",
            ));
        }
    };
    let per_page = req.per_page(INBOX_PER_PAGE, MAX_INBOX_PER_PAGE)?;
    let page = app
        .ctx
        .db
        .inbox()
        .page(&InboxQuery {
            company_id,
            status,
            assignee,
            sort,
            per_page,
            cursor: req.cursor(),
            reader: operator.user.id,
        })
        .await?;
    let rows: Vec<InboxRowResource<'_>> = page.rows.iter().map(InboxRowResource::of).collect();
    Ok(envelope::list(&rows, per_page, page.next_cursor))
}

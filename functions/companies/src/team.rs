//! A company's team: `…/members` (list, invite, change, remove) and
//! `POST /api/invitations/accept`.
//!
//! No one becomes a member without accepting: adding a member is always an emailed
//! invitation with a single-use code (24 characters of a 56-letter alphabet, 139 bits;
//! kept only as its digest), valid 7 days, and the answer is the same whether the email
//! has an account or not. What each role may do is the edge's `access` (the domain's
//! one table); the rules between members (admins manage agents and admins, only the
//! owner hands ownership over) are here.

use domain::clock;
use domain::ids::{CompanyId, EntityId, InvitationId, MemberId, UserId};
use domain::rate_limit::{Limit, Taken};
use domain::team::{
    AT_MEMBER_CAP, Action, INVITATION_TTL_MS, InvitationRecord, MemberRecord, Membership, Role,
    Sees,
};
use domain::text::{AccountPassword, Email, InvitationCode, Name};
use domain::user::UserRecord;
use edge::access::company_member;
use edge::auth::{self, Operator};
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, FieldErrors, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;
use services::crypto;
use services::mail::Letter;
use services::random::random_token_string;
use storage::invitations::{Accepted, Invited};
use storage::members::HandedOver;
use storage::users::UserCreated;

use crate::App;

const NO_SUCH_MEMBER: ApiError = ApiError::NotFound(MemberId::NOT_FOUND);

/// Invitations one company may send: its name goes out in each email, so a flood of
/// them is a phishing vector with our sender's reputation.
pub const INVITATIONS_PER_COMPANY: [Limit; 2] = [
    Limit {
        name: "invitations-company",
        max: 20,
        window_ms: 3_600_000,
    },
    Limit {
        name: "invitations-company-day",
        max: 100,
        window_ms: 24 * 3_600_000,
    },
];

/// Wrong invitation codes from one source address.
pub const INVITATION_GUESSES_PER_SOURCE: [Limit; 2] = [
    Limit {
        name: "invitation-guesses-source",
        max: 10,
        window_ms: 15 * 60_000,
    },
    Limit {
        name: "invitation-guesses-source-day",
        max: 30,
        window_ms: 24 * 3_600_000,
    },
];

/// `GET …/members`: active members, then open invitations (any member).
pub async fn list(
    app: &App,
    operator: &Operator,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    company_member(operator, company, Action::Read)?;
    let db = &app.ctx.db;
    let mut members = Vec::new();
    let mut cursor = None;
    loop {
        let page = db.members().list(company, 100, cursor).await?;
        members.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let invitations = db.invitations().of_company(company).await?;
    let now = clock::now_millis();
    let mut items: Vec<_> = members.iter().map(MemberRecord::resource).collect();
    items.extend(
        invitations
            .iter()
            .filter(|invitation| invitation.is_live(now))
            .map(InvitationRecord::resource),
    );
    let count = items.len();
    Ok(envelope::list(&items, count.max(1), None))
}

/// `POST …/members` `{email, role, sees?}`: always an invitation, mailed with its code.
pub async fn invite(
    app: &App,
    req: &ApiRequest,
    operator: &Operator,
    company: CompanyId,
) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let email = fields.required::<Email>("email");
    let role = fields.required::<Role>("role");
    let sees = fields.optional::<Sees>("sees").unwrap_or_default();
    if role == Some(Role::Owner) {
        fields.error(
            "role",
            "An invitation is for an admin or an agent: ownership is handed to a member.",
        );
    }
    let (email, role) = fields.finish_with(|| Some((email?, role?)))?;
    company_member(operator, company, Action::manage(role))?;
    let db = &app.ctx.db;
    let company_record = db
        .companies()
        .get(company)
        .await?
        .ok_or(ApiError::NotFound(CompanyId::NOT_FOUND))?;
    let now = clock::now_millis();
    for limit in &INVITATIONS_PER_COMPANY {
        if let Taken::Exceeded { retry_after_secs } = db
            .rate_counters()
            .take(limit, &company.to_string(), now)
            .await?
        {
            return Err(ApiError::TooManyRequests {
                message: "This company sent as many invitations as it may for now. Wait, then try again.",
                retry_after_secs,
            });
        }
    }
    let code = random_token_string(24)?;
    let invitation = InvitationRecord {
        id: InvitationId::new(),
        company_id: company,
        email: email.as_str().to_owned(),
        role,
        sees,
        invited_by: operator.user.id,
        created_at: clock::rfc3339(now),
        expires_at_ms: now + INVITATION_TTL_MS,
    };
    match db.invitations().insert(&invitation, &code).await? {
        Invited::Invited => {}
        Invited::EmailTaken => {
            return Err(ApiError::Conflict(
                "This email is a member of the company or invited already.",
            ));
        }
        Invited::AtCap => return Err(ApiError::Conflict(AT_MEMBER_CAP)),
        Invited::CompanyGone => return Err(ApiError::NotFound(CompanyId::NOT_FOUND)),
    }
    let link = app
        .accept_page
        .as_deref()
        .map(|page| format!("{page}?code={code}"));
    let letter = Letter::invitation(
        &company_record.name,
        &operator.user.name,
        role.as_str(),
        &code,
        link.as_deref(),
    );
    if let Err(err) = app.mailer.send(&email, &letter).await {
        // Nobody can accept an invitation that never arrived: it goes.
        db.invitations().revoke(&invitation).await?;
        return Err(err.into());
    }
    tracing::info!(company_id = %company, invitation_id = %invitation.id, "invitation sent");
    Ok(envelope::data(StatusCode::CREATED, invitation.resource()))
}

/// The member or invitation a path's `{member_id}` names.
enum Target {
    Member(MemberRecord),
    Invitation(InvitationRecord),
}

async fn target(app: &App, company: CompanyId, id: MemberId) -> Result<Target, ApiError> {
    let db = &app.ctx.db;
    if let Some(member) = db
        .members()
        .get(company, UserId::from_ulid(id.ulid()))
        .await?
    {
        return Ok(Target::Member(member));
    }
    let invitation = db
        .invitations()
        .get(company, InvitationId::from_ulid(id.ulid()))
        .await?
        .ok_or(NO_SUCH_MEMBER)?;
    Ok(Target::Invitation(invitation))
}

/// `PUT …/members/{member_id}` `{role?, sees?}`: the owner changes anyone; an admin
/// changes agents (to agent or admin). `role: "owner"` on an active member hands the
/// company over (owner only): the old owner becomes an admin.
pub async fn change(
    app: &App,
    req: &ApiRequest,
    operator: &Operator,
    company: CompanyId,
    id: MemberId,
) -> Result<Response<Body>, ApiError> {
    company_member(operator, company, Action::Read)?;
    let mut fields = Fields::new(&req.body);
    let role = fields.optional::<Role>("role");
    let sees = fields.optional::<Sees>("sees");
    fields.finish()?;
    let now = clock::now_rfc3339();
    let member = match target(app, company, id).await? {
        Target::Member(member) => member,
        Target::Invitation(_) => {
            return Err(ApiError::Conflict(
                "This is an invitation: withdraw it and invite again to change it.",
            ));
        }
    };
    // Managing the member as it is now, and as it would be.
    company_member(operator, company, Action::manage(member.role))?;
    if let Some(role) = role {
        company_member(operator, company, Action::manage(role))?;
    }
    if role == Some(Role::Owner) && member.role != Role::Owner {
        let from = app
            .ctx
            .db
            .members()
            .get(company, operator.user.id)
            .await?
            .ok_or(ApiError::NotFound(CompanyId::NOT_FOUND))?;
        return match app.ctx.db.members().hand_over(&from, &member, &now).await? {
            HandedOver::Done(new_owner) => Ok(envelope::data(StatusCode::OK, new_owner.resource())),
            HandedOver::TargetAtCap => Err(ApiError::Conflict(
                "That member owns 50 companies, the most one user may have.",
            )),
            HandedOver::Changed => Err(ApiError::Conflict(
                "The company or the member changed meanwhile: read them again.",
            )),
        };
    }
    if member.role == Role::Owner && role.is_some_and(|r| r != Role::Owner) {
        return Err(ApiError::Conflict(
            "The owner stays the owner until it hands ownership to another member.",
        ));
    }
    let membership = Membership {
        role: role.unwrap_or(member.role),
        sees: sees.unwrap_or(member.sees),
    };
    if membership == member.membership() {
        return Ok(envelope::data(StatusCode::OK, member.resource()));
    }
    let changed = app
        .ctx
        .db
        .members()
        .change(&member, membership, &now)
        .await?
        .ok_or(NO_SUCH_MEMBER)?;
    Ok(envelope::data(StatusCode::OK, changed.resource()))
}

/// `DELETE …/members/{member_id}`: the owner removes anyone but itself; an admin removes
/// agents and admins; any member removes itself (leaves); an invitation is withdrawn.
/// A removed member's next request is a 404 and its sockets to the company close.
pub async fn remove(
    app: &App,
    operator: &Operator,
    company: CompanyId,
    id: MemberId,
) -> Result<Response<Body>, ApiError> {
    company_member(operator, company, Action::Read)?;
    let db = &app.ctx.db;
    match target(app, company, id).await? {
        Target::Invitation(invitation) => {
            company_member(operator, company, Action::manage(invitation.role))?;
            if !db.invitations().revoke(&invitation).await? {
                return Err(NO_SUCH_MEMBER);
            }
            Ok(envelope::data(StatusCode::OK, invitation.resource()))
        }
        Target::Member(member) => {
            if member.role == Role::Owner {
                return Err(ApiError::Conflict(
                    "The owner cannot be removed: it hands ownership to another member first.",
                ));
            }
            if member.user_id != operator.user.id {
                company_member(operator, company, Action::manage(member.role))?;
            }
            if !db.members().remove(company, member.user_id).await? {
                return Err(NO_SUCH_MEMBER);
            }
            Ok(envelope::data(StatusCode::OK, member.resource()))
        }
    }
}

const INVALID_CODE: &str = "The code is invalid or has expired.";

/// `POST /api/invitations/accept` `{email, code, name?, password?}`: for an email without
/// an account, `name` and `password` create it; an email with one accepts with that
/// user's API token. Answers as `POST /api/tokens` does, with the company's id.
pub async fn accept(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let email = fields.required::<Email>("email");
    let code = fields.required::<InvitationCode>("code");
    let name = fields.optional::<Name>("name");
    let password = fields.optional::<AccountPassword>("password");
    let (email, code) = fields.finish_with(|| Some((email?, code?)))?;
    let db = &app.ctx.db;
    let now = clock::now_millis();
    let guesser = format!("accept#{}", req.source());
    if let Taken::Exceeded { retry_after_secs } = db
        .rate_counters()
        .check_all(&INVITATION_GUESSES_PER_SOURCE, &guesser, now)
        .await?
    {
        return Err(too_many_guesses(retry_after_secs));
    }
    let invitation = db
        .invitations()
        .by_code(code.as_str())
        .await?
        .filter(|invitation| invitation.is_live(now) && invitation.email == email.as_str());
    let Some(invitation) = invitation else {
        // A wrong code costs the source a guess, never the invitation anything.
        for limit in &INVITATION_GUESSES_PER_SOURCE {
            if let Taken::Exceeded { retry_after_secs } =
                db.rate_counters().take(limit, &guesser, now).await?
            {
                return Err(too_many_guesses(retry_after_secs));
            }
        }
        return Err(FieldErrors::single("code", INVALID_CODE));
    };
    let user = match req.bearer.is_some() {
        // An account accepts with its own API token, for its own email.
        true => {
            let operator = auth::operator(&app.ctx, req).await?;
            if operator.user.email != invitation.email {
                return Err(FieldErrors::single(
                    "email",
                    "This invitation is for another email than the token's user.",
                ));
            }
            operator.user
        }
        false => new_user(app, &email, name, password).await?,
    };
    let at = clock::rfc3339(now);
    match db
        .invitations()
        .accept(&invitation, code.as_str(), &user, &at)
        .await?
    {
        Accepted::Accepted => {}
        Accepted::Gone => return Err(FieldErrors::single("code", INVALID_CODE)),
    }
    tracing::info!(company_id = %invitation.company_id, user_id = %user.id, "invitation accepted");
    let mut issued = edge::api_tokens::issue(&app.ctx, &user, "console").await?;
    issued["user"] = json!(user.resource());
    issued["company_id"] = json!(invitation.company_id);
    Ok(envelope::data(StatusCode::CREATED, issued))
}

/// The account an invitation creates: its email (the one the code went to), a name and
/// a password. An email that has an account already must accept with its token.
async fn new_user(
    app: &App,
    email: &Email,
    name: Option<Name>,
    password: Option<AccountPassword>,
) -> Result<UserRecord, ApiError> {
    let mut errors = FieldErrors::new();
    if name.is_none() {
        errors.add("name", "The name field is required to create your account.");
    }
    if password.is_none() {
        errors.add(
            "password",
            "The password field is required to create your account.",
        );
    }
    let (Some(name), Some(password)) = (name, password) else {
        errors.into_result()?;
        return Err(ApiError::internal("a missing field was not named"));
    };
    let now = clock::now_rfc3339();
    let user = UserRecord {
        id: UserId::new(),
        email: email.as_str().to_owned(),
        name: name.into_inner(),
        password_hash: crypto::hash_password(password.as_str())?,
        created_at: now.clone(),
        updated_at: now,
        memberships: Default::default(),
    };
    match app.ctx.db.users().create(&user).await? {
        UserCreated::Created => Ok(user),
        UserCreated::EmailTaken => Err(FieldErrors::single(
            "email",
            "This email has an account: sign in and accept with its API token.",
        )),
    }
}

fn too_many_guesses(retry_after_secs: u64) -> ApiError {
    ApiError::TooManyRequests {
        message: "Too many wrong invitation codes from here. Wait, then try again.",
        retry_after_secs,
    }
}

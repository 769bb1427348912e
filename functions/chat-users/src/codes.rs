//! Auth codes: `send-code` and `get-token`.
//!
//! The code item (see storage's `auth_codes`) holds the current code's keyed hash, its
//! expiry and wrong tries, and the send throttle; every write to it is conditional on the
//! version read. What to do with what was read is decided by the pure functions
//! [`plan_send`] and [`judge_code`], tested without DynamoDB below. A request keeps the
//! bookkeeping (the throttle, a code item waiting for its code); the code itself is made
//! and mailed by the `notify` function, from a job on the mail queue, so the request
//! answers without waiting for SES and its timing says nothing of who is a member.

use domain::auth_code::{AuthCodeRecord, CODE_TTL_MS, CodeAttempt, CodeScope, CodeSource};
use domain::chat::ChatRecord;
use domain::clock;
use domain::ids::{ChatId, ChatUserId};
use domain::jobs::{CodeJob, MailJob};
use domain::rate_limit::{Limit, Taken};
use domain::text::{AuthCode, Email, Name, PresentedPassword};
use edge::access::NO_SUCH_CHAT;
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, FieldErrors, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use services::crypto;
use services::random::random_token_string;
use storage::chat_user_changes::Verified;
use storage::chat_users::ChatUserInserted;

use crate::App;

pub const MAX_CODE_ATTEMPTS: u32 = 5;
pub const RESEND_AFTER_MS: i64 = 60 * 1000;
pub const MAX_SENDS_PER_HOUR: u32 = 10;
const HOUR_MS: i64 = 3600 * 1000;

const ACCEPTED: &str = "If the address can join this chat, a code is on its way.";
const WRONG_PASSWORD: &str = "The chat password is not correct.";
const INVALID_CODE: &str = "The auth code is invalid or has expired.";

pub(crate) fn invalid_code() -> ApiError {
    FieldErrors::single("auth-code", INVALID_CODE)
}

struct SendCodeInput {
    email: Email,
    password: Option<PresentedPassword>,
    name: Option<Name>,
}

impl SendCodeInput {
    fn parse(req: &ApiRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::new(&req.body);
        let email = fields.required::<Email>("email");
        let password = fields.optional::<PresentedPassword>("password");
        let name = fields.optional::<Name>("name");
        fields.finish_with(|| {
            Some(SendCodeInput {
                email: email?,
                password,
                name,
            })
        })
    }
}

/// Wrong chat passwords from one source address for one chat: a guesser is stopped after
/// 10 in a quarter of an hour, and one that keeps coming back after 30 in a day. Only
/// sources are stopped, never the chat: no handful of addresses can keep every new
/// visitor out (a guesser with many addresses is held by the password's strength, see
/// the domain's `guessable`).
pub const WRONG_PASSWORDS_PER_SOURCE: [Limit; 2] = [
    Limit {
        name: "chat-password-source",
        max: 10,
        window_ms: 15 * 60 * 1000,
    },
    Limit {
        name: "chat-password-source-day",
        max: 30,
        window_ms: 24 * HOUR_MS,
    },
];

/// New chat users joining by password from one source address, per chat: a known password
/// does not make an endless supply of addresses (plus-addressing, dots) into codes and
/// stored chat users. 20 an hour, 50 a day. A source past them gets the answer everyone
/// gets (202) and no new chat user: the budget tells nobody who is a member.
pub const NEW_JOINERS_PER_SOURCE: [Limit; 2] = [
    Limit {
        name: "joiners-source",
        max: 20,
        window_ms: HOUR_MS,
    },
    Limit {
        name: "joiners-source-day",
        max: 50,
        window_ms: 24 * HOUR_MS,
    },
];
/// Codes asked for from one source address in one chat, whatever the addresses: one
/// source cannot spray a chat's members with codes.
pub const SENDS_PER_SOURCE: Limit = Limit {
    name: "code-sends-source",
    max: 50,
    window_ms: HOUR_MS,
};
/// Codes asked for one address in one chat from all sources together, when the caller
/// did not give the chat password: bounds the mail a stranger can aim at one guest.
/// A caller with the chat password is not held by it (see the README's worst case).
pub const SENDS_PER_ADDRESS: Limit = Limit {
    name: "code-sends-address",
    max: 10,
    window_ms: HOUR_MS,
};

/// The keys a chat's limits count under: the chat, and the chat with a keyed tag of the
/// caller's address (limit items never hold an address or an email).
async fn limit_keys(
    app: &App,
    req: &ApiRequest,
    chat: &ChatRecord,
) -> Result<(String, String), ApiError> {
    Ok((
        chat.id.to_string(),
        format!("{}#{}", chat.id, tag(app, req.source()).await?),
    ))
}

/// A keyed tag of `value` under the current key version.
pub(crate) async fn tag(app: &App, value: &str) -> Result<String, ApiError> {
    app.ctx
        .keys()
        .await?
        .source_tags(value)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("no key version signs"))
}

/// The caller's code sources: a keyed tag of its address under each key version that
/// may verify, the current one (which new codes are kept under) first.
pub(crate) async fn code_sources(app: &App, req: &ApiRequest) -> Result<Vec<CodeSource>, ApiError> {
    let tags = app.ctx.keys().await?.source_tags(req.source()).await?;
    Ok(tags.into_iter().map(CodeSource::Caller).collect())
}

/// Counts one use against each `(limit, key)` in turn; the first one spent is a 429.
pub(crate) async fn take_all(
    app: &App,
    budgets: &[(&Limit, &str)],
    message: &'static str,
) -> Result<(), ApiError> {
    let now = clock::now_millis();
    for (limit, key) in budgets {
        if let Taken::Exceeded { retry_after_secs } =
            app.ctx.db.rate_counters().take(limit, key, now).await?
        {
            return Err(ApiError::TooManyRequests {
                message,
                retry_after_secs,
            });
        }
    }
    Ok(())
}

fn too_many_wrong_passwords(retry_after_secs: u64) -> ApiError {
    ApiError::TooManyRequests {
        message: "Too many wrong chat passwords. Wait, then try again.",
        retry_after_secs,
    }
}

/// Whether a presented password lets a new email join: none given is "no"; a wrong one
/// is a 403 whatever the email, so nothing about the email shows. Wrong ones count
/// against [`WRONG_PASSWORDS_PER_SOURCE`]; once it is spent, no password from that source
/// is checked (429, members and strangers alike) until its window ends: answering a
/// right one then would let the guessing go on.
async fn may_join(
    app: &App,
    req: &ApiRequest,
    given: Option<&PresentedPassword>,
    chat: &ChatRecord,
) -> Result<bool, ApiError> {
    let Some(given) = given else {
        return Ok(false);
    };
    let counters = app.ctx.db.rate_counters();
    let now = clock::now_millis();
    let (_, source_key) = limit_keys(app, req, chat).await?;
    if let Taken::Exceeded { retry_after_secs } = counters
        .check_all(&WRONG_PASSWORDS_PER_SOURCE, &source_key, now)
        .await?
    {
        return Err(too_many_wrong_passwords(retry_after_secs));
    }
    if let Some(expected) = &chat.password
        && crypto::constant_time_eq(given.as_str(), expected)
    {
        return Ok(true);
    }
    for limit in &WRONG_PASSWORDS_PER_SOURCE {
        if let Taken::Exceeded { retry_after_secs } = counters.take(limit, &source_key, now).await?
        {
            return Err(too_many_wrong_passwords(retry_after_secs));
        }
    }
    Err(ApiError::Forbidden(WRONG_PASSWORD))
}

/// `POST /chats/{chat_id}/users/send-code`: `email`, and `name` + `password` to join.
///
/// Members and strangers get the same answers after the same bookkeeping: a stranger's
/// code is made, kept and throttled like a member's, only never mailed; the code is made
/// and mailed off the request (see the module's notes), and every 202 takes at least
/// `CODE_ANSWER_FLOOR_MS`, so nothing the work costs shows in the timing. Codes are kept
/// per source address (see `CodeSource`), so a stranger asking for or guessing at a
/// guest's code touches nothing of the guest's.
pub async fn send_code(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
) -> Result<Response<Body>, ApiError> {
    let answer_after = tokio::time::Instant::now() + app.ctx.config.code_answer_floor;
    let input = SendCodeInput::parse(req)?;
    let email = &input.email;
    let source = code_sources(app, req)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("no key version signs"))?;
    // The chat, whether the email is in it, and this source's code: one round trip.
    let lookup = app
        .ctx
        .db
        .auth_codes()
        .lookup(chat, email.as_str(), std::slice::from_ref(&source))
        .await?;
    let own = lookup.codes.into_iter().next().map(|(_, code)| code);
    let chat = lookup.chat.ok_or(ApiError::NotFound(NO_SUCH_CHAT))?;
    let with_password = may_join(app, req, input.password.as_ref(), &chat).await?;
    // Joining takes a name; asked of members too, or its absence would tell them apart.
    if with_password && input.name.is_none() {
        return Err(FieldErrors::single(
            "name",
            "The name field is required with the chat password.",
        ));
    }
    let plan = plan_send(own.as_ref(), clock::now_millis()).map_err(throttled)?;
    let (_, source_key) = limit_keys(app, req, &chat).await?;
    let address_key = format!("{}#{}", chat.id, tag(app, email.as_str()).await?);
    let mut budgets = vec![(&SENDS_PER_SOURCE, source_key.as_str())];
    if !with_password {
        budgets.push((&SENDS_PER_ADDRESS, address_key.as_str()));
    }
    take_all(app, &budgets, CODE_SENT_RECENTLY).await?;
    let mailed = match (lookup.member, input.name) {
        (Some(_), _) => true,
        (None, Some(name)) if with_password => join(app, req, &chat, email, name).await?,
        // A stranger: a code nobody will see, so its bookkeeping matches a member's.
        (None, _) => false,
    };
    queue_code(
        app,
        CodeScope::Chat(chat.id),
        email,
        source,
        plan,
        mailed,
        None,
    )
    .await?;
    tokio::time::sleep_until(answer_after).await;
    Ok(envelope::message(StatusCode::ACCEPTED, ACCEPTED))
}

/// A new chat user by the chat password, within the source's joiner budget: `false` when
/// it is spent (nobody joined, and the caller is told what everyone is told).
async fn join(
    app: &App,
    req: &ApiRequest,
    chat: &ChatRecord,
    email: &Email,
    name: Name,
) -> Result<bool, ApiError> {
    let (_, source_key) = limit_keys(app, req, chat).await?;
    let now = clock::now_millis();
    for limit in &NEW_JOINERS_PER_SOURCE {
        if let Taken::Exceeded { .. } = app
            .ctx
            .db
            .rate_counters()
            .take(limit, &source_key, now)
            .await?
        {
            return Ok(false);
        }
    }
    match crate::insert(&app.ctx.db, chat, email, name, crate::Joined::ByEmail)
        .await?
        .1
    {
        // A concurrent join with the same email won the insert: it exists now.
        ChatUserInserted::Inserted | ChatUserInserted::EmailTaken => Ok(true),
        ChatUserInserted::ChatGone => Err(ApiError::NotFound(NO_SUCH_CHAT)),
        // Joiners are counted once verified (see get-token); never refused here.
        ChatUserInserted::ChatFull => Err(crate::CHAT_FULL),
    }
}

/// The owner's "send a code" for a chat user it adds: the code the guest enters from
/// wherever it is, outside the callers' budgets.
pub async fn issue_and_send(app: &App, chat: &ChatRecord, email: &Email) -> Result<(), ApiError> {
    let source = CodeSource::Owner;
    let scope = CodeScope::Chat(chat.id);
    let current = app
        .ctx
        .db
        .auth_codes()
        .get(scope, email.as_str(), &source)
        .await?;
    let plan = plan_send(current.as_ref(), clock::now_millis()).map_err(throttled)?;
    queue_code(app, scope, email, source, plan, true, None).await
}

/// Keeps the new code's bookkeeping over the item `plan` was made from (the throttle,
/// and an item that waits for its code: until the job sets it, no code opens anything),
/// then queues the job that makes the code and, when `mailed`, mails it. `name`: what a
/// visitor at a company's front door calls itself.
pub(crate) async fn queue_code(
    app: &App,
    scope: CodeScope,
    email: &Email,
    source: CodeSource,
    plan: SendPlan,
    mailed: bool,
    name: Option<String>,
) -> Result<(), ApiError> {
    let now = clock::now_millis();
    let job_id = random_token_string(16)?;
    let record = AuthCodeRecord {
        code_digest: None,
        expires_at_ms: now + CODE_TTL_MS,
        failed_attempts: 0,
        last_sent_ms: now,
        window_start_ms: plan.window_start_ms,
        sent_in_window: plan.sent_in_window + 1,
        version: plan.previous_version + 1,
        made_by_job: Some(job_id.clone()),
        name,
    };
    // DynamoDB may drop the item once both the code and the throttle window are over.
    let forget_at_ms = (now + CODE_TTL_MS).max(plan.window_start_ms + HOUR_MS);
    let stored = app
        .ctx
        .db
        .auth_codes()
        .store(
            scope,
            email.as_str(),
            &source,
            &record,
            plan.previous_version,
            forget_at_ms,
        )
        .await?;
    if !stored {
        // Another send for this address won the race: it is the one within the window.
        return Err(throttled(RESEND_AFTER_MS));
    }
    let job = MailJob::Code(CodeJob::new(
        job_id,
        scope,
        email.as_str().to_owned(),
        source,
        mailed,
    ));
    app.mail_jobs.send(&job, std::time::Duration::ZERO).await?;
    Ok(())
}

/// The throttle bookkeeping a new code starts from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SendPlan {
    window_start_ms: i64,
    sent_in_window: u32,
    previous_version: u64,
}

/// At most one email a minute and `MAX_SENDS_PER_HOUR` an hour per address, chat and
/// source: the plan for the next one, or how long to wait (ms).
pub(crate) fn plan_send(current: Option<&AuthCodeRecord>, now_ms: i64) -> Result<SendPlan, i64> {
    let Some(current) = current else {
        return Ok(SendPlan {
            window_start_ms: now_ms,
            sent_in_window: 0,
            previous_version: 0,
        });
    };
    let since_last = now_ms - current.last_sent_ms;
    if since_last < RESEND_AFTER_MS {
        return Err(RESEND_AFTER_MS - since_last);
    }
    let window_open = now_ms - current.window_start_ms < HOUR_MS;
    if window_open && current.sent_in_window >= MAX_SENDS_PER_HOUR {
        return Err(current.window_start_ms + HOUR_MS - now_ms);
    }
    Ok(SendPlan {
        window_start_ms: if window_open {
            current.window_start_ms
        } else {
            now_ms
        },
        sent_in_window: if window_open {
            current.sent_in_window
        } else {
            0
        },
        previous_version: current.version,
    })
}

pub(crate) const CODE_SENT_RECENTLY: &str =
    "A code was sent to this address recently. Wait before asking again.";

pub(crate) fn throttled(retry_after_ms: i64) -> ApiError {
    ApiError::TooManyRequests {
        message: CODE_SENT_RECENTLY,
        retry_after_secs: (retry_after_ms.max(1000) as u64).div_ceil(1000),
    }
}

/// How a presented code (as its digest) settles the stored code: `None` when the stored
/// one cannot be used at all (used, dead after too many tries, expired).
fn judge_code(stored: &AuthCodeRecord, presented_digest: &str, now_ms: i64) -> Option<CodeAttempt> {
    let digest = stored.code_digest.as_deref()?;
    if stored.expires_at_ms <= now_ms || stored.failed_attempts >= MAX_CODE_ATTEMPTS {
        return None;
    }
    if crypto::constant_time_eq(presented_digest, digest) {
        return Some(CodeAttempt::Correct);
    }
    let failed_attempts = stored.failed_attempts + 1;
    Some(CodeAttempt::Wrong {
        failed_attempts,
        // The fifth wrong try kills the code.
        kills: failed_attempts >= MAX_CODE_ATTEMPTS,
    })
}

/// Wrong codes from one source address in one chat when it has no live code of its own
/// (guesses at a code someone else holds): 10 in a quarter of an hour, and 30 in a day
/// for a source that keeps coming back.
pub const GUESSES_PER_SOURCE: [Limit; 2] = [
    Limit {
        name: "code-guesses-source",
        max: 10,
        window_ms: 15 * 60 * 1000,
    },
    Limit {
        name: "code-guesses-source-day",
        max: 30,
        window_ms: 24 * HOUR_MS,
    },
];

fn too_many_guesses(retry_after_secs: u64) -> ApiError {
    ApiError::TooManyRequests {
        message: "Too many wrong auth codes from here. Wait, then try again.",
        retry_after_secs,
    }
}

/// `auth_code` is also accepted for the seed's `auth-code`.
pub(crate) fn code_field(req: &ApiRequest) -> &'static str {
    if !req.body.contains("auth-code") && req.body.contains("auth_code") {
        "auth_code"
    } else {
        "auth-code"
    }
}

/// A chat user that has just proven its email with a code.
pub struct Proven {
    pub chat: ChatRecord,
    pub member: ChatUserId,
    pub email: Email,
}

/// An email and the code presented for it.
pub(crate) struct Presented {
    pub(crate) email: Email,
    pub(crate) code: AuthCode,
}

impl Presented {
    /// `email` + `auth-code` (or `auth_code`).
    pub(crate) fn parse(req: &ApiRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::new(&req.body);
        let email = fields.required::<Email>("email");
        let code = fields.required::<AuthCode>(code_field(req));
        fields.finish_with(|| {
            Some(Presented {
                email: email?,
                code: code?,
            })
        })
    }
}

/// Settles `presented` against the codes found for its email in `scope` (the caller's
/// own, and one its owner sent): `Ok` when a right code was used up now. Every failure
/// is the same 422; a source whose guesses (counted under `guesser`) are spent is a 429
/// and not heard, right code or not.
pub(crate) async fn settle_presented(
    app: &App,
    scope: CodeScope,
    guesser: &str,
    presented: &Presented,
    found: Vec<(CodeSource, AuthCodeRecord)>,
) -> Result<(), ApiError> {
    let now = clock::now_millis();
    let counters = app.ctx.db.rate_counters();
    if let Taken::Exceeded { retry_after_secs } = counters
        .check_all(&GUESSES_PER_SOURCE, guesser, now)
        .await?
    {
        return Err(too_many_guesses(retry_after_secs));
    }
    // A right code settles the one it matches; a wrong one counts against the caller's
    // own code (so guesses from elsewhere never spend it), or, when the caller has no
    // live code of its own, against its source's guesses: never against the code the
    // owner sent.
    let keys = app.ctx.keys().await?;
    let email = presented.email.as_str();
    let mut usable: Vec<(CodeSource, u64, CodeAttempt)> = Vec::with_capacity(3);
    for (source, stored) in found {
        let digest = keys
            .auth_code_digest_like(
                stored.code_digest.as_deref(),
                &scope.digest_context(),
                email,
                presented.code.get(),
            )
            .await?;
        if let Some(attempt) = judge_code(&stored, &digest, now) {
            usable.push((source, stored.version, attempt));
        }
    }
    let right = usable
        .iter()
        .find(|(.., attempt)| *attempt == CodeAttempt::Correct);
    let own = usable
        .iter()
        .find(|(source, ..)| matches!(source, CodeSource::Caller(_)));
    let Some((source, version, attempt)) = right.or(own).cloned() else {
        // A wrong guess with no live code of its own (or no code at all): it costs the
        // source one of its guesses. All the same 422 while guesses are left.
        for limit in GUESSES_PER_SOURCE {
            if let Taken::Exceeded { retry_after_secs } =
                counters.take(&limit, guesser, now).await?
            {
                return Err(too_many_guesses(retry_after_secs));
            }
        }
        return Err(invalid_code());
    };
    // Of two concurrent uses of one code, only one settles it.
    let settled = app
        .ctx
        .db
        .auth_codes()
        .settle(scope, email, &source, version, attempt)
        .await?;
    if settled && attempt == CodeAttempt::Correct {
        Ok(())
    } else {
        Err(invalid_code())
    }
}

/// Checks `email` + `auth-code` (or `auth_code`) against the caller's codes and the one
/// the owner sent, and spends the code: what get-token and a guest's personal-data
/// requests take as proof. Every failure is the same 422.
pub async fn prove_email(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Proven, ApiError> {
    let presented = Presented::parse(req)?;
    // The caller's codes (under this key version's tag and, during a rotation's window,
    // the previous one's), and the one its owner had sent.
    let mut sources = code_sources(app, req).await?;
    sources.push(CodeSource::Owner);
    let lookup = app
        .ctx
        .db
        .auth_codes()
        .lookup(chat, presented.email.as_str(), &sources)
        .await?;
    let chat_record = lookup.chat.ok_or(ApiError::NotFound(NO_SUCH_CHAT))?;
    let (_, guesser) = limit_keys(app, req, &chat_record).await?;
    settle_presented(
        app,
        CodeScope::Chat(chat),
        &guesser,
        &presented,
        lookup.codes,
    )
    .await?;
    // A stranger's code (never mailed) opens nothing, even guessed right.
    let Some(member) = lookup.member else {
        return Err(invalid_code());
    };
    Ok(Proven {
        chat: chat_record,
        member,
        email: presented.email,
    })
}

/// `POST /chats/{chat_id}/users/get-token`: `email` + `auth-code` (or `auth_code`).
pub async fn get_token(
    app: &App,
    req: &ApiRequest,
    chat: ChatId,
) -> Result<Response<Body>, ApiError> {
    let proven = prove_email(app, req, chat).await?;
    let chat_user = match app
        .ctx
        .db
        .chat_users()
        .mark_verified(&proven.chat, proven.member)
        .await?
    {
        Verified::Done(chat_user) => chat_user,
        Verified::Gone => return Err(invalid_code()),
        // A guest proving its email becomes a participant: not past the cap.
        Verified::ChatFull => return Err(crate::CHAT_FULL),
    };
    tracing::info!(chat_id = %chat, chat_user_id = %chat_user.id, "chat-user token issued");
    Ok(envelope::data(
        StatusCode::OK,
        crate::token_body(app, &chat_user).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn code(last_sent_ms: i64, window_start_ms: i64, sent_in_window: u32) -> AuthCodeRecord {
        AuthCodeRecord {
            code_digest: Some("digest".into()),
            expires_at_ms: last_sent_ms + CODE_TTL_MS,
            failed_attempts: 0,
            last_sent_ms,
            window_start_ms,
            sent_in_window,
            version: 7,
            made_by_job: None,
            name: None,
        }
    }

    #[test]
    fn a_first_code_opens_a_window() {
        let plan = plan_send(None, 1_000).unwrap();
        assert_eq!(
            plan,
            SendPlan {
                window_start_ms: 1_000,
                sent_in_window: 0,
                previous_version: 0
            }
        );
    }

    #[test]
    fn one_email_a_minute() {
        let current = code(0, 0, 1);
        assert_eq!(plan_send(Some(&current), 20_000), Err(40_000));
        let plan = plan_send(Some(&current), MINUTE).unwrap();
        assert_eq!((plan.sent_in_window, plan.previous_version), (1, 7));
    }

    #[test]
    fn ten_an_hour_then_a_new_window() {
        let current = code(50 * MINUTE, 0, MAX_SENDS_PER_HOUR);
        assert_eq!(plan_send(Some(&current), 55 * MINUTE), Err(5 * MINUTE));
        let plan = plan_send(Some(&current), 61 * MINUTE).unwrap();
        assert_eq!(plan.window_start_ms, 61 * MINUTE);
        assert_eq!(plan.sent_in_window, 0);
    }

    #[test]
    fn codes_are_single_use_expire_and_die_on_the_fifth_wrong_try() {
        let stored = code(0, 0, 1);
        assert_eq!(judge_code(&stored, "digest", 1), Some(CodeAttempt::Correct));
        assert_eq!(
            judge_code(&stored, "other", 1),
            Some(CodeAttempt::Wrong {
                failed_attempts: 1,
                kills: false
            })
        );
        assert_eq!(judge_code(&stored, "digest", CODE_TTL_MS), None);
        let used = AuthCodeRecord {
            code_digest: None,
            ..stored.clone()
        };
        assert_eq!(judge_code(&used, "digest", 1), None);
        let fourth_wrong = AuthCodeRecord {
            failed_attempts: MAX_CODE_ATTEMPTS - 1,
            ..stored.clone()
        };
        assert_eq!(
            judge_code(&fourth_wrong, "other", 1),
            Some(CodeAttempt::Wrong {
                failed_attempts: MAX_CODE_ATTEMPTS,
                kills: true
            })
        );
        let dead = AuthCodeRecord {
            failed_attempts: MAX_CODE_ATTEMPTS,
            ..stored
        };
        assert_eq!(judge_code(&dead, "digest", 1), None);
    }
}

//! Auth codes from the mail queue: a send-code request (or an owner adding a chat user)
//! kept the bookkeeping and left a code item waiting for its code; here the code is made
//! and, for a chat user, mailed. A job whose mail fails takes its code back and comes
//! back from the queue to make another (nobody saw the first), so a passing SES failure
//! costs the guest nothing; a request that came in between replaced the item, and the
//! job stops.

use domain::auth_code::{CODE_TTL_MS, CodeScope};
use domain::clock;
use domain::jobs::CodeJob;
use domain::text::Email;
use edge::event_sources::JobError;
use services::mail::AuthCodeEmail;
use services::random::random_auth_code;

use crate::App;

pub async fn make_and_mail(app: &App, job: CodeJob) -> Result<(), JobError> {
    let db = &app.ctx.db;
    let Some(scope) = job.scope() else {
        return Ok(()); // names nothing to open (a bug)
    };
    // What the email names: the chat, or the company a visitor talks to.
    let named = match scope {
        CodeScope::Chat(chat) => db.chats().get(chat).await?.map(|chat| chat.name),
        CodeScope::Company(company) => db.companies().get(company).await?.map(|c| c.name),
    };
    let Some(name) = named else {
        return Ok(()); // deleted since
    };
    let Some(email) = Email::normalized(&job.email) else {
        return Ok(()); // not an address (the request checked it: a bug)
    };
    let code = random_auth_code()?;
    let digest = app
        .ctx
        .keys()
        .await?
        .auth_code_digest(&scope.digest_context(), email.as_str(), code)
        .await?;
    let codes = db.auth_codes();
    let expires_at_ms = clock::now_millis() + CODE_TTL_MS;
    if !codes
        .set_code(
            scope,
            email.as_str(),
            &job.source,
            &job.job_id,
            &digest,
            expires_at_ms,
        )
        .await?
    {
        return Ok(()); // replaced by a later request, made already, or used
    }
    if !job.mailed {
        return Ok(()); // a stranger's code: kept like a member's, never mailed
    }
    let message = AuthCodeEmail::new(&name, code, CODE_TTL_MS / 60_000);
    if let Err(err) = app.mailer.send(&email, &message).await {
        codes
            .clear_code(scope, email.as_str(), &job.source, &job.job_id)
            .await?;
        return Err(err.into());
    }
    tracing::info!(scope = %scope.digest_context(), "auth code sent");
    Ok(())
}

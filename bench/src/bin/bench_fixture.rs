//! What the warm benchmark's `POST /api/chats/{id}/messages` needs beyond what
//! `chat-admin` makes: a company and a chat of the bench operator, a chat user in it,
//! and that chat user's token, written through the same storage layer as the functions.
//!
//! Usage: bench-fixture OWNER_EMAIL (with TABLE_NAME, KEYS_SECRET_ID and the AWS settings
//! of the functions in the environment). The token is signed as chat-users signs one: with
//! the current chat-user token key of the keys secret, its kid in the header. Prints
//! `CHAT_ID=...` and `CHAT_USER_TOKEN=...` lines, for `eval` in a shell.

use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::company::CompanyRecord;
use domain::ids::{ChatId, ChatUserId, CompanyId};
use edge::Context;
use storage::chat_users::ChatUserInserted;
use storage::chats::ChatCreated;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let owner_email = std::env::args()
        .nth(1)
        .ok_or("usage: bench-fixture OWNER_EMAIL")?;
    let (ctx, _) = Context::from_env()?;
    let owner = ctx
        .db
        .users()
        .by_email(&owner_email)
        .await?
        .ok_or("no such operator")?;
    let now = domain::clock::now_rfc3339();

    let company = CompanyRecord {
        id: CompanyId::new(),
        owner_id: owner.id,
        name: "Bench".into(),
        website: None,
        widget_url: None,
        created_at: now.clone(),
        updated_at: now.clone(),
        chat_count: 0,
        webhook_count: 0,
        retention_days: None,
        member_count: 1,
        allowed_origins: Vec::new(),
        business_hours: None,
    };
    ctx.db.companies().insert(&company, &owner).await?;

    let chat = ChatRecord {
        id: ChatId::new(),
        company_id: company.id,
        name: "Bench".into(),
        description: None,
        password: None,
        created_at: now.clone(),
        updated_at: now.clone(),
        last_message_at: None,
        last_message_id: None,
        event_seq: 0,
        last_message_seq: Some(0),
        unread_email_minutes: None,
        tokens_revoked_at_ms: None,
        retention_days: None,
        ..ChatRecord::default()
    };
    if !matches!(ctx.db.chats().create(&chat).await?, ChatCreated::Created) {
        return Err("the chat was not created".into());
    }

    let chat_user = ChatUserRecord {
        id: ChatUserId::new(),
        chat_id: chat.id,
        name: "Guest".into(),
        email: "guest@example.com".into(),
        verified_at: Some(now.clone()),
        created_at: now.clone(),
        updated_at: now,
        announced: true,
        ..ChatUserRecord::default()
    };
    if !matches!(
        ctx.db.chat_users().insert(&chat, &chat_user).await?,
        ChatUserInserted::Inserted
    ) {
        return Err("the chat user was not created".into());
    }
    let (token, _) = ctx
        .keys()
        .await?
        .issue_chat_user_token(chat.id, chat_user.id, ctx.config.chat_user_token_ttl_secs)
        .await?;
    println!("CHAT_ID={}", chat.id);
    println!("CHAT_USER_TOKEN={token}");
    Ok(())
}

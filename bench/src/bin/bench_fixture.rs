//! What the warm benchmark's `POST /api/chats/{id}/messages` needs beyond what
//! `chat-admin` makes: a company and a chat of the bench operator, a chat user in it,
//! and that chat user's token, written through the same storage layer as the functions.
//!
//! Usage: bench-fixture OWNER_EMAIL (with TABLE_NAME, KEYS_SECRET_ID and the AWS settings
//! of the functions in the environment). The token is signed as chat-users signs one: with
//! the current chat-user token key of the keys secret, its kid in the header. Prints
//! `CHAT_ID=...` and `CHAT_USER_TOKEN=...` lines, for `eval` in a shell.

use edge::Context;

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
    let company = chat_bench::fixture::company(&ctx.db, &owner, "Bench").await?;
    let (chat, chat_user) =
        chat_bench::fixture::room_with_guest(&ctx.db, &company, "Bench").await?;
    let (token, _) = ctx
        .keys()
        .await?
        .issue_chat_user_token(chat.id, chat_user.id, ctx.config.chat_user_token_ttl_secs)
        .await?;
    println!("CHAT_ID={}", chat.id);
    println!("CHAT_USER_TOKEN={token}");
    Ok(())
}

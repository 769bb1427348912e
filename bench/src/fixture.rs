//! What the benchmarks post into beyond what `chat-admin` makes: a company of an operator,
//! and a room with one verified chat user, written through the storage layer the
//! functions use (`bench-fixture` for the warm POST, `write-units` for its rooms).

use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::company::CompanyRecord;
use domain::ids::{ChatId, ChatUserId, CompanyId};
use domain::user::UserRecord;
use storage::Db;
use storage::chat_users::ChatUserInserted;
use storage::chats::ChatCreated;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A company `owner` founds (its first member).
pub async fn company(db: &Db, owner: &UserRecord, name: &str) -> Result<CompanyRecord, Error> {
    let now = domain::clock::now_rfc3339();
    let company = CompanyRecord {
        id: CompanyId::new(),
        owner_id: owner.id,
        name: name.into(),
        website: None,
        widget_url: None,
        created_at: now.clone(),
        updated_at: now,
        chat_count: 0,
        webhook_count: 0,
        retention_days: None,
        member_count: 1,
        allowed_origins: Vec::new(),
        business_hours: None,
    };
    db.companies().insert(&company, owner).await?;
    Ok(company)
}

/// A room of `company` and its one chat user, verified and announced.
pub async fn room_with_guest(
    db: &Db,
    company: &CompanyRecord,
    name: &str,
) -> Result<(ChatRecord, ChatUserRecord), Error> {
    let now = domain::clock::now_rfc3339();
    let chat = ChatRecord {
        id: ChatId::new(),
        company_id: company.id,
        name: name.into(),
        created_at: now.clone(),
        updated_at: now.clone(),
        last_message_seq: Some(0),
        ..ChatRecord::default()
    };
    if !matches!(db.chats().create(&chat).await?, ChatCreated::Created) {
        return Err("the chat was not created".into());
    }
    let guest = ChatUserRecord {
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
        db.chat_users().insert(&chat, &guest).await?,
        ChatUserInserted::Inserted
    ) {
        return Err("the chat user was not created".into());
    }
    Ok((chat, guest))
}

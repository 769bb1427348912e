//! Moving a table from before teams: companies and their webhook endpoints were kept in
//! their owner's partition (`USER#<owner>` / `COMPANY#<company>` and
//! `WEBHOOK#<company>#<webhook>`), and chats were indexed under their owner (GSI1
//! `USER#<owner>` / `CHAT#<company>#<chat>`). Now a company has a partition of its own,
//! its owner is its `owner` member, and its chats are indexed under it.
//!
//! `chat-admin migrate` runs [`legacy_companies`] once after the deploy. It is the one
//! `Scan` in the code: nothing indexes the old items (they were only ever read by their
//! owner's id), and it runs once, by an operator, never on a request's path. Each step
//! is idempotent and the old company item goes last, so a run stopped part-way is simply
//! run again. Why not on first touch: a company's webhooks are read by the stream's
//! dispatcher, which no owner's request precedes, and a chat list would miss the chats
//! not yet re-indexed.

use domain::chat::ChatRecord;
use domain::company::CompanyRecord;
use domain::user::UserRecord;
use domain::webhook::WebhookRecord;
use serde::Serialize;

use crate::chats::index_keys;
use crate::item::{from_item, s, to_item};
use crate::key::{Entity, GSI1, GSI1PK, GSI1SK, PK, SK, user_partition};
use crate::members;
use crate::page::ListQuery;
use crate::update::Update;
use crate::{Db, Key, Result};

/// What a run moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Migrated {
    pub companies: usize,
    pub webhooks: usize,
    pub chats: usize,
}

/// Finds every company item of the old layout and moves it, with its webhook endpoints
/// and its chats' index keys.
pub async fn legacy_companies(db: &Db) -> Result<Migrated> {
    let mut migrated = Migrated::default();
    let mut start = None;
    loop {
        let page = db
            .client()
            .scan()
            .table_name(db.table())
            .filter_expression("begins_with(#pk, :user) AND begins_with(#sk, :company)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":user", s("USER#"))
            .expression_attribute_values(":company", s("COMPANY#"))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for item in page.items.unwrap_or_default() {
            let company: CompanyRecord = from_item(item)?;
            let moved = company_of_old(db, company).await?;
            migrated.companies += 1;
            migrated.webhooks += moved.webhooks;
            migrated.chats += moved.chats;
        }
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => return Ok(migrated),
        }
    }
}

async fn company_of_old(db: &Db, company: CompanyRecord) -> Result<Migrated> {
    let owner_partition = user_partition(company.owner_id);
    let mut moved = Migrated::default();
    // The company in its own partition (unless a stopped run put it there already).
    let new_company = CompanyRecord {
        member_count: 1,
        ..company.clone()
    };
    db.put_new(to_item(&CompanyRecord::key(company.id), &new_company)?)
        .await?;
    // Its owner, as its owner member.
    if let Some(owner) = db.users().get(company.owner_id).await? {
        members::ensure_map(db, &owner).await?;
        let member = members::founder(&company, &owner);
        db.put_new(members::member_item(&member)?).await?;
        db.put_new(members::member_email_item(&member)?).await?;
        db.update_if(
            &UserRecord::key(owner.id),
            members::grant_on_user(&member).condition("attribute_exists(PK)"),
        )
        .await?;
    }
    // Its webhook endpoints.
    let webhooks: Vec<WebhookRecord> = db
        .list_all(ListQuery {
            list: "legacy-webhooks",
            index: None,
            partition: owner_partition.clone(),
            sort_prefix: format!("WEBHOOK#{}#", company.id),
            per_page: 100,
            cursor: None,
        })
        .await?;
    for webhook in webhooks {
        let old = Key::new(
            owner_partition.clone(),
            format!("WEBHOOK#{}#{}", company.id, webhook.id),
        );
        db.put_new(to_item(
            &WebhookRecord::key((webhook.company_id, webhook.id)),
            &webhook,
        )?)
        .await?;
        db.delete(&old).await?;
        moved.webhooks += 1;
    }
    // Its chats' index keys.
    let chats: Vec<ChatRecord> = db
        .list_all(ListQuery {
            list: "legacy-chats",
            index: Some(GSI1),
            partition: owner_partition.clone(),
            sort_prefix: format!("CHAT#{}#", company.id),
            per_page: 100,
            cursor: None,
        })
        .await?;
    for chat in chats {
        let (gsi1pk, gsi1sk) = index_keys(chat.company_id, chat.id, chat.kind);
        let update = Update::new()
            .set(GSI1PK, s(gsi1pk))
            .set(GSI1SK, s(gsi1sk))
            .remove("owner_id")
            .condition("attribute_exists(PK)");
        moved.chats += usize::from(db.update_if(&ChatRecord::key(chat.id), update).await?);
    }
    // Last: the old item, so that a stopped run finds this company again.
    db.delete(&Key::new(
        owner_partition,
        format!("COMPANY#{}", company.id),
    ))
    .await?;
    Ok(moved)
}

//! `chat-admin migrate` on a table from before teams: a company in its owner's partition,
//! its webhook endpoint beside it, its chat indexed under the owner, and an owner whose
//! user item has no memberships. After one run the owner finds everything through the
//! API, as its company's `owner` member; a second run finds nothing left to move.

use std::collections::HashMap;

use api_tests::*;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

async fn put(item: HashMap<String, AttributeValue>) {
    dynamodb()
        .await
        .put_item()
        .table_name(table_name())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn migrate_moves_a_company_from_before_teams_and_is_idempotent() {
    let owner = operator("migrate").await;
    let (company, chat, webhook) = (
        ulid::Ulid::new().to_string(),
        ulid::Ulid::new().to_string(),
        ulid::Ulid::new().to_string(),
    );
    let at = "2026-11-20T10:00:00.000Z";
    // The owner's user item as it was: no memberships map.
    dynamodb()
        .await
        .update_item()
        .table_name(table_name())
        .key("PK", s(format!("USER#{}", owner.id)))
        .key("SK", s("PROFILE"))
        .update_expression("REMOVE memberships")
        .send()
        .await
        .unwrap();
    put(HashMap::from([
        ("PK".into(), s(format!("USER#{}", owner.id))),
        ("SK".into(), s(format!("COMPANY#{company}"))),
        ("id".into(), s(&company)),
        ("owner_id".into(), s(&owner.id)),
        ("name".into(), s("Legacy Co")),
        ("created_at".into(), s(at)),
        ("updated_at".into(), s(at)),
        ("chat_count".into(), n(1)),
        ("webhook_count".into(), n(1)),
    ]))
    .await;
    put(HashMap::from([
        ("PK".into(), s(format!("USER#{}", owner.id))),
        ("SK".into(), s(format!("WEBHOOK#{company}#{webhook}"))),
        ("id".into(), s(&webhook)),
        ("owner_id".into(), s(&owner.id)),
        ("company_id".into(), s(&company)),
        ("url".into(), s("https://hooks.legacy.example/in")),
        ("enabled".into(), AttributeValue::Bool(true)),
        (
            "secret".into(),
            s("whsec_bGVnYWN5LXNlY3JldC1mb3ItdGVzdHMtb25seS0xMjM0"),
        ),
        ("created_at".into(), s(at)),
        ("updated_at".into(), s(at)),
    ]))
    .await;
    put(HashMap::from([
        ("PK".into(), s(format!("CHAT#{chat}"))),
        ("SK".into(), s("CHAT")),
        ("GSI1PK".into(), s(format!("USER#{}", owner.id))),
        ("GSI1SK".into(), s(format!("CHAT#{company}#{chat}"))),
        ("id".into(), s(&chat)),
        ("company_id".into(), s(&company)),
        ("owner_id".into(), s(&owner.id)),
        ("name".into(), s("Legacy chat")),
        ("created_at".into(), s(at)),
        ("updated_at".into(), s(at)),
        ("event_seq".into(), n(0)),
    ]))
    .await;

    // Before: the owner finds nothing.
    call("GET", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .send()
        .await
        .expect(404);

    let db = db().await;
    let first = storage::migrate::legacy_companies(&db).await.unwrap();
    assert!(
        first.companies >= 1 && first.webhooks >= 1 && first.chats >= 1,
        "{first:?}"
    );

    let found = call("GET", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(
        found.data()["membership"],
        json!({ "role": "owner", "sees": "all" })
    );
    assert_eq!(found.data()["name"], "Legacy Co");
    let chats = call("GET", &format!("/api/chats?company_id={company}"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(chats.data()[0]["id"], chat.as_str());
    let hook = call(
        "GET",
        &format!("/api/companies/{company}/webhooks/{webhook}"),
    )
    .api(&owner.token)
    .send()
    .await
    .expect(200);
    assert_eq!(hook.data()["url"], "https://hooks.legacy.example/in");
    let members = call("GET", &format!("/api/companies/{company}/members"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(members.data()[0]["user_id"], owner.id.as_str());
    // The company keeps its counts: it still refuses deletion while it has its chat.
    call("DELETE", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .send()
        .await
        .expect(409);
    // Nothing is left in the old places.
    assert_eq!(
        items_in_partition(&format!("USER#{}", owner.id)).await,
        2,
        "the profile and its API token only"
    );

    // Again: this company is not moved twice.
    let again = storage::migrate::legacy_companies(&db).await.unwrap();
    assert_eq!(again, storage::migrate::Migrated::default());
    let listed = call("GET", "/api/companies")
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(listed.data().as_array().unwrap().len(), 1);
}

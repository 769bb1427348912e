//! Data lifecycle: a company's message retention. Messages (and the events that carry
//! them) get a DynamoDB TTL from the company's `retention_days`, and reads treat an item
//! past it as gone before DynamoDB deletes it.

use std::collections::HashMap;

use api_tests::*;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

const DAY: i64 = 24 * 3600;

async fn item(chat: &str, sk: &str) -> Option<HashMap<String, AttributeValue>> {
    dynamodb()
        .await
        .get_item()
        .table_name(table_name())
        .key("PK", storage::s(format!("CHAT#{chat}")))
        .key("SK", storage::s(sk))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

/// The TTL of a message's item (epoch seconds), if it has one.
async fn ttl_of_message(chat: &str, message_id: &str) -> Option<i64> {
    let item = item(chat, &format!("MSG#{message_id}")).await.unwrap();
    item.get("ttl")
        .map(|ttl| ttl.as_n().unwrap().parse().unwrap())
}

/// The chat's copy of its company's `retention_days`.
async fn chat_retention(chat: &str) -> Option<i64> {
    chat_item(chat)
        .await
        .get("retention_days")
        .map(|days| days.as_n().unwrap().parse().unwrap())
}

fn now_secs() -> i64 {
    domain::clock::now_millis() / 1000
}

#[tokio::test]
async fn a_company_keeps_messages_for_its_retention_days() {
    let owner = operator("retention").await;
    let created = call("POST", "/api/companies")
        .api(&owner.token)
        .json(json!({ "name": "Kept a week", "retention_days": 7 }))
        .send()
        .await
        .expect(201);
    assert_eq!(created.data()["retention_days"], 7);
    let company = created.data()["id"].as_str().unwrap().to_owned();
    let chat = chat(&owner, &company, None).await;
    let guest = member(&owner, &chat, "ann").await;

    // A message and its event expire after the company's 7 days.
    let first = post_message(&chat, &guest.token, "kept a week").await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    let ttl = ttl_of_message(&chat, &first_id).await.expect("a TTL");
    assert!((ttl - (now_secs() + 7 * DAY)).abs() < 120, "ttl {ttl}");
    let event = item(
        &chat,
        &format!("EVT#{:012}", first["seq"].as_u64().unwrap()),
    )
    .await
    .expect("the message's event");
    let event_ttl: i64 = event["ttl"].as_n().unwrap().parse().unwrap();
    assert!(
        (event_ttl - (now_secs() + 7 * DAY)).abs() < 120,
        "event ttl {event_ttl}"
    );

    // Past its TTL, a message is gone for every read, whatever DynamoDB still holds.
    let second = post_message(&chat, &guest.token, "still here").await;
    dynamodb()
        .await
        .update_item()
        .table_name(table_name())
        .key("PK", storage::s(format!("CHAT#{chat}")))
        .key("SK", storage::s(format!("MSG#{first_id}")))
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", "ttl")
        .expression_attribute_values(":past", storage::n(now_secs() - 1))
        .send()
        .await
        .unwrap();
    let page = call("GET", &format!("/api/chats/{chat}/messages"))
        .bearer(&guest.token)
        .send()
        .await
        .expect(200);
    let ids: Vec<&str> = page
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second["id"].as_str().unwrap()]);
    call("GET", &format!("/api/chats/{chat}/messages/{first_id}"))
        .bearer(&guest.token)
        .send()
        .await
        .expect(404);

    // null keeps what is sent from then on; a new value applies to the next messages.
    let kept = call("PUT", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .json(json!({ "retention_days": null }))
        .send()
        .await
        .expect(200);
    assert!(kept.data()["retention_days"].is_null());
    // The company's chats get the new setting through the table's stream (lifecycle).
    assert!(
        eventually(30, || async { chat_retention(&chat).await.is_none() }).await,
        "the chat's retention is cleared"
    );
    let forever = post_message(&chat, &guest.token, "kept").await;
    assert_eq!(
        ttl_of_message(&chat, forever["id"].as_str().unwrap()).await,
        None
    );
    call("PUT", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .json(json!({ "retention_days": 30 }))
        .send()
        .await
        .expect(200);
    assert!(
        eventually(30, || async { chat_retention(&chat).await == Some(30) }).await,
        "the chat's retention becomes 30 days"
    );
    let month = post_message(&chat, &guest.token, "kept a month").await;
    let ttl = ttl_of_message(&chat, month["id"].as_str().unwrap())
        .await
        .expect("a TTL");
    assert!((ttl - (now_secs() + 30 * DAY)).abs() < 120, "ttl {ttl}");

    // Out of range is a 422 on the field.
    let refused = call("PUT", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .json(json!({ "retention_days": 0 }))
        .send()
        .await
        .expect(422);
    assert!(!refused.field_errors("retention_days").is_empty());
}

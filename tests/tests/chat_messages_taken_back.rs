//! What a guest takes back stays taken back, from the seat of another guest reading the
//! log and of an integrator's receiver: an edit leaves the current text in the message's
//! earlier events, a delete leaves its tombstone, and a webhook attempt sends the event
//! as the log holds it then. Also the budgets of the writes that log events, and the
//! `after` an event page may be asked for.

use api_tests::live::{events_after, last_seq, post, seq};
use api_tests::*;
use domain::rate_limit::budgets::MESSAGE_CHANGES;
use serde_json::{Value, json};
use std::time::Duration;

const CARD: &str = "card 4111 1111 1111 1111";

async fn edit(r: &Room, message: &Value, body: &str) -> Reply {
    call(
        "PUT",
        &format!(
            "/api/chats/{}/messages/{}",
            r.chat,
            message["id"].as_str().unwrap()
        ),
    )
    .bearer(&r.ann.token)
    .json(json!({ "body": body }))
    .send()
    .await
}

/// Every event of the log that mentions `text`, as `reader` sees the log.
async fn mentioning(r: &Room, reader: &str, text: &str) -> Vec<Value> {
    events_after(reader, &r.chat, 0)
        .await
        .into_iter()
        .filter(|event| event.to_string().contains(text))
        .collect()
}

#[tokio::test]
async fn edited_and_deleted_text_leaves_the_log_and_the_pending_webhooks() {
    let r = room("taken-back").await;
    // The receiver fails the first attempts, so deliveries are still pending (retried
    // after about 1, 2, 4, 8 s) when the text is taken back.
    let receiver = Receiver::start(&[500; 8]).await;
    let hook = call("POST", &format!("/api/companies/{}/webhooks", r.company))
        .api(&r.owner.token)
        .json(json!({ "url": receiver.url, "events": ["message.created", "message.updated", "message.deleted"] }))
        .send()
        .await
        .expect(201);
    remember_secret(hook.data()["secret"].as_str().unwrap());

    let message = post(&r.ann.token, &r.chat, CARD).await;
    assert_eq!(
        edit(&r, &message, "card number removed")
            .await
            .status
            .as_u16(),
        200
    );
    let created = events_after(&r.bob.token, &r.chat, seq(&message) - 1).await;
    assert_eq!(created[0]["type"], "message.created");
    assert_eq!(created[0]["data"]["body"], "card number removed");
    assert!(created[0]["data"]["edited_at"].is_string());
    assert!(mentioning(&r, &r.bob.token, "4111").await.is_empty());

    call(
        "DELETE",
        &format!(
            "/api/chats/{}/messages/{}",
            r.chat,
            message["id"].as_str().unwrap()
        ),
    )
    .api(&r.owner.token)
    .send()
    .await
    .expect(200);
    for reader in [&r.bob.token, &r.owner.token] {
        assert!(mentioning(&r, reader, "4111").await.is_empty());
        assert!(
            mentioning(&r, reader, "card number removed")
                .await
                .is_empty()
        );
    }
    // The message's three events (created, updated, deleted) are now its tombstone.
    let about: Vec<Value> = events_after(&r.bob.token, &r.chat, seq(&message) - 1)
        .await
        .into_iter()
        .filter(|e| e["data"]["id"] == message["id"])
        .collect();
    assert_eq!(about.len(), 3, "{about:?}");
    for event in &about {
        assert_eq!(event["type"], "message.deleted");
        assert_eq!(
            event["data"],
            json!({ "id": message["id"], "deleted_by": "owner" })
        );
    }
    let seqs: Vec<u64> = about.iter().map(seq).collect();
    assert_eq!(seqs[0], seq(&message), "the log's seqs stay as they were");

    // The receiver: every attempt made after the delete (a moment for those already on
    // their way) sends the tombstone, never the text.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let baseline = receiver.requests().len();
    let got = receiver.wait_for(baseline + 3, 90).await;
    let late = &got[baseline..];
    assert!(late.len() >= 3, "{} attempts after the delete", late.len());
    for request in late {
        assert!(!request.body.contains("4111"), "{}", request.body);
        assert!(
            !request.body.contains("card number removed"),
            "{}",
            request.body
        );
        assert_eq!(
            request.json()["type"],
            "message.deleted",
            "{}",
            request.body
        );
    }
}

#[tokio::test]
async fn edits_and_deletes_are_budgeted_and_a_message_is_edited_at_most_fifty_times() {
    let r = room("taken-back-budget").await;
    let message = post(&r.ann.token, &r.chat, "draft").await;
    room_in_window(&MESSAGE_CHANGES, Duration::from_secs(40)).await;
    let mut statuses = Vec::new();
    for i in 0..31 {
        statuses.push(
            edit(&r, &message, &format!("draft {i}"))
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        30,
        "{statuses:?}"
    );
    let limited = edit(&r, &message, "one too many").await.expect(429);
    assert!(limited.header("retry-after").is_some());

    // A message edited fifty times already (written straight into the table).
    let other = post(&r.bob.token, &r.chat, "old").await;
    let db = db().await;
    let chat_id = domain::ids::EntityId::parse(&r.chat).unwrap();
    let message_id = domain::ids::EntityId::parse(other["id"].as_str().unwrap()).unwrap();
    let mut record = db
        .messages()
        .get(chat_id, message_id)
        .await
        .unwrap()
        .unwrap();
    record.edit_seqs = (0..domain::message::MAX_EDITS as u64)
        .map(|i| 1_000_000 + i)
        .collect();
    let item = storage::stored::message(&record).unwrap();
    dynamodb()
        .await
        .put_item()
        .table_name(table_name())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    call(
        "PUT",
        &format!(
            "/api/chats/{}/messages/{}",
            r.chat,
            other["id"].as_str().unwrap()
        ),
    )
    .bearer(&r.bob.token)
    .json(json!({ "body": "fifty-first" }))
    .send()
    .await
    .expect(409);
}

#[tokio::test]
async fn readers_marking_the_head_do_not_log_each_other_for_ever() {
    let r = room("taken-back-read").await;
    let message = post(&r.ann.token, &r.chat, "read me").await;
    let read = |token: String, upto: u64| {
        let chat = r.chat.clone();
        async move {
            call("PUT", &format!("/api/chats/{chat}/read"))
                .bearer(&token)
                .json(json!({ "seq": upto }))
                .send()
                .await
                .expect(200);
        }
    };
    // Two clients that mark whatever their socket shows: each mark is an event the
    // other then shows.
    read(r.bob.token.clone(), seq(&message)).await;
    for _ in 0..5 {
        let head = last_seq(&r.owner.token, &r.chat).await;
        read(r.ann.token.clone(), head).await;
        let head = last_seq(&r.owner.token, &r.chat).await;
        read(r.bob.token.clone(), head).await;
    }
    let head = last_seq(&r.owner.token, &r.chat).await;
    let marks = events_after(&r.owner.token, &r.chat, seq(&message))
        .await
        .into_iter()
        .filter(|e| e["type"] == "read.updated")
        .count();
    assert!(
        marks <= 2,
        "{marks} read.updated events; the head is {head}"
    );
    // The markers did move.
    let ann = call("GET", "/api/chat-user")
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(200);
    assert_eq!(ann.data()["last_read_seq"], json!(head));
}

#[tokio::test]
async fn an_event_page_after_a_seq_the_log_cannot_hold_is_a_422() {
    let r = room("taken-back-after").await;
    for after in ["18446744073709551615", "1000000000000", "-1", "x"] {
        let reply = call("GET", &format!("/api/chats/{}/events", r.chat))
            .bearer(&r.ann.token)
            .query("after", after)
            .send()
            .await
            .expect(422);
        assert!(!reply.field_errors("after").is_empty(), "{after}");
    }
    call("GET", &format!("/api/chats/{}/events", r.chat))
        .bearer(&r.ann.token)
        .query("after", "999999999999")
        .send()
        .await
        .expect(200);
}

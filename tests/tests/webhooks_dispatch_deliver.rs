//! Webhooks through the whole local stack: an endpoint created over the API, a message
//! posted over the API, the stream dispatcher and the delivery queue (played by the dev
//! bridge) in between, and a receiver on loopback. Signatures are checked with the
//! Standard Webhooks reference library (PyPI `standardwebhooks`), not with our code.

use std::process::Stdio;

use api_tests::*;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// Seconds a delivery may take locally (stream poll, dispatch, queue poll, deliver).
const WITHIN: u64 = 30;

async fn create_webhook(room: &Room, company: &str, url: &str, events: Option<Value>) -> Value {
    let mut body = json!({ "url": url, "description": "tests" });
    if let Some(events) = events {
        body["events"] = events;
    }
    let reply = call("POST", &format!("/api/companies/{company}/webhooks"))
        .api(&room.owner.token)
        .json(body)
        .send()
        .await
        .expect(201);
    let secret = reply.data()["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    remember_secret(secret);
    reply.data().clone()
}

async fn post(room: &Room, author: &Member, body: &str) -> Value {
    post_message(&room.chat, &author.token, body).await
}

/// Whether the reference library accepts `request` with `secret`.
async fn verifies(secret: &str, request: &Received) -> bool {
    let python = std::env::var("PYTHON")
        .unwrap_or_else(|_| format!("{}/../.venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let script = format!("{}/scripts/verify_webhook.py", env!("CARGO_MANIFEST_DIR"));
    let mut child = tokio::process::Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let input = json!({ "secret": secret, "headers": request.headers, "body": request.body });
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    child.wait().await.unwrap().success()
}

#[tokio::test]
async fn a_posted_message_reaches_the_receiver_signed_as_the_standard_says() {
    let room = room("hook-signed").await;
    let company = room.company.clone();
    let receiver = Receiver::start(&[]).await;
    let webhook = create_webhook(&room, &company, &receiver.url, None).await;
    let secret = webhook["secret"].as_str().unwrap();
    let message = post(&room, &room.ann, "hello, webhook").await;

    let got = receiver.wait_for(1, WITHIN).await;
    let delivery = got
        .iter()
        .find(|r| r.json()["type"] == "message.created")
        .expect("the message.created delivery arrived");
    let body = delivery.json();
    assert_eq!(delivery.path, "/hooks/chat");
    assert_eq!(delivery.header("content-type"), "application/json");
    assert_eq!(body["data"]["type"], "message.created");
    assert_eq!(body["data"]["chat_id"], room.chat.as_str());
    assert_eq!(body["data"]["seq"], message["seq"]);
    assert_eq!(body["data"]["data"]["body"], "hello, webhook");
    assert!(body["timestamp"].is_string());
    assert!(!delivery.header("webhook-id").is_empty());
    assert!(delivery.header("webhook-signature").starts_with("v1,"));

    assert!(
        verifies(secret, delivery).await,
        "the reference library accepts it"
    );
    let mut tampered = delivery.clone();
    tampered.body = tampered.body.replace("hello, webhook", "hello, attacker");
    assert!(
        !verifies(secret, &tampered).await,
        "a tampered body is rejected"
    );
    let other = create_webhook(&room, &company, &receiver.url, None).await;
    assert!(
        !verifies(other["secret"].as_str().unwrap(), delivery).await,
        "another endpoint's secret does not verify it"
    );

    // The log of the endpoint shows the delivery, succeeded on the first attempt.
    let webhook_id = webhook["id"].as_str().unwrap();
    let log = call(
        "GET",
        &format!("/api/companies/{company}/webhooks/{webhook_id}/deliveries"),
    )
    .api(&room.owner.token)
    .send()
    .await
    .expect(200);
    let entry = log.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == delivery.header("webhook-id"))
        .cloned()
        .expect("the delivery is in the log");
    assert_eq!(entry["status"], "succeeded");
    assert_eq!(entry["attempts"], 1);
    assert_eq!(entry["last_status_code"], 200);
    assert_eq!(entry["event_type"], "message.created");
    // The secret is shown once: never in a read.
    let read = call(
        "GET",
        &format!("/api/companies/{company}/webhooks/{webhook_id}"),
    )
    .api(&room.owner.token)
    .send()
    .await
    .expect(200);
    assert!(read.data().get("secret").is_none());
    assert!(!read.text.contains(secret));

    // A member's note reaches the company's endpoint (members' rendering), marked
    // `internal` with its staff author; the guest's message says it is not one.
    call("POST", &format!("/api/chats/{}/messages", room.chat))
        .api(&room.owner.token)
        .json(json!({ "body": "refund approved, do not tell yet", "internal": true }))
        .send()
        .await
        .expect(201);
    let got = receiver.wait_for(3, WITHIN).await;
    let note = got
        .iter()
        .map(Received::json)
        .find(|body| body["data"]["data"]["body"] == "refund approved, do not tell yet")
        .expect("the note's delivery arrived");
    assert_eq!(note["data"]["data"]["internal"], true, "{note}");
    assert_eq!(note["data"]["data"]["author"]["type"], "staff", "{note}");
    assert_eq!(
        delivery.json()["data"]["data"]["internal"],
        false,
        "{}",
        delivery.body
    );
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_same_delivery_three_times() {
    let room = room("hook-retry").await;
    let company = room.company.clone();
    let receiver = Receiver::start(&[500, 503]).await;
    let webhook = create_webhook(
        &room,
        &company,
        &receiver.url,
        Some(json!(["message.created"])),
    )
    .await;
    post(&room, &room.bob, "try, try again").await;

    // The local schedule retries after about 1 s and 2 s (jittered).
    let got = receiver.wait_for(3, 60).await;
    assert_eq!(got.len(), 3, "{got:?}");
    let id = got[0].header("webhook-id");
    assert!(
        got.iter().all(|r| r.header("webhook-id") == id),
        "the same webhook-id on every attempt"
    );
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same body on every attempt"
    );
    let secret = webhook["secret"].as_str().unwrap();
    for attempt in &got {
        assert!(verifies(secret, attempt).await);
    }

    let webhook_id = webhook["id"].as_str().unwrap();
    let settled = eventually(WITHIN, || async {
        let log = call(
            "GET",
            &format!("/api/companies/{company}/webhooks/{webhook_id}/deliveries"),
        )
        .api(&room.owner.token)
        .send()
        .await;
        log.body["data"][0]["status"] == "succeeded" && log.body["data"][0]["attempts"] == 3
    })
    .await;
    assert!(settled, "the log shows 3 attempts, the last one succeeded");

    // Retried by hand: the same delivery (same webhook-id) goes out once more.
    let retried = call(
        "POST",
        &format!("/api/companies/{company}/webhooks/{webhook_id}/deliveries/{id}/retry"),
    )
    .api(&room.owner.token)
    .send()
    .await
    .expect(202);
    assert_eq!(retried.data()["status"], "pending");
    let got = receiver.wait_for(4, WITHIN).await;
    assert_eq!(got.len(), 4);
    assert_eq!(got[3].header("webhook-id"), id);
}

/// Locally an endpoint failing for 20 s is disabled (`WEBHOOK_DISABLE_AFTER`; a day in
/// AWS): the attempt at about 30 s turns it off and emails its owner once.
#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_its_owner_emailed() {
    let room = room("hook-disable").await;
    let company = room.company.clone();
    let receiver = Receiver::start(&[500; 20]).await;
    let webhook = create_webhook(&room, &company, &receiver.url, None).await;
    let path = format!(
        "/api/companies/{company}/webhooks/{}",
        webhook["id"].as_str().unwrap()
    );
    post(&room, &room.ann, "is anyone there?").await;
    let disabled = eventually(90, || async {
        let reply = call("GET", &path).api(&room.owner.token).send().await;
        reply.data()["enabled"] == false
    })
    .await;
    assert!(disabled, "the endpoint was disabled");
    let shown = call("GET", &path)
        .api(&room.owner.token)
        .send()
        .await
        .expect(200);
    assert!(
        shown.data()["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("failing")
    );
    assert!(shown.data()["failing_since"].is_string());
    let mails = emails_to(&room.owner.email).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].0.contains("webhook was disabled"));
    let attempts = receiver.requests().len();
    assert!(
        (5..=6).contains(&attempts),
        "{attempts} attempts before it was disabled"
    );
    // Nothing more goes out while it is off.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(receiver.requests().len(), attempts);
    // Enabled again: its failures are forgotten.
    let on = call("PUT", &path)
        .api(&room.owner.token)
        .json(json!({ "enabled": true }))
        .send()
        .await
        .expect(200);
    assert!(on.data()["failing_since"].is_null() && on.data()["disabled_reason"].is_null());
}

#[tokio::test]
async fn filters_disabled_and_deleted_endpoints_are_honoured() {
    let room = room("hook-filter").await;
    let company = room.company.clone();
    let (deletions, disabled, deleted, everything) = (
        Receiver::start(&[]).await,
        Receiver::start(&[]).await,
        Receiver::start(&[]).await,
        Receiver::start(&[]).await,
    );
    create_webhook(
        &room,
        &company,
        &deletions.url,
        Some(json!(["message.deleted"])),
    )
    .await;
    let off = create_webhook(&room, &company, &disabled.url, None).await;
    let gone = create_webhook(&room, &company, &deleted.url, None).await;
    create_webhook(&room, &company, &everything.url, None).await;
    let hook = |w: &Value| {
        format!(
            "/api/companies/{company}/webhooks/{}",
            w["id"].as_str().unwrap()
        )
    };
    let turned_off = call("PUT", &hook(&off))
        .api(&room.owner.token)
        .json(json!({ "enabled": false }))
        .send()
        .await
        .expect(200);
    assert_eq!(turned_off.data()["enabled"], false);
    call("DELETE", &hook(&gone))
        .api(&room.owner.token)
        .send()
        .await
        .expect(200);
    call("GET", &hook(&gone))
        .api(&room.owner.token)
        .send()
        .await
        .expect(404);

    let message = post(&room, &room.ann, "to be deleted").await;
    call(
        "DELETE",
        &format!(
            "/api/chats/{}/messages/{}",
            room.chat,
            message["id"].as_str().unwrap()
        ),
    )
    .bearer(&room.ann.token)
    .send()
    .await
    .expect(200);
    // The catch-all endpoint sees both events: by then every endpoint had its chance.
    // The first is sent as it is when its attempt is made: the message, or, once the
    // message is deleted, the tombstone in its place.
    let all = everything.wait_for(2, WITHIN).await;
    let types: Vec<Value> = all.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(types.len(), 2, "{types:?}");
    assert!(
        types[0] == "message.created" || types[0] == "message.deleted",
        "{types:?}"
    );
    assert_eq!(types[1], "message.deleted", "{types:?}");
    let only = deletions.wait_for(1, WITHIN).await;
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].json()["type"], "message.deleted");
    assert_eq!(only[0].json()["data"]["data"]["deleted_by"], "chat_user");
    assert!(
        disabled.requests().is_empty(),
        "a disabled endpoint gets nothing"
    );
    assert!(
        deleted.requests().is_empty(),
        "a deleted endpoint gets nothing"
    );
}

#[tokio::test]
async fn a_rotation_signs_with_both_secrets() {
    let room = room("hook-rotate").await;
    let company = room.company.clone();
    let receiver = Receiver::start(&[]).await;
    let webhook = create_webhook(&room, &company, &receiver.url, None).await;
    let old = webhook["secret"].as_str().unwrap().to_owned();
    let webhook_id = webhook["id"].as_str().unwrap();
    let rotated = call(
        "POST",
        &format!("/api/companies/{company}/webhooks/{webhook_id}/rotate-secret"),
    )
    .api(&room.owner.token)
    .send()
    .await
    .expect(200);
    let new = rotated.data()["secret"].as_str().unwrap().to_owned();
    remember_secret(&new);
    assert_ne!(old, new);

    post(&room, &room.ann, "signed twice").await;
    let got = receiver.wait_for(1, WITHIN).await;
    let delivery = got.first().expect("delivered");
    assert_eq!(delivery.header("webhook-signature").split(' ').count(), 2);
    assert!(verifies(&new, delivery).await, "the new secret verifies");
    assert!(
        verifies(&old, delivery).await,
        "the old secret still verifies for a day"
    );
}

#[tokio::test]
async fn endpoints_are_the_owners_and_private_targets_are_refused() {
    let room = room("hook-guard").await;
    let company = room.company.clone();
    let path = format!("/api/companies/{company}/webhooks");
    for url in [
        "http://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "http://localhost:8080/hook",
        "https://192.168.1.10/hook",
        "http://example.com/plain-http",
        "ftp://example.com/",
        // IPv4-translated, site-local, Teredo, discard, the 6to4 relay.
        "https://[::ffff:0:a9fe:a9fe]/hook",
        "https://[fec0::1]/hook",
        "https://[2001::a9fe:a9fe]/hook",
        "https://[100::1]/hook",
        "https://192.88.99.1/hook",
    ] {
        let reply = call("POST", &path)
            .api(&room.owner.token)
            .json(json!({ "url": url }))
            .send()
            .await
            .expect(422);
        assert!(!reply.field_errors("url").is_empty(), "{url}");
    }
    let reply = call("POST", &path)
        .api(&room.owner.token)
        .json(json!({ "url": "https://hooks.example.com/x", "events": ["message.exploded"] }))
        .send()
        .await
        .expect(422);
    assert!(!reply.field_errors("events").is_empty());

    // Another owner sees neither the company's endpoints nor can it add one.
    let stranger = operator("hook-stranger").await;
    call("GET", &path)
        .api(&stranger.token)
        .send()
        .await
        .expect(404);
    call("POST", &path)
        .api(&stranger.token)
        .json(json!({ "url": "https://hooks.example.com/x" }))
        .send()
        .await
        .expect(404);
    // A chat user is not an operator.
    call("GET", &path)
        .bearer(&room.ann.token)
        .send()
        .await
        .expect(401);
}

/// With the local allowance off (production), the delivery client refuses loopback even
/// for an endpoint stored while it was on: nothing reaches the receiver.
#[tokio::test]
async fn without_the_local_allowance_loopback_is_refused_at_send_time() {
    use domain::events::{Change, Event};
    use domain::ids::{ChatId, CompanyId, MessageId, WebhookId};
    use domain::message::Tombstone;
    use domain::webhook::{DeliveryRecord, WebhookRecord};
    use services::standard_webhooks::{Targets, generate_secret};

    let receiver = Receiver::start(&[]).await;
    let now = domain::clock::now_millis();
    let webhook = WebhookRecord {
        id: WebhookId::new(),
        company_id: CompanyId::new(),
        url: receiver.url.clone(),
        events: None,
        description: None,
        enabled: true,
        disabled_reason: None,
        secret: generate_secret().unwrap(),
        previous_secret: None,
        previous_secret_until: None,
        failing_since: None,
        created_at: domain::clock::rfc3339(now),
        updated_at: domain::clock::rfc3339(now),
    };
    let event = Event {
        seq: 1,
        chat_id: ChatId::new(),
        at: domain::clock::rfc3339(now),
        change: Change::MessageDeleted(Tombstone::new(MessageId::new(), None)),
        actor: None,
    };
    let delivery = DeliveryRecord::new(&webhook, &event, now);
    let payload = domain::webhook::Payload::body(&event).unwrap();

    let production = deliver::Sender::new(Targets::Public).unwrap();
    let outcome = production
        .attempt(&webhook, &delivery, payload.clone(), now)
        .await
        .unwrap();
    assert!(!outcome.succeeded());
    assert_eq!(outcome.status_code(), None);
    // A name that resolves to loopback is refused by the resolver, after the URL check.
    let mut by_name = webhook.clone();
    by_name.url = receiver
        .url
        .replace("http://127.0.0.1", "https://localhost.localdomain.");
    let outcome = production
        .attempt(&by_name, &delivery, payload.clone(), now)
        .await
        .unwrap();
    assert!(!outcome.succeeded());

    let local = deliver::Sender::new(Targets::PublicAndLoopback).unwrap();
    let outcome = local
        .attempt(&webhook, &delivery, payload, now)
        .await
        .unwrap();
    assert!(outcome.succeeded(), "{outcome:?}");
    let got = receiver.requests();
    assert_eq!(got.len(), 1, "only the allowed attempt arrived");
}

/// A delivery retried by hand: refused while an attempt is pending (here its scheduled
/// retry, about 4 s after the third failure), and at most five times; each retry sends
/// the event once.
#[tokio::test]
async fn manual_retries_wait_for_the_pending_attempt_and_end_after_five() {
    let room = room("hook-retries").await;
    let company = room.company.clone();
    let receiver = Receiver::start(&[500, 500, 500]).await;
    let webhook = create_webhook(&room, &company, &receiver.url, None).await;
    let webhook_id = webhook["id"].as_str().unwrap();
    post(&room, &room.ann, "retry me").await;
    let got = receiver.wait_for(3, 60).await;
    let id = got[0].header("webhook-id").to_owned();
    let retry_path =
        format!("/api/companies/{company}/webhooks/{webhook_id}/deliveries/{id}/retry");
    let retry = || async {
        call("POST", &retry_path)
            .api(&room.owner.token)
            .send()
            .await
    };
    let refused = retry().await.expect(409);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("pending")
    );
    let log_path = format!("/api/companies/{company}/webhooks/{webhook_id}/deliveries");
    let settled = || async {
        let log = call("GET", &log_path).api(&room.owner.token).send().await;
        log.body["data"]
            .as_array()
            .and_then(|all| all.iter().find(|d| d["id"] == id.as_str()))
            .is_some_and(|d| d["status"] == "succeeded")
    };
    assert!(eventually(WITHIN, settled).await);
    let mut sent = receiver.requests().len();
    assert_eq!(sent, 4, "the refused retry sent nothing");
    for _ in 0..5 {
        retry().await.expect(202);
        sent += 1;
        assert_eq!(receiver.wait_for(sent, WITHIN).await.len(), sent);
        assert!(eventually(WITHIN, settled).await);
    }
    let sixth = retry().await.expect(409);
    assert!(sixth.body["message"].as_str().unwrap().contains("5 times"));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(receiver.requests().len(), sent, "nothing more was sent");
}

//! Personal-data requests (export and erasure of one email across a company's chats, by
//! the owner or by the guest itself with a code) and the cap on a chat's chat users.

use api_tests::*;
use serde_json::{Value, json};

/// The chat's whole kept log, as its owner reads it.
async fn events(owner: &Operator, chat: &str) -> Vec<Value> {
    call("GET", &format!("/api/chats/{chat}/events"))
        .api(&owner.token)
        .query("per_page", "100")
        .send()
        .await
        .expect(200)
        .data()
        .as_array()
        .cloned()
        .unwrap()
}

async fn export(owner: &Operator, company: &str, email: &str) -> Value {
    call("POST", &format!("/api/companies/{company}/export-data"))
        .api(&owner.token)
        .json(json!({ "email": email }))
        .send()
        .await
        .expect(200)
        .data()
        .clone()
}

async fn erase(owner: &Operator, company: &str, email: &str) -> Value {
    call("POST", &format!("/api/companies/{company}/erase-data"))
        .api(&owner.token)
        .json(json!({ "email": email }))
        .send()
        .await
        .expect(200)
        .data()["erased"]
        .clone()
}

#[tokio::test]
async fn an_owner_exports_and_erases_an_email_across_its_company() {
    let owner = operator("gdpr-owner").await;
    let other_company = company(&owner, "Kept apart").await;
    let company = company(&owner, "Erasing").await;
    let (first, second) = (
        chat(&owner, &company, None).await,
        chat(&owner, &company, None).await,
    );
    let elsewhere = chat(&owner, &other_company, None).await;
    let email = unique_email("dana");
    let in_first = member_with_email(&owner, &first, &email, "Dana Doe", false).await;
    let in_second = member_with_email(&owner, &second, &email, "Dana Doe", false).await;
    let in_elsewhere = member_with_email(&owner, &elsewhere, &email, "Dana Doe", false).await;
    let bob = member(&owner, &first, "bob").await;
    post_message(&first, &in_first.token, "my order is 1234").await;
    post_message(&first, &bob.token, "looking into it").await;
    post_message(&second, &in_second.token, "another question").await;
    // Renamed once: an event that names her twice.
    call("PUT", &format!("/api/chats/{first}/users/{}", in_first.id))
        .api(&owner.token)
        .json(json!({ "name": "Dana D." }))
        .send()
        .await
        .expect(200);

    // The export: both chats of this company, her own messages only.
    let exported = export(&owner, &company, &email).await;
    assert_eq!(exported["email"], email.as_str());
    let chats = exported["chats"].as_array().unwrap();
    assert_eq!(chats.len(), 2, "{exported}");
    let of = |chat: &str| {
        chats
            .iter()
            .find(|c| c["chat"]["id"] == chat)
            .unwrap_or_else(|| panic!("chat {chat} in {exported}"))
    };
    assert_eq!(of(&first)["chat_user"]["email"], email.as_str());
    let bodies: Vec<&str> = of(&first)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["my order is 1234"]);
    assert_eq!(of(&second)["messages"][0]["body"], "another question");
    assert_eq!(of(&first)["messages_truncated"], false);
    let before = events(&owner, &first).await;
    assert!(before.iter().any(|e| e.to_string().contains(&email)));

    // The erasure: gone from both chats, not from the other company's.
    let erased = erase(&owner, &company, &email).await;
    assert_eq!(erased["chat_users"], 2, "{erased}");
    assert!(
        erased["events_rewritten"].as_u64().unwrap() >= 3,
        "{erased}"
    );
    for (chat, guest) in [(&first, &in_first), (&second, &in_second)] {
        call("GET", "/api/chat-user")
            .bearer(&guest.token)
            .send()
            .await
            .expect(401);
        let log = events(&owner, chat).await;
        for event in &log {
            let text = event.to_string();
            assert!(!text.contains(&email), "{text}");
            assert!(!text.contains("Dana"), "{text}");
        }
        let users = call("GET", &format!("/api/chats/{chat}/users"))
            .api(&owner.token)
            .send()
            .await
            .expect(200);
        assert!(!users.data().to_string().contains(&email));
    }
    // Her messages stay, under an id nothing names any more; Bob's are untouched.
    let messages = call("GET", &format!("/api/chats/{first}/messages"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    let kept: Vec<(String, String)> = messages
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["chat_user_id"].as_str().unwrap().to_owned(),
                m["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(kept.contains(&(in_first.id.clone(), "my order is 1234".to_owned())));
    // Her name is gone from her messages' author too, not only from the log.
    let listed = messages.data().to_string();
    assert!(!listed.contains("Dana"), "{listed}");
    let hers = messages
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "my order is 1234")
        .unwrap();
    assert_eq!(hers["author"]["name"], domain::chat_user::ERASED_NAME);
    assert_eq!(hers["author"]["id"], in_first.id.as_str());
    assert_eq!(hers["author"]["type"], "guest");
    assert!(kept.contains(&(bob.id.clone(), "looking into it".to_owned())));
    call("GET", "/api/chat-user")
        .bearer(&in_elsewhere.token)
        .send()
        .await
        .expect(200);
    call("GET", "/api/chat-user")
        .bearer(&bob.token)
        .send()
        .await
        .expect(200);

    // Idempotent: nothing left to export or erase.
    assert_eq!(export(&owner, &company, &email).await["chats"], json!([]));
    let again = erase(&owner, &company, &email).await;
    assert_eq!(
        again,
        json!({ "chat_users": 0, "events_rewritten": 0, "codes": 0 })
    );
}

#[tokio::test]
async fn personal_data_requests_are_the_owners_alone_and_need_an_email() {
    let owner = operator("gdpr-scope").await;
    let company = company(&owner, "Mine").await;
    let chat = chat(&owner, &company, None).await;
    let guest = member(&owner, &chat, "erin").await;
    let stranger = operator("gdpr-stranger").await;
    for action in ["export-data", "erase-data"] {
        call("POST", &format!("/api/companies/{company}/{action}"))
            .api(&stranger.token)
            .json(json!({ "email": guest.email }))
            .send()
            .await
            .expect(404);
        call("POST", &format!("/api/companies/{company}/{action}"))
            .json(json!({ "email": guest.email }))
            .send()
            .await
            .expect(401);
        let bad = call("POST", &format!("/api/companies/{company}/{action}"))
            .api(&owner.token)
            .json(json!({ "email": "not an email" }))
            .send()
            .await
            .expect(422);
        assert!(!bad.field_errors("email").is_empty());
    }
    // Nothing was touched by the refused requests.
    call("GET", "/api/chat-user")
        .bearer(&guest.token)
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn a_guest_exports_and_erases_itself_with_a_code() {
    let owner = operator("gdpr-guest").await;
    let company = company(&owner, "Self service").await;
    let chat = chat(&owner, &company, None).await;
    let email = unique_email("gail");
    // Added by the owner with a code mailed to her.
    let gail = member_with_email(&owner, &chat, &email, "Gail", true).await;
    post_message(&chat, &gail.token, "hello from gail").await;
    let path = |action: &str| format!("/api/chats/{chat}/users/{action}");

    // A token is not proof enough, nor is a wrong code.
    call("POST", &path("export-data"))
        .bearer(&gail.token)
        .json(json!({ "email": email }))
        .send()
        .await
        .expect(422);
    call("POST", &path("erase-data"))
        .json(json!({ "email": email, "auth-code": "111111" }))
        .send()
        .await
        .expect(422);

    let code = latest_code(&email).await;
    let exported = call("POST", &path("export-data"))
        .json(json!({ "email": email, "auth-code": code }))
        .send()
        .await
        .expect(200);
    let chats = exported.data()["chats"].as_array().unwrap();
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0]["messages"][0]["body"], "hello from gail");
    // The code is spent.
    call("POST", &path("erase-data"))
        .json(json!({ "email": email, "auth-code": code }))
        .send()
        .await
        .expect(422);

    // A fresh code from send-code, and she erases herself.
    call("POST", &path("send-code"))
        .json(json!({ "email": email }))
        .send()
        .await
        .expect(202);
    let code = latest_code(&email).await;
    let erased = call("POST", &path("erase-data"))
        .json(json!({ "email": email, "auth-code": code }))
        .send()
        .await
        .expect(200);
    assert_eq!(erased.data()["erased"]["chat_users"], 1);
    call("GET", "/api/chat-user")
        .bearer(&gail.token)
        .send()
        .await
        .expect(401);
    let log = events(&owner, &chat).await;
    assert!(log.iter().all(|e| !e.to_string().contains(&email)));
    assert_eq!(
        export(&owner, &company, &email).await["chats"],
        json!([]),
        "nothing left about her"
    );
}

/// Sets the chat's participant count as stored, standing in for that many chat users.
async fn set_count(chat: &str, count: u32) {
    dynamodb()
        .await
        .update_item()
        .table_name(table_name())
        .key("PK", storage::s(format!("CHAT#{chat}")))
        .key("SK", storage::s("CHAT"))
        .update_expression("SET chat_user_count = :count")
        .expression_attribute_values(":count", storage::n(count))
        .send()
        .await
        .expect("the count is set");
}

async fn count(chat: &str) -> i64 {
    chat_item(chat)
        .await
        .get("chat_user_count")
        .map_or(0, |n| n.as_n().unwrap().parse().unwrap())
}

#[tokio::test]
async fn a_chat_holds_at_most_1000_chat_users() {
    let owner = operator("chat-user-cap").await;
    let company = company(&owner, "Crowded").await;
    let chat = chat(&owner, &company, Some("crowded-lantern-orbit-7")).await;

    // Counted as they become participants, and as they go.
    let ann = member(&owner, &chat, "ann").await;
    member(&owner, &chat, "bob").await;
    assert_eq!(count(&chat).await, 2);
    call("DELETE", &format!("/api/chats/{chat}/users/{}", ann.id))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(count(&chat).await, 1);
    let guest = verified_guest(&chat, "crowded-lantern-orbit-7", "gus").await;
    assert_eq!(count(&chat).await, 2);

    // At 999 one more fits, the next is refused with a 409 that names the cap.
    set_count(&chat, 999).await;
    member(&owner, &chat, "last").await;
    let refused = call("POST", &format!("/api/chats/{chat}/users"))
        .api(&owner.token)
        .json(json!({ "email": unique_email("one-too-many"), "name": "Late" }))
        .send()
        .await
        .expect(409);
    assert!(refused.text.contains("1,000"), "{}", refused.text);

    // A guest asking to join gets its code, but proving it would pass the cap: 409.
    let late = unique_email("late-guest");
    call("POST", &format!("/api/chats/{chat}/users/send-code"))
        .json(json!({ "email": late, "name": "Late", "password": "crowded-lantern-orbit-7" }))
        .send()
        .await
        .expect(202);
    let code = latest_code(&late).await;
    call("POST", &format!("/api/chats/{chat}/users/get-token"))
        .json(json!({ "email": late, "auth-code": code }))
        .send()
        .await
        .expect(409);

    // Removing one makes room again.
    call("DELETE", &format!("/api/chats/{chat}/users/{}", guest.id))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    member(&owner, &chat, "room-again").await;
    assert_eq!(count(&chat).await, 1000);
}

/// An export is bounded by bytes, not only by messages: 320 messages of 5,000 emoji (some
/// 6.4 MB of JSON, past Lambda's 6 MB answer) come back as what fits in 4 MiB, marked
/// truncated. The messages go straight into the table (posting them would take minutes
/// of the sending rate); the chat is deleted afterwards.
#[tokio::test]
async fn an_export_is_bounded_by_bytes_and_says_what_it_left_out() {
    let owner = operator("export-bytes").await;
    let company = company(&owner, "Emoji Ltd").await;
    let chat = chat(&owner, &company, None).await;
    let guest = member(&owner, &chat, "emoji").await;
    let chat_id: domain::ids::ChatId = domain::ids::EntityId::parse(&chat).unwrap();
    let author: domain::ids::ChatUserId = domain::ids::EntityId::parse(&guest.id).unwrap();
    let body = "😀".repeat(5_000);
    let now = domain::clock::now_rfc3339();
    let items: Vec<_> = (0..320)
        .map(|_| {
            let message = domain::message::MessageRecord {
                id: domain::ids::MessageId::new(),
                seq: 0,
                chat_id,
                chat_user_id: Some(author),
                author: None,
                internal: false,
                body: body.clone(),
                created_at: now.clone(),
                updated_at: now.clone(),
                edited_at: None,
                client_id: None,
                edit_seqs: Vec::new(),
                attachments: Vec::new(),
            };
            storage::stored::message(&message).unwrap()
        })
        .collect();
    let dynamo = dynamodb().await;
    for batch in items.chunks(25) {
        let writes = batch
            .iter()
            .map(|item| {
                aws_sdk_dynamodb::types::WriteRequest::builder()
                    .put_request(
                        aws_sdk_dynamodb::types::PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        dynamo
            .batch_write_item()
            .request_items(table_name(), writes)
            .send()
            .await
            .unwrap();
    }
    let reply = call("POST", &format!("/api/companies/{company}/export-data"))
        .api(&owner.token)
        .json(json!({ "email": guest.email }))
        .send()
        .await
        .expect(200);
    assert!(reply.text.len() < 6_000_000, "{} bytes", reply.text.len());
    let exported = &reply.data()["chats"][0];
    assert_eq!(exported["messages_truncated"], true);
    let kept = exported["messages"].as_array().unwrap().len();
    assert!((150..320).contains(&kept), "{kept} messages kept");
    call("DELETE", &format!("/api/chats/{chat}"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
}

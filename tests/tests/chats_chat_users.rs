//! Black-box tests of chats, chat users, the chat password, auth codes by email and
//! chat-user tokens: the guest journey and every rule around it.

use api_tests::*;
use serde_json::{Value, json};
use storage::key as keys;

fn chat_id(text: &str) -> domain::ids::ChatId {
    domain::ids::EntityId::parse(text).expect("a chat id")
}

/// An owner with a company and a password-protected chat.
struct Setup {
    owner: Operator,
    company: String,
    chat: String,
    password: String,
}

async fn setup(tag: &str) -> Setup {
    let owner = operator(tag).await;
    let company = company(&owner, "Guests Ltd").await;
    let chat = chat(&owner, &company, None).await;
    let share = call("POST", &format!("/chats/{chat}/share"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    let password = share.data()["password"].as_str().unwrap().to_owned();
    remember_secret(&password);
    Setup {
        owner,
        company,
        chat,
        password,
    }
}

async fn send_code(chat: &str, body: Value) -> Reply {
    call("POST", &format!("/chats/{chat}/users/send-code"))
        .json(body)
        .send()
        .await
}

async fn get_token(chat: &str, email: &str, code: &str) -> Reply {
    call("POST", &format!("/chats/{chat}/users/get-token"))
        .json(json!({ "email": email, "auth-code": code }))
        .send()
        .await
}

/// Moves the clock of the email's codes (one per source that asked): `last_sent_ms` /
/// `expires_at_ms` back by `ms` (what waiting would do), without touching anything else.
async fn age_code(chat: &str, email: &str, field: &str, ms: i64) {
    let client = dynamodb().await;
    let codes = client
        .query()
        .table_name(table_name())
        .key_condition_expression("PK = :pk AND begins_with(SK, :codes)")
        .expression_attribute_values(":pk", storage::s(format!("CHAT#{chat}")))
        .expression_attribute_values(":codes", storage::s(format!("CODE#{email}#")))
        .send()
        .await
        .unwrap();
    let items = codes.items.unwrap_or_default();
    assert!(!items.is_empty(), "the email has a code");
    for item in items {
        let key = ["PK", "SK"].map(|name| (name.to_owned(), item[name].clone()));
        client
            .update_item()
            .table_name(table_name())
            .set_key(Some(key.into_iter().collect()))
            .update_expression(format!("SET {field} = {field} - :ms"))
            .expression_attribute_values(":ms", storage::n(ms))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_guest_joins_with_the_chat_password_and_an_emailed_code() {
    let s = setup("journey").await;
    // The password is stable until regenerated.
    let again = call("POST", &format!("/api/chats/{}/share", s.chat))
        .api(&s.owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(again.data()["password"], s.password.as_str());
    assert_eq!(again.data()["chat_id"], s.chat.as_str());
    assert!(s.password.chars().count() >= 12);

    let email = unique_email("guest");
    let reply = send_code(
        &s.chat,
        json!({ "email": email.to_uppercase(), "name": "Guest", "password": s.password }),
    )
    .await
    .expect(202);
    assert_eq!(
        reply.body["message"],
        "If the address can join this chat, a code is on its way."
    );
    let mails = emails_at_least(&email, 1).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].0.contains("Support"),
        "the email names the chat: {}",
        mails[0].0
    );
    let code = latest_code(&email).await;

    let reply = get_token(&s.chat, &email, &code).await.expect(200);
    let token = reply.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&token);
    assert_eq!(reply.data()["token_type"], "Bearer");
    assert!(reply.data()["expires_at"].is_string());
    assert_eq!(reply.data()["chat_user"]["email"], email.as_str());
    assert!(reply.data()["chat_user"]["verified_at"].is_string());

    for via in [Via::Bearer, Via::Query, Via::Body] {
        let me = call("GET", "/api/chat-user")
            .token(via, "chat_user_token", &token)
            .send()
            .await
            .expect(200);
        assert_eq!(me.data()["email"], email.as_str(), "via {via:?}");
        assert_eq!(me.data()["chat"]["id"], s.chat.as_str());
        assert_eq!(me.data()["chat"]["has_password"], true);
        assert!(
            me.data()["chat"].get("password").is_none(),
            "the password is never in a chat"
        );
    }
    // The guest may read its chat, but not list the owner's chats.
    call("GET", &format!("/api/chats/{}", s.chat))
        .bearer(&token)
        .send()
        .await
        .expect(200);
    call("GET", "/api/chats")
        .bearer(&token)
        .send()
        .await
        .expect(401);

    // The code was single-use.
    get_token(&s.chat, &email, &code).await.expect(422);

    // Regenerating replaces the password: the old one no longer lets anyone join.
    let rotated = call("POST", &format!("/chats/{}/share", s.chat))
        .api(&s.owner.token)
        .json(json!({ "regenerate": true }))
        .send()
        .await
        .expect(200);
    let new_password = rotated.data()["password"].as_str().unwrap().to_owned();
    remember_secret(&new_password);
    assert_ne!(new_password, s.password);
    send_code(
        &s.chat,
        json!({ "email": unique_email("late"), "name": "Late", "password": s.password }),
    )
    .await
    .expect(403);
}

#[tokio::test]
async fn send_code_never_tells_whether_an_email_is_known() {
    let s = setup("enumeration").await;
    let known = member(&s.owner, &s.chat, "known").await;
    let unknown = unique_email("unknown");
    let a = send_code(&s.chat, json!({ "email": known.email }))
        .await
        .expect(202);
    let b = send_code(&s.chat, json!({ "email": unknown }))
        .await
        .expect(202);
    assert_eq!(a.body, b.body);
    assert_eq!(
        emails_at_least(&known.email, 1).await.len(),
        1,
        "the known address gets a code"
    );
    assert!(
        emails_to(&unknown).await.is_empty(),
        "the unknown one gets nothing"
    );

    // A wrong password is 403 whether or not the email is known.
    for email in [&known.email, &unknown] {
        let reply = send_code(
            &s.chat,
            json!({ "email": email, "name": "X", "password": "wrong-password" }),
        )
        .await
        .expect(403);
        assert!(reply.body["message"].as_str().unwrap().contains("password"));
    }
    // get-token: no such email and a wrong code look the same.
    let a = get_token(&s.chat, &unknown, "123456").await.expect(422);
    let b = get_token(&s.chat, &known.email, "123456").await;
    assert_eq!(b.status.as_u16(), 422);
    assert_eq!(a.body, b.body);
    assert!(!a.field_errors("auth-code").is_empty());
}

#[tokio::test]
async fn a_code_dies_after_five_wrong_tries() {
    let s = setup("tries").await;
    let guest = member(&s.owner, &s.chat, "tries").await;
    send_code(&s.chat, json!({ "email": guest.email }))
        .await
        .expect(202);
    let code = latest_code(&guest.email).await;
    let wrong = if code == "999999" { "999998" } else { "999999" };
    for _ in 0..5 {
        get_token(&s.chat, &guest.email, wrong).await.expect(422);
    }
    get_token(&s.chat, &guest.email, &code).await.expect(422);
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let s = setup("expiry").await;
    let guest = member(&s.owner, &s.chat, "expiry").await;
    send_code(&s.chat, json!({ "email": guest.email }))
        .await
        .expect(202);
    let code = latest_code(&guest.email).await;
    // Ten minutes and a second later (moto, like DynamoDB's TTL, may keep the item).
    age_code(
        &s.chat,
        &guest.email,
        "expires_at_ms",
        10 * 60 * 1000 + 1000,
    )
    .await;
    get_token(&s.chat, &guest.email, &code).await.expect(422);
}

#[tokio::test]
async fn a_newer_code_replaces_the_older_one_and_resends_are_throttled() {
    let s = setup("resend").await;
    let guest = member(&s.owner, &s.chat, "resend").await;
    send_code(&s.chat, json!({ "email": guest.email }))
        .await
        .expect(202);
    let first = latest_code(&guest.email).await;

    // Within 60 s: 429 with Retry-After, and no second email.
    let reply = send_code(&s.chat, json!({ "email": guest.email }))
        .await
        .expect(429);
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(emails_to(&guest.email).await.len(), 1);

    // A minute later a new code goes out, and the old one is dead.
    age_code(&s.chat, &guest.email, "last_sent_ms", 61_000).await;
    send_code(&s.chat, json!({ "email": guest.email }))
        .await
        .expect(202);
    assert_eq!(emails_at_least(&guest.email, 2).await.len(), 2);
    let second = latest_code(&guest.email).await;
    if first != second {
        get_token(&s.chat, &guest.email, &first).await.expect(422);
    }
    get_token(&s.chat, &guest.email, &second).await.expect(200);
}

#[tokio::test]
async fn at_most_ten_codes_an_hour() {
    let s = setup("hourly").await;
    let guest = member(&s.owner, &s.chat, "hourly").await;
    for sent in 1..=10 {
        send_code(&s.chat, json!({ "email": guest.email }))
            .await
            .expect(202);
        // The guest waits for each code before asking again (a job overtaken by a
        // newer request mails nothing).
        assert_eq!(emails_at_least(&guest.email, sent).await.len(), sent);
        age_code(&s.chat, &guest.email, "last_sent_ms", 61_000).await;
    }
    let reply = send_code(&s.chat, json!({ "email": guest.email }))
        .await
        .expect(429);
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!(
        retry > 60 && retry <= 3600,
        "Retry-After {retry} waits for the hour window"
    );
    assert_eq!(emails_to(&guest.email).await.len(), 10);
}

#[tokio::test]
async fn chat_user_tokens_are_scoped_to_their_chat_and_die_with_their_user() {
    let s = setup("scope").await;
    let other_chat = chat(&s.owner, &s.company, None).await;
    let guest = member(&s.owner, &s.chat, "scoped").await;
    // Another chat of the same owner: 403.
    let reply = call("GET", &format!("/api/chats/{other_chat}"))
        .bearer(&guest.token)
        .send()
        .await
        .expect(403);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("another chat")
    );
    call("GET", &format!("/api/chats/{other_chat}/users"))
        .bearer(&guest.token)
        .send()
        .await
        .expect(403);
    // An API-token route: 401.
    call("GET", "/api/companies")
        .bearer(&guest.token)
        .send()
        .await
        .expect(401);
    call("POST", &format!("/chats/{}/share", s.chat))
        .bearer(&guest.token)
        .send()
        .await
        .expect(401);

    // Deleted by the owner: dead at once.
    call("GET", "/api/chat-user")
        .bearer(&guest.token)
        .send()
        .await
        .expect(200);
    call(
        "DELETE",
        &format!("/api/chats/{}/users/{}", s.chat, guest.id),
    )
    .api(&s.owner.token)
    .send()
    .await
    .expect(200);
    call("GET", "/api/chat-user")
        .bearer(&guest.token)
        .send()
        .await
        .expect(401);

    // Deleting itself works the same way.
    let leaver = member(&s.owner, &s.chat, "leaver").await;
    let gone = call(
        "DELETE",
        &format!("/api/chats/{}/users/{}", s.chat, leaver.id),
    )
    .bearer(&leaver.token)
    .send()
    .await
    .expect(200);
    assert_eq!(gone.data()["id"], leaver.id.as_str());
    call("GET", "/api/chat-user")
        .bearer(&leaver.token)
        .send()
        .await
        .expect(401);
}

#[tokio::test]
async fn chat_users_see_each_other_without_emails() {
    let s = setup("redaction").await;
    let ann = member(&s.owner, &s.chat, "ann").await;
    let bob = member(&s.owner, &s.chat, "bob").await;
    let list = call("GET", &format!("/api/chats/{}/users", s.chat))
        .bearer(&ann.token)
        .send()
        .await
        .expect(200);
    let users = list.data().as_array().unwrap();
    assert_eq!(users.len(), 2);
    for user in users {
        if user["id"] == ann.id.as_str() {
            assert_eq!(
                user["email"],
                ann.email.as_str(),
                "a chat user sees its own email"
            );
        } else {
            assert!(user.get("email").is_none(), "but not another's: {user}");
        }
    }
    assert!(!list.text.contains(&bob.email));
    let one = call("GET", &format!("/api/chats/{}/users/{}", s.chat, bob.id))
        .bearer(&ann.token)
        .send()
        .await
        .expect(200);
    assert!(one.data().get("email").is_none());
    // The owner sees every email.
    let list = call("GET", &format!("/api/chats/{}/users", s.chat))
        .api(&s.owner.token)
        .send()
        .await
        .expect(200);
    assert!(
        list.data()
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["email"].is_string())
    );
}

#[tokio::test]
async fn a_chat_user_may_rename_only_itself() {
    let s = setup("rename").await;
    let ann = member(&s.owner, &s.chat, "ann").await;
    let bob = member(&s.owner, &s.chat, "bob").await;
    let path = format!("/api/chats/{}/users/{}", s.chat, ann.id);
    let renamed = call("PUT", &path)
        .bearer(&ann.token)
        .json(json!({ "name": "Annie" }))
        .send()
        .await
        .expect(200);
    assert_eq!(renamed.data()["name"], "Annie");
    assert_eq!(renamed.data()["email"], ann.email.as_str());
    let reply = call("PUT", &path)
        .bearer(&ann.token)
        .json(json!({ "email": unique_email("sneaky") }))
        .send()
        .await
        .expect(422);
    assert!(!reply.field_errors("email").is_empty());
    call("PUT", &path)
        .bearer(&bob.token)
        .json(json!({ "name": "Hacked" }))
        .send()
        .await
        .expect(403);
    call("DELETE", &path)
        .bearer(&bob.token)
        .send()
        .await
        .expect(403);

    // The owner may change the email; the old one is free again, the new one is taken.
    let new_email = unique_email("annie");
    let moved = call("PUT", &path)
        .api(&s.owner.token)
        .json(json!({ "email": new_email }))
        .send()
        .await
        .expect(200);
    assert_eq!(moved.data()["email"], new_email.as_str());
    assert!(moved.data()["verified_at"].is_null());
    let reply = call("PUT", &path)
        .api(&s.owner.token)
        .json(json!({ "email": bob.email }))
        .send()
        .await
        .expect(422);
    assert!(!reply.field_errors("email").is_empty());
    call("POST", &format!("/api/chats/{}/users", s.chat))
        .api(&s.owner.token)
        .json(json!({ "email": ann.email, "name": "New Ann" }))
        .send()
        .await
        .expect(201);
}

#[tokio::test]
async fn owners_add_chat_users_and_can_email_them_a_code() {
    let s = setup("add").await;
    let email = unique_email("added");
    let created = call("POST", &format!("/api/chats/{}/users", s.chat))
        .api(&s.owner.token)
        .form(&[
            ("email", email.as_str()),
            ("name", "Added"),
            ("send_code", "true"),
        ])
        .send()
        .await
        .expect(201);
    assert_eq!(created.data()["email"], email.as_str());
    assert!(created.data()["verified_at"].is_null());
    let code = latest_code(&email).await;
    let reply = call("POST", &format!("/api/chats/{}/users/get-token", s.chat))
        .form(&[("email", email.as_str()), ("auth_code", code.as_str())])
        .send()
        .await
        .expect(200);
    remember_secret(reply.data()["token"].as_str().unwrap());
    // The same email twice in one chat: 422.
    let reply = call("POST", &format!("/api/chats/{}/users", s.chat))
        .api(&s.owner.token)
        .json(json!({ "email": email, "name": "Again" }))
        .send()
        .await
        .expect(422);
    assert!(!reply.field_errors("email").is_empty());
    // Missing fields.
    let reply = call("POST", &format!("/api/chats/{}/users", s.chat))
        .api(&s.owner.token)
        .json(json!({ "email": "not-an-email" }))
        .send()
        .await
        .expect(422);
    assert!(!reply.field_errors("email").is_empty() && !reply.field_errors("name").is_empty());
}

#[tokio::test]
async fn chats_belong_to_their_owner() {
    let s = setup("chats").await;
    let stranger = operator("stranger").await;
    let path = format!("/api/chats/{}", s.chat);
    call("GET", &path)
        .api(&stranger.token)
        .send()
        .await
        .expect(404);
    call("PUT", &path)
        .api(&stranger.token)
        .json(json!({"name": "x"}))
        .send()
        .await
        .expect(404);
    call("DELETE", &path)
        .api(&stranger.token)
        .send()
        .await
        .expect(404);
    call("POST", &format!("/chats/{}/share", s.chat))
        .api(&stranger.token)
        .send()
        .await
        .expect(404);
    call("GET", &format!("/api/chats/{}/users", s.chat))
        .api(&stranger.token)
        .send()
        .await
        .expect(404);
    // Creating a chat in someone else's company: 422 on company_id.
    let reply = call("POST", "/api/chats")
        .api(&stranger.token)
        .json(json!({ "company_id": s.company, "name": "Mine" }))
        .send()
        .await
        .expect(422);
    assert!(!reply.field_errors("company_id").is_empty());
    // The list filter accepts only the caller's companies.
    let second_company = company(&s.owner, "Second").await;
    let second_chat = chat(&s.owner, &second_company, None).await;
    let all = call("GET", "/api/chats")
        .api(&s.owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(all.data().as_array().unwrap().len(), 2);
    let filtered = call("GET", "/api/chats")
        .api(&s.owner.token)
        .query("company_id", &second_company)
        .send()
        .await
        .expect(200);
    let ids: Vec<&str> = filtered
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![second_chat.as_str()]);
    call("GET", "/api/chats")
        .api(&stranger.token)
        .query("company_id", &second_company)
        .send()
        .await
        .expect(422);

    // PUT is partial; `password: null` turns sharing off.
    let updated = call("PUT", &path)
        .api(&s.owner.token)
        .json(json!({ "description": "Help desk", "password": null }))
        .send()
        .await
        .expect(200);
    assert_eq!(updated.data()["name"], "Support");
    assert_eq!(updated.data()["description"], "Help desk");
    assert_eq!(updated.data()["has_password"], false);
    send_code(
        &s.chat,
        json!({ "email": unique_email("x"), "name": "X", "password": s.password }),
    )
    .await
    .expect(403);
}

#[tokio::test]
async fn deleting_a_chat_leaves_nothing_of_it_readable() {
    let s = setup("purge").await;
    let mut members = Vec::new();
    for i in 0..5 {
        members.push(member(&s.owner, &s.chat, &format!("m{i}")).await);
    }
    // A code pending for one of them.
    send_code(&s.chat, json!({ "email": members[0].email }))
        .await
        .expect(202);
    // One message through the API (so its client id exists too), then 1,000 more written
    // straight to the table in batches: posting is tested elsewhere, and 1,000 posts
    // through moto's whole-table transaction snapshots would only make this test slow.
    // (A chat of 20,000 items: `all_fixtures.rs`, through the lifecycle handler.)
    call("POST", &format!("/api/chats/{}/messages", s.chat))
        .bearer(&members[0].token)
        .json(json!({ "body": "via the API", "client_id": "c-1" }))
        .send()
        .await
        .expect(201);
    write_messages(&s.chat, &members[1].id, 1000).await;
    let page = call("GET", &format!("/api/chats/{}/messages", s.chat))
        .bearer(&members[2].token)
        .query("per_page", "100")
        .send()
        .await
        .expect(200);
    assert_eq!(page.data().as_array().unwrap().len(), 100);
    assert_eq!(page.body["meta"]["has_more"], true);
    let deleted = call("DELETE", &format!("/api/chats/{}", s.chat))
        .api(&s.owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(deleted.data()["id"], s.chat.as_str());

    call("GET", &format!("/api/chats/{}", s.chat))
        .api(&s.owner.token)
        .send()
        .await
        .expect(404);
    call("GET", &format!("/api/chats/{}/messages", s.chat))
        .api(&s.owner.token)
        .send()
        .await
        .expect(404);
    call("GET", &format!("/api/chats/{}/users", s.chat))
        .api(&s.owner.token)
        .send()
        .await
        .expect(404);
    call("GET", "/api/chat-user")
        .bearer(&members[1].token)
        .send()
        .await
        .expect(401);
    call("GET", &format!("/api/chats/{}/messages", s.chat))
        .bearer(&members[1].token)
        .send()
        .await
        .expect(401);
    send_code(&s.chat, json!({ "email": members[0].email }))
        .await
        .expect(404);

    // And soon the table holds nothing of the chat any more: the purge function, reached
    // through the stream by the chat item's removal, deletes the rest.
    let partition = keys::chat_partition(chat_id(&s.chat));
    let emptied = eventually(120, || async { items_in_partition(&partition).await == 0 }).await;
    assert!(emptied, "items left in the chat's partition");
    // The company's chat count went back down: it can be deleted now.
    call("DELETE", &format!("/api/companies/{}", s.company))
        .api(&s.owner.token)
        .send()
        .await
        .expect(200);
}

/// Writes `count` messages of one chat user directly, 25 per BatchWriteItem.
async fn write_messages(chat: &str, chat_user_id: &str, count: usize) {
    use domain::ids::{ChatUserId, EntityId, MessageId};
    use domain::message::MessageRecord;
    use storage::aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let (chat, author) = (chat_id(chat), ChatUserId::parse(chat_user_id).unwrap());
    let now = domain::clock::now_rfc3339();
    let requests: Vec<WriteRequest> = (0..count)
        .map(|i| {
            let message = MessageRecord {
                id: MessageId::new(),
                // Written around the log, as a bulk fixture: no event, no seq.
                seq: 0,
                chat_id: chat,
                chat_user_id: Some(author),
                author: None,
                internal: false,
                body: format!("bulk {i}"),
                created_at: now.clone(),
                updated_at: now.clone(),
                edited_at: None,
                client_id: None,
                edit_seqs: Vec::new(),
                attachments: Vec::new(),
            };
            let item = storage::stored::message(&message).unwrap();
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build()
        })
        .collect();
    for chunk in requests.chunks(25) {
        let output = dynamodb()
            .await
            .batch_write_item()
            .request_items(table_name(), chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert!(output.unprocessed_items.unwrap_or_default().is_empty());
    }
}

/// SES failing: send-code answers 202 as ever (the mail is the mail queue's), and the
/// failed mail costs the guest nothing: the job takes its code back and fails, and its
/// retry (SQS brings it back) mails a code that works. Here the job waits on a queue of
/// the test's own, and the `notify` handler runs in process, first with an SES that
/// refuses, then with the stack's.
#[tokio::test]
async fn a_code_that_could_not_be_mailed_costs_the_guest_nothing() {
    let s = setup("ses-down").await;
    let guest = member(&s.owner, &s.chat, "ses-down").await;
    let aws = aws().await;
    let sqs = services::aws_sdk_sqs::Client::new(&aws);
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("ses-down-{}", ulid::Ulid::new()))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let working = chat_users::App::from_env().unwrap();
    let chat_users = chat_users::App {
        mail_jobs: services::queue::Queue::new(&aws, queue_url.clone()),
        ..working
    };
    let event = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/chat-users/send-code.json"
    ))
    .unwrap()
    .replace("{{CHAT_ID}}", &s.chat)
    .replace("{{EMAIL}}", &guest.email)
    .replace("{{CHAT_PASSWORD}}", &s.password);
    let request = lambda_http::request::from_str(&event).unwrap();
    let response = chat_users::handle(&chat_users, request).await;
    assert_eq!(response.status(), 202);
    let working_again = chat_users::App::from_env().unwrap();

    // The job, as Lambda's SQS mapping would hand it over.
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap();
    let message = received.messages.unwrap_or_default().remove(0);
    let batch: aws_lambda_events::sqs::SqsEvent = serde_json::from_value(json!({
        "Records": [{
            "messageId": message.message_id.clone().unwrap(),
            "receiptHandle": message.receipt_handle.clone().unwrap(),
            "body": message.body.clone().unwrap(),
            "attributes": {}, "messageAttributes": {}, "md5OfBody": "",
            "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ses-down",
            "awsRegion": "us-east-1"
        }]
    }))
    .unwrap();

    let refusing = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ses_down = sdk::loader()
        .endpoint_url(format!("http://127.0.0.1:{refusing}"))
        .load()
        .await;
    let notify = notify::App::from_env().unwrap();
    let failing = notify::App {
        mailer: services::mail::Mailer::new(
            services::aws_sdk_sesv2::Client::new(&ses_down),
            "chat@example.com",
        ),
        ..notify::App::from_env().unwrap()
    };
    let answer = notify::handle(&failing, batch.clone()).await;
    assert_eq!(
        answer.batch_item_failures.len(),
        1,
        "the job fails, to come back"
    );
    assert!(emails_to(&guest.email).await.is_empty());

    // Its retry, with SES back: one email, with a code that works.
    let answer = notify::handle(&notify, batch).await;
    assert!(answer.batch_item_failures.is_empty());
    // Entered from where it was asked for (the fixtures' address): a code is kept for
    // the source that asked.
    let code = latest_code(&guest.email).await;
    let entered = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/chat-users/get-token.json"
    ))
    .unwrap()
    .replace("{{CHAT_ID}}", &s.chat)
    .replace("{{EMAIL}}", &guest.email)
    .replace("{{AUTH_CODE}}", &code);
    let request = lambda_http::request::from_str(&entered).unwrap();
    let response = chat_users::handle(&working_again, request).await;
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    remember_secret(body["data"]["token"].as_str().unwrap());
}

/// Guessing a chat's password is throttled: 10 wrong ones from a source per 15 minutes,
/// then no password is checked from there (not even the right one, or the guessing would
/// go on); a chat user who already joined is not affected.
#[tokio::test]
async fn wrong_chat_passwords_are_throttled() {
    let s = setup("password-guess").await;
    let joined = member(&s.owner, &s.chat, "joined").await;
    for i in 0..10 {
        send_code(
            &s.chat,
            json!({ "email": unique_email("guess"), "name": "G", "password": format!("guess-{i}") }),
        )
        .await
        .expect(403);
    }
    let stopped = send_code(
        &s.chat,
        json!({ "email": unique_email("guess"), "name": "G", "password": "guess-10" }),
    )
    .await
    .expect(429);
    let wait: u64 = stopped.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    send_code(
        &s.chat,
        json!({ "email": unique_email("right"), "name": "R", "password": s.password }),
    )
    .await
    .expect(429);
    // A chat user asks for its code without the password: unaffected.
    send_code(&s.chat, json!({ "email": joined.email }))
        .await
        .expect(202);
}

/// Guessable chat passwords are refused, whoever sets them.
#[tokio::test]
async fn weak_chat_passwords_are_refused() {
    let s = setup("password-weak").await;
    for weak in ["aaaaaaaa", "        ", "password123", "qwertyuiop"] {
        let reply = call("PUT", &format!("/api/chats/{}", s.chat))
            .api(&s.owner.token)
            .json(json!({ "password": weak }))
            .send()
            .await
            .expect(422);
        assert!(!reply.field_errors("password").is_empty(), "{weak}");
    }
    call("POST", "/api/chats")
        .api(&s.owner.token)
        .json(json!({ "company_id": s.company, "name": "Weak", "password": "11111111" }))
        .send()
        .await
        .expect(422);
    call("PUT", &format!("/api/chats/{}", s.chat))
        .api(&s.owner.token)
        .json(json!({ "password": "copper lantern orbit" }))
        .send()
        .await
        .expect(200);
}

/// An owner revokes one chat user's tokens: every token issued until then stops working
/// at once, the chat user and others' tokens stay, and a new token works.
#[tokio::test]
async fn an_owner_revokes_one_chat_users_tokens() {
    let s = setup("revoke").await;
    let ann = member(&s.owner, &s.chat, "ann").await;
    let bob = member(&s.owner, &s.chat, "bob").await;
    let path = format!("/api/chats/{}/users/{}/revoke-tokens", s.chat, ann.id);
    call("POST", &path)
        .bearer(&bob.token)
        .send()
        .await
        .expect(401);
    let revoked = call("POST", &path)
        .api(&s.owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(revoked.data()["id"], ann.id.as_str());
    call("GET", "/api/chat-user")
        .bearer(&ann.token)
        .send()
        .await
        .expect(401);
    call("GET", "/api/chat-user")
        .bearer(&bob.token)
        .send()
        .await
        .expect(200);
    let fresh = call(
        "POST",
        &format!("/api/chats/{}/users/{}/token", s.chat, ann.id),
    )
    .api(&s.owner.token)
    .send()
    .await
    .expect(201);
    let token = fresh.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&token);
    call("GET", "/api/chat-user")
        .bearer(&token)
        .send()
        .await
        .expect(200);
    let other = operator("revoke-other").await;
    call("POST", &path)
        .api(&other.token)
        .send()
        .await
        .expect(404);
}

/// A password rotation keeps guests signed in, unless the owner asks it to sign them all
/// out (`sign_out`, for a password that leaked); a guest then proves its email again,
/// without the password.
#[tokio::test]
async fn a_rotation_may_sign_every_guest_out() {
    let s = setup("sign-out").await;
    let ann = member(&s.owner, &s.chat, "ann").await;
    let bob = member(&s.owner, &s.chat, "bob").await;
    let share = |body: Value| {
        call("POST", &format!("/api/chats/{}/share", s.chat))
            .api(&s.owner.token)
            .json(body)
            .send()
    };
    let reads = |token: &str| {
        call("GET", &format!("/api/chats/{}/messages", s.chat))
            .bearer(token)
            .send()
    };
    share(json!({ "sign_out": true })).await.expect(422);
    let rotated = share(json!({ "regenerate": true })).await.expect(200);
    remember_secret(rotated.data()["password"].as_str().unwrap());
    reads(&ann.token).await.expect(200);
    let rotated = share(json!({ "regenerate": true, "sign_out": true }))
        .await
        .expect(200);
    remember_secret(rotated.data()["password"].as_str().unwrap());
    for guest in [&ann, &bob] {
        reads(&guest.token).await.expect(401);
    }
    send_code(&s.chat, json!({ "email": ann.email }))
        .await
        .expect(202);
    let code = latest_code(&ann.email).await;
    let again = get_token(&s.chat, &ann.email, &code).await.expect(200);
    let token = again.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&token);
    reads(&token).await.expect(200);
    reads(&bob.token).await.expect(401);
}

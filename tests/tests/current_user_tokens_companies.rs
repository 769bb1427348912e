//! Black-box tests of the foundation routes (current user, API tokens, companies) and of
//! the rules every route shares: envelopes, token passing, status codes.

use api_tests::*;
use serde_json::json;

#[tokio::test]
async fn the_current_user_comes_back_whichever_way_the_token_travels() {
    let op = operator("me").await;
    for via in [Via::Bearer, Via::Query, Via::Body] {
        let reply = call("GET", "/api/user")
            .token(via, "api_token", &op.token)
            .send()
            .await
            .expect(200);
        assert_eq!(reply.data()["email"], op.email.as_str(), "via {via:?}");
        assert_eq!(reply.data()["id"], op.id.as_str());
        assert!(reply.data().get("password_hash").is_none());
    }
    // A form body carries the token too.
    let reply = call("GET", "/api/user")
        .form(&[("api_token", op.token.as_str())])
        .send()
        .await
        .expect(200);
    assert_eq!(reply.data()["email"], op.email.as_str());
}

#[tokio::test]
async fn tokens_that_do_not_authenticate_are_401() {
    let op = operator("unauth").await;
    let missing = call("GET", "/api/user").send().await.expect(401);
    assert_eq!(missing.body["message"], "Unauthenticated.");
    call("GET", "/api/user")
        .bearer("garbage")
        .send()
        .await
        .expect(401);
    call("GET", "/api/user")
        .query("api_token", "a.b.c")
        .send()
        .await
        .expect(401);

    // Signed with another key (an unknown kid).
    let other =
        services::keyring::KeyVersion::derive("not-the-deployment-secret-at-all!!").unwrap();
    let forged = services::jwt::sign(
        &other,
        &services::jwt::Claims {
            kind: services::jwt::TokenKind::Api,
            sub: op.id.clone(),
            jti: Some("01J00000000000000000000000".into()),
            chat: None,
            iat: 0,
            iat_ms: None,
            exp: None,
        },
    )
    .unwrap();
    call("GET", "/api/user")
        .bearer(&forged)
        .send()
        .await
        .expect(401);

    // Of the wrong kind: a chat-user token on an API-token route, also when it is passed
    // as `api_token`.
    let company = company(&op, "Kinds Ltd").await;
    let chat = chat(&op, &company, None).await;
    let guest = member(&op, &chat, "kind").await;
    let reply = call("GET", "/api/user")
        .bearer(&guest.token)
        .send()
        .await
        .expect(401);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("API token")
    );
    call("GET", "/api/user")
        .query("api_token", &guest.token)
        .send()
        .await
        .expect(401);
    // ... and an API token passed as `chat_user_token`.
    call("GET", "/api/chat-user")
        .query("chat_user_token", &op.token)
        .send()
        .await
        .expect(401);
}

#[tokio::test]
async fn revoked_tokens_and_deleted_users_stop_at_once() {
    let op = operator("revoke").await;
    let tokens = call("GET", "/api/tokens")
        .api(&op.token)
        .send()
        .await
        .expect(200);
    let token_id = tokens.data()[0]["id"].as_str().unwrap().to_owned();
    assert!(
        tokens.text.find(&op.token).is_none(),
        "a token list never shows secrets"
    );
    let revoked = call("DELETE", &format!("/api/tokens/{token_id}"))
        .api(&op.token)
        .send()
        .await
        .expect(200);
    assert_eq!(revoked.data()["id"], token_id.as_str());
    call("GET", "/api/user")
        .api(&op.token)
        .send()
        .await
        .expect(401);

    let op = operator("deleted-user").await;
    call("GET", "/api/user")
        .api(&op.token)
        .send()
        .await
        .expect(200);
    chat_admin::delete_user(&db().await, &op.email)
        .await
        .unwrap();
    call("GET", "/api/user")
        .api(&op.token)
        .send()
        .await
        .expect(401);
}

#[tokio::test]
async fn logging_in_issues_a_working_token_once() {
    let op = operator("login").await;
    let reply = call("POST", "/api/tokens")
        .json(
            json!({ "email": op.email.to_uppercase(), "password": op.password, "name": "laptop" }),
        )
        .send()
        .await
        .expect(201);
    let token = reply.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&token);
    assert_eq!(reply.data()["token_type"], "Bearer");
    assert_eq!(reply.data()["api_token"]["name"], "laptop");
    assert!(reply.data()["api_token"]["last_used_at"].is_null());
    call("GET", "/api/user")
        .api(&token)
        .send()
        .await
        .expect(200);

    // Form bodies work for login too.
    let reply = call("POST", "/api/tokens")
        .form(&[
            ("email", op.email.as_str()),
            ("password", op.password.as_str()),
        ])
        .send()
        .await
        .expect(201);
    remember_secret(reply.data()["token"].as_str().unwrap());

    let list = call("GET", "/api/tokens")
        .api(&token)
        .send()
        .await
        .expect(200);
    assert_eq!(list.data().as_array().unwrap().len(), 3);
    assert!(
        list.data()
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none())
    );
    let used = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "laptop")
        .unwrap();
    assert!(used["last_used_at"].is_string(), "using a token records it");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let op = operator("same-422").await;
    let wrong = call("POST", "/api/tokens")
        .json(json!({ "email": op.email, "password": "not-it" }))
        .send()
        .await
        .expect(422);
    let unknown = call("POST", "/api/tokens")
        .json(json!({ "email": unique_email("nobody"), "password": "not-it" }))
        .send()
        .await
        .expect(422);
    assert_eq!(wrong.body, unknown.body);
    let missing = call("POST", "/api/tokens")
        .json(json!({}))
        .send()
        .await
        .expect(422);
    assert!(!missing.field_errors("email").is_empty());
    assert!(!missing.field_errors("password").is_empty());
}

#[tokio::test]
async fn ten_failed_logins_throttle_the_email() {
    let op = operator("throttle").await;
    for _ in 0..10 {
        call("POST", "/api/tokens")
            .json(json!({ "email": op.email, "password": "wrong-password" }))
            .send()
            .await
            .expect(422);
    }
    // Now even the right password waits.
    let reply = call("POST", "/api/tokens")
        .json(json!({ "email": op.email, "password": op.password }))
        .send()
        .await
        .expect(429);
    let retry_after: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after));
}

#[tokio::test]
async fn companies_are_private_to_their_owner() {
    let alice = operator("alice").await;
    let bob = operator("bob").await;
    let created = call("POST", "/api/companies")
        .api(&alice.token)
        .json(json!({ "name": "  Acme  ", "website": "https://acme.example" }))
        .send()
        .await
        .expect(201);
    let company = created.data().clone();
    let id = company["id"].as_str().unwrap();
    assert_eq!(company["name"], "Acme");
    assert_eq!(company["owner_id"], alice.id.as_str());
    assert_eq!(company["website"], "https://acme.example");

    let path = format!("/api/companies/{id}");
    let got = call("GET", &path)
        .api(&alice.token)
        .send()
        .await
        .expect(200);
    assert_eq!(got.data(), &company);
    // Bob sees nothing of it: not found, never forbidden.
    call("GET", &path).api(&bob.token).send().await.expect(404);
    call("PUT", &path)
        .api(&bob.token)
        .json(json!({"name": "Mine"}))
        .send()
        .await
        .expect(404);
    call("DELETE", &path)
        .api(&bob.token)
        .send()
        .await
        .expect(404);
    let bobs = call("GET", "/api/companies")
        .api(&bob.token)
        .send()
        .await
        .expect(200);
    assert_eq!(bobs.data().as_array().unwrap().len(), 0);

    // A partial update: only the fields present change; null clears the website.
    let updated = call("PUT", &path)
        .api(&alice.token)
        .form(&[("website", "")])
        .send()
        .await
        .expect(200);
    assert_eq!(updated.data()["name"], "Acme");
    assert!(updated.data()["website"].is_null());
    let updated = call("PUT", &path)
        .api(&alice.token)
        .json(json!({"name": "Acme Corp"}))
        .send()
        .await
        .expect(200);
    assert_eq!(updated.data()["name"], "Acme Corp");
    assert!(updated.data()["website"].is_null());

    let deleted = call("DELETE", &path)
        .api(&alice.token)
        .send()
        .await
        .expect(200);
    assert_eq!(deleted.data()["name"], "Acme Corp");
    call("GET", &path)
        .api(&alice.token)
        .send()
        .await
        .expect(404);
    call("DELETE", &path)
        .api(&alice.token)
        .send()
        .await
        .expect(404);
}

#[tokio::test]
async fn a_company_with_chats_cannot_be_deleted() {
    let op = operator("conflict").await;
    let company = company(&op, "Busy Inc").await;
    let chat = chat(&op, &company, None).await;
    let path = format!("/api/companies/{company}");
    let reply = call("DELETE", &path)
        .api(&op.token)
        .send()
        .await
        .expect(409);
    assert!(reply.body["message"].as_str().unwrap().contains("chats"));
    call("DELETE", &format!("/api/chats/{chat}"))
        .api(&op.token)
        .send()
        .await
        .expect(200);
    call("DELETE", &path)
        .api(&op.token)
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn lists_page_with_opaque_cursors() {
    let op = operator("pages").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(company(&op, &format!("Company {i}")).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = call("GET", "/api/companies")
            .api(&op.token)
            .query("per_page", "2");
        if let Some(c) = &cursor {
            request = request.query("cursor", c);
        }
        let page = request.send().await.expect(200);
        assert_eq!(page.body["meta"]["per_page"], 2);
        seen.extend(
            page.data()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        match page.body["meta"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen, ids,
        "every company once, oldest first, and a null cursor at the end"
    );

    // A cursor of another tenant's list, a forged one, a bad per_page: 422.
    let other = operator("pages-other").await;
    company(&other, "A").await;
    company(&other, "B").await;
    let theirs = call("GET", "/api/companies")
        .api(&other.token)
        .query("per_page", "1")
        .send()
        .await
        .expect(200);
    let their_cursor = theirs.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = call("GET", "/api/companies")
        .api(&op.token)
        .query("cursor", &their_cursor)
        .send()
        .await
        .expect(422);
    assert!(!reply.field_errors("cursor").is_empty());
    call("GET", "/api/companies")
        .api(&op.token)
        .query("cursor", "bm9wZQ")
        .send()
        .await
        .expect(422);
    call("GET", "/api/tokens")
        .api(&op.token)
        .query("cursor", &their_cursor)
        .send()
        .await
        .expect(422);
    for bad in ["0", "101", "ten"] {
        let reply = call("GET", "/api/companies")
            .api(&op.token)
            .query("per_page", bad)
            .send()
            .await
            .expect(422);
        assert!(!reply.field_errors("per_page").is_empty());
    }
}

#[tokio::test]
async fn bad_input_gets_the_right_status_and_a_json_error() {
    let op = operator("bad-input").await;
    // 422 with every field error at once.
    let reply = call("POST", "/api/companies")
        .api(&op.token)
        .json(json!({ "name": "", "website": "ftp://nope" }))
        .send()
        .await
        .expect(422);
    assert_eq!(reply.body["message"], "The given data was invalid.");
    assert_eq!(
        reply.field_errors("name"),
        vec!["The name field is required."]
    );
    assert!(!reply.field_errors("website").is_empty());
    // Wrong JSON type on a field.
    let reply = call("POST", "/api/companies")
        .api(&op.token)
        .json(json!({ "name": 42 }))
        .send()
        .await
        .expect(422);
    assert!(reply.field_errors("name")[0].contains("string"));
    let long = "x".repeat(256);
    call("POST", "/api/companies")
        .api(&op.token)
        .json(json!({ "name": long }))
        .send()
        .await
        .expect(422);
    // 400: not JSON.
    let reply = call("POST", "/api/companies")
        .api(&op.token)
        .raw("application/json", "{\"name\": ")
        .send()
        .await
        .expect(400);
    assert!(reply.body["message"].as_str().unwrap().contains("JSON"));
    // 413: over 64 KiB.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024));
    call("POST", "/api/companies")
        .api(&op.token)
        .raw("application/json", big)
        .send()
        .await
        .expect(413);
    // 415: a format we do not read.
    call("POST", "/api/companies")
        .api(&op.token)
        .raw("text/plain", "name=x")
        .send()
        .await
        .expect(415);
    // 405 with Allow.
    let reply = call("PATCH", "/api/companies")
        .api(&op.token)
        .send()
        .await
        .expect(405);
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    let reply = call("POST", "/api/user")
        .api(&op.token)
        .send()
        .await
        .expect(405);
    assert_eq!(reply.header("allow"), Some("GET"));
    // 404: unknown routes and malformed ids, as JSON.
    let reply = call("GET", "/api/nothing-here").send().await.expect(404);
    assert!(reply.body["message"].is_string());
    call("GET", "/nope").send().await.expect(404);
    call("GET", "/api/companies/not-a-ulid")
        .api(&op.token)
        .send()
        .await
        .expect(404);
    call("DELETE", "/api/tokens/not-a-ulid")
        .api(&op.token)
        .send()
        .await
        .expect(404);
    // Unknown fields are ignored.
    call("POST", "/api/companies")
        .api(&op.token)
        .json(json!({ "name": "Fine", "colour": "blue" }))
        .send()
        .await
        .expect(201);
}

#[tokio::test]
async fn another_users_token_cannot_be_revoked() {
    let alice = operator("tok-a").await;
    let bob = operator("tok-b").await;
    let bobs = call("GET", "/api/tokens")
        .api(&bob.token)
        .send()
        .await
        .expect(200);
    let bob_token_id = bobs.data()[0]["id"].as_str().unwrap().to_owned();
    call("DELETE", &format!("/api/tokens/{bob_token_id}"))
        .api(&alice.token)
        .send()
        .await
        .expect(404);
    call("GET", "/api/user")
        .api(&bob.token)
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn an_email_belongs_to_one_user() {
    let op = operator("unique").await;
    let db = db().await;
    let err = chat_admin::create_user(&db, &op.email.to_uppercase(), "Twin", "another-password")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    // The original is untouched.
    let me = call("GET", "/api/user")
        .api(&op.token)
        .send()
        .await
        .expect(200);
    assert_eq!(me.data()["name"], "Operator unique");
}

/// Every answer that may hold a token, a code or personal data is never cached, and no
/// browser sniffs another content type than the declared one (issue: abuse resistance).
#[tokio::test]
async fn answers_are_not_cached_and_not_sniffed() {
    let owner = operator("headers").await;
    let login = call("POST", "/api/tokens")
        .json(serde_json::json!({ "email": owner.email, "password": owner.password }))
        .send()
        .await
        .expect(201);
    remember_secret(login.data()["token"].as_str().unwrap());
    let me = call("GET", "/api/user")
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    let denied = call("GET", "/api/user").send().await.expect(401);
    let missing = call("GET", "/api/nowhere").send().await.expect(404);
    for reply in [&login, &me, &denied, &missing] {
        assert_eq!(
            reply.header("cache-control"),
            Some("no-store"),
            "{}",
            reply.text
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    }
}

/// `chat-admin user delete` takes everything the operator owned with it: its chats (and
/// every item in them), companies, webhook endpoints and tokens; its guests' tokens stop
/// working at once.
#[tokio::test]
async fn deleting_an_operator_removes_everything_it_owned() {
    let room = room("deleted-owner").await;
    post_message(&room.chat, &room.ann.token, "before the owner left").await;
    call("POST", &format!("/api/companies/{}/webhooks", room.company))
        .api(&room.owner.token)
        .json(json!({ "url": "https://hooks.example.com/chat" }))
        .send()
        .await
        .expect(201);
    let (_, with_it) = chat_admin::delete_user(&db().await, &room.owner.email)
        .await
        .unwrap();
    assert_eq!(
        (with_it.chats, with_it.companies, with_it.webhooks),
        (1, 1, 1)
    );
    assert!(with_it.api_tokens >= 1);
    for guest in [&room.ann, &room.bob] {
        call("GET", &format!("/api/chats/{}/messages", room.chat))
            .bearer(&guest.token)
            .send()
            .await
            .expect(401);
    }
    call("GET", "/api/user")
        .api(&room.owner.token)
        .send()
        .await
        .expect(401);
    // The operator's partition is empty at once; the chat's once `purge` has run.
    let user_partition = format!("USER#{}", room.owner.id);
    assert_eq!(items_in_partition(&user_partition).await, 0);
    let chat_partition = format!("CHAT#{}", room.chat);
    assert!(
        eventually(60, || async {
            items_in_partition(&chat_partition).await == 0
        })
        .await,
        "the chat's items are purged"
    );
}

/// Caps, each counted in the same transaction as the item it counts: 50 API tokens per
/// operator, 50 companies per operator, 10,000 chats per company. At the cap: 409, and
/// freeing one makes room again.
#[tokio::test]
async fn operators_hold_capped_numbers_of_tokens_companies_and_chats() {
    let op = operator("caps").await;
    let login = || {
        call("POST", "/api/tokens")
            .json(json!({ "email": op.email, "password": op.password }))
            .send()
    };
    // operator() issued the first token.
    let mut newest = String::new();
    for _ in 1..50 {
        let reply = login().await.expect(201);
        remember_secret(reply.data()["token"].as_str().unwrap());
        newest = reply.data()["api_token"]["id"].as_str().unwrap().to_owned();
    }
    let refused = login().await.expect(409);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("50 API tokens")
    );
    call("DELETE", &format!("/api/tokens/{newest}"))
        .api(&op.token)
        .send()
        .await
        .expect(200);
    let again = login().await.expect(201);
    remember_secret(again.data()["token"].as_str().unwrap());

    let create_company = |name: String| {
        call("POST", "/api/companies")
            .api(&op.token)
            .json(json!({ "name": name }))
            .send()
    };
    let mut companies = Vec::new();
    for i in 0..50 {
        let reply = create_company(format!("Company {i}")).await.expect(201);
        companies.push(reply.data()["id"].as_str().unwrap().to_owned());
    }
    let refused = create_company("One too many".into()).await.expect(409);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("50 companies")
    );
    call("DELETE", &format!("/api/companies/{}", companies[0]))
        .api(&op.token)
        .send()
        .await
        .expect(200);
    create_company("In its place".into()).await.expect(201);

    // 9,999 chats, as far as the count knows; the 10,000th is created, the next refused.
    let company = &companies[1];
    dynamodb()
        .await
        .update_item()
        .table_name(table_name())
        .key("PK", storage::s(format!("COMPANY#{company}")))
        .key("SK", storage::s("COMPANY"))
        .update_expression("SET chat_count = :almost")
        .expression_attribute_values(":almost", storage::n(9_999))
        .send()
        .await
        .unwrap();
    let new_chat = || {
        call("POST", "/api/chats")
            .api(&op.token)
            .json(json!({ "company_id": company, "name": "Support" }))
            .send()
    };
    new_chat().await.expect(201);
    let refused = new_chat().await.expect(409);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("10,000 chats")
    );
}

//! Black-box tests of chat messages: permissions, limits, paging, and the ordering and
//! idempotency guarantees under concurrency (through the API and in-process).

use std::collections::BTreeSet;
use std::sync::Arc;

use api_tests::*;
use serde_json::{Value, json};

fn messages_path(chat: &str) -> String {
    format!("/api/chats/{chat}/messages")
}

async fn post(chat: &str, token: &str, body: Value) -> Reply {
    call("POST", &messages_path(chat))
        .bearer(token)
        .json(body)
        .send()
        .await
}

fn ids(reply: &Reply) -> Vec<String> {
    reply
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn only_chat_users_of_the_chat_and_members_of_its_company_post() {
    let r = room("post-perms").await;
    // A member of the chat's company posts as staff (rooms as conversations).
    let staff = post(
        &r.chat,
        &r.owner.token,
        json!({ "body": "hi from the team" }),
    )
    .await
    .expect(201);
    assert_eq!(staff.data()["author"]["type"], "staff");
    assert_eq!(staff.data()["author"]["id"], r.owner.id.as_str());
    assert!(staff.data()["chat_user_id"].is_null());
    let stranger = operator("post-perms-stranger").await;
    post(&r.chat, &stranger.token, json!({ "body": "hi" }))
        .await
        .expect(404);
    call("POST", &messages_path(&r.chat))
        .json(json!({ "body": "hi" }))
        .send()
        .await
        .expect(401);
    let elsewhere = room("post-perms-2").await;
    post(&r.chat, &elsewhere.ann.token, json!({ "body": "hi" }))
        .await
        .expect(403);
    let created = post(&r.chat, &r.ann.token, json!({ "body": "hello" }))
        .await
        .expect(201);
    assert_eq!(created.data()["chat_user_id"], r.ann.id.as_str());
    assert_eq!(created.data()["author"]["type"], "guest");
    assert_eq!(created.data()["author"]["id"], r.ann.id.as_str());
    assert_eq!(created.data()["chat_id"], r.chat.as_str());
    assert!(created.data()["edited_at"].is_null());

    // Posting moves the chat's last_message_at.
    let chat = call("GET", &format!("/api/chats/{}", r.chat))
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(200);
    assert!(chat.data()["last_message_at"].is_string());
}

#[tokio::test]
async fn bodies_are_checked_and_kept_byte_for_byte() {
    let r = room("limits").await;
    for body in [
        json!(""),
        json!("   \n\t "),
        json!("x".repeat(5001)),
        json!(12),
        json!(null),
    ] {
        let reply = post(&r.chat, &r.ann.token, json!({ "body": body }))
            .await
            .expect(422);
        assert!(!reply.field_errors("body").is_empty(), "{body}");
    }
    let reply = post(&r.chat, &r.ann.token, json!({})).await.expect(422);
    assert_eq!(
        reply.field_errors("body"),
        vec!["The body field is required."]
    );
    post(
        &r.chat,
        &r.ann.token,
        json!({ "body": "x", "client_id": "c".repeat(65) }),
    )
    .await
    .expect(422);

    for text in [
        "x".to_owned(),
        "ü".repeat(5000),
        "  padded, with a trailing newline\n".to_owned(),
        "emoji 👩‍👩‍👧‍👦🫖 and right-to-left: שלום עולם, مرحبا بالعالم".to_owned(),
    ] {
        let created = post(&r.chat, &r.ann.token, json!({ "body": text }))
            .await
            .expect(201);
        assert_eq!(created.data()["body"], text.as_str());
        let id = created.data()["id"].as_str().unwrap();
        let read = call("GET", &format!("{}/{id}", messages_path(&r.chat)))
            .bearer(&r.bob.token)
            .send()
            .await
            .expect(200);
        assert_eq!(
            read.data()["body"].as_str().unwrap().as_bytes(),
            text.as_bytes()
        );
    }
    // Form bodies too.
    let created = call("POST", &messages_path(&r.chat))
        .bearer(&r.ann.token)
        .form(&[("body", "from a form ✓")])
        .send()
        .await
        .expect(201);
    assert_eq!(created.data()["body"], "from a form ✓");
}

#[tokio::test]
async fn authors_edit_and_authors_or_owners_delete() {
    let r = room("edit").await;
    let created = post(&r.chat, &r.ann.token, json!({ "body": "first" }))
        .await
        .expect(201);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let path = format!("{}/{id}", messages_path(&r.chat));

    call("PUT", &path)
        .bearer(&r.bob.token)
        .json(json!({ "body": "mine now" }))
        .send()
        .await
        .expect(403);
    // A member edits only its own messages: a guest's is not its to change.
    call("PUT", &path)
        .api(&r.owner.token)
        .json(json!({ "body": "owner edit" }))
        .send()
        .await
        .expect(403);
    call("PUT", &path)
        .bearer(&r.ann.token)
        .json(json!({ "body": " " }))
        .send()
        .await
        .expect(422);
    let edited = call("PUT", &path)
        .bearer(&r.ann.token)
        .json(json!({ "body": "first (edited)" }))
        .send()
        .await
        .expect(200);
    assert_eq!(edited.data()["body"], "first (edited)");
    assert!(edited.data()["edited_at"].is_string());
    assert_eq!(edited.data()["created_at"], created.data()["created_at"]);

    call("DELETE", &path)
        .bearer(&r.bob.token)
        .send()
        .await
        .expect(403);
    let stranger = operator("edit-stranger").await;
    call("DELETE", &path)
        .api(&stranger.token)
        .send()
        .await
        .expect(404);
    call("GET", &path)
        .api(&stranger.token)
        .send()
        .await
        .expect(404);
    let deleted = call("DELETE", &path)
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(200);
    assert_eq!(deleted.data()["id"], id.as_str());
    call("GET", &path)
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(404);

    // The owner moderates.
    let other = post(&r.chat, &r.bob.token, json!({ "body": "spam" }))
        .await
        .expect(201);
    let other_path = format!(
        "{}/{}",
        messages_path(&r.chat),
        other.data()["id"].as_str().unwrap()
    );
    call("DELETE", &other_path)
        .api(&r.owner.token)
        .send()
        .await
        .expect(200);
    call("GET", &other_path)
        .api(&r.owner.token)
        .send()
        .await
        .expect(404);
    call("GET", &format!("{}/not-an-id", messages_path(&r.chat)))
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(404);
}

#[tokio::test]
async fn a_deleted_chat_users_messages_stay() {
    let r = room("stay").await;
    let kept = post(&r.chat, &r.bob.token, json!({ "body": "bye" }))
        .await
        .expect(201);
    call(
        "DELETE",
        &format!("/api/chats/{}/users/{}", r.chat, r.bob.id),
    )
    .api(&r.owner.token)
    .send()
    .await
    .expect(200);
    let list = call("GET", &messages_path(&r.chat))
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(200);
    assert_eq!(
        ids(&list),
        vec![kept.data()["id"].as_str().unwrap().to_owned()]
    );
    post(&r.chat, &r.bob.token, json!({ "body": "ghost" }))
        .await
        .expect(401);
}

#[tokio::test]
async fn pages_walk_both_ways_and_bad_cursors_are_422() {
    let r = room("paging").await;
    let mut sent = Vec::new();
    for i in 0..7 {
        let token = if i % 2 == 0 {
            &r.ann.token
        } else {
            &r.bob.token
        };
        let reply = post(&r.chat, token, json!({ "body": format!("m{i}") }))
            .await
            .expect(201);
        sent.push(reply.data()["id"].as_str().unwrap().to_owned());
    }
    let path = messages_path(&r.chat);
    let latest = call("GET", &path)
        .bearer(&r.ann.token)
        .query("per_page", "3")
        .send()
        .await
        .expect(200);
    assert_eq!(
        ids(&latest),
        sent[4..7].to_vec(),
        "the latest page, oldest first"
    );
    assert_eq!(latest.body["meta"]["has_more"], true);
    assert_eq!(latest.body["meta"]["per_page"], 3);
    let before = call("GET", &path)
        .api(&r.owner.token)
        .query("per_page", "3")
        .query("before", &sent[4])
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&before), sent[1..4].to_vec());
    assert_eq!(before.body["meta"]["has_more"], true);
    let first = call("GET", &path)
        .bearer(&r.ann.token)
        .query("per_page", "3")
        .query("before", &sent[1])
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&first), sent[0..1].to_vec());
    assert_eq!(first.body["meta"]["has_more"], false);
    let after = call("GET", &path)
        .bearer(&r.bob.token)
        .query("after", &sent[2])
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&after), sent[3..7].to_vec());
    assert_eq!(after.body["meta"]["has_more"], false);
    assert_eq!(after.body["meta"]["per_page"], 50);
    let nothing_new = call("GET", &path)
        .bearer(&r.bob.token)
        .query("after", &sent[6])
        .send()
        .await
        .expect(200);
    assert!(ids(&nothing_new).is_empty());

    for (name, value) in [
        ("before", "nope"),
        ("after", "01ARZ3NDEKTSV4RRFFQ69G5FA"),
        ("per_page", "0"),
        ("per_page", "101"),
    ] {
        let reply = call("GET", &path)
            .bearer(&r.ann.token)
            .query(name, value)
            .send()
            .await
            .expect(422);
        assert!(
            !reply.field_errors(name).is_empty(),
            "{name}={value}: {}",
            reply.text
        );
    }
    call("GET", &path)
        .bearer(&r.ann.token)
        .query("before", &sent[1])
        .query("after", &sent[0])
        .send()
        .await
        .expect(422);
}

#[tokio::test]
async fn two_guests_polling_see_each_others_messages_in_order() {
    let r = room("polling").await;
    let path = messages_path(&r.chat);
    let mut ann_cursor: Option<String> = None;
    let mut ann_saw = Vec::new();
    let mut sent = Vec::new();
    for round in 0..5 {
        for (who, token) in [("ann", &r.ann.token), ("bob", &r.bob.token)] {
            let reply = post(&r.chat, token, json!({ "body": format!("{who} {round}") }))
                .await
                .expect(201);
            sent.push(reply.data()["id"].as_str().unwrap().to_owned());
        }
        let mut request = call("GET", &path).bearer(&r.ann.token);
        if let Some(c) = &ann_cursor {
            request = request.query("after", c);
        }
        let page = request.send().await.expect(200);
        let new = ids(&page);
        if let Some(last) = new.last() {
            ann_cursor = Some(last.clone());
        }
        ann_saw.extend(new);
    }
    assert_eq!(ann_saw, sent);
}

/// Walks the whole chat backwards from the latest page, then forwards from the start.
async fn walk(chat: &str, token: &str, per_page: usize) -> (Vec<String>, Vec<String>) {
    let path = messages_path(chat);
    let mut backwards: Vec<String> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut request = call("GET", &path)
            .bearer(token)
            .query("per_page", &per_page.to_string());
        if let Some(b) = &before {
            request = request.query("before", b);
        }
        let page = request.send().await.expect(200);
        let mut page_ids = ids(&page);
        if page_ids.is_empty() {
            break;
        }
        before = Some(page_ids[0].clone());
        page_ids.extend(backwards);
        backwards = page_ids;
        if page.body["meta"]["has_more"] == false {
            break;
        }
    }
    let mut forwards: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut request = call("GET", &path)
            .bearer(token)
            .query("per_page", &per_page.to_string());
        request = match &after {
            Some(a) => request.query("after", a),
            // The very first page forwards: everything before the oldest id there is.
            None => request.query("after", "00000000000000000000000000"),
        };
        let page = request.send().await.expect(200);
        let page_ids = ids(&page);
        if let Some(last) = page_ids.last() {
            after = Some(last.clone());
        }
        let more = page.body["meta"]["has_more"] == true;
        forwards.extend(page_ids);
        if !more {
            break;
        }
    }
    (backwards, forwards)
}

fn assert_exactly_once_in_order(walked: &[String], expected: &BTreeSet<String>, what: &str) {
    let unique: BTreeSet<String> = walked.iter().cloned().collect();
    assert_eq!(unique.len(), walked.len(), "{what}: a message came twice");
    assert!(
        walked.windows(2).all(|w| w[0] < w[1]),
        "{what}: out of order"
    );
    assert!(
        expected.is_subset(&unique),
        "{what}: {} messages missing",
        expected.difference(&unique).count()
    );
}

#[tokio::test]
async fn two_hundred_parallel_posts_are_all_stored_once_in_order() {
    let r = room("parallel").await;
    let c1 = member(&r.owner, &r.chat, "carl").await;
    let d1 = member(&r.owner, &r.chat, "dora").await;
    let tokens = [
        r.ann.token.clone(),
        r.bob.token.clone(),
        c1.token.clone(),
        d1.token.clone(),
    ];
    let posts: Vec<_> = (0..200)
        .map(|i| {
            let chat = r.chat.clone();
            let token = tokens[i % tokens.len()].clone();
            async move {
                let reply = post(&chat, &token, json!({ "body": format!("parallel {i}") }))
                    .await
                    .expect(201);
                reply.data()["id"].as_str().unwrap().to_owned()
            }
        })
        .collect();
    let before = events(&r.chat, &r.owner.token, 0).await.len() as u64;
    let created: BTreeSet<String> = in_parallel(posts, 24).await.into_iter().collect();
    assert_eq!(created.len(), 200);

    let (backwards, forwards) = walk(&r.chat, &r.ann.token, 30).await;
    assert_eq!(backwards.len(), 200);
    assert_eq!(forwards.len(), 200);
    assert_exactly_once_in_order(&backwards, &created, "backwards");
    assert_exactly_once_in_order(&forwards, &created, "forwards");

    // The event log: one dense seq range, each message once, in message-id order.
    let mut log = Vec::new();
    let mut after = before;
    loop {
        let page = events(&r.chat, &r.owner.token, after).await;
        let Some(last) = page.last() else { break };
        after = last["seq"].as_u64().unwrap();
        log.extend(page);
    }
    let seqs: Vec<u64> = log.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (before + 1..=before + 200).collect::<Vec<_>>(),
        "dense"
    );
    assert!(log.iter().all(|e| e["type"] == "message.created"));
    let logged: Vec<String> = log
        .iter()
        .map(|e| e["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_exactly_once_in_order(&logged, &created, "the event log");
}

/// The chat's events after `after`, one page of up to 100.
async fn events(chat: &str, token: &str, after: u64) -> Vec<Value> {
    call("GET", &format!("/api/chats/{chat}/events"))
        .bearer(token)
        .query("after", &after.to_string())
        .send()
        .await
        .expect(200)
        .body["data"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_poller_misses_nothing_while_messages_keep_arriving() {
    let r = room("moving").await;
    // Ann and Bob send 60 each: within one chat user's sending rate (60 a minute).
    for i in 0..40 {
        let token = if i % 2 == 0 {
            &r.ann.token
        } else {
            &r.bob.token
        };
        post(&r.chat, token, json!({ "body": format!("before {i}") }))
            .await
            .expect(201);
    }
    // Writers keep posting while a reader pages forwards with `after`.
    let writers: Vec<_> = (0..80)
        .map(|i| {
            let chat = r.chat.clone();
            let token = if i % 2 == 0 {
                r.ann.token.clone()
            } else {
                r.bob.token.clone()
            };
            async move {
                let reply = post(&chat, &token, json!({ "body": format!("during {i}") }))
                    .await
                    .expect(201);
                reply.data()["id"].as_str().unwrap().to_owned()
            }
        })
        .collect();
    let chat = r.chat.clone();
    let reader_token = r.bob.token.clone();
    let reader = tokio::spawn(async move {
        let mut seen: Vec<String> = Vec::new();
        let mut after = "00000000000000000000000000".to_owned();
        let mut idle_rounds = 0;
        // Poll until nothing new arrives for a while after the writers are done.
        while idle_rounds < 40 {
            let page = call("GET", &messages_path(&chat))
                .bearer(&reader_token)
                .query("after", &after)
                .query("per_page", "7")
                .send()
                .await
                .expect(200);
            let page_ids = ids(&page);
            match page_ids.last() {
                Some(last) => {
                    after = last.clone();
                    idle_rounds = 0;
                }
                None => idle_rounds += 1,
            }
            seen.extend(page_ids);
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        seen
    });
    // And a walk backwards from the latest page, while the writers are busy: it must
    // see every message older than where it started, once, in order.
    let chat = r.chat.clone();
    let walker_token = r.ann.token.clone();
    let backwards = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        walk(&chat, &walker_token, 9).await.0
    });
    let during: BTreeSet<String> = in_parallel(writers, 8).await.into_iter().collect();
    let seen = reader.await.unwrap();
    assert_eq!(seen.len(), 120, "every message exactly once");
    assert_exactly_once_in_order(&seen, &during, "polling forwards");
    let walked_back = backwards.await.unwrap();
    let before: BTreeSet<String> = seen[..40].iter().cloned().collect();
    assert_exactly_once_in_order(&walked_back, &before, "walking backwards while posting");
    let newest_walked = walked_back.last().unwrap();
    let expected: Vec<&String> = seen.iter().filter(|id| *id <= newest_walked).collect();
    assert_eq!(
        walked_back.iter().collect::<Vec<_>>(),
        expected,
        "nothing older was skipped"
    );
}

#[tokio::test]
async fn the_same_client_id_twenty_times_at_once_makes_one_message() {
    let r = room("idempotent").await;
    let sends: Vec<_> = (0..20)
        .map(|_| {
            let chat = r.chat.clone();
            let token = r.ann.token.clone();
            async move {
                let reply = post(
                    &chat,
                    &token,
                    json!({ "body": "once", "client_id": "tab-1-msg-1" }),
                )
                .await;
                (
                    reply.status.as_u16(),
                    reply.data()["id"].as_str().unwrap().to_owned(),
                )
            }
        })
        .collect();
    let results = in_parallel(sends, 20).await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let repeated = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, repeated), (1, 19), "{results:?}");
    let unique: BTreeSet<&String> = results.iter().map(|(_, id)| id).collect();
    assert_eq!(unique.len(), 1);
    // Another chat user may use the same client_id for its own message.
    post(
        &r.chat,
        &r.bob.token,
        json!({ "body": "mine", "client_id": "tab-1-msg-1" }),
    )
    .await
    .expect(201);
    let list = call("GET", &messages_path(&r.chat))
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&list).len(), 2);
}

/// `cargo lambda watch` runs a few instances per function; here the handlers run in
/// this process on a multi-threaded runtime, many at once, so the writes collide in
/// DynamoDB (moto) as they would across many Lambda instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn handlers_racing_in_process_keep_order_and_idempotency() {
    let r = room("in-process").await;
    let app = Arc::new(chat_messages::App::from_env().unwrap());
    let request = |token: &str, body: Value| {
        let event = json!({
            "version": "2.0",
            "routeKey": "ANY /api/chats/{chat_id}/messages",
            "rawPath": messages_path(&r.chat),
            "rawQueryString": "",
            "headers": { "authorization": format!("Bearer {token}"), "content-type": "application/json" },
            "requestContext": {
                "http": { "method": "POST", "path": messages_path(&r.chat), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test" },
                "requestId": ulid::Ulid::new().to_string(), "routeKey": "ANY /api/chats/{chat_id}/messages", "stage": "$default",
                "accountId": "1", "apiId": "local", "domainName": "localhost", "time": "", "timeEpoch": 0
            },
            "body": body.to_string(),
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    };
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let app = app.clone();
        let token = if i % 2 == 0 {
            r.ann.token.clone()
        } else {
            r.bob.token.clone()
        };
        // Every tenth send repeats one client_id of ann's.
        let body = if i % 10 == 0 {
            json!({ "body": "dedup", "client_id": "same" })
        } else {
            json!({ "body": format!("in-process {i}") })
        };
        let req = request(&token, body);
        tasks.spawn(async move {
            let response = chat_messages::handle(&app, req).await;
            let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
            (
                response.status().as_u16(),
                body["data"]["id"].as_str().unwrap_or_default().to_owned(),
            )
        });
    }
    let mut statuses = Vec::new();
    while let Some(done) = tasks.join_next().await {
        statuses.push(done.unwrap());
    }
    assert!(
        statuses.iter().all(|(s, _)| *s == 201 || *s == 200),
        "{statuses:?}"
    );
    let dedup_ids: BTreeSet<&String> = statuses
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, id)| id)
        .collect();
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 200).count(), 9);
    assert_eq!(dedup_ids.len(), 1);
    let created: BTreeSet<String> = statuses
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(created.len(), 91);
    let (backwards, forwards) = walk(&r.chat, &r.ann.token, 40).await;
    assert_eq!(backwards.len(), 91);
    assert_exactly_once_in_order(&backwards, &created, "backwards");
    assert_exactly_once_in_order(&forwards, &created, "forwards");
}

/// The size limit bounds what is stored (a visible "a" with 60,000 spaces is refused), and
/// a page of big messages is filled past DynamoDB's 1 MB page: `has_more` tells the truth.
#[tokio::test]
async fn big_messages_fill_their_page_and_padding_counts() {
    let room = room("paging-big").await;
    let padded = format!("a{}", " ".repeat(60_000));
    let refused = post(&room.chat, &room.ann.token, json!({ "body": padded }))
        .await
        .expect(422);
    assert!(!refused.field_errors("body").is_empty());

    for i in 0..40 {
        post(
            &room.chat,
            &room.ann.token,
            json!({ "body": format!("small {i}") }),
        )
        .await
        .expect(201);
    }
    // 60 messages of 5,000 four-byte characters: about 1.2 MB, more than one DynamoDB page.
    let big = "👋".repeat(5000);
    for _ in 0..60 {
        post(&room.chat, &room.bob.token, json!({ "body": big }))
            .await
            .expect(201);
    }
    let page = call("GET", &messages_path(&room.chat))
        .bearer(&room.ann.token)
        .query("per_page", "100")
        .send()
        .await
        .expect(200);
    let got = page.body["data"].as_array().unwrap();
    assert_eq!(got.len(), 100, "the page is full");
    assert_eq!(page.body["meta"]["has_more"], false, "exactly 100 exist");
    let page = call("GET", &messages_path(&room.chat))
        .bearer(&room.ann.token)
        .query("per_page", "70")
        .send()
        .await
        .expect(200);
    assert_eq!(page.body["data"].as_array().unwrap().len(), 70);
    assert_eq!(page.body["meta"]["has_more"], true, "30 older ones remain");
}

/// One chat user sends at most `MESSAGES_PER_MINUTE` (60 here, the default) in a minute
/// window; others in the chat are not slowed by it, and nothing refused is stored.
#[tokio::test]
async fn a_chat_user_sending_too_fast_is_told_to_wait() {
    let room = room("sending-rate").await;
    // 121 sends within a minute span at most two windows, so at most 120 are taken.
    let mut sent = 0;
    let mut refused = None;
    let started = std::time::Instant::now();
    for i in 0..121 {
        let reply = post(
            &room.chat,
            &room.ann.token,
            json!({ "body": format!("fast {i}") }),
        )
        .await;
        if reply.status == 429 {
            refused = Some(reply);
            break;
        }
        reply.expect(201);
        sent += 1;
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the sends took a minute or more; the test cannot judge the window"
    );
    let refused = refused.expect("a chat user sending 121 messages in a minute is stopped");
    assert!(
        (60..=120).contains(&sent),
        "{sent} messages went through first"
    );
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("too fast")
    );
    // Bob is not slowed by Ann, and what Ann was refused is not in the chat.
    post(&room.chat, &room.bob.token, json!({ "body": "bob's turn" }))
        .await
        .expect(201);
    let page = call("GET", &messages_path(&room.chat))
        .bearer(&room.bob.token)
        .query("per_page", "100")
        .send()
        .await
        .expect(200);
    let newest = page.data().as_array().unwrap().last().unwrap().clone();
    assert_eq!(newest["body"], "bob's turn");
    let ann_count = page
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["chat_user_id"] == room.ann.id.as_str())
        .count();
    assert_eq!(ann_count, sent.min(99));
}

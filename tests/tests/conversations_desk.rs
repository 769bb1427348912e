//! The support desk from its users' seats, against the local stack: visitors opening
//! their own conversations at a company's front door (by email code, or vouched for by
//! the company's site), two visitors never seeing each other's anything, staff replies
//! and notes (which reach no guest surface), assignment and status by the role rules,
//! and the inbox paged by both sorts while conversations move.

use std::collections::{HashMap, HashSet};

use api_tests::live::*;
use api_tests::*;
use serde_json::{Value, json};

/// A visitor at a company's front door, with its conversation.
struct Visitor {
    email: String,
    token: String,
    chat: String,
    chat_user: String,
}

/// Opens a visitor's conversation with `company` by email code.
async fn visitor(company: &str, name: &str) -> Visitor {
    let email = unique_email(&name.replace(' ', "-").to_lowercase());
    let reply = front_door(company, &email, name).await;
    let token = reply.data()["token"].as_str().unwrap().to_owned();
    assert_eq!(reply.data()["chat"]["kind"], "conversation");
    assert_eq!(reply.data()["chat"]["status"], "open");
    assert!(
        reply.data()["chat"].get("assignee_id").is_none(),
        "a guest's view has no assignee: {}",
        reply.text
    );
    Visitor {
        email,
        token,
        chat: reply.data()["chat"]["id"].as_str().unwrap().to_owned(),
        chat_user: reply.data()["chat_user"]["id"].as_str().unwrap().to_owned(),
    }
}

/// The first email to `address` after its first `skip` whose subject names `what`
/// (within a minute).
async fn email_after(address: &str, skip: usize, what: &str) -> (String, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let found = emails_to(address)
            .await
            .into_iter()
            .skip(skip)
            .find(|(subject, _)| subject.contains(what));
        if let Some(found) = found {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "no {what} email");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn post(chat: &str, token: &str, body: Value) -> Value {
    call("POST", &format!("/api/chats/{chat}/messages"))
        .bearer(token)
        .json(body)
        .send()
        .await
        .expect(201)
        .data()
        .clone()
}

async fn messages(chat: &str, token: &str) -> Vec<Value> {
    call("GET", &format!("/api/chats/{chat}/messages"))
        .bearer(token)
        .send()
        .await
        .expect(200)
        .data()
        .as_array()
        .unwrap()
        .clone()
}

async fn events(chat: &str, token: &str) -> Reply {
    call("GET", &format!("/api/chats/{chat}/events"))
        .bearer(token)
        .send()
        .await
        .expect(200)
}

async fn staff_chat(chat: &str, token: &str) -> Value {
    call("GET", &format!("/api/chats/{chat}"))
        .bearer(token)
        .send()
        .await
        .expect(200)
        .data()
        .clone()
}

#[tokio::test]
async fn two_visitors_of_one_company_never_see_each_other_s_anything() {
    let owner = operator("desk-two").await;
    let company = company(&owner, "Two Visitors Shop").await;
    let ann = visitor(&company, "Ann Two").await;
    let bob = visitor(&company, "Bob Two").await;
    assert_ne!(
        ann.chat, bob.chat,
        "each visitor has a conversation of its own"
    );
    let mut bob_socket = Socket::open(&bob.token, &bob.chat).await;

    post(
        &ann.chat,
        &ann.token,
        json!({ "body": "Ann here, order #4411" }),
    )
    .await;
    let reply = post(
        &ann.chat,
        &owner.token,
        json!({ "body": "Order #4411 ships tomorrow" }),
    )
    .await;
    assert_eq!(reply["author"]["type"], "staff");
    assert_eq!(reply["author"]["id"], owner.id.as_str());
    assert!(reply["chat_user_id"].is_null());

    // Bob's socket hears nothing of Ann's conversation, and its own list is its own.
    let heard = bob_socket.next_within(QUIET_WAIT).await;
    assert!(heard.is_none(), "bob heard {heard:?}");
    let bobs = messages(&bob.chat, &bob.token).await;
    assert!(bobs.is_empty(), "{bobs:?}");
    let users = call("GET", &format!("/api/chats/{}/users", bob.chat))
        .bearer(&bob.token)
        .send()
        .await
        .expect(200);
    let listed: Vec<&str> = users
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [bob.chat_user.as_str()],
        "a guest lists only itself"
    );
    // Ann's conversation is closed to Bob's token, every route of it.
    for path in ["", "/messages", "/events", "/users"] {
        let reply = call("GET", &format!("/api/chats/{}{path}", ann.chat))
            .bearer(&bob.token)
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 403, "{path}: {}", reply.text);
    }
    // Nor does any email Bob gets name Ann's order.
    for (subject, body) in emails_to(&bob.email).await {
        assert!(
            !body.contains("4411") && !subject.contains("4411"),
            "{subject}"
        );
    }
    // Each sees its own conversation in its token's chat, and only that.
    let own = call("GET", "/api/chat-user")
        .bearer(&ann.token)
        .send()
        .await
        .expect(200);
    assert_eq!(own.data()["chat"]["id"], ann.chat.as_str());
    assert!(own.data()["chat"].get("assignee_id").is_none());
}

#[tokio::test]
async fn notes_reach_no_guest_surface_and_replies_name_the_company() {
    let owner = operator("desk-notes").await;
    let company = company(&owner, "Notes Shop").await;
    let guest = visitor(&company, "Nora Notes").await;
    let mut socket = Socket::open(&guest.token, &guest.chat).await;

    // A guest cannot write a note.
    let refused = call("POST", &format!("/api/chats/{}/messages", guest.chat))
        .bearer(&guest.token)
        .json(json!({ "body": "psst", "internal": true }))
        .send()
        .await
        .expect(422);
    assert!(!refused.field_errors("internal").is_empty());

    let note = post(
        &guest.chat,
        &owner.token,
        json!({ "body": "NOTE: refund approved internally", "internal": true }),
    )
    .await;
    assert_eq!(note["internal"], true);
    let reply = post(
        &guest.chat,
        &owner.token,
        json!({ "body": "Your refund is on its way" }),
    )
    .await;
    // The socket's first message is the reply: the note, posted before it, never came.
    let frame = loop {
        let frame = socket
            .next_within(PUSH_WAIT)
            .await
            .expect("the reply arrives");
        if frame["type"] == "message.created" {
            break frame;
        }
    };
    assert_eq!(frame["data"]["id"], reply["id"]);
    assert_eq!(frame["data"]["author"]["type"], "staff");

    let listed = messages(&guest.chat, &guest.token).await;
    let ids: Vec<&Value> = listed.iter().map(|m| &m["id"]).collect();
    assert_eq!(ids, [&reply["id"]], "the guest's list has no note");
    let staff_list = messages(&guest.chat, &owner.token).await;
    assert_eq!(staff_list.len(), 2, "members see the note");
    call(
        "GET",
        &format!(
            "/api/chats/{}/messages/{}",
            guest.chat,
            note["id"].as_str().unwrap()
        ),
    )
    .bearer(&guest.token)
    .send()
    .await
    .expect(404);

    // The guest's log has a gap where the note is, and says where the head is.
    let log = events(&guest.chat, &guest.token).await;
    let seqs: Vec<u64> = log
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert!(!seqs.contains(&note["seq"].as_u64().unwrap()), "{seqs:?}");
    assert!(seqs.contains(&reply["seq"].as_u64().unwrap()));
    assert_eq!(log.body["meta"]["last_seq"], reply["seq"]);
    assert!(!log.text.contains("refund approved internally"));
    // A page of one never comes back empty while more follow.
    let one = call("GET", &format!("/api/chats/{}/events", guest.chat))
        .bearer(&guest.token)
        .query("after", &(note["seq"].as_u64().unwrap() - 1).to_string())
        .query("per_page", "1")
        .send()
        .await
        .expect(200);
    assert_eq!(one.data().as_array().unwrap().len(), 1, "{}", one.text);
    assert_eq!(one.data()[0]["seq"], reply["seq"]);

    // The unread-message email (the guest is away) and the transcript name the company's
    // member as the company's, and leave the note out.
    drop(socket);
    let before = emails_to(&guest.email).await.len();
    post(
        &guest.chat,
        &owner.token,
        json!({ "body": "Anything else we can do?" }),
    )
    .await;
    let (_, body) = email_after(&guest.email, before, "unread").await;
    assert!(body.contains("(Notes Shop)"), "{body}");
    assert!(!body.contains("refund approved internally"), "{body}");
    let before = emails_settled(&guest.email).await;
    call(
        "POST",
        &format!(
            "/api/chats/{}/users/{}/transcript",
            guest.chat, guest.chat_user
        ),
    )
    .bearer(&guest.token)
    .send()
    .await
    .expect(202);
    let (_, body) = email_after(&guest.email, before, "Transcript").await;
    assert!(body.contains("Your refund is on its way"));
    assert!(!body.contains("refund approved internally"), "{body}");
}

#[tokio::test]
async fn status_and_assignment_follow_the_role_rules() {
    let owner = operator("desk-rules").await;
    let company = company(&owner, "Rules Shop").await;
    let agent = teammate(&owner, &company, "agent", "all", "desk-agent").await;
    let admin = teammate(&owner, &company, "admin", "all", "desk-admin").await;
    let guest = visitor(&company, "Rita Rules").await;
    let chat = guest.chat.clone();
    let assign = |token: String, assignee: Value| {
        let chat = chat.clone();
        async move {
            call("POST", &format!("/api/chats/{chat}/assign"))
                .bearer(&token)
                .json(json!({ "assignee_id": assignee }))
                .send()
                .await
        }
    };
    let assigned = assign(agent.token.clone(), json!(agent.id))
        .await
        .expect(200);
    assert_eq!(assigned.data()["assignee_id"], agent.id.as_str());
    assign(agent.token.clone(), json!(admin.id))
        .await
        .expect(403);
    assign(admin.token.clone(), json!(admin.id))
        .await
        .expect(200);
    // The agent may not take another's conversation off it.
    assign(agent.token.clone(), Value::Null).await.expect(403);
    let stranger = operator("desk-stranger").await;
    let not_member = assign(owner.token.clone(), json!(stranger.id))
        .await
        .expect(422);
    assert!(!not_member.field_errors("assignee_id").is_empty());
    assign(stranger.token.clone(), json!(stranger.id))
        .await
        .expect(404);
    assign(guest.token.clone(), json!(agent.id))
        .await
        .expect(401);
    let room = chat_in(&owner, &company).await;
    call("POST", &format!("/api/chats/{room}/assign"))
        .bearer(&owner.token)
        .json(json!({ "assignee_id": owner.id }))
        .send()
        .await
        .expect(409);

    let status = |token: String, body: Value| {
        let chat = chat.clone();
        async move {
            call("POST", &format!("/api/chats/{chat}/status"))
                .bearer(&token)
                .json(body)
                .send()
                .await
        }
    };
    let pending = status(agent.token.clone(), json!({ "status": "pending" }))
        .await
        .expect(200);
    assert_eq!(pending.data()["status"], "pending");
    status(agent.token.clone(), json!({ "status": "snoozed" }))
        .await
        .expect(422);
    status(
        agent.token.clone(),
        json!({ "status": "snoozed", "snoozed_until": "2020-01-01T00:00:00Z" }),
    )
    .await
    .expect(422);
    status(
        agent.token.clone(),
        json!({ "status": "resolved", "snoozed_until": "2099-01-01T00:00:00Z" }),
    )
    .await
    .expect(422);
    status(agent.token.clone(), json!({ "status": "closed" }))
        .await
        .expect(422);
    // A guest message opens a pending conversation again, and the team owes an answer;
    // the log says so right after the message, as a member's change would.
    let reopening = post(&chat, &guest.token, json!({ "body": "Still there?" })).await;
    let now = staff_chat(&chat, &agent.token).await;
    assert_eq!(now["status"], "open");
    let after_it = call("GET", &format!("/api/chats/{chat}/events"))
        .bearer(&owner.token)
        .query("after", &reopening["seq"].to_string())
        .send()
        .await
        .expect(200);
    let reopened = &after_it.data()[0];
    assert_eq!(reopened["type"], "chat.status_changed", "{reopened}");
    assert_eq!(reopened["data"]["status"], "open", "{reopened}");
    assert_eq!(
        reopened["seq"].as_u64(),
        reopening["seq"].as_u64().map(|seq| seq + 1)
    );
    assert!(now["waiting_since"].is_string(), "{now}");
    assert!(now["first_response_at"].is_null(), "{now}");
    post(&chat, &agent.token, json!({ "body": "Yes, looking" })).await;
    let answered = staff_chat(&chat, &agent.token).await;
    assert!(answered["waiting_since"].is_null(), "{answered}");
    assert!(answered["first_response_at"].is_string(), "{answered}");

    // A snooze ends by itself.
    let until = domain::clock::rfc3339(domain::clock::now_millis() + 3_000);
    let snoozed = status(
        agent.token.clone(),
        json!({ "status": "snoozed", "snoozed_until": until }),
    )
    .await
    .expect(200);
    assert_eq!(snoozed.data()["status"], "snoozed");
    let woke = eventually(60, || async {
        staff_chat(&chat, &agent.token).await["status"] == "open"
    })
    .await;
    assert!(woke, "the snooze ended by itself");
    assert!(staff_chat(&chat, &agent.token).await["snoozed_until"].is_null());

    // The guest saw status changes as chat.updated with the status only, and no
    // assignment at all; members see both kinds.
    let guest_log = events(&chat, &guest.token).await;
    let kinds: Vec<&str> = guest_log
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"chat.assigned"), "{kinds:?}");
    assert!(!kinds.contains(&"chat.status_changed"), "{kinds:?}");
    let updates: Vec<&Value> = guest_log
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "chat.updated")
        .collect();
    assert!(!updates.is_empty());
    for update in updates {
        let keys: HashSet<&str> = update["data"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, HashSet::from(["id", "status"]), "{update}");
    }
    let staff_log = events(&chat, &owner.token).await;
    let staff_kinds: Vec<&str> = staff_log
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(staff_kinds.contains(&"chat.assigned"));
    assert!(staff_kinds.contains(&"chat.status_changed"));
    // Staff ids show only as message authors: never an assignee.
    assert!(
        !guest_log.text.contains("assignee_id"),
        "{}",
        guest_log.text
    );

    // A member that leaves leaves its conversations to the team.
    assert_eq!(
        staff_chat(&chat, &owner.token).await["assignee_id"],
        admin.id.as_str()
    );
    call(
        "DELETE",
        &format!("/api/companies/{company}/members/{}", admin.id),
    )
    .bearer(&owner.token)
    .send()
    .await
    .expect(200);
    assert!(staff_chat(&chat, &owner.token).await["assignee_id"].is_null());

    // A conversation has no password, no share, and no second visitor.
    call("POST", &format!("/api/chats/{chat}/share"))
        .bearer(&owner.token)
        .send()
        .await
        .expect(409);
    call("PUT", &format!("/api/chats/{chat}"))
        .bearer(&owner.token)
        .json(json!({ "password": "a long enough shared phrase 2026" }))
        .send()
        .await
        .expect(409);
    call("POST", &format!("/api/chats/{chat}/users"))
        .bearer(&owner.token)
        .json(json!({ "email": unique_email("second-visitor"), "name": "Second" }))
        .send()
        .await
        .expect(409);
}

/// A room of the company (the seed's kind of chat).
async fn chat_in(owner: &Operator, company: &str) -> String {
    chat(owner, company, None).await
}

/// Signs a site's identity token for its visitor.
fn identity_token(secret: &str, claims: Value) -> String {
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    remember_secret(&token);
    token
}

#[tokio::test]
async fn a_site_vouches_for_its_visitors_by_sub_never_by_email() {
    let owner = operator("desk-identify").await;
    let company = company(&owner, "Identity Shop").await;
    let agent = teammate(&owner, &company, "agent", "all", "identify-agent").await;
    let identify = |token: String| {
        let company = company.clone();
        async move {
            call(
                "POST",
                &format!("/api/companies/{company}/conversations/identify"),
            )
            .json(json!({ "token": token }))
            .send()
            .await
        }
    };
    let exp = domain::clock::now_millis() / 1000 + 600;
    // Without a secret, nothing is vouched for.
    identify(identity_token(
        "nothing",
        json!({ "sub": "u1", "exp": exp }),
    ))
    .await
    .expect(422);
    call("POST", &format!("/api/companies/{company}/identity-secret"))
        .bearer(&agent.token)
        .send()
        .await
        .expect(403);
    let made = call("POST", &format!("/api/companies/{company}/identity-secret"))
        .bearer(&owner.token)
        .send()
        .await
        .expect(201);
    let secret = made.data()["secret"].as_str().unwrap().to_owned();
    remember_secret(&secret);

    let same_email = unique_email("shared-address");
    let first = identify(identity_token(
        &secret,
        json!({ "sub": "user-1", "name": "Uma One", "email": same_email, "exp": exp }),
    ))
    .await
    .expect(200);
    let chat_1 = first.data()["chat"]["id"].as_str().unwrap().to_owned();
    remember_secret(first.data()["token"].as_str().unwrap());
    assert_eq!(first.data()["chat_user"]["name"], "Uma One");
    let again = identify(identity_token(
        &secret,
        json!({ "sub": "user-1", "exp": exp }),
    ))
    .await
    .expect(200);
    remember_secret(again.data()["token"].as_str().unwrap());
    assert_eq!(
        again.data()["chat"]["id"],
        chat_1.as_str(),
        "the sub's own conversation"
    );
    // Another sub with the same (unverified) email gets a conversation of its own.
    let other = identify(identity_token(
        &secret,
        json!({ "sub": "user-2", "email": same_email, "exp": exp }),
    ))
    .await
    .expect(200);
    remember_secret(other.data()["token"].as_str().unwrap());
    assert_ne!(other.data()["chat"]["id"], chat_1.as_str());

    // Refused: another secret, past or far expiry, no sub.
    for token in [
        identity_token("not-the-secret", json!({ "sub": "user-1", "exp": exp })),
        identity_token(&secret, json!({ "sub": "user-1", "exp": exp - 1200 })),
        identity_token(&secret, json!({ "sub": "user-1", "exp": exp + 2 * 86_400 })),
        identity_token(&secret, json!({ "exp": exp })),
        "not a jwt".to_owned(),
    ] {
        let refused = identify(token).await.expect(422);
        assert!(!refused.field_errors("token").is_empty());
    }
    // A new secret: the old one still verifies during the overlap.
    let rotated = call("POST", &format!("/api/companies/{company}/identity-secret"))
        .bearer(&owner.token)
        .send()
        .await
        .expect(201);
    remember_secret(rotated.data()["secret"].as_str().unwrap());
    let by_old = identify(identity_token(
        &secret,
        json!({ "sub": "user-1", "exp": exp }),
    ))
    .await
    .expect(200);
    remember_secret(by_old.data()["token"].as_str().unwrap());
    assert_eq!(by_old.data()["chat"]["id"], chat_1.as_str());
}

#[tokio::test]
async fn the_inbox_pages_250_conversations_by_both_sorts_while_some_move() {
    let owner = operator("desk-inbox").await;
    let company_id = company(&owner, "Inbox Shop").await;
    let agent = teammate(&owner, &company_id, "agent", "all", "inbox-agent").await;
    let db = db().await;
    let company = company_record(&db, &company_id).await;
    // 250 visitors, opened and writing through the storage layer the front door uses
    // (the front door's per-source budget would stop one test address at 20 an hour).
    let opened: Vec<(domain::chat::ChatRecord, domain::chat_user::ChatUserRecord)> = in_parallel(
        (0..250)
            .map(|i| {
                let db = db.clone();
                let company = company.clone();
                async move {
                    let new = storage::conversations::NewVisitor {
                        name: format!("Visitor {i}"),
                        email: None,
                    };
                    open_conversation(&db, &company, &format!("inbox-visitor-{i}"), new).await
                }
            })
            .collect(),
        16,
    )
    .await;
    let guest_writes = |chat: domain::chat::ChatRecord,
                        guest: &domain::chat_user::ChatUserRecord| {
        let db = db.clone();
        let guest = guest.clone();
        async move { post_as_guest(&db, chat.id, &guest, "Hello?".into()).await }
    };
    in_parallel(
        opened
            .iter()
            .map(|(chat, guest)| guest_writes(chat.clone(), guest))
            .collect(),
        16,
    )
    .await;
    // Every fifth one answered: it sorts after the waiting ones.
    let answered: HashSet<String> = opened
        .iter()
        .step_by(5)
        .map(|(chat, _)| chat.id.to_string())
        .collect();
    for chat in &answered {
        post(chat, &agent.token, json!({ "body": "On it" })).await;
    }

    for sort in ["recent", "waiting"] {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut order: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut moved: HashSet<String> = HashSet::new();
        let mut pages = 0;
        loop {
            let mut request = call("GET", "/api/inbox")
                .bearer(&agent.token)
                .query("company_id", &company_id)
                .query("sort", sort)
                .query("per_page", "50");
            if let Some(cursor) = &cursor {
                request = request.query("cursor", cursor);
            }
            let page = request.send().await.expect(200);
            pages += 1;
            for row in page.data().as_array().unwrap() {
                *seen
                    .entry(row["id"].as_str().unwrap().to_owned())
                    .or_default() += 1;
                order.push(row.clone());
            }
            // While the client pages, a few conversations move (a guest writes again).
            if pages == 2 {
                for (chat, guest) in opened.iter().skip(100).take(3) {
                    moved.insert(chat.id.to_string());
                    guest_writes(chat.clone(), guest).await;
                }
            }
            match page.body["meta"]["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 5, "{sort}: 250 rows in pages of 50");
        for (chat, _) in &opened {
            let id = chat.id.to_string();
            if !moved.contains(&id) {
                assert_eq!(seen.get(&id), Some(&1), "{sort}: {id} exactly once");
            }
        }
        let row = &order[0];
        assert_eq!(row["kind"], "conversation");
        assert!(
            row["guest"]["name"]
                .as_str()
                .unwrap()
                .starts_with("Visitor ")
        );
        assert!(row["last_message"]["preview"].is_string(), "{row}");
        assert!(row["unread_count"].is_u64(), "{row}");
        if sort == "recent" {
            let times: Vec<&str> = order
                .iter()
                .filter(|r| !moved.contains(r["id"].as_str().unwrap()))
                .map(|r| r["last_message_at"].as_str().unwrap())
                .collect();
            assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
        } else {
            // Unanswered ones first, longest waiting first; then the answered ones.
            let first_answered = order
                .iter()
                .position(|r| answered.contains(r["id"].as_str().unwrap()))
                .unwrap();
            assert!(
                order[first_answered..]
                    .iter()
                    .filter(|r| !moved.contains(r["id"].as_str().unwrap()))
                    .all(|r| answered.contains(r["id"].as_str().unwrap())),
                "answered ones come after every waiting one"
            );
            let waits: Vec<&str> = order[..first_answered]
                .iter()
                .filter(|r| !moved.contains(r["id"].as_str().unwrap()))
                .map(|r| r["waiting_since"].as_str().unwrap())
                .collect();
            assert!(
                waits.windows(2).all(|w| w[0] <= w[1]),
                "longest waiting first"
            );
        }
    }

    // Filters: the agent's own, and unassigned ones; unread counts are the caller's.
    let (mine, mine_guest) = &opened[1];
    call("POST", &format!("/api/chats/{}/assign", mine.id))
        .bearer(&agent.token)
        .json(json!({ "assignee_id": agent.id }))
        .send()
        .await
        .expect(200);
    let own = call("GET", "/api/inbox")
        .bearer(&agent.token)
        .query("company_id", &company_id)
        .query("assignee", "me")
        .send()
        .await
        .expect(200);
    let mut rows: Vec<Value> = own.data().as_array().unwrap().clone();
    let mut cursor = own.body["meta"]["next_cursor"].as_str().map(str::to_owned);
    while let Some(next) = cursor {
        let page = call("GET", "/api/inbox")
            .bearer(&agent.token)
            .query("company_id", &company_id)
            .query("assignee", "me")
            .query("cursor", &next)
            .send()
            .await
            .expect(200);
        rows.extend(page.data().as_array().unwrap().iter().cloned());
        cursor = page.body["meta"]["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["id"], mine.id.to_string());
    assert_eq!(rows[0]["unread_count"], 1, "the guest's one message");
    // Reading it clears the agent's count, and only the agent's.
    let head = staff_chat(&mine.id.to_string(), &agent.token).await["last_seq"].clone();
    let read = call("PUT", &format!("/api/chats/{}/read", mine.id))
        .bearer(&agent.token)
        .json(json!({ "seq": head }))
        .send()
        .await
        .expect(200);
    assert_eq!(read.data()["unread_count"], 0);
    guest_writes(mine.clone(), mine_guest).await;
    let own = call("GET", "/api/inbox")
        .bearer(&agent.token)
        .query("company_id", &company_id)
        .query("assignee", "me")
        .query("per_page", "50")
        .send()
        .await
        .expect(200);
    let row = own
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == mine.id.to_string())
        .cloned()
        .expect("still in the agent's inbox");
    assert_eq!(row["unread_count"], 1);
    // Bad filters and foreign cursors are 422s.
    for (name, value) in [
        ("status", "closed"),
        ("sort", "oldest"),
        ("assignee", "someone"),
        ("cursor", "e30"),
    ] {
        call("GET", "/api/inbox")
            .bearer(&agent.token)
            .query("company_id", &company_id)
            .query(name, value)
            .send()
            .await
            .expect(422);
    }
    let stranger = operator("inbox-stranger").await;
    call("GET", "/api/inbox")
        .bearer(&stranger.token)
        .query("company_id", &company_id)
        .send()
        .await
        .expect(422);
}

#[tokio::test]
async fn the_front_door_budgets_new_conversations_per_source() {
    let owner = operator("desk-budget").await;
    let company = company(&owner, "Budget Shop").await;
    let made = call("POST", &format!("/api/companies/{company}/identity-secret"))
        .bearer(&owner.token)
        .send()
        .await
        .expect(201);
    let secret = made.data()["secret"].as_str().unwrap().to_owned();
    remember_secret(&secret);
    let hourly = &chat_users::NEW_CONVERSATIONS_PER_SOURCE[0];
    room_in_window(hourly, std::time::Duration::from_secs(60)).await;
    let exp = domain::clock::now_millis() / 1000 + 600;
    let mut statuses = Vec::new();
    for i in 0..=hourly.max {
        let token = identity_token(&secret, json!({ "sub": format!("s{i}"), "exp": exp }));
        let reply = call(
            "POST",
            &format!("/api/companies/{company}/conversations/identify"),
        )
        .json(json!({ "token": token }))
        .send()
        .await;
        if let Some(token) = reply.data()["token"].as_str() {
            remember_secret(token);
        }
        statuses.push(reply.status.as_u16());
    }
    let allowed = hourly.max as usize;
    assert!(
        statuses[..allowed].iter().all(|s| *s == 200),
        "{statuses:?}"
    );
    assert_eq!(
        statuses[allowed], 429,
        "one more new conversation from one source"
    );
    // A visitor it already has is found again, budget spent or not.
    let known = identity_token(&secret, json!({ "sub": "s0", "exp": exp }));
    let again = call(
        "POST",
        &format!("/api/companies/{company}/conversations/identify"),
    )
    .json(json!({ "token": known }))
    .send()
    .await
    .expect(200);
    remember_secret(again.data()["token"].as_str().unwrap());
    call(
        "POST",
        "/api/companies/01ARZ3NDEKTSV4RRFFQ69G5FAV/conversations/send-code",
    )
    .json(json!({ "email": unique_email("nobody") }))
    .send()
    .await
    .expect(404);
}

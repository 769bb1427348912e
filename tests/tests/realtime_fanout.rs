//! The live conversation, over real WebSockets: the local stack's bridge plays API
//! Gateway's WebSocket API and the stream trigger, the real `realtime` and `fanout`
//! binaries run behind it. Also the event log's guarantees without sockets: resume with
//! `/events?after=`, the read marker, expiry. (A dense `seq` under 200 concurrent writers
//! is checked with the messages' own burst, in `chat_messages.rs`.)

use std::time::Duration;

use api_tests::live::*;
use api_tests::*;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

#[tokio::test]
async fn everyone_connected_gets_every_change_in_order_and_no_foreign_email() {
    let r = room("live-all").await;
    let mut owner = Socket::open(&r.owner.token, &r.chat).await;
    let mut ann = Socket::open(&r.ann.token, &r.chat).await;
    let mut bob = Socket::open(&r.bob.token, &r.chat).await;
    let baseline = last_seq(&r.owner.token, &r.chat).await;

    let message = post(&r.ann.token, &r.chat, "Hello").await;
    let id = message["id"].as_str().unwrap();
    call("PUT", &format!("/api/chats/{}/messages/{id}", r.chat))
        .bearer(&r.ann.token)
        .json(json!({ "body": "Hello, edited" }))
        .send()
        .await
        .expect(200);
    call("DELETE", &format!("/api/chats/{}/messages/{id}", r.chat))
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(200);
    // A chat user change, whose event carries an email for the owner only.
    call("PUT", &format!("/api/chats/{}/users/{}", r.chat, r.ann.id))
        .bearer(&r.ann.token)
        .json(json!({ "name": "Ann B." }))
        .send()
        .await
        .expect(200);

    let expected = [
        "message.created",
        "message.updated",
        "message.deleted",
        "chat_user.updated",
    ];
    for socket in [&mut owner, &mut ann, &mut bob] {
        let mut seen = Vec::new();
        for _ in expected {
            seen.push(socket.next_event_after(baseline).await);
        }
        let types: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, expected);
        let seqs: Vec<u64> = seen.iter().map(seq).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        assert_eq!(seen[0]["data"]["id"], id);
        assert_eq!(seen[1]["data"]["body"], "Hello, edited");
        assert_eq!(seen[2]["data"]["deleted_by"], "chat_user");
    }
    // The frames were the log: the same events, in the same order; since the delete, the
    // message's earlier events hold its tombstone.
    let log = events_after(&r.owner.token, &r.chat, 0).await;
    let tail: Vec<&str> = log[log.len() - 4..]
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        tail,
        [
            "message.deleted",
            "message.deleted",
            "message.deleted",
            "chat_user.updated"
        ]
    );
    assert!(log.iter().all(|e| !e.to_string().contains("Hello")));

    // Bob sees Ann's change without her email; the owner and Ann see it.
    let ann_change = |events: &[Value]| events.last().unwrap()["data"].clone();
    let bobs_log = events_after(&r.bob.token, &r.chat, 0).await;
    assert!(ann_change(&bobs_log).get("email").is_none());
    assert_eq!(ann_change(&log)["email"], json!(r.ann.email.to_lowercase()));
    assert!(
        !serde_json::to_string(&bobs_log)
            .unwrap()
            .contains(&r.ann.email)
    );
}

#[tokio::test]
async fn typing_reaches_the_others_and_is_never_stored() {
    let r = room("live-typing").await;
    let mut ann = Socket::open(&r.ann.token, &r.chat).await;
    let mut bob = Socket::open(&r.bob.token, &r.chat).await;
    let before = events_after(&r.owner.token, &r.chat, 0).await.len();
    ann.send(json!({ "action": "typing" })).await;
    let notice = loop {
        let frame = bob
            .next_within(PUSH_WAIT)
            .await
            .expect("bob hears ann typing");
        if frame["type"] == "typing" {
            break frame;
        }
    };
    assert_eq!(
        notice,
        json!({
            "type": "typing",
            "chat_user_id": r.ann.id,
            "author": { "type": "guest", "id": r.ann.id, "name": "ann" },
        })
    );
    // Not echoed to the typist.
    let typing_only = |frame: Option<Value>| frame.filter(|f| f["type"] == "typing");
    assert!(typing_only(ann.next_within(QUIET_WAIT).await).is_none());
    assert_eq!(events_after(&r.owner.token, &r.chat, 0).await.len(), before);
    ann.send(json!({ "action": "ping" })).await;
    let pong = loop {
        let frame = ann.next_within(PUSH_WAIT).await.expect("a pong");
        if frame.get("seq").is_none() {
            break frame;
        }
    };
    assert_eq!(pong, json!({ "type": "pong" }));
}

#[tokio::test]
async fn a_reconnecting_client_resumes_from_its_last_seq_with_exactly_what_it_missed() {
    let r = room("live-resume").await;
    let mut bob = Socket::open(&r.bob.token, &r.chat).await;
    let baseline = last_seq(&r.owner.token, &r.chat).await;
    post(&r.ann.token, &r.chat, "before the drop").await;
    let last_seen = seq(&bob.next_event_after(baseline).await);
    drop(bob);
    let mut missed = Vec::new();
    for i in 0..3 {
        missed.push(post(&r.ann.token, &r.chat, &format!("missed {i}")).await);
    }
    let mut bob = Socket::open(&r.bob.token, &r.chat).await;
    let resumed = events_after(&r.bob.token, &r.chat, last_seen).await;
    let ids: Vec<&Value> = resumed.iter().map(|e| &e["data"]["id"]).collect();
    let expected: Vec<&Value> = missed.iter().map(|m| &m["id"]).collect();
    assert_eq!(ids, expected);
    assert_eq!(
        resumed.iter().map(seq).collect::<Vec<_>>(),
        vec![last_seen + 1, last_seen + 2, last_seen + 3]
    );
    // And the live stream carries on from there (a frame of what /events already gave
    // may still arrive: a client drops any seq it has).
    post(&r.ann.token, &r.chat, "after the return").await;
    assert_eq!(
        seq(&bob.next_event_after(last_seen + 3).await),
        last_seen + 4
    );
}

#[tokio::test]
async fn tickets_are_single_use_expire_and_belong_to_their_chat() {
    let r = room("live-tickets").await;
    let url = ticket_url(&r.ann.token, &r.chat).await;
    let _first = Socket::open_url(&url).await;
    let refused = connect_async(&url)
        .await
        .expect_err("a used ticket is refused");
    assert!(refused.to_string().contains("401"), "{refused}");
    let forged = url.replace("ticket=", "ticket=x");
    assert!(connect_async(&forged).await.is_err());

    // Expired: issued (straight into the table) 61 s ago.
    let db = db().await;
    let chat_id = domain::ids::EntityId::parse(&r.chat).unwrap();
    let ann_id = domain::ids::EntityId::parse(&r.ann.id).unwrap();
    let old = services::random::random_token_string(32).unwrap();
    db.sockets()
        .issue_ticket(
            &old,
            chat_id,
            (
                domain::realtime::Subscriber::ChatUser(ann_id),
                domain::realtime::Grant::ChatUserToken {
                    token_issued_ms: domain::clock::now_millis() - 62_000,
                },
                "ann",
            ),
            domain::clock::now_millis() - 61_000,
            60_000,
        )
        .await
        .unwrap();
    let base = url.split('?').next().unwrap();
    assert!(connect_async(format!("{base}?ticket={old}")).await.is_err());
    assert!(connect_async(base).await.is_err(), "no ticket, no socket");

    // A chat user of another chat gets no ticket for this one, and a socket of that
    // other chat hears nothing of this one.
    let other = room("live-tickets-b").await;
    call("POST", &format!("/api/chats/{}/realtime-ticket", r.chat))
        .bearer(&other.ann.token)
        .send()
        .await
        .expect(403);
    let mut elsewhere = Socket::open(&other.ann.token, &other.chat).await;
    let elsewhere_seq = last_seq(&other.owner.token, &other.chat).await;
    post(&r.ann.token, &r.chat, "not for the other chat").await;
    let heard = elsewhere.next_within(QUIET_WAIT).await;
    assert!(
        heard
            .as_ref()
            .is_none_or(|f| f["chat_id"] == json!(other.chat) && seq(f) <= elsewhere_seq),
        "{heard:?}"
    );
}

#[tokio::test]
async fn a_removed_chat_user_is_disconnected_and_gone_sockets_are_forgotten() {
    let r = room("live-remove").await;
    let mut bob = Socket::open(&r.bob.token, &r.chat).await;
    let mut ann = Socket::open(&r.ann.token, &r.chat).await;
    let baseline = last_seq(&r.owner.token, &r.chat).await;
    call(
        "DELETE",
        &format!("/api/chats/{}/users/{}", r.chat, r.bob.id),
    )
    .api(&r.owner.token)
    .send()
    .await
    .expect(200);
    let removal = ann.next_event_after(baseline).await;
    assert_eq!(removal["type"], "chat_user.removed");
    assert!(removal["data"].get("email").is_none());
    assert!(bob.closed_within(PUSH_WAIT).await, "bob's socket is closed");

    // A connection whose socket is gone (the management API answers 410) is forgotten
    // by the next fan-out to its chat.
    let db = db().await;
    let chat_id: domain::ids::ChatId = domain::ids::EntityId::parse(&r.chat).unwrap();
    let stale = domain::realtime::ConnectionRecord {
        connection_id: "c3RhbGUtc29ja2V0".into(),
        chat_id,
        subscriber: domain::realtime::Subscriber::ChatUser(
            domain::ids::EntityId::parse(&r.ann.id).unwrap(),
        ),
        name: None,
        connected_at_ms: domain::clock::now_millis(),
        grant: Some(domain::realtime::Grant::ChatUserToken {
            token_issued_ms: domain::clock::now_millis(),
        }),
    };
    assert_eq!(
        db.sockets().open(&stale).await.unwrap(),
        storage::sockets::Opened::Opened
    );
    let message = post(&r.ann.token, &r.chat, "to everyone still here").await;
    ann.next_event_after(seq(&message) - 1).await;
    let mut forgotten = false;
    for _ in 0..50 {
        if db
            .sockets()
            .connection(&stale.connection_id)
            .await
            .unwrap()
            .is_none()
        {
            forgotten = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(forgotten, "the stale connection was cleaned up");
}

#[tokio::test]
async fn the_read_marker_only_moves_forward_and_counts_what_others_wrote() {
    let r = room("live-read").await;
    let mut last = 0;
    for i in 0..4 {
        last = post(&r.ann.token, &r.chat, &format!("from ann {i}")).await["seq"]
            .as_u64()
            .unwrap();
    }
    post(&r.bob.token, &r.chat, "bob's own").await;
    let read = |seq: u64| {
        let token = r.bob.token.clone();
        let chat = r.chat.clone();
        async move {
            call("PUT", &format!("/api/chats/{chat}/read"))
                .bearer(&token)
                .json(json!({ "seq": seq }))
                .send()
                .await
        }
    };
    let me = call("GET", "/api/chat-user")
        .bearer(&r.bob.token)
        .send()
        .await
        .expect(200);
    assert_eq!(me.data()["unread_count"], 4);
    assert_eq!(me.data()["last_read_seq"], 0);

    // Concurrent moves: the marker ends at the highest, whatever the order.
    let moves: Vec<_> = (1..=last).rev().map(&read).collect();
    for reply in in_parallel(moves, 8).await {
        reply.expect(200);
    }
    let me = call("GET", "/api/chat-user")
        .bearer(&r.bob.token)
        .send()
        .await
        .expect(200);
    assert_eq!(me.data()["last_read_seq"], last);
    assert_eq!(me.data()["unread_count"], 0);
    // Back is a no-op 200; beyond the log is a 422.
    let back = read(1).await.expect(200);
    assert_eq!(back.data()["last_read_seq"], last);
    read(10_000).await.expect(422);
    // Each forward move is in the log, as read.updated.
    let log = events_after(&r.owner.token, &r.chat, 0).await;
    assert!(log.iter().any(|e| e["type"] == "read.updated"
        && e["data"]["chat_user_id"] == json!(r.bob.id)
        && e["data"]["last_read_seq"] == json!(last)));
}

#[tokio::test]
async fn an_after_older_than_the_log_keeps_is_a_409_reset() {
    let r = room("live-reset").await;
    post(&r.ann.token, &r.chat, "one").await;
    post(&r.ann.token, &r.chat, "two").await;
    // Age the chat's first event past its retention (DynamoDB deletes late; reads
    // treat an expired event as gone).
    let chat_id: domain::ids::ChatId = domain::ids::EntityId::parse(&r.chat).unwrap();
    dynamodb()
        .await
        .update_item()
        .table_name(table_name())
        .key("PK", storage::s(format!("CHAT#{chat_id}")))
        .key("SK", storage::s("EVT#000000000001"))
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", "ttl")
        .expression_attribute_values(":past", storage::n(1))
        .send()
        .await
        .unwrap();
    let reset = call("GET", &format!("/api/chats/{}/events", r.chat))
        .bearer(&r.ann.token)
        .query("after", "0")
        .send()
        .await
        .expect(409);
    assert_eq!(reset.body["reset"], true);
    // After the expired one, the log still answers: the setup's second join and the
    // two messages.
    let kept = events_after(&r.ann.token, &r.chat, 1).await;
    assert_eq!(kept.iter().map(seq).collect::<Vec<_>>(), vec![2, 3, 4]);
    call("GET", &format!("/api/chats/{}/events", r.chat))
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(200);
}

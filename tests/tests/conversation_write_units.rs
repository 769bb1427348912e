//! What a message costs in DynamoDB write units, the inbox's share apart: computed from
//! the chat item as the real code path leaves it before and after each message (moto
//! reports no size-based capacity; `storage::write_units` holds AWS's sizing rules).
//! A room's message is the "before": the inbox adds its two indexes and the row's
//! fields on the chat item.

use api_tests::*;
use serde_json::{Value, json};
use storage::write_units::{inbox_units, item_size, table_units};

/// A message as long as an inbox preview keeps (140 characters) and then some.
fn long_body(tag: &str) -> String {
    format!("{tag}: {}", "Is the blue kettle back in stock? ".repeat(6))
}

async fn staff_post(chat: &str, token: &str, body: Value) {
    call("POST", &format!("/api/chats/{chat}/messages"))
        .bearer(token)
        .json(body)
        .send()
        .await
        .expect(201);
}

#[tokio::test]
async fn the_inbox_adds_two_write_units_a_message_and_one_more_when_a_wait_starts_or_ends() {
    let owner = operator("write-units").await;
    let company_id = company(&owner, "Units Shop").await;
    let agent = teammate(&owner, &company_id, "agent", "all", "units-agent").await;
    let db = db().await;
    let company = company_record(&db, &company_id).await;
    let new = storage::conversations::NewVisitor {
        name: "Bartholomew Featherstonehaugh".into(),
        email: Some(unique_email("bartholomew.featherstonehaugh")),
    };
    let (chat, guest) = open_conversation(&db, &company, "units-visitor", new).await;
    let chat_id = chat.id.to_string();
    // The guest posts through the storage layer its function calls (a chat-user token
    // is the front door's business, tested elsewhere); staff through the API.
    let guest_post = |body: String| post_as_guest(&db, chat.id, &guest, body);

    // (what, inbox units expected)
    let steps: [(&str, u32); 6] = [
        ("the guest starts a wait", 3),
        ("the guest writes again", 2),
        ("a note", 2),
        ("the reply ends the wait", 3),
        ("staff writes again", 2),
        ("the guest starts a new wait", 3),
    ];
    let mut report = Vec::new();
    for (at, (what, expected)) in steps.iter().enumerate() {
        let before = chat_item(&chat_id).await;
        match at {
            0 | 1 | 5 => guest_post(long_body(what)).await,
            2 => {
                staff_post(
                    &chat_id,
                    &agent.token,
                    json!({ "body": long_body(what), "internal": true }),
                )
                .await
            }
            _ => staff_post(&chat_id, &agent.token, json!({ "body": long_body(what) })).await,
        }
        let after = chat_item(&chat_id).await;
        let inbox = inbox_units(Some(&before), Some(&after));
        let chat_units = table_units(Some(&before), Some(&after));
        report.push(format!(
            "{what}: inbox indexes {inbox} units; chat item {} bytes, {chat_units} units",
            item_size(&after)
        ));
        assert_eq!(inbox, *expected, "{what}");
        // The row's fields keep the chat item under 1 KB: the transaction's update of
        // it costs what a room's does.
        let mut sizes: Vec<(usize, &String)> = after
            .iter()
            .map(|(name, value)| {
                let one = std::collections::HashMap::from([(name.clone(), value.clone())]);
                (item_size(&one), name)
            })
            .collect();
        sizes.sort();
        assert_eq!(
            chat_units,
            2,
            "{what}: {} bytes: {sizes:?}",
            item_size(&after)
        );
    }

    // The room's message, for the "before" the inbox is added to.
    let room = room("write-units-room").await;
    let before = chat_item(&room.chat).await;
    post_message(&room.chat, &room.ann.token, &long_body("a room")).await;
    let after = chat_item(&room.chat).await;
    assert_eq!(inbox_units(Some(&before), Some(&after)), 0);
    assert_eq!(table_units(Some(&before), Some(&after)), 2);
    report.push(format!(
        "a room's message: no index units; chat item {} bytes, 2 units",
        item_size(&after)
    ));
    eprintln!("write units per message:\n  {}", report.join("\n  "));
}

/// A chat user's sending count lives on its own chat-user item, which the message's
/// write checks anyway. Sends at once, each from the same stale read of that count,
/// all count and none twice: the window's limit holds exactly, and every send is either
/// stored or refused as too fast.
#[tokio::test]
async fn a_chat_user_s_count_on_its_own_item_holds_under_sends_at_once() {
    use domain::ids::{ChatId, ChatUserId, EntityId};
    use storage::message_posts::{NewMessage, Posted};

    let room = room("count-on-item").await;
    let db = db().await;
    let chat_id: ChatId = EntityId::parse(&room.chat).unwrap();
    let ann_id: ChatUserId = EntityId::parse(&room.ann.id).unwrap();
    let chat = db.chats().get(chat_id).await.unwrap().unwrap();
    let ann = db.chat_users().get(chat_id, ann_id).await.unwrap().unwrap();
    // Aligned minute windows: start just after one begins, so all land in it.
    let into_window = domain::clock::now_millis().rem_euclid(60_000);
    if into_window > 40_000 {
        tokio::time::sleep(std::time::Duration::from_millis(
            (60_000 - into_window + 200) as u64,
        ))
        .await;
    }
    let limit = 5;
    let sends = (0..8).map(|i| {
        let (db, chat) = (db.clone(), chat.clone());
        let new = NewMessage {
            author: domain::message::Author::Guest {
                id: ann.id,
                name: ann.name.clone(),
            },
            internal: false,
            body: format!("at once {i}"),
            client_id: None,
            rate: domain::message::sending_rate(limit),
            // As read before any of them: stale for all but the first to land.
            sent: ann.sent(),
            attachments: Vec::new(),
        };
        tokio::spawn(async move { db.messages().post(&chat, new).await.unwrap() })
    });
    let mut stored = 0;
    let mut too_fast = 0;
    for send in sends.collect::<Vec<_>>() {
        match send.await.unwrap() {
            Posted::New(_) => stored += 1,
            Posted::TooFast { retry_after_secs } => {
                assert!((1..=60).contains(&retry_after_secs));
                too_fast += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((stored, too_fast), (limit, 8 - limit));
    let counted = db.chat_users().get(chat_id, ann_id).await.unwrap().unwrap();
    assert_eq!(counted.sent_in_window, limit);
    let page = db
        .messages()
        .page(chat_id, storage::messages::Window::Latest, 50)
        .await
        .unwrap();
    assert_eq!(
        page.messages.len(),
        limit as usize,
        "nothing refused is stored"
    );
}

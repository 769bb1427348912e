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

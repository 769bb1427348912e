//! `chat-messages`: who may read and write a chat's messages, what a post must hold, and
//! how a page is cut.

use api_tests::in_process::{
    World, answer, batch_get, calls, fixture, get, query, request, transact, with_body, with_path,
    with_query,
};
use domain::ids::ChatId;
use serde_json::json;
use storage::stored;

/// The newest `n` messages of `world`, newest first, as a `Query` of the latest page
/// answers them.
fn newest(world: &World, n: usize) -> Vec<storage::Item> {
    world
        .messages
        .iter()
        .rev()
        .take(n)
        .map(|m| stored::message(m).unwrap())
        .collect()
}

#[tokio::test]
async fn the_latest_page_is_oldest_first_and_says_there_is_more() {
    let world = World::new();
    // The list asks for a page and two more (its bound and one to tell "more").
    let rules = [
        batch_get(world.operator_items()),
        get(Some(stored::chat(&world.chat).unwrap())),
        query(newest(&world, 52)),
    ];
    let app = chat_messages::App::offline(world.context(&rules));
    let event = fixture("chat-messages/list.json", &world.vars());
    let (status, body) = answer(chat_messages::handle(&app, request(&event)).await);
    assert_eq!(status, 200, "{body}");
    let seqs: Vec<u64> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (11..=60).collect::<Vec<_>>());
    assert_eq!(body["meta"], json!({ "has_more": true, "per_page": 50 }));
    assert_eq!(calls(&rules), 3);
}

#[tokio::test]
async fn before_and_after_together_are_a_422_before_any_query() {
    let world = World::new();
    let rules = [
        batch_get(world.operator_items()),
        get(Some(stored::chat(&world.chat).unwrap())),
        query(Vec::new()),
    ];
    let app = chat_messages::App::offline(world.context(&rules));
    let (first, last) = (world.messages[0].id, world.messages[9].id);
    let event = with_query(
        fixture("chat-messages/list.json", &world.vars()),
        &[("before", &last.to_string()), ("after", &first.to_string())],
    );
    let (status, body) = answer(chat_messages::handle(&app, request(&event)).await);
    assert_eq!(status, 422);
    assert!(body["errors"]["before"].is_array(), "{body}");
    assert_eq!(rules[2].num_calls(), 0);
}

#[tokio::test]
async fn a_blank_message_is_a_422_and_writes_nothing() {
    let world = World::new();
    let rules = [batch_get(world.guest_items()), transact()];
    let app = chat_messages::App::offline(world.context(&rules));
    let event = with_body(
        fixture("chat-messages/create.json", &world.vars()),
        json!({ "body": "   ", "client_id": "x".repeat(65) }),
    );
    let (status, body) = answer(chat_messages::handle(&app, request(&event)).await);
    assert_eq!(status, 422);
    assert!(body["errors"]["body"].is_array(), "{body}");
    assert!(body["errors"]["client_id"].is_array(), "{body}");
    assert_eq!(rules[1].num_calls(), 0);
}

#[tokio::test]
async fn only_chat_users_post_and_only_in_their_own_chat() {
    let world = World::new();
    let rules = [batch_get(world.guest_items()), transact()];
    let app = chat_messages::App::offline(world.context(&rules));
    // The chat user's token on another chat's path: 403.
    let other = format!("/api/chats/{}/messages", ChatId::new());
    let event = with_path(fixture("chat-messages/create.json", &world.vars()), &other);
    let (status, body) = answer(chat_messages::handle(&app, request(&event)).await);
    assert_eq!(status, 403, "{body}");
    assert_eq!(rules[1].num_calls(), 0);

    // An API token posts as staff only in its own companies' chats: another company's
    // chat is a 404 before anything is written.
    let theirs = domain::chat::ChatRecord {
        company_id: domain::ids::CompanyId::new(),
        ..world.chat.clone()
    };
    let operator = [
        batch_get(world.operator_items()),
        get(Some(storage::stored::chat(&theirs).unwrap())),
    ];
    let app = chat_messages::App::offline(world.context(&operator));
    let mut event = fixture("chat-messages/create.json", &world.vars());
    event["headers"]["authorization"] = format!("Bearer {}", world.api_token).into();
    let (status, body) = answer(chat_messages::handle(&app, request(&event)).await);
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("No such chat."))
    );
}

#[tokio::test]
async fn an_after_beyond_every_seq_is_an_answer_not_a_crash() {
    let world = World::new();
    let rules = [
        batch_get(world.operator_items()),
        get(Some(stored::chat(&world.chat).unwrap())),
        query(Vec::new()),
    ];
    let app = chat_messages::App::offline(world.context(&rules));
    let event = with_query(
        fixture("chat-messages/events.json", &world.vars()),
        &[("after", &u64::MAX.to_string())],
    );
    let (status, body) = answer(chat_messages::handle(&app, request(&event)).await);
    assert!(status < 500, "{status} {body}");
}

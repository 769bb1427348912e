//! `current-user`: who a token is, and the JSON answers of what is no route at all.

use api_tests::in_process::{World, answer, batch_get, calls, fixture, query, request, with_path};
use serde_json::json;
use storage::stored;

#[tokio::test]
async fn an_api_token_reads_its_user_in_one_round_trip() {
    let world = World::new();
    let rules = [batch_get(world.operator_items())];
    let app = current_user::App {
        ctx: world.context(&rules),
    };
    let event = fixture("current-user/user.json", &world.vars());
    let (status, body) = answer(current_user::handle(&app, request(&event)).await);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["email"], "owner@example.com");
    assert_eq!(body["data"]["id"], json!(world.user.id));
    assert!(body["data"].get("password_hash").is_none());
    assert_eq!(calls(&rules), 1);
}

#[tokio::test]
async fn a_chat_user_token_on_the_user_route_is_a_401_that_says_which_token() {
    let world = World::new();
    let rules = [batch_get(world.guest_items())];
    let app = current_user::App {
        ctx: world.context(&rules),
    };
    let mut event = fixture("current-user/user.json", &world.vars());
    event["headers"]["authorization"] = format!("Bearer {}", world.chat_user_token).into();
    let (status, body) = answer(current_user::handle(&app, request(&event)).await);
    assert_eq!(status, 401);
    assert_eq!(
        body["message"],
        "This route needs an API token, not a chat-user token."
    );
}

#[tokio::test]
async fn no_token_is_a_401_without_a_call_to_the_table() {
    let world = World::new();
    let rules = [batch_get(world.operator_items())];
    let app = current_user::App {
        ctx: world.context(&rules),
    };
    let mut event = fixture("current-user/user.json", &world.vars());
    event["headers"]
        .as_object_mut()
        .unwrap()
        .remove("authorization");
    let (status, body) = answer(current_user::handle(&app, request(&event)).await);
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Unauthenticated."))
    );
    assert_eq!(calls(&rules), 0);
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json_404_and_405() {
    let world = World::new();
    let app = current_user::App {
        ctx: world.context(&[]),
    };
    let event = with_path(
        fixture("current-user/user.json", &world.vars()),
        "/api/nope",
    );
    let response = current_user::handle(&app, request(&event)).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let (status, body) = answer(response);
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("There is no such route."))
    );

    let mut event = fixture("current-user/user.json", &world.vars());
    event["requestContext"]["http"]["method"] = "DELETE".into();
    let response = current_user::handle(&app, request(&event)).await;
    assert_eq!(response.headers()["allow"], "GET");
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn a_chat_user_reads_itself_with_its_chat_and_unread_count() {
    let world = World::new();
    let newest: Vec<_> = world
        .messages
        .iter()
        .rev()
        .map(|m| stored::message(m).unwrap())
        .collect();
    let rules = [batch_get(world.guest_items()), query(newest)];
    let app = current_user::App {
        ctx: world.context(&rules),
    };
    let event = fixture("current-user/chat-user.json", &world.vars());
    let (status, body) = answer(current_user::handle(&app, request(&event)).await);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["id"], json!(world.chat_user.id));
    assert_eq!(body["data"]["email"], "guest@example.com");
    assert_eq!(body["data"]["chat"]["id"], json!(world.chat.id));
    // Every message of the page is its own: none is unread.
    assert_eq!(body["data"]["unread_count"], 0);
}

//! `chats`: what a new chat must name, and a chat of a company the caller is not a member
//! of.

use api_tests::in_process::{World, answer, batch_get, calls, fixture, get, request, with_body};
use serde_json::json;
use storage::stored;

#[tokio::test]
async fn a_chat_without_a_company_or_a_name_is_a_422_naming_both() {
    let world = World::new();
    let rules = [batch_get(world.operator_items())];
    let app = chats::App {
        ctx: world.context(&rules),
        wake_jobs: api_tests::unused_queue(),
    };
    let event = with_body(fixture("chats/create.json", &world.vars()), json!({}));
    let (status, body) = answer(chats::handle(&app, request(&event)).await);
    assert_eq!(status, 422);
    assert!(body["errors"]["company_id"].is_array(), "{body}");
    assert!(body["errors"]["name"].is_array(), "{body}");
    assert_eq!(calls(&rules), 1, "the token check only");
}

#[tokio::test]
async fn another_company_s_chat_is_not_found() {
    let world = World::new();
    let theirs = domain::chat::ChatRecord {
        company_id: domain::ids::CompanyId::new(),
        ..world.chat.clone()
    };
    let rules = [
        batch_get(world.operator_items()),
        get(Some(stored::chat(&theirs).unwrap())),
    ];
    let app = chats::App {
        ctx: world.context(&rules),
        wake_jobs: api_tests::unused_queue(),
    };
    let event = fixture("chats/get.json", &world.vars());
    let (status, body) = answer(chats::handle(&app, request(&event)).await);
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("No such chat."))
    );
}

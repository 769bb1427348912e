//! `tokens`: a login names its email and password, or it is a 422 before anything is read.

use api_tests::in_process::{World, answer, fixture, request, with_body};
use serde_json::json;

#[tokio::test]
async fn a_login_without_a_password_is_a_422_and_reads_nothing() {
    let world = World::new();
    let app = tokens::App {
        ctx: world.context(&[]),
    };
    let vars = world.vars();
    let event = with_body(
        fixture("tokens/create.json", &vars),
        json!({ "email": "not an email" }),
    );
    let (status, body) = answer(tokens::handle(&app, request(&event)).await);
    assert_eq!(status, 422);
    assert!(body["errors"]["email"].is_array(), "{body}");
    assert!(body["errors"]["password"].is_array(), "{body}");
    // The context answers no call at all (any would be a 500): nothing was read.
}

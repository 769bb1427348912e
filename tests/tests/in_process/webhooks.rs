//! `webhooks`: an endpoint's URL must be a public https one.

use api_tests::in_process::{World, answer, batch_get, fixture, get, request, with_body};
use edge::config::WebhookSettings;
use serde_json::json;

#[tokio::test]
async fn private_and_plain_http_urls_are_refused_before_anything_is_written() {
    let world = World::new();
    let rules = [batch_get(world.operator_items()), get(None)];
    let app = webhooks::App {
        ctx: world.context(&rules),
        deliveries: services::queue::Queue::new(&sdk::from_lambda_env(), "unused".into()),
        settings: WebhookSettings::from_lookup(|_| None).unwrap(),
    };
    let mut vars = world.vars();
    vars.push(("WEBHOOK_URL", "https://hooks.example.com/in".into()));
    for url in [
        "http://hooks.example.com/in",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://user:pw@hooks.example.com/",
    ] {
        let event = with_body(
            fixture("webhooks/create.json", &vars),
            json!({ "url": url }),
        );
        let (status, body) = answer(webhooks::handle(&app, request(&event)).await);
        assert_eq!(status, 422, "{url}: {body}");
        assert!(body["errors"]["url"].is_array(), "{url}: {body}");
    }
    assert_eq!(rules[1].num_calls(), 0, "no company was even looked up");
}

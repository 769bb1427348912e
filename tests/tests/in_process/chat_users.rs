//! `chat-users`: what send-code and a read marker must hold.

use api_tests::in_process::{World, answer, batch_get, fixture, request, with_body};
use serde_json::json;

fn app(world: &World, rules: &[aws_smithy_mocks::Rule]) -> chat_users::App {
    chat_users::App {
        ctx: world.context(rules),
        mailer: services::mail::Mailer::new(
            services::aws_sdk_sesv2::Client::from_conf(
                services::aws_sdk_sesv2::Config::builder()
                    .behavior_version(services::aws_sdk_sesv2::config::BehaviorVersion::latest())
                    .region(services::aws_sdk_sesv2::config::Region::new("us-east-1"))
                    .build(),
            ),
            "chat@example.com",
        ),
        // Never reached by these requests: an SQS client that could not connect.
        mail_jobs: services::queue::Queue::new(
            &aws_config::SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url("http://127.0.0.1:9")
                .build(),
            "http://127.0.0.1:9/000000000000/mail".to_owned(),
        ),
    }
}

#[tokio::test]
async fn send_code_for_no_email_is_a_422_and_reads_nothing() {
    let world = World::new();
    let app = app(&world, &[]);
    let vars = world.vars();
    let event = with_body(
        fixture("chat-users/send-code.json", &vars),
        json!({ "email": "nobody" }),
    );
    let (status, body) = answer(chat_users::handle(&app, request(&event)).await);
    assert_eq!(status, 422);
    assert!(body["errors"]["email"].is_array(), "{body}");
    // The context answers no call at all (any would be a 500): nothing was read.
}

#[tokio::test]
async fn a_read_marker_that_is_no_number_is_a_422() {
    let world = World::new();
    let rules = [batch_get(world.guest_items())];
    let app = app(&world, &rules);
    let event = with_body(
        fixture("chat-users/read.json", &world.vars()),
        json!({ "seq": "seven" }),
    );
    let (status, body) = answer(chat_users::handle(&app, request(&event)).await);
    assert_eq!(status, 422);
    assert!(body["errors"]["seq"].is_array(), "{body}");
}

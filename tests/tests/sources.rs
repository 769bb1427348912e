//! Limits counted per source address, through the real handlers in-process: the local
//! API Gateway (`cargo lambda watch`) says every request comes from 127.0.0.1, so these
//! tests feed the handlers API Gateway events (the `events/` fixtures) with the source
//! addresses API Gateway would set.

use std::path::Path;

use api_tests::*;
use serde_json::Value;

/// `events/<file>` with its placeholders filled in and `requestContext.http.sourceIp` set.
fn event_from(file: &str, source_ip: &str, vars: &[(&str, &str)]) -> lambda_http::Request {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (name, value) in vars {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["requestContext"]["http"]["sourceIp"] = Value::from(source_ip);
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn status(response: &lambda_http::Response<lambda_http::Body>) -> u16 {
    response.status().as_u16()
}

/// A stranger who knows an operator's email and fails ten times (in any letter case)
/// locks out its own address only: the operator logs in from its own.
#[tokio::test]
async fn a_strangers_failed_logins_do_not_lock_the_operator_out() {
    let tokens = tokens::App::from_env().await.unwrap();
    let op = operator("lockout").await;
    let shouted = op.email.to_uppercase();
    for i in 0..10 {
        let email = if i % 2 == 0 { &shouted } else { &op.email };
        let guess = event_from(
            "tokens/create.json",
            "198.51.100.7",
            &[("EMAIL", email), ("PASSWORD", "not-the-password")],
        );
        assert_eq!(status(&tokens::handle(&tokens, guess).await), 422);
    }
    let right_from_there = event_from(
        "tokens/create.json",
        "198.51.100.7",
        &[("EMAIL", &op.email), ("PASSWORD", &op.password)],
    );
    let refused = tokens::handle(&tokens, right_from_there).await;
    assert_eq!(status(&refused), 429, "the guesser's address waits");
    assert!(refused.headers().contains_key("retry-after"));
    let mine = event_from(
        "tokens/create.json",
        "203.0.113.10",
        &[("EMAIL", &op.email), ("PASSWORD", &op.password)],
    );
    let response = tokens::handle(&tokens, mine).await;
    assert_eq!(status(&response), 201, "the operator, elsewhere, logs in");
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    remember_secret(body["data"]["token"].as_str().unwrap());
}

/// A guesser of a chat's password is stopped at its address; a guest elsewhere joins
/// with the right password.
#[tokio::test]
async fn a_chat_password_guesser_is_stopped_and_others_join() {
    let chat_users = chat_users::App::from_env().await.unwrap();
    let owner = operator("guess-source").await;
    let company = company(&owner, "Sources").await;
    let chat = chat(&owner, &company, Some("copper lantern orbit")).await;
    let send = |source: &str, email: &str, password: &str| {
        event_from(
            "chat-users/send-code.json",
            source,
            &[
                ("CHAT_ID", &chat),
                ("EMAIL", email),
                ("CHAT_PASSWORD", password),
            ],
        )
    };
    for i in 0..10 {
        let guess = send(
            "198.51.100.9",
            &unique_email("guess"),
            &format!("guess-{i}"),
        );
        assert_eq!(status(&chat_users::handle(&chat_users, guess).await), 403);
    }
    let right = send(
        "198.51.100.9",
        &unique_email("guess"),
        "copper lantern orbit",
    );
    assert_eq!(
        status(&chat_users::handle(&chat_users, right).await),
        429,
        "not even the right password is checked from the guesser's address"
    );
    let guest = unique_email("elsewhere");
    let elsewhere = send("203.0.113.44", &guest, "copper lantern orbit");
    assert_eq!(
        status(&chat_users::handle(&chat_users, elsewhere).await),
        202
    );
    assert!(
        !emails_to(&guest).await.is_empty(),
        "the other guest got its code"
    );
}

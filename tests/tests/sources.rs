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

/// A known chat password does not turn an endless supply of addresses into codes and
/// stored chat users: 20 new joiners per hour from one source (500 from all), and the
/// ones that never prove their email expire.
#[tokio::test]
async fn new_joiners_are_budgeted_per_source() {
    let chat_users = chat_users::App::from_env().await.unwrap();
    let owner = operator("joiners").await;
    let company = company(&owner, "Joiners").await;
    let chat = chat(&owner, &company, Some("copper lantern orbit")).await;
    let join = |source: &str, email: &str| {
        event_from(
            "chat-users/send-code.json",
            source,
            &[
                ("CHAT_ID", &chat),
                ("EMAIL", email),
                ("CHAT_PASSWORD", "copper lantern orbit"),
            ],
        )
    };
    for i in 0..20 {
        let email = format!("bomb+{i}-{}", unique_email("joiner"));
        assert_eq!(
            status(&chat_users::handle(&chat_users, join("198.51.100.20", &email)).await),
            202
        );
    }
    let refused =
        chat_users::handle(&chat_users, join("198.51.100.20", &unique_email("bomb"))).await;
    assert_eq!(status(&refused), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let elsewhere = join("203.0.113.77", &unique_email("honest"));
    assert_eq!(
        status(&chat_users::handle(&chat_users, elsewhere).await),
        202
    );
}

/// A guest who joined by email but never entered its code carries a TTL (it and its
/// email item); entering the code removes both.
#[tokio::test]
async fn unverified_joiners_expire_unless_verified() {
    let chat_users = chat_users::App::from_env().await.unwrap();
    let owner = operator("unverified").await;
    let company = company(&owner, "Unverified").await;
    let chat = chat(&owner, &company, Some("copper lantern orbit")).await;
    let email = unique_email("late-joiner");
    let send = event_from(
        "chat-users/send-code.json",
        "203.0.113.90",
        &[
            ("CHAT_ID", &chat),
            ("EMAIL", &email),
            ("CHAT_PASSWORD", "copper lantern orbit"),
        ],
    );
    assert_eq!(status(&chat_users::handle(&chat_users, send).await), 202);
    let ttl_of = |sk: String| {
        let chat = chat.clone();
        async move {
            let item = dynamodb()
                .await
                .get_item()
                .table_name(table_name())
                .key(
                    "PK",
                    aws_sdk_dynamodb::types::AttributeValue::S(format!("CHAT#{chat}")),
                )
                .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(sk))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
                .expect("the item exists");
            item.get("ttl")
                .map(|v| v.as_n().unwrap().parse::<i64>().unwrap())
        }
    };
    let pointer = dynamodb()
        .await
        .get_item()
        .table_name(table_name())
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("CHAT#{chat}")),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("EMAIL#{email}")),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the email item exists");
    let member = pointer["chat_user_id"].as_s().unwrap().to_owned();
    let now = shared::clock::now_millis() / 1000;
    for sk in [format!("MEMBER#{member}"), format!("EMAIL#{email}")] {
        let ttl = ttl_of(sk.clone())
            .await
            .expect("an unverified joiner expires");
        assert!(
            (now + 23 * 3600..=now + 25 * 3600).contains(&ttl),
            "{sk}: {ttl}"
        );
    }
    let code = latest_code(&email).await;
    let joined = call("POST", &format!("/api/chats/{chat}/users/get-token"))
        .json(serde_json::json!({ "email": email, "auth_code": code }))
        .send()
        .await
        .expect(200);
    remember_secret(joined.data()["token"].as_str().unwrap());
    for sk in [format!("MEMBER#{member}"), format!("EMAIL#{email}")] {
        assert_eq!(ttl_of(sk.clone()).await, None, "{sk}: verified, kept");
    }
}

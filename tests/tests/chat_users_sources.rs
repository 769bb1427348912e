//! Limits counted per source address, through the real handlers in-process: the local
//! API Gateway (`cargo lambda watch`) says every request comes from 127.0.0.1, so these
//! tests feed the handlers API Gateway events (the `events/` fixtures) with the source
//! addresses API Gateway would set.
// The handlers' futures, awaited here, nest deeper than the default 128.
#![recursion_limit = "256"]

use std::path::Path;

use api_tests::*;
use serde_json::Value;

/// `events/<file>` with its placeholders filled in and `requestContext.http.sourceIp` set.
fn event_json(file: &str, source_ip: &str, vars: &[(&str, &str)]) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (name, value) in vars {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["requestContext"]["http"]["sourceIp"] = Value::from(source_ip);
    event
}

fn event_from(file: &str, source_ip: &str, vars: &[(&str, &str)]) -> lambda_http::Request {
    lambda_http::request::from_str(&event_json(file, source_ip, vars).to_string()).unwrap()
}

/// `POST …/users/<route>` of `chat` from `source_ip`, with exactly `body`.
fn code_route(route: &str, chat: &str, source_ip: &str, body: Value) -> lambda_http::Request {
    let mut event = event_json(
        &format!("chat-users/{route}.json"),
        source_ip,
        &[("CHAT_ID", chat)],
    );
    event["body"] = Value::from(body.to_string());
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// The status and JSON body of a handler's answer.
async fn answer(app: &chat_users::App, request: lambda_http::Request) -> (u16, Value) {
    let response = chat_users::handle(app, request).await;
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (status(&response), body)
}

/// The code items kept for `email` in `chat` (one per source that asked).
async fn code_items(
    chat: &str,
    email: &str,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    dynamodb()
        .await
        .query()
        .table_name(table_name())
        .key_condition_expression("PK = :pk AND begins_with(SK, :codes)")
        .expression_attribute_values(":pk", storage::s(format!("CHAT#{chat}")))
        .expression_attribute_values(":codes", storage::s(format!("CODE#{email}#")))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

/// A number attribute of an item.
fn number(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    name: &str,
) -> String {
    item[name].as_n().unwrap().clone()
}

/// A stranger who knows a guest's email and the chat id asks for codes for it and guesses
/// at them from elsewhere: the guest's own code still works, its token still works, and
/// once the stranger has spent the address's budget, the guest with the chat password
/// still gets a code.
#[tokio::test]
async fn a_stranger_cannot_keep_a_guest_out() {
    let app = chat_users::App::from_env().unwrap();
    let (owner, chat) = chat_with_password("keep-out").await;
    let password = PASSWORD;
    let guest = member(&owner, &chat, "victim").await;
    let (laptop, phone) = ("203.0.113.61", "203.0.113.62");
    let ask = |source: &str, body: Value| code_route("send-code", &chat, source, body);
    let enter = |source: &str, code: &str| {
        code_route(
            "get-token",
            &chat,
            source,
            serde_json::json!({ "email": guest.email, "auth-code": code }),
        )
    };

    let (sent, _) = answer(
        &app,
        ask(laptop, serde_json::json!({ "email": guest.email })),
    )
    .await;
    assert_eq!(sent, 202);
    let code = latest_code(&guest.email).await;
    let wrong = if code == "999999" { "999998" } else { "999999" };
    // The stranger asks for a code of its own for the guest's address, and burns it.
    let stranger = "198.51.100.66";
    let (sent, _) = answer(
        &app,
        ask(stranger, serde_json::json!({ "email": guest.email })),
    )
    .await;
    assert_eq!(sent, 202);
    for _ in 0..5 {
        assert_eq!(answer(&app, enter(stranger, wrong)).await.0, 422);
    }
    // Guesses from an address that asked for nothing count against nothing.
    for _ in 0..5 {
        assert_eq!(answer(&app, enter("198.51.100.67", wrong)).await.0, 422);
    }
    let (entered, body) = answer(&app, enter(laptop, &code)).await;
    assert_eq!(entered, 200, "the guest's own code still works: {body}");
    remember_secret(body["data"]["token"].as_str().unwrap());

    // Strangers at ten more addresses spend the address's budget (10 an hour)...
    let mut refused = None;
    for i in 0..10 {
        let source = format!("198.51.100.{}", 100 + i);
        let (status, body) = answer(
            &app,
            ask(&source, serde_json::json!({ "email": guest.email })),
        )
        .await;
        if status == 429 {
            refused = Some(body);
            break;
        }
        assert_eq!(status, 202);
    }
    assert!(refused.is_some(), "the address's budget ends");
    let mail_before = emails_settled(&guest.email).await;
    assert!(mail_before <= 11, "{mail_before} codes reached the guest");
    // ...the guest's token still works...
    call("GET", &format!("/api/chats/{chat}/messages"))
        .bearer(&guest.token)
        .send()
        .await
        .expect(200);
    // ...and with the chat password it still gets a code.
    let with_password =
        serde_json::json!({ "email": guest.email, "name": "Victim", "password": password });
    let (sent, body) = answer(&app, ask(phone, with_password)).await;
    assert_eq!(sent, 202, "{body}");
    let code = latest_code(&guest.email).await;
    let enter_on_phone = code_route(
        "get-token",
        &chat,
        phone,
        serde_json::json!({ "email": guest.email, "auth-code": code }),
    );
    let (entered, body) = answer(&app, enter_on_phone).await;
    assert_eq!(entered, 200);
    remember_secret(body["data"]["token"].as_str().unwrap());
}

/// Whether an email is a chat user shows in nothing send-code and get-token answer:
/// the same statuses and bodies, and the same bookkeeping (a stranger's code is made,
/// stored, throttled and counted, only never mailed).
#[tokio::test]
async fn members_and_strangers_get_the_same_answers() {
    let app = chat_users::App::from_env().unwrap();
    let (owner, chat) = chat_with_password("same-answers").await;
    let password = PASSWORD;
    let known = member(&owner, &chat, "known").await.email;
    let unknown = unique_email("unknown");
    let source = "198.51.100.80";
    let both = |body: &dyn Fn(&str) -> Value| {
        let app = &app;
        let chat = &chat;
        let (known, unknown) = (body(&known), body(&unknown));
        async move {
            let known = answer(app, code_route("send-code", chat, source, known)).await;
            let unknown = answer(app, code_route("send-code", chat, source, unknown)).await;
            (known, unknown)
        }
    };
    let email_only = |email: &str| serde_json::json!({ "email": email });
    let (first_known, first_unknown) = both(&email_only).await;
    assert_eq!(first_known, first_unknown);
    assert_eq!(first_known.0, 202);
    let (again_known, again_unknown) = both(&email_only).await;
    assert_eq!(
        again_known, again_unknown,
        "a second ask is throttled alike"
    );
    assert_eq!(again_known.0, 429);
    let no_name = |email: &str| serde_json::json!({ "email": email, "password": password });
    let (known_no_name, unknown_no_name) = both(&no_name).await;
    assert_eq!(known_no_name, unknown_no_name);
    assert_eq!(known_no_name.0, 422);

    // The same bookkeeping: one code item each, counting one send, and its code made
    // off the request (the mail queue); only one was mailed.
    for email in [&known, &unknown] {
        let items = code_items(&chat, email).await;
        assert_eq!(items.len(), 1, "{email}");
        assert_eq!(number(&items[0], "sent_in_window"), "1");
        let made = eventually(20, || async {
            code_items(&chat, email).await[0]
                .get("code_digest")
                .is_some_and(|d| d.is_s())
        })
        .await;
        assert!(made, "{email}: its code was made");
    }
    assert_eq!(emails_at_least(&known, 1).await.len(), 1);
    assert!(emails_to(&unknown).await.is_empty());

    // get-token: a wrong code is the same 422, and counts against both codes.
    let code = latest_code(&known).await;
    let wrong = if code == "999999" { "999998" } else { "999999" };
    let enter = |email: &str| serde_json::json!({ "email": email, "auth-code": wrong });
    let known_try = answer(&app, code_route("get-token", &chat, source, enter(&known))).await;
    let unknown_try = answer(
        &app,
        code_route("get-token", &chat, source, enter(&unknown)),
    )
    .await;
    assert_eq!(known_try, unknown_try);
    assert_eq!(known_try.0, 422);
    for email in [&known, &unknown] {
        assert_eq!(
            number(&code_items(&chat, email).await[0], "failed_attempts"),
            "1"
        );
    }
}

fn status(response: &lambda_http::Response<lambda_http::Body>) -> u16 {
    response.status().as_u16()
}

/// The password of every chat these tests make.
const PASSWORD: &str = "copper lantern orbit";

/// A new operator's chat (in a company of its own) that guests join with [`PASSWORD`].
async fn chat_with_password(tag: &str) -> (Operator, String) {
    let owner = operator(tag).await;
    let company = company(&owner, tag).await;
    let chat = chat(&owner, &company, Some(PASSWORD)).await;
    (owner, chat)
}

/// A stranger who knows an operator's email and fails ten times (in any letter case)
/// locks out its own address only: the operator logs in from its own.
#[tokio::test]
async fn a_strangers_failed_logins_do_not_lock_the_operator_out() {
    let tokens = tokens::App::from_env().unwrap();
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
    let chat_users = chat_users::App::from_env().unwrap();
    let (_owner, chat) = chat_with_password("guess-source").await;
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
    room_in_window(
        &chat_users::WRONG_PASSWORDS_PER_SOURCE[0],
        std::time::Duration::from_secs(30),
    )
    .await;
    for i in 0..10 {
        let guess = send(
            "198.51.100.9",
            &unique_email("guess"),
            &format!("guess-{i}"),
        );
        assert_eq!(status(&chat_users::handle(&chat_users, guess).await), 403);
    }
    let right = send("198.51.100.9", &unique_email("guess"), PASSWORD);
    assert_eq!(
        status(&chat_users::handle(&chat_users, right).await),
        429,
        "not even the right password is checked from the guesser's address"
    );
    let guest = unique_email("elsewhere");
    let elsewhere = send("203.0.113.44", &guest, PASSWORD);
    assert_eq!(
        status(&chat_users::handle(&chat_users, elsewhere).await),
        202
    );
    assert_eq!(
        latest_code(&guest).await.len(),
        6,
        "the other guest got its code"
    );
}

/// A known chat password does not turn an endless supply of addresses into codes and
/// stored chat users: 20 new joiners per hour from one source. Past it the source hears
/// what everyone hears (202), and nobody joins; other sources join.
#[tokio::test]
async fn new_joiners_are_budgeted_per_source() {
    let chat_users = chat_users::App::from_env().unwrap();
    let (_owner, chat) = chat_with_password("joiners").await;
    let join = |source: &str, email: &str| {
        event_from(
            "chat-users/send-code.json",
            source,
            &[
                ("CHAT_ID", &chat),
                ("EMAIL", email),
                ("CHAT_PASSWORD", PASSWORD),
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
    let past = unique_email("bomb");
    let refused = chat_users::handle(&chat_users, join("198.51.100.20", &past)).await;
    assert_eq!(status(&refused), 202, "the same answer as a member's");
    assert!(
        chat_user_emails(&chat).await.iter().all(|e| *e != past),
        "nobody joined past the budget"
    );
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
    let chat_users = chat_users::App::from_env().unwrap();
    let (_owner, chat) = chat_with_password("unverified").await;
    let email = unique_email("late-joiner");
    let send = event_from(
        "chat-users/send-code.json",
        "203.0.113.90",
        &[
            ("CHAT_ID", &chat),
            ("EMAIL", &email),
            ("CHAT_PASSWORD", PASSWORD),
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
    let now = domain::clock::now_millis() / 1000;
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
    // Entered from where it was asked for (codes are kept per source).
    let enter = serde_json::json!({ "email": email, "auth_code": code });
    let (entered, joined) = answer(
        &chat_users,
        code_route("get-token", &chat, "203.0.113.90", enter),
    )
    .await;
    assert_eq!(entered, 200);
    remember_secret(joined["data"]["token"].as_str().unwrap());
    for sk in [format!("MEMBER#{member}"), format!("EMAIL#{email}")] {
        assert_eq!(ttl_of(sk.clone()).await, None, "{sk}: verified, kept");
    }
}

/// The emails of a chat's chat users, as stored.
async fn chat_user_emails(chat: &str) -> Vec<String> {
    dynamodb()
        .await
        .query()
        .table_name(table_name())
        .key_condition_expression("PK = :pk AND begins_with(SK, :members)")
        .expression_attribute_values(":pk", storage::s(format!("CHAT#{chat}")))
        .expression_attribute_values(":members", storage::s("MEMBER#"))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item.get("email").and_then(|e| e.as_s().ok()).cloned())
        .collect()
}

/// The code an owner sent a guest it added: a stranger's wrong tries (get-token, and the
/// personal-data routes that take a code) never count against it, whatever it sends;
/// they spend the stranger's own guesses, and the guest's code still works.
#[tokio::test]
async fn a_stranger_s_wrong_codes_never_touch_the_code_the_owner_sent() {
    let app = chat_users::App::from_env().unwrap();
    let (owner, chat) = chat_with_password("owner-code").await;
    let guest = member_with_email(&owner, &chat, &unique_email("added"), "Added", true).await;
    let code = latest_code(&guest.email).await;
    let wrong = if code == "999999" { "999998" } else { "999999" };
    let stranger = "198.51.100.140";
    let with = |route: &str, code: &str| {
        code_route(
            route,
            &chat,
            stranger,
            serde_json::json!({ "email": guest.email, "auth-code": code }),
        )
    };
    room_in_window(
        &chat_users::GUESSES_PER_SOURCE[0],
        std::time::Duration::from_secs(30),
    )
    .await;
    let mut statuses = Vec::new();
    for route in ["get-token", "export-data", "erase-data"]
        .iter()
        .cycle()
        .take(12)
    {
        statuses.push(answer(&app, with(route, wrong)).await.0);
    }
    assert_eq!(&statuses[..10], &[422; 10], "{statuses:?}");
    assert_eq!(
        statuses[10], 429,
        "the stranger's guesses are spent: {statuses:?}"
    );
    // Spent means spent: not even a right code is heard from there now.
    assert_eq!(answer(&app, with("get-token", &code)).await.0, 429);
    // The guest, from where it is, with the code the owner sent.
    let (entered, body) = answer(
        &app,
        code_route(
            "get-token",
            &chat,
            "203.0.113.141",
            serde_json::json!({ "email": guest.email, "auth-code": code }),
        ),
    )
    .await;
    assert_eq!(entered, 200, "{body}");
    remember_secret(body["data"]["token"].as_str().unwrap());
}

/// Budgets that neither leak nor block: a source past its joiner budget hears what a
/// member hears, and wrong passwords from many sources stop those sources, never the
/// chat: a guest at a fresh address joins.
#[tokio::test]
async fn spent_budgets_tell_nothing_and_stop_only_their_sources() {
    let app = chat_users::App::from_env().unwrap();
    let (owner, chat) = chat_with_password("budgets-leak").await;
    let member = member(&owner, &chat, "member").await;
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
    let crowded = "198.51.100.150";
    for i in 0..20 {
        let email = format!("crowd+{i}-{}", unique_email("joiner"));
        assert_eq!(answer(&app, send(crowded, &email, PASSWORD)).await.0, 202);
    }
    // A minute later the member could ask again; its answer and a stranger's agree.
    let as_member = answer(&app, send(crowded, &member.email, PASSWORD)).await;
    let as_stranger = answer(&app, send(crowded, &unique_email("late"), PASSWORD)).await;
    assert_eq!(as_member, as_stranger);
    assert_eq!(as_member.0, 202);

    // Eleven guessers, ten wrong passwords each: more than any one chat-wide stop
    // would let through.
    for guesser in 0..11 {
        let source = format!("198.51.100.{}", 160 + guesser);
        for i in 0..10 {
            let guess = send(
                &source,
                &unique_email("guess"),
                &format!("guess-{guesser}-{i}"),
            );
            assert_eq!(answer(&app, guess).await.0, 403);
        }
    }
    let newcomer = unique_email("newcomer");
    let (status, body) = answer(&app, send("203.0.113.170", &newcomer, PASSWORD)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(latest_code(&newcomer).await.len(), 6);
}

/// The request path never waits on SES: with SES unreachable, send-code still answers
/// 202 for a member (the mail is the mail queue's business), exactly as for a stranger.
#[tokio::test]
async fn send_code_answers_alike_whatever_ses_does() {
    let working = chat_users::App::from_env().unwrap();
    let dead_ses = aws()
        .await
        .into_builder()
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let app = chat_users::App {
        mailer: services::mail::Mailer::from_config(&dead_ses, "chat@example.com".to_owned()),
        ..working
    };
    let (owner, chat) = chat_with_password("dead-ses").await;
    let member = member(&owner, &chat, "member").await;
    let ask = |email: &str| {
        code_route(
            "send-code",
            &chat,
            "198.51.100.180",
            serde_json::json!({ "email": email }),
        )
    };
    let as_member = answer(&app, ask(&member.email)).await;
    let as_stranger = answer(&app, ask(&unique_email("nobody"))).await;
    assert_eq!(as_member, as_stranger);
    assert_eq!(as_member.0, 202);
    assert_eq!(latest_code(&member.email).await.len(), 6);
}

//! Per-request cost of the hot routes, with DynamoDB answered in-process by
//! `aws-smithy-mocks` (no network: what is left is our CPU), beside a hello-world
//! handler and the SDK floor of the read routes and of the desk's (`chat_bench::floor`:
//! the route's own DynamoDB calls, no logic of ours); the DynamoDB round trips each
//! route makes, and the items of its transaction (kind and size, to check a floor's
//! against ours); and the cost of argon2 and of a JWT check. A request is measured from
//! the API Gateway event (JSON text, as the runtime receives it) to the response, for
//! the hello world as for the routes: the part every Lambda pays is in both.
//!
//! Usage:
//!   handler-cost time            JSON lines: per route, µs per request, round trips
//!                                and the items of its transaction
//!   handler-cost run ROUTE N     N requests of ROUTE (for callgrind)
//!   handler-cost crypto          JSON lines: argon2 hash / verify, JWT verify

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use chat_bench::{hello_response, percentiles, render_event};
use domain::api_token::ApiTokenRecord;
use domain::auth_code::AuthCodeRecord;
use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::ids::{ApiTokenId, ChatId, ChatUserId, CompanyId, MessageId, UserId};
use domain::message::MessageRecord;
use domain::user::UserRecord;
use edge::Context;
use edge::config::Config;
use lambda_http::{Body, Request, Response};
use services::keyring::{KeyRing, KeyVersion, Keys, Purpose};
use storage::{Item, stored};

const TABLE: &str = "bench";
/// The key material of the benchmarks' fixed keys.
const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";

fn key_version() -> KeyVersion {
    KeyVersion::derive(SECRET).expect("bench key")
}

/// The handlers' keys: fixed, as a function has them after its cold start.
fn keys() -> Keys {
    let stored = format!(r#"{{"current": "{SECRET}"}}"#);
    Keys::fixed(KeyRing::parse(&stored, std::time::Duration::from_secs(3600)).expect("bench keys"))
}

/// The caller address of `events/chat-users/get-token.json`: its code is kept under it.
const EVENT_SOURCE_IP: &str = "198.51.100.23";

fn bench_source() -> domain::auth_code::CodeSource {
    let key = key_version();
    let tag = services::crypto::source_tag(key.key(Purpose::SourceTag), EVENT_SOURCE_IP).unwrap();
    domain::auth_code::CodeSource::Caller(tag)
}
const EMAIL: &str = "guest@example.com";
const CODE: u32 = 123_456;

fn config() -> Config {
    Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(TABLE.into()),
        "MAIL_FROM" => Some("chat@example.com".into()),
        _ => None,
    })
    .expect("bench config")
}

/// The items the mocked table holds.
struct Fixture {
    user: Item,
    token: Item,
    chat: Item,
    chat_user: Item,
    chat_user_email: Item,
    code: Item,
    messages: Vec<Item>,
    /// A page of the inbox: 26 conversations' index keys, and their chat items.
    inbox_keys: Vec<Item>,
    conversations: Vec<Item>,
    api_token: String,
    chat_user_token: String,
    chat_id: String,
    company_id: String,
}

fn fixture() -> Fixture {
    let now = domain::clock::now_rfc3339();
    let (user_id, token_id, company_id, chat_id, chat_user_id) = (
        UserId::new(),
        ApiTokenId::new(),
        CompanyId::new(),
        ChatId::new(),
        ChatUserId::new(),
    );
    let user = UserRecord {
        id: user_id,
        email: "owner@example.com".into(),
        name: "Owner".into(),
        password_hash: "$argon2id$unused".into(),
        created_at: now.clone(),
        updated_at: now.clone(),
        memberships: [(company_id, domain::team::Membership::OWNER)].into(),
    };
    let token = ApiTokenRecord {
        id: token_id,
        user_id,
        name: "bench".into(),
        created_at: now.clone(),
        last_used_at: Some(now.clone()),
        // Far in the future: the handler never needs to refresh `last_used_at`.
        last_used_ms: Some(i64::MAX / 2),
        expires_at: None,
    };
    let chat = ChatRecord {
        id: chat_id,
        company_id,
        name: "Support".into(),
        description: None,
        password: None,
        created_at: now.clone(),
        updated_at: now.clone(),
        last_message_at: None,
        last_message_id: None,
        unread_email_minutes: None,
        event_seq: 0,
        last_message_seq: None,
        tokens_revoked_at_ms: None,
        retention_days: None,
        ..ChatRecord::default()
    };
    let chat_user = ChatUserRecord {
        id: chat_user_id,
        chat_id,
        name: "Guest".into(),
        email: EMAIL.into(),
        verified_at: None,
        created_at: now.clone(),
        updated_at: now.clone(),
        announced: true,
        ..ChatUserRecord::default()
    };
    let code = AuthCodeRecord {
        code_digest: Some(
            services::crypto::stored_code_digest(&key_version(), &chat_id.to_string(), EMAIL, CODE)
                .unwrap(),
        ),
        expires_at_ms: i64::MAX / 2,
        failed_attempts: 0,
        last_sent_ms: 0,
        window_start_ms: 0,
        sent_in_window: 1,
        version: 1,
        made_by_job: None,
        name: None,
    };
    let messages = (0..50)
        .map(|i| {
            let message = MessageRecord {
                id: MessageId::new(),
                seq: i + 1,
                chat_id,
                chat_user_id: Some(chat_user_id),
                author: Some(domain::message::Author::Guest {
                    id: chat_user_id,
                    name: "Guest".into(),
                }),
                internal: false,
                body: format!("Message number {i}: is the blue kettle back in stock? 🫖"),
                created_at: now.clone(),
                updated_at: now.clone(),
                edited_at: None,
                client_id: None,
                edit_seqs: Vec::new(),
                attachments: Vec::new(),
            };
            stored::message(&message).unwrap()
        })
        .collect();
    // A page of 25 conversations (the inbox's default page), each with its guest and newest
    // message (what an inbox row shows), and one more that tells another page follows.
    let conversations: Vec<Item> = (0..26)
        .map(|i| {
            let guest = ChatUserId::new();
            let conversation = ChatRecord {
                id: ChatId::new(),
                company_id,
                name: format!("Visitor {i}"),
                created_at: now.clone(),
                updated_at: now.clone(),
                last_message_at: Some(now.clone()),
                last_message_id: Some(MessageId::new()),
                event_seq: 4,
                last_message_seq: Some(4),
                kind: domain::chat::ChatKind::Conversation,
                status: Some(domain::chat::ConversationStatus::Open),
                waiting_since: Some(now.clone()),
                guest: Some(domain::chat::GuestSummary {
                    id: guest,
                    name: format!("Visitor {i}"),
                    email: Some(format!("visitor{i}@example.com")),
                }),
                last_message: Some(domain::chat::LastMessage {
                    author: domain::message::Author::Guest {
                        id: guest,
                        name: format!("Visitor {i}"),
                    },
                    preview: "Is the blue kettle back in stock? I ordered one last week and the tracking page says nothing.".into(),
                    internal: false,
                }),
                message_count: 3,
                ..ChatRecord::default()
            };
            stored::chat(&conversation).unwrap()
        })
        .collect();
    // What GSI3 (the fixture's `sort=waiting`) hands back: the keys and the assignee only.
    let inbox_keys = conversations
        .iter()
        .map(|item| {
            ["PK", "SK", "GSI2PK", "GSI3SK"]
                .iter()
                .map(|attr| ((*attr).to_owned(), item[*attr].clone()))
                .collect()
        })
        .collect();
    let version = key_version();
    Fixture {
        inbox_keys,
        conversations,
        company_id: company_id.to_string(),
        api_token: services::jwt::api_token(&version, user_id, token_id).unwrap(),
        chat_user_token: services::jwt::chat_user_token(&version, chat_id, chat_user_id, 3600)
            .unwrap()
            .0,
        user: stored::user(&user).unwrap(),
        token: stored::api_token(&token).unwrap(),
        chat: stored::chat(&chat).unwrap(),
        chat_user_email: stored::chat_user_email(&chat_user).unwrap(),
        chat_user: stored::chat_user(&chat_user).unwrap(),
        code: stored::auth_code(chat_id, EMAIL, &bench_source(), &code).unwrap(),
        messages,
        chat_id: chat_id.to_string(),
    }
}

/// A rule that answers every call of one operation with the same output.
macro_rules! always {
    ($op:path, $output:expr) => {{
        let output = $output;
        mock!($op)
            .sequence()
            .output(move || output.clone())
            .repeatedly()
            .build()
    }};
}

fn batch_get(items: Vec<Item>) -> Rule {
    always!(
        Client::batch_get_item,
        BatchGetItemOutput::builder()
            .responses(TABLE, items)
            .build()
    )
}

/// `GET /api/user`'s DynamoDB answers (ours and its SDK floor alike): the profile and the
/// token item.
fn user_rules(f: &Fixture) -> Vec<Rule> {
    vec![batch_get(vec![f.user.clone(), f.token.clone()])]
}

/// A guest's message list's answers (ours and its SDK floor alike): its chat user and the
/// chat, then a page of 50 messages.
fn list_rules(f: &Fixture) -> Vec<Rule> {
    vec![
        batch_get(vec![f.chat_user.clone(), f.chat.clone()]),
        always!(
            Client::query,
            QueryOutput::builder()
                .set_items(Some(f.messages.clone()))
                .count(50)
                .build()
        ),
    ]
}

/// Whether the transaction rule notes the items it is sent (only for the one checked
/// request of `time`: the measured requests pay one atomic load).
static RECORDING: AtomicBool = AtomicBool::new(false);
/// The items of the last transaction noted: what each is, and its size in bytes.
static WRITES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// An attribute's size as DynamoDB counts it (about: names and values, in bytes).
fn attribute_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) | AttributeValue::N(text) => text.len(),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::M(map) => 3 + item_size(map),
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + attribute_size(v)).sum::<usize>(),
        AttributeValue::Ss(texts) | AttributeValue::Ns(texts) => {
            texts.iter().map(String::len).sum()
        }
        _ => 1,
    }
}

fn item_size(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + attribute_size(value))
        .sum()
}

/// One transaction item as `time` prints it: its kind and size (a put: its item; an
/// update: its key and values; a check: its key).
fn write_item(item: &TransactWriteItem) -> String {
    let values = |values: Option<&std::collections::HashMap<String, AttributeValue>>| {
        values.map_or(0, item_size)
    };
    if let Some(put) = item.put() {
        format!("Put {} B", item_size(put.item()))
    } else if let Some(update) = item.update() {
        format!(
            "Update {} B",
            item_size(update.key()) + values(update.expression_attribute_values())
        )
    } else if let Some(check) = item.condition_check() {
        format!("ConditionCheck {} B", item_size(check.key()))
    } else if let Some(delete) = item.delete() {
        format!("Delete {} B", item_size(delete.key()))
    } else {
        "?".to_owned()
    }
}

/// Every TransactWriteItems answered as written (its items noted while `RECORDING`).
fn transact_rule() -> Rule {
    mock!(Client::transact_write_items)
        .match_requests(|input| {
            if RECORDING.load(Ordering::Relaxed) {
                *WRITES.lock().unwrap() = input.transact_items().iter().map(write_item).collect();
            }
            true
        })
        .sequence()
        .output(|| TransactWriteItemsOutput::builder().build())
        .repeatedly()
        .build()
}

/// A member's post's answers (ours and its SDK floor alike): its user and token, the
/// chat, then the one transaction that also moves its own read marker.
fn staff_post_rules(f: &Fixture) -> Vec<Rule> {
    vec![
        batch_get(vec![f.user.clone(), f.token.clone()]),
        always!(
            Client::get_item,
            GetItemOutput::builder()
                .set_item(Some(f.chat.clone()))
                .build()
        ),
        transact_rule(),
    ]
}

/// A page of 25 inbox rows (ours and its SDK floor alike): the member's user and token,
/// one Query of the index, one BatchGetItem of the rows' chats and the member's markers
/// in them (none read yet).
fn inbox_rules(f: &Fixture) -> Vec<Rule> {
    let rows: Vec<Item> = f.conversations[..25].to_vec();
    vec![
        mock!(Client::batch_get_item)
            .match_requests(|input| {
                input.request_items().is_some_and(|tables| {
                    tables.values().any(|keys| {
                        keys.keys().iter().any(|key| {
                            key.get("PK")
                                .and_then(|pk| pk.as_s().ok())
                                .is_some_and(|pk| pk.starts_with("CHAT#"))
                        })
                    })
                })
            })
            .sequence()
            .output(move || {
                BatchGetItemOutput::builder()
                    .responses(TABLE, rows.clone())
                    .build()
            })
            .repeatedly()
            .build(),
        batch_get(vec![f.user.clone(), f.token.clone()]),
        always!(
            Client::query,
            QueryOutput::builder()
                .set_items(Some(f.inbox_keys.clone()))
                .count(26)
                .build()
        ),
    ]
}

/// A visitor's get-token's answers (ours and its SDK floor alike): the chat, its email
/// item and its code (to every BatchGetItem), the code used up, the chat user, the
/// transaction that verifies it.
fn get_token_rules(f: &Fixture) -> Vec<Rule> {
    vec![
        batch_get(vec![
            f.chat.clone(),
            f.chat_user_email.clone(),
            f.code.clone(),
        ]),
        always!(Client::update_item, UpdateItemOutput::builder().build()),
        always!(
            Client::get_item,
            GetItemOutput::builder()
                .set_item(Some(f.chat_user.clone()))
                .build()
        ),
        transact_rule(),
    ]
}

fn mocked_client(rules: &[Rule]) -> Client {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .http_client(create_mock_http_client())
        .interceptor(interceptor)
        .build();
    Client::from_conf(config)
}

fn mocked_ses() -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::Config::builder()
        .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
        .region(aws_sdk_sesv2::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sesv2::config::Credentials::new(
            "b", "b", None, None, "b",
        ))
        .http_client(create_mock_http_client())
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

/// A hot route: its handler (with its mocks) and its event.
struct Route {
    name: &'static str,
    /// The fewest DynamoDB calls its access pattern needs (see BENCHMARKS.md).
    floor: usize,
    event: String,
    rules: Vec<Rule>,
    handler: Handler,
}

enum Handler {
    Hello,
    Floor(chat_bench::floor::Floor),
    CurrentUser(current_user::App),
    Messages(chat_messages::App),
    ChatUsers(chat_users::App),
    Chats(chats::App),
}

impl Handler {
    async fn handle(&self, request: Request) -> Response<Body> {
        match self {
            Handler::Hello => hello_response(),
            Handler::Floor(floor) => floor.handle(request).await,
            Handler::CurrentUser(app) => current_user::handle(app, request).await,
            Handler::Messages(app) => chat_messages::handle(app, request).await,
            Handler::ChatUsers(app) => chat_users::handle(app, request).await,
            Handler::Chats(app) => chats::handle(app, request).await,
        }
    }
}

fn routes() -> Vec<Route> {
    let f = fixture();
    let mut routes = Vec::new();
    let token_vars = |api: &str| {
        vec![
            ("API_TOKEN", api.to_owned()),
            ("CHAT_ID", f.chat_id.clone()),
        ]
    };

    routes.push(Route {
        name: "hello-world",
        floor: 0,
        event: render_event("current-user/user.json", &token_vars(&f.api_token)),
        rules: vec![],
        handler: Handler::Hello,
    });

    // The SDK floor of each read route (bench/src/floor/): the same mocked answers,
    // the route's own DynamoDB calls, no logic of ours.
    let rules = user_rules(&f);
    routes.push(Route {
        name: "SDK floor: GET /api/user",
        floor: 1,
        event: render_event("current-user/user.json", &token_vars(&f.api_token)),
        handler: Handler::Floor(chat_bench::floor::Floor::new(mocked_client(&rules), TABLE)),
        rules,
    });
    let rules = list_rules(&f);
    routes.push(Route {
        name: "SDK floor: GET /api/chats/{id}/messages",
        floor: 2,
        event: render_event("chat-messages/list.json", &token_vars(&f.chat_user_token)),
        handler: Handler::Floor(chat_bench::floor::Floor::new(mocked_client(&rules), TABLE)),
        rules,
    });
    // The desk's: the same events and mocked answers as our routes below.
    let staff_post_event = render_event(
        "chat-messages/create.json",
        &[
            ("CHAT_USER_TOKEN", f.api_token.clone()),
            ("CHAT_ID", f.chat_id.clone()),
        ],
    );
    let inbox_event = render_event(
        "chats/inbox.json",
        &[
            ("API_TOKEN", f.api_token.clone()),
            ("COMPANY_ID", f.company_id.clone()),
        ],
    );
    let get_token_event = render_event(
        "chat-users/get-token.json",
        &[
            ("CHAT_ID", f.chat_id.clone()),
            ("EMAIL", EMAIL.to_owned()),
            ("AUTH_CODE", CODE.to_string()),
        ],
    );
    for (name, floor, event, rules) in [
        (
            "SDK floor: POST /api/chats/{id}/messages (staff)",
            3,
            &staff_post_event,
            staff_post_rules(&f),
        ),
        (
            "SDK floor: GET /api/inbox",
            3,
            &inbox_event,
            inbox_rules(&f),
        ),
        (
            "SDK floor: POST /chats/{id}/users/get-token",
            4,
            &get_token_event,
            get_token_rules(&f),
        ),
    ] {
        routes.push(Route {
            name,
            floor,
            event: event.clone(),
            handler: Handler::Floor(chat_bench::floor::Floor::new(mocked_client(&rules), TABLE)),
            rules,
        });
    }

    let rules = user_rules(&f);
    routes.push(Route {
        name: "GET /api/user",
        floor: 1,
        event: render_event("current-user/user.json", &token_vars(&f.api_token)),
        handler: Handler::CurrentUser(current_user::App {
            ctx: Context::with_dynamodb(config(), mocked_client(&rules)).with_keys(keys()),
        }),
        rules,
    });

    // A guest polling: the list event, with the chat-user token as the bearer.
    let rules = list_rules(&f);
    routes.push(Route {
        name: "GET /api/chats/{id}/messages",
        floor: 2,
        event: render_event("chat-messages/list.json", &token_vars(&f.chat_user_token)),
        handler: Handler::Messages(chat_messages::App::offline(
            Context::with_dynamodb(config(), mocked_client(&rules)).with_keys(keys()),
        )),
        rules,
    });

    let rules = vec![
        batch_get(vec![f.chat_user.clone(), f.chat.clone()]),
        transact_rule(),
    ];
    routes.push(Route {
        name: "POST /api/chats/{id}/messages",
        floor: 2,
        event: render_event(
            "chat-messages/create.json",
            &[
                ("CHAT_USER_TOKEN", f.chat_user_token.clone()),
                ("CHAT_ID", f.chat_id.clone()),
            ],
        ),
        handler: Handler::Messages(chat_messages::App::offline(
            Context::with_dynamodb(config(), mocked_client(&rules)).with_keys(keys()),
        )),
        rules,
    });

    // A member replying with its API token.
    let rules = staff_post_rules(&f);
    routes.push(Route {
        name: "POST /api/chats/{id}/messages (staff)",
        floor: 3,
        event: staff_post_event,
        handler: Handler::Messages(chat_messages::App::offline(
            Context::with_dynamodb(config(), mocked_client(&rules)).with_keys(keys()),
        )),
        rules,
    });

    let rules = inbox_rules(&f);
    routes.push(Route {
        name: "GET /api/inbox",
        floor: 3,
        event: inbox_event,
        handler: Handler::Chats(chats::App {
            ctx: Context::with_dynamodb(config(), mocked_client(&rules)).with_keys(keys()),
            // The inbox queues nothing (the client is built at a first send that never comes).
            wake_jobs: services::queue::Queue::new(
                &sdk::from_lambda_env(),
                "https://sqs.us-east-1.amazonaws.com/000000000000/notify".to_owned(),
            ),
        }),
        rules,
    });

    let rules = get_token_rules(&f);
    routes.push(Route {
        name: "POST /chats/{id}/users/get-token",
        // The first verification writes the chat user with its event: it needs the record.
        floor: 4,
        event: get_token_event,
        handler: Handler::ChatUsers(chat_users::App {
            ctx: Context::with_dynamodb(config(), mocked_client(&rules)).with_keys(keys()),
            mailer: services::mail::Mailer::new(mocked_ses(), "chat@example.com"),
            // get-token queues nothing (the client is built at a first send that never comes).
            mail_jobs: services::queue::Queue::new(
                &sdk::from_lambda_env(),
                "https://sqs.us-east-1.amazonaws.com/000000000000/mail".to_owned(),
            ),
        }),
        rules,
    });
    routes
}

fn request(event: &str) -> Request {
    lambda_http::request::from_str(event).expect("an API Gateway event")
}

fn round_trips(route: &Route) -> usize {
    route.rules.iter().map(Rule::num_calls).sum()
}

async fn time_routes() {
    for route in routes() {
        // One call checks the answer and counts the round trips of one request.
        let before = round_trips(&route);
        WRITES.lock().unwrap().clear();
        RECORDING.store(true, Ordering::Relaxed);
        let response = route.handler.handle(request(&route.event)).await;
        RECORDING.store(false, Ordering::Relaxed);
        let trips = round_trips(&route) - before;
        let write_items = std::mem::take(&mut *WRITES.lock().unwrap());
        let status = response.status().as_u16();
        assert!(
            status < 300,
            "{}: {status} {:?}",
            route.name,
            response.body()
        );
        let mut per_request_us = Vec::new();
        for _ in 0..30 {
            let started = Instant::now();
            for _ in 0..200 {
                std::hint::black_box(route.handler.handle(request(&route.event)).await);
            }
            per_request_us.push(started.elapsed().as_secs_f64() * 1e6 / 200.0);
        }
        let (median, p10, p90) = percentiles(&mut per_request_us);
        println!(
            "{}",
            serde_json::json!({
                "route": route.name, "status": status, "round_trips": trips, "floor": route.floor,
                "write_items": write_items,
                "median_us": median, "p10_us": p10, "p90_us": p90,
            })
        );
    }
}

async fn run(name: &str, n: usize) {
    let routes = routes();
    let route = routes.iter().find(|r| r.name == name).unwrap_or_else(|| {
        panic!(
            "no route {name}; one of: {:?}",
            routes.iter().map(|r| r.name).collect::<Vec<_>>()
        )
    });
    for _ in 0..n {
        std::hint::black_box(route.handler.handle(request(&route.event)).await);
    }
}

fn crypto() {
    let time = |what: &str, runs: usize, f: &mut dyn FnMut()| {
        let mut ms = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            f();
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let (median, p10, p90) = percentiles(&mut ms);
        println!(
            "{}",
            serde_json::json!({ "what": what, "median_ms": median, "p10_ms": p10, "p90_ms": p90 })
        );
    };
    let hash = services::crypto::hash_password("correct horse battery staple").unwrap();
    time("argon2id hash (19 MiB, t=2, p=1)", 20, &mut || {
        std::hint::black_box(
            services::crypto::hash_password("correct horse battery staple").unwrap(),
        );
    });
    time("argon2id verify", 20, &mut || {
        assert!(services::crypto::verify_password(
            "correct horse battery staple",
            &hash
        ));
    });
    let version = key_version();
    let token = services::jwt::api_token(&version, UserId::new(), ApiTokenId::new()).unwrap();
    time("JWT HS256 verify", 10_000, &mut || {
        std::hint::black_box(services::jwt::verify_with(&version, &token).unwrap());
    });
    time("auth-code HMAC", 10_000, &mut || {
        std::hint::black_box(
            services::crypto::stored_code_digest(&version, "chat", EMAIL, CODE).unwrap(),
        );
    });
    // What a cold start adds besides the GetSecretValue (the cold-start runs include that).
    time(
        "key derivation (HKDF-SHA256, one version: 5 keys + kid)",
        10_000,
        &mut || {
            std::hint::black_box(KeyVersion::derive(SECRET).unwrap());
        },
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("time") => time_routes().await,
        Some("run") => run(&args[1], args[2].parse().expect("N")).await,
        Some("crypto") => crypto(),
        _ => eprintln!("usage: handler-cost time | run ROUTE N | crypto"),
    }
}

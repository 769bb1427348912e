//! Test harness for the black-box and handler tests. `make test` (infra/local/test.sh)
//! starts moto and `cargo lambda watch` on free ports and passes them here through the
//! environment; these helpers talk to that stack like a client would.

use std::collections::HashMap;
use std::sync::OnceLock;

use edge::Context;
use edge::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storage::Db;

pub mod in_process;
pub mod live;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: these tests run against the local stack, use `make test`")
    })
}

/// Base URL of the API (`cargo lambda watch`).
pub fn api_url() -> String {
    env("CHAT_API_URL")
}

/// Base URL of moto (DynamoDB + SES).
pub fn moto_url() -> String {
    env("MOTO_URL")
}

/// A fresh, unique email for one test.
pub fn unique_email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

/// The handlers' context, built like `main` does (keys included), pointed at the test
/// stack.
pub async fn context() -> Context {
    let config = Config::from_env().expect("test stack env (TABLE_NAME, KEYS_SECRET_ID)");
    Context::load(config, &aws().await).expect("the keys of the test stack (KEYS_SECRET_ID)")
}

/// The secret that holds the stack's keys (bootstrap in common.sh creates it).
pub fn keys_secret_id() -> String {
    env("KEYS_SECRET_ID")
}

pub async fn secrets_manager() -> services::aws_sdk_secretsmanager::Client {
    services::aws_sdk_secretsmanager::Client::new(&aws().await)
}

/// The stack's keys, read from their secret as the functions read them.
pub async fn keys() -> services::keyring::Keys {
    chat_admin::keys(&secrets_manager().await, &keys_secret_id())
        .await
        .expect("the keys of the test stack")
}

/// The secret's value as stored now (key material: tests only sign with it).
pub async fn stored_keys() -> services::keyring::StoredKeys {
    services::keyring::read_stored(&secrets_manager().await, &keys_secret_id())
        .await
        .expect("the keys secret's value")
}

/// The functions' own AWS configuration (budgets and retries of the `sdk` crate);
/// AWS_ENDPOINT_URL and dummy credentials come from test.sh.
pub async fn aws() -> aws_config::SdkConfig {
    sdk::load().await
}

pub async fn db() -> Db {
    Db::new(dynamodb().await, table_name())
}

/// The SDK client itself, for the few tests that arrange or inspect items directly
/// (age a code, bulk-write messages, check a partition is empty).
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&aws().await)
}

pub fn table_name() -> String {
    env("TABLE_NAME")
}

/// One HTTP client for all tests. Without a connection pool: each `#[tokio::test]` has
/// its own runtime, and a pooled connection would outlive the runtime that drives it.
pub fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        // The deliver crate (linked for its in-process tests) turns on reqwest's rustls
        // without a default crypto provider: name the one the AWS SDK already uses.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .expect("reqwest client")
    })
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `data` of a success envelope.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "every answer is JSON"
        );
        assert!(
            self.header("x-request-id").is_some(),
            "every answer has X-Request-Id"
        );
        self
    }

    /// The field errors of a 422 for one field.
    pub fn field_errors(&self, field: &str) -> Vec<String> {
        self.body["errors"][field]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// How a request carries its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Bearer,
    Query,
    Body,
}

/// A request builder over the API.
pub struct Call {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    json: Option<Value>,
    form: Option<Vec<(String, String)>>,
    raw: Option<(String, Vec<u8>)>,
}

pub fn call(method: &str, path: &str) -> Call {
    Call {
        method: Method::from_bytes(method.as_bytes()).expect("method"),
        path: path.to_owned(),
        query: Vec::new(),
        headers: Vec::new(),
        json: None,
        form: None,
        raw: None,
    }
}

impl Call {
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.json = Some(body);
        self
    }

    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.form = Some(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.raw = Some((content_type.to_owned(), body.into()));
        self
    }

    /// Carries `token` the given way, under `param` (`api_token` / `chat_user_token`).
    pub fn token(self, via: Via, param: &str, token: &str) -> Self {
        match via {
            Via::Bearer => self.bearer(token),
            Via::Query => self.query(param, token),
            Via::Body => {
                let mut body = self.json.clone().unwrap_or_else(|| json!({}));
                body[param] = json!(token);
                self.json(body)
            }
        }
    }

    pub fn api(self, token: &str) -> Self {
        self.bearer(token)
    }

    pub async fn send(self) -> Reply {
        let url = format!("{}{}", api_url(), self.path);
        let mut request = http().request(self.method, url).query(&self.query);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &self.json {
            request = request.json(body);
        } else if let Some(form) = &self.form {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).expect("form"));
        } else if let Some((content_type, bytes)) = self.raw {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }
}

/// An operator with an API token, made with chat-admin's functions (as `make dev` does).
#[derive(Debug, Clone)]
pub struct Operator {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

pub async fn operator(tag: &str) -> Operator {
    let db = db().await;
    let email = unique_email(tag);
    let password = format!("pw-{}", ulid::Ulid::new());
    let user = chat_admin::create_user(&db, &email, &format!("Operator {tag}"), &password)
        .await
        .expect("create user");
    let (token, _) = chat_admin::issue_token(&db, &keys().await, &user, "tests")
        .await
        .expect("issue token");
    remember_secret(&token);
    remember_secret(&password);
    Operator {
        id: user.id.to_string(),
        email,
        password,
        token,
    }
}

/// Creates a company and returns its id.
pub async fn company(owner: &Operator, name: &str) -> String {
    let reply = call("POST", "/api/companies")
        .api(&owner.token)
        .json(json!({ "name": name }))
        .send()
        .await
        .expect(201);
    reply.data()["id"].as_str().unwrap().to_owned()
}

/// Creates a chat (optionally with a password) and returns its id.
pub async fn chat(owner: &Operator, company_id: &str, password: Option<&str>) -> String {
    let reply = call("POST", "/api/chats")
        .api(&owner.token)
        .json(json!({ "company_id": company_id, "name": "Support", "password": password }))
        .send()
        .await
        .expect(201);
    reply.data()["id"].as_str().unwrap().to_owned()
}

/// A chat user with a token minted by the owner (no email round trip).
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub email: String,
    pub token: String,
}

pub async fn member(owner: &Operator, chat_id: &str, name: &str) -> Member {
    member_with_email(owner, chat_id, &unique_email(name), name, false).await
}

/// A chat user the owner adds with this email (and, with `send_code`, mails a code),
/// with a token minted by the owner.
pub async fn member_with_email(
    owner: &Operator,
    chat_id: &str,
    email: &str,
    name: &str,
    send_code: bool,
) -> Member {
    let created = call("POST", &format!("/api/chats/{chat_id}/users"))
        .api(&owner.token)
        .json(json!({ "email": email, "name": name, "send_code": send_code }))
        .send()
        .await
        .expect(201);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let minted = call("POST", &format!("/api/chats/{chat_id}/users/{id}/token"))
        .api(&owner.token)
        .send()
        .await
        .expect(201);
    let token = minted.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&token);
    Member {
        id,
        email: email.to_owned(),
        token,
    }
}

/// The chat's own item as stored (a consistent read).
pub async fn chat_item(chat_id: &str) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    dynamodb()
        .await
        .get_item()
        .table_name(table_name())
        .key("PK", storage::s(format!("CHAT#{chat_id}")))
        .key("SK", storage::s("CHAT"))
        .consistent_read(true)
        .send()
        .await
        .expect("a read of the chat item")
        .item
        .expect("the chat item")
}

/// An owner, a chat of one of its companies, and two chat users of it (Ann and Bob).
pub struct Room {
    pub owner: Operator,
    pub company: String,
    pub chat: String,
    pub ann: Member,
    pub bob: Member,
}

pub async fn room(tag: &str) -> Room {
    let owner = operator(tag).await;
    let company = company(&owner, "Rooms").await;
    let chat = chat(&owner, &company, None).await;
    let ann = member(&owner, &chat, "ann").await;
    let bob = member(&owner, &chat, "bob").await;
    Room {
        owner,
        company,
        chat,
        ann,
        bob,
    }
}

/// Posts a message as the holder of `token`; the created message.
pub async fn post_message(chat: &str, token: &str, body: &str) -> Value {
    call("POST", &format!("/api/chats/{chat}/messages"))
        .bearer(token)
        .json(json!({ "body": body }))
        .send()
        .await
        .expect(201)
        .data()
        .clone()
}

/// The emails moto's SES received for an address, oldest first: (subject, body). From
/// the SES-only route of our moto launcher (`infra/local/moto_server.py`): moto's own
/// data.json dumps every model it holds, and stalls the stack while it does.
pub async fn emails_to(address: &str) -> Vec<(String, String)> {
    let data: Value = http()
        .get(format!("{}/local-api/ses-messages", moto_url()))
        .send()
        .await
        .expect("moto answers")
        .json()
        .await
        .expect("moto data is JSON");
    data["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|to| to.iter().any(|t| t == address))
        })
        .map(|m| {
            (
                m["subject"].as_str().unwrap_or_default().to_owned(),
                m["body"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The emails to `address` once there are at least `count` (they leave from the mail
/// queue a moment after the request that asked for them), or after 20 s, those there are.
pub async fn emails_at_least(address: &str, count: usize) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let mails = emails_to(address).await;
        if mails.len() >= count || std::time::Instant::now() >= deadline {
            return mails;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The 6-digit code in the newest code email to `address`, once there is one this
/// process has not read yet: codes are mailed from the mail queue, a moment after
/// send-code answers (within 20 s, or this fails).
/// How many code emails to each address `latest_code` has read (or was told to skip).
static CODES_READ: std::sync::Mutex<Option<HashMap<String, usize>>> = std::sync::Mutex::new(None);

/// Waits until no email to `address` has come for 2 s (the codes the jobs already queued
/// have left), counts its code emails as read, and says how many emails it has: the next
/// `latest_code` is one asked for after this.
pub async fn emails_settled(address: &str) -> usize {
    let mut count = emails_to(address).await.len();
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let now = emails_to(address).await;
        if now.len() == count {
            let codes = now
                .iter()
                .filter(|(subject, _)| subject.starts_with("Your code for"))
                .count();
            CODES_READ
                .lock()
                .unwrap()
                .get_or_insert_with(HashMap::new)
                .insert(address.to_owned(), codes);
            return count;
        }
        count = now.len();
    }
}

pub async fn latest_code(address: &str) -> String {
    static READ: &std::sync::Mutex<Option<HashMap<String, usize>>> = &CODES_READ;
    let read_before = |read: &mut Option<HashMap<String, usize>>| {
        read.get_or_insert_with(HashMap::new)
            .get(address)
            .copied()
            .unwrap_or(0)
    };
    let seen = read_before(&mut READ.lock().unwrap());
    // The code is made and mailed off the request (the notify queue, polled by the
    // bridge): on a loaded two-core machine that has taken over 20 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(45);
    loop {
        let codes: Vec<String> = emails_to(address)
            .await
            .iter()
            .filter(|(subject, _)| subject.starts_with("Your code for"))
            .filter_map(|(subject, _)| {
                subject
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                    .map(str::to_owned)
            })
            .collect();
        if codes.len() > seen {
            let code = codes.last().cloned().unwrap_or_default();
            READ.lock()
                .unwrap()
                .get_or_insert_with(HashMap::new)
                .insert(address.to_owned(), codes.len());
            remember_secret(&code);
            return code;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no new code was emailed to {address} ({seen} read before)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The invitation code in the newest invitation email to `address` (within 20 s).
pub async fn invitation_code(address: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let found = emails_to(address)
            .await
            .into_iter()
            .rev()
            .find(|(subject, _)| subject.contains("invited you to"))
            .and_then(|(_, body)| {
                body.split("Your invitation code: ").nth(1).map(|rest| {
                    // The text part, or the HTML one (`<code>…</code>`).
                    rest.trim_start_matches("<code>")
                        .chars()
                        .take_while(char::is_ascii_alphanumeric)
                        .collect::<String>()
                })
            });
        if let Some(code) = found.filter(|code| !code.is_empty()) {
            remember_secret(&code);
            return code;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no invitation reached {address}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Records a secret the tests used, so the log check can look for it afterwards.
pub fn remember_secret(secret: &str) {
    if let Ok(path) = std::env::var("SECRETS_FILE") {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{secret}");
        }
    }
}

/// Runs `futures` with at most `width` in flight at once; outputs in input order.
pub async fn in_parallel<F>(futures: Vec<F>, width: usize) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let total = futures.len();
    let mut pending = futures.into_iter().enumerate();
    let mut running = tokio::task::JoinSet::new();
    let mut outputs: Vec<Option<F::Output>> = (0..total).map(|_| None).collect();
    loop {
        while running.len() < width {
            match pending.next() {
                Some((i, future)) => {
                    running.spawn(async move { (i, future.await) });
                }
                None => break,
            }
        }
        match running.join_next().await {
            Some(joined) => {
                let (i, output) = joined.expect("a parallel task panicked");
                outputs[i] = Some(output);
            }
            None => break,
        }
    }
    outputs
        .into_iter()
        .map(|o| o.expect("every task ran"))
        .collect()
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names in lower case.
    pub headers: std::collections::HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A webhook receiver on loopback: records every request and answers the scripted
/// statuses in turn (then 200 for ever).
pub struct Receiver {
    pub url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/chat", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let script = std::sync::Arc::new(std::sync::Mutex::new(
            statuses
                .iter()
                .copied()
                .collect::<std::collections::VecDeque<u16>>(),
        ));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (seen, script) = (seen.clone(), script.clone());
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 8192];
                    let (head_end, length) = loop {
                        let Ok(n) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                    };
                    while buffer.len() < head_end + length {
                        let Ok(n) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buffer[..head_end - 4]).into_owned();
                    let mut lines = head.lines();
                    let path = lines
                        .next()
                        .and_then(|l| l.split(' ').nth(1))
                        .unwrap_or_default()
                        .to_owned();
                    let headers = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                        .collect();
                    let body =
                        String::from_utf8_lossy(&buffer[head_end..head_end + length]).into_owned();
                    seen.lock().unwrap().push(Received {
                        path,
                        headers,
                        body,
                    });
                    let status = script.lock().unwrap().pop_front().unwrap_or(200);
                    let answer = format!(
                        "HTTP/1.1 {status} Scripted\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { url, requests }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits up to `secs` for `count` requests; returns what arrived.
    pub async fn wait_for(&self, count: usize, secs: u64) -> Vec<Received> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while self.requests().len() < count && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.requests()
    }
}

/// Invites a new person as `role` (`sees`), accepts with a new account: its operator.
pub async fn teammate(
    owner: &Operator,
    company: &str,
    role: &str,
    sees: &str,
    tag: &str,
) -> Operator {
    let email = unique_email(tag);
    let invited = call("POST", &format!("/api/companies/{company}/members"))
        .api(&owner.token)
        .json(json!({ "email": email, "role": role, "sees": sees }))
        .send()
        .await
        .expect(201);
    assert_eq!(invited.data()["status"], "invited");
    let code = invitation_code(&email).await;
    let password = format!("orbit lantern {}", ulid::Ulid::new());
    remember_secret(&password);
    let accepted = call("POST", "/api/invitations/accept")
        .json(json!({ "email": email, "code": code, "name": format!("Teammate {tag}"), "password": password }))
        .send()
        .await
        .expect(201);
    let token = accepted.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&token);
    assert_eq!(accepted.data()["company_id"], company);
    Operator {
        id: accepted.data()["user"]["id"].as_str().unwrap().to_owned(),
        email,
        password,
        token,
    }
}

/// A mailer for a function state whose test sends no mail (its SES client goes nowhere).
pub fn unused_mailer() -> services::mail::Mailer {
    let config = services::aws_sdk_sesv2::Config::builder()
        .behavior_version(services::aws_sdk_sesv2::config::BehaviorVersion::latest())
        .region(services::aws_sdk_sesv2::config::Region::new("us-east-1"))
        .build();
    services::mail::Mailer::new(
        services::aws_sdk_sesv2::Client::from_conf(config),
        "nobody@example.com",
    )
}

/// A queue for a function state whose test sends no job (its SQS client goes nowhere).
pub fn unused_queue() -> services::queue::Queue {
    services::queue::Queue::new(
        &aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .build(),
        "http://127.0.0.1:9/000000000000/none".to_owned(),
    )
}

/// Waits, if need be, until the aligned rate-limit window of `limit` has `needed` left:
/// a test that fills a budget must not straddle two windows, or the second one's room
/// would let its "one too many" through.
pub async fn room_in_window(limit: &domain::rate_limit::Limit, needed: std::time::Duration) {
    let now = domain::clock::now_millis();
    let (_, end) = limit.window(now);
    let needed_ms = i64::try_from(needed.as_millis()).unwrap_or(i64::MAX);
    if end - now < needed_ms {
        let wait = u64::try_from(end - now + 50).unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    }
}

/// Waits up to `secs` for `condition` to hold (checked every 200 ms).
pub async fn eventually<F, Fut>(secs: u64, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if condition().await {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// How many items a partition of the table holds now (a consistent read).
pub async fn items_in_partition(partition: &str) -> i32 {
    dynamodb()
        .await
        .query()
        .table_name(table_name())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", storage::s(partition))
        .select(aws_sdk_dynamodb::types::Select::Count)
        .consistent_read(true)
        .send()
        .await
        .expect("a count of the partition")
        .count
}

/// A guest who joined `chat` by its password and the emailed code: a verified chat user.
pub async fn verified_guest(chat_id: &str, password: &str, name: &str) -> Member {
    let email = unique_email(name);
    call("POST", &format!("/api/chats/{chat_id}/users/send-code"))
        .json(json!({ "email": email, "name": name, "password": password }))
        .send()
        .await
        .expect(202);
    let code = latest_code(&email).await;
    let reply = call("POST", &format!("/api/chats/{chat_id}/users/get-token"))
        .json(json!({ "email": email, "auth-code": code }))
        .send()
        .await
        .expect(200);
    let token = reply.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&token);
    let id = reply.data()["chat_user"]["id"]
        .as_str()
        .or_else(|| reply.data()["chat_user_id"].as_str())
        .expect("get-token names the chat user")
        .to_owned();
    Member { id, email, token }
}

/// Every function's routes, collected from the functions themselves: what the drift
/// tests hold the template, the local router, `openapi.yaml` and the fixtures to.
pub mod catalog {
    use edge::router::Routes;

    /// One HTTP function: its binary, and each route's path with its methods.
    #[derive(Debug)]
    pub struct HttpFunction {
        pub binary: &'static str,
        pub routes: Vec<(&'static str, Vec<&'static str>)>,
    }

    fn of<E>(binary: &'static str, routes: &Routes<E>) -> HttpFunction {
        HttpFunction {
            binary,
            routes: routes
                .all()
                .iter()
                .map(|route| (route.path, route.methods().map(|m| m.as_str()).collect()))
                .collect(),
        }
    }

    /// The functions behind the HTTP API (`current-user` also answers its `$default`).
    pub fn http_functions() -> Vec<HttpFunction> {
        vec![
            of("current-user", &current_user::routes::ROUTES),
            of("tokens", &tokens::routes::ROUTES),
            of("companies", &companies::routes::ROUTES),
            of("chats", &chats::routes::ROUTES),
            of("chat-users", &chat_users::routes::ROUTES),
            of("chat-messages", &chat_messages::routes::ROUTES),
            of("webhooks", &webhooks::routes::ROUTES),
            of("widget", &widget::routes::ROUTES),
        ]
    }

    /// The functions that serve no HTTP route: the WebSocket API's routes, the DynamoDB
    /// stream's consumers (`fanout`: sockets; `dispatch`: webhook and email jobs;
    /// `lifecycle`: purges and copies) and the SQS queues' consumers (`deliver`:
    /// webhooks; `notify`: unread-message emails); see `template.yaml`.
    pub const EVENT_FUNCTIONS: [&str; 6] = [
        "realtime",
        "fanout",
        "dispatch",
        "lifecycle",
        "deliver",
        "notify",
    ];

    /// The WebSocket API's routes besides `$connect`, `$disconnect` and `$default`.
    pub const WEBSOCKET_ACTIONS: [&str; 2] = realtime::ACTIONS;

    /// Every `(path, function)` of the HTTP API.
    pub fn paths() -> std::collections::BTreeSet<(String, String)> {
        http_functions()
            .iter()
            .flat_map(|f| {
                f.routes
                    .iter()
                    .map(|(path, _)| ((*path).to_owned(), f.binary.to_owned()))
            })
            .collect()
    }

    /// Every `(path, method)` served.
    pub fn operations() -> std::collections::BTreeSet<(String, String)> {
        http_functions()
            .iter()
            .flat_map(|f| f.routes.iter())
            .flat_map(|(path, methods)| {
                methods
                    .iter()
                    .map(|m| ((*path).to_owned(), (*m).to_owned()))
            })
            .collect()
    }
}

/// A visitor through a company's front door by email code (send-code, the emailed code,
/// get-token): the get-token answer (its token remembered as a secret).
pub async fn front_door(company: &str, email: &str, name: &str) -> Reply {
    call(
        "POST",
        &format!("/api/companies/{company}/conversations/send-code"),
    )
    .json(serde_json::json!({ "email": email, "name": name }))
    .send()
    .await
    .expect(202);
    let code = latest_code(email).await;
    let reply = call(
        "POST",
        &format!("/api/companies/{company}/conversations/get-token"),
    )
    .json(serde_json::json!({ "email": email, "auth_code": code }))
    .send()
    .await
    .expect(200);
    remember_secret(reply.data()["token"].as_str().unwrap_or_default());
    reply
}

/// A company's record as stored.
pub async fn company_record(db: &Db, company_id: &str) -> domain::company::CompanyRecord {
    db.companies()
        .get(domain::ids::EntityId::parse(company_id).unwrap())
        .await
        .unwrap()
        .expect("the company")
}

/// A visitor's conversation, opened through the storage layer the front door uses,
/// vouched for by `sub` (no email code, and no per-source budget: a test opening many
/// would spend one address's): the chat and its one chat user.
pub async fn open_conversation(
    db: &Db,
    company: &domain::company::CompanyRecord,
    sub: &str,
    visitor: storage::conversations::NewVisitor,
) -> (domain::chat::ChatRecord, domain::chat_user::ChatUserRecord) {
    match db
        .conversations()
        .open(
            company,
            storage::conversations::Visitor::Subject(sub),
            &visitor,
        )
        .await
        .unwrap()
    {
        storage::conversations::Opened::Ready {
            chat, chat_user, ..
        } => (*chat, *chat_user),
        other => panic!("{other:?}"),
    }
}

/// A guest's message, posted through the storage layer its function calls.
pub async fn post_as_guest(
    db: &Db,
    chat_id: domain::ids::ChatId,
    guest: &domain::chat_user::ChatUserRecord,
    body: String,
) {
    let chat = db.chats().get(chat_id).await.unwrap().unwrap();
    let new = storage::message_posts::NewMessage {
        author: domain::message::Author::Guest {
            id: guest.id,
            name: guest.name.clone(),
        },
        internal: false,
        body,
        client_id: None,
        rate: domain::message::sending_rate(1000),
        sent: guest.sent(),
        attachments: Vec::new(),
    };
    db.messages().post(&chat, new).await.unwrap();
}

//! When AWS misbehaves: real handlers, in-process, with the production AWS configuration
//! (the `sdk` crate's) pointed at a DynamoDB that never answers, refuses connections,
//! throttles, or fails only the write. Every case must answer a JSON 503 with
//! `Retry-After`, within a bounded time.
//!
//! Self-contained: no moto and no environment from test.sh (the endpoint, region and
//! credentials are set on the loader, which wins over `AWS_ENDPOINT_URL`). Each test runs
//! its requests concurrently, so the whole file takes about one operation timeout.

// The AWS SDK's futures nest deeply (the keys read joined the handlers'): a clean build
// needs more than the default 128.
#![recursion_limit = "256"]

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::Region;
use domain::clock;
use edge::config::Config;
use edge::{App, Context};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use services::jwt::{Claims, TokenKind};
use services::keyring::{KeyRing, KeyVersion, Keys};
use storage::aws_sdk_dynamodb::config::Credentials;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TABLE: &str = "chat-api-faults";
/// The key material of these tests' fixed keys (never read from Secrets Manager here).
const SECRET: &str = "faults-faults-faults-faults-faults-faults";

/// A request that fails on its first AWS call answers within one operation timeout (3 s);
/// this bound only has to tell a bounded wait from a hang. Not a benchmark.
const BOUND: Duration = Duration::from_secs(10);

/// DynamoDB's throttling answer, as the JSON 1.0 protocol sends it.
const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#;

// ---- the faulty endpoints ------------------------------------------------------------

/// A port that accepts connections and never answers on them.
async fn silent_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

/// A port nothing listens on: connections are refused.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// How the fake DynamoDB answers one operation.
#[derive(Debug, Clone)]
enum Answer {
    /// HTTP 200 with this JSON body.
    Ok(String),
    /// HTTP 400 ThrottlingException.
    Throttle,
    /// Read the request, never answer.
    Hang,
}

/// A minimal DynamoDB over HTTP/1.1: `answer` gets the operation of each request (its
/// `X-Amz-Target`, e.g. `PutItem`). One request per connection; its AWS request ids are
/// `FAKE-<port>-<operation>`.
async fn fake_dynamodb(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move { serve_one(socket, port, answer.as_ref()).await });
        }
    });
    port
}

async fn serve_one(
    mut socket: TcpStream,
    port: u16,
    answer: &(dyn Fn(&str) -> Answer + Send + Sync),
) {
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_lowercase();
    let header = |name: &str| {
        head.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let length: usize = header("content-length").parse().unwrap_or(0);
    while request.len() < head_end + length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    // `dynamodb_20120810.putitem`, lowercased with the rest of the head.
    let operation = header("x-amz-target");
    let operation = operation.rsplit('.').next().unwrap_or_default();
    let (status, body) = match answer(operation) {
        Answer::Ok(body) => ("200 OK", body),
        Answer::Throttle => ("400 Bad Request", THROTTLED.to_owned()),
        Answer::Hang => return std::future::pending().await,
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\n\
         x-amzn-requestid: FAKE-{port}-{operation}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
}

/// The `BatchGetItem` answer of the auth check: the user and its API token, used just now
/// (so auth writes nothing). Written in the table's wire format, which outlives any
/// refactor of the Rust types that read it.
fn operator_items(user_id: &str, token_id: &str) -> String {
    let now = clock::now_rfc3339();
    let s = |value: &str| json!({ "S": value });
    let user = json!({
        "PK": s(&format!("USER#{user_id}")),
        "SK": s("PROFILE"),
        "id": s(user_id),
        "email": s("faults@example.com"),
        "name": s("Faults"),
        "password_hash": s("unused"),
        "created_at": s(&now),
        "updated_at": s(&now),
    });
    let token = json!({
        "PK": s(&format!("USER#{user_id}")),
        "SK": s(&format!("TOKEN#{token_id}")),
        "id": s(token_id),
        "user_id": s(user_id),
        "name": s("faults"),
        "created_at": s(&now),
        "last_used_at": s(&now),
        "last_used_ms": { "N": clock::now_millis().to_string() },
    });
    json!({ "Responses": { TABLE: [user, token] }, "UnprocessedKeys": {} }).to_string()
}

// ---- the API side ---------------------------------------------------------------------

/// The functions' state, built with the production loader, aimed at `port`.
async fn app_at(port: u16) -> App {
    App {
        ctx: context_at(port).await,
    }
}

/// The companies function's state, aimed at `port` (its mailer is never called here).
async fn companies_at(port: u16) -> companies::App {
    companies::App {
        ctx: context_at(port).await,
        mailer: api_tests::unused_mailer(),
        accept_page: None,
    }
}

async fn context_at(port: u16) -> Context {
    log();
    // The production budgets, whatever the local stack's AWS_BUDGET_SCALE says.
    let aws = sdk::loader_scaled(1)
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "faults"))
        .load()
        .await;
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(TABLE.to_owned()),
        _ => None,
    })
    .unwrap();
    Context::new(config, &aws).with_keys(keys())
}

fn keys() -> Keys {
    let stored = format!(r#"{{"current": "{SECRET}"}}"#);
    Keys::fixed(KeyRing::parse(&stored, Duration::from_secs(3600)).unwrap())
}

/// A validly signed API token; the table decides whether it is still good.
fn api_token(user_id: &str, token_id: &str) -> String {
    let claims = Claims {
        kind: TokenKind::Api,
        sub: user_id.to_owned(),
        jti: Some(token_id.to_owned()),
        chat: None,
        iat: clock::now_millis() / 1000,
        iat_ms: None,
        exp: None,
    };
    services::jwt::sign(&KeyVersion::derive(SECRET).unwrap(), &claims).unwrap()
}

/// `events/<file>` with its `{{API_TOKEN}}` filled in, as API Gateway would send it.
fn event(file: &str, token: &str) -> Request {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .replace("{{API_TOKEN}}", token);
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `GET /api/user` through current-user's handler: (response, how long it took).
async fn get_user(app: &App, token: &str) -> (Response<Body>, Duration) {
    timed(current_user::handle(
        app,
        event("current-user/user.json", token),
    ))
    .await
}

/// `POST /api/companies` through companies' handler: (response, how long it took).
async fn create_company(app: &companies::App, token: &str) -> (Response<Body>, Duration) {
    timed(companies::handle(
        app,
        event("companies/create.json", token),
    ))
    .await
}

/// Fails after [`BOUND`] rather than hanging the suite when the waits are unbounded.
async fn timed(handling: impl Future<Output = Response<Body>>) -> (Response<Body>, Duration) {
    let started = Instant::now();
    let response = tokio::time::timeout(BOUND, handling)
        .await
        .unwrap_or_else(|_| panic!("no answer within {BOUND:?}: are the AWS waits bounded?"));
    (response, started.elapsed())
}

#[track_caller]
fn assert_unavailable(case: &str, (response, elapsed): (Response<Body>, Duration)) {
    let text = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    assert_eq!(response.status(), 503, "{case}: {text}");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    assert!(
        retry_after.is_some_and(|secs| secs > 0),
        "{case}: Retry-After is {retry_after:?}"
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{case}"
    );
    assert!(response.headers().contains_key("x-request-id"), "{case}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{case}: {text}"
    );
    for internal in ["127.0.0.1", "Throttl", "DynamoDB", "Item"] {
        assert!(
            !text.contains(internal),
            "{case}: the body shows {internal}"
        );
    }
    assert!(elapsed < BOUND, "{case}: took {elapsed:?}");
    eprintln!("{case}: 503 in {elapsed:?}");
}

/// Collects what the handlers log, as JSON lines (the functions' format).
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every line logged in this test binary so far. The subscriber is global and installed
/// by [`app_at`], before any handler runs: tracing caches each log site's interest for all
/// threads, so a per-test subscriber would miss lines while the other tests run.
fn log() -> &'static Lines {
    static LOG: OnceLock<Lines> = OnceLock::new();
    LOG.get_or_init(|| {
        let lines = Lines::default();
        let writer = lines.clone();
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .with_writer(move || writer.clone())
            .init();
        lines
    })
}

fn log_lines() -> Vec<Value> {
    let text = String::from_utf8(log().0.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

// ---- the cases ------------------------------------------------------------------------

#[tokio::test]
async fn a_dynamodb_that_never_answers_is_a_503_within_the_budget() {
    let port = silent_port().await;
    let (app, companies) = (app_at(port).await, companies_at(port).await);
    let token = api_token(
        &ulid::Ulid::new().to_string(),
        &ulid::Ulid::new().to_string(),
    );
    let (user, company) = tokio::join!(get_user(&app, &token), create_company(&companies, &token));
    assert_unavailable("silent: GET /api/user", user);
    assert_unavailable("silent: POST /api/companies", company);
}

#[tokio::test]
async fn a_dynamodb_that_refuses_connections_is_a_503() {
    let port = closed_port();
    let (app, companies) = (app_at(port).await, companies_at(port).await);
    let token = api_token(
        &ulid::Ulid::new().to_string(),
        &ulid::Ulid::new().to_string(),
    );
    let (user, company) = tokio::join!(get_user(&app, &token), create_company(&companies, &token));
    assert_unavailable("refused: GET /api/user", user);
    assert_unavailable("refused: POST /api/companies", company);
}

#[tokio::test]
async fn a_throttling_dynamodb_is_a_503_logged_once_without_secrets() {
    let port = fake_dynamodb(|_| Answer::Throttle).await;
    let (app, companies) = (app_at(port).await, companies_at(port).await);
    let token = api_token(
        &ulid::Ulid::new().to_string(),
        &ulid::Ulid::new().to_string(),
    );
    let (user, company) = tokio::join!(get_user(&app, &token), create_company(&companies, &token));
    assert_unavailable("throttled: GET /api/user", user);
    assert_unavailable("throttled: POST /api/companies", company);

    // One line per failed request, naming the operation and AWS's request id.
    let log = log_lines();
    let aws_request_id = format!("FAKE-{port}-batchgetitem");
    let failures: Vec<&Value> = log
        .iter()
        .filter(|line| line.to_string().contains(&aws_request_id))
        .collect();
    assert_eq!(failures.len(), 2, "{failures:#?}");
    for line in failures {
        assert_eq!(line["level"], "ERROR");
        assert_eq!(line["fields"]["message"], "AWS unavailable");
        assert_eq!(line["fields"]["operation"], "BatchGetItem");
        assert_eq!(line["fields"]["aws_request_id"], aws_request_id.as_str());
        let error = line["fields"]["error"].as_str().unwrap_or_default();
        assert!(error.contains("ThrottlingException"), "{line}");
    }
    let everything = serde_json::to_string(&log).unwrap();
    assert!(!everything.contains(&token), "the token reached the log");
    assert!(
        !everything.contains(SECRET),
        "the key material reached the log"
    );
}

#[tokio::test]
async fn a_failed_write_is_a_503_after_a_good_auth_read() {
    let (user_id, token_id) = (ulid::Ulid::new().to_string(), ulid::Ulid::new().to_string());
    let items = operator_items(&user_id, &token_id);
    let reads_then = |write: Answer| {
        let items = items.clone();
        move |operation: &str| match operation {
            "batchgetitem" => Answer::Ok(items.clone()),
            _ => write.clone(),
        }
    };
    let throttling = fake_dynamodb(reads_then(Answer::Throttle)).await;
    let hanging = fake_dynamodb(reads_then(Answer::Hang)).await;
    let (throttled, silent) = (companies_at(throttling).await, companies_at(hanging).await);
    let token = api_token(&user_id, &token_id);

    // The same fake answers the auth read alone: the request gets as far as the write.
    let (me, _) = get_user(&app_at(throttling).await, &token).await;
    assert_eq!(me.status(), 200, "the fake serves the auth read");

    let (throttled, silent) = tokio::join!(
        create_company(&throttled, &token),
        create_company(&silent, &token)
    );
    assert_unavailable("throttled PutItem: POST /api/companies", throttled);
    assert_unavailable("silent PutItem: POST /api/companies", silent);
}

/// The budgets' worst case must fit the functions' timeout, which must fit API Gateway's
/// 30 s integration timeout; template.yaml holds the real value.
#[test]
fn the_budgets_fit_the_function_timeout() {
    let template =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
            .unwrap();
    let template: serde_norway::Value = serde_norway::from_str(&template).unwrap();
    let timeout = template["Globals"]["Function"]["Timeout"]
        .as_u64()
        .map(Duration::from_secs)
        .expect("Globals.Function.Timeout");
    // Room for the request's own work and a cold start's config load.
    let headroom = Duration::from_secs(3);
    assert!(
        sdk::WORST_CASE + headroom <= timeout,
        "{:?} of AWS waits do not fit a {timeout:?} function",
        sdk::WORST_CASE
    );
    assert!(timeout < Duration::from_secs(30));
}

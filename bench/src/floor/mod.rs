//! The SDK floor: what the AWS SDK costs any Rust function on our hot routes, with no
//! logic of ours. It builds the AWS config and the DynamoDB client exactly as our
//! functions do ([`sdk::from_lambda_env`]: same budgets, same HTTPS client), reads
//! the keys secret at init (one GetSecretValue, which our functions make at their first
//! request that needs a key: the same wait before a first answer; the `-no-secret` variant
//! skips it, so the difference is the secret's cost), and per request makes the route's
//! own DynamoDB calls with the keys taken from the bearer token (get-token: from the path
//! and the body), routed by method and path:
//!
//! - `GET /api/user`: BatchGetItem(profile, token item) ([`reads`]).
//! - `GET /api/chats/{id}/messages`: BatchGetItem(chat user, chat) + Query(one page of
//!   50 + 2, newest first, consistent) ([`reads`]).
//! - `POST /api/chats/{id}/messages`, a member's post with its API token:
//!   BatchGetItem(profile, token item) + GetItem(chat) + one TransactWriteItems of the
//!   same 7 items as ours, of about the same sizes ([`desk`]).
//! - `GET /api/inbox`: BatchGetItem(profile, token item) + Query(GSI3, one page of 25 + 1)
//!   + BatchGetItem(the page's chats and the caller's read markers, 50 keys) ([`desk`]).
//! - `POST /chats/{id}/users/get-token`: BatchGetItem(chat, email item, the caller's and
//!   the owner's code) + UpdateItem(the code used) + GetItem(the chat user) +
//!   TransactWriteItems(chat counter, event, chat user: 3 items) ([`desk`]).
//!
//! What it leaves out, on purpose, is ours: no JWT signature check (the token's payload
//! is only base64-decoded to find the keys; HS256 verification is ~1 µs, BENCHMARKS §5),
//! and no JWT signed either (get-token answers a fixed body: signing the chat-user token
//! is ours); no access rules, no item → record → JSON conversion (it answers a fixed body
//! with the number of items it got), no validation of a body beyond reading its fields,
//! no code digest (HMAC) or source tag (the caller's address stands in for it), no
//! rate-limit reads (get-token's check of the source's guess counters, a second
//! BatchGetItem of ours, is not made: the floor makes the 4 round trips of the access
//! pattern), no retries of a moved chat head, no request-id header or log line, no
//! tracing setup. A token that does not decode is a 401 without any AWS call, as in our
//! functions.

mod desk;
mod reads;

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Body, Request, Response};
use storage::aws_sdk_dynamodb::Client;
use storage::aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

/// An item, or a key, as the SDK holds it.
type Item = HashMap<String, AttributeValue>;

/// The floor's state, built once per instance.
pub struct Floor {
    dynamodb: Client,
    table: String,
    /// Kept, as our functions keep theirs (to re-read the keys): its pooled connection
    /// stays with the instance's HTTP client.
    _secrets: Option<services::aws_sdk_secretsmanager::Client>,
}

/// The claims the floor reads (unverified) to find the items' keys.
#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
    jti: Option<String>,
    chat: Option<String>,
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([
        ("PK".to_owned(), AttributeValue::S(pk)),
        ("SK".to_owned(), AttributeValue::S(sk)),
    ])
}

fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

/// A text attribute of an item.
fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

fn answer(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a static response")
}

/// The fixed body of a read: the number of items it got.
fn found(items: usize) -> Response<Body> {
    answer(200, format!(r#"{{"data":{{"items":{items}}}}}"#))
}

fn unauthenticated() -> Response<Body> {
    answer(401, r#"{"message":"Unauthenticated."}"#.to_owned())
}

fn claims(request: &Request) -> Option<Claims> {
    let header = request.headers().get("authorization")?.to_str().ok()?;
    let token = header.strip_prefix("Bearer ")?;
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

impl Floor {
    /// With a given client (the mocks of `handler-cost`).
    pub fn new(dynamodb: Client, table: &str) -> Self {
        Self {
            dynamodb,
            table: table.to_owned(),
            _secrets: None,
        }
    }

    /// As our functions start: the AWS config (environment, `AWS_ENDPOINT_URL` locally),
    /// the keys secret if `read_secret`, the DynamoDB client. `TABLE_NAME` and
    /// `KEYS_SECRET_ID` as the functions read them.
    pub async fn from_env(read_secret: bool) -> Result<Self, lambda_http::Error> {
        let aws = sdk::from_lambda_env();
        let mut secrets = None;
        if read_secret {
            let id = std::env::var("KEYS_SECRET_ID")?;
            let client = services::aws_sdk_secretsmanager::Client::new(&aws);
            let secret = client.get_secret_value().secret_id(id).send().await?;
            std::hint::black_box(secret.secret_string());
            secrets = Some(client);
        }
        let table = std::env::var("TABLE_NAME")?;
        Ok(Self {
            _secrets: secrets,
            ..Self::new(Client::new(&aws), &table)
        })
    }

    /// The route of the request's method and path (anything else: `GET /api/user`, the
    /// route of the cold-start runs).
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let post = request.method() == "POST";
        let path = request.uri().path();
        // The visitor's get-token has no bearer: its keys are its path's and its body's.
        if post
            && let Some(chat) = path
                .strip_prefix("/chats/")
                .and_then(|rest| rest.strip_suffix("/users/get-token"))
        {
            return self.get_token(chat, &request).await;
        }
        let Some(claims) = claims(&request) else {
            return unauthenticated();
        };
        let messages = path
            .strip_prefix("/api/chats/")
            .and_then(|rest| rest.strip_suffix("/messages"));
        let answered = match (post, messages) {
            (true, Some(chat)) => self.staff_post(chat, &claims, request.body()).await,
            (false, Some(chat)) => self.messages(chat, &claims).await.map(found),
            (_, None) if path == "/api/inbox" => self.inbox(&claims, &request).await,
            (_, None) => self.user(&claims).await.map(found),
        };
        answered.unwrap_or_else(unauthenticated)
    }

    /// The items of one BatchGetItem of `keys` (strongly consistent), or None if the
    /// call fails.
    async fn batch_get(&self, keys: Vec<Item>) -> Option<Vec<Item>> {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .ok()?;
        let output = self
            .dynamodb
            .batch_get_item()
            .request_items(&self.table, request)
            .send()
            .await
            .ok()?;
        output.responses?.remove(&self.table)
    }

    /// [`Floor::batch_get`], None unless every key was found.
    async fn batch_get_all(&self, keys: Vec<Item>) -> Option<Vec<Item>> {
        let wanted = keys.len();
        let items = self.batch_get(keys).await?;
        (items.len() == wanted).then_some(items)
    }

    /// One strongly consistent GetItem.
    async fn get(&self, key: Item) -> Option<Item> {
        self.dynamodb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .ok()?
            .item
    }
}

/// The floor's `main`: a `lambda_http` function, as the hello world and ours run.
pub async fn serve(read_secret: bool) -> Result<(), lambda_http::Error> {
    let floor = Floor::from_env(read_secret).await?;
    let floor = &floor;
    lambda_http::run(lambda_http::service_fn(move |request: Request| async move {
        Ok::<_, lambda_http::Error>(floor.handle(request).await)
    }))
    .await
}

//! The SDK floor: what the AWS SDK costs any Rust function on our two hot read routes,
//! with no logic of ours. It builds the AWS config and the DynamoDB client exactly as our
//! functions do ([`sdk::from_lambda_env`]: same budgets, same HTTPS client), reads
//! the keys secret at init (one GetSecretValue, which our functions make at their first
//! request that needs a key: the same wait before a first answer; the `-no-secret` variant
//! skips it, so the difference is the secret's cost), and per request makes the route's
//! own DynamoDB calls with the keys taken from the bearer token:
//!
//! - `GET /api/user`: BatchGetItem(profile, token item).
//! - `GET /api/chats/{id}/messages`: BatchGetItem(chat user, chat) + Query(one page of
//!   50 + 2, newest first, consistent).
//!
//! What it leaves out, on purpose, is ours: no JWT signature check (the token's payload
//! is only base64-decoded to find the keys; HS256 verification is ~1 µs, BENCHMARKS §5),
//! no access rules, no item → record → JSON conversion (it answers a fixed body with
//! the number of items it got), no request-id header or log line, no tracing setup.
//! A token that does not decode is a 401 without any AWS call, as in our functions.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Body, Request, Response};
use storage::aws_sdk_dynamodb::Client;
use storage::aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

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

fn key(pk: String, sk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("PK".to_owned(), AttributeValue::S(pk)),
        ("SK".to_owned(), AttributeValue::S(sk)),
    ])
}

fn answer(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a static response")
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

    pub async fn handle(&self, request: Request) -> Response<Body> {
        let Some(claims) = claims(&request) else {
            return unauthenticated();
        };
        let path = request.uri().path();
        let result = match path
            .strip_prefix("/api/chats/")
            .and_then(|rest| rest.strip_suffix("/messages"))
        {
            Some(chat) => self.messages(chat, &claims).await,
            None => self.user(&claims).await,
        };
        match result {
            Some(found) => answer(200, format!(r#"{{"data":{{"items":{found}}}}}"#)),
            None => unauthenticated(),
        }
    }

    /// The items of one BatchGetItem of `keys` (strongly consistent), or None if any
    /// is missing or the call fails.
    async fn batch_get(&self, keys: Vec<HashMap<String, AttributeValue>>) -> Option<usize> {
        let wanted = keys.len();
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
        let found = output.responses?.remove(&self.table)?.len();
        (found == wanted).then_some(found)
    }

    async fn user(&self, claims: &Claims) -> Option<usize> {
        let partition = format!("USER#{}", claims.sub);
        let token = format!("TOKEN#{}", claims.jti.as_deref()?);
        self.batch_get(vec![
            key(partition.clone(), "PROFILE".to_owned()),
            key(partition, token),
        ])
        .await
    }

    async fn messages(&self, chat: &str, claims: &Claims) -> Option<usize> {
        if claims.chat.as_deref() != Some(chat) {
            return None;
        }
        let partition = format!("CHAT#{chat}");
        let found = self
            .batch_get(vec![
                key(partition.clone(), format!("MEMBER#{}", claims.sub)),
                key(partition.clone(), "CHAT".to_owned()),
            ])
            .await?;
        let output = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
            .expression_attribute_values(":pk", AttributeValue::S(partition))
            .expression_attribute_values(":low", AttributeValue::S("MSG#".to_owned()))
            .expression_attribute_values(":high", AttributeValue::S("MSG#~".to_owned()))
            .scan_index_forward(false)
            .limit(52)
            .consistent_read(true)
            .send()
            .await
            .ok()?;
        Some(found + output.items().len())
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

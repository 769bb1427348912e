//! The in-process test layer: a function's handler fed a real `events/` fixture, with
//! DynamoDB answered by `aws-smithy-mocks` (no moto, no network, no port): the request
//! logic of a route (who may, what is valid, how a page looks, which answer) tested in
//! milliseconds. The answers are canned per operation; what the table itself guarantees
//! (conditions, transactions, paging across items) is the black-box tests' business,
//! against moto.

use std::path::Path;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use domain::api_token::ApiTokenRecord;
use domain::chat::ChatRecord;
use domain::chat_user::ChatUserRecord;
use domain::clock;
use domain::company::CompanyRecord;
use domain::ids::{ApiTokenId, ChatId, ChatUserId, CompanyId, MessageId, UserId};
use domain::message::MessageRecord;
use domain::team::Membership;
use domain::user::UserRecord;
use edge::Context;
use edge::config::Config;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use services::keyring::{KeyRing, KeyVersion, Keys};
use storage::{Item, stored};

/// The mocked table's name.
pub const TABLE: &str = "in-process";
/// The key material of the handlers' fixed keys.
const MATERIAL: &str = "in-process-in-process-in-process-0123456789";

fn key_version() -> KeyVersion {
    KeyVersion::derive(MATERIAL).expect("32 characters of key material")
}

/// One operator with its token, its company and chat, a chat user of it, and a page of
/// messages: the records the mocked table answers with, and the tokens that name them.
pub struct World {
    pub user: UserRecord,
    pub token: ApiTokenRecord,
    pub company: CompanyRecord,
    pub chat: ChatRecord,
    pub chat_user: ChatUserRecord,
    pub messages: Vec<MessageRecord>,
    /// An API token of `user`.
    pub api_token: String,
    /// A chat-user token of `chat_user`.
    pub chat_user_token: String,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        let now = clock::now_rfc3339();
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
            memberships: [(company_id, Membership::OWNER)].into(),
        };
        let token = ApiTokenRecord {
            id: token_id,
            user_id,
            name: "in-process".into(),
            created_at: now.clone(),
            last_used_at: Some(now.clone()),
            // Used just now: the handler has no `last_used_at` to write.
            last_used_ms: Some(clock::now_millis()),
            expires_at: None,
        };
        let company = CompanyRecord {
            id: company_id,
            owner_id: user_id,
            name: "Acme".into(),
            website: None,
            widget_url: None,
            created_at: now.clone(),
            updated_at: now.clone(),
            chat_count: 1,
            webhook_count: 0,
            retention_days: None,
            member_count: 1,
            allowed_origins: Vec::new(),
            business_hours: None,
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
            event_seq: 60,
            last_message_seq: None,
            unread_email_minutes: None,
            tokens_revoked_at_ms: None,
            retention_days: None,
            ..ChatRecord::default()
        };
        let chat_user = ChatUserRecord {
            id: chat_user_id,
            chat_id,
            name: "Guest".into(),
            email: "guest@example.com".into(),
            verified_at: Some(now.clone()),
            created_at: now.clone(),
            updated_at: now.clone(),
            announced: true,
            ..ChatUserRecord::default()
        };
        let mut last = None;
        let messages = (1..=60)
            .map(|seq| {
                let id = MessageId::next_after(last);
                last = Some(id);
                MessageRecord {
                    id,
                    seq,
                    chat_id,
                    chat_user_id: Some(chat_user_id),
                    author: Some(domain::message::Author::Guest {
                        id: chat_user_id,
                        name: "Guest".into(),
                    }),
                    internal: false,
                    body: format!("message {seq}"),
                    created_at: now.clone(),
                    updated_at: now.clone(),
                    edited_at: None,
                    client_id: None,
                    edit_seqs: Vec::new(),
                    attachments: Vec::new(),
                }
            })
            .collect();
        let version = key_version();
        Self {
            api_token: services::jwt::api_token(&version, user_id, token_id).expect("an API token"),
            chat_user_token: services::jwt::chat_user_token(&version, chat_id, chat_user_id, 3600)
                .expect("a chat-user token")
                .0,
            user,
            token,
            company,
            chat,
            chat_user,
            messages,
        }
    }

    /// What the token check of an API-token request reads: the user and its token.
    pub fn operator_items(&self) -> Vec<Item> {
        vec![
            stored::user(&self.user).expect("the user's item"),
            stored::api_token(&self.token).expect("the token's item"),
        ]
    }

    /// What the token check of a chat-user request reads: the chat user and its chat.
    pub fn guest_items(&self) -> Vec<Item> {
        vec![
            stored::chat_user(&self.chat_user).expect("the chat user's item"),
            stored::chat(&self.chat).expect("the chat's item"),
        ]
    }

    /// The `{{PLACEHOLDERS}}` of the fixtures, as this world fills them.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("API_TOKEN", self.api_token.clone()),
            ("CHAT_USER_TOKEN", self.chat_user_token.clone()),
            ("COMPANY_ID", self.company.id.to_string()),
            ("CHAT_ID", self.chat.id.to_string()),
            ("CHAT_USER_ID", self.chat_user.id.to_string()),
            ("MESSAGE_ID", self.messages[0].id.to_string()),
            ("EMAIL", self.chat_user.email.clone()),
            ("USER_ID", self.user.id.to_string()),
            ("OWNER_ID", self.user.id.to_string()),
            ("TOKEN_ID", self.token.id.to_string()),
            ("CHAT_PASSWORD", "kettle-club-2026".into()),
            ("PASSWORD", "correct horse battery staple".into()),
        ]
    }

    /// A handler's context: the config, the mocked table, the fixed keys.
    pub fn context(&self, rules: &[Rule]) -> Context {
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some(TABLE.into()),
            "MAIL_FROM" => Some("chat@example.com".into()),
            "REALTIME_URL" => Some("wss://realtime.example.com/local".into()),
            _ => None,
        })
        .expect("the in-process config");
        let keys = Keys::fixed(
            KeyRing::parse(
                &format!(r#"{{"current": "{MATERIAL}"}}"#),
                std::time::Duration::from_secs(3600),
            )
            .expect("the in-process keys"),
        );
        Context::with_dynamodb(config, mocked_dynamodb(rules)).with_keys(keys)
    }
}

/// A DynamoDB client that answers from `rules` (the first that matches each call).
pub fn mocked_dynamodb(rules: &[Rule]) -> Client {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("in", "process", None, None, "in-process"))
        .http_client(create_mock_http_client())
        .interceptor(interceptor)
        .build();
    Client::from_conf(config)
}

/// How many calls the rules answered.
pub fn calls(rules: &[Rule]) -> usize {
    rules.iter().map(Rule::num_calls).sum()
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

/// A rule that answers every `BatchGetItem` with these items.
pub fn batch_get(items: Vec<Item>) -> Rule {
    always!(
        Client::batch_get_item,
        BatchGetItemOutput::builder()
            .responses(TABLE, items)
            .build()
    )
}

/// A rule that answers every `GetItem` with this item (or none).
pub fn get(item: Option<Item>) -> Rule {
    always!(
        Client::get_item,
        GetItemOutput::builder().set_item(item).build()
    )
}

/// A rule that answers every `Query` with these items, as one page.
pub fn query(items: Vec<Item>) -> Rule {
    let count = i32::try_from(items.len()).unwrap_or(i32::MAX);
    always!(
        Client::query,
        QueryOutput::builder()
            .set_items(Some(items))
            .count(count)
            .build()
    )
}

/// A rule that lets every `TransactWriteItems` through.
pub fn transact() -> Rule {
    always!(
        Client::transact_write_items,
        TransactWriteItemsOutput::builder().build()
    )
}

/// `events/<file>` with its `{{PLACEHOLDERS}}` filled in from `vars`, as JSON (a test may
/// change it before it becomes a request).
pub fn fixture(file: &str, vars: &[(&str, String)]) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    for (name, value) in vars {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(!text.contains("{{"), "{file}: a placeholder was left");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// An API Gateway v2 event as the request the runtime hands a handler.
pub fn request(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event")
}

/// Sets a fixture's JSON body.
pub fn with_body(mut event: Value, body: Value) -> Value {
    event["body"] = Value::String(body.to_string());
    event["headers"]["content-type"] = Value::String("application/json".into());
    event
}

/// Sets a fixture's query string.
pub fn with_query(mut event: Value, pairs: &[(&str, &str)]) -> Value {
    let query: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect();
    event["rawQueryString"] = Value::String(
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&"),
    );
    event["queryStringParameters"] = Value::Object(query);
    event
}

/// Points a fixture at another path (same method).
pub fn with_path(mut event: Value, path: &str) -> Value {
    event["rawPath"] = Value::String(path.to_owned());
    event["requestContext"]["http"]["path"] = Value::String(path.to_owned());
    event
}

/// A response's status and JSON body.
pub fn answer(response: Response<Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (status, body)
}

//! The floor of the desk's hot routes: a member's post (the staff post), the inbox page,
//! and a visitor's get-token. Each makes our route's DynamoDB calls, with items of the
//! same number and about the same sizes as ours (`handler-cost time` prints both
//! transactions' items), built with no logic: no access rules, no conversation state,
//! no retries.

use lambda_http::{Body, Request, RequestExt, Response};
use storage::aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, TransactWriteItem, Update,
};

use super::{Claims, Floor, Item, answer, found, key, n, s, text};

/// A chat's log keeps events this long (the table's default): their TTL.
const EVENT_DAYS: i64 = 90;

/// What the floor reads of a post's body.
#[derive(serde::Deserialize)]
struct Post {
    body: String,
    client_id: Option<String>,
}

/// What the floor reads of get-token's body.
#[derive(serde::Deserialize)]
struct Proof {
    email: String,
}

/// The chat's event counter as the chat item holds it.
fn event_seq(chat: &Item) -> u64 {
    chat.get("event_seq")
        .and_then(|seq| seq.as_n().ok())
        .and_then(|seq| seq.parse().ok())
        .unwrap_or(0)
}

fn sort_key(item: &Item) -> &str {
    text(item, "SK").unwrap_or("")
}

/// What a chat-user event carries of the chat user's item: these attributes.
const CHAT_USER_RESOURCE: [&str; 9] = [
    "chat_id",
    "created_at",
    "email",
    "id",
    "last_read_seq",
    "name",
    "unread_emails",
    "updated_at",
    "verified_at",
];

/// The attributes `names` of `item`, as a map.
fn resource(item: &Item, names: &[&str]) -> AttributeValue {
    AttributeValue::M(
        names
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), item.get(*name)?.clone())))
            .collect(),
    )
}

/// The event item `seq` of `chat`, carrying `data`, caused by `actor` (a member, or null).
fn event(
    chat: &str,
    seq: u64,
    kind: &str,
    data: AttributeValue,
    actor: AttributeValue,
    now: &str,
    now_ms: i64,
) -> Item {
    let mut item = key(format!("CHAT#{chat}"), format!("EVT#{seq:012}"));
    item.extend([
        ("seq".to_owned(), n(seq)),
        ("chat_id".to_owned(), s(chat)),
        ("at".to_owned(), s(now)),
        ("type".to_owned(), s(kind)),
        ("data".to_owned(), data),
        ("actor".to_owned(), actor),
        ("ttl".to_owned(), n(now_ms / 1000 + EVENT_DAYS * 24 * 3600)),
    ]);
    item
}

fn put(table: &str, item: Item, condition: Option<&str>) -> Option<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .ok()?;
    Some(TransactWriteItem::builder().put(put).build())
}

/// An UpdateItem of `key`: `expression` under `condition`, with `values`.
fn update(
    table: &str,
    key: Item,
    expression: &str,
    condition: &str,
    values: Vec<(&str, AttributeValue)>,
) -> Option<TransactWriteItem> {
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(expression)
        .condition_expression(condition);
    for (name, value) in values {
        update = update.expression_attribute_values(name, value);
    }
    Some(
        TransactWriteItem::builder()
            .update(update.build().ok()?)
            .build(),
    )
}

impl Floor {
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Option<()> {
        self.dynamodb
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .ok()?;
        Some(())
    }

    /// `POST /api/chats/{id}/messages` with an API token: the member's profile and token,
    /// the chat, then one transaction: the chat's head and event counter, the event, the
    /// member still a member, the message, its client id, the sending-rate counter and
    /// the member's read marker.
    pub(super) async fn staff_post(
        &self,
        chat: &str,
        claims: &Claims,
        body: &Body,
    ) -> Option<Response<Body>> {
        let post: Post = serde_json::from_slice(body.as_ref()).ok()?;
        let user = claims.sub.as_str();
        let profile = format!("USER#{user}");
        let token = format!("TOKEN#{}", claims.jti.as_deref()?);
        let member = self
            .batch_get_all(vec![
                key(profile.clone(), "PROFILE".to_owned()),
                key(profile, token),
            ])
            .await?;
        let name = member
            .iter()
            .find_map(|item| text(item, "name"))
            .unwrap_or("");
        let chat_key = key(format!("CHAT#{chat}"), "CHAT".to_owned());
        let chat_item = self.get(chat_key.clone()).await?;
        let company = text(&chat_item, "company_id")?;
        let head = event_seq(&chat_item);
        let seq = head + 1;
        let now_ms = domain::clock::now_millis();
        let now = domain::clock::rfc3339(now_ms);
        let id = ulid::Ulid::new().to_string();
        let author = format!("staff#{user}");
        let message = Item::from([
            ("id".to_owned(), s(&id)),
            ("seq".to_owned(), n(seq)),
            ("chat_id".to_owned(), s(chat)),
            (
                "author".to_owned(),
                AttributeValue::M(Item::from([
                    ("type".to_owned(), s("staff")),
                    ("id".to_owned(), s(user)),
                    ("name".to_owned(), s(name)),
                ])),
            ),
            ("body".to_owned(), s(&post.body)),
            ("created_at".to_owned(), s(&now)),
            ("updated_at".to_owned(), s(&now)),
        ]);
        // The event carries the message with every field, and the member who posted.
        let mut data = message.clone();
        data.extend([
            ("chat_user_id".to_owned(), AttributeValue::Null(true)),
            ("internal".to_owned(), AttributeValue::Bool(false)),
            ("edited_at".to_owned(), AttributeValue::Null(true)),
        ]);
        let actor = AttributeValue::M(Item::from([
            ("type".to_owned(), s("user")),
            ("id".to_owned(), s(user)),
            ("name".to_owned(), s(name)),
        ]));
        let mut message_item = key(format!("CHAT#{chat}"), format!("MSG#{id}"));
        message_item.extend(message);
        if let Some(client_id) = &post.client_id {
            message_item.insert("client_id".to_owned(), s(client_id));
        }
        let table = self.table.as_str();
        let window = now_ms - now_ms % 60_000;
        let mut items = vec![
            update(
                table,
                chat_key,
                "SET last_message_id = :last_message_id, last_message_at = :last_message_at, \
                 last_message_seq = :last_message_seq, event_seq = :event_seq \
                 ADD message_count :one",
                "(attribute_not_exists(last_message_id) OR last_message_id < :last_message_id) \
                 AND attribute_exists(PK) AND event_seq = :head_seq",
                vec![
                    (":last_message_id", s(&id)),
                    (":last_message_at", s(&now)),
                    (":last_message_seq", n(seq)),
                    (":event_seq", n(seq)),
                    (":one", n(1)),
                    (":head_seq", n(head)),
                ],
            )?,
            put(
                table,
                event(
                    chat,
                    seq,
                    "message.created",
                    AttributeValue::M(data),
                    actor,
                    &now,
                    now_ms,
                ),
                Some("attribute_not_exists(PK)"),
            )?,
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(key(
                            format!("COMPANY#{company}"),
                            format!("MEMBER#{user}"),
                        )))
                        .condition_expression("attribute_exists(PK)")
                        .build()
                        .ok()?,
                )
                .build(),
            put(table, message_item, Some("attribute_not_exists(PK)"))?,
        ];
        if let Some(client_id) = &post.client_id {
            let mut pointer = key(
                format!("CHAT#{chat}"),
                format!("CLIENT#{author}#{client_id}"),
            );
            pointer.insert("message_id".to_owned(), s(&id));
            items.push(put(table, pointer, Some("attribute_not_exists(PK)"))?);
        }
        items.push(update(
            table,
            key(format!("LIMIT#messages#{author}"), format!("W#{window}")),
            "ADD uses :one SET ttl = :ttl",
            "attribute_not_exists(uses) OR uses < :max",
            vec![
                (":one", n(1)),
                (":ttl", n((window + 60_000) / 1000 + 60)),
                (":max", n(60)),
            ],
        )?);
        let mut marker = key(format!("CHAT#{chat}"), format!("STAFFREAD#{user}"));
        marker.extend([
            ("user_id".to_owned(), s(user)),
            ("last_read_seq".to_owned(), n(seq)),
            ("read_count".to_owned(), n(seq)),
        ]);
        items.push(put(table, marker, None)?);
        let written = items.len();
        self.transact(items).await?;
        Some(answer(201, format!(r#"{{"data":{{"items":{written}}}}}"#)))
    }

    /// `GET /api/inbox?company_id=&status=`: the member's profile and token, one page of
    /// the unanswered (GSI3, 25 + 1: whether another page follows), then the page's chats
    /// and the member's read markers in them.
    pub(super) async fn inbox(&self, claims: &Claims, request: &Request) -> Option<Response<Body>> {
        let query = request.query_string_parameters_ref()?;
        let company = query.first("company_id")?;
        let status = query.first("status").unwrap_or("open");
        let user = claims.sub.as_str();
        let profile = format!("USER#{user}");
        let token = format!("TOKEN#{}", claims.jti.as_deref()?);
        self.batch_get_all(vec![
            key(profile.clone(), "PROFILE".to_owned()),
            key(profile, token),
        ])
        .await?;
        let output = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .index_name("GSI3")
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", "GSI2PK")
            .expression_attribute_values(":pk", s(format!("INBOX#{company}#{status}")))
            .scan_index_forward(true)
            .limit(26)
            .send()
            .await
            .ok()?;
        let mut keys = Vec::with_capacity(50);
        for entry in output.items().iter().take(25) {
            let (Some(pk), Some(sk)) = (text(entry, "PK"), text(entry, "SK")) else {
                continue;
            };
            keys.push(key(pk.to_owned(), sk.to_owned()));
            keys.push(key(pk.to_owned(), format!("STAFFREAD#{user}")));
        }
        let rows = self.batch_get(keys).await?;
        Some(found(rows.len()))
    }

    /// `POST /chats/{id}/users/get-token` with `email` and `auth-code`: the chat, the
    /// email's chat user and the caller's and the owner's codes, the code used up, the
    /// chat user, then one transaction: the chat's event counter, the event, the chat
    /// user verified. It signs no token (ours does): a fixed body.
    pub(super) async fn get_token(&self, chat: &str, request: &Request) -> Response<Body> {
        let invalid = || answer(422, r#"{"message":"The code is not valid."}"#.to_owned());
        match self.prove(chat, request).await {
            Some(written) => found(written),
            None => invalid(),
        }
    }

    async fn prove(&self, chat: &str, request: &Request) -> Option<usize> {
        let proof: Proof = serde_json::from_slice(request.body().as_ref()).ok()?;
        let email = proof.email.as_str();
        // The caller's address stands in for its keyed tag (an HMAC of ours).
        let source = request
            .request_context_ref()
            .and_then(|context| match context {
                lambda_http::request::RequestContext::ApiGatewayV2(context) => {
                    context.http.source_ip.clone()
                }
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .unwrap_or_default();
        let partition = format!("CHAT#{chat}");
        let got = self
            .batch_get(vec![
                key(partition.clone(), "CHAT".to_owned()),
                key(partition.clone(), format!("EMAIL#{email}")),
                key(partition.clone(), format!("CODE#{email}#{source}")),
                key(partition.clone(), format!("CODE#{email}#owner")),
            ])
            .await?;
        let chat_item = got.iter().find(|item| sort_key(item) == "CHAT")?;
        let pointer = got
            .iter()
            .find(|item| sort_key(item).starts_with("EMAIL#"))?;
        let code = got
            .iter()
            .find(|item| sort_key(item).starts_with("CODE#"))?;
        let chat_user = text(pointer, "chat_user_id")?;
        let version: u64 = code
            .get("version")
            .and_then(|version| version.as_n().ok())
            .and_then(|version| version.parse().ok())
            .unwrap_or(0);
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&partition))
            .key("SK", s(sort_key(code)))
            .update_expression("SET version = :version REMOVE code_digest, made_by_job")
            .condition_expression("version = :read")
            .expression_attribute_values(":version", n(version + 1))
            .expression_attribute_values(":read", n(version))
            .send()
            .await
            .ok()?;
        let mut record = self
            .get(key(partition.clone(), format!("MEMBER#{chat_user}")))
            .await?;
        let read_at = record.get("updated_at").cloned().unwrap_or(s(""));
        let now_ms = domain::clock::now_millis();
        let now = domain::clock::rfc3339(now_ms);
        record.insert("verified_at".to_owned(), s(&now));
        record.insert("updated_at".to_owned(), s(&now));
        let head = event_seq(chat_item);
        let table = self.table.as_str();
        let items = vec![
            update(
                table,
                key(partition.clone(), "CHAT".to_owned()),
                "SET event_seq = :event_seq",
                "attribute_exists(PK) AND event_seq = :head_seq",
                vec![(":event_seq", n(head + 1)), (":head_seq", n(head))],
            )?,
            put(
                table,
                event(
                    chat,
                    head + 1,
                    "chat_user.updated",
                    resource(&record, &CHAT_USER_RESOURCE),
                    AttributeValue::Null(true),
                    &now,
                    now_ms,
                ),
                Some("attribute_not_exists(PK)"),
            )?,
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(record))
                        .condition_expression("attribute_exists(PK) AND updated_at = :read_at")
                        .expression_attribute_values(":read_at", read_at)
                        .build()
                        .ok()?,
                )
                .build(),
        ];
        let written = items.len();
        self.transact(items).await?;
        Some(written)
    }
}

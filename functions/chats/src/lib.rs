//! `chats`: the owner's chats, and the chat password ("share").
//!
//! A chat counts towards its company's `chat_count` in the same transaction that
//! creates or deletes it, which is what lets a company refuse deletion (409) while it
//! still has chats without any race.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::access::{self, NO_SUCH_CHAT};
use shared::aws_sdk_dynamodb::types::{DeleteRequest, ReturnValue, WriteRequest};
use shared::db::records::ChatRecord;
use shared::db::{self, ListQuery, keys, tx};
use shared::routes::Function;
use shared::validate::{ChatPassword, Description, Fields, Id, Name};
use shared::{ApiError, ApiRequest, FieldErrors, auth, clock, crypto, http, validate};

pub use shared::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, Function::Chats, |req| dispatch(app, req)).await
}

async fn dispatch(app: &App, req: ApiRequest) -> Result<Response<Body>, ApiError> {
    match (req.route.path, req.method.as_str()) {
        ("/api/chats", "GET") => list(app, &req).await,
        ("/api/chats", "POST") => create(app, &req).await,
        ("/api/chats/{chat_id}", "GET") => {
            let access = access::chat_access(&app.ctx, &req).await?;
            Ok(http::data(StatusCode::OK, access.chat().resource()))
        }
        ("/api/chats/{chat_id}", "PUT") => update(app, &req).await,
        ("/api/chats/{chat_id}", "DELETE") => delete(app, &req).await,
        ("/api/chats/{chat_id}/share" | "/chats/{chat_id}/share", "POST") => share(app, &req).await,
        _ => Err(ApiError::NotFound("There is no such route.")),
    }
}

const INVALID_COMPANY: &str = "The selected company_id is invalid.";

async fn list(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let per_page = validate::per_page(req.query("per_page"), 25, 100)?;
    let sort_prefix = match req.query("company_id") {
        None => keys::CHATS_PREFIX.to_owned(),
        Some(raw) => {
            let company_id = Id::parse(raw)
                .ok_or_else(|| FieldErrors::single("company_id", INVALID_COMPANY))?
                .to_string();
            // Only the caller's own companies: another owner's id is invalid, not empty.
            app.ctx
                .db
                .get::<db::records::CompanyRecord>(&keys::company(&operator.user.id, &company_id))
                .await?
                .ok_or_else(|| FieldErrors::single("company_id", INVALID_COMPANY))?;
            keys::chats_of_company_prefix(&company_id)
        }
    };
    let page = app
        .ctx
        .db
        .list::<ChatRecord>(&ListQuery {
            list: "chats",
            index: Some(keys::GSI1),
            partition: keys::user_partition(&operator.user.id),
            sort_prefix,
            per_page,
            cursor: req.query("cursor").map(str::to_owned),
        })
        .await?;
    Ok(http::list(
        page.items.iter().map(ChatRecord::resource).collect(),
        per_page,
        page.next_cursor,
    ))
}

async fn create(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let mut fields = Fields::new(&req.body);
    let input = (
        fields.required::<Id>("company_id"),
        fields.required::<Name>("name"),
        fields.nullable::<Description>("description"),
        fields.nullable::<ChatPassword>("password"),
    );
    fields.finish()?;
    let (Some(company_id), Some(name), description, password) = input else {
        unreachable!("finish() reports every missing required field")
    };
    let now = clock::now_rfc3339();
    let chat = ChatRecord {
        id: Id::new().to_string(),
        company_id: company_id.to_string(),
        owner_id: operator.user.id.clone(),
        name: name.into_inner(),
        description: description.flatten().map(Description::into_inner),
        password: password.flatten().map(ChatPassword::into_inner),
        created_at: now.clone(),
        updated_at: now,
        last_message_at: None,
        last_message_id: None,
    };
    let db = &app.ctx.db;
    let mut item = db::to_item(&keys::chat(&chat.id), &chat)?;
    let (gsi_pk, gsi_sk) = keys::chat_gsi1(&chat.owner_id, &chat.company_id, &chat.id);
    item.insert(keys::GSI1PK.to_owned(), db::s(gsi_pk));
    item.insert(keys::GSI1SK.to_owned(), db::s(gsi_sk));
    // The company key lies in the caller's partition: this also checks ownership.
    let company = keys::company(&operator.user.id, &chat.company_id);
    let outcome = db::transact(
        db,
        vec![
            tx::update(
                db.table(),
                &company,
                "ADD chat_count :one",
                "attribute_exists(PK)",
                &[(":one", db::n(1))],
            )?,
            tx::put(db.table(), item, "attribute_not_exists(PK)", &[])?,
        ],
    )
    .await?;
    match outcome {
        Ok(()) => Ok(http::data(StatusCode::CREATED, chat.resource())),
        Err(reasons) if reasons[0].0 == "ConditionalCheckFailed" => {
            Err(FieldErrors::single("company_id", INVALID_COMPANY))
        }
        Err(reasons) => Err(ApiError::internal(format!(
            "chat create cancelled: {reasons:?}"
        ))),
    }
}

/// A partial update built from the present fields, conditional on the chat still
/// existing and belonging to `owner_id`.
async fn update(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let operator = auth::operator(&app.ctx, req).await?;
    let chat_id = Id::from_path(req.param("chat_id"), NO_SUCH_CHAT)?.to_string();
    let mut fields = Fields::new(&req.body);
    let name = fields.present::<Name>("name");
    let description = fields.nullable::<Description>("description");
    let password = fields.nullable::<ChatPassword>("password");
    fields.finish()?;

    let db = &app.ctx.db;
    let mut changes = db::Changes::new();
    changes.set("updated_at", db::s(clock::now_rfc3339()));
    if let Some(name) = name {
        changes.set("name", db::s(name.into_inner()));
    }
    changes.set_or_remove(
        "description",
        description.map(|d| d.map(Description::into_inner)),
    );
    // null turns the password off: sharing is off.
    changes.set_or_remove(
        "password",
        password.map(|p| p.map(ChatPassword::into_inner)),
    );
    let update = changes.apply(
        db.client()
            .update_item()
            .table_name(db.table())
            .set_key(Some(keys::chat(&chat_id).to_item()))
            .condition_expression("attribute_exists(PK) AND owner_id = :owner")
            .expression_attribute_values(":owner", db::s(&operator.user.id))
            .return_values(ReturnValue::AllNew),
    );
    match update.send().await {
        Ok(output) => {
            let chat: ChatRecord = db::from_item(output.attributes.unwrap_or_default())?;
            Ok(http::data(StatusCode::OK, chat.resource()))
        }
        Err(err) if db::is_condition_failed(&err) => Err(ApiError::NotFound(NO_SUCH_CHAT)),
        Err(err) => Err(err.into()),
    }
}

async fn delete(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let (operator, chat) = access::owner_access(&app.ctx, req).await?;
    let db = &app.ctx.db;
    // First the chat item (and the company's count) in one transaction: from then on
    // every route answers as if the chat never existed, tokens of its chat users
    // included. Then everything else in the partition goes.
    let outcome = db::transact(
        db,
        vec![
            tx::delete(
                db.table(),
                &keys::chat(&chat.id),
                Some("attribute_exists(PK) AND owner_id = :owner"),
                &[(":owner", db::s(&operator.user.id))],
            )?,
            tx::update(
                db.table(),
                &keys::company(&operator.user.id, &chat.company_id),
                "ADD chat_count :minus_one",
                "attribute_exists(PK)",
                &[(":minus_one", db::n(-1))],
            )?,
        ],
    )
    .await?;
    match outcome {
        Ok(()) => {}
        // Deleted concurrently by another request.
        Err(reasons) if reasons[0].0 == "ConditionalCheckFailed" => {
            return Err(ApiError::NotFound(NO_SUCH_CHAT));
        }
        Err(reasons) => {
            return Err(ApiError::internal(format!(
                "chat delete cancelled: {reasons:?}"
            )));
        }
    }
    let removed = purge_partition(app, &chat.id).await?;
    tracing::info!(chat_id = %chat.id, items = removed, "chat deleted");
    Ok(http::data(StatusCode::OK, chat.resource()))
}

/// Deletes every item left in a chat's partition (chat users, their emails, codes,
/// messages, client ids): pages of keys, in batches of 25. Returns how many went.
async fn purge_partition(app: &App, chat_id: &str) -> Result<usize, ApiError> {
    let db = &app.ctx.db;
    let mut removed = 0;
    let mut start_key = None;
    loop {
        let page = db
            .client()
            .query()
            .table_name(db.table())
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", db::s(keys::chat_partition(chat_id)))
            .projection_expression("PK, SK")
            .set_exclusive_start_key(start_key.take())
            .limit(500)
            .send()
            .await?;
        let keys_page = page.items.unwrap_or_default();
        for chunk in keys_page.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<_, _>>()?;
            // Unprocessed writes come back under load: retry them with a backoff.
            for attempt in 0..10 {
                if requests.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt.min(5)))
                        .await;
                }
                let output = db
                    .client()
                    .batch_write_item()
                    .request_items(db.table(), std::mem::take(&mut requests))
                    .send()
                    .await?;
                requests = output
                    .unprocessed_items
                    .and_then(|mut u| u.remove(db.table()))
                    .unwrap_or_default();
            }
            if !requests.is_empty() {
                return Err(ApiError::internal("BatchWriteItem kept items unprocessed"));
            }
            removed += chunk.len();
        }
        match page.last_evaluated_key {
            Some(key) => start_key = Some(key),
            None => return Ok(removed),
        }
    }
}

/// `POST /chats/{chat_id}/share`: the chat's join password, created on first use;
/// `{"regenerate": true}` replaces it.
async fn share(app: &App, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
    let (operator, chat) = access::owner_access(&app.ctx, req).await?;
    let mut fields = Fields::new(&req.body);
    let regenerate = fields.optional::<bool>("regenerate").unwrap_or(false);
    fields.finish()?;
    if let (Some(password), false) = (&chat.password, regenerate) {
        return Ok(share_response(&chat.id, password));
    }
    let password = crypto::random_token_string(16);
    // Without `regenerate`, two first calls at once must agree on one password: only
    // the first write wins, the other reads it back.
    let condition = if regenerate {
        "attribute_exists(PK) AND owner_id = :owner"
    } else {
        "attribute_exists(PK) AND owner_id = :owner AND attribute_not_exists(password)"
    };
    let db = &app.ctx.db;
    let result = db
        .client()
        .update_item()
        .table_name(db.table())
        .set_key(Some(keys::chat(&chat.id).to_item()))
        .update_expression("SET password = :password, updated_at = :now")
        .condition_expression(condition)
        .expression_attribute_values(":password", db::s(&password))
        .expression_attribute_values(":owner", db::s(&operator.user.id))
        .expression_attribute_values(":now", db::s(clock::now_rfc3339()))
        .send()
        .await;
    match result {
        Ok(_) => Ok(share_response(&chat.id, &password)),
        Err(err) if db::is_condition_failed(&err) => {
            let current = access::owned_chat(&app.ctx, &operator, &chat.id).await?;
            let password = current.password.ok_or(ApiError::NotFound(NO_SUCH_CHAT))?;
            Ok(share_response(&chat.id, &password))
        }
        Err(err) => Err(err.into()),
    }
}

fn share_response(chat_id: &str, password: &str) -> Response<Body> {
    http::data(
        StatusCode::OK,
        json!({ "chat_id": chat_id, "password": password }),
    )
}

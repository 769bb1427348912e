//! `companies`: the caller's companies. They are stored in the owner's partition, so a
//! company of another owner is simply not found (404), never forbidden.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::aws_sdk_dynamodb::types::ReturnValue;
use shared::db::records::CompanyRecord;
use shared::db::{self, ListQuery, keys};
use shared::routes::Function;
use shared::validate::{Fields, Id, Name, Website};
use shared::{ApiError, ApiRequest, auth, clock, http, validate};

pub use shared::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, Function::Companies, |req| dispatch(app, req)).await
}

async fn dispatch(app: &App, req: ApiRequest) -> Result<Response<Body>, ApiError> {
    let owner_id = auth::operator(&app.ctx, &req).await?.user.id;
    match (req.route.path, req.method.as_str()) {
        ("/api/companies", "GET") => list(app, &req, &owner_id).await,
        ("/api/companies", "POST") => create(app, &req, &owner_id).await,
        ("/api/companies/{company_id}", method) => {
            let company_id = Id::from_path(req.param("company_id"), NOT_FOUND)?.to_string();
            let key = keys::company(&owner_id, &company_id);
            match method {
                "GET" => get(app, &key).await,
                "PUT" => update(app, &req, &key).await,
                "DELETE" => delete(app, &key).await,
                _ => Err(ApiError::NotFound("There is no such route.")),
            }
        }
        _ => Err(ApiError::NotFound("There is no such route.")),
    }
}

const NOT_FOUND: &str = "No such company.";

async fn list(app: &App, req: &ApiRequest, owner_id: &str) -> Result<Response<Body>, ApiError> {
    let per_page = validate::per_page(req.query("per_page"), 25, 100)?;
    let page = app
        .ctx
        .db
        .list::<CompanyRecord>(&ListQuery {
            list: "companies",
            index: None,
            partition: keys::user_partition(owner_id),
            sort_prefix: keys::COMPANY_PREFIX.to_owned(),
            per_page,
            cursor: req.query("cursor").map(str::to_owned),
        })
        .await?;
    Ok(http::list(
        page.items.iter().map(CompanyRecord::resource).collect(),
        per_page,
        page.next_cursor,
    ))
}

async fn create(app: &App, req: &ApiRequest, owner_id: &str) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let input = (
        fields.required::<Name>("name"),
        fields.nullable::<Website>("website"),
    );
    fields.finish()?;
    let (Some(name), website) = input else {
        unreachable!("finish() reports every missing required field")
    };
    let now = clock::now_rfc3339();
    let company = CompanyRecord {
        id: Id::new().to_string(),
        owner_id: owner_id.to_owned(),
        name: name.into_inner(),
        website: website.flatten().map(Website::into_inner),
        created_at: now.clone(),
        updated_at: now,
        chat_count: 0,
    };
    if !app
        .ctx
        .db
        .put_new(&keys::company(owner_id, &company.id), &company)
        .await?
    {
        return Err(ApiError::internal("a new company id already existed"));
    }
    Ok(http::data(StatusCode::CREATED, company.resource()))
}

async fn get(app: &App, key: &db::Key) -> Result<Response<Body>, ApiError> {
    let company: CompanyRecord = app
        .ctx
        .db
        .get(key)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok(http::data(StatusCode::OK, company.resource()))
}

async fn update(app: &App, req: &ApiRequest, key: &db::Key) -> Result<Response<Body>, ApiError> {
    let mut fields = Fields::new(&req.body);
    let name = fields.present::<Name>("name");
    let website = fields.nullable::<Website>("website");
    fields.finish()?;

    let mut changes = db::Changes::new();
    changes.set("updated_at", db::s(clock::now_rfc3339()));
    if let Some(name) = name {
        changes.set("name", db::s(name.into_inner()));
    }
    changes.set_or_remove("website", website.map(|w| w.map(Website::into_inner)));
    let update = changes.apply(
        app.ctx
            .db
            .client()
            .update_item()
            .table_name(app.ctx.db.table())
            .set_key(Some(key.to_item()))
            .condition_expression("attribute_exists(PK)")
            .return_values(ReturnValue::AllNew),
    );
    match update.send().await {
        Ok(output) => {
            let company: CompanyRecord = db::from_item(output.attributes.unwrap_or_default())?;
            Ok(http::data(StatusCode::OK, company.resource()))
        }
        Err(err) if db::is_condition_failed(&err) => Err(ApiError::NotFound(NOT_FOUND)),
        Err(err) => Err(err.into()),
    }
}

async fn delete(app: &App, key: &db::Key) -> Result<Response<Body>, ApiError> {
    let db = &app.ctx.db;
    // `chat_count` is kept by the chat transactions, so this condition cannot race with a
    // chat being created for the company.
    let result = db
        .client()
        .delete_item()
        .table_name(db.table())
        .set_key(Some(key.to_item()))
        .condition_expression(
            "attribute_exists(PK) AND (attribute_not_exists(chat_count) OR chat_count = :zero)",
        )
        .expression_attribute_values(":zero", db::n(0))
        .return_values(ReturnValue::AllOld)
        .send()
        .await;
    match result {
        Ok(output) => {
            let company: CompanyRecord = db::from_item(output.attributes.unwrap_or_default())?;
            Ok(http::data(StatusCode::OK, company.resource()))
        }
        Err(err) if db::is_condition_failed(&err) => {
            // Either gone or still has chats: tell which.
            match db.get::<CompanyRecord>(key).await? {
                Some(_) => Err(ApiError::Conflict(
                    "The company still has chats. Delete them first.",
                )),
                None => Err(ApiError::NotFound(NOT_FOUND)),
            }
        }
        Err(err) => Err(err.into()),
    }
}

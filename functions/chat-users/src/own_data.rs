//! A guest's own personal-data requests: export and erase what the chat's company keeps
//! about its email, each proven by a fresh code (a token alone is not proof enough to
//! erase, and may outlive a change of email).

use domain::ids::ChatId;
use domain::personal_data::ErasureAnswer;
use edge::{ApiError, ApiRequest, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use storage::data_requests::{self, Scope};

use crate::App;
use crate::codes::prove_email;

/// `POST /api/chats/{chat_id}/users/export-data`: `email` + `auth-code`.
pub async fn export(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let proven = prove_email(app, req, chat).await?;
    let scope = Scope::of_chat(&proven.chat);
    let export = data_requests::export(&app.ctx.db, scope, proven.email.as_str()).await?;
    Ok(envelope::data(StatusCode::OK, export))
}

/// `POST /api/chats/{chat_id}/users/erase-data`: `email` + `auth-code`.
pub async fn erase(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let proven = prove_email(app, req, chat).await?;
    let scope = Scope::of_chat(&proven.chat);
    let erased = data_requests::erase(&app.ctx.db, scope, proven.email.as_str()).await?;
    Ok(envelope::data(StatusCode::OK, ErasureAnswer { erased }))
}

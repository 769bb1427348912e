//! `current-user`: who the token belongs to. `GET /api/user` for API tokens,
//! `GET /api/chat-user` (with its chat) for chat-user tokens.
//!
//! API Gateway's `$default` route also lands here, so unknown paths get the same JSON
//! 404 as everything else.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::routes::Function;
use shared::{ApiError, ApiRequest, auth, http};

pub use shared::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, Function::CurrentUser, |req| dispatch(app, req)).await
}

async fn dispatch(app: &App, req: ApiRequest) -> Result<Response<Body>, ApiError> {
    match req.route.path {
        "/api/user" => {
            let operator = auth::operator(&app.ctx, &req).await?;
            Ok(http::data(StatusCode::OK, operator.user.resource()))
        }
        "/api/chat-user" => {
            let guest = auth::guest(&app.ctx, &req).await?;
            let mut chat_user = guest.chat_user.resource(true);
            chat_user["chat"] = guest.chat.resource();
            Ok(http::data(StatusCode::OK, chat_user))
        }
        _ => Err(ApiError::NotFound("There is no such route.")),
    }
}

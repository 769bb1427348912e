//! `current-user`: who the token belongs to. `GET /api/user` for API tokens,
//! `GET /api/chat-user` (with its chat) for chat-user tokens.
//!
//! API Gateway's `$default` route also lands here, so unknown paths get the same JSON
//! 404 as everything else.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::routes::CurrentUserEndpoint;
use shared::{ApiError, ApiRequest, auth, http};

pub use shared::App;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, |endpoint, req| dispatch(app, endpoint, req)).await
}

async fn dispatch(
    app: &App,
    endpoint: CurrentUserEndpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    match endpoint {
        CurrentUserEndpoint::User => {
            let operator = auth::operator(&app.ctx, &req).await?;
            Ok(http::data(StatusCode::OK, operator.user.resource()))
        }
        CurrentUserEndpoint::ChatUser => {
            let guest = auth::guest(&app.ctx, &req).await?;
            let unread_count = app
                .ctx
                .db
                .unread_count(
                    guest.chat.id,
                    guest.chat_user.id,
                    guest.chat_user.last_read_seq,
                )
                .await?;
            let mut chat_user = guest.chat_user.resource(true);
            chat_user["unread_count"] = unread_count.into();
            chat_user["chat"] = guest.chat.resource();
            Ok(http::data(StatusCode::OK, chat_user))
        }
    }
}

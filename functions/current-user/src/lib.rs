//! `current-user`: who the token belongs to. `GET /api/user` for API tokens,
//! `GET /api/chat-user` (with its chat) for chat-user tokens.
//!
//! API Gateway's `$default` route also lands here, so unknown paths get the same JSON
//! 404 as everything else.

pub mod routes;

use edge::{ApiError, ApiRequest, auth, envelope};

pub use edge::App;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use routes::{Endpoint, ROUTES};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    edge::runtime::respond(request, &ROUTES, app.ctx.cors(), |endpoint, req| {
        dispatch(app, endpoint, req)
    })
    .await
}

async fn dispatch(
    app: &App,
    endpoint: Endpoint,
    req: ApiRequest,
) -> Result<Response<Body>, ApiError> {
    match endpoint {
        Endpoint::User => {
            let operator = auth::operator(&app.ctx, &req).await?;
            Ok(envelope::data(StatusCode::OK, operator.user.resource()))
        }
        Endpoint::ChatUser => {
            let guest = auth::guest(&app.ctx, &req).await?;
            let unread_count = app
                .ctx
                .db
                .messages()
                .unread_count(
                    guest.chat.id,
                    domain::message::Reader::Guest(guest.chat_user.id),
                    guest.chat_user.last_read_seq,
                )
                .await?;
            // The chat user, its unread count and its chat: built as one JSON object so
            // the fields keep the order the API has always written them in.
            let mut chat_user =
                serde_json::to_value(guest.chat_user.resource(true)).map_err(ApiError::internal)?;
            chat_user["unread_count"] = unread_count.into();
            chat_user["chat"] = serde_json::to_value(guest.chat.resource().for_guest())
                .map_err(ApiError::internal)?;
            Ok(envelope::data(StatusCode::OK, chat_user))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_fits_and_builds_its_endpoint() {
        assert_eq!(ROUTES.check(), Ok(()));
        assert_eq!(ROUTES.check_builds(), Ok(()));
    }
}

//! `current-user`: who the token belongs to. `GET /api/user` for API tokens,
//! `GET /api/chat-user` (with its chat) for chat-user tokens.
//!
//! API Gateway's `$default` route also lands here, so unknown paths get the same JSON
//! 404 as everything else.

// The AWS SDK's futures nest deeply (the keys read is awaited inside the handlers):
// a clean build needs more than the default 128.
#![recursion_limit = "256"]

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::db::users::UserRecord;
use shared::ids::UserId;
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
            Ok(http::data(StatusCode::OK, UserView::of(&operator.user)))
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

/// [`UserRecord::resource`] serialised straight from the record, borrowed (no `Value`,
/// no copies: this is the hottest route), byte for byte: the same fields in its (sorted)
/// order.
#[derive(serde::Serialize)]
struct UserView<'a> {
    created_at: &'a str,
    email: &'a str,
    id: &'a UserId,
    name: &'a str,
    updated_at: &'a str,
}

impl<'a> UserView<'a> {
    fn of(user: &'a UserRecord) -> Self {
        Self {
            created_at: &user.created_at,
            email: &user.email,
            id: &user.id,
            name: &user.name,
            updated_at: &user.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_is_byte_for_byte_its_resource() {
        let user = UserRecord {
            id: UserId::new(),
            email: "owner@example.com".into(),
            name: "Ann \"the owner\" 👋".into(),
            password_hash: "$argon2id$never shown".into(),
            created_at: "2026-11-26T09:00:00.000Z".into(),
            updated_at: "2026-11-26T09:01:00.000Z".into(),
        };
        assert_eq!(
            serde_json::to_string(&UserView::of(&user)).unwrap(),
            serde_json::to_string(&user.resource()).unwrap()
        );
    }
}

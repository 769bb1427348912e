//! The keys, against the running stack: every token names its key version (`kid`); after
//! `chat-admin secret rotate` what the previous key signed (API and chat-user tokens, an
//! auth code, an unsubscribe link) still works for the rotation window while everything
//! new carries the new kid, and once the window is over it is refused; a token under an
//! unknown kid is a 401 like any bad token.
//!
//! One test, because a rotation changes the keys of the whole stack: cargo runs this
//! binary on its own, and when it ends every function has read the new keys (test.sh sets
//! the window to 20 s; the functions re-read the keys every quarter of it).

use std::time::{Duration, Instant};

use api_tests::*;
use serde_json::json;
use services::jwt::{Claims, TokenKind, kid_of};
use services::keyring::{KeyVersion, max_age};

const PASSWORD: &str = "rotation-keeps-sessions-9431";

fn window() -> Duration {
    let secs = std::env::var("KEY_ROTATION_WINDOW_SECS")
        .expect("KEY_ROTATION_WINDOW_SECS: run `make test`")
        .parse()
        .expect("a number of seconds");
    Duration::from_secs(secs)
}

fn kid(material: &str) -> String {
    KeyVersion::derive(material).unwrap().kid().to_owned()
}

/// An API token for `operator`'s user signed with `version` (any kid it names).
fn api_token_under(version: &KeyVersion, operator: &Operator) -> String {
    let claims = Claims {
        kind: TokenKind::Api,
        sub: operator.id.clone(),
        // A token item that does not exist: the signature check comes first.
        jti: Some(ulid::Ulid::new().to_string()),
        chat: None,
        iat: domain::clock::now_millis() / 1000,
        iat_ms: None,
        exp: None,
    };
    services::jwt::sign(version, &claims).unwrap()
}

async fn status_of_user(token: &str) -> u16 {
    call("GET", "/api/user")
        .bearer(token)
        .send()
        .await
        .status
        .as_u16()
}

/// The status of the unsubscribe link's page (HTML, so not through `Reply::expect`).
async fn unsubscribe_page(token: &str) -> u16 {
    call("GET", "/api/email/unsubscribe")
        .query("token", token)
        .send()
        .await
        .status
        .as_u16()
}

async fn login(operator: &Operator) -> String {
    let reply = call("POST", "/api/tokens")
        .json(json!({ "email": operator.email, "password": operator.password }))
        .send()
        .await
        .expect(201);
    let token = reply.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&token);
    token
}

#[tokio::test]
async fn a_rotation_keeps_what_the_old_key_signed_for_the_window_then_ends_it() {
    let window = window();
    let before = stored_keys().await;
    remember_secret(&before.current);
    let old_kid = kid(&before.current);
    let old_version = KeyVersion::derive(&before.current).unwrap();

    // Made under the current key: tokens of both kinds, a code not yet entered, an
    // unsubscribe link (as the unread-message emails carry them).
    let owner = operator("keys").await;
    assert_eq!(kid_of(&owner.token), Some(old_kid.clone()));
    let logged_in = login(&owner).await;
    assert_eq!(kid_of(&logged_in), Some(old_kid.clone()));
    let company = company(&owner, "Keys Ltd").await;
    let chat = chat(&owner, &company, Some(PASSWORD)).await;
    let guest = verified_guest(&chat, PASSWORD, "keys-guest").await;
    assert_eq!(kid_of(&guest.token), Some(old_kid.clone()));
    let late = unique_email("keys-late");
    call("POST", &format!("/api/chats/{chat}/users/send-code"))
        .json(json!({ "email": late, "name": "Late", "password": PASSWORD }))
        .send()
        .await
        .expect(202);
    let code = latest_code(&late).await;
    let unsubscribe = services::crypto::unsubscribe_token(&old_version, &chat, &guest.id).unwrap();
    remember_secret(&unsubscribe);

    let rotation = chat_admin::rotate_keys(&secrets_manager().await, &keys_secret_id(), false)
        .await
        .expect("chat-admin secret rotate");
    let rotated_at = Instant::now();
    let after = stored_keys().await;
    remember_secret(&after.current);
    let new_kid = kid(&after.current);
    assert_eq!(rotation.retired_kid, old_kid);
    assert_eq!(rotation.kid, new_kid);
    assert_ne!(new_kid, old_kid);
    assert_eq!(after.previous.as_deref(), Some(before.current.as_str()));

    // Every instance reads the keys again within a quarter of the window.
    tokio::time::sleep(max_age(window) + Duration::from_secs(1)).await;

    // Within the window, what the old key signed still works.
    call("GET", "/api/user")
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(status_of_user(&logged_in).await, 200);
    call("GET", "/api/chat-user")
        .bearer(&guest.token)
        .send()
        .await
        .expect(200);
    let entered = call("POST", &format!("/api/chats/{chat}/users/get-token"))
        .json(json!({ "email": late, "auth_code": code }))
        .send()
        .await
        .expect(200);
    let late_token = entered.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&late_token);
    assert_eq!(unsubscribe_page(&unsubscribe).await, 200);

    // Everything new is signed with the new key.
    assert_eq!(kid_of(&late_token), Some(new_kid.clone()));
    let new_login = login(&owner).await;
    assert_eq!(kid_of(&new_login), Some(new_kid.clone()));
    let new_member = member(&owner, &chat, "keys-new").await;
    assert_eq!(kid_of(&new_member.token), Some(new_kid.clone()));

    // An unknown kid is a 401 like any other bad token, whatever the key.
    let stranger = KeyVersion::derive("a-key-this-deployment-never-had-0123").unwrap();
    let unknown = call("GET", "/api/user")
        .bearer(&api_token_under(&stranger, &owner))
        .send()
        .await
        .expect(401);
    assert_eq!(unknown.body, json!({ "message": "Unauthenticated." }));
    assert!(
        rotated_at.elapsed() < window,
        "the checks above took the whole window"
    );

    // After the window, the previous key verifies nothing.
    let over = rotated_at + window + max_age(window) + Duration::from_secs(1);
    tokio::time::sleep_until(over.into()).await;
    let refused = call("GET", "/api/user")
        .api(&owner.token)
        .send()
        .await
        .expect(401);
    assert_eq!(refused.body, json!({ "message": "Unauthenticated." }));
    assert_eq!(status_of_user(&logged_in).await, 401);
    call("GET", "/api/chat-user")
        .bearer(&guest.token)
        .send()
        .await
        .expect(401);
    // Not even a token made now with the previous key.
    assert_eq!(
        status_of_user(&api_token_under(&old_version, &owner)).await,
        401
    );
    assert_eq!(unsubscribe_page(&unsubscribe).await, 404);
    // What the new key signed goes on working.
    assert_eq!(status_of_user(&new_login).await, 200);
    call("GET", "/api/chat-user")
        .bearer(&late_token)
        .send()
        .await
        .expect(200);
}

//! The guards on chats and chat users, from an owner's and a guest's seat: passwords a
//! guesser who knows the company tries first, names that hide or reorder text, the
//! budgets of the writes that log events, transcripts only to proven addresses, and an
//! unsubscribe page no other site can frame.

use api_tests::live::last_seq;
use api_tests::*;
use domain::rate_limit::budgets::{CHAT_CHANGES, CHAT_USER_CHANGES};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_password_a_guesser_tries_first_is_refused_with_the_company_s_name_in_mind() {
    let owner = operator("guards-password").await;
    let company = call("POST", "/api/companies")
        .api(&owner.token)
        .json(json!({ "name": "Acme" }))
        .send()
        .await
        .expect(201)
        .data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for weak in [
        "Acme2024!",
        "chatpassword",
        "support-chat",
        "Sup3rS3cret",
        "Tr0ub4dor&3",
    ] {
        let reply = call("POST", "/api/chats")
            .api(&owner.token)
            .json(json!({ "company_id": company, "name": "Support", "password": weak }))
            .send()
            .await
            .expect(422);
        assert!(!reply.field_errors("password").is_empty(), "{weak}");
    }
    let chat = chat(&owner, &company, Some("copper lantern orbit")).await;
    // The chat's own new name counts too.
    call("PUT", &format!("/api/chats/{chat}"))
        .api(&owner.token)
        .json(json!({ "name": "Zyxwvq", "password": "Zyxwvq2025!" }))
        .send()
        .await
        .expect(422);
}

#[tokio::test]
async fn names_that_hide_or_reorder_text_are_refused_and_bodies_keep_theirs() {
    let r = room("guards-names").await;
    for bad in [
        "Support\u{202E}moc.live",
        "two\nlines",
        "nul\u{0}",
        "zero\u{200B}width",
    ] {
        let reply = call("POST", &format!("/api/chats/{}/users", r.chat))
            .api(&r.owner.token)
            .json(json!({ "email": unique_email("named"), "name": bad }))
            .send()
            .await
            .expect(422);
        assert!(!reply.field_errors("name").is_empty(), "{bad:?}");
    }
    call("PUT", &format!("/api/chats/{}/users/{}", r.chat, r.ann.id))
        .bearer(&r.ann.token)
        .json(json!({ "name": "Ann\u{2067}" }))
        .send()
        .await
        .expect(422);
    let message = post_message(&r.chat, &r.ann.token, "see \u{202E}this\nand that").await;
    assert_eq!(message["body"], "see \u{202E}this\nand that");
}

#[tokio::test]
async fn renames_and_chat_changes_are_budgeted_and_a_rename_to_the_same_name_logs_nothing() {
    let r = room("guards-budgets").await;
    let rename = |name: String| {
        let (chat, ann) = (r.chat.clone(), r.ann.clone());
        async move {
            call("PUT", &format!("/api/chats/{chat}/users/{}", ann.id))
                .bearer(&ann.token)
                .json(json!({ "name": name }))
                .send()
                .await
        }
    };
    let head = last_seq(&r.owner.token, &r.chat).await;
    rename("ann".into()).await.expect(200);
    assert_eq!(
        last_seq(&r.owner.token, &r.chat).await,
        head,
        "nothing changed, nothing logged"
    );
    room_in_window(&CHAT_USER_CHANGES, Duration::from_secs(60)).await;
    let mut statuses = Vec::new();
    for i in 0..11 {
        statuses.push(rename(format!("Ann {i}")).await.status.as_u16());
    }
    assert_eq!(&statuses[..10], &[200; 10], "{statuses:?}");
    assert_eq!(statuses[10], 429, "{statuses:?}");

    room_in_window(&CHAT_CHANGES, Duration::from_secs(40)).await;
    let mut statuses = Vec::new();
    for i in 0..31 {
        let reply = call("PUT", &format!("/api/chats/{}", r.chat))
            .api(&r.owner.token)
            .json(json!({ "description": format!("v{i}") }))
            .send()
            .await;
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        30,
        "{statuses:?}"
    );
    assert_eq!(statuses[30], 429);
}

#[tokio::test]
async fn a_transcript_goes_only_to_an_address_its_chat_user_proved() {
    let r = room("guards-transcript").await;
    // Ann was added by the owner with an address nobody proved.
    let reply = call(
        "POST",
        &format!("/api/chats/{}/users/{}/transcript", r.chat, r.ann.id),
    )
    .api(&r.owner.token)
    .send()
    .await
    .expect(409);
    assert!(reply.body["message"].as_str().unwrap().contains("proven"));
    assert!(emails_to(&r.ann.email).await.is_empty());
    // A guest who proved its address gets one.
    let owner = operator("guards-transcript-proved").await;
    let company = company(&owner, "Proved").await;
    let chat = chat(&owner, &company, Some("copper lantern orbit")).await;
    let guest = verified_guest(&chat, "copper lantern orbit", "gus").await;
    call(
        "POST",
        &format!("/api/chats/{chat}/users/{}/transcript", guest.id),
    )
    .bearer(&guest.token)
    .send()
    .await
    .expect(202);
}

#[tokio::test]
async fn the_unsubscribe_page_cannot_be_framed() {
    let r = room("guards-frame").await;
    let token = keys()
        .await
        .unsubscribe_token(&r.chat, &r.ann.id)
        .await
        .unwrap();
    let page = call("GET", "/api/email/unsubscribe")
        .query("token", &token)
        .send()
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
}

//! A company's team, black-box against the local stack: invitations (always, also for
//! an account), the role matrix of every company route (the README's table), removal,
//! role changes and the hand-over, each honoured by the very next request, and BOLA tries
//! across two companies that share one member.

use api_tests::*;
use serde_json::{Value, json};

/// One company with everything its routes touch, and a caller of each kind.
struct Team {
    company: String,
    chat: String,
    guest: Member,
    callers: Vec<(&'static str, Operator)>,
}

async fn team(tag: &str) -> Team {
    let owner = operator(&format!("{tag}-owner")).await;
    let company = company(&owner, "Team Co").await;
    let chat = chat(&owner, &company, Some("copper kettle orbit harbour")).await;
    let guest = member_with_email(&owner, &chat, &unique_email("guest"), "Guest", false).await;
    let admin = teammate(&owner, &company, "admin", "all", &format!("{tag}-admin")).await;
    let agent = teammate(&owner, &company, "agent", "all", &format!("{tag}-agent")).await;
    let assigned = teammate(
        &owner,
        &company,
        "agent",
        "assigned",
        &format!("{tag}-assigned"),
    )
    .await;
    let outsider = operator(&format!("{tag}-outsider")).await;
    Team {
        company,
        chat,
        guest,
        callers: vec![
            ("owner", owner),
            ("admin", admin),
            ("agent", agent),
            ("assigned agent", assigned),
            ("non-member", outsider),
        ],
    }
}

impl Team {
    fn owner(&self) -> &Operator {
        &self.callers[0].1
    }
}

/// A route tried by every kind of caller, with the status each must get (owner, admin,
/// agent, assigned-only agent, non-member). `fresh` makes what a destructive try uses
/// up (a chat, a message) anew for each caller.
struct Row {
    what: &'static str,
    expected: [u16; 5],
}

async fn try_each<F, Fut>(team: &Team, row: Row, mut attempt: F)
where
    F: FnMut(Operator) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    for ((who, caller), expected) in team.callers.iter().zip(row.expected) {
        let reply = attempt(caller.clone()).await;
        assert_eq!(
            reply.status.as_u16(),
            expected,
            "{}: {who} got {} {}",
            row.what,
            reply.status,
            reply.text
        );
        assert!(
            reply.body.is_object(),
            "{}: {who}: every answer is JSON",
            row.what
        );
    }
}

/// The README's table, route by route.
#[tokio::test]
async fn every_company_route_answers_each_role_as_the_table_says() {
    let t = team("matrix").await;
    let (c, k) = (t.company.clone(), t.chat.clone());
    let guest = t.guest.clone();

    let get = |path: String| {
        move |op: Operator| {
            let path = path.clone();
            async move { call("GET", &path).api(&op.token).send().await }
        }
    };
    let send = |method: &'static str, path: String, body: Value| {
        move |op: Operator| {
            let (path, body) = (path.clone(), body.clone());
            async move { call(method, &path).api(&op.token).json(body).send().await }
        }
    };

    try_each(
        &t,
        Row {
            what: "GET company",
            expected: [200, 200, 200, 200, 404],
        },
        get(format!("/api/companies/{c}")),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "PUT company",
            expected: [200, 200, 403, 403, 404],
        },
        send(
            "PUT",
            format!("/api/companies/{c}"),
            json!({ "website": "https://team.example" }),
        ),
    )
    .await;
    // The sites' settings are company settings too (ChangeCompany).
    try_each(
        &t,
        Row {
            what: "PUT company allowed_origins and business_hours",
            expected: [200, 200, 403, 403, 404],
        },
        send(
            "PUT",
            format!("/api/companies/{c}"),
            json!({
                "allowed_origins": ["https://team.example"],
                "business_hours": { "time_zone": "Europe/Berlin", "weekly": [{ "day": "mon", "from": "09:00", "to": "17:00" }] },
            }),
        ),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "GET members",
            expected: [200, 200, 200, 200, 404],
        },
        get(format!("/api/companies/{c}/members")),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "export-data",
            expected: [200, 200, 403, 403, 404],
        },
        send(
            "POST",
            format!("/api/companies/{c}/export-data"),
            json!({ "email": guest.email }),
        ),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "erase-data",
            expected: [200, 200, 403, 403, 404],
        },
        send(
            "POST",
            format!("/api/companies/{c}/erase-data"),
            json!({ "email": unique_email("nobody") }),
        ),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "GET chats of the company",
            expected: [200, 200, 200, 200, 422],
        },
        get(format!("/api/chats?company_id={c}")),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "POST chat",
            expected: [201, 201, 403, 403, 422],
        },
        send(
            "POST",
            "/api/chats".into(),
            json!({ "company_id": c, "name": "More" }),
        ),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "GET chat",
            expected: [200, 200, 200, 404, 404],
        },
        get(format!("/api/chats/{k}")),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "PUT chat",
            expected: [200, 200, 403, 404, 404],
        },
        send(
            "PUT",
            format!("/api/chats/{k}"),
            json!({ "description": "for the team" }),
        ),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "share",
            expected: [200, 200, 403, 404, 404],
        },
        send("POST", format!("/api/chats/{k}/share"), json!({})),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "realtime ticket",
            expected: [201, 201, 201, 404, 404],
        },
        send("POST", format!("/api/chats/{k}/realtime-ticket"), json!({})),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "GET chat users",
            expected: [200, 200, 200, 404, 404],
        },
        get(format!("/api/chats/{k}/users")),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "POST chat user",
            expected: [201, 201, 403, 404, 404],
        },
        |op: Operator| {
            let k = k.clone();
            async move {
                call("POST", &format!("/api/chats/{k}/users"))
                    .api(&op.token)
                    .json(json!({ "email": unique_email("added"), "name": "Added" }))
                    .send()
                    .await
            }
        },
    )
    .await;
    try_each(
        &t,
        Row {
            what: "mint chat-user token",
            expected: [201, 201, 403, 404, 404],
        },
        send(
            "POST",
            format!("/api/chats/{k}/users/{}/token", guest.id),
            json!({}),
        ),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "GET messages",
            expected: [200, 200, 200, 404, 404],
        },
        get(format!("/api/chats/{k}/messages")),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "GET events",
            expected: [200, 200, 200, 404, 404],
        },
        get(format!("/api/chats/{k}/events")),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "delete a guest's message",
            expected: [200, 200, 403, 404, 404],
        },
        |op: Operator| {
            let (k, guest) = (k.clone(), guest.clone());
            async move {
                let message = post_message(&k, &guest.token, "moderate me").await;
                call(
                    "DELETE",
                    &format!(
                        "/api/chats/{k}/messages/{}",
                        message["id"].as_str().unwrap()
                    ),
                )
                .api(&op.token)
                .send()
                .await
            }
        },
    )
    .await;
    try_each(
        &t,
        Row {
            what: "GET webhooks",
            expected: [200, 200, 403, 403, 404],
        },
        get(format!("/api/companies/{c}/webhooks")),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "POST webhook",
            expected: [201, 201, 403, 403, 404],
        },
        send(
            "POST",
            format!("/api/companies/{c}/webhooks"),
            json!({ "url": "http://127.0.0.1:9/team-hook" }),
        ),
    )
    .await;
    try_each(
        &t,
        Row {
            what: "invite an agent",
            expected: [201, 201, 403, 403, 404],
        },
        |op: Operator| {
            let c = c.clone();
            async move {
                call("POST", &format!("/api/companies/{c}/members"))
                    .api(&op.token)
                    .json(json!({ "email": unique_email("invitee"), "role": "agent" }))
                    .send()
                    .await
            }
        },
    )
    .await;
    try_each(
        &t,
        Row {
            what: "invite an admin",
            expected: [201, 201, 403, 403, 404],
        },
        |op: Operator| {
            let c = c.clone();
            async move {
                call("POST", &format!("/api/companies/{c}/members"))
                    .api(&op.token)
                    .json(json!({ "email": unique_email("invitee"), "role": "admin" }))
                    .send()
                    .await
            }
        },
    )
    .await;
    try_each(
        &t,
        Row {
            what: "delete a chat",
            expected: [200, 200, 403, 404, 404],
        },
        |op: Operator| {
            let (c, owner) = (c.clone(), t.owner().clone());
            async move {
                let doomed = chat(&owner, &c, None).await;
                call("DELETE", &format!("/api/chats/{doomed}"))
                    .api(&op.token)
                    .send()
                    .await
            }
        },
    )
    .await;
    // The owner may delete the company: this one still has chats (409, past the role check).
    try_each(
        &t,
        Row {
            what: "DELETE company",
            expected: [409, 403, 403, 403, 404],
        },
        |op: Operator| {
            let c = c.clone();
            async move {
                call("DELETE", &format!("/api/companies/{c}"))
                    .api(&op.token)
                    .send()
                    .await
            }
        },
    )
    .await;

    // What each lists: the assigned-only agent sees none of the company's chats.
    let listed = |op: &Operator| {
        call("GET", &format!("/api/chats?company_id={c}"))
            .api(&op.token)
            .send()
    };
    let agent_sees = listed(&t.callers[2].1).await.expect(200);
    assert!(
        agent_sees
            .data()
            .as_array()
            .unwrap()
            .iter()
            .any(|chat| chat["id"] == k.as_str())
    );
    let assigned_sees = listed(&t.callers[3].1).await.expect(200);
    assert_eq!(assigned_sees.data(), &json!([]));
    let everything = call("GET", "/api/chats")
        .api(&t.callers[3].1.token)
        .send()
        .await
        .expect(200);
    assert_eq!(everything.data(), &json!([]));
}

#[tokio::test]
async fn a_company_carries_the_callers_membership_and_the_list_is_the_callers_companies() {
    let t = team("listing").await;
    let (admin, agent) = (&t.callers[1].1, &t.callers[3].1);
    let mine = call("GET", "/api/companies")
        .api(&admin.token)
        .send()
        .await
        .expect(200);
    let items = mine.data().as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], t.company.as_str());
    assert_eq!(
        items[0]["membership"],
        json!({ "role": "admin", "sees": "all" })
    );
    let one = call("GET", &format!("/api/companies/{}", t.company))
        .api(&agent.token)
        .send()
        .await
        .expect(200);
    assert_eq!(
        one.data()["membership"],
        json!({ "role": "agent", "sees": "assigned" })
    );
    let owner = call("GET", &format!("/api/companies/{}", t.company))
        .api(&t.owner().token)
        .send()
        .await
        .expect(200);
    assert_eq!(
        owner.data()["membership"],
        json!({ "role": "owner", "sees": "all" })
    );

    let members = call("GET", &format!("/api/companies/{}/members", t.company))
        .api(&agent.token)
        .send()
        .await
        .expect(200);
    let roles: Vec<(String, String)> = members
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roles
            .iter()
            .filter(|(r, s)| r == "owner" && s == "active")
            .count(),
        1
    );
    assert_eq!(
        roles.iter().filter(|(_, s)| s == "active").count(),
        4,
        "{roles:?}"
    );
}

#[tokio::test]
async fn an_invitation_never_tells_whether_an_email_has_an_account_and_needs_its_token() {
    let owner = operator("invite-owner").await;
    let company = company(&owner, "Invite Co").await;
    let existing = operator("invite-existing").await;
    let stranger = unique_email("invite-new");
    let mut answers = Vec::new();
    for email in [&existing.email, &stranger] {
        let reply = call("POST", &format!("/api/companies/{company}/members"))
            .api(&owner.token)
            .json(json!({ "email": email, "role": "agent" }))
            .send()
            .await
            .expect(201);
        let mut data = reply.data().clone();
        for field in ["id", "email", "created_at"] {
            data.as_object_mut().unwrap().remove(field);
        }
        answers.push(data);
    }
    assert_eq!(
        answers[0], answers[1],
        "the same answer for an account and for none"
    );
    // Invited once: again is a 409.
    call("POST", &format!("/api/companies/{company}/members"))
        .api(&owner.token)
        .json(json!({ "email": existing.email, "role": "admin" }))
        .send()
        .await
        .expect(409);

    // Not a member before accepting.
    call("GET", &format!("/api/companies/{company}"))
        .api(&existing.token)
        .send()
        .await
        .expect(404);
    let code = invitation_code(&existing.email).await;
    // An account accepts with its own token, not by creating another one.
    let without_token = call("POST", "/api/invitations/accept")
        .json(json!({ "email": existing.email, "code": code, "name": "Twin", "password": "copper lantern harbour" }))
        .send()
        .await
        .expect(422);
    assert!(
        without_token.text.contains("has an account"),
        "{}",
        without_token.text
    );
    // Wrong codes count against the source, never against the invitation.
    for _ in 0..5 {
        call("POST", "/api/invitations/accept")
            .api(&existing.token)
            .json(json!({ "email": existing.email, "code": "WRONGwrongWRONGwrong2345" }))
            .send()
            .await
            .expect(422);
    }
    let accepted = call("POST", "/api/invitations/accept")
        .api(&existing.token)
        .json(json!({ "email": existing.email, "code": code }))
        .send()
        .await
        .expect(201);
    remember_secret(accepted.data()["token"].as_str().unwrap());
    assert_eq!(accepted.data()["user"]["id"], existing.id.as_str());
    let seen = call("GET", &format!("/api/companies/{company}"))
        .api(&existing.token)
        .send()
        .await
        .expect(200);
    assert_eq!(seen.data()["membership"]["role"], "agent");
    // Single use.
    call("POST", "/api/invitations/accept")
        .api(&existing.token)
        .json(json!({ "email": existing.email, "code": code }))
        .send()
        .await
        .expect(422);
}

#[tokio::test]
async fn a_removed_member_is_out_at_its_next_request_and_a_role_change_counts_at_once() {
    let t = team("removal").await;
    let (owner, admin, agent) = (
        t.owner().clone(),
        t.callers[1].1.clone(),
        t.callers[2].1.clone(),
    );
    let c = &t.company;
    // An agent cannot change the company; made an admin, it can, at once.
    call("PUT", &format!("/api/companies/{c}"))
        .api(&agent.token)
        .json(json!({ "name": "Agent Co" }))
        .send()
        .await
        .expect(403);
    call("PUT", &format!("/api/companies/{c}/members/{}", agent.id))
        .api(&admin.token)
        .json(json!({ "role": "admin" }))
        .send()
        .await
        .expect(200);
    call("PUT", &format!("/api/companies/{c}"))
        .api(&agent.token)
        .json(json!({ "name": "Agent Co" }))
        .send()
        .await
        .expect(200);
    // An admin cannot touch the owner; nobody removes the owner.
    call("PUT", &format!("/api/companies/{c}/members/{}", owner.id))
        .api(&admin.token)
        .json(json!({ "role": "agent" }))
        .send()
        .await
        .expect(403);
    call(
        "DELETE",
        &format!("/api/companies/{c}/members/{}", owner.id),
    )
    .api(&owner.token)
    .send()
    .await
    .expect(409);
    // Removed: its very next request is a 404, for the company and its chats.
    call(
        "DELETE",
        &format!("/api/companies/{c}/members/{}", agent.id),
    )
    .api(&owner.token)
    .send()
    .await
    .expect(200);
    call("GET", &format!("/api/companies/{c}"))
        .api(&agent.token)
        .send()
        .await
        .expect(404);
    call("GET", &format!("/api/chats/{}", t.chat))
        .api(&agent.token)
        .send()
        .await
        .expect(404);
    let companies = call("GET", "/api/companies")
        .api(&agent.token)
        .send()
        .await
        .expect(200);
    assert_eq!(companies.data(), &json!([]));
    // A member leaves on its own.
    call(
        "DELETE",
        &format!("/api/companies/{c}/members/{}", admin.id),
    )
    .api(&admin.token)
    .send()
    .await
    .expect(200);
    call("GET", &format!("/api/companies/{c}"))
        .api(&admin.token)
        .send()
        .await
        .expect(404);
}

#[tokio::test]
async fn ownership_moves_only_by_handing_it_over() {
    let t = team("handover").await;
    let (owner, admin) = (t.owner().clone(), t.callers[1].1.clone());
    let c = &t.company;
    call("PUT", &format!("/api/companies/{c}/members/{}", admin.id))
        .api(&admin.token)
        .json(json!({ "role": "owner" }))
        .send()
        .await
        .expect(403);
    let handed = call("PUT", &format!("/api/companies/{c}/members/{}", admin.id))
        .api(&owner.token)
        .json(json!({ "role": "owner" }))
        .send()
        .await
        .expect(200);
    assert_eq!(handed.data()["role"], "owner");
    let was_owner = call("GET", &format!("/api/companies/{c}"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(was_owner.data()["membership"]["role"], "admin");
    assert_eq!(was_owner.data()["owner_id"], admin.id.as_str());
    // The old owner can no longer delete it; the new one gets past the role check.
    call("DELETE", &format!("/api/companies/{c}"))
        .api(&owner.token)
        .send()
        .await
        .expect(403);
    call("DELETE", &format!("/api/companies/{c}"))
        .api(&admin.token)
        .send()
        .await
        .expect(409);
}

/// One person in two companies: an admin of one, an agent of the other. Nothing of one
/// company is reachable through the other's ids, and its role in one is not its role in
/// the other.
#[tokio::test]
async fn a_member_of_two_companies_reaches_each_only_as_what_it_is_there() {
    let first = team("bola-first").await;
    let second_owner = operator("bola-second").await;
    let second = company(&second_owner, "Second Co").await;
    let second_chat = chat(&second_owner, &second, None).await;
    let hook = call("POST", &format!("/api/companies/{second}/webhooks"))
        .api(&second_owner.token)
        .json(json!({ "url": "http://127.0.0.1:9/second" }))
        .send()
        .await
        .expect(201);
    let hook_id = hook.data()["id"].as_str().unwrap().to_owned();
    remember_secret(hook.data()["secret"].as_str().unwrap_or_default());
    // The first company's admin joins the second as an agent (with its own token).
    let admin = first.callers[1].1.clone();
    call("POST", &format!("/api/companies/{second}/members"))
        .api(&second_owner.token)
        .json(json!({ "email": admin.email, "role": "agent" }))
        .send()
        .await
        .expect(201);
    let code = invitation_code(&admin.email).await;
    let accepted = call("POST", "/api/invitations/accept")
        .api(&admin.token)
        .json(json!({ "email": admin.email, "code": code }))
        .send()
        .await
        .expect(201);
    remember_secret(accepted.data()["token"].as_str().unwrap());

    let listed = call("GET", "/api/companies")
        .api(&admin.token)
        .send()
        .await
        .expect(200);
    assert_eq!(listed.data().as_array().unwrap().len(), 2);
    // An agent in the second: no webhooks, no chat changes there.
    call("GET", &format!("/api/companies/{second}/webhooks"))
        .api(&admin.token)
        .send()
        .await
        .expect(403);
    call("PUT", &format!("/api/chats/{second_chat}"))
        .api(&admin.token)
        .json(json!({ "name": "x" }))
        .send()
        .await
        .expect(403);
    // The second's webhook through the first's id: not found.
    call(
        "GET",
        &format!("/api/companies/{}/webhooks/{hook_id}", first.company),
    )
    .api(&admin.token)
    .send()
    .await
    .expect(404);
    call(
        "DELETE",
        &format!("/api/companies/{}/webhooks/{hook_id}", first.company),
    )
    .api(&admin.token)
    .send()
    .await
    .expect(404);
    // The second's members through the first's id.
    call(
        "DELETE",
        &format!(
            "/api/companies/{}/members/{}",
            first.company, second_owner.id
        ),
    )
    .api(&admin.token)
    .send()
    .await
    .expect(404);
    // A chat of the second, created "in" the first: the chat stays the second's.
    call("GET", &format!("/api/chats/{second_chat}"))
        .api(&admin.token)
        .send()
        .await
        .expect(200);
    // Its chats of both companies are listed together.
    let chats = call("GET", "/api/chats")
        .api(&admin.token)
        .send()
        .await
        .expect(200);
    let ids: Vec<&str> = chats
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&second_chat.as_str()) && ids.contains(&first.chat.as_str()),
        "{ids:?}"
    );
    // The second's owner is a non-member of the first.
    call("GET", &format!("/api/companies/{}", first.company))
        .api(&second_owner.token)
        .send()
        .await
        .expect(404);
}

/// A member's sockets follow its membership: removed, they close and its unused ticket
/// opens nothing; narrowed to its assigned chats, they close too. Another member's stay.
#[tokio::test]
async fn a_removed_or_narrowed_member_s_sockets_close() {
    use api_tests::live::{PUSH_WAIT, QUIET_WAIT, Socket, ticket_url};
    let t = team("sockets").await;
    let (owner, admin, agent) = (
        t.owner().clone(),
        t.callers[1].1.clone(),
        t.callers[2].1.clone(),
    );
    let c = &t.company;
    let mut admin_socket = Socket::open(&admin.token, &t.chat).await;
    let mut agent_socket = Socket::open(&agent.token, &t.chat).await;
    let mut owner_socket = Socket::open(&owner.token, &t.chat).await;
    let spare_ticket = ticket_url(&admin.token, &t.chat).await;

    call(
        "DELETE",
        &format!("/api/companies/{c}/members/{}", admin.id),
    )
    .api(&owner.token)
    .send()
    .await
    .expect(200);
    assert!(
        admin_socket.closed_within(PUSH_WAIT).await,
        "the removed member's socket closes"
    );
    // A ticket minted before the removal opens nothing (the open checks the membership).
    let refused = match tokio_tungstenite::connect_async(&spare_ticket).await {
        Ok(_) => "opened".to_owned(),
        Err(err) => err.to_string(),
    };
    assert!(refused.contains("403"), "{refused}");

    call("PUT", &format!("/api/companies/{c}/members/{}", agent.id))
        .api(&owner.token)
        .json(json!({ "sees": "assigned" }))
        .send()
        .await
        .expect(200);
    assert!(
        agent_socket.closed_within(PUSH_WAIT).await,
        "the narrowed agent's socket closes"
    );
    assert!(
        !owner_socket.closed_within(QUIET_WAIT).await,
        "the owner's stays open"
    );
}

/// An event a member causes names it, by id and name, for members and webhooks; a chat
/// user's view of the same event leaves the member out.
#[tokio::test]
async fn the_events_a_member_causes_name_it_for_members_only() {
    let t = team("actor").await;
    let admin = t.callers[1].1.clone();
    call("PUT", &format!("/api/chats/{}", t.chat))
        .api(&admin.token)
        .json(json!({ "description": "renamed by the admin" }))
        .send()
        .await
        .expect(200);
    let staff_view = call("GET", &format!("/api/chats/{}/events", t.chat))
        .api(&t.owner().token)
        .send()
        .await
        .expect(200);
    let updated = staff_view
        .data()
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|event| event["type"] == "chat.updated")
        .cloned()
        .expect("a chat.updated event");
    assert_eq!(updated["actor"]["type"], "user");
    assert_eq!(updated["actor"]["id"], admin.id.as_str());
    assert!(
        updated["actor"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Teammate")
    );
    let guest_view = call("GET", &format!("/api/chats/{}/events", t.chat))
        .bearer(&t.guest.token)
        .send()
        .await
        .expect(200);
    assert!(
        guest_view
            .data()
            .as_array()
            .unwrap()
            .iter()
            .all(|event| event.get("actor").is_none()),
        "a chat user sees no member's id"
    );
}

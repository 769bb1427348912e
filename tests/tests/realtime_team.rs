//! The team's live stream, from members' seats: one socket per member and company that
//! hears every chat of the company it sees (each frame naming its chat), and only the
//! assigned chats for an agent bound to them; a ticket only for members, used once; the
//! socket closes when the membership ends or changes, or its API token is deleted.

use api_tests::live::*;
use api_tests::*;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

/// The URL of a member's team stream of `company` (the ticket is single-use).
async fn team_url(token: &str, company: &str) -> String {
    let reply = call("POST", &format!("/api/companies/{company}/realtime-ticket"))
        .bearer(token)
        .send()
        .await
        .expect(201);
    assert!(reply.data()["expires_at"].is_string());
    let url = reply.data()["url"].as_str().unwrap().to_owned();
    remember_secret(url.split("ticket=").nth(1).unwrap());
    url
}

async fn team_socket(token: &str, company: &str) -> Socket {
    Socket::open_url(&team_url(token, company).await).await
}

/// What a handshake with `url` answered: "opened", or the refusal (with its status).
async fn handshake(url: &str) -> String {
    match connect_async(url).await {
        Ok(_) => "opened".to_owned(),
        Err(err) => err.to_string(),
    }
}

/// The next event frame of `chat` above `after`, skipping the other chats' events and
/// typing notices (a team stream interleaves its chats).
async fn next_event_of(socket: &mut Socket, chat: &str, after: u64) -> Value {
    loop {
        let frame = socket
            .next_within(PUSH_WAIT)
            .await
            .expect("an event arrives");
        if frame["chat_id"] == chat && frame["seq"].as_u64().is_some_and(|s| s > after) {
            return frame;
        }
    }
}

/// Whether any event of `chat` arrives within [`QUIET_WAIT`].
async fn hears_of(socket: &mut Socket, chat: &str) -> bool {
    let deadline = tokio::time::Instant::now() + QUIET_WAIT;
    while let Some(left) = deadline.checked_duration_since(tokio::time::Instant::now()) {
        match socket.next_within(left).await {
            Some(frame) if frame["chat_id"] == chat && frame["seq"].is_u64() => return true,
            Some(_) => continue,
            None => return false,
        }
    }
    false
}

/// Assigns a chat to a member on the chat item itself (these tests' chats are rooms,
/// which the assignment route refuses; the stream follows the item either way).
async fn assign(chat: &str, user: &str) {
    dynamodb()
        .await
        .update_item()
        .table_name(table_name())
        .key("PK", storage::s(format!("CHAT#{chat}")))
        .key("SK", storage::s("CHAT"))
        .update_expression("SET assignee_id = :user")
        .expression_attribute_values(":user", storage::s(user))
        .condition_expression("attribute_exists(PK)")
        .send()
        .await
        .expect("the chat is assigned");
}

#[tokio::test]
async fn an_owner_s_team_stream_hears_every_chat_of_the_company_with_its_chat_id() {
    let owner = operator("team-owner").await;
    let company = company(&owner, "Team Stream Ltd").await;
    let (first, second) = (
        chat(&owner, &company, None).await,
        chat(&owner, &company, None).await,
    );
    let (ann, bob) = (
        member(&owner, &first, "ann").await,
        member(&owner, &second, "bob").await,
    );
    // Another company of the same owner stays out of this stream.
    let elsewhere = company_chat(&owner).await;
    let carol = member(&owner, &elsewhere, "carol").await;
    let mut stream = team_socket(&owner.token, &company).await;

    let in_first = post(&ann.token, &first, "hello from the first chat").await;
    let in_second = post(&bob.token, &second, "hello from the second chat").await;
    let in_other = post(&carol.token, &elsewhere, "another company").await;
    let heard = next_event_of(&mut stream, &first, seq(&in_first) - 1).await;
    assert_eq!(heard["type"], "message.created");
    assert_eq!(heard["seq"], in_first["seq"]);
    assert_eq!(heard["data"]["id"], in_first["id"]);
    let heard = next_event_of(&mut stream, &second, seq(&in_second) - 1).await;
    assert_eq!(heard["data"]["body"], "hello from the second chat");
    assert_eq!(heard["chat_id"], second.as_str());
    assert!(!hears_of(&mut stream, &elsewhere).await, "{in_other}");

    // A chat user typing on its chat's socket reaches the team stream, naming the chat.
    let mut ann_socket = Socket::open(&ann.token, &first).await;
    ann_socket.send(json!({ "action": "typing" })).await;
    let typing = loop {
        let frame = stream
            .next_within(PUSH_WAIT)
            .await
            .expect("a typing notice");
        if frame["type"] == "typing" {
            break frame;
        }
    };
    assert_eq!(typing["chat_id"], first.as_str());
    assert_eq!(typing["chat_user_id"], ann.id.as_str());
    assert_eq!(
        typing["author"],
        json!({ "type": "guest", "id": ann.id, "name": "ann" })
    );

    // The stream answers pings, and says typing belongs on a chat's socket.
    stream.send(json!({ "action": "ping" })).await;
    stream.send(json!({ "action": "typing" })).await;
    let mut replies = Vec::new();
    while replies.len() < 2 {
        let frame = stream.next_within(PUSH_WAIT).await.expect("a reply");
        if frame["type"] == "pong" || frame["type"] == "error" {
            replies.push(frame["type"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(replies, ["pong", "error"]);
}

/// A chat of a new company of `owner`.
async fn company_chat(owner: &Operator) -> String {
    let other = company(owner, "Elsewhere Ltd").await;
    chat(owner, &other, None).await
}

#[tokio::test]
async fn only_members_get_a_ticket_and_a_ticket_opens_once() {
    let owner = operator("team-ticket").await;
    let stranger = operator("team-stranger").await;
    let _theirs = company(&stranger, "Stranger Ltd").await;
    let company = company(&owner, "Tickets Ltd").await;
    call("POST", &format!("/api/companies/{company}/realtime-ticket"))
        .api(&stranger.token)
        .send()
        .await
        .expect(404);
    call("POST", &format!("/api/companies/{company}/realtime-ticket"))
        .send()
        .await
        .expect(401);
    let chat = chat(&owner, &company, None).await;
    let guest = member(&owner, &chat, "gus").await;
    call("POST", &format!("/api/companies/{company}/realtime-ticket"))
        .bearer(&guest.token)
        .send()
        .await
        .expect(401);

    let url = team_url(&owner.token, &company).await;
    let _open = Socket::open_url(&url).await;
    let again = handshake(&url).await;
    assert!(again.contains("401"), "{again}");
    // A chat's ticket and a team's are not interchangeable routes: the chat's still works.
    let _chat_socket = Socket::open(&owner.token, &chat).await;
}

#[tokio::test]
async fn an_agent_bound_to_its_assigned_chats_hears_only_those() {
    let owner = operator("team-assigned").await;
    let company = company(&owner, "Assigned Ltd").await;
    let chat = chat(&owner, &company, None).await;
    let guest = member(&owner, &chat, "gus").await;
    let agent = teammate(&owner, &company, "agent", "assigned", "team-agent").await;
    let mut witness = team_socket(&owner.token, &company).await;
    let mut agents = team_socket(&agent.token, &company).await;

    let unassigned = post(&guest.token, &chat, "nobody's yet").await;
    next_event_of(&mut witness, &chat, seq(&unassigned) - 1).await;
    assert!(
        !hears_of(&mut agents, &chat).await,
        "an unassigned chat stays silent"
    );

    assign(&chat, &agent.id).await;
    let assigned = post(&guest.token, &chat, "now it is yours").await;
    let heard = next_event_of(&mut agents, &chat, seq(&assigned) - 1).await;
    assert_eq!(heard["data"]["body"], "now it is yours");
    assert_eq!(heard["chat_id"], chat.as_str());

    // Seeing all now: the stream that filtered closes, and a new one hears everything.
    call(
        "PUT",
        &format!("/api/companies/{company}/members/{}", agent.id),
    )
    .api(&owner.token)
    .json(json!({ "sees": "all" }))
    .send()
    .await
    .expect(200);
    assert!(
        agents.closed_within(PUSH_WAIT).await,
        "a changed `sees` closes"
    );
    assert!(
        !witness.closed_within(QUIET_WAIT).await,
        "the owner's stream stays open"
    );
}

#[tokio::test]
async fn a_removed_member_s_team_stream_closes_and_its_spare_ticket_opens_nothing() {
    let owner = operator("team-removed").await;
    let company = company(&owner, "Removed Ltd").await;
    let chat = chat(&owner, &company, None).await;
    let guest = member(&owner, &chat, "gus").await;
    let admin = teammate(&owner, &company, "admin", "all", "team-admin").await;
    let mut admins = team_socket(&admin.token, &company).await;
    let mut owners = team_socket(&owner.token, &company).await;
    let spare = team_url(&admin.token, &company).await;

    call(
        "DELETE",
        &format!("/api/companies/{company}/members/{}", admin.id),
    )
    .api(&owner.token)
    .send()
    .await
    .expect(200);
    assert!(
        admins.closed_within(PUSH_WAIT).await,
        "the removed member's stream closes"
    );
    let refused = handshake(&spare).await;
    assert!(refused.contains("403"), "{refused}");
    let message = post(&guest.token, &chat, "the owner still hears this").await;
    next_event_of(&mut owners, &chat, seq(&message) - 1).await;
}

#[tokio::test]
async fn deleting_an_api_token_closes_the_team_stream_it_opened_and_only_that() {
    let owner = operator("team-token").await;
    let company = company(&owner, "Token Ltd").await;
    let chat = chat(&owner, &company, None).await;
    let guest = member(&owner, &chat, "gus").await;
    let login = call("POST", "/api/tokens")
        .json(json!({ "email": owner.email, "password": owner.password, "name": "console" }))
        .send()
        .await
        .expect(201);
    let console = login.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&console);
    let console_id = login.data()["api_token"]["id"].as_str().unwrap().to_owned();
    let mut by_console = team_socket(&console, &company).await;
    let mut by_first = team_socket(&owner.token, &company).await;

    call("DELETE", &format!("/api/tokens/{console_id}"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    assert!(
        by_console.closed_within(PUSH_WAIT).await,
        "the deleted token's stream closes"
    );
    let message = post(&guest.token, &chat, "to the first token's stream").await;
    next_event_of(&mut by_first, &chat, seq(&message) - 1).await;
}

/// The per-member cap of team sockets: with as many open as a member may hold (written
/// into the table, as `$connect` would have), its next handshake is a 429.
#[tokio::test]
async fn team_streams_are_capped_per_member() {
    let owner = operator("team-caps").await;
    let company = company(&owner, "Caps Ltd").await;
    let dynamodb = dynamodb().await;
    for n in 0..domain::realtime::TEAM_SOCKETS_PER_MEMBER {
        let connection = format!("held-{n}");
        dynamodb
            .put_item()
            .table_name(table_name())
            .item("PK", storage::s(format!("COMPANY#{company}")))
            .item("SK", storage::s(format!("TEAMSOCKET#{connection}")))
            .item("connection_id", storage::s(&connection))
            .item("company_id", storage::s(&company))
            .item("user_id", storage::s(&owner.id))
            .item("token_id", storage::s(ulid::Ulid::new().to_string()))
            .item("sees", storage::s("all"))
            .item("connected_at_ms", storage::n(domain::clock::now_millis()))
            .send()
            .await
            .expect("a held socket");
    }
    let refused = handshake(&team_url(&owner.token, &company).await).await;
    assert!(refused.contains("429"), "{refused}");
}

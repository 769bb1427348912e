//! Handler tests fed from `events/`: every API Gateway v2 fixture (the same files
//! `sam local invoke -e` and `cargo lambda invoke --data-file` take) is replayed through
//! its function's handler in-process, with moto behind it, in an order that creates what
//! the next one needs.

// The AWS SDK's futures nest deeply (the handlers run in-process): a clean build needs
// more than the default 128.
#![recursion_limit = "256"]

use std::collections::HashMap;
use std::path::Path;

use api_tests::*;
use domain::ids::EntityId;
use lambda_http::{Body, Response};
use serde_json::Value;

struct Apps {
    current_user: current_user::App,
    tokens: tokens::App,
    companies: companies::App,
    chats: chats::App,
    chat_users: chat_users::App,
    chat_messages: chat_messages::App,
    webhooks: webhooks::App,
}

impl Apps {
    async fn new() -> Self {
        Self {
            current_user: current_user::App::from_env().unwrap(),
            tokens: tokens::App::from_env().unwrap(),
            companies: companies::App::from_env().unwrap(),
            chats: chats::App::from_env().unwrap(),
            chat_users: chat_users::App::from_env().unwrap(),
            chat_messages: chat_messages::App::from_env().unwrap(),
            webhooks: webhooks::App::from_env().unwrap(),
        }
    }

    /// Renders `events/<file>` with `vars`, runs it through its function's handler.
    async fn replay(&self, file: &str, vars: &HashMap<&str, String>) -> (u16, Value) {
        let text = render(file, vars.iter().map(|(k, v)| (*k, v.as_str())));
        let request = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("{file} is not an API Gateway event: {e}"));
        let function = file.split('/').next().unwrap();
        let response: Response<Body> = match function {
            "current-user" => current_user::handle(&self.current_user, request).await,
            "tokens" => tokens::handle(&self.tokens, request).await,
            "companies" => companies::handle(&self.companies, request).await,
            "chats" => chats::handle(&self.chats, request).await,
            "chat-users" => chat_users::handle(&self.chat_users, request).await,
            "chat-messages" => chat_messages::handle(&self.chat_messages, request).await,
            "webhooks" => webhooks::handle(&self.webhooks, request).await,
            other => panic!("no function {other}"),
        };
        assert_eq!(
            response.headers()["x-request-id"],
            serde_json::from_str::<Value>(&text).unwrap()["requestContext"]["requestId"]
                .as_str()
                .unwrap(),
            "{file}: the request id is API Gateway's"
        );
        // The unsubscribe pages are for people: HTML. Everything else is JSON.
        let content_type = response.headers()["content-type"].to_str().unwrap();
        let body: Value = if content_type.starts_with("text/html") {
            Value::String(String::from_utf8_lossy(response.body().as_ref()).into_owned())
        } else {
            assert_eq!(content_type, "application/json", "{file}");
            serde_json::from_slice(response.body().as_ref()).unwrap()
        };
        (response.status().as_u16(), body)
    }

    async fn expect(&self, file: &str, vars: &HashMap<&str, String>, status: u16) -> Value {
        let (got, body) = self.replay(file, vars).await;
        assert_eq!(got, status, "{file}: {body}");
        body
    }
}

fn id_of(body: &Value) -> String {
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[test]
fn every_event_fixture_runs_through_its_handler() {
    // Every handler polled in one test: a debug build's deep poll frames outgrow a test
    // thread's 2 MiB stack (a Lambda's main thread has 8 MiB, and release frames are small).
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(replay_every_http_fixture())
        })
        .unwrap()
        .join()
        .unwrap()
}

async fn replay_every_http_fixture() {
    let apps = Apps::new().await;
    let op = operator("events").await;
    let mut vars: HashMap<&str, String> = HashMap::new();
    vars.insert("EMAIL", op.email.clone());
    vars.insert("PASSWORD", op.password.clone());
    vars.insert("API_TOKEN", op.token.clone());

    // Tokens: log in, list, revoke the new one.
    let created = apps.expect("tokens/create.json", &vars, 201).await;
    remember_secret(created["data"]["token"].as_str().unwrap());
    vars.insert(
        "TOKEN_ID",
        created["data"]["api_token"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    apps.expect("tokens/list.json", &vars, 200).await;
    apps.expect("tokens/delete.json", &vars, 200).await;
    let me = apps.expect("current-user/user.json", &vars, 200).await;
    assert_eq!(me["data"]["email"], op.email.as_str());

    // Companies: the full cycle on one, then a second one for the chats.
    let company = apps.expect("companies/create.json", &vars, 201).await;
    vars.insert("COMPANY_ID", id_of(&company));
    apps.expect("companies/get.json", &vars, 200).await;
    let availability = apps.expect("companies/availability.json", &vars, 200).await;
    assert_eq!(
        availability["data"]["open_now"], true,
        "no business hours: always open"
    );
    let team_ticket = apps
        .expect("companies/realtime-ticket.json", &vars, 201)
        .await;
    let url = team_ticket["data"]["url"].as_str().unwrap();
    remember_secret(url.split("ticket=").nth(1).unwrap());
    apps.expect("companies/list.json", &vars, 200).await;
    apps.expect("companies/update.json", &vars, 200).await;
    apps.expect("companies/delete.json", &vars, 200).await;
    let company = apps.expect("companies/create.json", &vars, 201).await;
    vars.insert("COMPANY_ID", id_of(&company));

    // The team: an invitation withdrawn, another accepted with a new account, and the
    // new member made an admin.
    let invitee = unique_email("events-invitee");
    vars.insert("INVITEE_EMAIL", invitee.clone());
    let withdrawn = apps.expect("companies/invite.json", &vars, 201).await;
    vars.insert("MEMBER_ID", id_of(&withdrawn));
    apps.expect("companies/member-remove.json", &vars, 200)
        .await;
    apps.expect("companies/invite.json", &vars, 201).await;
    let code = invitation_code(&invitee).await;
    vars.insert("INVITATION_CODE", code);
    let password = format!("harbour kettle {}", ulid::Ulid::new());
    remember_secret(&password);
    vars.insert("INVITEE_PASSWORD", password);
    let accepted = apps
        .expect("companies/accept-invitation.json", &vars, 201)
        .await;
    remember_secret(accepted["data"]["token"].as_str().unwrap());
    vars.insert(
        "MEMBER_ID",
        accepted["data"]["user"]["id"].as_str().unwrap().to_owned(),
    );
    let promoted = apps
        .expect("companies/member-update.json", &vars, 200)
        .await;
    assert_eq!(promoted["data"]["role"], "admin");
    let team = apps.expect("companies/members.json", &vars, 200).await;
    assert_eq!(team["data"].as_array().unwrap().len(), 2);

    // Webhooks: one to delete, one that receives this chat's events (checked at the end).
    let receiver = Receiver::start(&[]).await;
    vars.insert("WEBHOOK_URL", receiver.url.clone());
    let doomed = apps.expect("webhooks/create.json", &vars, 201).await;
    remember_secret(doomed["data"]["secret"].as_str().unwrap());
    vars.insert("WEBHOOK_ID", id_of(&doomed));
    apps.expect("webhooks/delete.json", &vars, 200).await;
    let webhook = apps.expect("webhooks/create.json", &vars, 201).await;
    remember_secret(webhook["data"]["secret"].as_str().unwrap());
    vars.insert("WEBHOOK_ID", id_of(&webhook));
    apps.expect("webhooks/get.json", &vars, 200).await;
    apps.expect("webhooks/list.json", &vars, 200).await;
    let every = apps.expect("webhooks/update.json", &vars, 200).await;
    assert!(every["data"]["events"].is_null(), "null: every event type");
    let rotated = apps.expect("webhooks/rotate-secret.json", &vars, 200).await;
    remember_secret(rotated["data"]["secret"].as_str().unwrap());

    // Chats: one to delete, one to keep.
    vars.insert("CHAT_PASSWORD", "kettle-club-2026".to_owned());
    let doomed = apps.expect("chats/create.json", &vars, 201).await;
    vars.insert("CHAT_ID", id_of(&doomed));
    apps.expect("chats/delete.json", &vars, 200).await;
    let chat = apps.expect("chats/create.json", &vars, 201).await;
    vars.insert("CHAT_ID", id_of(&chat));
    apps.expect("chats/get.json", &vars, 200).await;
    let list = apps.expect("chats/list.json", &vars, 200).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    apps.expect("chats/update.json", &vars, 200).await;
    let share = apps.expect("chats/share.json", &vars, 200).await;
    assert_eq!(share["data"]["password"], "kettle-club-2026");
    apps.expect("chats/share-api-alias.json", &vars, 200).await;

    // Chat users: the owner adds one (with a code by email), a guest joins by password.
    let guest_email = unique_email("events-guest");
    vars.insert("EMAIL", guest_email.clone());
    let chat_user = apps.expect("chat-users/create.json", &vars, 201).await;
    vars.insert("CHAT_USER_ID", id_of(&chat_user));
    vars.insert("AUTH_CODE", latest_code(&guest_email).await);
    let exchanged = apps.expect("chat-users/get-token.json", &vars, 200).await;
    remember_secret(exchanged["data"]["token"].as_str().unwrap());
    apps.expect("chat-users/list.json", &vars, 200).await;
    apps.expect("chat-users/get.json", &vars, 200).await;
    apps.expect("chat-users/update.json", &vars, 200).await;
    let minted = apps.expect("chat-users/token.json", &vars, 201).await;
    let chat_user_token = minted["data"]["token"].as_str().unwrap().to_owned();
    remember_secret(&chat_user_token);
    vars.insert("CHAT_USER_TOKEN", chat_user_token);
    let me = apps.expect("current-user/chat-user.json", &vars, 200).await;
    assert_eq!(me["data"]["chat"]["id"], vars["CHAT_ID"].as_str());

    let joiner = unique_email("events-joiner");
    vars.insert("EMAIL", joiner.clone());
    apps.expect("chat-users/send-code.json", &vars, 202).await;
    vars.insert("AUTH_CODE", latest_code(&joiner).await);
    apps.expect("chat-users/get-token-api-alias.json", &vars, 200)
        .await;
    // The alias of send-code, for a known email: 202 (and it is within the resend
    // throttle, so 429 right after a send would also be a correct answer: use a new one).
    let known = unique_email("events-known");
    let mut other = vars.clone();
    other.insert("EMAIL", known.clone());
    apps.expect("chat-users/send-code.json", &other, 202).await;
    let unknown = unique_email("events-unknown");
    other.insert("EMAIL", unknown.clone());
    apps.expect("chat-users/send-code-api-alias.json", &other, 202)
        .await;
    assert!(
        emails_to(&unknown).await.is_empty(),
        "nothing goes to an unknown address"
    );

    // Messages.
    let message = apps.expect("chat-messages/create.json", &vars, 201).await;
    let repeat = apps.expect("chat-messages/create.json", &vars, 200).await;
    assert_eq!(
        id_of(&message),
        id_of(&repeat),
        "the client_id makes it idempotent"
    );
    vars.insert("MESSAGE_ID", id_of(&message));
    apps.expect("chat-messages/list.json", &vars, 200).await;
    apps.expect("chat-messages/get.json", &vars, 200).await;
    let edited = apps.expect("chat-messages/update.json", &vars, 200).await;
    assert!(edited["data"]["edited_at"].is_string());
    apps.expect("chat-messages/delete.json", &vars, 200).await;
    // An upload slot: a presigned POST pinned to its key, type and size.
    let slot = apps.expect("chat-messages/upload.json", &vars, 201).await;
    assert_eq!(slot["data"]["upload"]["method"], "POST");
    remember_secret(
        slot["data"]["upload"]["fields"]["x-amz-signature"]
            .as_str()
            .unwrap(),
    );

    // The live conversation: its log, a WebSocket ticket, the read marker.
    let log = apps.expect("chat-messages/events.json", &vars, 200).await;
    let types: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    // Created, edited, deleted: the delete leaves its tombstone in all three.
    assert!(
        types.ends_with(&["message.deleted", "message.deleted", "message.deleted"]),
        "{types:?}"
    );
    // The support desk: a visitor at the company's front door (by code, and vouched for
    // by the site), then the conversation assigned, its status, and the inbox.
    let visitor = unique_email("events-visitor");
    vars.insert("VISITOR_EMAIL", visitor.clone());
    apps.expect("chat-users/conversation-send-code.json", &vars, 202)
        .await;
    vars.insert("AUTH_CODE", latest_code(&visitor).await);
    let opened = apps
        .expect("chat-users/conversation-get-token.json", &vars, 200)
        .await;
    remember_secret(opened["data"]["token"].as_str().unwrap());
    assert_eq!(opened["data"]["chat"]["kind"], "conversation");
    let secret = apps
        .expect("companies/identity-secret.json", &vars, 201)
        .await;
    let secret = secret["data"]["secret"].as_str().unwrap().to_owned();
    remember_secret(&secret);
    let identity = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({ "sub": "events-user", "exp": domain::clock::now_millis() / 1000 + 600 }),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    remember_secret(&identity);
    vars.insert("IDENTITY_TOKEN", identity);
    let identified = apps.expect("chat-users/identify.json", &vars, 200).await;
    remember_secret(identified["data"]["token"].as_str().unwrap());
    vars.insert(
        "CONVERSATION_ID",
        opened["data"]["chat"]["id"].as_str().unwrap().to_owned(),
    );
    vars.insert("USER_ID", op.id.clone());
    let assigned = apps.expect("chats/assign.json", &vars, 200).await;
    assert_eq!(assigned["data"]["assignee_id"], op.id.as_str());
    apps.expect("chats/status.json", &vars, 200).await;
    let inbox = apps.expect("chats/inbox.json", &vars, 200).await;
    assert_eq!(inbox["data"][0]["id"], vars["CONVERSATION_ID"].as_str());

    let ticket = apps.expect("chats/realtime-ticket.json", &vars, 201).await;
    assert!(ticket["data"]["url"].as_str().unwrap().starts_with("ws://"));
    let read = apps.expect("chat-users/read.json", &vars, 200).await;
    assert_eq!(read["data"]["last_read_seq"], 1);

    // The owner revokes the chat user's tokens: the one minted above stops working.
    let revoked = apps
        .expect("chat-users/revoke-tokens.json", &vars, 200)
        .await;
    assert_eq!(revoked["data"]["id"], vars["CHAT_USER_ID"].as_str());
    apps.expect("current-user/chat-user.json", &vars, 401).await;
    let minted = apps.expect("chat-users/token.json", &vars, 201).await;
    let chat_user_token = minted["data"]["token"].as_str().unwrap().to_owned();
    remember_secret(&chat_user_token);
    vars.insert("CHAT_USER_TOKEN", chat_user_token);

    // Email: a transcript for the chat user, its unsubscribe page and one-click POST.
    apps.expect("chat-users/transcript.json", &vars, 202).await;
    let token = keys()
        .await
        .unsubscribe_token(&vars["CHAT_ID"], &vars["CHAT_USER_ID"])
        .await
        .unwrap();
    remember_secret(&token);
    vars.insert("UNSUBSCRIBE_TOKEN", token);
    let page = apps
        .expect("chat-users/unsubscribe-page.json", &vars, 200)
        .await;
    assert!(page.as_str().unwrap().contains("<form method=\"post\""));
    apps.expect("chat-users/unsubscribe.json", &vars, 200).await;

    // The webhook received this chat's events: its delivery log lists them; one is retried.
    assert!(
        !receiver.wait_for(1, 30).await.is_empty(),
        "the webhook received the chat's events"
    );
    // One whose attempt is over (a retry is refused while one is pending).
    let mut settled = None;
    for _ in 0..100 {
        let log = apps.expect("webhooks/deliveries.json", &vars, 200).await;
        settled = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|delivery| delivery["status"] != "pending")
            .map(|delivery| delivery["id"].as_str().unwrap().to_owned());
        if settled.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    vars.insert("DELIVERY_ID", settled.expect("a delivery settles"));
    apps.expect("webhooks/retry-delivery.json", &vars, 202)
        .await;

    // Personal data: a chat user the owner adds (with a code) exports its own data with
    // that code, then erases itself with a fresh one; the owner exports another email.
    let mut own = vars.clone();
    let erasing = unique_email("events-erasing");
    own.insert("EMAIL", erasing.clone());
    apps.expect("chat-users/create.json", &own, 201).await;
    own.insert("AUTH_CODE", latest_code(&erasing).await);
    let exported = apps.expect("chat-users/export-data.json", &own, 200).await;
    assert_eq!(exported["data"]["chats"].as_array().unwrap().len(), 1);
    apps.expect("chat-users/send-code-api-alias.json", &own, 202)
        .await;
    own.insert("AUTH_CODE", latest_code(&erasing).await);
    let erased = apps.expect("chat-users/erase-data.json", &own, 200).await;
    assert_eq!(erased["data"]["erased"]["chat_users"], 1);
    let exported = apps.expect("companies/export-data.json", &vars, 200).await;
    assert_eq!(
        exported["data"]["chats"][0]["chat"]["id"],
        vars["CHAT_ID"].as_str()
    );

    apps.expect("chat-users/delete.json", &vars, 200).await;
    // Its token died with it.
    apps.expect("current-user/chat-user.json", &vars, 401).await;
    // The owner erases the guest who joined by password; a second time finds nothing.
    let mut joined = vars.clone();
    joined.insert("EMAIL", joiner);
    let erased = apps.expect("companies/erase-data.json", &joined, 200).await;
    assert_eq!(erased["data"]["erased"]["chat_users"], 1);
    let again = apps.expect("companies/erase-data.json", &joined, 200).await;
    assert_eq!(again["data"]["erased"]["chat_users"], 0);
}

#[test]
fn every_route_has_an_event_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut covered = std::collections::BTreeSet::new();
    for function in std::fs::read_dir(&dir).unwrap() {
        let function = function.unwrap().path();
        let name = function.file_name().unwrap().to_string_lossy().into_owned();
        // The event functions take WebSocket, stream and queue events, not HTTP ones.
        if !function.is_dir() || api_tests::catalog::EVENT_FUNCTIONS.contains(&name.as_str()) {
            continue;
        }
        for file in std::fs::read_dir(&function).unwrap() {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            let event: Value = serde_json::from_str(&text).unwrap();
            let route_key = event["routeKey"].as_str().unwrap();
            let method = event["requestContext"]["http"]["method"].as_str().unwrap();
            let path = route_key.trim_start_matches("ANY ");
            covered.insert((method.to_owned(), path.to_owned()));
        }
    }
    for (path, method) in api_tests::catalog::operations() {
        assert!(
            covered.contains(&(method.clone(), path.clone())),
            "no event fixture for {method} {path}"
        );
    }
}

/// The widget's fixtures through its handler (no AWS behind it): the script as a browser
/// asks for it (gzip), its revalidation (304), the demo pages of a chat and a company, and
/// the operators' console (its page and its versioned script).
#[tokio::test]
async fn the_widget_fixtures_replay_through_its_handler() {
    let version = widget::version().to_owned();
    let console_version = widget::console_version().to_owned();
    let chat = domain::ids::ChatId::new().to_string();
    let company = domain::ids::CompanyId::new().to_string();
    let vars = [
        ("WIDGET_VERSION", version.as_str()),
        ("CONSOLE_VERSION", console_version.as_str()),
        ("CHAT_ID", chat.as_str()),
        ("COMPANY_ID", company.as_str()),
    ];
    let replay = |file: &'static str| {
        let text = render(file, vars);
        async move {
            let request = lambda_http::request::from_str(&text)
                .unwrap_or_else(|e| panic!("{file} is not an API Gateway event: {e}"));
            widget::handle(request).await
        }
    };
    let script = replay("widget/script.json").await;
    assert_eq!(script.status(), 200);
    assert_eq!(script.headers()["content-encoding"], "gzip");
    assert_eq!(script.body().as_ref(), widget::SCRIPT_GZIP);
    assert_eq!(script.headers()["x-request-id"], "2bAOWdAhXMSLqA==");
    let revalidated = replay("widget/script-not-modified.json").await;
    assert_eq!(revalidated.status(), 304);
    assert_eq!(revalidated.headers()["cache-control"], widget::IMMUTABLE);
    let page = replay("widget/demo.json").await;
    assert_eq!(page.status(), 200);
    let html = std::str::from_utf8(page.body().as_ref()).unwrap();
    assert!(html.contains(&format!("data-chat-id=\"{chat}\"")));
    let page = replay("widget/company-demo.json").await;
    assert_eq!(page.status(), 200);
    let html = std::str::from_utf8(page.body().as_ref()).unwrap();
    assert!(html.contains(&format!("data-company-id=\"{company}\"")));
    assert!(html.contains("-visitor-2\""));
    let console = replay("widget/console.json").await;
    assert_eq!(console.status(), 200);
    let html = std::str::from_utf8(console.body().as_ref()).unwrap();
    assert!(html.contains(&format!("/console.js?v={console_version}")));
    let script = replay("widget/console-script.json").await;
    assert_eq!(script.status(), 200);
    assert_eq!(script.headers()["cache-control"], widget::IMMUTABLE);
    assert_eq!(script.body().as_ref(), widget::CONSOLE_SCRIPT_GZIP);
}

/// `events/<file>` with its `{{PLACEHOLDERS}}` filled in from `vars`.
fn render<'a>(file: &str, vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    for (name, value) in vars {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(
        !text.contains("{{"),
        "{file}: a placeholder was left: {text}"
    );
    text
}

/// A fixture that is not an HTTP event, rendered and parsed as `T`.
fn fixture<T: serde::de::DeserializeOwned>(file: &str, vars: &[(&str, &str)]) -> T {
    serde_json::from_str(&render(file, vars.iter().copied()))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The WebSocket route and stream fixtures through the `realtime` and `fanout` handlers:
/// a socket's life (ticket, frames, close) and a stream batch of each kind.
#[tokio::test]
async fn the_websocket_and_stream_fixtures_replay_through_their_handlers() {
    let realtime = realtime::App::from_env().unwrap();
    let fanout = fanout::App::from_env().unwrap();
    let owner = operator("events-live").await;
    let company = company(&owner, "Fixtures Live").await;
    let chat = chat(&owner, &company, None).await;
    // The owner's ticket, as the API mints it (bound to its API token).
    let url = call("POST", &format!("/api/chats/{chat}/realtime-ticket"))
        .api(&owner.token)
        .send()
        .await
        .expect(201)
        .data()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let ticket = url.split("ticket=").nth(1).unwrap().to_owned();
    remember_secret(&ticket);
    // A connection id the local WebSocket API has never seen: frames to it are "gone".
    let connection = "Zml4dHVyZS1zb2NrZXQ=";
    let vars = [
        ("CONNECTION_ID", connection),
        ("TICKET", ticket.as_str()),
        ("CHAT_ID", chat.as_str()),
    ];
    let status = |reply: realtime::RouteReply| reply.status_code;
    let registered = |id: &'static str| {
        let db = realtime.ctx.db.clone();
        async move { db.sockets().connection(id).await.unwrap().is_some() }
    };

    let connect = fixture("realtime/connect.json", &vars);
    assert_eq!(status(realtime::handle(&realtime, connect).await), 200);
    // The same $connect again (an SDK retry) is the same connection; another connection
    // with the same ticket is refused.
    let retried = fixture("realtime/connect.json", &vars);
    assert_eq!(
        status(realtime::handle(&realtime, retried).await),
        200,
        "idempotent"
    );
    let other = [("CONNECTION_ID", "YW5vdGhlci1zb2NrZXQ="), vars[1], vars[2]];
    let again = fixture("realtime/connect.json", &other);
    assert_eq!(
        status(realtime::handle(&realtime, again).await),
        401,
        "single use"
    );
    assert!(registered(connection).await);
    for frame in ["realtime/ping.json", "realtime/typing.json"] {
        assert_eq!(
            status(realtime::handle(&realtime, fixture(frame, &vars)).await),
            200
        );
    }
    // The pong found the socket gone (410): the connection was forgotten.
    assert!(!registered(connection).await);
    let disconnect = fixture("realtime/disconnect.json", &vars);
    assert_eq!(status(realtime::handle(&realtime, disconnect).await), 200);

    // The same $connect fixture opens a team socket with a company's ticket; its ping
    // finds it gone and forgets it, as a chat's.
    let url = call("POST", &format!("/api/companies/{company}/realtime-ticket"))
        .api(&owner.token)
        .send()
        .await
        .expect(201)
        .data()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let team_ticket = url.split("ticket=").nth(1).unwrap().to_owned();
    remember_secret(&team_ticket);
    let team_connection = "dGVhbS1maXh0dXJl";
    let team_vars = [
        ("CONNECTION_ID", team_connection),
        ("TICKET", team_ticket.as_str()),
        ("CHAT_ID", chat.as_str()),
    ];
    let team_socket = |id: &'static str| {
        let db = realtime.ctx.db.clone();
        async move {
            matches!(
                db.sockets().socket(id).await.unwrap(),
                Some(storage::sockets::Socket::Team(_))
            )
        }
    };
    let connect = fixture("realtime/connect.json", &team_vars);
    assert_eq!(status(realtime::handle(&realtime, connect).await), 200);
    assert!(team_socket(team_connection).await);
    let ping = fixture("realtime/ping.json", &team_vars);
    assert_eq!(status(realtime::handle(&realtime, ping).await), 200);
    assert!(!team_socket(team_connection).await);

    let vars = [vars[0], vars[1], vars[2], ("COMPANY_ID", company.as_str())];
    for batch in [
        "fanout/event-inserted.json",
        "fanout/connection-removed.json",
        "fanout/team-socket-removed.json",
    ] {
        let response = fanout::handle(&fanout, fixture(batch, &vars)).await;
        assert!(response.batch_item_failures.is_empty(), "{batch}");
    }
}

/// The stream and queue fixtures of the webhook and email functions through their
/// handlers: a new event dispatched to a company's endpoint, its delivery job sent to a
/// receiver, and an unread-message check.
#[tokio::test]
async fn the_webhook_and_email_fixtures_replay_through_their_handlers() {
    let dispatch = dispatch::App::from_env().unwrap();
    let deliver = deliver::App::from_env().unwrap();
    let notify = notify::App::from_env().unwrap();
    let owner = operator("events-hooks").await;
    let company = company(&owner, "Fixtures Hooks").await;
    let chat = chat(&owner, &company, None).await;
    let guest = member(&owner, &chat, "guest").await;
    let receiver = Receiver::start(&[]).await;
    let webhook = call("POST", &format!("/api/companies/{company}/webhooks"))
        .api(&owner.token)
        .json(serde_json::json!({ "url": receiver.url }))
        .send()
        .await
        .expect(201);
    remember_secret(webhook.data()["secret"].as_str().unwrap());
    let webhook_id = webhook.data()["id"].as_str().unwrap().to_owned();
    let mut vars = vec![
        ("CHAT_ID", chat.clone()),
        ("COMPANY_ID", company.clone()),
        ("USER_ID", owner.id.clone()),
        ("WEBHOOK_ID", webhook_id.clone()),
        ("CHAT_USER_ID", guest.id.clone()),
        // After the endpoint was created: older events are not sent to a new endpoint.
        ("EVENT_AT", domain::clock::now_rfc3339()),
    ];
    let render_with = |file: &str, vars: &[(&str, String)]| {
        render(file, vars.iter().map(|(k, v)| (*k, v.as_str())))
    };

    let batch = serde_json::from_str(&render_with("dispatch/event-inserted.json", &vars)).unwrap();
    let response = dispatch::handle(&dispatch, batch).await;
    assert!(response.batch_item_failures.is_empty());
    // The fixture's event now has its delivery in the endpoint's log.
    let log = call(
        "GET",
        &format!("/api/companies/{company}/webhooks/{webhook_id}/deliveries"),
    )
    .api(&owner.token)
    .send()
    .await
    .expect(200);
    let delivery = log.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["seq"] == 1 && d["chat_id"] == chat.as_str())
        .expect("the dispatched event has its delivery")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    vars.push(("DELIVERY_ID", delivery.clone()));
    let job = serde_json::from_str(&render_with("deliver/job.json", &vars)).unwrap();
    let response = deliver::handle(&deliver, job).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(
        receiver
            .wait_for(1, 30)
            .await
            .iter()
            .any(|r| r.header("webhook-id") == delivery),
        "the job's delivery reached the receiver"
    );

    let job = serde_json::from_str(&render_with("notify/job.json", &vars)).unwrap();
    let response = notify::handle(&notify, job).await;
    assert!(response.batch_item_failures.is_empty());
}

/// The attachment-removed fixture through the lifecycle handler: both objects of the
/// attachment leave the bucket, and a replay (nothing left to delete) succeeds too.
#[tokio::test]
async fn the_attachment_removed_fixture_removes_its_objects() {
    let app = lifecycle::App::from_env().unwrap();
    let (chat, attachment) = (ulid::Ulid::new().to_string(), ulid::Ulid::new().to_string());
    let bucket = std::env::var("FILES_BUCKET").unwrap();
    let objects = |prefix: String| {
        let url = format!("{}/{bucket}?list-type=2&prefix={prefix}", moto_url());
        async move { http().get(url).send().await.unwrap().text().await.unwrap() }
    };
    for prefix in ["uploads", "files"] {
        http()
            .put(format!(
                "{}/{bucket}/{prefix}/{chat}/{attachment}",
                moto_url()
            ))
            .body("bytes")
            .send()
            .await
            .unwrap();
    }
    assert!(objects(format!("files/{chat}/")).await.contains("<Key>"));
    let vars = [
        ("CHAT_ID", chat.as_str()),
        ("ATTACHMENT_ID", attachment.as_str()),
    ];
    for _ in 0..2 {
        let response =
            lifecycle::handle(&app, fixture("lifecycle/attachment-removed.json", &vars)).await;
        assert!(response.batch_item_failures.is_empty());
    }
    for prefix in ["uploads", "files"] {
        assert!(
            !objects(format!("{prefix}/{chat}/")).await.contains("<Key>"),
            "{prefix}"
        );
    }
}

/// The purge fixture through its handler: a chat whose chat item is gone loses every
/// other item, and a replay of the record finds nothing left and does nothing wrong.
#[tokio::test]
async fn the_purge_fixture_replays_through_its_handler() {
    let purge = lifecycle::App::from_env().unwrap();
    let owner = operator("events-purge").await;
    let company = company(&owner, "Fixtures Purge").await;
    let chat = chat(&owner, &company, None).await;
    let guest = member(&owner, &chat, "guest").await;
    post_message(&chat, &guest.token, "soon gone").await;
    let partition = format!("CHAT#{chat}");
    let key = |sk: &str| {
        [
            ("PK".to_owned(), storage::s(&partition)),
            ("SK".to_owned(), storage::s(sk)),
        ]
        .into_iter()
        .collect()
    };
    // The chat item goes as `DELETE /api/chats/{id}` removes it (the company's count aside).
    dynamodb()
        .await
        .delete_item()
        .table_name(table_name())
        .set_key(Some(key("CHAT")))
        .send()
        .await
        .unwrap();
    let vars = [("CHAT_ID", chat.as_str())];
    for _ in 0..2 {
        let response =
            lifecycle::handle(&purge, fixture("lifecycle/chat-removed.json", &vars)).await;
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(items_in_partition(&partition).await, 0);
}

/// The company-removed fixture through the lifecycle handler: a deleted company's
/// members lose their entry for it, and its partition (members, invitations, webhook
/// endpoints) is gone. Twice: the second run finds nothing.
#[tokio::test]
async fn the_company_removal_fixture_purges_its_team() {
    let purge = lifecycle::App::from_env().unwrap();
    let owner = operator("events-company-gone").await;
    let company = company(&owner, "Gone Co").await;
    let invitee = unique_email("events-gone-member");
    call("POST", &format!("/api/companies/{company}/members"))
        .api(&owner.token)
        .json(serde_json::json!({ "email": invitee, "role": "agent" }))
        .send()
        .await
        .expect(201);
    let code = invitation_code(&invitee).await;
    let accepted = call("POST", "/api/invitations/accept")
        .json(serde_json::json!({
            "email": invitee, "code": code, "name": "Gone", "password": "lantern copper orbit"
        }))
        .send()
        .await
        .expect(201);
    remember_secret(accepted.data()["token"].as_str().unwrap());
    let member =
        domain::ids::UserId::parse(accepted.data()["user"]["id"].as_str().unwrap()).unwrap();
    let company_id = domain::ids::CompanyId::parse(&company).unwrap();
    call("DELETE", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    let vars = [
        ("COMPANY_ID", company.as_str()),
        ("OWNER_ID", owner.id.as_str()),
    ];
    for _ in 0..2 {
        let response =
            lifecycle::handle(&purge, fixture("lifecycle/company-removed.json", &vars)).await;
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(items_in_partition(&format!("COMPANY#{company}")).await, 0);
    let user = db().await.users().get(member).await.unwrap().unwrap();
    assert!(
        !user.memberships.contains_key(&company_id),
        "{:?}",
        user.memberships
    );
}

/// The retention fixture through the lifecycle handler: a company whose `retention_days`
/// changed has it copied onto its chats; a company change that is not one (its chat
/// count, say) changes nothing.
#[tokio::test]
async fn the_retention_fixture_replays_through_its_handler() {
    let app = lifecycle::App::from_env().unwrap();
    let owner = operator("events-retention").await;
    let company = company(&owner, "Fixtures Retention").await;
    let chat = chat(&owner, &company, None).await;
    let retention_of_chat = || async {
        chat_item(&chat)
            .await
            .get("retention_days")
            .map(|days| days.as_n().unwrap().to_owned())
    };
    let vars = [
        ("OWNER_ID", owner.id.as_str()),
        ("COMPANY_ID", company.as_str()),
        ("RETENTION_DAYS", "9"),
    ];
    let record: aws_lambda_events::dynamodb::Event =
        fixture("lifecycle/company-retention-changed.json", &vars);
    let response = lifecycle::handle(&app, record.clone()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(retention_of_chat().await.as_deref(), Some("9"));
    // The same images with the retention unchanged: nothing to copy.
    let mut unchanged = record;
    let images = &mut unchanged.records[0].change;
    images.new_image = images.old_image.clone();
    call("PUT", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .json(serde_json::json!({ "name": "Renamed" }))
        .send()
        .await
        .expect(200);
    let response = lifecycle::handle(&app, unchanged).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(retention_of_chat().await.as_deref(), Some("9"));
}

/// A chat of 20,000 items, purged by the real handler in one go. On a table of its own
/// without a stream: the local stand-in for DynamoDB Streams (moto) would otherwise hand
/// 20,000 removals to every stream consumer of the shared test stack and slow it for
/// minutes.
#[tokio::test]
async fn a_chat_of_twenty_thousand_items_is_purged() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PutRequest,
        ScalarAttributeType, WriteRequest,
    };
    let client = dynamodb().await;
    let table = format!("purge-{}", ulid::Ulid::new());
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("PK"))
        .attribute_definitions(attribute("SK"))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .send()
        .await
        .unwrap();
    let chat = domain::ids::ChatId::new().to_string();
    let partition = format!("CHAT#{chat}");
    let requests: Vec<WriteRequest> = (0..20_000)
        .map(|i| {
            let item = [
                ("PK".to_owned(), storage::s(&partition)),
                ("SK".to_owned(), storage::s(format!("MSG#{i:06}"))),
                ("body".to_owned(), storage::s(format!("message {i}"))),
            ]
            .into_iter()
            .collect();
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build()
        })
        .collect();
    for chunk in requests.chunks(25) {
        let output = client
            .batch_write_item()
            .request_items(&table, chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert!(output.unprocessed_items.unwrap_or_default().is_empty());
    }
    let mut purge = lifecycle::App::from_env().unwrap();
    purge.ctx.db = storage::Db::new(client.clone(), &table);
    let vars = [("CHAT_ID", chat.as_str())];
    let response = lifecycle::handle(&purge, fixture("lifecycle/chat-removed.json", &vars)).await;
    assert!(response.batch_item_failures.is_empty());
    let left = client
        .query()
        .table_name(&table)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", storage::s(&partition))
        .select(aws_sdk_dynamodb::types::Select::Count)
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(left.count, 0, "all 20,000 items are gone");
    client
        .delete_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
}

//! `realtime`: the WebSocket API's routes. `$connect` redeems a single-use ticket (from
//! `POST /api/chats/{id}/realtime-ticket`) and registers the socket on its chat, if the
//! access the ticket was minted under still holds and the socket caps have room;
//! `$disconnect` forgets it; `ping` answers `pong` (within [`PINGS`]); `typing` tells the
//! chat's other sockets (ephemeral: never stored, never in `/events`, at most once per
//! subscriber per 2 s however many sockets it holds), and the team sockets that see the
//! chat. Events themselves reach sockets through the `fanout` function, from the table's
//! stream.
//!
//! A ticket from `POST /api/companies/{id}/realtime-ticket` opens a team socket instead:
//! the company's chats that its member sees, as one stream. It answers pings; typing is
//! sent on a chat's own socket.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_lambda_events::query_map::QueryMap;
use domain::clock;
use domain::rate_limit::{Limit, Taken};
use domain::realtime::{
    ConnectionRecord, PINGS, Subscriber, TYPING, TeamSocketRecord, TeamTicketRecord, TicketRecord,
    over_socket_cap, over_team_socket_cap,
};
use edge::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use services::push::Delivery;
use storage::sockets::{Opened, Redeemed, Socket};

pub use edge::live::PushApp as App;

/// The WebSocket API's routes besides `$connect`, `$disconnect` and `$default`: the
/// `action` of a client frame (route selection `$request.body.action`).
pub const ACTIONS: [&str; 2] = ["ping", "typing"];

/// What the WebSocket API reads from a route's integration: on `$connect`, a status
/// other than 2xx refuses the socket.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RouteReply {
    pub status_code: u16,
}

/// A frame a client sends (the API's route selection reads the same `action`).
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "action", rename_all = "snake_case")]
enum ClientFrame {
    Ping,
    Typing,
}

/// Why a route was refused.
#[derive(Debug)]
enum Refusal {
    /// No ticket, or one used, expired or unknown.
    BadTicket,
    /// The ticket's chat is gone.
    ChatGone,
    /// The access the ticket was minted under is gone (token deleted or revoked, chat
    /// user removed).
    AccessGone,
    /// The subscriber or the chat holds as many sockets as it may.
    TooManySockets,
    Failed(ApiError),
}

impl<E: Into<ApiError>> From<E> for Refusal {
    fn from(err: E) -> Self {
        Refusal::Failed(err.into())
    }
}

pub async fn handle(app: &App, event: ApiGatewayWebsocketProxyRequest) -> RouteReply {
    let context = &event.request_context;
    let connection_id = context.connection_id.as_deref().unwrap_or_default();
    let route = context.route_key.as_deref().unwrap_or("$default");
    let result = match route {
        "$connect" => connect(app, connection_id, &event.query_string_parameters).await,
        "$disconnect" => disconnect(app, connection_id).await,
        _ => on_frame(app, connection_id, event.body.as_deref()).await,
    };
    // The log line never carries the query string: it holds the ticket.
    let status_code = match result {
        Ok(()) => 200,
        Err(Refusal::BadTicket) => 401,
        Err(Refusal::ChatGone) => 404,
        Err(Refusal::AccessGone) => 403,
        Err(Refusal::TooManySockets) => 429,
        Err(Refusal::Failed(err)) => {
            tracing::error!(route, error = %sdk::Chain(&err), "websocket route failed");
            err.status().as_u16()
        }
    };
    tracing::info!(route, status = status_code, "websocket route");
    RouteReply { status_code }
}

async fn connect(app: &App, connection_id: &str, query: &QueryMap) -> Result<(), Refusal> {
    let ticket = query.first("ticket").ok_or(Refusal::BadTicket)?;
    let now = clock::now_millis();
    let sockets = app.ctx.db.sockets();
    let ticket = match sockets
        .redeem_ticket(ticket, connection_id, now)
        .await?
        .ok_or(Refusal::BadTicket)?
    {
        Redeemed::Chat(ticket) => ticket,
        Redeemed::Team(ticket) => return connect_team(app, connection_id, ticket, now).await,
    };
    connect_chat(app, connection_id, ticket, now).await
}

async fn connect_chat(
    app: &App,
    connection_id: &str,
    ticket: TicketRecord,
    now: i64,
) -> Result<(), Refusal> {
    let sockets = app.ctx.db.sockets();
    let in_chat = sockets.of_chat(ticket.chat_id).await?;
    let operator_sockets = match ticket.subscriber {
        Subscriber::Owner(user) => sockets.of_operator(user, None).await?.len(),
        Subscriber::ChatUser(_) => 0,
    };
    if over_socket_cap(ticket.subscriber, &in_chat, operator_sockets).is_some() {
        return Err(Refusal::TooManySockets);
    }
    let connection = ConnectionRecord {
        connection_id: connection_id.to_owned(),
        chat_id: ticket.chat_id,
        subscriber: ticket.subscriber,
        name: ticket.name,
        connected_at_ms: now,
        grant: ticket.grant,
    };
    match sockets.open(&connection).await? {
        Opened::Opened => Ok(()),
        Opened::ChatGone => Err(Refusal::ChatGone),
        Opened::AccessGone => Err(Refusal::AccessGone),
    }
}

/// Opens a member's team socket, if its company and the member have room for one and
/// the token and membership it was minted under still hold.
async fn connect_team(
    app: &App,
    connection_id: &str,
    ticket: TeamTicketRecord,
    now: i64,
) -> Result<(), Refusal> {
    let sockets = app.ctx.db.sockets();
    let in_company = sockets.of_company(ticket.company_id).await?;
    if over_team_socket_cap(ticket.user_id, &in_company).is_some() {
        return Err(Refusal::TooManySockets);
    }
    let socket = TeamSocketRecord {
        connection_id: connection_id.to_owned(),
        company_id: ticket.company_id,
        user_id: ticket.user_id,
        token_id: ticket.token_id,
        sees: TeamSocketRecord::sees_of(ticket.membership),
        connected_at_ms: now,
    };
    match sockets.open_team(&socket, ticket.membership).await? {
        Opened::Opened => Ok(()),
        Opened::ChatGone | Opened::AccessGone => Err(Refusal::AccessGone),
    }
}

async fn disconnect(app: &App, connection_id: &str) -> Result<(), Refusal> {
    let sockets = app.ctx.db.sockets();
    let connection = match sockets.socket(connection_id).await? {
        Some(Socket::Chat(connection)) => Some(connection),
        Some(Socket::Team(socket)) => {
            sockets.forget_team(&socket).await?;
            None
        }
        None => None,
    };
    if let Some(connection) = connection {
        sockets.forget(&connection).await?;
        // Unread-message emails wait until a chat user has been away a while.
        if let Subscriber::ChatUser(chat_user) = connection.subscriber {
            let now = clock::now_millis();
            app.ctx
                .db
                .chat_users()
                .seen(connection.chat_id, chat_user, now)
                .await?;
        }
    }
    Ok(())
}

async fn on_frame(app: &App, connection_id: &str, body: Option<&str>) -> Result<(), Refusal> {
    let connection = match app.ctx.db.sockets().socket(connection_id).await? {
        Some(Socket::Chat(connection)) => connection,
        Some(Socket::Team(socket)) => return on_team_frame(app, &socket, body).await,
        // Closed meanwhile: nothing to answer.
        None => return Ok(()),
    };
    match body.and_then(|text| serde_json::from_str::<ClientFrame>(text).ok()) {
        Some(ClientFrame::Ping) => {
            if !within(app, &PINGS, &connection.connection_id).await? {
                return Ok(()); // past the socket's pings: unanswered
            }
            reply(app, &connection, json!({ "type": "pong" })).await
        }
        Some(ClientFrame::Typing) => typing(app, &connection).await,
        None => {
            let error = json!({
                "type": "error",
                "message": "Unknown frame: send {\"action\": \"ping\"} or {\"action\": \"typing\"}.",
            });
            reply(app, &connection, error).await
        }
    }
}

/// A team socket's frame: pings are answered as on a chat's socket; typing belongs to
/// one chat, so it is sent on that chat's socket.
async fn on_team_frame(
    app: &App,
    socket: &TeamSocketRecord,
    body: Option<&str>,
) -> Result<(), Refusal> {
    let frame = match body.and_then(|text| serde_json::from_str::<ClientFrame>(text).ok()) {
        Some(ClientFrame::Ping) => {
            if !within(app, &PINGS, &socket.connection_id).await? {
                return Ok(());
            }
            json!({ "type": "pong" })
        }
        Some(ClientFrame::Typing) => json!({
            "type": "error",
            "message": "A team stream does not type: send {\"action\": \"typing\"} on the chat's own socket.",
        }),
        None => json!({
            "type": "error",
            "message": "Unknown frame: send {\"action\": \"ping\"}.",
        }),
    };
    if app.pusher.send(&socket.connection_id, &frame).await? == Delivery::Gone {
        app.ctx.db.sockets().forget_team(socket).await?;
    }
    Ok(())
}

async fn reply(
    app: &App,
    connection: &ConnectionRecord,
    frame: serde_json::Value,
) -> Result<(), Refusal> {
    if app.pusher.send(&connection.connection_id, &frame).await? == Delivery::Gone {
        app.ctx.db.sockets().forget(connection).await?;
    }
    Ok(())
}

/// The typing notice of a socket's holder: `chat_user_id` is null for a member.
fn typing_frame(connection: &ConnectionRecord) -> serde_json::Value {
    // Who types, as a message names its author: the name is the socket's own (from its
    // ticket), so a notice reads nothing.
    let (chat_user_id, mut author) = match connection.subscriber {
        Subscriber::ChatUser(id) => (Some(id), json!({ "type": "guest", "id": id })),
        Subscriber::Owner(user) => (None, json!({ "type": "staff", "id": user })),
    };
    if let Some(name) = &connection.name {
        author["name"] = json!(name);
    }
    json!({ "type": "typing", "chat_user_id": chat_user_id, "author": author })
}

/// The same notice for a team stream, which hears every chat: it names the chat.
fn team_typing_frame(connection: &ConnectionRecord) -> serde_json::Value {
    let mut frame = typing_frame(connection);
    frame["chat_id"] = json!(connection.chat_id);
    frame
}

/// Counts one use of `limit` for `key`: whether it was within it.
async fn within(app: &App, limit: &Limit, key: &str) -> Result<bool, Refusal> {
    let taken = app
        .ctx
        .db
        .rate_counters()
        .take(limit, key, clock::now_millis())
        .await?;
    Ok(taken == Taken::Allowed)
}

async fn typing(app: &App, connection: &ConnectionRecord) -> Result<(), Refusal> {
    let subscriber = connection.subscriber;
    if !within(app, &TYPING, &subscriber.limit_key(connection.chat_id)).await? {
        return Ok(());
    }
    let frame = typing_frame(connection);
    let sockets = app.ctx.db.sockets().of_chat(connection.chat_id).await?;
    app.broadcast(&sockets, |other| {
        (other.connection_id != connection.connection_id).then(|| frame.clone())
    })
    .await?;
    let frame = team_typing_frame(connection);
    typing_to_team(app, connection, &frame).await
}

/// Tells the team sockets that see the chat (not the typing member's own).
async fn typing_to_team(
    app: &App,
    connection: &ConnectionRecord,
    frame: &serde_json::Value,
) -> Result<(), Refusal> {
    let Some(chat) = app.ctx.db.chats().get(connection.chat_id).await? else {
        return Ok(());
    };
    let team = app.ctx.db.sockets().of_company(chat.company_id).await?;
    let typist = match connection.subscriber {
        Subscriber::Owner(user) => Some(user),
        Subscriber::ChatUser(_) => None,
    };
    app.broadcast_team(&team, |socket| {
        (socket.sees_chat(&chat) && typist != Some(socket.user_id)).then(|| frame.clone())
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{ChatUserId, UserId};

    #[test]
    fn client_frames_are_read_by_their_action() {
        let frame = |text| serde_json::from_str::<ClientFrame>(text).ok();
        assert_eq!(frame(r#"{"action":"ping"}"#), Some(ClientFrame::Ping));
        assert_eq!(
            frame(r#"{"action":"typing","x":1}"#),
            Some(ClientFrame::Typing)
        );
        assert_eq!(frame(r#"{"action":"shout"}"#), None);
        assert_eq!(frame("not json"), None);
    }

    #[test]
    fn every_route_of_the_api_is_a_frame_this_function_reads() {
        for action in ACTIONS {
            let frame = json!({ "action": action }).to_string();
            assert!(
                serde_json::from_str::<ClientFrame>(&frame).is_ok(),
                "{action}"
            );
        }
    }

    fn socket(subscriber: Subscriber, name: Option<&str>) -> ConnectionRecord {
        ConnectionRecord {
            connection_id: "c".into(),
            chat_id: domain::ids::ChatId::new(),
            subscriber,
            name: name.map(str::to_owned),
            connected_at_ms: 0,
            grant: None,
        }
    }

    #[test]
    fn typing_names_its_author_as_messages_do() {
        let guest = ChatUserId::new();
        let ann = socket(Subscriber::ChatUser(guest), Some("Ann"));
        assert_eq!(
            typing_frame(&ann),
            json!({
                "type": "typing",
                "chat_user_id": guest,
                "author": { "type": "guest", "id": guest, "name": "Ann" },
            })
        );
        let member = UserId::new();
        let staff = typing_frame(&socket(Subscriber::Owner(member), Some("Sam")));
        assert!(staff["chat_user_id"].is_null());
        assert_eq!(
            staff["author"],
            json!({ "type": "staff", "id": member, "name": "Sam" })
        );
        // A socket opened before names were kept: the id alone.
        let unnamed = typing_frame(&socket(Subscriber::Owner(member), None));
        assert_eq!(unnamed["author"], json!({ "type": "staff", "id": member }));
        let team = team_typing_frame(&ann);
        assert_eq!(
            team,
            json!({
                "type": "typing",
                "chat_id": ann.chat_id,
                "chat_user_id": guest,
                "author": { "type": "guest", "id": guest, "name": "Ann" },
            })
        );
    }

    #[test]
    fn replies_carry_the_status_as_api_gateway_reads_it() {
        let reply = serde_json::to_value(RouteReply { status_code: 401 }).unwrap();
        assert_eq!(reply, json!({ "statusCode": 401 }));
    }
}

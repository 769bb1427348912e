//! Live delivery from a client's seat: realtime tickets, real WebSockets through the local
//! stack's bridge, and the event log they resume from.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::{call, post_message, remember_secret};

/// How long a pushed frame may take to arrive (the bridge polls the stream).
pub const PUSH_WAIT: Duration = Duration::from_secs(45);
/// How long to listen for a frame that must not come.
pub const QUIET_WAIT: Duration = Duration::from_millis(1500);

/// The URL a caller opens its socket with (the ticket is single-use).
pub async fn ticket_url(token: &str, chat: &str) -> String {
    let reply = call("POST", &format!("/api/chats/{chat}/realtime-ticket"))
        .bearer(token)
        .send()
        .await
        .expect(201);
    let url = reply.data()["url"].as_str().unwrap().to_owned();
    remember_secret(url.split("ticket=").nth(1).unwrap());
    url
}

pub struct Socket(pub WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Socket {
    pub async fn open(token: &str, chat: &str) -> Socket {
        Socket::open_url(&ticket_url(token, chat).await).await
    }

    pub async fn open_url(url: &str) -> Socket {
        let (stream, _) = connect_async(url).await.expect("the socket opens");
        Socket(stream)
    }

    pub async fn send(&mut self, frame: Value) {
        self.0
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("a frame goes out");
    }

    /// The next JSON frame within `wait`, or `None`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.0.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).ok(),
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Err(_) => return None,
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_))) => return None,
            }
        }
    }

    /// The next event frame above `baseline` (events of the setup may still be on
    /// their way when a test's socket opens), skipping typing notices.
    pub async fn next_event_after(&mut self, baseline: u64) -> Value {
        loop {
            let frame = self.next_within(PUSH_WAIT).await.expect("an event arrives");
            if frame["seq"].as_u64().is_some_and(|s| s > baseline) {
                return frame;
            }
        }
    }

    /// Whether the server closed this socket within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.0.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}

pub async fn post(token: &str, chat: &str, body: &str) -> Value {
    post_message(chat, token, body).await
}

pub async fn events_after(token: &str, chat: &str, after: u64) -> Vec<Value> {
    let reply = call("GET", &format!("/api/chats/{chat}/events"))
        .bearer(token)
        .query("after", &after.to_string())
        .send()
        .await
        .expect(200);
    reply.body["data"].as_array().unwrap().clone()
}

/// The chat's newest seq now.
pub async fn last_seq(token: &str, chat: &str) -> u64 {
    let reply = call("GET", &format!("/api/chats/{chat}/events"))
        .bearer(token)
        .query("per_page", "1")
        .send()
        .await
        .expect(200);
    reply.body["meta"]["last_seq"].as_u64().unwrap()
}

pub fn seq(event: &Value) -> u64 {
    event["seq"].as_u64().expect("a seq")
}

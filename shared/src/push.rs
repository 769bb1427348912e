//! Frames to WebSocket clients through the API Gateway management API
//! (`PostToConnection`, `DeleteConnection`). A connection can be gone at any moment
//! (its client left without a goodbye): that is an outcome, not an error.
//!
//! In AWS the endpoint is `https://{api}.execute-api.{region}.amazonaws.com/{stage}`;
//! locally it is the dev bridge (`infra/local/bridge.py`). Either way it comes from
//! `WEBSOCKET_MANAGEMENT_URL`.

use aws_config::SdkConfig;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::http::HttpResponse;
use aws_sdk_apigatewaymanagement::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures_util::StreamExt;
use serde::Serialize;

use crate::config::ConfigError;
use crate::db::realtime::ConnectionRecord;
use crate::error::ApiError;

/// Whether a frame reached its socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The socket is closed: forget the connection.
    Gone,
}

#[derive(Debug, Clone)]
pub struct Pusher {
    client: Client,
}

impl Pusher {
    /// The management client of the WebSocket API at `WEBSOCKET_MANAGEMENT_URL`.
    pub fn from_env(aws: &SdkConfig) -> Result<Self, ConfigError> {
        let url = std::env::var("WEBSOCKET_MANAGEMENT_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing("WEBSOCKET_MANAGEMENT_URL"))?;
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(aws)
            .endpoint_url(url)
            .build();
        Ok(Self {
            client: Client::from_conf(config),
        })
    }

    /// Sends one JSON frame.
    pub async fn send(
        &self,
        connection_id: &str,
        frame: &impl Serialize,
    ) -> Result<Delivery, ApiError> {
        let data = serde_json::to_vec(frame).map_err(ApiError::internal)?;
        let result = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(data))
            .send()
            .await;
        delivery(result, |e| e.is_gone_exception())
    }

    /// Closes a socket (its client gets a close frame; `$disconnect` follows).
    pub async fn close(&self, connection_id: &str) -> Result<Delivery, ApiError> {
        let result = self
            .client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await;
        delivery(result, |e| e.is_gone_exception())
    }
}

/// A management call's outcome: a gone socket is a `Delivery`, not an error.
fn delivery<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    is_gone: impl Fn(&E) -> bool,
) -> Result<Delivery, ApiError>
where
    E: std::error::Error + Send + Sync + ProvideErrorMetadata + 'static,
{
    match result {
        Ok(_) => Ok(Delivery::Sent),
        Err(err) if err.as_service_error().is_some_and(&is_gone) => Ok(Delivery::Gone),
        Err(err) => Err(err.into()),
    }
}

/// The state of a function that pushes frames (the WebSocket routes, the stream
/// fan-out); built once per instance by its `main`.
pub struct PushApp {
    pub ctx: crate::Context,
    pub pusher: Pusher,
}

impl PushApp {
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        // Tickets and connections are table items: no key to read.
        let (ctx, aws) = crate::Context::from_env_without_keys().await?;
        let pusher = Pusher::from_env(&aws)?;
        Ok(Self { ctx, pusher })
    }
}

/// Frames to many sockets at once, at most this many in flight.
const FAN_OUT_WIDTH: usize = 16;

/// Sends each connection the frame `frame_for` gives it (none: skipped), concurrently;
/// connections found gone are forgotten. Fails if any frame failed otherwise.
pub async fn broadcast<F>(
    pusher: &Pusher,
    db: &crate::db::Db,
    connections: &[ConnectionRecord],
    frame_for: F,
) -> Result<(), ApiError>
where
    F: Fn(&ConnectionRecord) -> Option<serde_json::Value>,
{
    let sends = connections.iter().filter_map(|connection| {
        let frame = frame_for(connection)?;
        Some(async move {
            match pusher.send(&connection.connection_id, &frame).await? {
                Delivery::Sent => Ok(()),
                Delivery::Gone => db.forget_connection(connection).await,
            }
        })
    });
    let results: Vec<Result<(), ApiError>> = futures_util::stream::iter(sends)
        .buffer_unordered(FAN_OUT_WIDTH)
        .collect()
        .await;
    results.into_iter().collect()
}

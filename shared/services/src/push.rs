//! Frames to WebSocket clients through the API Gateway management API
//! (`PostToConnection`, `DeleteConnection`). A connection can be gone at any moment
//! (its client left without a goodbye): that is an outcome, not an error.
//!
//! In AWS the endpoint is `https://{api}.execute-api.{region}.amazonaws.com/{stage}`;
//! locally it is the dev bridge (`infra/local/bridge`). Either way it comes from
//! `WEBSOCKET_MANAGEMENT_URL` (read by the edge's config).

use aws_config::SdkConfig;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::http::HttpResponse;
use aws_sdk_apigatewaymanagement::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewaymanagement::primitives::Blob;
use domain::realtime::OpenSocket;
use futures_util::StreamExt;
use serde::Serialize;

use crate::ServiceError;

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
    /// The management client of the WebSocket API at `url`.
    pub fn new(aws: &SdkConfig, url: String) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(aws)
            .endpoint_url(url)
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// Sends one JSON frame.
    pub async fn send(
        &self,
        connection_id: &str,
        frame: &impl Serialize,
    ) -> Result<Delivery, ServiceError> {
        let data = serde_json::to_vec(frame).map_err(|e| ServiceError::encode("a frame", e))?;
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
    pub async fn close(&self, connection_id: &str) -> Result<Delivery, ServiceError> {
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
) -> Result<Delivery, ServiceError>
where
    E: std::error::Error + Send + Sync + ProvideErrorMetadata + 'static,
{
    match result {
        Ok(_) => Ok(Delivery::Sent),
        Err(err) if err.as_service_error().is_some_and(&is_gone) => Ok(Delivery::Gone),
        Err(err) => Err(ServiceError::Aws(sdk::Failure::of(err))),
    }
}

/// Frames to many sockets at once, at most this many in flight.
const FAN_OUT_WIDTH: usize = 16;

/// What a broadcast found: the sockets that were gone (for the caller to forget), and
/// the first frame that failed otherwise, if one did.
#[derive(Debug)]
pub struct Broadcast<'c, C> {
    pub gone: Vec<&'c C>,
    pub failure: Option<ServiceError>,
}

/// Sends each socket (a chat's or a team's) the frame `frame_for` gives it (none:
/// skipped), concurrently.
pub async fn broadcast<'c, C, F, T>(
    pusher: &Pusher,
    connections: &'c [C],
    frame_for: F,
) -> Broadcast<'c, C>
where
    C: OpenSocket,
    F: Fn(&C) -> Option<T>,
    T: Serialize,
{
    let sends = connections.iter().filter_map(|connection| {
        let frame = frame_for(connection)?;
        Some(async move {
            (
                connection,
                pusher.send(connection.connection_id(), &frame).await,
            )
        })
    });
    let results: Vec<_> = futures_util::stream::iter(sends)
        .buffer_unordered(FAN_OUT_WIDTH)
        .collect()
        .await;
    let mut outcome = Broadcast {
        gone: Vec::new(),
        failure: None,
    };
    for (connection, result) in results {
        match result {
            Ok(Delivery::Sent) => {}
            Ok(Delivery::Gone) => outcome.gone.push(connection),
            Err(err) => {
                outcome.failure.get_or_insert(err);
            }
        }
    }
    outcome
}

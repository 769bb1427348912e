//! What the functions that push frames share (the WebSocket routes, the stream
//! fan-out): their state, and a broadcast that forgets the sockets it finds gone.

use domain::realtime::{ConnectionRecord, TeamSocketRecord};
use serde::Serialize;
use services::ServiceError;
use services::push::{self, Pusher};

use crate::api_error::ApiError;
use crate::context::Context;

/// The state of a function that pushes frames; built once per instance by its `main`.
pub struct PushApp {
    pub ctx: Context,
    pub pusher: Pusher,
}

impl PushApp {
    pub fn from_env() -> Result<Self, lambda_http::Error> {
        // Tickets and connections are table items: no key to read.
        let (ctx, aws) = Context::from_env_without_keys()?;
        let pusher = crate::config::pusher(&aws)?;
        Ok(Self { ctx, pusher })
    }

    /// Sends each connection the frame `frame_for` gives it (none: skipped),
    /// concurrently; connections found gone are forgotten. Fails if any frame failed
    /// otherwise (after forgetting the gone ones).
    pub async fn broadcast<F, T>(
        &self,
        connections: &[ConnectionRecord],
        frame_for: F,
    ) -> Result<(), ApiError>
    where
        F: Fn(&ConnectionRecord) -> Option<T>,
        T: Serialize,
    {
        let outcome = push::broadcast(&self.pusher, connections, frame_for).await;
        for connection in outcome.gone {
            self.ctx.db.sockets().forget(connection).await?;
        }
        failed(outcome.failure)
    }

    /// [`PushApp::broadcast`] to team sockets.
    pub async fn broadcast_team<F, T>(
        &self,
        sockets: &[TeamSocketRecord],
        frame_for: F,
    ) -> Result<(), ApiError>
    where
        F: Fn(&TeamSocketRecord) -> Option<T>,
        T: Serialize,
    {
        let outcome = push::broadcast(&self.pusher, sockets, frame_for).await;
        for socket in outcome.gone {
            self.ctx.db.sockets().forget_team(socket).await?;
        }
        failed(outcome.failure)
    }
}

fn failed(failure: Option<ServiceError>) -> Result<(), ApiError> {
    match failure {
        Some(failure) => Err(failure.into()),
        None => Ok(()),
    }
}

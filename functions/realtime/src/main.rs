//! Lambda entry point of the WebSocket API's routes: config and clients built once per instance.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    edge::runtime::init_tracing();
    let app = realtime::App::from_env()?;
    edge::event_sources::serve(|event| realtime::handle(&app, event)).await
}

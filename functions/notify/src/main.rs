//! Lambda entry point of the unread-message emails: config and clients built once per instance.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    edge::runtime::init_tracing();
    let app = notify::App::from_env()?;
    edge::event_sources::serve(|event| notify::handle(&app, event)).await
}

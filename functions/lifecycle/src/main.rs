//! Lambda entry point of the lifecycle consumer: config and clients built once per instance.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    edge::runtime::init_tracing();
    let app = lifecycle::App::from_env()?;
    edge::event_sources::serve(|event| lifecycle::handle(&app, event)).await
}

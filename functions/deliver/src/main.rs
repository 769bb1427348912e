//! Lambda entry point of webhook delivery: config and clients built once per instance.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    edge::runtime::init_tracing();
    let app = deliver::App::from_env()?;
    edge::event_sources::serve(|event| deliver::handle(&app, event)).await
}

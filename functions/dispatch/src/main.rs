//! Lambda entry point of the stream dispatcher: config and clients built once per instance.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    edge::runtime::init_tracing();
    let app = dispatch::App::from_env()?;
    edge::event_sources::serve(|event| dispatch::handle(&app, event)).await
}

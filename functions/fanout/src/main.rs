//! Lambda entry point of the stream fan-out: config and clients built once per instance.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    edge::runtime::init_tracing();
    let app = fanout::App::from_env()?;
    edge::event_sources::serve(|event| fanout::handle(&app, event)).await
}

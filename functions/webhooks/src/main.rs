//! Lambda entry point: config and AWS clients are built once per instance.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    edge::runtime::init_tracing();
    let app = webhooks::App::from_env()?;
    edge::runtime::serve(|request| webhooks::handle(&app, request)).await
}

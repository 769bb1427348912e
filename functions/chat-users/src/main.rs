//! Lambda entry point: config and AWS clients are built once per instance, then the
//! instance serves invocations until Lambda retires it.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    edge::runtime::init_tracing();
    let app = chat_users::App::from_env()?;
    edge::runtime::serve(|request| chat_users::handle(&app, request)).await
}

//! Lambda entry point: config and AWS clients are built once per instance, then the
//! instance serves invocations until Lambda retires it.

// The AWS SDK's futures nest deeply: a clean build needs more than the default 128.
#![recursion_limit = "256"]

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::init_tracing();
    let app = current_user::App::from_env().await?;
    shared::runtime::serve(|request| current_user::handle(&app, request)).await
}

//! Lambda entry point. The widget's answers are static: no configuration and no AWS
//! client to build, so a cold start is only the process start.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::init_tracing();
    shared::runtime::serve(widget::handle).await
}

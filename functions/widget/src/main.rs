//! Lambda entry point. The widget's answers are static: no configuration and no AWS
//! client to build, so a cold start is only the process start.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    edge::runtime::init_tracing();
    edge::runtime::serve(widget::handle).await
}

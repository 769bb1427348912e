//! The SDK floor without the keys secret read at init: beside `sdk-floor`, the cost of
//! that GetSecretValue in a cold start.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    chat_bench::floor::serve(false).await
}

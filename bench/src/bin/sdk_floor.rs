//! The SDK floor (see `chat_bench::floor`): the AWS config, the keys secret read at
//! init and the DynamoDB client as our functions build them, then the route's own
//! DynamoDB calls with no logic of ours.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    chat_bench::floor::serve(true).await
}

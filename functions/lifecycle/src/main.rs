//! Lambda entry point of the lifecycle consumer: config and clients built once per instance.
// The AWS SDK's futures nest deeply; a clean build needs more than the default 128.
#![recursion_limit = "256"]

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::runtime::init_tracing();
    let app = lifecycle::App::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| {
        let app = &app;
        async move { Ok::<_, lambda_runtime::Error>(lifecycle::handle(app, event.payload).await) }
    }))
    .await
}

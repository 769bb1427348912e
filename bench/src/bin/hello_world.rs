//! The floor: a `lambda_http` function that answers every request with a fixed JSON
//! body, built with the same profile and runtime flavour as the real functions.

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|_request: Request| async {
        Ok::<_, Error>(chat_bench::hello_response())
    }))
    .await
}

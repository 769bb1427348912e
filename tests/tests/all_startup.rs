//! A function that signs or verifies starts without waiting for its keys: the read of the
//! keys secret starts at init, and the requests that need a key wait for it. A secret that
//! cannot be read does not stop the start: those requests answer 503 (not a 500, not a
//! crash loop) and the next one reads again.

// The AWS SDK's futures nest deeply: a clean build needs more than the default 128.
#![recursion_limit = "256"]

use api_tests::*;
use edge::Context;
use edge::config::Config;

#[tokio::test]
async fn an_unreadable_keys_secret_is_a_503_until_it_can_be_read() {
    let secret_id = format!("chat-api-startup-{}", ulid::Ulid::new());
    let mut config = Config::from_env().expect("the test stack's configuration");
    config.keys_secret_id = Some(secret_id.clone());
    let ctx = Context::load(config, &aws().await).expect("the start does not wait for the keys");

    let refused = ctx.keys().await.expect_err("no such secret yet");
    assert_eq!(refused.status(), 503);

    // The secret appears (a copy of the stack's keys): the next request that needs a key
    // reads it, and signs with it.
    let stack_keys = secrets_manager()
        .await
        .get_secret_value()
        .secret_id(keys_secret_id())
        .send()
        .await
        .expect("the stack's keys secret");
    secrets_manager()
        .await
        .create_secret()
        .name(&secret_id)
        .secret_string(stack_keys.secret_string().expect("a string secret"))
        .send()
        .await
        .expect("the secret is created");
    let keys = ctx.keys().await.expect("read at the next request");
    assert_eq!(
        keys.current().await.kid(),
        stack_keys_kid().await,
        "the same keys as the stack's"
    );
}

async fn stack_keys_kid() -> String {
    keys().await.current().await.kid().to_owned()
}

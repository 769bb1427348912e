//! Run by `make test` after every other test: no token, code or password the tests
//! used, nor any key material, appears in anything the functions logged.

use serde_json::Value;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run `make test`"))
}

/// True when `code` stands alone in `text` (not inside a longer run of letters/digits).
fn contains_standalone(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let log = std::fs::read_to_string(env("FUNCTION_LOG")).expect("the functions' log");
    let secrets = std::fs::read_to_string(env("SECRETS_FILE")).expect("the secrets the tests used");
    let mut secrets: Vec<String> = secrets
        .lines()
        .map(str::to_owned)
        .filter(|s| !s.is_empty())
        .collect();
    // The keys' material as the tests left the secret (the rotation test also recorded
    // each key it saw in SECRETS_FILE).
    let stored = api_tests::stored_keys().await;
    secrets.push(stored.current);
    secrets.extend(stored.previous);
    assert!(
        secrets.len() > 50,
        "the tests recorded only {} secrets",
        secrets.len()
    );
    let handled = log.lines().filter(|l| l.contains("\"handled\"")).count();
    assert!(
        handled > 500,
        "only {handled} request log lines: is FUNCTION_LOG the right file?"
    );

    // Timestamps carry 6-digit fractions: compare codes against the rest of each line.
    let without_timestamps: String = log
        .lines()
        .map(|line| match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(mut fields)) => {
                fields.remove("timestamp");
                Value::Object(fields).to_string()
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    for secret in &secrets {
        let leaked = if secret.len() == 6 && secret.bytes().all(|b| b.is_ascii_digit()) {
            contains_standalone(&without_timestamps, secret)
        } else {
            log.contains(secret.as_str())
        };
        assert!(
            !leaked,
            "a secret ({} characters) appears in the function logs",
            secret.len()
        );
    }
}

#[test]
fn standalone_matching_ignores_longer_numbers() {
    assert!(contains_standalone("code 123456 sent", "123456"));
    assert!(contains_standalone("\"123456\"", "123456"));
    assert!(!contains_standalone("1234567", "123456"));
    assert!(!contains_standalone("ab123456", "123456"));
}

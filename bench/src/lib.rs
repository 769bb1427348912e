//! Shared by the benchmark binaries: the hello-world floor, the SDK floor, event
//! rendering, the local Lambda Runtime API and the functions run against it, and the
//! fixtures they post into.

pub mod fixture;
pub mod floor;
pub mod function;
pub mod runtime_api;

use std::path::Path;

use lambda_http::{Body, Response};

/// What the hello-world function and handler answer.
pub fn hello_response() -> Response<Body> {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(r#"{"message":"hello"}"#))
        .expect("a static response")
}

/// `events/<file>` with its `{{PLACEHOLDERS}}` filled in.
pub fn render_event(file: &str, vars: &[(&str, String)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    for (name, value) in vars {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(!text.contains("{{"), "{file}: a placeholder is left");
    text
}

/// Median, 10th and 90th percentile of a sample (sorted in place).
pub fn percentiles(samples: &mut [f64]) -> (f64, f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.1), at(0.9))
}

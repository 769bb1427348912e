//! The SDK floor and hello world of `make bench` (the `bench/` workspace) are built with
//! the functions' release profile, per-package overrides included: a floor optimised
//! differently would not be the floor of these functions. Cargo reads a profile only from
//! the root of the workspace it builds, so `bench/Cargo.toml` carries a copy; this test
//! fails when the copy drifts.

use std::path::Path;

/// The `[profile.release]` table of a manifest, its `package` overrides included.
fn release_profile(manifest: &str) -> toml::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(manifest);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{manifest}: {e}"));
    let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{manifest}: {e}"));
    table["profile"]["release"].clone()
}

#[test]
fn the_bench_workspace_builds_with_the_functions_release_profile() {
    let functions = release_profile("Cargo.toml");
    assert!(
        functions["package"]["aws-sdk-dynamodb"].is_table(),
        "the per-package overrides are read"
    );
    assert_eq!(release_profile("bench/Cargo.toml"), functions);
}

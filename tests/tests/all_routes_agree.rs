//! One source of truth for routes: each function's own `routes::ROUTES`, collected by
//! `api_tests::catalog`. The template, the
//! `cargo lambda watch` router and `openapi.yaml` say the same in their own formats;
//! these tests fail when any of them drifts, as when the workspace members or the
//! scripts' function list do. They also hold the template's table to
//! the key names the code (and `chat-admin table create`) uses.

use std::collections::BTreeSet;
use std::path::Path;

use api_tests::catalog::{self, EVENT_FUNCTIONS, WEBSOCKET_ACTIONS};
use serde_norway::Value as Yaml;
use storage::key as keys;

fn read(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn yaml(file: &str) -> Yaml {
    serde_norway::from_str(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every function binary: the HTTP ones of the route table, and the event-driven ones.
fn all_binaries() -> BTreeSet<String> {
    catalog::http_functions()
        .iter()
        .map(|f| f.binary)
        .chain(EVENT_FUNCTIONS)
        .map(str::to_owned)
        .collect()
}

/// `(path, binary)` pairs of the functions' routes.
fn code_routes() -> BTreeSet<(String, String)> {
    catalog::paths()
}

#[test]
fn the_template_routes_every_path_to_its_function() {
    let template = yaml("template.yaml");
    let mut routes = BTreeSet::new();
    let mut default_route = None;
    let mut binaries = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("every function names its binary")
            .to_owned();
        assert_eq!(
            resource["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda")
        );
        binaries.insert(binary.clone());
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if matches!(event["Type"].as_str(), Some("DynamoDB" | "SQS")) {
                // Stream and queue consumers: no HTTP route.
                assert!(EVENT_FUNCTIONS.contains(&binary.as_str()), "{binary}");
                continue;
            }
            assert_eq!(event["Type"].as_str(), Some("HttpApi"));
            let props = &event["Properties"];
            match props["Path"].as_str() {
                Some(path) => {
                    // ANY: the function answers 405 with Allow itself, for every method.
                    assert_eq!(props["Method"].as_str(), Some("ANY"), "{path}");
                    assert!(
                        routes.insert((path.to_owned(), binary.clone())),
                        "{path} twice in the template"
                    );
                }
                None => default_route = Some(binary.clone()),
            }
        }
    }
    assert_eq!(
        routes,
        code_routes(),
        "template.yaml vs the functions' routes"
    );
    assert_eq!(default_route.as_deref(), Some("current-user"));
    assert_eq!(binaries, all_binaries(), "one function per resource family");
}

#[test]
fn the_watch_router_matches_the_route_table() {
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("a [workspace.metadata.lambda.watch.router] table");
    let mut routes = BTreeSet::new();
    for (path, function) in router {
        let function = function
            .as_str()
            .expect("every method of a path to one function");
        if path == "/" || path == "/{*path}" {
            // The local twin of the template's $default route.
            assert_eq!(function, "current-user");
            continue;
        }
        routes.insert((path.clone(), function.to_owned()));
    }
    assert_eq!(
        routes,
        code_routes(),
        "Cargo.toml watch router vs the functions' routes"
    );
}

#[test]
fn openapi_documents_exactly_the_served_methods() {
    let doc = yaml("openapi.yaml");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, _) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if ["get", "post", "put", "delete", "patch", "head", "options"].contains(&method) {
                documented.insert((path.as_str().unwrap().to_owned(), method.to_uppercase()));
            }
        }
    }
    let served = catalog::operations();
    assert_eq!(documented, served, "openapi.yaml vs the functions' routes");
}

#[test]
fn the_templates_table_uses_the_codes_key_names() {
    let template = yaml("template.yaml");
    let table = &template["Resources"]["Table"];
    assert_eq!(table["Type"].as_str(), Some("AWS::DynamoDB::Table"));
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"));
    let props = &table["Properties"];
    assert_eq!(props["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    let key_schema = |schema: &Yaml| -> Vec<(String, String)> {
        schema
            .as_sequence()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["AttributeName"].as_str().unwrap().to_owned(),
                    k["KeyType"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pair = |a: &str, b: &str| {
        vec![
            (a.to_owned(), "HASH".to_owned()),
            (b.to_owned(), "RANGE".to_owned()),
        ]
    };
    assert_eq!(key_schema(&props["KeySchema"]), pair(keys::PK, keys::SK));
    let gsis = props["GlobalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(gsis.len(), 3);
    assert_eq!(gsis[0]["IndexName"].as_str(), Some(keys::GSI1));
    assert_eq!(
        key_schema(&gsis[0]["KeySchema"]),
        pair(keys::GSI1PK, keys::GSI1SK)
    );
    assert_eq!(
        gsis[0]["Projection"]["ProjectionType"].as_str(),
        Some("KEYS_ONLY")
    );
    // The inbox's indexes: keys plus what storage says each carries.
    for (gsi, (name, sort, projected)) in gsis[1..].iter().zip([
        (keys::GSI2, keys::GSI2SK, &keys::GSI2_PROJECTED[..]),
        (keys::GSI3, keys::GSI3SK, &keys::GSI3_PROJECTED[..]),
    ]) {
        assert_eq!(gsi["IndexName"].as_str(), Some(name));
        assert_eq!(key_schema(&gsi["KeySchema"]), pair(keys::GSI2PK, sort));
        assert_eq!(
            gsi["Projection"]["ProjectionType"].as_str(),
            Some("INCLUDE")
        );
        let declared: Vec<&str> = gsi["Projection"]["NonKeyAttributes"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|attr| attr.as_str().unwrap())
            .collect();
        assert_eq!(declared, projected, "{name}");
    }
    assert_eq!(
        props["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(keys::TTL)
    );
    assert_eq!(
        props["TimeToLiveSpecification"]["Enabled"].as_bool(),
        Some(true)
    );
}

/// The functions of the route table are the workspace's default members (what `sam
/// build` and `cargo lambda watch` build) and the list the local-stack scripts start.
#[test]
fn every_function_is_a_workspace_member_and_known_to_the_scripts() {
    let expected = all_binaries();
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let members: BTreeSet<String> = manifest["workspace"]["default-members"]
        .as_array()
        .expect("workspace.default-members")
        .iter()
        .filter_map(|m| m.as_str()?.strip_prefix("functions/").map(str::to_owned))
        .collect();
    assert_eq!(
        members, expected,
        "Cargo.toml default-members vs the functions"
    );
    let scripts = read("infra/local/common.sh");
    let line = scripts
        .lines()
        .find_map(|l| l.strip_prefix("FUNCTIONS=("))
        .expect("FUNCTIONS=(...) in infra/local/common.sh");
    let listed: BTreeSet<String> = line
        .trim_end_matches(')')
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        listed, expected,
        "infra/local/common.sh FUNCTIONS vs the functions"
    );
    let http_listed: BTreeSet<String> = scripts
        .lines()
        .find_map(|l| l.strip_prefix("HTTP_FUNCTIONS=("))
        .expect("HTTP_FUNCTIONS=(...) in infra/local/common.sh")
        .trim_end_matches(')')
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let http_expected: BTreeSet<String> = catalog::http_functions()
        .iter()
        .map(|f| f.binary.to_owned())
        .collect();
    assert_eq!(
        http_listed, http_expected,
        "infra/local/common.sh HTTP_FUNCTIONS vs the route table's functions"
    );
}

/// The WebSocket API's routes: the template's, the actions `asyncapi.yaml` lets clients
/// send, and the routes the local bridge selects are all the `realtime` function's `ACTIONS`
/// (plus the three `$` routes every WebSocket API has).
#[test]
fn the_websocket_routes_agree_everywhere() {
    let actions: BTreeSet<String> = WEBSOCKET_ACTIONS.iter().map(|a| a.to_string()).collect();
    let template = yaml("template.yaml");
    let mut template_routes = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() == Some("AWS::ApiGatewayV2::Route") {
            template_routes.insert(
                resource["Properties"]["RouteKey"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    let mut expected = actions.clone();
    expected.extend(["$connect", "$disconnect", "$default"].map(str::to_owned));
    assert_eq!(template_routes, expected, "template.yaml WebSocket routes");

    let asyncapi = yaml("asyncapi.yaml");
    let mut sent = BTreeSet::new();
    for (_, message) in asyncapi["components"]["messages"].as_mapping().unwrap() {
        if let Some(action) = message["payload"]["properties"]["action"]["const"].as_str() {
            sent.insert(action.to_owned());
        }
    }
    assert_eq!(sent, actions, "asyncapi.yaml client frames");

    let scripts = read("infra/local/common.sh");
    let bridge_routes: BTreeSet<String> = scripts
        .split("--routes ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("--routes in infra/local/common.sh")
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(bridge_routes, actions, "the local bridge's --routes");
}

//! The layers hold: each crate under `shared/` depends only on the layers below it (the
//! compiler then refuses an import that runs upward), functions depend on no other
//! function, and inside every crate the modules import each other without a circle.
//!
//! Read from the sources as text, which is enough for how this workspace writes its
//! imports (`use crate::x::…`, `crate::x::y(…)`, and names the crate root re-exports
//! with `pub use x::…`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// The layers from the ground up, and what each may depend on.
const LAYERS: [(&str, &[&str]); 5] = [
    ("domain", &[]),
    ("sdk", &[]),
    ("storage", &["domain", "sdk"]),
    ("services", &["domain", "sdk"]),
    ("edge", &["domain", "sdk", "storage", "services"]),
];

/// The workspace crates a manifest depends on (`[dependencies]` and
/// `[build-dependencies]`; dev-dependencies are the tests' business).
fn workspace_dependencies(manifest: &Path, workspace: &BTreeSet<String>) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let toml: toml::Table = text.parse().unwrap();
    ["dependencies", "build-dependencies"]
        .iter()
        .filter_map(|section| toml.get(*section).and_then(|s| s.as_table()))
        .flat_map(|deps| deps.keys().cloned())
        .filter(|name| workspace.contains(name))
        .collect()
}

/// Every workspace member: (package name, folder).
fn members() -> Vec<(String, PathBuf)> {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let toml: toml::Table = text.parse().unwrap();
    toml["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| {
            let dir = root().join(member.as_str().unwrap());
            let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
                .unwrap()
                .parse()
                .unwrap();
            let name = manifest["package"]["name"].as_str().unwrap().to_owned();
            (name, dir)
        })
        .collect()
}

#[test]
fn each_layer_depends_only_on_the_layers_below_it() {
    let members = members();
    let names: BTreeSet<String> = members.iter().map(|(name, _)| name.clone()).collect();
    for (layer, allowed) in LAYERS {
        let dir = root().join("shared").join(layer);
        let found = workspace_dependencies(&dir.join("Cargo.toml"), &names);
        let allowed: BTreeSet<String> = allowed.iter().map(|s| (*s).to_owned()).collect();
        assert!(
            found.is_subset(&allowed),
            "shared/{layer} depends on {:?}: only {allowed:?} lie below it",
            found.difference(&allowed).collect::<Vec<_>>()
        );
    }
    let layers: BTreeSet<String> = LAYERS.iter().map(|(l, _)| (*l).to_owned()).collect();
    for (name, dir) in &members {
        if !dir.starts_with(root().join("functions")) {
            continue;
        }
        let found = workspace_dependencies(&dir.join("Cargo.toml"), &names);
        let others: Vec<_> = found.difference(&layers).collect();
        assert!(
            others.is_empty(),
            "function {name} depends on {others:?}: a function builds on shared/ only"
        );
    }
}

/// The `.rs` files of a crate's `src/`, by module name (`lib`/`main` for the roots;
/// nested files as `a::b`).
fn modules(src: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, &format!("{prefix}{stem}::"), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let name = if stem == "mod" {
                    prefix.trim_end_matches("::").to_owned()
                } else {
                    format!("{prefix}{stem}")
                };
                out.insert(name, strip_tests(&std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, "", &mut out);
    out
}

/// The code before the file's `#[cfg(test)]` module (tests may reach anywhere), without
/// comment lines (a doc link is not an import).
fn strip_tests(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level names a text reaches through `crate::`: `crate::x::…` gives `x`, and
/// `use crate::{a::…, b, c::{…}}` gives `a`, `b` and `c`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        // `$crate::` in macros and `some_crate::` are other crates.
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c == '$' || c == '_' || c.is_alphanumeric()) {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.insert(first_segment(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(first_segment(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.insert(first_segment(rest));
        }
    }
    names.remove("");
    names.remove("self");
    names
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// What the crate root re-exports: name → the module it comes from (`pub use x::Y;`,
/// `pub use x::{Y, Z};`).
fn reexports(root_text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for statement in root_text.split(';') {
        let statement = statement.trim();
        let Some(path) = statement
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("//"))
            .collect::<Vec<_>>()
            .join(" ")
            .split_once("pub use ")
            .map(|(_, p)| p.trim().to_owned())
        else {
            continue;
        };
        let path = path
            .trim_start_matches("crate::")
            .trim_start_matches("self::");
        let Some((module, names)) = path.split_once("::") else {
            continue;
        };
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.split(" as ").last().unwrap_or(name);
            let name = name.rsplit("::").next().unwrap_or(name).trim();
            if !name.is_empty() {
                out.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    out
}

/// The module graph of one crate, roots left out (a root declares the modules and wires
/// them; that is not an import), and names the root re-exports followed to their module.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules(src);
    let roots = ["lib", "main"];
    let reexported: BTreeMap<String, String> = roots
        .iter()
        .filter_map(|r| modules.get(*r))
        .flat_map(|text| reexports(text))
        .collect();
    let top: BTreeSet<&str> = modules
        .keys()
        .map(|m| m.split("::").next().unwrap_or(m))
        .collect();
    modules
        .iter()
        .filter(|(name, _)| !roots.contains(&name.as_str()))
        .map(|(name, text)| {
            let own_top = name.split("::").next().unwrap_or(name).to_owned();
            let targets: BTreeSet<String> = crate_paths(text)
                .into_iter()
                .filter_map(|reached| {
                    if top.contains(reached.as_str()) {
                        Some(reached)
                    } else {
                        reexported.get(&reached).cloned()
                    }
                })
                .filter(|target| *target != own_top && !roots.contains(&target.as_str()))
                .collect();
            (own_top, targets)
        })
        .fold(BTreeMap::new(), |mut graph, (from, to)| {
            graph.entry(from).or_insert_with(BTreeSet::new).extend(to);
            graph
        })
}

/// One circle of the graph, if there is any: the modules along it.
fn a_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let from = path.iter().position(|n| n == next).unwrap_or(0);
                    let mut circle = path[from..].to_vec();
                    circle.push(next.clone());
                    return Some(circle);
                }
                Some(_) => {}
                None => {
                    if let Some(circle) = visit(next, graph, state, path) {
                        return Some(circle);
                    }
                }
            }
        }
        path.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node)
            && let Some(circle) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(circle);
        }
    }
    None
}

#[test]
fn no_crate_has_modules_importing_each_other_in_a_circle() {
    let mut crates = 0;
    for (name, dir) in members() {
        let graph = module_graph(&dir.join("src"));
        crates += 1;
        assert!(
            a_circle(&graph).is_none(),
            "{name}: modules import each other in a circle: {}",
            a_circle(&graph).unwrap_or_default().join(" -> ")
        );
    }
    assert!(crates >= 20, "every workspace member read ({crates})");
}

#[test]
fn the_reader_sees_the_imports_it_is_meant_to() {
    let text = "use crate::a::X;\nuse crate::{b::Y, c, d::{E, F}};\nfn f() { crate::g::h(); \
                $crate::no(); other_crate::no(); }\nuse crate::{Db, self};";
    let names: Vec<String> = crate_paths(text).into_iter().collect();
    assert_eq!(names, ["Db", "a", "b", "c", "d", "g"]);
    let reexported =
        reexports("pub use store_error::StoreError;\npub use item::{Item, n, s as string};");
    assert_eq!(reexported["StoreError"], "store_error");
    assert_eq!(reexported["string"], "item");
    assert_eq!(reexported["Item"], "item");

    // The circle finder finds a planted circle, and none in a line.
    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            graph.entry((*a).into()).or_default().insert((*b).into());
        }
        graph
    };
    assert!(a_circle(&graph(&[("a", "b"), ("b", "c")])).is_none());
    assert_eq!(
        a_circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])).unwrap(),
        ["a", "b", "c", "a"]
    );
}

/// Below the edge nothing speaks HTTP: no storage, service, domain or SDK file names the
/// edge's error enum, a status code or the HTTP runtime, not even in a comment.
#[test]
fn nothing_below_the_edge_speaks_http() {
    for layer in ["domain", "sdk", "storage", "services"] {
        for (module, text) in modules(&root().join("shared").join(layer).join("src")) {
            let full = std::fs::read_to_string(
                root()
                    .join("shared")
                    .join(layer)
                    .join("src")
                    .join(format!("{}.rs", module.replace("::", "/"))),
            )
            .unwrap_or(text);
            for word in ["ApiError", "StatusCode", "lambda_http"] {
                assert!(
                    !full.contains(word),
                    "shared/{layer}/src/{module}.rs mentions {word}"
                );
            }
        }
    }
}

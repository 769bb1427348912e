//! The role table that authorization reads (`domain::team::RULES`) is the one the README
//! and `openapi.yaml` show: a rule changed in code without its documentation (or the
//! other way round) fails here.

use domain::team::{RULES, Role};

/// The table as the docs must show it, row by row.
fn expected_rows() -> Vec<String> {
    RULES
        .iter()
        .map(|(action, roles)| {
            let cell = |role: Role| if roles.contains(&role) { "yes" } else { "no" };
            format!(
                "| {} | {} | {} | {} |",
                action.describe(),
                cell(Role::Owner),
                cell(Role::Admin),
                cell(Role::Agent)
            )
        })
        .collect()
}

/// The rows of the table between the roles markers of `text` (indentation stripped).
fn documented_rows(text: &str) -> Vec<String> {
    let start = text.find("<!-- roles").expect("a roles table");
    let end = text[start..]
        .find("<!-- /roles -->")
        .expect("the table's end")
        + start;
    text[start..end]
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("| ") && !line.starts_with("| a member may"))
        .map(str::to_owned)
        .collect()
}

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{}/../{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn the_readme_shows_the_role_table_authorization_reads() {
    assert_eq!(documented_rows(&read("README.md")), expected_rows());
}

#[test]
fn openapi_shows_the_role_table_authorization_reads() {
    assert_eq!(documented_rows(&read("openapi.yaml")), expected_rows());
}

//! The README and the template say what the repository holds: every count of the functions
//! they give ("fourteen Lambda binaries", "14 functions") is the number of crates under
//! `functions/`, and the README names no tracker issue ("issue 13"): it describes the code
//! as it is, not the history of its changes. Reads files only; no stack needed.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn function_crates() -> usize {
    std::fs::read_dir(repo().join("functions"))
        .expect("functions/")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .count()
}

/// The number a word or numeral stands for, if it is one.
fn number(word: &str) -> Option<usize> {
    const WORDS: &str = "zero one two three four five six seven eight nine ten eleven twelve \
        thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty";
    let word = word.to_lowercase();
    word.parse()
        .ok()
        .or_else(|| WORDS.split_whitespace().position(|w| w == word))
}

/// Every count of functions in `text`: a number right before "functions" or "binaries",
/// with at most "Lambda" or "Rust" between them, across line breaks.
fn function_counts(text: &str) -> Vec<(usize, String)> {
    let words: Vec<&str> = text
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .collect();
    let mut counts = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if !matches!(*word, "functions" | "binaries") {
            continue;
        }
        let mut before = i.checked_sub(1);
        if let Some(j) = before
            && matches!(words[j], "Lambda" | "Rust")
        {
            before = j.checked_sub(1);
        }
        if let Some(n) = before.and_then(|j| number(words[j])) {
            let phrase = words[before.unwrap_or(i)..=i].join(" ");
            counts.push((n, phrase));
        }
    }
    counts
}

#[test]
fn readme_and_template_count_the_functions_there_are() {
    let crates = function_crates();
    for path in ["README.md", "template.yaml"] {
        let counts = function_counts(&read(path));
        assert!(
            !counts.is_empty(),
            "{path} no longer says how many functions there are"
        );
        let wrong: Vec<_> = counts.iter().filter(|(n, _)| *n != crates).collect();
        assert!(
            wrong.is_empty(),
            "functions/ holds {crates} crates, but {path} says: {wrong:?}"
        );
    }
}

#[test]
fn readme_names_no_issue() {
    let readme = read("README.md");
    let words: Vec<&str> = readme.split_whitespace().collect();
    let mentions: Vec<String> = words
        .windows(2)
        .filter(|pair| {
            let word = pair[0]
                .trim_start_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            (word == "issue" || word == "issues")
                && pair[1]
                    .trim_start_matches('#')
                    .starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|pair| pair.join(" "))
        .chain(
            words
                .iter()
                .filter(|w| w.contains("/issues/"))
                .map(|w| w.to_string()),
        )
        .collect();
    assert!(mentions.is_empty(), "README.md names issues: {mentions:?}");
}

#[test]
fn function_counts_are_found_across_line_breaks() {
    let counts =
        function_counts("are the fourteen Lambda\nbinaries; 14 functions × 2; the functions");
    let numbers: Vec<usize> = counts.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [14, 14]);
}

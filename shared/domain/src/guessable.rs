//! Whether a chat password is one a guesser tries early: the check NIST SP 800-63B
//! (§3.1.1.2) asks of a chosen secret, instead of composition rules.
//!
//! A password is guessable when, lowercased:
//! - it has fewer than [`MIN_DISTINCT`] different characters (`aaaaaaaa`, `11223344`);
//! - it is one shorter unit repeated (`monkeymonkey`, `abcabcabc`);
//! - it, or what is left of it once the digits and symbols around its letters are taken
//!   off (`Dragon2024!` → `dragon`), read with the usual character swaps undone
//!   (`p@ssw0rd` → `password`), is on the list of [`COMMON_PASSWORDS`], a straight run
//!   (`abcdefgh`, `87654321`) or a keyboard walk (`qwertyui`, `1qaz2wsx`);
//! - it has no letters and fewer than [`MIN_DIGITS_ONLY`] characters (dates, PINs).
//!
//! Why not zxcvbn (used until 2026-11-26): its estimator links its dictionaries and two
//! regex engines, about 2 MB of the `chats` bootstrap and a quarter of its cold start
//! (BENCHMARKS.md, binary sizes), for a check that runs when an owner sets a password.
//! The list is the same one zxcvbn searches first, and guessing online is throttled
//! besides (see `chat-users`).

/// The 30,000 most common passwords of zxcvbn's frequency list, lowercase, one per line,
/// most common first: zxcvbn-rs 3.1.1 (MIT, © 2016 Joshua Holmer), after Dropbox's zxcvbn
/// (MIT) and its source lists. Only entries of 4 or more characters.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// The shortest a chat password may be (see `text::ChatPassword`): a repeated unit
/// shorter than this counts as too short.
const MIN_LENGTH: usize = 8;

/// Fewer different characters than this is too few, whatever the length.
const MIN_DISTINCT: usize = 5;

/// A password of digits and symbols only needs at least this many characters.
const MIN_DIGITS_ONLY: usize = 12;

/// Rows and columns of a US keyboard, walked either way.
const KEYBOARD_WALKS: [&str; 6] = [
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "qazwsxedcrfvtgbyhnujmikolp",
];

/// See the module's documentation.
pub fn is_guessable(password: &str) -> bool {
    let lower = password.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT {
        return true;
    }
    if let Some(unit) = repeated_unit(&chars) {
        return unit.len() < MIN_LENGTH || is_guessable(&unit.iter().collect::<String>());
    }
    if !chars.iter().any(|c| c.is_alphabetic()) && chars.len() < MIN_DIGITS_ONLY {
        return true;
    }
    // Each at least 4 characters: shorter is no word to search for.
    let core = letters_core(&lower);
    let mut candidates: Vec<String> = [lower.as_str(), core]
        .into_iter()
        .flat_map(|text| [text.to_owned(), unswapped(text, 'i'), unswapped(text, 'l')])
        .filter(|candidate| candidate.chars().count() >= 4)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .iter()
        .any(|candidate| is_run(candidate) || is_walk(candidate))
        || is_common(&candidates)
}

/// The unit `chars` is made of, if it is two or more copies of a shorter one.
fn repeated_unit(chars: &[char]) -> Option<&[char]> {
    (1..=chars.len() / 2)
        .filter(|len| chars.len().is_multiple_of(*len))
        .map(|len| &chars[..len])
        .find(|unit| chars.chunks(unit.len()).all(|chunk| chunk == *unit))
}

/// `text` without the characters before its first letter and after its last one.
fn letters_core(text: &str) -> &str {
    text.trim_matches(|c: char| !c.is_alphabetic())
}

/// `text` with the usual swaps undone (`@` → `a`, `0` → `o`, ...); `one` is what `1`
/// stood for (`i` or `l`).
fn unswapped(text: &str, one: char) -> String {
    text.chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '8' => 'b',
            '(' => 'c',
            '3' => 'e',
            '6' | '9' => 'g',
            '!' => 'i',
            '1' => one,
            '0' => 'o',
            '$' | '5' => 's',
            '7' | '+' => 't',
            '2' => 'z',
            other => other,
        })
        .collect()
}

/// Whether any of `candidates` (sorted) is on the list: one pass over it.
fn is_common(candidates: &[String]) -> bool {
    COMMON_PASSWORDS.lines().any(|line| {
        candidates
            .binary_search_by(|c| c.as_str().cmp(line))
            .is_ok()
    })
}

/// Each character one after (or each one before) the last: `abcd`, `4321`.
fn is_run(candidate: &str) -> bool {
    let codes: Vec<i64> = candidate.chars().map(|c| i64::from(u32::from(c))).collect();
    [1, -1]
        .into_iter()
        .any(|step| codes.windows(2).all(|pair| pair[1] - pair[0] == step))
}

/// Keys in a row of one keyboard line, either way.
fn is_walk(candidate: &str) -> bool {
    let reversed: String = candidate.chars().rev().collect();
    KEYBOARD_WALKS
        .iter()
        .any(|walk| walk.contains(candidate) || walk.contains(&reversed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_guesser_tries_early_is_guessable() {
        for weak in [
            "aaaaaaaa",
            "        ",
            "11223344",
            "password",
            "Password1",
            "password123",
            "P@ssw0rd!",
            "12345678",
            "19871987",
            "abcdefgh",
            "87654321",
            "qwertyuiop",
            "qwertyui",
            "1qaz2wsx",
            "iloveyou2",
            "Dragon2024!",
            "monkeymonkey",
            "abcabcabc",
            "sunshine",
            "!!Football!!",
            "l3tm31n!",
            "trustno1",
        ] {
            assert!(is_guessable(weak), "{weak}");
        }
    }

    #[test]
    fn uncommon_words_and_random_strings_are_not() {
        for fine in [
            "kettle-club-2026",
            "demo-chat-password",
            "copper lantern orbit",
            "correct horse battery staple",
            "Kx9#mP2vLq",
            "violet-canyon-41",
            "2847 19384 55201",
            // What the share endpoint generates.
            "q8ZtN3vKcW1xLm0A",
        ] {
            assert!(!is_guessable(fine), "{fine}");
        }
    }

    #[test]
    fn the_list_is_lowercase_one_per_line() {
        assert_eq!(COMMON_PASSWORDS.lines().count(), 30_000);
        assert!(
            COMMON_PASSWORDS
                .lines()
                .all(|line| line.len() >= 4 && line == line.to_lowercase())
        );
    }
}

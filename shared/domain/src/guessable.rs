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
//! - it has no letters and fewer than [`MIN_DIGITS_ONLY`] characters (dates, PINs);
//! - it is a famous example (`correcthorsebatterystaple`, `Tr0ub4dor&3`), separators
//!   and case aside;
//! - a guesser that tries common words and passwords in order of frequency, joined
//!   (`chatpassword`, `demo-chat-password`) and with digits and symbols around them
//!   (`Support123!`), would reach it within [`GUESSES_NEEDED`] guesses; the chat's and
//!   the company's own names count as the first words it tries (`Acme2024!` for Acme).
//!   The estimate is zxcvbn's idea in small: the product of the words' frequency ranks,
//!   times what the digits, symbols and separators add.
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

/// The 20,000 most frequent words of three or more letters in zxcvbn's `us_tv_and_film`
/// list (MIT, © 2012-2016 Dan Wheeler and Dropbox, Inc.), most frequent first.
const COMMON_WORDS: &str = include_str!("common-words.txt");

/// Guesses a password must be beyond: online guessing is held to 30 wrong tries a day
/// per source (see `chat-users`), so even a thousand sources need some 900 years.
pub const GUESSES_NEEDED: f64 = 1e10;

/// Examples every guesser knows, as letters and digits only, lowercase.
const FAMOUS: [&str; 4] = [
    "correcthorsebatterystaple",
    "tr0ub4dor3",
    "troubador3",
    "iloveyou",
];

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
    is_guessable_with(password, &[])
}

/// See the module's documentation; `context` holds what the guesser knows of the place
/// the password guards (the chat's and the company's names).
pub fn is_guessable_with(password: &str, context: &[&str]) -> bool {
    let lower = password.to_lowercase();
    let squeezed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if FAMOUS.contains(&squeezed.as_str()) {
        return true;
    }
    if is_listed_guessable(&lower) {
        return true;
    }
    let context_words: Vec<String> = context
        .iter()
        .flat_map(|text| words_of(&text.to_lowercase()))
        .collect();
    [
        lower.clone(),
        unswapped(&lower, 'i'),
        unswapped(&lower, 'l'),
    ]
    .iter()
    .map(|candidate| estimated_guesses(candidate, &context_words))
    .fold(f64::INFINITY, f64::min)
        < GUESSES_NEEDED
}

/// The runs of letters of `text`, of three or more.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|word| word.chars().count() >= 3)
        .map(str::to_owned)
        .collect()
}

/// Every word and password of the lists, by its best rank (1 is tried first).
fn ranks() -> &'static std::collections::HashMap<&'static str, f64> {
    static RANKS: std::sync::LazyLock<std::collections::HashMap<&'static str, f64>> =
        std::sync::LazyLock::new(|| {
            let mut ranks = std::collections::HashMap::with_capacity(50_000);
            for list in [COMMON_WORDS, COMMON_PASSWORDS] {
                for (index, entry) in list.lines().enumerate() {
                    let rank = (index + 1) as f64;
                    let best = ranks.entry(entry).or_insert(rank);
                    *best = f64::min(*best, rank);
                }
            }
            ranks
        });
    &RANKS
}

/// How many guesses a guesser trying frequent words first needs for `text` (lowercase):
/// each run of letters as the best split into known words (the product of their ranks;
/// unknown letters make it unreachable), times 10 a digit (200 for a year), 30 a symbol,
/// and 4 a separator between words.
fn estimated_guesses(text: &str, context: &[String]) -> f64 {
    let chars: Vec<char> = text.chars().collect();
    let mut guesses = 1.0;
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let kind = |c: char| {
            if c.is_alphabetic() {
                0
            } else if c.is_ascii_digit() {
                1
            } else {
                2
            }
        };
        let this = kind(chars[i]);
        while i < chars.len() && kind(chars[i]) == this {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        guesses *= match this {
            0 => split_guesses(&run, context),
            1 if run.len() == 4 && (run.starts_with("19") || run.starts_with("20")) => 200.0,
            1 => 10f64.powi(i32::try_from(run.len()).unwrap_or(i32::MAX)),
            // One separator between two words: one of a handful.
            _ if run.chars().count() == 1 && start > 0 && i < chars.len() => 4.0,
            _ => 30f64.powi(i32::try_from(run.chars().count()).unwrap_or(i32::MAX)),
        };
    }
    guesses
}

/// The fewest guesses that spell `run` as known words of three or more letters (the
/// product of their ranks; a context word ranks 1); infinite when it cannot be.
fn split_guesses(run: &str, context: &[String]) -> f64 {
    let chars: Vec<char> = run.chars().collect();
    let ranks = ranks();
    // best[i]: the fewest guesses for the first i characters.
    let mut best = vec![f64::INFINITY; chars.len() + 1];
    best[0] = 1.0;
    for end in 3..=chars.len() {
        for start in 0..=end - 3 {
            if best[start].is_infinite() {
                continue;
            }
            let word: String = chars[start..end].iter().collect();
            let rank = if context.contains(&word) {
                Some(1.0)
            } else {
                ranks.get(word.as_str()).copied()
            };
            if let Some(rank) = rank {
                best[end] = best[end].min(best[start] * rank);
            }
        }
    }
    best[chars.len()]
}

/// The checks of the module's documentation that need no estimate.
fn is_listed_guessable(lower: &str) -> bool {
    let lower = lower.to_owned();
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
            "kettle-orbit-lantern",
            "copper lantern orbit",
            "orbit lantern copper violet",
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
    fn words_a_guesser_tries_first_are_guessable_however_joined() {
        for weak in [
            "chatpassword",
            "demo-chat-password",
            "support-chat",
            "Support123!",
            "Sup3rS3cret",
            "correcthorsebatterystaple",
            "correct horse battery staple",
            "Tr0ub4dor&3",
        ] {
            assert!(is_guessable(weak), "{weak}");
        }
        // The place's own names are the first words tried.
        assert!(!is_guessable("Zyxwvq2024!"));
        assert!(is_guessable_with("Zyxwvq2024!", &["Zyxwvq Ltd"]));
        assert!(is_guessable_with("Acme2024!", &["Support", "Acme"]));
        assert!(is_guessable_with("helpdesk-kettle", &["Kettle Helpdesk"]));
    }

    #[test]
    fn guesses_grow_with_each_uncommon_word() {
        let few = estimated_guesses("chatpassword", &[]);
        let more = estimated_guesses("violet-canyon-41", &[]);
        assert!(
            few < GUESSES_NEEDED && more > GUESSES_NEEDED,
            "{few} {more}"
        );
        assert!(estimated_guesses("qzxvbkwm", &[]).is_infinite());
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

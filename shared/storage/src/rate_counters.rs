//! The counters of the rate limits (the rule is the domain's [`Limit`]): one item per key
//! and window, incremented by a conditional `UpdateItem`: concurrent requests all count,
//! and none passes a full window. The item expires with its window (TTL).

use aws_sdk_dynamodb::types::AttributeValue;
use domain::rate_limit::{Limit, Taken, WindowCount};
use serde::Deserialize;

use crate::item::{Item, from_item, n};
use crate::key::TTL;
use crate::tx::{Slot, Transaction};
use crate::update::Update;
use crate::{Db, Key, Result};

fn counter_key(limit: &Limit, key: &str, window_start: i64) -> Key {
    Key::new(
        format!("LIMIT#{}#{key}", limit.name),
        format!("W#{window_start}"),
    )
}

/// The counter item of `key`'s window at `now_ms`, and the update counting one use in it
/// unless it already holds `max`.
fn one_more(limit: &Limit, key: &str, now_ms: i64) -> (Key, Update) {
    let (start, end) = limit.window(now_ms);
    let update = Update::new()
        .add("uses", n(1))
        .set(TTL, n(end / 1000 + 60))
        .value(":max", n(limit.max))
        .condition("attribute_not_exists(#uses) OR #uses < :max");
    (counter_key(limit, key, start), update)
}

/// As [`one_more`], counting `amount` (bytes, say) at once: refused unless the window
/// still has room for all of it. An `amount` over `max` never fits.
fn some_more(limit: &Limit, key: &str, amount: u32, now_ms: i64) -> (Key, Update) {
    let (start, end) = limit.window(now_ms);
    let room = i64::from(limit.max) - i64::from(amount);
    let update = Update::new()
        .add("uses", n(amount))
        .set(TTL, n(end / 1000 + 60))
        .value(":room", n(room))
        .condition(if room >= 0 {
            "attribute_not_exists(#uses) OR #uses <= :room"
        } else {
            // Never true: more than a whole window at once.
            "attribute_exists(#uses) AND attribute_not_exists(#uses) AND #uses <= :room"
        });
    (counter_key(limit, key, start), update)
}

/// Counts `amount` uses of `key` in the same transaction as the thing limited (see
/// [`take_in`]).
pub(crate) fn take_some_in(
    tx: &mut Transaction<'_>,
    limit: &Limit,
    key: &str,
    amount: u32,
    now_ms: i64,
) -> Result<Slot> {
    let (key, update) = some_more(limit, key, amount, now_ms);
    tx.update_with(&key, update)
}

/// The attributes of a count kept on an item of its own kind (a chat user's sending
/// rate: see `ChatUserRecord::sent_in_window`) rather than on a counter item.
const WINDOW: &str = "sent_window_ms";
const COUNT: &str = "sent_in_window";

/// Counts one use on an item that keeps its own count, which must exist. An update
/// cannot choose between "one more in this window" and "the first of a new one", so it
/// is chosen from `seen`, the count as last read, and made conditional on that still
/// holding: a stale read fails the write rather than miscount, and the caller goes
/// again from the count the failure hands back ([`count_in`]).
pub(crate) fn count_on_item(limit: &Limit, seen: Option<WindowCount>, now_ms: i64) -> Update {
    let (start, _) = limit.window(now_ms);
    let update = Update::new().condition("attribute_exists(PK)");
    match seen {
        Some(seen) if seen.window_start_ms == start => update
            .add(COUNT, n(1))
            .named(WINDOW)
            .value(":window", n(start))
            .value(":max", n(limit.max))
            .condition("#sent_window_ms = :window AND #sent_in_window < :max"),
        _ => update.set(WINDOW, n(start)).set(COUNT, n(1)).condition(
            "attribute_not_exists(#sent_window_ms) OR #sent_window_ms < :sent_window_ms",
        ),
    }
}

/// The count an item keeps (see [`count_on_item`]), as a failed condition handed it back.
pub(crate) fn count_in(item: &Item) -> Option<WindowCount> {
    let number = |attr: &str| match item.get(attr) {
        Some(AttributeValue::N(number)) => number.parse::<i64>().ok(),
        _ => None,
    };
    Some(WindowCount {
        window_start_ms: number(WINDOW)?,
        count: number(COUNT)
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(0),
    })
}

/// Counts one use of `key` in the same transaction as the thing limited: the slot fails
/// (and the whole write with it) when the window is full.
pub(crate) fn take_in(
    tx: &mut Transaction<'_>,
    limit: &Limit,
    key: &str,
    now_ms: i64,
) -> Result<Slot> {
    let (key, update) = one_more(limit, key, now_ms);
    tx.update_with(&key, update)
}

#[derive(Deserialize)]
struct Counter {
    #[serde(default)]
    uses: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct RateCounters<'a> {
    pub(crate) db: &'a Db,
}

impl RateCounters<'_> {
    /// Counts one use of `key` against `limit`; `Exceeded` (and nothing counted) when
    /// the current window already holds `max`.
    pub async fn take(&self, limit: &Limit, key: &str, now_ms: i64) -> Result<Taken> {
        let (key, update) = one_more(limit, key, now_ms);
        if self.db.update_if(&key, update).await? {
            Ok(Taken::Allowed)
        } else {
            Ok(limit.exceeded(now_ms))
        }
    }

    /// Whether every one of `limits` still has room for `key` now, counting nothing: one
    /// round trip for them all; the first that is full says how long to wait.
    pub async fn check_all(&self, limits: &[Limit], key: &str, now_ms: i64) -> Result<Taken> {
        let keys: Vec<Key> = limits
            .iter()
            .map(|limit| counter_key(limit, key, limit.window(now_ms).0))
            .collect();
        let items = self.db.get_all(&keys.iter().collect::<Vec<_>>()).await?;
        for (limit, item) in limits.iter().zip(items) {
            let uses = match item {
                Some(item) => from_item::<Counter>(item)?.uses,
                None => 0,
            };
            if uses >= limit.max {
                return Ok(limit.exceeded(now_ms));
            }
        }
        Ok(Taken::Allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_keyed_by_their_start() {
        let limit = Limit {
            name: "x",
            max: 3,
            window_ms: 60_000,
        };
        assert_eq!(limit.window(125_000), (120_000, 180_000));
        assert_eq!(limit.window(120_000), (120_000, 180_000));
        assert_eq!(counter_key(&limit, "k", 120_000).pk, "LIMIT#x#k");
        assert_eq!(counter_key(&limit, "k", 120_000).sk, "W#120000");
    }

    /// Every `#name` and `:value` an update declares appears in its expressions
    /// (DynamoDB refuses the update otherwise).
    fn all_used(update: Update) -> (String, String) {
        let parts = update.into_parts();
        let condition = parts.condition.unwrap_or_default();
        let text = format!("{} {condition}", parts.expression);
        for placeholder in parts.names.unwrap_or_default().keys() {
            assert!(
                text.contains(placeholder.as_str()),
                "{placeholder} in {text}"
            );
        }
        for placeholder in parts.values.unwrap_or_default().keys() {
            assert!(
                text.contains(placeholder.as_str()),
                "{placeholder} in {text}"
            );
        }
        (parts.expression, condition)
    }

    #[test]
    fn a_count_on_an_item_adds_in_its_window_and_starts_a_new_one_afresh() {
        let limit = Limit {
            name: "x",
            max: 3,
            window_ms: 60_000,
        };
        let seen = |window_start_ms| {
            Some(WindowCount {
                window_start_ms,
                count: 1,
            })
        };
        let (same, condition) = all_used(count_on_item(&limit, seen(120_000), 125_000));
        assert!(same.starts_with("ADD"), "{same}");
        assert!(condition.contains(":max"), "{condition}");
        for stale in [seen(60_000), None] {
            let (fresh, condition) = all_used(count_on_item(&limit, stale, 125_000));
            assert!(fresh.starts_with("SET"), "{fresh}");
            assert!(condition.contains("attribute_not_exists"), "{condition}");
        }
        let item = Item::from([(WINDOW.to_owned(), n(120_000)), (COUNT.to_owned(), n(3))]);
        assert_eq!(
            count_in(&item),
            Some(WindowCount {
                window_start_ms: 120_000,
                count: 3
            })
        );
        assert_eq!(count_in(&Item::new()), None);
    }
}

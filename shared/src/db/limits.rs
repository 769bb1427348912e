//! Fixed-window rate limits: how many times something may happen per key in a window
//! (wrong chat passwords per chat and per source address, ...). One counter item per key
//! and window, incremented by a conditional `UpdateItem`: concurrent requests all count,
//! and none passes a full window. The item expires with its window (TTL).

use super::update::Update;
use super::{Db, Key, keys, n};
use crate::error::ApiError;

/// A limit: at most `max` times per `window_ms`, per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the counter (part of its key).
    pub name: &'static str,
    pub max: u32,
    pub window_ms: i64,
}

/// Whether one more use fits the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Allowed,
    /// The window is full until it ends: wait this long.
    Exceeded {
        retry_after_secs: u64,
    },
}

impl Limit {
    /// The window `now_ms` falls in: its start and end.
    fn window(&self, now_ms: i64) -> (i64, i64) {
        let start = now_ms - now_ms.rem_euclid(self.window_ms);
        (start, start + self.window_ms)
    }

    /// What to tell a caller at `now_ms` whose window is full.
    pub(crate) fn exceeded(&self, now_ms: i64) -> Taken {
        let (_, end) = self.window(now_ms);
        let wait_ms = (end - now_ms).max(1000);
        Taken::Exceeded {
            retry_after_secs: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1),
        }
    }

    fn key(&self, key: &str, window_start: i64) -> Key {
        Key::new(
            format!("LIMIT#{}#{key}", self.name),
            format!("W#{window_start}"),
        )
    }

    /// The counter item of `key`'s window at `now_ms`, and the update counting one use
    /// in it unless it already holds `max`.
    fn one_more(&self, key: &str, now_ms: i64) -> (Key, Update) {
        let (start, end) = self.window(now_ms);
        let update = Update::new()
            .add("uses", n(1))
            .set(keys::TTL, n(end / 1000 + 60))
            .value(":max", n(self.max))
            .condition("attribute_not_exists(#uses) OR #uses < :max");
        (self.key(key, start), update)
    }
}

/// Parts of other entities' transactions that count against a limit.
pub(crate) mod tx_parts {
    use super::*;
    use crate::db::tx::{Slot, Transaction};

    /// Counts one use of `key` in the same transaction as the thing limited: the slot
    /// fails (and the whole write with it) when the window is full.
    pub(crate) fn take(
        tx: &mut Transaction<'_>,
        limit: &Limit,
        key: &str,
        now_ms: i64,
    ) -> Result<Slot, ApiError> {
        let (key, update) = limit.one_more(key, now_ms);
        tx.update_with(&key, update)
    }
}

impl Db {
    /// Counts one use of `key` against `limit`; `Exceeded` (and nothing counted) when
    /// the current window already holds `max`.
    pub async fn take(&self, limit: &Limit, key: &str, now_ms: i64) -> Result<Taken, ApiError> {
        let (key, update) = limit.one_more(key, now_ms);
        if self.update_if(&key, update).await? {
            Ok(Taken::Allowed)
        } else {
            Ok(limit.exceeded(now_ms))
        }
    }

    /// Whether `limit` still has room for `key` now, counting nothing.
    pub async fn check(&self, limit: &Limit, key: &str, now_ms: i64) -> Result<Taken, ApiError> {
        let (start, _) = limit.window(now_ms);
        let item: Option<Counter> = self.get(&limit.key(key, start)).await?;
        Ok(match item {
            Some(counter) if counter.uses >= limit.max => limit.exceeded(now_ms),
            _ => Taken::Allowed,
        })
    }
}

#[derive(serde::Deserialize)]
struct Counter {
    #[serde(default)]
    uses: u32,
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
        assert_eq!(limit.key("k", 120_000).pk, "LIMIT#x#k");
        assert_eq!(limit.key("k", 120_000).sk, "W#120000");
    }
}

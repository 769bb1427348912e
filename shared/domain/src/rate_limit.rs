//! Fixed-window rate limits: how many times something may happen per key in a window
//! (wrong chat passwords per chat and per source address, messages per chat user, ...).
//! Storage counts the uses (see its `rate_counters`); this is the rule.

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

/// The uses counted in one window, as last read from the item that keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    pub window_start_ms: i64,
    pub count: u32,
}

impl Limit {
    /// Whether `seen` leaves no room for one more use at `now_ms` (a count of an earlier
    /// window leaves all of it).
    pub fn is_full(&self, seen: WindowCount, now_ms: i64) -> bool {
        seen.window_start_ms == self.window(now_ms).0 && seen.count >= self.max
    }

    /// The window `now_ms` falls in: its start and end.
    pub fn window(&self, now_ms: i64) -> (i64, i64) {
        let start = now_ms - now_ms.rem_euclid(self.window_ms);
        (start, start + self.window_ms)
    }

    /// What to tell a caller at `now_ms` whose window is full.
    pub fn exceeded(&self, now_ms: i64) -> Taken {
        let (_, end) = self.window(now_ms);
        let wait_ms = (end - now_ms).max(1000);
        Taken::Exceeded {
            retry_after_secs: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1),
        }
    }
}

/// What each caller may change a minute, for the writes that log an event: each event
/// goes to every socket of the chat and every matching webhook, so a loop of them must
/// stop. Counted per caller: a chat user, or an operator.
pub mod budgets {
    use super::Limit;

    /// Message edits and deletes.
    pub const MESSAGE_CHANGES: Limit = Limit {
        name: "message-changes",
        max: 30,
        window_ms: 60_000,
    };
    /// Read markers moved (a client marks what it showed; a marker that passes no
    /// message is not logged at all).
    pub const READ_MARKS: Limit = Limit {
        name: "read-marks",
        max: 60,
        window_ms: 60_000,
    };
    /// Chat-user renames and email changes.
    pub const CHAT_USER_CHANGES: Limit = Limit {
        name: "chat-user-changes",
        max: 10,
        window_ms: 10 * 60_000,
    };
    /// Availability reads from one source address (a keyed tag of it), all companies
    /// together: a site's widget asks once on load and now and then after, so this is
    /// far above a visitor's use and bounds what one source costs in reads.
    pub const AVAILABILITY_PER_SOURCE: Limit = Limit {
        name: "availability-source",
        max: 120,
        window_ms: 60_000,
    };
    /// Chat changes (name, settings, password).
    pub const CHAT_CHANGES: Limit = Limit {
        name: "chat-changes",
        max: 30,
        window_ms: 60_000,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_count_of_the_current_window_can_be_full() {
        let limit = Limit {
            name: "x",
            max: 2,
            window_ms: 60_000,
        };
        let at = |window_start_ms, count| WindowCount {
            window_start_ms,
            count,
        };
        assert!(limit.is_full(at(120_000, 2), 125_000));
        assert!(!limit.is_full(at(120_000, 1), 125_000));
        assert!(!limit.is_full(at(60_000, 2), 125_000));
    }

    #[test]
    fn windows_are_aligned() {
        let limit = Limit {
            name: "x",
            max: 3,
            window_ms: 60_000,
        };
        assert_eq!(limit.window(125_000), (120_000, 180_000));
        assert_eq!(limit.window(120_000), (120_000, 180_000));
        assert_eq!(
            limit.exceeded(125_000),
            Taken::Exceeded {
                retry_after_secs: 55
            }
        );
    }
}

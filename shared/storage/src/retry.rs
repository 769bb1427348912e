//! The one back-off of the storage layer: exponential, capped, with "equal jitter"
//! (half the delay fixed, half random) drawn from the OS random source, so that writers
//! that collided once do not collide again in lock-step.

use std::time::Duration;

/// Waits between the attempts of one operation.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base_ms: u64,
    cap_ms: u64,
    max_attempts: u32,
    attempt: u32,
}

impl Backoff {
    /// `max_attempts` counts the first try: `wait` answers `false` once they are used up.
    pub(crate) const fn new(base_ms: u64, cap_ms: u64, max_attempts: u32) -> Self {
        Self {
            base_ms,
            cap_ms,
            max_attempts,
            attempt: 1,
        }
    }

    /// For `BatchGetItem` / `BatchWriteItem` keys that DynamoDB handed back unprocessed.
    pub(crate) const fn unprocessed_items() -> Self {
        Self::new(25, 1_000, 8)
    }

    /// The delay before the attempt after `attempt` (1-based), or `None` past the last.
    fn delay_after(&self, attempt: u32, random: u64) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let ceiling = self
            .base_ms
            .saturating_mul(1 << (attempt - 1).min(20))
            .min(self.cap_ms);
        let half = ceiling / 2;
        Some(Duration::from_millis(half + random % (half + 1)))
    }

    /// Sleeps before the next attempt; `false` (at once) when none is left.
    pub(crate) async fn wait(&mut self) -> bool {
        match self.delay_after(self.attempt, os_random()) {
            Some(delay) => {
                self.attempt += 1;
                tokio::time::sleep(delay).await;
                true
            }
            None => false,
        }
    }
}

fn os_random() -> u64 {
    // Only a jitter: should the OS source fail, a fixed value still backs off.
    getrandom::u64().unwrap_or(u64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_and_stop_at_the_last_attempt() {
        let backoff = Backoff::new(10, 50, 5);
        let range = |attempt| {
            let low = backoff.delay_after(attempt, 0).unwrap().as_millis();
            let high = backoff.delay_after(attempt, u64::MAX).unwrap().as_millis();
            (low, high)
        };
        assert_eq!(range(1), (5, 5 + (u64::MAX % 6) as u128));
        let (low, high) = range(3);
        assert!(low == 20 && high <= 40, "{low}..{high}");
        let (low, high) = range(4);
        assert!(low == 25 && high <= 50, "capped: {low}..{high}");
        assert_eq!(backoff.delay_after(5, 0), None);
    }

    #[tokio::test]
    async fn wait_counts_attempts() {
        let mut backoff = Backoff::new(1, 1, 3);
        assert!(backoff.wait().await);
        assert!(backoff.wait().await);
        assert!(!backoff.wait().await);
    }
}

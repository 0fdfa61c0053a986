//! When to try a queued operation again: exponential backoff with "equal jitter", capped.
//! PURE: no clock and no randomness of its own — the caller passes `now` (milliseconds since the
//! Unix epoch) and a random `jitter_source` — and no I/O, so every schedule is unit-testable.

/// How fast retries back off. Times are milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The ceiling of the first retry's delay; each further failure doubles it.
    pub base_ms: u64,
    /// No delay is longer than this, however many attempts failed.
    pub cap_ms: u64,
}

impl Default for RetryPolicy {
    /// 5 s doubling up to 5 min: a directory back after an outage is used within minutes, and a reset
    /// (15 min to live) still gets several attempts.
    fn default() -> RetryPolicy {
        RetryPolicy {
            base_ms: 5_000,
            cap_ms: 300_000,
        }
    }
}

impl RetryPolicy {
    /// The time of the next attempt after `attempts` failed attempts (1 after the first failure).
    /// The delay lies in `[ceiling / 2, ceiling]` with `ceiling = min(cap, base · 2^(attempts-1))`:
    /// half of it keeps the backoff growing, the jittered half spreads a fleet of kiosks that lost the
    /// same directory at the same moment.
    pub fn next_attempt(&self, attempts: u32, now: u64, jitter_source: u64) -> u64 {
        let doublings = attempts.saturating_sub(1).min(62);
        let ceiling = self
            .base_ms
            .saturating_mul(1u64 << doublings)
            .min(self.cap_ms);
        let floor = ceiling / 2;
        let jitter = jitter_source % (ceiling - floor + 1);
        now.saturating_add(floor + jitter)
    }
}

/// [`RetryPolicy::next_attempt`] with the default policy.
pub fn next_attempt(attempts: u32, now: u64, jitter_source: u64) -> u64 {
    RetryPolicy::default().next_attempt(attempts, now, jitter_source)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn delay(attempts: u32, jitter: u64) -> u64 {
        next_attempt(attempts, NOW, jitter) - NOW
    }

    #[test]
    fn first_retry_lies_between_half_and_the_whole_base() {
        for jitter in [0, 1, 2_499, 2_500, 2_501, u64::MAX] {
            let d = delay(1, jitter);
            assert!((2_500..=5_000).contains(&d), "{d}");
        }
        assert_eq!(delay(1, 0), 2_500);
        assert_eq!(delay(1, 2_500), 5_000);
        // Zero attempts is treated like one: never an immediate hot loop.
        assert_eq!(delay(0, 0), 2_500);
    }

    #[test]
    fn the_window_doubles_until_the_cap() {
        let mut previous_floor = 0;
        for attempts in 1..=7 {
            let floor = delay(attempts, 0);
            assert!(
                floor >= previous_floor,
                "attempt {attempts}: {floor} < {previous_floor}"
            );
            assert!((0..1_000u64).all(|jitter| delay(attempts, jitter * 7_919) <= 300_000));
            previous_floor = floor;
        }
        assert_eq!(delay(2, 0), 5_000);
        assert_eq!(delay(3, 0), 10_000);
        assert_eq!(delay(7, 0), 150_000); // 5 s · 64 = 320 s, capped at 300 s, halved
    }

    #[test]
    fn huge_attempt_counts_and_times_do_not_overflow() {
        for attempts in [63, 64, 1_000, u32::MAX] {
            let d = delay(attempts, u64::MAX);
            assert!((150_000..=300_000).contains(&d), "{d}");
        }
        assert_eq!(next_attempt(u32::MAX, u64::MAX - 1, u64::MAX), u64::MAX);
    }

    #[test]
    fn jitter_spreads_kiosks_that_failed_together() {
        let times: std::collections::HashSet<u64> = (0..50u64)
            .map(|k| delay(5, k.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        assert!(times.len() > 40, "{}", times.len());
    }

    #[test]
    fn a_custom_policy_is_honoured() {
        let policy = RetryPolicy {
            base_ms: 100,
            cap_ms: 1_000,
        };
        assert_eq!(policy.next_attempt(1, 0, 0), 50);
        assert_eq!(policy.next_attempt(10, 0, 500), 1_000);
        let degenerate = RetryPolicy {
            base_ms: 0,
            cap_ms: 0,
        };
        assert_eq!(degenerate.next_attempt(3, 7, 99), 7);
    }
}

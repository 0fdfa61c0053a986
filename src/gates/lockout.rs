//! SSPR lockout and kiosk throttling. [`FailureCounter`] is per user and fleet-wide (serialised
//! into the directory): 5 failed verifications within 24 h block SSPR for 24 h after the 5th; a
//! success resets it. [`KioskThrottle`] is per kiosk: a burst of failures puts the kiosk in a
//! cool-down for everyone — never per IP, one kiosk is many people. Pure: `now` is an argument;
//! storing is the agent's job.

use serde::{Deserialize, Serialize};

use super::{Millis, secs_to_millis};
use crate::config::kiosk::PolicySection;

/// `failures` failures less than `window_ms` apart (first to last) block for `block_ms` after the
/// last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub failures: u32,
    pub window_ms: Millis,
    pub block_ms: Millis,
}

impl Limits {
    /// `policy.lockout_*`: 5 in 24 h, blocked 24 h by default.
    pub fn user(policy: &PolicySection) -> Limits {
        Limits {
            failures: policy.lockout_failures,
            window_ms: secs_to_millis(policy.lockout_window_secs),
            block_ms: secs_to_millis(policy.lockout_duration_secs),
        }
    }

    /// `policy.kiosk_throttle_*` and `kiosk_cooldown_secs`: 20 in 10 min, 5 min cool-down by
    /// default.
    pub fn kiosk(policy: &PolicySection) -> Limits {
        Limits {
            failures: policy.kiosk_throttle_failures,
            window_ms: secs_to_millis(policy.kiosk_throttle_window_secs),
            block_ms: secs_to_millis(policy.kiosk_cooldown_secs),
        }
    }
}

/// Where a counter stands at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockStatus {
    /// Verifications allowed; `failures_left` more failures inside the window trigger a block.
    Open {
        failures_left: u32,
    },
    Blocked {
        until: Millis,
    },
}

impl LockStatus {
    pub fn is_blocked(self) -> bool {
        matches!(self, LockStatus::Blocked { .. })
    }
}

/// Recent failure times and the end of the current block. Only failures inside the window are kept
/// and a block clears them, so at most `failures - 1` times plus one are ever stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Window {
    #[serde(default)]
    failures: Vec<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blocked_until: Option<Millis>,
}

impl Window {
    fn recent(&self, now: Millis, limits: &Limits) -> impl Iterator<Item = Millis> + '_ {
        let window = limits.window_ms;
        // A failure stamped after `now` (another kiosk's clock runs ahead) counts as recent.
        self.failures
            .iter()
            .copied()
            .filter(move |&t| now.saturating_sub(t) < window)
    }

    fn status(&self, now: Millis, limits: &Limits) -> LockStatus {
        match self.blocked_until {
            Some(until) if now < until => LockStatus::Blocked { until },
            _ => {
                let recent = u32::try_from(self.recent(now, limits).count()).unwrap_or(u32::MAX);
                LockStatus::Open {
                    failures_left: limits.failures.max(1).saturating_sub(recent),
                }
            }
        }
    }

    fn record_failure(&mut self, now: Millis, limits: &Limits) -> LockStatus {
        if let status @ LockStatus::Blocked { .. } = self.status(now, limits) {
            // Already blocked (a race between kiosks): the block stays "24 h after the 5th".
            return status;
        }
        let mut failures: Vec<Millis> = self.recent(now, limits).collect();
        failures.push(now);
        failures.sort_unstable();
        if failures.len() >= limits.failures.max(1) as usize {
            let until = now.saturating_add(limits.block_ms);
            self.failures = Vec::new();
            self.blocked_until = Some(until);
            LockStatus::Blocked { until }
        } else {
            self.failures = failures;
            self.blocked_until = None;
            self.status(now, limits)
        }
    }
}

/// A user's failed verifications, shared by every kiosk through the directory (JSON inside the
/// registration blob or a dedicated attribute). Record every failed gate attempt; reset on success.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FailureCounter(Window);

impl FailureCounter {
    pub fn new() -> FailureCounter {
        FailureCounter::default()
    }

    /// Failure times inside the current window (empty right after a block starts).
    pub fn failures(&self) -> &[Millis] {
        &self.0.failures
    }

    /// Counts a failed verification at `now` and says whether SSPR is now blocked for the user.
    pub fn record_failure(&mut self, now: Millis, policy: &PolicySection) -> LockStatus {
        self.0.record_failure(now, &Limits::user(policy))
    }

    pub fn status(&self, now: Millis, policy: &PolicySection) -> LockStatus {
        self.0.status(now, &Limits::user(policy))
    }

    pub fn is_blocked(&self, now: Millis, policy: &PolicySection) -> bool {
        self.status(now, policy).is_blocked()
    }

    /// After a successful verification: the user starts again with a clean slate.
    pub fn reset(&mut self) {
        self.0 = Window::default();
    }
}

/// This kiosk's recent failures, whoever caused them. Deliberately no reset on success: an attacker
/// could otherwise clear the throttle by passing a gate on their own account between guesses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KioskThrottle(Window);

impl KioskThrottle {
    pub fn new() -> KioskThrottle {
        KioskThrottle::default()
    }

    pub fn record_failure(&mut self, now: Millis, policy: &PolicySection) -> LockStatus {
        self.0.record_failure(now, &Limits::kiosk(policy))
    }

    pub fn status(&self, now: Millis, policy: &PolicySection) -> LockStatus {
        self.0.status(now, &Limits::kiosk(policy))
    }

    pub fn is_cooling_down(&self, now: Millis, policy: &PolicySection) -> bool {
        self.status(now, policy).is_blocked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = 1_700_000_000_000;
    const MIN: Millis = 60_000;
    const HOUR: Millis = 60 * MIN;
    const DAY: Millis = 24 * HOUR;

    fn policy() -> PolicySection {
        PolicySection::default()
    }

    #[test]
    fn five_failures_in_a_day_block_for_a_day_after_the_fifth() {
        let p = policy();
        let mut counter = FailureCounter::new();
        for i in 0..4 {
            let status = counter.record_failure(T0 + i * HOUR, &p);
            assert_eq!(
                status,
                LockStatus::Open {
                    failures_left: 4 - i as u32
                }
            );
        }
        let fifth = T0 + 20 * HOUR;
        assert_eq!(
            counter.record_failure(fifth, &p),
            LockStatus::Blocked { until: fifth + DAY }
        );
        assert!(counter.is_blocked(fifth + DAY - 1, &p));
        assert!(!counter.is_blocked(fifth + DAY, &p));
        // Failures while blocked (a race with another kiosk) do not extend the block.
        assert_eq!(
            counter.record_failure(fifth + HOUR, &p),
            LockStatus::Blocked { until: fifth + DAY }
        );
        // After the block the user has five tries again.
        assert_eq!(
            counter.status(fifth + DAY, &p),
            LockStatus::Open { failures_left: 5 }
        );
    }

    #[test]
    fn failures_older_than_the_window_are_forgotten() {
        let p = policy();
        let mut counter = FailureCounter::new();
        for i in 0..4 {
            counter.record_failure(T0 + i * MIN, &p);
        }
        // The first failure is now 24 h old: only three remain, this makes four.
        let status = counter.record_failure(T0 + DAY, &p);
        assert_eq!(status, LockStatus::Open { failures_left: 1 });
        assert_eq!(
            counter.failures(),
            &[T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN, T0 + DAY]
        );
        assert_eq!(
            counter.status(T0 + 2 * DAY - 1, &p),
            LockStatus::Open { failures_left: 4 }
        );
        assert_eq!(
            counter.status(T0 + 2 * DAY, &p),
            LockStatus::Open { failures_left: 5 }
        );
    }

    #[test]
    fn success_resets_the_counter() {
        let p = policy();
        let mut counter = FailureCounter::new();
        for i in 0..4 {
            counter.record_failure(T0 + i, &p);
        }
        counter.reset();
        assert_eq!(
            counter.record_failure(T0 + 10, &p),
            LockStatus::Open { failures_left: 4 }
        );
    }

    #[test]
    fn counter_round_trips_through_json_compactly() {
        let p = policy();
        let mut counter = FailureCounter::new();
        counter.record_failure(T0, &p);
        let json = serde_json::to_string(&counter).unwrap();
        assert_eq!(json, format!("{{\"failures\":[{T0}]}}"));
        assert_eq!(
            serde_json::from_str::<FailureCounter>(&json).unwrap(),
            counter
        );
        for i in 1..5 {
            counter.record_failure(T0 + i, &p);
        }
        let json = serde_json::to_string(&counter).unwrap();
        assert_eq!(
            json,
            format!("{{\"failures\":[],\"blocked_until\":{}}}", T0 + 4 + DAY)
        );
        assert_eq!(
            serde_json::from_str::<FailureCounter>("{}").unwrap(),
            FailureCounter::new()
        );
    }

    #[test]
    fn configured_limits_apply() {
        let p = PolicySection {
            lockout_failures: 2,
            lockout_window_secs: 60,
            lockout_duration_secs: 600,
            ..policy()
        };
        let mut counter = FailureCounter::new();
        counter.record_failure(T0, &p);
        assert_eq!(
            counter.record_failure(T0 + MIN, &p),
            LockStatus::Open { failures_left: 1 },
            "outside 60 s"
        );
        assert_eq!(
            counter.record_failure(T0 + MIN + 1, &p),
            LockStatus::Blocked {
                until: T0 + MIN + 1 + 600_000
            }
        );
    }

    #[test]
    fn a_burst_at_one_kiosk_cools_it_down_and_success_does_not_reset_it() {
        let p = policy();
        let mut throttle = KioskThrottle::new();
        for i in 0..19 {
            assert!(!throttle.record_failure(T0 + i * 1000, &p).is_blocked());
        }
        let last = T0 + 19 * 1000;
        assert_eq!(
            throttle.record_failure(last, &p),
            LockStatus::Blocked {
                until: last + 5 * MIN
            }
        );
        assert!(throttle.is_cooling_down(last + 5 * MIN - 1, &p));
        assert!(!throttle.is_cooling_down(last + 5 * MIN, &p));
        // A slow trickle of failures (one per minute) never trips it.
        let mut slow = KioskThrottle::new();
        for i in 0..100 {
            assert!(
                !slow.record_failure(T0 + i * MIN, &p).is_blocked(),
                "failure {i}"
            );
        }
    }
}

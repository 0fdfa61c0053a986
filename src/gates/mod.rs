//! PURE checks the flow core relies on: who may use the kiosk, security questions, one-time codes,
//! TOTP, SSPR lockout and kiosk throttling, and the new-password policy. No I/O, no clock, no
//! randomness source: time ([`Millis`]) and entropy (bytes from the agent's CSPRNG) are arguments.

pub mod base32;
pub mod codes;
pub mod common_passwords;
pub mod eligibility;
pub mod entropy;
pub mod lockout;
pub mod password_policy;
pub mod qa;
pub mod totp;

/// A point in time: milliseconds since the Unix epoch, supplied by the caller (the agent owns the
/// clock).
pub type Millis = u64;

/// Seconds from configuration as milliseconds, saturating instead of overflowing.
pub(crate) fn secs_to_millis(secs: u64) -> Millis {
    secs.saturating_mul(1000)
}

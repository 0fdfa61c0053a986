//! The delivery port: how a one-time code or a notification reaches a person. [`email::EmailSender`]
//! is the SMTP adapter (lettre over rustls, trusting only the configured CA); `templates.rs` writes the
//! messages and `address.rs` checks addresses (both pure). Every adapter returns a [`DeliveryError`]
//! whose variant says what happens next. Nothing here may log or return a code, a password or any
//! other secret: a code appears only in the code message itself; a notification holds no secret.

pub mod address;
pub mod email;
pub mod templates;

use std::time::SystemTime;

/// Who is sending: printed in every message so a person can tell which kiosk acted for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    pub kiosk_id: String,
    /// Where the kiosk stands, in words ("Building 2, main lobby").
    pub location: String,
    /// How to reach the helpdesk ("+49 30 1234-5678" or "ext. 4357").
    pub helpdesk: String,
}

/// What a queued or privileged change did (or was to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Unlock,
    Reset,
    ResetAndUnlock,
}

/// A message about something that happened, for the account's owner or for the security admins.
/// Carries references and times, never a secret. `reference` is the code on the receipt and in the
/// audit log; `at` is when it happened (shown in UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// To the user: the password was reset at a kiosk.
    PasswordReset { reference: String, at: SystemTime },
    /// To the user: the account was unlocked; the password did not change.
    AccountUnlocked { reference: String, at: SystemTime },
    /// To the user: reset and unlocked in one go.
    ResetAndUnlocked { reference: String, at: SystemTime },
    /// To the user: changed with the current password (the "change my password" path).
    PasswordChanged { reference: String, at: SystemTime },
    /// To the user: a change queued during a directory outage has now been applied.
    QueuedApplied {
        change: Change,
        reference: String,
        at: SystemTime,
    },
    /// To the user: the directory refused a queued change; nothing changed.
    QueuedRejected {
        change: Change,
        reference: String,
        at: SystemTime,
    },
    /// To the user: a queued change could not be applied in time; nothing changed.
    QueuedExpired {
        change: Change,
        reference: String,
        at: SystemTime,
    },
    /// To the user: too many failed verifications; self-service is blocked until `until`.
    SsprLockout {
        reference: String,
        at: SystemTime,
        until: SystemTime,
    },
    /// To the security admins: a privileged account was changed through self-service.
    PrivilegedAction {
        /// The account as the directory names it (sAMAccountName or uid), never a typed claim.
        account: String,
        change: Change,
        reference: String,
        at: SystemTime,
    },
    /// To the security admins: an account's self-service is blocked after failed verifications.
    LockoutAlert {
        account: String,
        failures: u32,
        reference: String,
        at: SystemTime,
        until: SystemTime,
    },
    /// To the security admins: this kiosk saw a burst of failures and pauses until `until`.
    KioskThrottled {
        failures: u32,
        at: SystemTime,
        until: SystemTime,
    },
}

impl Notification {
    /// Whether this goes to the security admins rather than to the account's owner.
    pub fn is_admin_alert(&self) -> bool {
        matches!(
            self,
            Notification::PrivilegedAction { .. }
                | Notification::LockoutAlert { .. }
                | Notification::KioskThrottled { .. }
        )
    }
}

/// Why a message was not delivered. Nothing was sent in any case; the variant says what happens next.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The relay refused this message for good (unknown recipient, policy, size): retrying the same
    /// message will not help; the person picks another method, a notification is dropped and logged.
    #[error("the mail relay refused the message ({code}): {detail}")]
    Refused { code: u16, detail: String },
    /// The relay refused our credentials, or requires AUTH we cannot do on this connection: nothing will
    /// be delivered until the admin fixes `[delivery.email]` username, password or security.
    #[error(
        "the mail relay refused authentication: {detail}; fix [delivery.email] username/password"
    )]
    AuthFailed { detail: String },
    /// TLS failed: the relay's certificate does not chain to `[trust] services_ca` or does not name the
    /// host, the relay does not offer STARTTLS, or it insists on TLS we were told not to use. Nothing
    /// will be delivered until the admin fixes the relay certificate or the configuration.
    #[error("TLS with the mail relay failed: {detail}")]
    Tls { detail: String },
    /// The relay could not be reached or said "try again later" (4xx): retry later (a code send fails
    /// now and the person may try again or pick another method; a notification is retried).
    #[error("the mail relay is unreachable or deferred the message: {detail}")]
    Unreachable { detail: String },
    /// The whole send took longer than `[delivery.email] timeout_secs`: treated like `Unreachable`.
    #[error("the mail relay did not finish within {secs} s")]
    Timeout { secs: u64 },
    /// A bad address or configuration: the admin (or the directory data) must change before this can
    /// work; retrying will not help.
    #[error("{0}")]
    Config(String),
}

impl DeliveryError {
    /// Whether the same message may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DeliveryError::Unreachable { .. } | DeliveryError::Timeout { .. }
        )
    }
}

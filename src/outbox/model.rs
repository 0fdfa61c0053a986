//! The outbox's vocabulary: operation kinds and states, what is enqueued, what the receipt, the
//! notifier and an admin get back, and the policy (ages, retries, leases). Plain data, no database.

use rand::Rng as _;

use crate::directory::Dn;
use crate::secret::Secret;

use super::retry::RetryPolicy;
#[cfg(doc)]
use super::{UNCONFIRMED, UNREADABLE};

/// Which directory write an operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Unlock,
    Reset,
    ResetAndUnlock,
    /// Replace (or remove) the registration attribute.
    Registration,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Unlock => "unlock",
            Kind::Reset => "reset",
            Kind::ResetAndUnlock => "reset-unlock",
            Kind::Registration => "registration",
        }
    }

    pub(super) fn parse(text: &str) -> Option<Kind> {
        [
            Kind::Unlock,
            Kind::Reset,
            Kind::ResetAndUnlock,
            Kind::Registration,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// Where an operation is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Applying,
    Applied,
    Rejected,
    Expired,
    Purged,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Applying => "applying",
            State::Applied => "applied",
            State::Rejected => "rejected",
            State::Expired => "expired",
            State::Purged => "purged",
        }
    }

    pub(super) fn parse(text: &str) -> Option<State> {
        use State::*;
        [Pending, Applying, Applied, Rejected, Expired, Purged]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// How a terminal operation ended; what the person is notified of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The directory confirmed the write.
    Applied,
    /// The directory said no; `code` is a [`crate::directory::MessageCode`] string, or
    /// [`UNCONFIRMED`] / [`UNREADABLE`].
    Rejected { code: String },
    /// Too old to apply. `maybe_applied`: an earlier attempt may have reached the directory.
    Expired { maybe_applied: bool },
    /// An admin removed it before it applied.
    Purged { maybe_applied: bool },
}

impl Outcome {
    pub(super) fn state(&self) -> State {
        match self {
            Outcome::Applied => State::Applied,
            Outcome::Rejected { .. } => State::Rejected,
            Outcome::Expired { .. } => State::Expired,
            Outcome::Purged { .. } => State::Purged,
        }
    }
}

/// A directory write to record. `now` and every other time in this module are milliseconds since
/// the Unix epoch.
pub struct NewOperation {
    pub kind: Kind,
    pub dn: Dn,
    /// Operations with the same key apply in enqueue order (e.g. the lower-cased DN).
    pub user_key: String,
    /// Required for `Reset` and `ResetAndUnlock`, refused otherwise.
    pub new_password: Option<Secret>,
    /// For `Registration`: the new attribute value, `None` to remove it.
    pub registration_blob: Option<String>,
    /// Enqueueing the same key again returns the existing operation.
    pub idempotency_key: String,
    /// The receipt's reference; one is generated (`K7M-4QXP`) when `None`.
    pub reference: Option<String>,
    pub now: u64,
}

impl std::fmt::Debug for NewOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOperation")
            .field("kind", &self.kind)
            .field("dn", &self.dn)
            .field("idempotency_key", &self.idempotency_key)
            .field("reference", &self.reference)
            .field("new_password", &self.new_password)
            .field(
                "registration_blob",
                &self.registration_blob.as_ref().map(|_| "***"),
            )
            .finish_non_exhaustive()
    }
}

/// What the receipt shows for a recorded operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub reference: String,
    pub expires_at: u64,
    /// The idempotency key was already known: this is the earlier operation, nothing new was stored.
    pub existing: bool,
}

/// A terminal transition the notifier has to tell someone about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: i64,
    pub operation_id: i64,
    pub reference: String,
    pub kind: Kind,
    pub dn: Dn,
    pub outcome: Outcome,
    pub at: u64,
}

/// One operation as an admin sees it: never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSummary {
    pub id: i64,
    pub reference: String,
    pub kind: Kind,
    pub dn: Dn,
    pub user_key: String,
    pub state: State,
    pub created_at: u64,
    pub expires_at: u64,
    pub next_attempt_at: u64,
    pub attempts: u32,
    pub maybe_applied: bool,
    /// The directory's last error (its diagnostic, never a secret), or why it ended.
    pub last_error: Option<String>,
    pub outcome_code: Option<String>,
    /// A sealed secret is still stored (only while not terminal).
    pub holds_secret: bool,
}

/// Ages, retries and leases. Times are milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPolicy {
    pub unlock_max_age_ms: u64,
    /// Resets (with or without unlock) expire soon: the person stood at the kiosk and was told the
    /// password is *not yet active*; applying it hours later would surprise them.
    pub reset_max_age_ms: u64,
    pub registration_max_age_ms: u64,
    pub retry: RetryPolicy,
    /// How long a sync step may hold an operation in `applying`; after that a crashed step's
    /// operation is taken up again (and treated as possibly applied).
    pub lease_ms: u64,
}

impl Default for OutboxPolicy {
    fn default() -> OutboxPolicy {
        const MINUTE: u64 = 60_000;
        OutboxPolicy {
            unlock_max_age_ms: 24 * 60 * MINUTE,
            reset_max_age_ms: 15 * MINUTE,
            registration_max_age_ms: 24 * 60 * MINUTE,
            retry: RetryPolicy::default(),
            lease_ms: 2 * MINUTE,
        }
    }
}

impl OutboxPolicy {
    pub fn max_age_ms(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Unlock => self.unlock_max_age_ms,
            Kind::Reset | Kind::ResetAndUnlock => self.reset_max_age_ms,
            Kind::Registration => self.registration_max_age_ms,
        }
    }
}

/// 31 symbols without 0/O, 1/I/L: read aloud or typed from a receipt without doubt.
pub(super) const REFERENCE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A receipt reference such as `K7M-4QXP` (7 random symbols, about 34 bits).
pub fn new_reference() -> String {
    let mut rng = rand::rng();
    let mut reference = String::with_capacity(8);
    for i in 0..7 {
        if i == 3 {
            reference.push('-');
        }
        let index = rng.random_range(0..REFERENCE_ALPHABET.len());
        reference.push(char::from(REFERENCE_ALPHABET[index]));
    }
    reference
}

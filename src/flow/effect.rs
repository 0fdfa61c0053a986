//! Effects: what the core asks the agent to do. Imperative names; plain data. Results come back as
//! events. Secrets inside effects are `Secret`s and never logged.

use crate::config::kiosk::Method;
use crate::gates::codes::SendHistory;
use crate::gates::lockout::FailureCounter;
use crate::secret::Secret;

use super::registration::Registration;

/// What a session ended with, for the audit log (never a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    Unlocked,
    Reset,
    ResetAndUnlocked,
    Changed,
    Registered,
    Queued,
    VerificationFailed,
    DirectoryRefused,
    Blocked,
    /// The directory could not be asked.
    Unavailable,
    Abandoned,
    TimedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// What the person typed or the badge ID, as claimed (the agent hashes or truncates as configured).
    pub claimed: String,
    /// Whether the claim matched an eligible, registered account (never shown to the person).
    pub real: bool,
    pub methods_passed: Vec<Method>,
    pub outcome: AuditOutcome,
    pub reference: String,
}

/// Which directory write to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Unlock,
    Reset,
    ResetAndUnlock,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Unlock => "unlock",
            Action::Reset => "reset",
            Action::ResetAndUnlock => "reset-unlock",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Look the claimed identity up; answer with `Event::UserLookedUp`.
    LookUpUser {
        identifier: Claim,
    },
    /// Send a one-time code; answer with `Event::DeliveryAnswered`. Decoys produce no effect at all.
    SendCode {
        method: Method,
        destination: String,
        code: Secret,
        language: String,
    },
    /// Start a "press #" call; answer with `Event::CallEnded`. Without a destination (a decoy) the
    /// agent places no call and answers `confirmed: false` when the call timeout has passed.
    StartCall {
        destination: Option<String>,
        language: String,
    },
    /// Apply a directory write; answer with `Event::DirectoryAnswered`.
    Apply {
        dn: String,
        action: Action,
        new_password: Option<Secret>,
        reference: String,
    },
    /// Change the password bound as the user; answer with `Event::DirectoryAnswered`.
    ChangePassword {
        dn: String,
        current: Secret,
        new_password: Secret,
        reference: String,
    },
    /// Bind as the person to check their current password (registration); answer with
    /// `Event::PasswordVerified`.
    VerifyPassword {
        dn: String,
        password: Secret,
    },
    /// Store the person's registration (the agent seals it, keeping the failure counter); answer
    /// with `Event::DirectoryAnswered`.
    WriteRegistration {
        dn: String,
        registration: Box<Registration>,
    },
    /// Store this account's failure counter after a failed verification (fleet-wide SSPR lockout:
    /// the agent keeps real people's counters in the directory, decoys' in its memory).
    RecordFailure {
        account: AccountRef,
        counter: FailureCounter,
    },
    /// Verification succeeded: the failure counter starts again.
    ClearFailures {
        account: AccountRef,
    },
    /// Remember the code-send history (hourly cap) for this account when the session ends.
    RememberSends {
        account: AccountRef,
        sends: SendHistory,
    },
    /// Store the TOTP step just accepted, so the same code cannot be used again.
    RecordTotpStep {
        dn: String,
        step: u64,
    },
    Audit(AuditRecord),
    /// The event did not fit the current state: nothing changed. The agent tells the UI it refused
    /// the input (an out-of-sequence tap or field); for its own events it does nothing.
    Ignored,
}

/// Whose counters an effect is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    Person {
        dn: String,
    },
    /// A decoy, named by the keyed hash of the claim.
    Decoy {
        key: String,
    },
}

/// How the person claimed an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    Typed(String),
    Badge(String),
}

impl Claim {
    pub fn text(&self) -> &str {
        match self {
            Claim::Typed(s) | Claim::Badge(s) => s,
        }
    }
}

//! Events: facts the core reacts to — what the person did (already typed and wrapped in `Secret`s),
//! what the badge reader read, what the agent's effects produced, and the passing of time.

use crate::directory::UserRecord;
use crate::gates::codes::SendHistory;
use crate::gates::lockout::FailureCounter;
use crate::secret::Secret;

use super::registration::Registration;

/// The time and fresh randomness that come with every event (the core has no clock and no RNG).
#[derive(Debug, Clone)]
pub struct Context {
    /// Milliseconds since the Unix epoch.
    pub now: u64,
    pub entropy: [u8; 32],
}

#[derive(Debug, Clone)]
pub enum Event {
    /// About twice a second: timeouts and countdowns.
    Tick,
    /// The person touched the screen.
    Activity,
    LanguageChosen(String),
    /// A tap on a button or choice (`start`, `change-password`, `cancel`, `back`, `resend`, `done`,
    /// or a choice id such as `email:0` or `action:unlock`).
    Chosen(String),
    IdentifierSubmitted(String),
    CodeSubmitted(Secret),
    TotpSubmitted(Secret),
    CurrentPasswordSubmitted(Secret),
    AnswersSubmitted(Vec<Secret>),
    /// The new password typed twice; `draft` while typing (for the live checklist).
    PasswordTyped {
        new: Secret,
        confirm: Secret,
        draft: bool,
    },
    /// The agent's own reader saw a badge (normalised ID). The UI can never produce this event.
    BadgeRead(String),
    /// Answer to `Effect::LookUpUser`.
    UserLookedUp(Box<LookupAnswer>),
    /// Answer to `Effect::SendCode` / `StartCall`: whether the message left.
    DeliveryAnswered {
        ok: bool,
    },
    /// Answer to `Effect::StartCall`: the person answered and pressed #.
    CallEnded {
        confirmed: bool,
    },
    /// Registration: security answers for the questions the person picked (question id, answer).
    QaRegistered(Vec<(String, Secret)>),
    /// Registration: an email address or phone number to confirm.
    ContactSubmitted(String),
    /// Answer to `Effect::VerifyPassword`.
    PasswordVerified {
        ok: bool,
    },
    /// Answer to `Effect::Apply` / `ChangePassword`.
    DirectoryAnswered(ApplyOutcome),
}

/// What the agent found for a claimed identity.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "travels boxed in `Event::UserLookedUp`"
)]
pub enum LookupAnswer {
    Found {
        record: UserRecord,
        registration: Registration,
        failures: FailureCounter,
        sends: SendHistory,
    },
    /// Nobody (or more than one) matches. The counters are the agent's memory of this decoy.
    NotFound {
        failures: FailureCounter,
        sends: SendHistory,
    },
    /// The directory could not be asked: the kiosk is out of service for identification.
    Unavailable,
}

/// The outcome of a directory write, as the receipt will tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The directory confirmed it.
    Done,
    /// Recorded in the outbox; the directory was unreachable. Not active yet.
    Queued,
    /// The directory refused the new password (message code): the person chooses another.
    PasswordRejected(String),
    /// The current password was wrong (change password).
    WrongPassword,
    /// Not possible here (message code), e.g. a protected account.
    Failed(String),
}

//! The session: where it is (`State`), who it is about (`Subject`, real or decoy), and what has been
//! proven so far. Dropping a session drops every `Secret` it holds (codes, passwords), zeroizing them.

use crate::config::kiosk::Method;
use crate::directory::UserRecord;
use crate::gates::codes::{CodeState, SendHistory};
use crate::gates::lockout::FailureCounter;
use crate::protocol::{Receipt, RuleStatus};
use crate::secret::Secret;

use super::effect::{Action, Claim};
use super::registration::Registration;

/// One way to verify, as offered on the "choose a method" screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodOption {
    /// What the UI sends back: `email:0`, `sms:1`, `voice:0`, `qa`, `totp`, `badge`.
    pub id: String,
    pub method: Method,
    /// Where to send a code or place a call (real people only; never shown).
    pub destination: Option<String>,
    /// What the person sees (`j•••@e•••.com`).
    pub masked: Option<String>,
}

/// A real, eligible, registered person.
#[derive(Debug, Clone)]
pub struct Person {
    pub record: UserRecord,
    pub registration: Registration,
    pub privileged: bool,
    pub options: Vec<MethodOption>,
}

/// Someone the kiosk will not reveal anything about: unknown, ambiguous, unregistered, ineligible or
/// blocked. Looks and behaves like a person until verification, which always fails.
#[derive(Debug, Clone)]
pub struct Decoy {
    /// Keyed hash of the claim: names this decoy's counters in the agent's memory.
    pub key: String,
    pub options: Vec<MethodOption>,
    /// The security questions a decoy is "asked" (ids from the catalogue).
    pub questions: Vec<String>,
    /// Why this is a decoy, for the audit log only.
    pub reason: DecoyReason,
    /// The real account behind it, if any (unregistered, ineligible): failures still count against it.
    pub dn: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecoyReason {
    Unknown,
    NotRegistered,
    NotEligible,
    Blocked,
}

#[derive(Debug, Clone)]
pub enum Subject {
    Real(Box<Person>),
    Decoy(Decoy),
}

impl Subject {
    pub fn options(&self) -> &[MethodOption] {
        match self {
            Subject::Real(p) => &p.options,
            Subject::Decoy(d) => &d.options,
        }
    }

    pub fn is_real(&self) -> bool {
        matches!(self, Subject::Real(_))
    }
}

/// The gate being passed.
#[derive(Debug, Clone)]
pub enum Gate {
    /// Email or SMS one-time code. A decoy's code is made the same way but never sent.
    Code {
        option: MethodOption,
        code: Option<CodeState>,
        message: Option<String>,
    },
    /// "Answer and press #": no code to type, the screen waits for the call's result.
    Voice {
        option: MethodOption,
    },
    /// The question ids being asked.
    Qa {
        asked: Vec<String>,
    },
    Totp {
        wrong: u32,
        message: Option<String>,
    },
    /// Waiting for the person's badge on the reader.
    Badge,
}

/// Change-password path (the person knows the current password).
#[derive(Debug, Clone)]
pub enum Change {
    Entering {
        identifier: Option<String>,
        current: Option<Secret>,
        messages: Vec<String>,
        rules: Vec<RuleStatus>,
    },
    LookingUp {
        identifier: String,
        current: Secret,
        new: Secret,
    },
    Applying,
}

/// Registration at the kiosk: the person proved themselves with their current password.
#[derive(Debug, Clone)]
pub enum Register {
    /// Username and current password being entered.
    Authenticating {
        identifier: Option<String>,
        message: Option<String>,
    },
    LookingUp {
        current: Secret,
    },
    Verifying {
        person: Box<UserRecord>,
        registration: Box<Registration>,
    },
    /// The registration menu: what is registered so far, what to add.
    Menu {
        person: Box<UserRecord>,
        registration: Box<Registration>,
        message: Option<String>,
    },
    Qa {
        person: Box<UserRecord>,
        registration: Box<Registration>,
        messages: Vec<String>,
    },
    /// Confirming an address or number with a code sent to it.
    Contact {
        person: Box<UserRecord>,
        registration: Box<Registration>,
        method: Method,
        address: Option<String>,
        code: Option<CodeState>,
        message: Option<String>,
    },
    Totp {
        person: Box<UserRecord>,
        registration: Box<Registration>,
        secret: Secret,
        uri: Secret,
        message: Option<String>,
    },
    Writing {
        person: Box<UserRecord>,
    },
}

#[derive(Debug, Clone)]
pub enum State {
    Attract,
    Identify {
        message: Option<String>,
    },
    LookingUp,
    ChoosingMethod {
        message: Option<String>,
    },
    Verifying(Gate),
    ChoosingAction,
    ChoosingPassword {
        action: Action,
        messages: Vec<String>,
        rules: Vec<RuleStatus>,
    },
    Applying {
        action: Action,
    },
    Receipt {
        receipt: Receipt,
        until: u64,
    },
    Blocked {
        until: u64,
    },
    OutOfService {
        until: u64,
    },
    Change(Change),
    Register(Register),
}

#[derive(Debug, Clone)]
pub struct Session {
    /// Counts the sessions of one connection: results of a finished session's effects carry the old
    /// number and are dropped.
    pub generation: u64,
    pub state: State,
    pub language: String,
    pub started_at: u64,
    pub last_activity: u64,
    /// Short reference for receipts and audit, fixed when the session starts.
    pub reference: String,
    pub claim: Option<Claim>,
    pub subject: Option<Subject>,
    pub passed: Vec<Method>,
    pub failures: FailureCounter,
    pub sends: SendHistory,
    /// The action chosen once verified (for the receipt and the audit).
    pub action: Option<Action>,
    /// Whether this session's one audit record has been emitted.
    pub audited: bool,
    /// A message shown with the receipt (why it failed).
    pub pending_message: Option<String>,
}

impl Session {
    /// A fresh session on the attract screen.
    pub fn new(language: &str, now: u64) -> Session {
        Session {
            generation: 0,
            state: State::Attract,
            language: language.to_owned(),
            started_at: now,
            last_activity: now,
            reference: String::new(),
            claim: None,
            subject: None,
            passed: Vec::new(),
            failures: FailureCounter::new(),
            sends: SendHistory::new(),
            action: None,
            audited: false,
            pending_message: None,
        }
    }

    /// Whether this session has gone past the attract screen (and so will be audited).
    pub fn is_attempt(&self) -> bool {
        self.claim.is_some() || matches!(self.state, State::Change(_) | State::Register(_))
    }
}

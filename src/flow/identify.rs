//! Attract → Identify → LookingUp: who is this? A typed name or a badge tap starts a lookup; the answer
//! becomes a real subject only for an eligible, registered, unblocked person — everyone else gets a
//! decoy that looks the same.

use crate::config::kiosk::Method;
use crate::gates::eligibility::{self, Eligibility};

use super::FlowConfig;
use super::decoy;
use super::effect::{AccountRef, AuditOutcome, Claim, Effect};
use super::event::{Context, Event, LookupAnswer};
use super::finish;
use super::registration::Registration;
use super::session::{DecoyReason, MethodOption, Person, Session, State, Subject};
use crate::directory::UserRecord;

/// Characters for reference codes: no 0/O, 1/I/L, so they can be read out on the phone.
const REFERENCE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

pub(super) fn on_event(
    session: &mut Session,
    state: State,
    event: Event,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    match (state, event) {
        (State::Attract, Event::Chosen(id)) if id == "start" => {
            (State::Identify { message: None }, Vec::new())
        }
        (State::Attract, Event::Chosen(id)) if id == "change-password" => {
            begin(session, ctx);
            (
                State::Change(super::session::Change::Entering {
                    identifier: None,
                    current: None,
                    messages: Vec::new(),
                    rules: Vec::new(),
                }),
                Vec::new(),
            )
        }
        (State::Attract, Event::Chosen(id)) if id == "register" => {
            begin(session, ctx);
            (
                State::Register(super::session::Register::Authenticating {
                    identifier: None,
                    message: None,
                }),
                Vec::new(),
            )
        }
        (State::Attract | State::Identify { .. }, Event::IdentifierSubmitted(text)) => {
            let text = text.trim().to_owned();
            if text.is_empty() || text.chars().count() > 256 {
                return (
                    State::Identify {
                        message: Some("identify.empty".into()),
                    },
                    Vec::new(),
                );
            }
            claim(session, Claim::Typed(text), ctx)
        }
        (State::Attract | State::Identify { .. }, Event::BadgeRead(id)) => {
            claim(session, Claim::Badge(id), ctx)
        }
        (State::Identify { .. }, Event::Chosen(id)) if id == "back" => (State::Attract, Vec::new()),
        (State::LookingUp, Event::UserLookedUp(answer)) => looked_up(session, *answer, ctx, config),
        (state, _) => (state, vec![Effect::Ignored]),
    }
}

/// The session starts counting from the first interaction past the attract screen.
pub(super) fn begin(session: &mut Session, ctx: &Context) {
    session.started_at = ctx.now;
    session.reference = reference(&ctx.entropy);
}

/// `K7M-4QXP`: 8 characters from 40 bits of entropy.
fn reference(entropy: &[u8; 32]) -> String {
    let mut out = String::with_capacity(9);
    for (i, byte) in entropy[..8].iter().enumerate() {
        if i == 3 {
            out.push('-');
        }
        out.push(char::from(
            REFERENCE_ALPHABET[usize::from(*byte) % REFERENCE_ALPHABET.len()],
        ));
    }
    out
}

fn claim(session: &mut Session, claim: Claim, ctx: &Context) -> (State, Vec<Effect>) {
    begin(session, ctx);
    session.claim = Some(claim.clone());
    (
        State::LookingUp,
        vec![Effect::LookUpUser { identifier: claim }],
    )
}

fn looked_up(
    session: &mut Session,
    answer: LookupAnswer,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let claim = session.claim.clone().unwrap_or(Claim::Typed(String::new()));
    let (subject, failures, sends) = match answer {
        LookupAnswer::Unavailable => {
            let effects = finish::audit(session, AuditOutcome::Unavailable);
            return (
                State::OutOfService {
                    until: ctx.now + 15_000,
                },
                effects,
            );
        }
        LookupAnswer::NotFound { failures, sends } => (
            Subject::Decoy(decoy::decoy(config, claim.text(), DecoyReason::Unknown)),
            failures,
            sends,
        ),
        LookupAnswer::Found {
            record,
            registration,
            failures,
            sends,
        } => {
            let by_badge = matches!(claim, Claim::Badge(_));
            (
                real_or_decoy(config, claim.text(), record, registration, by_badge),
                failures,
                sends,
            )
        }
    };
    session.failures = failures;
    session.sends = sends;
    session.subject = Some(subject);
    if session.failures.is_blocked(ctx.now, &config.policy) {
        return finish::blocked(session, ctx);
    }
    (State::ChoosingMethod { message: None }, Vec::new())
}

fn real_or_decoy(
    config: &FlowConfig,
    claim: &str,
    record: UserRecord,
    registration: Registration,
    by_badge: bool,
) -> Subject {
    let privileged = match eligibility::eligibility(&record, &config.policy) {
        Eligibility::Eligible { privileged } => privileged,
        Eligibility::Denied(_) => {
            return Subject::Decoy(decoy_for(config, claim, &record, DecoyReason::NotEligible));
        }
    };
    let options = options_for(config, &record, &registration, privileged, by_badge);
    if !can_meet_requirement(config, &options, privileged) {
        return Subject::Decoy(decoy_for(
            config,
            claim,
            &record,
            DecoyReason::NotRegistered,
        ));
    }
    Subject::Real(Box::new(Person {
        record,
        registration,
        privileged,
        options,
    }))
}

fn decoy_for(
    config: &FlowConfig,
    claim: &str,
    record: &UserRecord,
    reason: DecoyReason,
) -> super::session::Decoy {
    let mut decoy = decoy::decoy(config, claim, reason);
    decoy.dn = Some(record.dn.as_str().to_owned());
    decoy
}

/// The methods this person registered that the kiosk and the policy allow.
fn options_for(
    config: &FlowConfig,
    record: &UserRecord,
    registration: &Registration,
    privileged: bool,
    by_badge: bool,
) -> Vec<MethodOption> {
    let offered = |m: Method| config.methods.contains(&m) && !(privileged && m == Method::Qa);
    let trust = config.policy.trust_directory_contacts;
    let mut emails = registration.confirmed_emails.clone();
    let mut mobiles = registration.confirmed_mobiles.clone();
    if trust {
        emails.extend(record.emails.iter().cloned());
        mobiles.extend(record.mobiles.iter().cloned());
    }
    dedup_case_insensitive(&mut emails);
    dedup_case_insensitive(&mut mobiles);
    let mut options = Vec::new();
    if offered(Method::Email) {
        options.extend(emails.iter().enumerate().map(|(i, e)| MethodOption {
            id: format!("email:{i}"),
            method: Method::Email,
            destination: Some(e.clone()),
            masked: Some(crate::mask::email(e)),
        }));
    }
    for (method, prefix) in [(Method::Sms, "sms"), (Method::Voice, "voice")] {
        if offered(method) {
            options.extend(mobiles.iter().enumerate().map(|(i, m)| MethodOption {
                id: format!("{prefix}:{i}"),
                method,
                destination: Some(m.clone()),
                masked: Some(crate::mask::phone(m)),
            }));
        }
    }
    let usable_answers = registration
        .answers
        .iter()
        .filter(|a| config.qa.questions.contains_key(&a.question_id))
        .count();
    if offered(Method::Qa) && config.qa.ask > 0 && usable_answers >= config.qa.ask as usize {
        options.push(MethodOption {
            id: "qa".into(),
            method: Method::Qa,
            destination: None,
            masked: None,
        });
    }
    if offered(Method::Totp) && registration.totp_secret.is_some() {
        options.push(MethodOption {
            id: "totp".into(),
            method: Method::Totp,
            destination: None,
            masked: None,
        });
    }
    if offered(Method::Badge) && !by_badge && !record.badges.is_empty() {
        options.push(MethodOption {
            id: "badge".into(),
            method: Method::Badge,
            destination: None,
            masked: None,
        });
    }
    options
}

fn dedup_case_insensitive(values: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    values.retain(|v| seen.insert(v.trim().to_lowercase()));
}

/// Whether the distinct methods available can satisfy the policy (a badge never alone).
pub(super) fn can_meet_requirement(
    config: &FlowConfig,
    options: &[MethodOption],
    privileged: bool,
) -> bool {
    let mut methods: Vec<Method> = options.iter().map(|o| o.method).collect();
    methods.sort();
    methods.dedup();
    let verifying = methods.iter().filter(|m| **m != Method::Badge).count();
    verifying >= 1 && methods.len() >= required(config, privileged)
}

pub(super) fn required(config: &FlowConfig, privileged: bool) -> usize {
    let n = if privileged {
        config.policy.privileged_methods_required
    } else {
        config.policy.methods_required
    };
    n.max(1) as usize
}

/// Whose counters this session's failures and sends belong to.
pub(super) fn account(subject: &Subject) -> AccountRef {
    match subject {
        Subject::Real(p) => AccountRef::Person {
            dn: p.record.dn.as_str().to_owned(),
        },
        Subject::Decoy(d) => match &d.dn {
            Some(dn) => AccountRef::Person { dn: dn.clone() },
            None => AccountRef::Decoy { key: d.key.clone() },
        },
    }
}

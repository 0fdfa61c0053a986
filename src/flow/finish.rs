//! After verification: choose the action, choose the new password, apply, show the receipt — and
//! every way a session ends (done, cancel, idle timeout, session cap, blocked), each audited once.

use crate::gates::password_policy::{self, UserWords};
use crate::protocol::{Receipt, ReceiptKind, RuleStatus};
use crate::secret::Secret;

use super::FlowConfig;
use super::effect::{Action, AuditOutcome, AuditRecord, Effect};
use super::event::{ApplyOutcome, Context, Event};
use super::identify::account;
use super::session::{Session, State, Subject};

/// How long the "blocked" and "out of service" screens stay up.
const NOTICE_MS: u64 = 15_000;

pub(super) fn on_event(
    session: &mut Session,
    state: State,
    event: Event,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    match (state, event) {
        (State::ChoosingAction, Event::Chosen(id)) => {
            let locked =
                matches!(session.subject.as_ref(), Some(Subject::Real(p)) if p.record.locked);
            let action = match id.as_str() {
                "action:unlock" if locked => Action::Unlock,
                "action:reset-unlock" if locked => Action::ResetAndUnlock,
                "action:reset" => Action::Reset,
                _ => return (State::ChoosingAction, Vec::new()),
            };
            session.action = Some(action);
            match action {
                Action::Unlock => apply(session, action, None),
                _ => (choosing_password(action), Vec::new()),
            }
        }
        (
            State::ChoosingPassword {
                action, messages, ..
            },
            Event::PasswordTyped {
                new,
                confirm,
                draft,
            },
        ) => {
            let report = password_policy::check(
                &new,
                &confirm,
                &user_words(session),
                &config.policy.password,
            );
            let rules = rule_statuses(&report);
            if draft {
                return (
                    State::ChoosingPassword {
                        action,
                        messages,
                        rules,
                    },
                    Vec::new(),
                );
            }
            if !report.acceptable() {
                let messages = report
                    .unmet_codes()
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                return (
                    State::ChoosingPassword {
                        action,
                        messages,
                        rules,
                    },
                    Vec::new(),
                );
            }
            apply(session, action, Some(new))
        }
        (State::ChoosingPassword { .. }, Event::Chosen(id)) if id == "back" => {
            let locked =
                matches!(session.subject.as_ref(), Some(Subject::Real(p)) if p.record.locked);
            if locked {
                (State::ChoosingAction, Vec::new())
            } else {
                (choosing_password(Action::Reset), Vec::new())
            }
        }
        (State::Applying { action }, Event::DirectoryAnswered(outcome)) => {
            applied(session, action, outcome, ctx, config)
        }
        (State::Receipt { .. }, Event::Chosen(id)) if id == "done" => (State::Attract, Vec::new()),
        (state, _) => (state, vec![Effect::Ignored]),
    }
}

pub(super) fn choosing_password(action: Action) -> State {
    State::ChoosingPassword {
        action,
        messages: Vec::new(),
        rules: Vec::new(),
    }
}

/// The words a new password must not contain: the login and the parts of the person's name.
fn user_words(session: &Session) -> UserWords {
    match session.subject.as_ref() {
        Some(Subject::Real(p)) => {
            let names: Vec<&str> = p.record.display_name.split_whitespace().collect();
            UserWords::new(&p.record.login, &names)
        }
        _ => UserWords::new(session.claim.as_ref().map_or("", |c| c.text()), &[]),
    }
}

pub(super) fn rule_statuses(report: &password_policy::PasswordReport) -> Vec<RuleStatus> {
    report
        .rules
        .iter()
        .map(|r| RuleStatus {
            rule: r.rule.as_str().to_owned(),
            ok: r.status == password_policy::Status::Met,
        })
        .collect()
}

fn apply(
    session: &mut Session,
    action: Action,
    new_password: Option<Secret>,
) -> (State, Vec<Effect>) {
    let Some(Subject::Real(person)) = session.subject.as_ref() else {
        // Unreachable by construction: only a verified real person reaches an action.
        return (State::Attract, Vec::new());
    };
    let effect = Effect::Apply {
        dn: person.record.dn.as_str().to_owned(),
        action,
        new_password,
        reference: session.reference.clone(),
    };
    (State::Applying { action }, vec![effect])
}

fn applied(
    session: &mut Session,
    action: Action,
    outcome: ApplyOutcome,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let (kind, audit_outcome, message) = match outcome {
        ApplyOutcome::Done => {
            let done = match action {
                Action::Unlock => AuditOutcome::Unlocked,
                Action::Reset => AuditOutcome::Reset,
                Action::ResetAndUnlock => AuditOutcome::ResetAndUnlocked,
            };
            (ReceiptKind::Done, done, None)
        }
        ApplyOutcome::Queued => (ReceiptKind::Queued, AuditOutcome::Queued, None),
        ApplyOutcome::PasswordRejected(code) => {
            return (
                State::ChoosingPassword {
                    action,
                    messages: vec![code],
                    rules: Vec::new(),
                },
                Vec::new(),
            );
        }
        ApplyOutcome::WrongPassword => (
            ReceiptKind::Failed,
            AuditOutcome::DirectoryRefused,
            Some("account.wrong_password".to_owned()),
        ),
        ApplyOutcome::Failed(code) => (
            ReceiptKind::Failed,
            AuditOutcome::DirectoryRefused,
            Some(code),
        ),
    };
    receipt(
        session,
        kind,
        action.as_str(),
        audit_outcome,
        message,
        ctx,
        config,
    )
}

pub(super) fn receipt(
    session: &mut Session,
    kind: ReceiptKind,
    action: &str,
    outcome: AuditOutcome,
    message: Option<String>,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let effects = audit(session, outcome);
    let receipt = Receipt {
        kind,
        action: action.to_owned(),
        reference: session.reference.clone(),
        kiosk_id: config.kiosk_id.clone(),
        time: ctx.now / 1000,
        helpdesk: config.helpdesk.clone(),
        qr: format!(
            "SSPR-KIOSK;kiosk={};ref={};t={}",
            config.kiosk_id,
            session.reference,
            ctx.now / 1000
        ),
    };
    let state = State::Receipt {
        receipt,
        until: ctx.now + config.receipt_secs * 1000,
    };
    session.pending_message = message;
    (state, effects)
}

/// The blocked notice: same for real people and decoys.
pub(super) fn blocked(session: &mut Session, ctx: &Context) -> (State, Vec<Effect>) {
    let effects = audit(session, AuditOutcome::Blocked);
    (
        State::Blocked {
            until: ctx.now + NOTICE_MS,
        },
        effects,
    )
}

/// The one audit record of this session (empty if already written).
pub(super) fn audit(session: &mut Session, outcome: AuditOutcome) -> Vec<Effect> {
    if session.audited || !session.is_attempt() {
        return Vec::new();
    }
    session.audited = true;
    let real = session.subject.as_ref().is_some_and(Subject::is_real);
    vec![Effect::Audit(AuditRecord {
        claimed: session
            .claim
            .as_ref()
            .map_or_else(String::new, |c| c.text().to_owned()),
        real,
        methods_passed: session.passed.clone(),
        outcome,
        reference: session.reference.clone(),
    })]
}

pub(super) fn on_tick(
    session: Session,
    ctx: &Context,
    config: &FlowConfig,
) -> (Session, Vec<Effect>) {
    let until = match &session.state {
        State::Attract => return (session, Vec::new()),
        State::Receipt { until, .. } | State::Blocked { until } | State::OutOfService { until } => {
            Some(*until)
        }
        _ => None,
    };
    match until {
        Some(until) if ctx.now >= until => end(session, AuditOutcome::Abandoned, ctx, config),
        Some(_) => (session, Vec::new()),
        None if ctx.now >= session.last_activity + config.idle_ms()
            || ctx.now >= session.started_at + config.cap_ms() =>
        {
            end(session, AuditOutcome::TimedOut, ctx, config)
        }
        None => (session, Vec::new()),
    }
}

/// Ends the session: audits it (once), hands counters back to the agent, and starts a fresh one.
/// Every secret the old session held is dropped — and zeroized — here.
pub(super) fn end(
    mut session: Session,
    outcome: AuditOutcome,
    ctx: &Context,
    config: &FlowConfig,
) -> (Session, Vec<Effect>) {
    let mut effects = audit(&mut session, outcome);
    if let Some(subject) = session.subject.as_ref() {
        effects.push(Effect::RememberSends {
            account: account(subject),
            sends: session.sends.clone(),
        });
    }
    let language = config.default_language.clone();
    let generation = session.generation + 1;
    drop(session);
    let mut fresh = Session::new(&language, ctx.now);
    fresh.generation = generation;
    (fresh, effects)
}

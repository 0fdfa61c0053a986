//! Change password (the person knows the current one — MIM had no such path; its users asked for it):
//! username, current password, new password twice. Done as the directory's own change, bound as the
//! person, so the directory applies its history and age rules natively. An unknown username is told
//! exactly what a wrong password is told.

use crate::gates::password_policy::{self, UserWords};
use crate::protocol::ReceiptKind;

use super::FlowConfig;
use super::effect::{AuditOutcome, Claim, Effect};
use super::event::{ApplyOutcome, Context, Event, LookupAnswer};
use super::finish::{self, rule_statuses};
use super::session::{Change, Session, State};

pub(super) fn on_event(
    session: &mut Session,
    change: Change,
    event: Event,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    match (change, event) {
        (
            Change::Entering {
                current,
                messages,
                rules,
                ..
            },
            Event::IdentifierSubmitted(text),
        ) => {
            let identifier = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            entering(identifier, current, messages, rules)
        }
        (
            Change::Entering {
                identifier,
                messages,
                rules,
                ..
            },
            Event::CurrentPasswordSubmitted(secret),
        ) => {
            let current = Some(secret).filter(|s| !s.is_empty());
            entering(identifier, current, messages, rules)
        }
        (
            Change::Entering {
                identifier,
                current,
                messages,
                ..
            },
            Event::PasswordTyped {
                new,
                confirm,
                draft,
            },
        ) => {
            let words = UserWords::new(identifier.as_deref().unwrap_or(""), &[]);
            let report = password_policy::check(&new, &confirm, &words, &config.policy.password);
            let rules = rule_statuses(&report);
            if draft {
                return entering(identifier, current, messages, rules);
            }
            let (Some(name), Some(current_pw)) = (identifier.clone(), current.clone()) else {
                let messages = vec!["change.incomplete".to_owned()];
                return entering(identifier, current, messages, rules);
            };
            if !report.acceptable() {
                let messages = report
                    .unmet_codes()
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                return entering(identifier, current, messages, rules);
            }
            session.claim = Some(Claim::Typed(name.clone()));
            let effect = Effect::LookUpUser {
                identifier: Claim::Typed(name.clone()),
            };
            (
                State::Change(Change::LookingUp {
                    identifier: name,
                    current: current_pw,
                    new,
                }),
                vec![effect],
            )
        }
        (
            Change::LookingUp {
                identifier,
                current,
                new,
            },
            Event::UserLookedUp(answer),
        ) => match *answer {
            LookupAnswer::Found { record, .. } => {
                let effect = Effect::ChangePassword {
                    dn: record.dn.as_str().to_owned(),
                    current,
                    new_password: new,
                    reference: session.reference.clone(),
                };
                (State::Change(Change::Applying), vec![effect])
            }
            // Nobody by that name: the same answer as a wrong password (the agent pads the timing).
            LookupAnswer::NotFound { .. } => {
                wrong_password(Some(identifier), "account.wrong_password")
            }
            LookupAnswer::Unavailable => {
                let effects = finish::audit(session, AuditOutcome::Unavailable);
                (
                    State::OutOfService {
                        until: ctx.now + 15_000,
                    },
                    effects,
                )
            }
        },
        (Change::Applying, Event::DirectoryAnswered(outcome)) => {
            let identifier = session.claim.as_ref().map(|c| c.text().to_owned());
            match outcome {
                ApplyOutcome::Done => finish::receipt(
                    session,
                    ReceiptKind::Done,
                    "change",
                    AuditOutcome::Changed,
                    None,
                    ctx,
                    config,
                ),
                ApplyOutcome::WrongPassword => wrong_password(identifier, "account.wrong_password"),
                ApplyOutcome::PasswordRejected(code) => wrong_password(identifier, &code),
                ApplyOutcome::Queued => finish::receipt(
                    session,
                    ReceiptKind::Queued,
                    "change",
                    AuditOutcome::Queued,
                    None,
                    ctx,
                    config,
                ),
                ApplyOutcome::Failed(code) => finish::receipt(
                    session,
                    ReceiptKind::Failed,
                    "change",
                    AuditOutcome::DirectoryRefused,
                    Some(code),
                    ctx,
                    config,
                ),
            }
        }
        (change, _) => (State::Change(change), vec![Effect::Ignored]),
    }
}

fn entering(
    identifier: Option<String>,
    current: Option<crate::secret::Secret>,
    messages: Vec<String>,
    rules: Vec<crate::protocol::RuleStatus>,
) -> (State, Vec<Effect>) {
    let form = Change::Entering {
        identifier,
        current,
        messages,
        rules,
    };
    (State::Change(form), Vec::new())
}

/// Back to the form, username kept, passwords cleared (the person types them again).
fn wrong_password(identifier: Option<String>, message: &str) -> (State, Vec<Effect>) {
    let state = Change::Entering {
        identifier,
        current: None,
        messages: vec![message.to_owned()],
        rules: Vec::new(),
    };
    (State::Change(state), Vec::new())
}

//! What the UI shows for a session: a pure function of the session and the time. Decoys produce the
//! same kind of view as real people (masked destinations, the typed name as greeting).

use crate::protocol::{Choice, ScreenId, View};

use super::config::FlowConfig;
use super::effect::Action;
use super::session::{Change, Gate, Register, Session, State, Subject};
use crate::config::kiosk::Method;

/// The last seconds of the idle timeout show a countdown.
const COUNTDOWN_MS: u64 = 10_000;

pub fn view(session: &Session, now: u64, config: &FlowConfig) -> View {
    let mut view = View::new(screen(&session.state), &session.language);
    match &session.state {
        State::Attract
        | State::LookingUp
        | State::Applying { .. }
        | State::OutOfService { .. }
        | State::Blocked { .. } => {}
        State::Identify { message } => view.messages.extend(message.clone()),
        State::ChoosingMethod { message } => {
            view.messages.extend(message.clone());
            if let Some(subject) = &session.subject {
                view.choices = subject
                    .options()
                    .iter()
                    .filter(|o| !session.passed.contains(&o.method))
                    .map(|o| Choice {
                        id: o.id.clone(),
                        label: format!("method.{}", o.method.name()),
                        detail: o.masked.clone(),
                    })
                    .collect();
            }
        }
        State::Verifying(gate) => gate_view(&mut view, gate, session, now, config),
        State::ChoosingAction => {
            view.choices = [Action::Unlock, Action::ResetAndUnlock, Action::Reset]
                .iter()
                .map(|a| Choice {
                    id: format!("action:{}", a.as_str()),
                    label: format!("action.{}", a.as_str()),
                    detail: None,
                })
                .collect();
        }
        State::ChoosingPassword {
            messages, rules, ..
        } => {
            view.messages.clone_from(messages);
            view.rules.clone_from(rules);
        }
        State::Receipt { receipt, .. } => {
            view.receipt = Some(receipt.clone());
            view.messages.extend(session.pending_message.clone());
        }
        State::Change(change) => {
            if let Change::Entering {
                messages, rules, ..
            } = change
            {
                view.messages.clone_from(messages);
                view.rules.clone_from(rules);
            }
        }
        State::Register(step) => register_view(&mut view, step, config),
    }
    view.greeting = match (&session.subject, &session.state) {
        (
            _,
            State::Register(
                Register::Menu { person, .. }
                | Register::Qa { person, .. }
                | Register::Contact { person, .. }
                | Register::Totp { person, .. },
            ),
        ) => Some(person.display_name.clone()),
        (Some(Subject::Real(person)), _) => Some(person.record.display_name.clone()),
        (Some(Subject::Decoy(_)), _) => session.claim.as_ref().map(|c| c.text().to_owned()),
        (None, _) => None,
    };
    if !matches!(
        session.state,
        State::Attract | State::Receipt { .. } | State::Blocked { .. } | State::OutOfService { .. }
    ) {
        let idle_end = session.last_activity + config.idle_ms();
        let end = idle_end.min(session.started_at + config.cap_ms());
        let left = end.saturating_sub(now);
        if left <= COUNTDOWN_MS {
            view.countdown = Some(u32::try_from(left.div_ceil(1000)).unwrap_or(0));
        }
    }
    view
}

fn gate_view(view: &mut View, gate: &Gate, session: &Session, now: u64, config: &FlowConfig) {
    match gate {
        Gate::Code {
            option,
            code,
            message,
        } => {
            view.messages.extend(message.clone());
            view.digits = Some(config.codes.digits);
            view.choices = vec![Choice {
                id: option.id.clone(),
                label: format!("method.{}", option.method.name()),
                detail: option.masked.clone(),
            }];
            if let Some(code) = code {
                view.attempts_left = Some(
                    config
                        .codes
                        .max_attempts
                        .saturating_sub(code.wrong_attempts()),
                );
            }
            let resend_at = session
                .sends
                .sends()
                .last()
                .map_or(0, |t| t + config.codes.resend_cooldown_secs * 1000);
            if resend_at > now {
                view.resend_in = Some(u32::try_from((resend_at - now).div_ceil(1000)).unwrap_or(0));
            }
        }
        Gate::Voice { option } => {
            view.choices = vec![Choice {
                id: option.id.clone(),
                label: "method.voice".into(),
                detail: option.masked.clone(),
            }];
        }
        Gate::Qa { asked } => {
            view.choices = asked
                .iter()
                .map(|id| Choice {
                    id: id.clone(),
                    label: "qa.question".into(),
                    detail: config.qa.questions.get(id).cloned(),
                })
                .collect();
        }
        Gate::Totp { wrong, message } => {
            view.messages.extend(message.clone());
            view.digits = Some(config.totp.digits);
            view.attempts_left = Some(config.codes.max_attempts.saturating_sub(*wrong));
        }
        Gate::Badge => {}
    }
}

fn register_view(view: &mut View, step: &Register, config: &FlowConfig) {
    match step {
        Register::Authenticating { message, .. } => view.messages.extend(message.clone()),
        Register::Menu {
            registration,
            message,
            ..
        } => {
            view.messages.extend(message.clone());
            let status =
                |done: bool| Some(if done { "registered" } else { "not-registered" }.to_owned());
            let mut choices = Vec::new();
            let mut offer = |method: Method, id: &str, done: bool| {
                if config.methods.contains(&method) {
                    choices.push(Choice {
                        id: id.into(),
                        label: id.replace(':', "."),
                        detail: status(done),
                    });
                }
            };
            offer(Method::Qa, "register:qa", !registration.answers.is_empty());
            offer(
                Method::Email,
                "register:email",
                !registration.confirmed_emails.is_empty(),
            );
            offer(
                Method::Sms,
                "register:mobile",
                !registration.confirmed_mobiles.is_empty(),
            );
            offer(
                Method::Totp,
                "register:totp",
                registration.totp_secret.is_some(),
            );
            choices.push(Choice {
                id: "register:finish".into(),
                label: "register.finish".into(),
                detail: None,
            });
            view.choices = choices;
        }
        Register::Qa { messages, .. } => {
            view.messages.clone_from(messages);
            view.choices = config
                .qa
                .questions
                .iter()
                .map(|(id, text)| Choice {
                    id: id.clone(),
                    label: "qa.question".into(),
                    detail: Some(text.clone()),
                })
                .collect();
        }
        Register::Contact {
            method,
            address,
            code,
            message,
            ..
        } => {
            view.messages.extend(message.clone());
            view.choices = vec![Choice {
                id: format!("register:{}", method.name()),
                label: format!("method.{}", method.name()),
                detail: address.as_ref().map(|a| {
                    if *method == Method::Email {
                        crate::mask::email(a)
                    } else {
                        crate::mask::phone(a)
                    }
                }),
            }];
            if code.is_some() {
                view.digits = Some(config.codes.digits);
            }
        }
        Register::Totp { uri, message, .. } => {
            view.messages.extend(message.clone());
            view.qr = Some(uri.expose().to_owned());
            view.digits = Some(config.totp.digits);
        }
        Register::LookingUp { .. } | Register::Verifying { .. } | Register::Writing { .. } => {}
    }
}

fn screen(state: &State) -> ScreenId {
    match state {
        State::Attract => ScreenId::Attract,
        State::Identify { .. } => ScreenId::Identify,
        State::LookingUp
        | State::Applying { .. }
        | State::Change(Change::LookingUp { .. } | Change::Applying) => ScreenId::Working,
        State::ChoosingMethod { .. } => ScreenId::ChooseMethod,
        State::Verifying(Gate::Code { .. }) => ScreenId::EnterCode,
        State::Verifying(Gate::Voice { .. }) => ScreenId::VoiceCall,
        State::Verifying(Gate::Qa { .. }) => ScreenId::Qa,
        State::Verifying(Gate::Totp { .. }) => ScreenId::Totp,
        State::Verifying(Gate::Badge) => ScreenId::Badge,
        State::ChoosingAction => ScreenId::ChooseAction,
        State::ChoosingPassword { .. } => ScreenId::NewPassword,
        State::Receipt { .. } => ScreenId::Receipt,
        State::Blocked { .. } => ScreenId::Blocked,
        State::OutOfService { .. } => ScreenId::OutOfService,
        State::Change(Change::Entering { .. }) => ScreenId::ChangePassword,
        State::Register(step) => match step {
            Register::Authenticating { .. } => ScreenId::RegisterAuth,
            Register::Menu { .. } => ScreenId::RegisterStart,
            Register::Qa { .. } => ScreenId::RegisterQa,
            Register::Contact { .. } => ScreenId::RegisterContact,
            Register::Totp { .. } => ScreenId::RegisterTotp,
            Register::LookingUp { .. } | Register::Verifying { .. } | Register::Writing { .. } => {
                ScreenId::Working
            }
        },
    }
}

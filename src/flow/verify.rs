//! ChoosingMethod ⇄ Verifying: the person picks a method they registered, passes one gate at a time
//! until the policy's required count is met. Decoys walk the same screens and always fail the same way.
//! A failed gate counts towards the SSPR lockout.

use crate::config::kiosk::Method;
use crate::gates::codes::{CodeState, CodeVerdict, IssueError, SendRefused};
use crate::gates::qa::{self, GivenAnswer, QaVerdict};
use crate::gates::totp::{self, TotpParams, TotpVerdict};
use crate::secret::Secret;

use super::effect::Effect;
use super::event::{Context, Event};
use super::identify::{account, required};
use super::session::{Gate, MethodOption, Session, State, Subject};
use super::{FlowConfig, finish};

pub(super) fn on_event(
    session: &mut Session,
    state: State,
    event: Event,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    match (state, event) {
        (State::ChoosingMethod { .. }, Event::Chosen(id)) if id == "back" => {
            (State::Attract, Vec::new())
        }
        (State::ChoosingMethod { message }, Event::Chosen(id)) => choose(session, &id, ctx, config)
            .unwrap_or((State::ChoosingMethod { message }, vec![Effect::Ignored])),
        (State::Verifying(_), Event::Chosen(id)) if id == "back" => {
            (State::ChoosingMethod { message: None }, Vec::new())
        }
        (State::Verifying(gate), event) => on_gate(session, gate, event, ctx, config),
        (state, _) => (state, vec![Effect::Ignored]),
    }
}

/// Starts the gate for the chosen option; `None` if the id is not one of this session's options.
fn choose(
    session: &mut Session,
    id: &str,
    ctx: &Context,
    config: &FlowConfig,
) -> Option<(State, Vec<Effect>)> {
    let subject = session.subject.as_ref()?;
    let option = subject.options().iter().find(|o| o.id == id)?.clone();
    if session.passed.contains(&option.method) {
        return None;
    }
    let real = subject.is_real();
    let language = session.language.clone();
    Some(match option.method {
        Method::Email | Method::Sms => {
            let issued = CodeState::issue(&mut session.sends, &config.codes, &ctx.entropy, ctx.now);
            match issued {
                Ok(code) => {
                    let mut effects = Vec::new();
                    if let (true, Some(destination)) = (real, option.destination.clone()) {
                        effects.push(Effect::SendCode {
                            method: option.method,
                            destination,
                            code: code.code().clone(),
                            language,
                        });
                    }
                    (
                        State::Verifying(Gate::Code {
                            option,
                            code: Some(code),
                            message: None,
                        }),
                        effects,
                    )
                }
                Err(e) => (
                    State::ChoosingMethod {
                        message: Some(refusal_code(e).into()),
                    },
                    Vec::new(),
                ),
            }
        }
        Method::Voice => {
            let destination = if real {
                option.destination.clone()
            } else {
                None
            };
            (
                State::Verifying(Gate::Voice { option }),
                vec![Effect::StartCall {
                    destination,
                    language,
                }],
            )
        }
        Method::Qa => {
            let asked = match subject {
                Subject::Real(person) => match qa::choose_questions(
                    &person.registration.answers,
                    &config.qa,
                    &ctx.entropy,
                ) {
                    Ok(chosen) => chosen.into_iter().map(|a| a.question_id.clone()).collect(),
                    Err(_) => return None,
                },
                Subject::Decoy(decoy) => decoy.questions.clone(),
            };
            (State::Verifying(Gate::Qa { asked }), Vec::new())
        }
        Method::Totp => (
            State::Verifying(Gate::Totp {
                wrong: 0,
                message: None,
            }),
            Vec::new(),
        ),
        Method::Badge => (State::Verifying(Gate::Badge), Vec::new()),
        Method::ExternalMfa => return None,
    })
}

fn refusal_code(error: IssueError) -> &'static str {
    match error {
        IssueError::Refused(SendRefused::CoolingDown { .. }) => "code.cooling_down",
        IssueError::Refused(SendRefused::HourlyLimit { .. }) => "code.hourly_limit",
        _ => "code.not_sent",
    }
}

fn on_gate(
    session: &mut Session,
    gate: Gate,
    event: Event,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let real = session.subject.as_ref().is_some_and(Subject::is_real);
    match (gate, event) {
        (Gate::Code { option, code, .. }, Event::CodeSubmitted(typed)) => {
            code_typed(session, option, code, &typed, real, ctx, config)
        }
        (Gate::Code { option, code, .. }, Event::Chosen(id)) if id == "resend" => {
            resend(session, option, code, real, ctx, config)
        }
        (Gate::Code { .. } | Gate::Voice { .. }, Event::DeliveryAnswered { ok: false }) => (
            State::ChoosingMethod {
                message: Some("delivery.failed".into()),
            },
            Vec::new(),
        ),
        (Gate::Voice { option }, Event::CallEnded { confirmed }) => {
            if real && confirmed {
                passed(session, option.method, ctx, config)
            } else {
                failed(session, "call.not_confirmed", ctx, config)
            }
        }
        (Gate::Qa { asked }, Event::AnswersSubmitted(answers)) => {
            let verdict = match session.subject.as_ref() {
                Some(Subject::Real(person)) => {
                    let stored: Vec<_> = asked
                        .iter()
                        .filter_map(|id| {
                            person
                                .registration
                                .answers
                                .iter()
                                .find(|a| &a.question_id == id)
                        })
                        .collect();
                    let given: Vec<GivenAnswer> = asked
                        .iter()
                        .zip(answers)
                        .map(|(id, answer)| GivenAnswer {
                            question_id: id.clone(),
                            answer,
                        })
                        .collect();
                    qa::verify_answers(&given, &stored).unwrap_or(QaVerdict::Failed)
                }
                _ => QaVerdict::Failed,
            };
            match verdict {
                QaVerdict::Passed => passed(session, Method::Qa, ctx, config),
                QaVerdict::Failed => failed(session, "qa.wrong", ctx, config),
            }
        }
        (Gate::Totp { wrong, .. }, Event::TotpSubmitted(typed)) => {
            totp_typed(session, wrong, &typed, ctx, config)
        }
        (Gate::Badge, Event::BadgeRead(id)) => {
            let matches = match session.subject.as_ref() {
                Some(Subject::Real(person)) => person
                    .record
                    .badges
                    .iter()
                    .any(|b| b.eq_ignore_ascii_case(&id)),
                _ => false,
            };
            if matches {
                passed(session, Method::Badge, ctx, config)
            } else {
                failed(session, "badge.wrong", ctx, config)
            }
        }
        (gate, _) => (State::Verifying(gate), vec![Effect::Ignored]),
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "the gate's parts, moved in and out unchanged"
)]
fn code_typed(
    session: &mut Session,
    option: MethodOption,
    code: Option<CodeState>,
    typed: &Secret,
    real: bool,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let Some(mut code) = code else {
        return (State::ChoosingMethod { message: None }, Vec::new());
    };
    // A decoy's code was never delivered: whatever was typed is checked as a miss, with the same
    // bookkeeping (tries, expiry) as a real code.
    let miss = Secret::new("\u{0}");
    let verdict = code.verify(if real { typed } else { &miss }, ctx.now, &config.codes);
    match verdict {
        CodeVerdict::Accepted => passed(session, option.method, ctx, config),
        CodeVerdict::Wrong { attempts_left } if attempts_left > 0 => {
            let gate = Gate::Code {
                option,
                code: Some(code),
                message: Some("code.wrong".into()),
            };
            (State::Verifying(gate), Vec::new())
        }
        CodeVerdict::Expired => failed(session, "code.expired", ctx, config),
        _ => failed(session, "code.dead", ctx, config),
    }
}

fn resend(
    session: &mut Session,
    option: MethodOption,
    code: Option<CodeState>,
    real: bool,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let Some(mut code) = code else {
        return (State::ChoosingMethod { message: None }, Vec::new());
    };
    match code.resend(&mut session.sends, &config.codes, &ctx.entropy, ctx.now) {
        Ok(()) => {
            let mut effects = Vec::new();
            if let (true, Some(destination)) = (real, option.destination.clone()) {
                effects.push(Effect::SendCode {
                    method: option.method,
                    destination,
                    code: code.code().clone(),
                    language: session.language.clone(),
                });
            }
            (
                State::Verifying(Gate::Code {
                    option,
                    code: Some(code),
                    message: Some("code.sent_again".into()),
                }),
                effects,
            )
        }
        Err(e) => (
            State::Verifying(Gate::Code {
                option,
                code: Some(code),
                message: Some(refusal_code(e).into()),
            }),
            Vec::new(),
        ),
    }
}

fn totp_typed(
    session: &mut Session,
    wrong: u32,
    typed: &Secret,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let params = TotpParams::from_config(&config.totp);
    let accepted = match session.subject.as_mut() {
        Some(Subject::Real(person)) => match &person.registration.totp_secret {
            Some(secret) => match totp::verify(
                secret,
                typed,
                ctx.now,
                person.registration.totp_last_step,
                &params,
            ) {
                Ok(TotpVerdict::Accepted { step }) => {
                    person.registration.totp_last_step = Some(step);
                    Some(Effect::RecordTotpStep {
                        dn: person.record.dn.as_str().to_owned(),
                        step,
                    })
                }
                _ => None,
            },
            None => None,
        },
        _ => None,
    };
    if let Some(record_step) = accepted {
        let (state, mut effects) = passed(session, Method::Totp, ctx, config);
        effects.insert(0, record_step);
        return (state, effects);
    }
    let wrong = wrong + 1;
    if wrong >= config.codes.max_attempts {
        failed(session, "totp.wrong", ctx, config)
    } else {
        (
            State::Verifying(Gate::Totp {
                wrong,
                message: Some("totp.wrong".into()),
            }),
            Vec::new(),
        )
    }
}

/// A gate passed: verified when the policy's count is met (with at least one non-badge method).
fn passed(
    session: &mut Session,
    method: Method,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let Some(Subject::Real(person)) = session.subject.as_ref() else {
        return failed(session, "verify.failed", ctx, config);
    };
    session.passed.push(method);
    let need = required(config, person.privileged);
    let verifying = session.passed.iter().any(|m| *m != Method::Badge);
    if session.passed.len() < need || !verifying {
        return (
            State::ChoosingMethod {
                message: Some("verify.another_method".into()),
            },
            Vec::new(),
        );
    }
    // ════ identity verified: the account may be changed from here on ════
    let account = account(&Subject::Real(person.clone()));
    session.failures.reset();
    let effects = vec![Effect::ClearFailures { account }];
    if person.record.locked {
        (State::ChoosingAction, effects)
    } else {
        session.action = Some(super::effect::Action::Reset);
        (
            finish::choosing_password(super::effect::Action::Reset),
            effects,
        )
    }
}

/// A gate failed: one more failure on the account; blocked after the policy's limit.
fn failed(
    session: &mut Session,
    message: &str,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let Some(subject) = session.subject.as_ref() else {
        return (State::Attract, Vec::new());
    };
    let account = account(subject);
    let status = session.failures.record_failure(ctx.now, &config.policy);
    let mut effects = vec![Effect::RecordFailure {
        account,
        counter: session.failures.clone(),
    }];
    if status.is_blocked() {
        let (state, more) = finish::blocked(session, ctx);
        effects.extend(more);
        return (state, effects);
    }
    (
        State::ChoosingMethod {
            message: Some(message.to_owned()),
        },
        effects,
    )
}

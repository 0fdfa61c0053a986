//! Registration at the kiosk: the person proves themselves with their current password (bound as
//! them, so the directory's own lockout counts), then registers security answers, confirms an email
//! address or mobile number with a code sent while they stand there, and enrolls an authenticator app
//! by scanning a QR code. Nothing is stored until they finish; then the agent seals and writes it.
//! An unknown username is told exactly what a wrong password is told.

use sha2::{Digest, Sha256};

use crate::config::kiosk::Method;
use crate::gates::codes::{CodeState, CodeVerdict};
use crate::gates::qa::{self, GivenAnswer, QaError, SALT_LEN};
use crate::gates::totp::{self, Algorithm, TotpParams, TotpVerdict};
use crate::protocol::ReceiptKind;

use super::FlowConfig;
use super::effect::{AuditOutcome, Claim, Effect};
use super::event::{ApplyOutcome, Context, Event, LookupAnswer};
use super::finish;
use super::session::{Register, Session, State};

pub(super) fn on_event(
    session: &mut Session,
    step: Register,
    event: Event,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let wrap = |r: Register| State::Register(r);
    match (step, event) {
        (Register::Authenticating { message, .. }, Event::IdentifierSubmitted(text)) => {
            let identifier = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            (
                wrap(Register::Authenticating {
                    identifier,
                    message,
                }),
                Vec::new(),
            )
        }
        (Register::Authenticating { identifier, .. }, Event::CurrentPasswordSubmitted(current)) => {
            let Some(name) = identifier.clone().filter(|_| !current.is_empty()) else {
                return (
                    wrap(Register::Authenticating {
                        identifier,
                        message: Some("register.incomplete".into()),
                    }),
                    Vec::new(),
                );
            };
            session.claim = Some(Claim::Typed(name.clone()));
            (
                wrap(Register::LookingUp { current }),
                vec![Effect::LookUpUser {
                    identifier: Claim::Typed(name),
                }],
            )
        }
        (Register::LookingUp { current }, Event::UserLookedUp(answer)) => match *answer {
            LookupAnswer::Found {
                record,
                registration,
                ..
            } if !record.disabled => {
                let effect = Effect::VerifyPassword {
                    dn: record.dn.as_str().to_owned(),
                    password: current,
                };
                (
                    wrap(Register::Verifying {
                        person: Box::new(record),
                        registration: Box::new(registration),
                    }),
                    vec![effect],
                )
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
            // Unknown or disabled: the same answer as a wrong password (the agent pads the timing).
            _ => wrong_password(session),
        },
        (
            Register::Verifying {
                person,
                registration,
            },
            Event::PasswordVerified { ok },
        ) => {
            if ok {
                (
                    wrap(Register::Menu {
                        person,
                        registration,
                        message: None,
                    }),
                    Vec::new(),
                )
            } else {
                wrong_password(session)
            }
        }
        (
            Register::Menu {
                person,
                registration,
                message,
            },
            Event::Chosen(id),
        ) => menu(person, registration, message, &id, ctx, config),
        (
            Register::Qa {
                person,
                mut registration,
                ..
            },
            Event::QaRegistered(pairs),
        ) => {
            let given: Vec<GivenAnswer> = pairs
                .into_iter()
                .map(|(question_id, answer)| GivenAnswer {
                    question_id,
                    answer,
                })
                .collect();
            match qa::register(
                &given,
                &config.qa,
                &salts(&ctx.entropy, given.len()),
                &config.qa_hash,
            ) {
                Ok(stored) => {
                    registration.answers = stored;
                    (
                        wrap(Register::Menu {
                            person,
                            registration,
                            message: Some("register.qa_saved".into()),
                        }),
                        Vec::new(),
                    )
                }
                Err(QaError::Invalid(problems)) => {
                    let mut messages: Vec<String> =
                        problems.iter().map(|p| p.as_str().to_owned()).collect();
                    messages.dedup();
                    (
                        wrap(Register::Qa {
                            person,
                            registration,
                            messages,
                        }),
                        Vec::new(),
                    )
                }
                Err(_) => (
                    wrap(Register::Qa {
                        person,
                        registration,
                        messages: vec!["register.failed".into()],
                    }),
                    Vec::new(),
                ),
            }
        }
        (
            Register::Contact {
                person,
                registration,
                method,
                code: None,
                ..
            },
            Event::ContactSubmitted(raw),
        ) => {
            let Some(address) = normalise_contact(method, &raw, &config.phone_country_code) else {
                let message = Some(format!("register.invalid_{}", method.name()));
                return (
                    contact(person, registration, method, None, message),
                    Vec::new(),
                );
            };
            match CodeState::issue(&mut session.sends, &config.codes, &ctx.entropy, ctx.now) {
                Ok(code) => {
                    let effect = Effect::SendCode {
                        method,
                        destination: address.clone(),
                        code: code.code().clone(),
                        language: session.language.clone(),
                    };
                    (
                        contact(person, registration, method, Some((address, code)), None),
                        vec![effect],
                    )
                }
                Err(_) => {
                    let message = Some("code.hourly_limit".into());
                    (
                        contact(person, registration, method, None, message),
                        Vec::new(),
                    )
                }
            }
        }
        (
            Register::Contact {
                person,
                mut registration,
                method,
                address: Some(address),
                code: Some(mut code),
                ..
            },
            Event::CodeSubmitted(typed),
        ) => match code.verify(&typed, ctx.now, &config.codes) {
            CodeVerdict::Accepted => {
                let list = if method == Method::Email {
                    &mut registration.confirmed_emails
                } else {
                    &mut registration.confirmed_mobiles
                };
                if !list.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
                    list.push(address);
                }
                (
                    wrap(Register::Menu {
                        person,
                        registration,
                        message: Some("register.contact_saved".into()),
                    }),
                    Vec::new(),
                )
            }
            CodeVerdict::Wrong { attempts_left } if attempts_left > 0 => {
                let message = Some("code.wrong".into());
                (
                    contact(person, registration, method, Some((address, code)), message),
                    Vec::new(),
                )
            }
            _ => (
                wrap(Register::Menu {
                    person,
                    registration,
                    message: Some("code.dead".into()),
                }),
                Vec::new(),
            ),
        },
        (
            Register::Contact {
                person,
                registration,
                method,
                ..
            },
            Event::DeliveryAnswered { ok: false },
        ) => {
            let message = Some("delivery.failed".into());
            (
                contact(person, registration, method, None, message),
                Vec::new(),
            )
        }
        (
            Register::Totp {
                person,
                mut registration,
                secret,
                uri,
                ..
            },
            Event::TotpSubmitted(typed),
        ) => {
            match totp::verify(
                &secret,
                &typed,
                ctx.now,
                None,
                &TotpParams::from_config(&config.totp),
            ) {
                Ok(TotpVerdict::Accepted { step }) => {
                    registration.totp_secret = Some(secret);
                    registration.totp_last_step = Some(step);
                    (
                        wrap(Register::Menu {
                            person,
                            registration,
                            message: Some("register.totp_saved".into()),
                        }),
                        Vec::new(),
                    )
                }
                _ => (
                    wrap(Register::Totp {
                        person,
                        registration,
                        secret,
                        uri,
                        message: Some("totp.wrong".into()),
                    }),
                    Vec::new(),
                ),
            }
        }
        (
            Register::Qa {
                person,
                registration,
                ..
            }
            | Register::Contact {
                person,
                registration,
                ..
            }
            | Register::Totp {
                person,
                registration,
                ..
            },
            Event::Chosen(id),
        ) if id == "back" => (
            wrap(Register::Menu {
                person,
                registration,
                message: None,
            }),
            Vec::new(),
        ),
        (Register::Writing { .. }, Event::DirectoryAnswered(outcome)) => match outcome {
            ApplyOutcome::Done => finish::receipt(
                session,
                ReceiptKind::Done,
                "register",
                AuditOutcome::Registered,
                None,
                ctx,
                config,
            ),
            ApplyOutcome::Failed(code) | ApplyOutcome::PasswordRejected(code) => finish::receipt(
                session,
                ReceiptKind::Failed,
                "register",
                AuditOutcome::DirectoryRefused,
                Some(code),
                ctx,
                config,
            ),
            ApplyOutcome::Queued | ApplyOutcome::WrongPassword => finish::receipt(
                session,
                ReceiptKind::Failed,
                "register",
                AuditOutcome::DirectoryRefused,
                Some("service.not_possible_here".into()),
                ctx,
                config,
            ),
        },
        (step, _) => (wrap(step), vec![Effect::Ignored]),
    }
}

/// The contact step with what is known so far.
fn contact(
    person: Box<crate::directory::UserRecord>,
    registration: Box<super::registration::Registration>,
    method: Method,
    sent: Option<(String, CodeState)>,
    message: Option<String>,
) -> State {
    let (address, code) = sent.map_or((None, None), |(a, c)| (Some(a), Some(c)));
    State::Register(Register::Contact {
        person,
        registration,
        method,
        address,
        code,
        message,
    })
}

fn wrong_password(session: &Session) -> (State, Vec<Effect>) {
    let identifier = session.claim.as_ref().map(|c| c.text().to_owned());
    (
        State::Register(Register::Authenticating {
            identifier,
            message: Some("account.wrong_password".into()),
        }),
        Vec::new(),
    )
}

fn menu(
    person: Box<crate::directory::UserRecord>,
    registration: Box<super::registration::Registration>,
    message: Option<String>,
    id: &str,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    let offered = |m: Method| config.methods.contains(&m);
    let next = match id {
        "register:qa" if offered(Method::Qa) => Register::Qa {
            person,
            registration,
            messages: Vec::new(),
        },
        "register:email" if offered(Method::Email) => Register::Contact {
            person,
            registration,
            method: Method::Email,
            address: None,
            code: None,
            message: None,
        },
        "register:mobile" if offered(Method::Sms) || offered(Method::Voice) => Register::Contact {
            person,
            registration,
            method: Method::Sms,
            address: None,
            code: None,
            message: None,
        },
        "register:totp" if offered(Method::Totp) => {
            let params = TotpParams::from_config(&config.totp);
            match totp::new_secret(&ctx.entropy, Algorithm::Sha1) {
                Ok(secret) => {
                    let uri =
                        totp::otpauth_uri(&config.totp.issuer, &person.login, &secret, &params);
                    Register::Totp {
                        person,
                        registration,
                        secret,
                        uri,
                        message: None,
                    }
                }
                Err(_) => Register::Menu {
                    person,
                    registration,
                    message: Some("register.failed".into()),
                },
            }
        }
        "register:finish" => {
            let effect = Effect::WriteRegistration {
                dn: person.dn.as_str().to_owned(),
                registration,
            };
            return (State::Register(Register::Writing { person }), vec![effect]);
        }
        _ => Register::Menu {
            person,
            registration,
            message,
        },
    };
    (State::Register(next), Vec::new())
}

/// One salt per answer, expanded from the event's entropy (pure: no RNG of our own).
fn salts(entropy: &[u8; 32], count: usize) -> Vec<[u8; SALT_LEN]> {
    (0..count)
        .map(|i| {
            let digest = Sha256::new()
                .chain_update(b"sspr-kiosk qa salt")
                .chain_update(entropy)
                .chain_update((i as u64).to_le_bytes())
                .finalize();
            let mut salt = [0u8; SALT_LEN];
            salt.copy_from_slice(&digest[..SALT_LEN]);
            salt
        })
        .collect()
}

/// Email: trimmed, domain lower-cased, one `@`. Phone: E.164 (`+` and 8–15 digits), with the default
/// country code for national numbers — so the same address or number always compares equal.
pub fn normalise_contact(method: Method, raw: &str, country_code: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.chars().any(char::is_control) {
        return None;
    }
    if method == Method::Email {
        let (local, domain) = raw.rsplit_once('@')?;
        let valid = !local.is_empty()
            && !local.contains('@')
            && domain.contains('.')
            && !raw.contains(char::is_whitespace);
        return valid.then(|| format!("{local}@{}", domain.to_lowercase()));
    }
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '/'))
        .collect();
    let international = if let Some(rest) = cleaned.strip_prefix('+') {
        rest.to_owned()
    } else if let Some(rest) = cleaned.strip_prefix("00") {
        rest.to_owned()
    } else {
        format!(
            "{}{}",
            country_code.trim_start_matches('+'),
            cleaned.trim_start_matches('0')
        )
    };
    let valid = (8..=15).contains(&international.len())
        && international.chars().all(|c| c.is_ascii_digit())
        && !international.starts_with('0');
    valid.then(|| format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_normalised_so_equal_things_compare_equal() {
        assert_eq!(
            normalise_contact(Method::Email, " Jane.Doe@Example.COM ", "+49").as_deref(),
            Some("Jane.Doe@example.com")
        );
        assert_eq!(normalise_contact(Method::Email, "no-at-sign", "+49"), None);
        assert_eq!(
            normalise_contact(Method::Email, "a@b.c\r\nBcc: x@y.z", "+49"),
            None
        );
        assert_eq!(
            normalise_contact(Method::Sms, "0151 1234-5678", "+49").as_deref(),
            Some("+4915112345678")
        );
        assert_eq!(
            normalise_contact(Method::Sms, "+49 151 12345678", "+49").as_deref(),
            Some("+4915112345678")
        );
        assert_eq!(
            normalise_contact(Method::Sms, "0049 151 12345678", "+49").as_deref(),
            Some("+4915112345678")
        );
        assert_eq!(normalise_contact(Method::Sms, "12", "+49"), None);
        assert_eq!(normalise_contact(Method::Sms, "call me", "+49"), None);
    }

    #[test]
    fn salts_differ_per_answer_and_per_event() {
        let a = salts(&[1; 32], 3);
        assert_eq!(a.len(), 3);
        assert_ne!(a[0], a[1]);
        assert_ne!(salts(&[2; 32], 1)[0], a[0]);
    }
}

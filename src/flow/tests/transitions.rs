//! Table-driven walks through every screen: the paths people take and the ways they go wrong.

use crate::config::kiosk::{Method, PrivilegedMode};
use crate::gates::lockout::FailureCounter;
use crate::gates::totp::{self, TotpParams};
use crate::protocol::{ReceiptKind, ScreenId};
use crate::secret::Secret;

use super::super::effect::{AccountRef, Action, AuditOutcome, Effect};
use super::super::event::{ApplyOutcome, Event, LookupAnswer};
use super::*;

fn applied(effects: &[Effect]) -> Option<(Action, Option<String>)> {
    effects.iter().find_map(|e| match e {
        Effect::Apply {
            action,
            new_password,
            ..
        } => Some((
            *action,
            new_password.as_ref().map(|p| p.expose().to_owned()),
        )),
        _ => None,
    })
}

fn audits(d: &Driver) -> Vec<AuditOutcome> {
    d.effects
        .iter()
        .filter_map(|e| {
            if let Effect::Audit(a) = e {
                Some(a.outcome)
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn unlock_only_with_an_email_code() {
    let mut d = Driver::new(config());
    assert_eq!(d.screen(), ScreenId::Attract);
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(false, false)),
    );
    let view = d.view();
    assert_eq!(view.screen, ScreenId::ChooseMethod);
    assert_eq!(view.greeting.as_deref(), Some("Norma Normal"));
    let ids: Vec<&str> = view.choices.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["email:0", "sms:0", "badge"], "QA/TOTP not registered");
    assert_eq!(view.choices[0].detail.as_deref(), Some("n•••@e•••.test"));

    let effects = d.choose("email:0");
    assert!(
        matches!(&effects[..], [Effect::SendCode { method: Method::Email, destination, .. }] if destination == "normal.user@example.test")
    );
    assert_eq!(d.screen(), ScreenId::EnterCode);
    let effects = d.right_code();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::ClearFailures { .. }))
    );
    assert_eq!(
        d.screen(),
        ScreenId::ChooseAction,
        "locked: unlock is offered"
    );
    let effects = d.choose("action:unlock");
    assert_eq!(applied(&effects), Some((Action::Unlock, None)));
    assert_eq!(d.screen(), ScreenId::Working);
    d.send(Event::DirectoryAnswered(ApplyOutcome::Done));
    let receipt = d.view().receipt.unwrap();
    assert_eq!(
        (receipt.kind, receipt.action.as_str()),
        (ReceiptKind::Done, "unlock")
    );
    assert_eq!(receipt.kiosk_id, "test-kiosk");
    assert!(
        !receipt.qr.contains("normal"),
        "no personal data in the QR: {}",
        receipt.qr
    );
    d.choose("done");
    assert_eq!(d.screen(), ScreenId::Attract);
    assert_eq!(audits(&d), [AuditOutcome::Unlocked]);
}

#[test]
fn unlock_is_not_offered_to_an_unlocked_account() {
    let mut d = Driver::new(config());
    d.identify(
        "normal.user",
        found(record("normal.user", false), registration(false, false)),
    );
    d.choose("email:0");
    d.right_code();
    assert_eq!(
        d.screen(),
        ScreenId::NewPassword,
        "not locked: straight to the new password"
    );
    let effects = d.choose("action:unlock");
    assert!(applied(&effects).is_none());
    assert_eq!(d.screen(), ScreenId::NewPassword);
}

#[test]
fn reset_with_two_methods_and_live_password_feedback() {
    let mut cfg = config();
    cfg.policy.methods_required = 2;
    let mut d = Driver::new(cfg);
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(true, true)),
    );
    d.choose("qa");
    assert_eq!(d.screen(), ScreenId::Qa);
    assert_eq!(d.view().choices.len(), 3);
    d.right_answers();
    assert_eq!(d.screen(), ScreenId::ChooseMethod);
    assert_eq!(d.view().messages, ["verify.another_method"]);
    assert!(
        !d.view().choices.iter().any(|c| c.id == "qa"),
        "a passed method is not offered again"
    );
    d.choose("totp");
    let effects = d.right_totp();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::RecordTotpStep { .. }))
    );
    assert_eq!(d.screen(), ScreenId::ChooseAction);
    d.choose("action:reset-unlock");
    assert_eq!(d.screen(), ScreenId::NewPassword);

    d.send(Event::PasswordTyped {
        new: Secret::new("short"),
        confirm: Secret::new(""),
        draft: true,
    });
    let rules = d.view().rules;
    assert!(
        rules
            .iter()
            .any(|r| r.rule == "password.too_short" && !r.ok),
        "{rules:?}"
    );
    let effects = d.send(Event::PasswordTyped {
        new: Secret::new("password123"),
        confirm: Secret::new("password123"),
        draft: false,
    });
    assert!(applied(&effects).is_none());
    assert!(!d.view().messages.is_empty());
    let good = "Quiet-Harbour-Lantern-81";
    let effects = d.send(Event::PasswordTyped {
        new: Secret::new(good),
        confirm: Secret::new(good),
        draft: false,
    });
    assert_eq!(
        applied(&effects),
        Some((Action::ResetAndUnlock, Some(good.to_owned())))
    );
    // The directory refuses it (history): back to the password screen with the reason.
    d.send(Event::DirectoryAnswered(ApplyOutcome::PasswordRejected(
        "password.in_history".into(),
    )));
    assert_eq!(d.screen(), ScreenId::NewPassword);
    assert_eq!(d.view().messages, ["password.in_history"]);
    let other = "Amber-Kettle-Orchard-57";
    d.send(Event::PasswordTyped {
        new: Secret::new(other),
        confirm: Secret::new(other),
        draft: false,
    });
    d.send(Event::DirectoryAnswered(ApplyOutcome::Queued));
    let receipt = d.view().receipt.unwrap();
    assert_eq!(
        (receipt.kind, receipt.action.as_str()),
        (ReceiptKind::Queued, "reset-unlock")
    );
    assert_eq!(audits(&d), [AuditOutcome::Queued]);
}

#[test]
fn privileged_accounts_need_two_methods_and_never_qa() {
    let mut d = Driver::new(config());
    let mut rec = record("priv.user", true);
    rec.admin_count = true;
    d.identify("priv.user", found(rec, registration(true, true)));
    let ids: Vec<String> = d.view().choices.iter().map(|c| c.id.clone()).collect();
    assert!(!ids.contains(&"qa".to_owned()), "{ids:?}");
    d.choose("totp");
    d.right_totp();
    assert_eq!(
        d.screen(),
        ScreenId::ChooseMethod,
        "one method is not enough for a privileged account"
    );
    d.choose("badge");
    d.send(Event::BadgeRead("0004567890".into()));
    assert_eq!(d.screen(), ScreenId::ChooseAction);
}

#[test]
fn privileged_accounts_can_be_refused_outright_without_revealing_it() {
    let mut cfg = config();
    cfg.policy.privileged = PrivilegedMode::Refuse;
    let mut d = Driver::new(cfg);
    let mut rec = record("priv.user", true);
    rec.admin_count = true;
    d.identify("priv.user", found(rec, registration(true, true)));
    assert_eq!(d.screen(), ScreenId::ChooseMethod, "a decoy, not an error");
    d.choose("email:0");
    assert!(d.last_code.is_none(), "nothing is sent for a decoy");
}

#[test]
fn a_badge_alone_never_verifies() {
    let mut d = Driver::new(config());
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(false, false)),
    );
    d.choose("badge");
    assert_eq!(d.screen(), ScreenId::Badge);
    d.send(Event::BadgeRead("0004567890".into()));
    assert_eq!(
        d.screen(),
        ScreenId::ChooseMethod,
        "badge passed, but another method is needed"
    );
    assert_eq!(d.view().messages, ["verify.another_method"]);
}

#[test]
fn a_badge_tap_identifies_and_is_then_not_offered_as_a_gate() {
    let mut d = Driver::new(config());
    let effects = d.send(Event::BadgeRead("0004567890".into()));
    assert!(matches!(&effects[..], [Effect::LookUpUser { .. }]));
    d.send(Event::UserLookedUp(Box::new(found(
        record("normal.user", true),
        registration(false, true),
    ))));
    let ids: Vec<String> = d.view().choices.iter().map(|c| c.id.clone()).collect();
    assert!(!ids.contains(&"badge".to_owned()), "{ids:?}");
}

#[test]
fn three_wrong_codes_fail_the_gate_and_count_one_failure() {
    let mut d = Driver::new(config());
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(false, false)),
    );
    d.choose("email:0");
    d.send(Event::CodeSubmitted(Secret::new("000000")));
    assert_eq!(d.view().messages, ["code.wrong"]);
    assert_eq!(d.view().attempts_left, Some(2));
    d.send(Event::CodeSubmitted(Secret::new("000001")));
    let effects = d.send(Event::CodeSubmitted(Secret::new("000002")));
    assert!(
        matches!(
            &effects[..],
            [Effect::RecordFailure {
                account: AccountRef::Person { .. },
                ..
            }]
        ),
        "{effects:?}"
    );
    assert_eq!(d.screen(), ScreenId::ChooseMethod);
    assert_eq!(d.view().messages, ["code.dead"]);
}

#[test]
fn an_expired_code_fails() {
    let mut d = Driver::new(config());
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(false, false)),
    );
    d.choose("email:0");
    d.now += 5 * 60_000 + 1;
    d.send(Event::Activity);
    d.right_code();
    assert_eq!(d.view().messages, ["code.expired"]);
}

#[test]
fn resend_waits_for_the_cool_down() {
    let mut d = Driver::new(config());
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(false, false)),
    );
    d.choose("email:0");
    let first = d.last_code.clone().unwrap();
    assert_eq!(d.view().resend_in, Some(30));
    let effects = d.choose("resend");
    assert!(effects.is_empty());
    assert_eq!(d.view().messages, ["code.cooling_down"]);
    d.now += 30_000;
    let effects = d.choose("resend");
    assert!(matches!(&effects[..], [Effect::SendCode { .. }]));
    d.send(Event::CodeSubmitted(first));
    assert_eq!(
        d.view().messages,
        ["code.wrong"],
        "the old code stops working"
    );
}

#[test]
fn five_failures_block_and_blocked_accounts_stay_blocked() {
    let mut d = Driver::new(config());
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(true, false)),
    );
    for i in 0..5 {
        assert_eq!(d.screen(), ScreenId::ChooseMethod, "round {i}");
        d.choose("qa");
        d.send(Event::AnswersSubmitted(vec![Secret::new("x"); 3]));
    }
    assert_eq!(d.screen(), ScreenId::Blocked);
    let counter = d
        .effects
        .iter()
        .rev()
        .find_map(|e| {
            if let Effect::RecordFailure { counter, .. } = e {
                Some(counter.clone())
            } else {
                None
            }
        })
        .unwrap();
    assert!(counter.is_blocked(d.now, &d.config.policy));
    assert_eq!(audits(&d), [AuditOutcome::Blocked]);
    // The next attempt, with the stored counter, is blocked straight away.
    d.advance(20_000);
    assert_eq!(d.screen(), ScreenId::Attract);
    d.identify(
        "normal.user",
        LookupAnswer::Found {
            record: record("normal.user", true),
            registration: registration(true, false),
            failures: counter,
            sends: Default::default(),
        },
    );
    assert_eq!(d.screen(), ScreenId::Blocked);
}

#[test]
fn idle_timeout_counts_down_then_ends_the_session() {
    let mut d = Driver::new(config());
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(false, false)),
    );
    d.choose("email:0");
    d.advance(49_000);
    assert_eq!(d.view().countdown, None);
    d.advance(2_000);
    assert_eq!(d.view().countdown, Some(9));
    d.advance(9_000);
    assert_eq!(d.screen(), ScreenId::Attract);
    assert_eq!(audits(&d), [AuditOutcome::TimedOut]);
    assert!(
        d.session.subject.is_none() && d.session.claim.is_none(),
        "the new session knows nothing"
    );
}

#[test]
fn the_session_cap_ends_even_a_busy_session() {
    let mut d = Driver::new(config());
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(false, false)),
    );
    for _ in 0..20 {
        d.now += 30_000;
        d.send(Event::Activity);
    }
    d.advance(1);
    assert_eq!(d.screen(), ScreenId::Attract);
    assert_eq!(audits(&d), [AuditOutcome::TimedOut]);
}

#[test]
fn cancel_ends_and_audits_once() {
    let mut d = Driver::new(config());
    d.identify("someone", not_found());
    d.choose("cancel");
    assert_eq!(d.screen(), ScreenId::Attract);
    d.choose("cancel");
    assert_eq!(audits(&d), [AuditOutcome::Abandoned]);
    assert_eq!(
        d.count(|e| matches!(
            e,
            Effect::RememberSends {
                account: AccountRef::Decoy { .. },
                ..
            }
        )),
        1
    );
}

#[test]
fn a_directory_outage_at_lookup_shows_out_of_service() {
    let mut d = Driver::new(config());
    d.identify("normal.user", LookupAnswer::Unavailable);
    assert_eq!(d.screen(), ScreenId::OutOfService);
    d.advance(16_000);
    assert_eq!(d.screen(), ScreenId::Attract);
    assert_eq!(audits(&d), [AuditOutcome::Unavailable]);
}

#[test]
fn a_failed_directory_write_is_a_failed_receipt_with_the_reason() {
    let mut d = Driver::new(config());
    d.identify(
        "normal.user",
        found(record("normal.user", true), registration(false, false)),
    );
    d.choose("email:0");
    d.right_code();
    d.choose("action:unlock");
    d.send(Event::DirectoryAnswered(ApplyOutcome::Failed(
        "account.protected".into(),
    )));
    let view = d.view();
    assert_eq!(view.receipt.unwrap().kind, ReceiptKind::Failed);
    assert_eq!(view.messages, ["account.protected"]);
}

#[test]
fn change_password_for_a_known_and_an_unknown_user() {
    let mut d = Driver::new(config());
    d.choose("change-password");
    assert_eq!(d.screen(), ScreenId::ChangePassword);
    d.send(Event::IdentifierSubmitted("normal.user".into()));
    d.send(Event::CurrentPasswordSubmitted(Secret::new(
        "Old-Password-1",
    )));
    let new = "Lighthouse-Meadow-Cobalt-93";
    let effects = d.send(Event::PasswordTyped {
        new: Secret::new(new),
        confirm: Secret::new(new),
        draft: false,
    });
    assert!(matches!(&effects[..], [Effect::LookUpUser { .. }]));
    let effects = d.send(Event::UserLookedUp(Box::new(found(
        record("normal.user", false),
        registration(false, false),
    ))));
    assert!(
        matches!(&effects[..], [Effect::ChangePassword { current, new_password, .. }] if current.expose() == "Old-Password-1" && new_password.expose() == new)
    );
    d.send(Event::DirectoryAnswered(ApplyOutcome::WrongPassword));
    assert_eq!(d.screen(), ScreenId::ChangePassword);
    let known = d.view().messages;

    let mut u = Driver::new(config());
    u.choose("change-password");
    u.send(Event::IdentifierSubmitted("nobody".into()));
    u.send(Event::CurrentPasswordSubmitted(Secret::new(
        "Old-Password-1",
    )));
    u.send(Event::PasswordTyped {
        new: Secret::new(new),
        confirm: Secret::new(new),
        draft: false,
    });
    u.send(Event::UserLookedUp(Box::new(not_found())));
    assert_eq!(u.screen(), ScreenId::ChangePassword);
    assert_eq!(
        u.view().messages,
        known,
        "unknown user: the same message as a wrong password"
    );
}

#[test]
fn unregistered_people_get_a_decoy_and_nothing_is_sent() {
    let mut d = Driver::new(config());
    let mut rec = record("noreg.user", true);
    rec.emails.clear();
    rec.mobiles.clear();
    rec.badges.clear();
    d.identify("noreg.user", found(rec, registration(false, false)));
    assert_eq!(d.screen(), ScreenId::ChooseMethod);
    let first = d.view().choices[0].id.clone();
    d.choose(&first);
    assert!(
        !d.effects
            .iter()
            .any(|e| matches!(e, Effect::SendCode { .. }))
    );
    assert!(
        d.view().greeting.as_deref() == Some("noreg.user"),
        "decoys greet with the typed name"
    );
    let _ = FailureCounter::new();
}

#[test]
fn registration_at_the_kiosk_then_a_reset_with_what_was_registered() {
    let mut cfg = config();
    cfg.policy.methods_required = 2;
    let mut d = Driver::new(cfg);
    d.choose("register");
    assert_eq!(d.screen(), ScreenId::RegisterAuth);
    d.send(Event::IdentifierSubmitted("normal.user".into()));
    let effects = d.send(Event::CurrentPasswordSubmitted(Secret::new(
        "Current-Pass-1",
    )));
    assert!(matches!(&effects[..], [Effect::LookUpUser { .. }]));
    let effects = d.send(Event::UserLookedUp(Box::new(found(
        record("normal.user", false),
        registration(false, false),
    ))));
    assert!(
        matches!(&effects[..], [Effect::VerifyPassword { password, .. }] if password.expose() == "Current-Pass-1")
    );
    d.send(Event::PasswordVerified { ok: true });
    assert_eq!(d.screen(), ScreenId::RegisterStart);
    assert_eq!(d.view().greeting.as_deref(), Some("Norma Normal"));

    // Security answers: the rules are enforced (duplicates refused), then saved.
    d.choose("register:qa");
    let pairs = |answers: [&str; 3]| {
        ANSWERS
            .iter()
            .zip(answers)
            .map(|((q, _), a)| ((*q).to_owned(), Secret::new(a)))
            .collect::<Vec<_>>()
    };
    d.send(Event::QaRegistered(pairs(["same", "same", "same"])));
    assert!(
        d.view().messages.iter().any(|m| m == "qa.duplicate_answer"),
        "{:?}",
        d.view().messages
    );
    d.send(Event::QaRegistered(
        ANSWERS
            .iter()
            .map(|(q, a)| ((*q).to_owned(), Secret::new(*a)))
            .collect(),
    ));
    assert_eq!(d.view().messages, ["register.qa_saved"]);

    // An authenticator app: the QR carries the otpauth URI; the first code confirms it.
    d.choose("register:totp");
    let uri = d.view().qr.unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let code = totp::code_at(
        &Secret::new(&secret),
        d.now,
        &TotpParams::from_config(&d.config.totp),
    )
    .unwrap();
    d.send(Event::TotpSubmitted(code));
    assert_eq!(d.view().messages, ["register.totp_saved"]);

    // An email address confirmed with a code sent to it.
    d.choose("register:email");
    let effects = d.send(Event::ContactSubmitted(" Norma@Example.TEST ".into()));
    assert!(
        matches!(&effects[..], [Effect::SendCode { destination, .. }] if destination == "Norma@example.test")
    );
    d.right_code();
    assert_eq!(d.view().messages, ["register.contact_saved"]);

    let effects = d.choose("register:finish");
    let Some(Effect::WriteRegistration { registration, .. }) = effects.first() else {
        panic!("{effects:?}")
    };
    assert_eq!(registration.answers.len(), 3);
    assert_eq!(
        registration.totp_secret.as_ref().map(Secret::expose),
        Some(secret.as_str())
    );
    assert_eq!(registration.confirmed_emails, ["Norma@example.test"]);
    let registered = (**registration).clone();
    d.send(Event::DirectoryAnswered(ApplyOutcome::Done));
    assert_eq!(d.view().receipt.unwrap().action, "register");
    assert_eq!(audits(&d), [AuditOutcome::Registered]);

    // Later: a reset with QA + TOTP from that registration (the code must be a fresh step).
    d.choose("done");
    d.now += 60_000;
    d.identify(
        "normal.user",
        found(record("normal.user", true), registered),
    );
    d.choose("qa");
    d.right_answers();
    d.choose("totp");
    let code = totp::code_at(
        &Secret::new(&secret),
        d.now,
        &TotpParams::from_config(&d.config.totp),
    )
    .unwrap();
    d.send(Event::TotpSubmitted(code));
    assert_eq!(d.screen(), ScreenId::ChooseAction);
}

#[test]
fn registration_with_a_wrong_or_unknown_account_says_the_same() {
    let mut d = Driver::new(config());
    d.choose("register");
    d.send(Event::IdentifierSubmitted("normal.user".into()));
    d.send(Event::CurrentPasswordSubmitted(Secret::new("wrong")));
    d.send(Event::UserLookedUp(Box::new(found(
        record("normal.user", false),
        registration(false, false),
    ))));
    d.send(Event::PasswordVerified { ok: false });
    let known = (d.screen(), d.view().messages);
    let mut u = Driver::new(config());
    u.choose("register");
    u.send(Event::IdentifierSubmitted("nobody".into()));
    u.send(Event::CurrentPasswordSubmitted(Secret::new("wrong")));
    u.send(Event::UserLookedUp(Box::new(not_found())));
    assert_eq!((u.screen(), u.view().messages), known);
    assert_eq!(known.0, ScreenId::RegisterAuth);
}

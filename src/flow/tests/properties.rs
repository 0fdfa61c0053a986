//! Property tests over random input sequences: the rules that must hold whatever a UI sends.

use proptest::prelude::*;

use crate::config::kiosk::Method;
use crate::protocol::ScreenId;
use crate::secret::Secret;

use super::super::decoy;
use super::super::effect::Effect;
use super::super::event::{ApplyOutcome, Event};
use super::super::session::{DecoyReason, State};
use super::*;

/// What a person (or a hostile UI) might do next; resolved against the current view.
#[derive(Debug, Clone)]
enum Step {
    ChooseNth(usize),
    Choose(&'static str),
    WrongCode,
    RightCode,
    WrongTotp,
    RightTotp,
    WrongAnswers,
    RightAnswers,
    Badge(bool),
    Password,
    Directory(u8),
    Wait(u64),
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0usize..4).prop_map(Step::ChooseNth),
        prop::sample::select(vec![
            "back",
            "resend",
            "done",
            "action:unlock",
            "action:reset",
            "action:reset-unlock",
            "cancel",
            "qa",
            "totp",
            "email:0"
        ])
        .prop_map(Step::Choose),
        Just(Step::WrongCode),
        Just(Step::RightCode),
        Just(Step::WrongTotp),
        Just(Step::RightTotp),
        Just(Step::WrongAnswers),
        Just(Step::RightAnswers),
        any::<bool>().prop_map(Step::Badge),
        Just(Step::Password),
        (0u8..3).prop_map(Step::Directory),
        (0u64..40_000).prop_map(Step::Wait),
    ]
}

/// A correct proof offered at the screen that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    None,
    Verifying,
    /// Possession only: counts as a method, never alone.
    Badge,
}

/// Applies one step; returns the proof it offered, if any.
fn play(d: &mut Driver, step: &Step) -> Proof {
    let proof = |ok: bool| if ok { Proof::Verifying } else { Proof::None };
    match step {
        Step::ChooseNth(n) => {
            if let Some(choice) = d.view().choices.get(*n).cloned() {
                d.choose(&choice.id);
            }
            Proof::None
        }
        Step::Choose(id) => {
            d.choose(id);
            Proof::None
        }
        Step::WrongCode => {
            d.send(Event::CodeSubmitted(Secret::new("999999")));
            Proof::None
        }
        Step::RightCode => match d.last_code.clone() {
            Some(code) => {
                let at_code = d.screen() == ScreenId::EnterCode;
                d.send(Event::CodeSubmitted(code));
                proof(at_code)
            }
            None => Proof::None,
        },
        Step::WrongTotp => {
            d.send(Event::TotpSubmitted(Secret::new("000000")));
            Proof::None
        }
        Step::RightTotp => {
            let at = d.screen() == ScreenId::Totp;
            d.right_totp();
            proof(at)
        }
        Step::WrongAnswers => {
            d.send(Event::AnswersSubmitted(vec![Secret::new("nope"); 3]));
            Proof::None
        }
        Step::RightAnswers => {
            let at = d.screen() == ScreenId::Qa;
            d.right_answers();
            proof(at)
        }
        Step::Badge(right) => {
            let at = d.screen() == ScreenId::Badge;
            d.send(Event::BadgeRead(if *right {
                "0004567890".into()
            } else {
                "0000000001".into()
            }));
            if at && *right {
                Proof::Badge
            } else {
                Proof::None
            }
        }
        Step::Password => {
            let pw = "Saffron-Glacier-Tunnel-42";
            d.send(Event::PasswordTyped {
                new: Secret::new(pw),
                confirm: Secret::new(pw),
                draft: false,
            });
            Proof::None
        }
        Step::Directory(kind) => {
            let outcome = match kind {
                0 => ApplyOutcome::Done,
                1 => ApplyOutcome::Queued,
                _ => ApplyOutcome::PasswordRejected("password.in_history".into()),
            };
            d.send(Event::DirectoryAnswered(outcome));
            Proof::None
        }
        Step::Wait(ms) => {
            d.advance(*ms);
            Proof::None
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// No input sequence reaches a directory write without the policy's required proofs.
    #[test]
    fn no_write_without_the_required_gates(steps in prop::collection::vec(step_strategy(), 1..40), two in any::<bool>()) {
        let mut cfg = config();
        cfg.policy.methods_required = if two { 2 } else { 1 };
        let required = cfg.policy.methods_required as usize;
        let mut d = Driver::new(cfg);
        d.identify("normal.user", found(record("normal.user", true), registration(true, true)));
        let (mut proofs, mut verifying) = (0, 0);
        for step in &steps {
            if d.screen() == ScreenId::Attract {
                break;
            }
            let before = d.effects.len();
            match play(&mut d, step) {
                Proof::Verifying => { proofs += 1; verifying += 1; }
                Proof::Badge => proofs += 1,
                Proof::None => {}
            }
            let wrote = d.effects[before..].iter().any(|e| matches!(e, Effect::Apply { .. } | Effect::ChangePassword { .. }));
            prop_assert!(!wrote || (proofs >= required && verifying >= 1), "a write after {proofs} proofs, {verifying} verifying (need {required}): {steps:?}");
        }
    }

    /// A decoy and a real person given the same wrong inputs see the same screens and messages.
    #[test]
    fn known_and_unknown_users_look_the_same(steps in prop::collection::vec(step_strategy(), 1..30), name in "[a-z]{2,8}\\.[a-z]{2,8}") {
        let cfg = config();
        // The real person registered exactly what the decoy for the same name pretends to have.
        let fake = decoy::decoy(&cfg, &name, DecoyReason::Unknown);
        let mut rec = record(&name, true);
        rec.emails = vec![format!("{name}@example.com")];
        rec.badges.clear();
        let has = |m: Method| fake.options.iter().any(|o| o.method == m);
        if !has(Method::Sms) { rec.mobiles.clear(); }
        let reg = registration(has(Method::Qa), has(Method::Totp));
        let mut real = Driver::new(cfg.clone());
        let mut unknown = Driver::new(cfg);
        real.identify(&name, found(rec, reg));
        unknown.identify(&name, not_found());
        for step in &steps {
            // Only wrong proofs: a right one would (rightly) tell them apart.
            if matches!(step, Step::RightCode | Step::RightTotp | Step::RightAnswers | Step::Badge(true) | Step::Directory(_)) {
                continue;
            }
            play(&mut real, step);
            play(&mut unknown, step);
            let (a, b) = (real.view(), unknown.view());
            prop_assert_eq!(a.screen, b.screen, "{:?}", steps);
            prop_assert_eq!(&a.messages, &b.messages, "{:?}", steps);
            prop_assert_eq!(a.choices.len(), b.choices.len(), "{:?}", steps);
            prop_assert_eq!(a.attempts_left, b.attempts_left, "{:?}", steps);
        }
    }

    /// Every session that got past the attract screen produces exactly one audit record, and a
    /// session that ends leaves nothing behind.
    #[test]
    fn every_attempt_is_audited_once_and_ends_clean(steps in prop::collection::vec(step_strategy(), 0..30), known in any::<bool>()) {
        let mut d = Driver::new(config());
        let answer = if known { found(record("normal.user", true), registration(true, true)) } else { not_found() };
        d.identify("normal.user", answer);
        for step in &steps {
            if d.screen() == ScreenId::Attract {
                break;
            }
            play(&mut d, step);
        }
        if d.screen() != ScreenId::Attract {
            d.choose("cancel");
        }
        prop_assert_eq!(d.screen(), ScreenId::Attract);
        prop_assert_eq!(d.count(|e| matches!(e, Effect::Audit(_))), 1);
        prop_assert!(matches!(d.session.state, State::Attract));
        prop_assert!(d.session.subject.is_none() && d.session.claim.is_none() && d.session.passed.is_empty());
    }
}

//! Tests of the pure flow core: a driver that plays the agent's part (answering effects), table-driven
//! transitions, and property tests over random input sequences.

mod properties;
mod transitions;

use std::collections::{BTreeMap, BTreeSet};

use crate::config::kiosk::{CodesSection, Method, PolicySection, QaSection, TotpSection};
use crate::directory::{Dn, UserRecord};
use crate::gates::codes::SendHistory;
use crate::gates::lockout::FailureCounter;
use crate::gates::qa::{self, GivenAnswer, HashParams};
use crate::gates::totp::{self, TotpParams};
use crate::protocol::View;
use crate::secret::Secret;

use super::effect::Effect;
use super::event::{Context, Event, LookupAnswer};
use super::registration::Registration;
use super::session::Session;
use super::{FlowConfig, step, view};

pub const T0: u64 = 1_800_000_000_000;
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

pub fn config() -> FlowConfig {
    let questions: BTreeMap<String, String> = ["pet", "school", "city", "street", "car", "concert"]
        .iter()
        .map(|q| ((*q).to_owned(), format!("Question about {q}?")))
        .collect();
    FlowConfig {
        kiosk_id: "test-kiosk".into(),
        helpdesk: "ext. 1234".into(),
        methods: [
            Method::Email,
            Method::Sms,
            Method::Qa,
            Method::Totp,
            Method::Badge,
        ]
        .into_iter()
        .collect::<BTreeSet<_>>(),
        policy: PolicySection::default(),
        codes: CodesSection::default(),
        qa: QaSection {
            questions,
            register: 3,
            ask: 3,
        },
        totp: TotpSection::default(),
        default_language: "en".into(),
        languages: vec!["en".into(), "de".into()],
        decoy_key: [7; 32],
        mail_domain: "example.com".into(),
        phone_country_code: "+1".into(),
        receipt_secs: 30,
        qa_hash: HashParams::INSECURE_FOR_TESTS,
    }
}

pub const ANSWERS: [(&str, &str); 3] = [
    ("pet", "Rex"),
    ("school", "Hill Valley High"),
    ("city", "Springfield"),
];

pub fn registration(qa_answers: bool, totp: bool) -> Registration {
    let cfg = config().qa;
    let answers = if qa_answers {
        let given: Vec<GivenAnswer> = ANSWERS
            .iter()
            .map(|(q, a)| GivenAnswer::new(*q, *a))
            .collect();
        qa::register(
            &given,
            &cfg,
            &[[1; 16], [2; 16], [3; 16]],
            &HashParams::INSECURE_FOR_TESTS,
        )
        .unwrap()
    } else {
        Vec::new()
    };
    Registration {
        answers,
        totp_secret: totp.then(|| Secret::new(TOTP_SECRET)),
        totp_last_step: None,
        confirmed_emails: Vec::new(),
        confirmed_mobiles: Vec::new(),
    }
}

pub fn record(login: &str, locked: bool) -> UserRecord {
    UserRecord {
        dn: Dn::new(format!("uid={login},ou=people,dc=example,dc=test")),
        login: login.into(),
        display_name: "Norma Normal".into(),
        locked,
        disabled: false,
        groups: Vec::new(),
        admin_count: false,
        emails: vec![format!("{login}@example.test")],
        mobiles: vec!["+15550100001".into()],
        badges: vec!["0004567890".into()],
        registration: None,
    }
}

pub fn found(record: UserRecord, registration: Registration) -> LookupAnswer {
    LookupAnswer::Found {
        record,
        registration,
        failures: FailureCounter::new(),
        sends: SendHistory::new(),
    }
}

pub fn not_found() -> LookupAnswer {
    LookupAnswer::NotFound {
        failures: FailureCounter::new(),
        sends: SendHistory::new(),
    }
}

/// Plays a session: feeds events, keeps every effect and view, and remembers the last code sent.
pub struct Driver {
    pub config: FlowConfig,
    pub session: Session,
    pub now: u64,
    counter: u8,
    pub effects: Vec<Effect>,
    pub views: Vec<View>,
    pub last_code: Option<Secret>,
}

impl Driver {
    pub fn new(config: FlowConfig) -> Driver {
        let session = Session::new(&config.default_language, T0);
        Driver {
            config,
            session,
            now: T0,
            counter: 0,
            effects: Vec::new(),
            views: Vec::new(),
            last_code: None,
        }
    }

    pub fn send(&mut self, event: Event) -> Vec<Effect> {
        self.counter = self.counter.wrapping_add(1);
        let mut entropy = [self.counter; 32];
        entropy[31] = self.counter.wrapping_mul(37);
        let ctx = Context {
            now: self.now,
            entropy,
        };
        let session = std::mem::replace(&mut self.session, Session::new("en", self.now));
        let (session, effects) = step(session, event, &ctx, &self.config);
        self.session = session;
        for effect in &effects {
            if let Effect::SendCode { code, .. } = effect {
                self.last_code = Some(code.clone());
            }
        }
        self.views
            .push(view::view(&self.session, self.now, &self.config));
        self.effects.extend(effects.iter().cloned());
        effects
    }

    pub fn advance(&mut self, ms: u64) -> Vec<Effect> {
        self.now += ms;
        self.send(Event::Tick)
    }

    pub fn view(&self) -> View {
        view::view(&self.session, self.now, &self.config)
    }

    pub fn screen(&self) -> crate::protocol::ScreenId {
        self.view().screen
    }

    pub fn choose(&mut self, id: &str) -> Vec<Effect> {
        self.send(Event::Chosen(id.into()))
    }

    pub fn identify(&mut self, name: &str, answer: LookupAnswer) -> Vec<Effect> {
        self.choose("start");
        let effects = self.send(Event::IdentifierSubmitted(name.into()));
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::LookUpUser { .. })),
            "{effects:?}"
        );
        self.send(Event::UserLookedUp(Box::new(answer)))
    }

    pub fn right_code(&mut self) -> Vec<Effect> {
        let code = self.last_code.clone().expect("a code was sent");
        self.send(Event::CodeSubmitted(code))
    }

    pub fn right_totp(&mut self) -> Vec<Effect> {
        let code = totp::code_at(
            &Secret::new(TOTP_SECRET),
            self.now,
            &TotpParams::from_config(&self.config.totp),
        )
        .unwrap();
        self.send(Event::TotpSubmitted(code))
    }

    pub fn right_answers(&mut self) -> Vec<Effect> {
        let asked: Vec<String> = self.view().choices.iter().map(|c| c.id.clone()).collect();
        let values = asked
            .iter()
            .map(|id| {
                Secret::new(
                    ANSWERS
                        .iter()
                        .find(|(q, _)| q == id)
                        .map_or("", |(_, a)| *a),
                )
            })
            .collect();
        self.send(Event::AnswersSubmitted(values))
    }

    pub fn count<F: Fn(&Effect) -> bool>(&self, f: F) -> usize {
        self.effects.iter().filter(|e| f(e)).count()
    }
}

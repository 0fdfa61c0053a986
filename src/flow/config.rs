//! What the flow core needs to know about the site, taken from validated [`Settings`]. Plain data.

use std::collections::BTreeSet;

use crate::config::Settings;
use crate::config::kiosk::{CodesSection, Method, PolicySection, QaSection, TotpSection};
use crate::gates::qa::HashParams;

#[derive(Debug, Clone)]
pub struct FlowConfig {
    pub kiosk_id: String,
    pub helpdesk: String,
    /// Methods this kiosk offers.
    pub methods: BTreeSet<Method>,
    pub policy: PolicySection,
    pub codes: CodesSection,
    pub qa: QaSection,
    pub totp: TotpSection,
    pub default_language: String,
    pub languages: Vec<String>,
    /// Keys the decoy derivation; secret to the kiosk so decoys cannot be told from real people.
    pub decoy_key: [u8; 32],
    /// The organisation's mail domain, for plausible masked decoy addresses (`j•••@e•••.com`).
    pub mail_domain: String,
    /// Country calling code for plausible masked decoy numbers (`+49 ••• •••• 12`).
    pub phone_country_code: String,
    /// How long a receipt stays on screen.
    pub receipt_secs: u64,
    /// Argon2id cost for security answers registered at this kiosk.
    pub qa_hash: HashParams,
}

impl FlowConfig {
    pub fn from_settings(settings: &Settings, decoy_key: [u8; 32]) -> FlowConfig {
        let mail_domain = settings
            .delivery
            .email
            .as_ref()
            .and_then(|e| {
                e.from
                    .rsplit_once('@')
                    .map(|(_, d)| d.trim_end_matches('>').to_owned())
            })
            .unwrap_or_else(|| "example.com".to_owned());
        FlowConfig {
            kiosk_id: settings.site.kiosk_id.to_string(),
            helpdesk: settings.site.helpdesk.clone(),
            methods: settings.methods.clone(),
            policy: settings.policy.clone(),
            codes: settings.gates.codes.clone(),
            qa: settings.gates.qa.clone(),
            totp: settings.gates.totp.clone(),
            default_language: settings.languages.default.clone(),
            languages: settings.languages.offered.clone(),
            decoy_key,
            mail_domain,
            phone_country_code: settings
                .delivery
                .sms
                .as_ref()
                .map_or_else(|| "+1".to_owned(), |s| s.default_country_code.clone()),
            receipt_secs: 30,
            qa_hash: HashParams::RECOMMENDED,
        }
    }

    pub fn idle_ms(&self) -> u64 {
        self.policy.idle_timeout_secs * 1000
    }

    pub fn cap_ms(&self) -> u64 {
        self.policy.session_cap_secs * 1000
    }
}

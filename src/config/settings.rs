//! Runtime settings: the validated form of `kiosk.toml` that the rest of the program uses. Values are
//! typed (durations, parsed URLs, method sets) so nothing downstream re-checks or re-parses them.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use super::kiosk::{
    AttributesSection, BrandingSection, DeliverySection, Flavour, GatesSection, HistoryOnReset,
    KeysSection, LanguagesSection, Method, NotificationsSection, OutboxSection, PolicySection,
    TrustSection,
};
use crate::secret::SecretSource;

#[derive(Debug, Clone)]
pub struct Settings {
    pub site: Site,
    pub directory: DirectorySettings,
    pub gates: GatesSection,
    pub methods: BTreeSet<Method>,
    pub policy: PolicySection,
    pub delivery: DeliverySection,
    pub notifications: NotificationsSection,
    pub branding: BrandingSection,
    pub languages: LanguagesSection,
    pub trust: TrustSection,
    pub keys: KeysSection,
    pub outbox: OutboxSection,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub kiosk_id: KioskId,
    pub location: String,
    pub helpdesk: String,
    pub data_dir: PathBuf,
    pub ui_socket: PathBuf,
}

/// A kiosk's identity: 1–64 of `[A-Za-z0-9._-]`, checked at construction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KioskId(String);

impl KioskId {
    pub fn parse(value: &str) -> Option<KioskId> {
        let ok = (1..=64).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        ok.then(|| KioskId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KioskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `ldaps://`: TLS from the first byte.
    Ldaps,
    /// `ldap://` upgraded with StartTLS before anything else is sent.
    StartTls,
    /// `ldap://` in the clear: only with `insecure_for_tests`.
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUrl {
    /// As written in the configuration, for messages.
    pub url: String,
    pub host: String,
    pub port: u16,
    pub transport: Transport,
}

#[derive(Debug, Clone)]
pub struct DirectorySettings {
    pub flavour: Flavour,
    pub urls: Vec<DirectoryUrl>,
    pub base_dn: String,
    pub bind_dn: String,
    pub bind_password: SecretSource,
    pub user_filter: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub history_on_reset: HistoryOnReset,
    pub attributes: AttributesSection,
    /// The CA the directory's certificate must chain to (`trust.directory_ca`).
    pub ca_file: Option<PathBuf>,
}

impl Flavour {
    pub fn default_user_filter(self) -> &'static str {
        match self {
            Flavour::ActiveDirectory => "(&(objectCategory=person)(objectClass=user))",
            Flavour::Openldap => "(objectClass=inetOrgPerson)",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Flavour::ActiveDirectory => "Active Directory",
            Flavour::Openldap => "OpenLDAP (ppolicy)",
        }
    }
}

impl Settings {
    /// Every configured secret source with the key that names it, for loading and for summaries.
    pub fn secret_sources(&self) -> Vec<(&'static str, &SecretSource)> {
        let mut out = vec![("directory.bind_password", &self.directory.bind_password)];
        if let Some(email) = &self.delivery.email
            && let Some(password) = &email.password
        {
            out.push(("delivery.email.password", &password.0));
        }
        if let Some(http) = self.delivery.sms.as_ref().and_then(|s| s.http.as_ref())
            && let Some(auth) = &http.authorization
        {
            out.push(("delivery.sms.http.authorization", &auth.0));
        }
        if let Some(auth) = self
            .delivery
            .voice
            .as_ref()
            .and_then(|v| v.authorization.as_ref())
        {
            out.push(("delivery.voice.authorization", &auth.0));
        }
        if let Some(key) = &self.keys.device_key {
            out.push(("keys.device_key", &key.0));
        }
        if let Some(key) = &self.keys.registration_key {
            out.push(("keys.registration_key", &key.secret.0));
        }
        for key in &self.keys.previous_registration_keys {
            out.push(("keys.previous_registration_keys", &key.secret.0));
        }
        out
    }
}

//! The `kiosk.toml` schema as written by admins: serde types only, with defaults from DESIGN.md.
//! Every struct denies unknown keys. Meaning and cross-field checks live in `validate.rs`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::secret_ref::SecretRef;

/// The configuration format this build reads (`version = 1`).
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskFile {
    /// Format version of this file; must be [`FORMAT_VERSION`].
    pub version: u32,
    pub site: SiteSection,
    pub directory: DirectorySection,
    pub gates: GatesSection,
    #[serde(default)]
    pub policy: PolicySection,
    #[serde(default)]
    pub delivery: DeliverySection,
    #[serde(default)]
    pub notifications: NotificationsSection,
    #[serde(default)]
    pub branding: BrandingSection,
    #[serde(default)]
    pub languages: LanguagesSection,
    #[serde(default)]
    pub trust: TrustSection,
    #[serde(default)]
    pub keys: KeysSection,
    #[serde(default)]
    pub outbox: OutboxSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSection {
    /// Unique per kiosk: letters, digits, `.`, `_`, `-` (shown on receipts and in audit records).
    pub kiosk_id: String,
    /// Where the kiosk stands, in words a person recognises ("Building 2, main lobby").
    pub location: String,
    /// How to reach the helpdesk, printed on every receipt.
    pub helpdesk: String,
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default = "default_socket")]
    pub ui_socket: PathBuf,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/sspr-kiosk")
}
fn default_socket() -> PathBuf {
    PathBuf::from("/run/sspr-kiosk/ui.sock")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flavour {
    ActiveDirectory,
    Openldap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryOnReset {
    /// Refuse resets on a directory that cannot enforce password history on a reset.
    #[default]
    Require,
    /// Reset anyway and warn once in the journal.
    BestEffort,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySection {
    pub flavour: Flavour,
    /// Tried in order (failover). `ldaps://` or `ldap://` with `starttls = true`.
    pub urls: Vec<String>,
    #[serde(default)]
    pub starttls: bool,
    pub base_dn: String,
    pub bind_dn: String,
    pub bind_password: SecretRef,
    /// LDAP filter selecting people; default depends on the flavour.
    pub user_filter: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    #[serde(default)]
    pub history_on_reset: HistoryOnReset,
    /// Allows plain `ldap://` without StartTLS. Only for tests on loopback.
    #[serde(default)]
    pub insecure_for_tests: bool,
    pub attributes: AttributesSection,
}

fn default_timeout() -> u64 {
    5
}
fn default_connect_timeout() -> u64 {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributesSection {
    /// Attributes a typed username is matched against (sAMAccountName, userPrincipalName, uid, mail).
    pub identifiers: Vec<String>,
    /// Attribute holding the normalised badge ID(s); no badge identification without it.
    pub badge: Option<String>,
    #[serde(default = "default_display_name")]
    pub display_name: String,
    #[serde(default)]
    pub mobile: Vec<String>,
    #[serde(default)]
    pub email: Vec<String>,
    /// Attribute holding the encrypted registration blob (AD: e.g. msDS-cloudExtensionAttribute1).
    pub registration: String,
}

fn default_display_name() -> String {
    "displayName".to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    Qa,
    Email,
    Sms,
    Voice,
    Totp,
    Badge,
    ExternalMfa,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Qa => "qa",
            Method::Email => "email",
            Method::Sms => "sms",
            Method::Voice => "voice",
            Method::Totp => "totp",
            Method::Badge => "badge",
            Method::ExternalMfa => "external-mfa",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatesSection {
    /// The methods this kiosk offers.
    pub enabled: Vec<Method>,
    #[serde(default)]
    pub qa: QaSection,
    #[serde(default)]
    pub codes: CodesSection,
    #[serde(default)]
    pub totp: TotpSection,
    #[serde(default)]
    pub badge: BadgeSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QaSection {
    /// Question catalogue, keyed by a stable id (the id is stored with the answer hash).
    #[serde(default)]
    pub questions: BTreeMap<String, String>,
    #[serde(default = "three")]
    pub register: u32,
    #[serde(default = "three")]
    pub ask: u32,
}

impl Default for QaSection {
    fn default() -> Self {
        QaSection {
            questions: BTreeMap::new(),
            register: 3,
            ask: 3,
        }
    }
}

fn three() -> u32 {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CodesSection {
    pub digits: u32,
    pub validity_secs: u64,
    pub max_attempts: u32,
    pub resend_cooldown_secs: u64,
    pub max_sends_per_hour: u32,
}

impl Default for CodesSection {
    fn default() -> Self {
        CodesSection {
            digits: 6,
            validity_secs: 300,
            max_attempts: 3,
            resend_cooldown_secs: 30,
            max_sends_per_hour: 5,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TotpSection {
    /// Shown in the authenticator app next to the account.
    pub issuer: String,
    pub digits: u32,
    pub step_secs: u64,
    /// Accepted clock drift, in steps either side.
    pub skew_steps: u32,
}

impl Default for TotpSection {
    fn default() -> Self {
        TotpSection {
            issuer: "sspr-kiosk".to_owned(),
            digits: 6,
            step_secs: 30,
            skew_steps: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BadgeFormat {
    #[default]
    Hex,
    Decimal,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct BadgeSection {
    /// How a badge ID is normalised before lookup.
    pub format: BadgeFormat,
    /// Drop the leading facility code byte of a 5-byte EM4100 ID.
    pub strip_facility_code: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PrivilegedMode {
    /// Privileged accounts need two methods and may not use security questions.
    #[default]
    TwoMethods,
    /// Privileged accounts cannot use the kiosk at all.
    Refuse,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicySection {
    pub methods_required: u32,
    pub privileged_methods_required: u32,
    pub privileged: PrivilegedMode,
    /// Members (direct or nested) count as privileged, as does `adminCount=1`.
    pub privileged_groups: Vec<String>,
    /// If non-empty, only members may use the kiosk.
    pub allowed_groups: Vec<String>,
    pub denied_groups: Vec<String>,
    /// Contact attributes already in the directory count as registered methods.
    pub trust_directory_contacts: bool,
    pub idle_timeout_secs: u64,
    pub session_cap_secs: u64,
    pub lockout_failures: u32,
    pub lockout_window_secs: u64,
    pub lockout_duration_secs: u64,
    pub kiosk_throttle_failures: u32,
    pub kiosk_throttle_window_secs: u64,
    pub kiosk_cooldown_secs: u64,
    pub password: PasswordSection,
}

impl Default for PolicySection {
    fn default() -> Self {
        PolicySection {
            methods_required: 1,
            privileged_methods_required: 2,
            privileged: PrivilegedMode::TwoMethods,
            privileged_groups: Vec::new(),
            allowed_groups: Vec::new(),
            denied_groups: Vec::new(),
            trust_directory_contacts: true,
            idle_timeout_secs: 60,
            session_cap_secs: 600,
            lockout_failures: 5,
            lockout_window_secs: 24 * 3600,
            lockout_duration_secs: 24 * 3600,
            kiosk_throttle_failures: 20,
            kiosk_throttle_window_secs: 600,
            kiosk_cooldown_secs: 300,
            password: PasswordSection::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordSection {
    pub min_length: u32,
    pub max_length: u32,
    /// Minimum strength score, 0–4 (zxcvbn scale).
    pub min_strength: u32,
    pub reject_common: bool,
    pub reject_name_parts: bool,
}

impl Default for PasswordSection {
    fn default() -> Self {
        PasswordSection {
            min_length: 12,
            max_length: 256,
            min_strength: 3,
            reject_common: true,
            reject_name_parts: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeliverySection {
    pub email: Option<EmailSection>,
    pub sms: Option<SmsSection>,
    pub voice: Option<VoiceSection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpSecurity {
    Starttls,
    ImplicitTls,
    /// Plain SMTP: only for tests on loopback.
    InsecureForTests,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSection {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub from: String,
    pub username: Option<String>,
    pub password: Option<SecretRef>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmsProvider {
    Http,
    Modem,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSection {
    pub provider: SmsProvider,
    /// Country code for numbers written without one, e.g. "+49".
    pub default_country_code: String,
    pub http: Option<HttpGatewaySection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BodyFormat {
    #[default]
    Json,
    Form,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpGatewaySection {
    pub url: String,
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Sent as the `Authorization` header value.
    pub authorization: Option<SecretRef>,
    #[serde(default)]
    pub body_format: BodyFormat,
    /// Body fields; `{to}` and `{text}` are replaced.
    pub body: BTreeMap<String, String>,
    #[serde(default = "default_success")]
    pub success_status: Vec<u16>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_method() -> String {
    "POST".to_owned()
}
fn default_success() -> Vec<u16> {
    vec![200, 201, 202]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceSection {
    pub url: String,
    pub authorization: Option<SecretRef>,
    #[serde(default = "default_call_timeout")]
    pub call_timeout_secs: u64,
}

fn default_call_timeout() -> u64 {
    90
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsSection {
    /// Email the user on every reset and unlock (primary and alternate addresses).
    pub notify_user: bool,
    /// Addresses told about privileged-account actions, SSPR lockouts and kiosk throttling.
    pub security_admins: Vec<String>,
}

impl Default for NotificationsSection {
    fn default() -> Self {
        NotificationsSection {
            notify_user: true,
            security_admins: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrandingSection {
    pub organisation: String,
    pub logo: Option<PathBuf>,
    /// `#rrggbb`.
    pub accent_colour: String,
}

impl Default for BrandingSection {
    fn default() -> Self {
        BrandingSection {
            organisation: String::new(),
            logo: None,
            accent_colour: "#0b5cad".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LanguagesSection {
    pub default: String,
    pub offered: Vec<String>,
}

impl Default for LanguagesSection {
    fn default() -> Self {
        LanguagesSection {
            default: "en".to_owned(),
            offered: ["en", "de", "fr", "es"].map(str::to_owned).to_vec(),
        }
    }
}

/// Every trust decision in one place.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TrustSection {
    /// PEM CA bundle the directory's certificate must chain to.
    pub directory_ca: Option<PathBuf>,
    /// PEM CA bundle for the SMTP relay, SMS gateway and voice provider.
    pub services_ca: Option<PathBuf>,
    /// PEM CA that issues admin client certificates for the admin API.
    pub fleet_ca: Option<PathBuf>,
    /// ed25519 public keys (base64) allowed to sign pushed configuration.
    pub config_signing_keys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct KeysSection {
    /// Encrypts new passwords waiting in the outbox (32 bytes, base64 or hex).
    pub device_key: Option<SecretRef>,
    /// Encrypts the registration blob in the directory; the id is stored with each blob.
    pub registration_key: Option<KeyRef>,
    /// Older registration keys, still accepted for reading during a rotation.
    pub previous_registration_keys: Vec<KeyRef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    pub id: String,
    pub secret: SecretRef,
}

/// How long queued directory writes stay worth applying.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxSection {
    /// An unlock queued during an outage is still wanted a day later.
    pub unlock_max_age_secs: u64,
    /// A reset the person was told is "not yet active" must not surprise them hours later.
    pub reset_max_age_secs: u64,
}

impl Default for OutboxSection {
    fn default() -> Self {
        OutboxSection {
            unlock_max_age_secs: 24 * 3600,
            reset_max_age_secs: 15 * 60,
        }
    }
}

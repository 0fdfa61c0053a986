//! Meaning checks for `kiosk.toml` after it parsed: values in range, cross-references between sections
//! (an enabled gate needs its delivery channel), TLS rules. Produces [`Settings`] or located problems.

use std::collections::BTreeSet;
use std::time::Duration;

use super::Severity;
use super::kiosk::{FORMAT_VERSION, Flavour, KioskFile, Method, SmsProvider, SmtpSecurity};
use super::settings::{DirectorySettings, DirectoryUrl, KioskId, Settings, Site, Transport};

/// Languages the UI ships translations for.
pub const SUPPORTED_LANGUAGES: &[&str] = &["en", "de", "fr", "es"];

/// A problem found by a check, addressed by key path; located in the file by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: String,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Default)]
pub(super) struct Findings(pub Vec<Finding>);

impl Findings {
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.push(path, Severity::Error, message);
    }
    pub fn warning(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.push(path, Severity::Warning, message);
    }
    fn push(&mut self, path: impl Into<String>, severity: Severity, message: impl Into<String>) {
        self.0.push(Finding {
            path: path.into(),
            severity,
            message: message.into(),
        });
    }
    pub fn range<T: PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        path: &str,
        value: T,
        min: T,
        max: T,
    ) {
        if value < min || value > max {
            self.error(
                path,
                format!("{value} is out of range: use a value from {min} to {max}"),
            );
        }
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|f| f.severity == Severity::Error)
    }
}

pub(super) fn validate(file: &KioskFile, out: &mut Findings) -> Option<Settings> {
    if file.version != FORMAT_VERSION {
        out.error(
            "version",
            format!(
                "this sspr-kiosk reads configuration format version {FORMAT_VERSION}, the file says {}: \
                 write `version = {FORMAT_VERSION}` or update sspr-kiosk",
                file.version
            ),
        );
    }
    let site = check_site(file, out);
    let directory = check_directory(file, out);
    let methods = check_gates(file, out);
    check_policy(file, out);
    check_delivery(file, out);
    check_presentation(file, out);
    out.range(
        "outbox.unlock_max_age_secs",
        file.outbox.unlock_max_age_secs,
        60,
        7 * 24 * 3600,
    );
    out.range(
        "outbox.reset_max_age_secs",
        file.outbox.reset_max_age_secs,
        60,
        24 * 3600,
    );
    if out.has_errors() {
        return None;
    }
    Some(Settings {
        site: site?,
        directory: directory?,
        gates: file.gates.clone(),
        methods,
        policy: file.policy.clone(),
        delivery: file.delivery.clone(),
        notifications: file.notifications.clone(),
        branding: file.branding.clone(),
        languages: file.languages.clone(),
        trust: file.trust.clone(),
        keys: file.keys.clone(),
        outbox: file.outbox.clone(),
    })
}

fn check_site(file: &KioskFile, out: &mut Findings) -> Option<Site> {
    let site = &file.site;
    let kiosk_id = KioskId::parse(&site.kiosk_id);
    if kiosk_id.is_none() {
        out.error(
            "site.kiosk_id",
            "a kiosk id is 1 to 64 characters of letters, digits, `.`, `_` or `-` (e.g. \"hq-lobby-1\")",
        );
    }
    for (key, value) in [
        ("site.location", &site.location),
        ("site.helpdesk", &site.helpdesk),
    ] {
        if value.trim().is_empty() {
            out.error(
                key,
                "must not be empty: it is shown to people on the receipt",
            );
        }
    }
    for (key, path) in [
        ("site.data_dir", &site.data_dir),
        ("site.ui_socket", &site.ui_socket),
    ] {
        if !path.is_absolute() {
            out.error(key, "must be an absolute path");
        }
    }
    Some(Site {
        kiosk_id: kiosk_id?,
        location: site.location.clone(),
        helpdesk: site.helpdesk.clone(),
        data_dir: site.data_dir.clone(),
        ui_socket: site.ui_socket.clone(),
    })
}

fn check_directory(file: &KioskFile, out: &mut Findings) -> Option<DirectorySettings> {
    let dir = &file.directory;
    if dir.urls.is_empty() {
        out.error(
            "directory.urls",
            "list at least one directory URL, e.g. [\"ldaps://dc1.example.com\"]",
        );
    }
    let mut urls = Vec::new();
    for (i, raw) in dir.urls.iter().enumerate() {
        let path = format!("directory.urls[{i}]");
        match parse_ldap_url(raw, dir.starttls, dir.insecure_for_tests) {
            Ok(url) => urls.push(url),
            Err(message) => out.error(path, message),
        }
    }
    for (key, dn) in [
        ("directory.base_dn", &dir.base_dn),
        ("directory.bind_dn", &dir.bind_dn),
    ] {
        if !dn.contains('=') {
            out.error(
                key,
                format!("`{dn}` is not a distinguished name (e.g. \"DC=example,DC=com\")"),
            );
        }
    }
    out.range("directory.timeout_secs", dir.timeout_secs, 1, 120);
    out.range(
        "directory.connect_timeout_secs",
        dir.connect_timeout_secs,
        1,
        60,
    );
    let attrs = &dir.attributes;
    if attrs.identifiers.is_empty() {
        out.error(
            "directory.attributes.identifiers",
            "list the attributes a typed username is matched against, e.g. [\"sAMAccountName\", \"userPrincipalName\"]",
        );
    }
    let named = attrs
        .identifiers
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("directory.attributes.identifiers[{i}]"), a))
        .chain(
            attrs
                .badge
                .iter()
                .map(|a| ("directory.attributes.badge".to_owned(), a)),
        )
        .chain([
            (
                "directory.attributes.display_name".to_owned(),
                &attrs.display_name,
            ),
            (
                "directory.attributes.registration".to_owned(),
                &attrs.registration,
            ),
        ])
        .chain(
            attrs
                .mobile
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("directory.attributes.mobile[{i}]"), a)),
        )
        .chain(
            attrs
                .email
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("directory.attributes.email[{i}]"), a)),
        );
    for (path, attr) in named {
        if !is_attribute_name(attr) {
            out.error(path, format!("`{attr}` is not an LDAP attribute name (letters, digits and `-`, starting with a letter)"));
        }
    }
    if let Some(filter) = &dir.user_filter
        && !(filter.starts_with('(') && filter.ends_with(')'))
    {
        out.error(
            "directory.user_filter",
            "an LDAP filter is written in parentheses, e.g. \"(objectClass=user)\"",
        );
    }
    let needs_ca = urls.iter().any(|u| u.transport != Transport::Plain);
    if needs_ca && file.trust.directory_ca.is_none() {
        out.error(
            "directory",
            "TLS to the directory needs a pinned CA: set `directory_ca = \"/etc/sspr-kiosk/directory-ca.pem\"` in [trust]",
        );
    }
    Some(DirectorySettings {
        flavour: dir.flavour,
        urls,
        base_dn: dir.base_dn.clone(),
        bind_dn: dir.bind_dn.clone(),
        bind_password: dir.bind_password.0.clone(),
        user_filter: dir
            .user_filter
            .clone()
            .unwrap_or_else(|| dir.flavour.default_user_filter().to_owned()),
        timeout: Duration::from_secs(dir.timeout_secs),
        connect_timeout: Duration::from_secs(dir.connect_timeout_secs),
        history_on_reset: dir.history_on_reset,
        attributes: dir.attributes.clone(),
        ca_file: file.trust.directory_ca.clone(),
    })
}

/// Parses one directory URL under the TLS rules: ldaps://, or ldap:// with StartTLS, or plain ldap://
/// only when the config says `insecure_for_tests`.
pub fn parse_ldap_url(raw: &str, starttls: bool, insecure: bool) -> Result<DirectoryUrl, String> {
    let url = url::Url::parse(raw).map_err(|e| {
        format!("`{raw}` is not a URL ({e}): write e.g. \"ldaps://dc1.example.com\"")
    })?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("`{raw}` has no host name"))?;
    if url.path() != "/" && !url.path().is_empty() || url.query().is_some() {
        return Err(format!(
            "`{raw}`: write only scheme, host and port; the base DN goes in `base_dn`"
        ));
    }
    let (transport, default_port) = match (url.scheme(), starttls, insecure) {
        ("ldaps", false, _) => (Transport::Ldaps, 636),
        ("ldaps", true, _) => {
            return Err(format!(
                "`{raw}` is already TLS: use ldap:// with `starttls = true`, or ldaps:// without it"
            ));
        }
        ("ldap", true, _) => (Transport::StartTls, 389),
        ("ldap", false, true) => (Transport::Plain, 389),
        ("ldap", false, false) => {
            return Err(format!(
                "`{raw}` would send passwords in the clear: use ldaps://, or set `starttls = true`"
            ));
        }
        (other, _, _) => {
            return Err(format!(
                "`{other}://` is not a directory URL: use ldaps:// or ldap://"
            ));
        }
    };
    Ok(DirectoryUrl {
        url: raw.to_owned(),
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port: url.port().unwrap_or(default_port),
        transport,
    })
}

fn is_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    let descr = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !name.is_empty()
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    descr || oid
}

fn check_gates(file: &KioskFile, out: &mut Findings) -> BTreeSet<Method> {
    let gates = &file.gates;
    let mut methods = BTreeSet::new();
    for (i, method) in gates.enabled.iter().enumerate() {
        let path = format!("gates.enabled[{i}]");
        if !methods.insert(*method) {
            out.error(&path, format!("`{}` is listed twice", method.name()));
            continue;
        }
        let missing = match method {
            Method::Email if file.delivery.email.is_none() => Some("a [delivery.email] section"),
            Method::Sms if file.delivery.sms.is_none() => Some("a [delivery.sms] section"),
            Method::Voice if file.delivery.voice.is_none() => Some("a [delivery.voice] section"),
            Method::Badge if file.directory.attributes.badge.is_none() => {
                Some("`badge = \"…\"` in [directory.attributes]")
            }
            Method::Qa | Method::Totp if file.keys.registration_key.is_none() => {
                Some("`registration_key` in [keys] (answers and TOTP secrets are stored encrypted)")
            }
            Method::ExternalMfa => {
                Some("an external MFA provider, which this version does not support yet")
            }
            _ => None,
        };
        if let Some(what) = missing {
            out.error(path, format!("method `{}` needs {what}", method.name()));
        }
    }
    if methods.is_empty() {
        out.error(
            "gates.enabled",
            "enable at least one method, e.g. [\"email\", \"totp\"]",
        );
    } else if methods.iter().all(|m| *m == Method::Badge) {
        out.error(
            "gates.enabled",
            "a badge only identifies a person (125 kHz badges copy trivially): enable at least one other method",
        );
    }
    let qa = &gates.qa;
    if methods.contains(&Method::Qa) {
        if qa.questions.len() < 5 {
            out.error("gates.qa.questions", format!("offer at least 5 questions (found {}) so people can choose ones they can answer", qa.questions.len()));
        }
        out.range("gates.qa.register", qa.register, 3, 10);
        if qa.ask > qa.register || qa.ask == 0 {
            out.error(
                "gates.qa.ask",
                format!("ask between 1 and `register` ({}) questions", qa.register),
            );
        }
    }
    let codes = &gates.codes;
    out.range("gates.codes.digits", codes.digits, 6, 10);
    out.range("gates.codes.validity_secs", codes.validity_secs, 60, 3600);
    out.range("gates.codes.max_attempts", codes.max_attempts, 1, 10);
    out.range(
        "gates.codes.resend_cooldown_secs",
        codes.resend_cooldown_secs,
        0,
        600,
    );
    out.range(
        "gates.codes.max_sends_per_hour",
        codes.max_sends_per_hour,
        1,
        60,
    );
    let totp = &gates.totp;
    out.range("gates.totp.digits", totp.digits, 6, 8);
    if totp.step_secs != 30 && totp.step_secs != 60 {
        out.error(
            "gates.totp.step_secs",
            "authenticator apps use 30 (standard) or 60 second steps",
        );
    }
    out.range("gates.totp.skew_steps", totp.skew_steps, 0, 2);
    methods
}

fn check_policy(file: &KioskFile, out: &mut Findings) {
    let p = &file.policy;
    out.range("policy.methods_required", p.methods_required, 1, 2);
    out.range(
        "policy.privileged_methods_required",
        p.privileged_methods_required,
        1,
        2,
    );
    if p.privileged_methods_required < p.methods_required {
        out.error(
            "policy.privileged_methods_required",
            "privileged accounts cannot need fewer methods than everyone else",
        );
    }
    let usable = file
        .gates
        .enabled
        .iter()
        .filter(|m| **m != Method::Badge)
        .collect::<BTreeSet<_>>()
        .len();
    if usable < p.methods_required as usize {
        out.error(
            "policy.methods_required",
            format!("{} methods are required but only {usable} verifying methods are enabled in [gates]", p.methods_required),
        );
    }
    out.range("policy.idle_timeout_secs", p.idle_timeout_secs, 15, 600);
    out.range("policy.session_cap_secs", p.session_cap_secs, 60, 3600);
    if p.session_cap_secs < p.idle_timeout_secs {
        out.error(
            "policy.session_cap_secs",
            "the session cap must not be shorter than the idle timeout",
        );
    }
    out.range("policy.lockout_failures", p.lockout_failures, 1, 50);
    out.range(
        "policy.lockout_window_secs",
        p.lockout_window_secs,
        60,
        30 * 24 * 3600,
    );
    out.range(
        "policy.lockout_duration_secs",
        p.lockout_duration_secs,
        60,
        30 * 24 * 3600,
    );
    out.range(
        "policy.kiosk_throttle_failures",
        p.kiosk_throttle_failures,
        1,
        1000,
    );
    let pw = &p.password;
    out.range("policy.password.min_length", pw.min_length, 8, 128);
    out.range(
        "policy.password.max_length",
        pw.max_length,
        pw.min_length.max(8),
        1024,
    );
    out.range("policy.password.min_strength", pw.min_strength, 0, 4);
    for (key, groups) in [
        ("policy.privileged_groups", &p.privileged_groups),
        ("policy.allowed_groups", &p.allowed_groups),
        ("policy.denied_groups", &p.denied_groups),
    ] {
        for (i, group) in groups.iter().enumerate() {
            if !group.contains('=') {
                out.error(format!("{key}[{i}]"), format!("`{group}` is not a group DN (e.g. \"CN=Domain Admins,CN=Users,DC=example,DC=com\")"));
            }
        }
    }
    if file.directory.flavour == Flavour::Openldap && p.privileged_groups.is_empty() {
        out.warning(
            "policy.privileged_groups",
            "OpenLDAP has no adminCount: list the groups whose members are privileged, or no account is treated as privileged",
        );
    }
}

fn check_delivery(file: &KioskFile, out: &mut Findings) {
    let d = &file.delivery;
    if let Some(email) = &d.email {
        if email.port == 0 {
            out.error(
                "delivery.email.port",
                "use the SMTP port, e.g. 587 (STARTTLS) or 465 (implicit TLS)",
            );
        }
        if !email.from.contains('@') {
            out.error(
                "delivery.email.from",
                "write a sender address such as \"it-kiosk@example.com\"",
            );
        }
        if email.password.is_some() != email.username.is_some() {
            out.error(
                "delivery.email",
                "SMTP AUTH needs both `username` and `password` (or neither)",
            );
        }
        out.range("delivery.email.timeout_secs", email.timeout_secs, 1, 120);
        if email.security != SmtpSecurity::InsecureForTests && file.trust.services_ca.is_none() {
            out.error(
                "delivery.email",
                "TLS to the mail relay needs a pinned CA: set `services_ca = \"/etc/sspr-kiosk/services-ca.pem\"` in [trust]",
            );
        }
    }
    if let Some(sms) = &d.sms {
        let code = &sms.default_country_code;
        let valid = code.len() >= 2
            && code.len() <= 5
            && code.starts_with('+')
            && code[1..].chars().all(|c| c.is_ascii_digit())
            && !code[1..].starts_with('0');
        if !valid {
            out.error(
                "delivery.sms.default_country_code",
                "write the country calling code with a plus, e.g. \"+49\"",
            );
        }
        match (&sms.provider, &sms.http) {
            (SmsProvider::Http, None) => out.error(
                "delivery.sms",
                "provider \"http\" needs a [delivery.sms.http] section",
            ),
            (SmsProvider::Http, Some(http)) => {
                check_service_url(out, "delivery.sms.http.url", &http.url)
            }
            (SmsProvider::Modem, Some(_)) => out.warning(
                "delivery.sms.http",
                "ignored: provider is \"modem\" (the modem port is in the board file)",
            ),
            (SmsProvider::Modem, None) => {}
        }
    }
    if let Some(voice) = &d.voice {
        check_service_url(out, "delivery.voice.url", &voice.url);
        out.range(
            "delivery.voice.call_timeout_secs",
            voice.call_timeout_secs,
            15,
            300,
        );
    }
    let n = &file.notifications;
    for (i, address) in n.security_admins.iter().enumerate() {
        if !address.contains('@') {
            out.error(
                format!("notifications.security_admins[{i}]"),
                format!("`{address}` is not an email address"),
            );
        }
    }
    if (n.notify_user || !n.security_admins.is_empty()) && d.email.is_none() {
        out.warning(
            "notifications",
            "notifications are on but there is no [delivery.email]: nobody will be notified",
        );
    }
}

/// HTTPS for providers; plain http only to loopback (tests, or a local relay).
fn check_service_url(out: &mut Findings, path: &str, raw: &str) {
    match url::Url::parse(raw) {
        Ok(url) if url.scheme() == "https" => {}
        Ok(url)
            if url.scheme() == "http"
                && matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) => {}
        Ok(_) => out.error(
            path,
            format!("`{raw}` must be https:// (plain http only to loopback)"),
        ),
        Err(e) => out.error(path, format!("`{raw}` is not a URL: {e}")),
    }
}

fn check_presentation(file: &KioskFile, out: &mut Findings) {
    let colour = &file.branding.accent_colour;
    if !(colour.len() == 7
        && colour.starts_with('#')
        && colour[1..].chars().all(|c| c.is_ascii_hexdigit()))
    {
        out.error(
            "branding.accent_colour",
            format!("`{colour}`: write a colour as #rrggbb, e.g. \"#0b5cad\""),
        );
    }
    let langs = &file.languages;
    for (i, lang) in langs.offered.iter().enumerate() {
        if !SUPPORTED_LANGUAGES.contains(&lang.as_str()) {
            out.error(
                format!("languages.offered[{i}]"),
                format!(
                    "no translation for `{lang}`: supported are {}",
                    SUPPORTED_LANGUAGES.join(", ")
                ),
            );
        }
    }
    if !langs.offered.contains(&langs.default) {
        out.error(
            "languages.default",
            format!("`{}` must also be listed in `offered`", langs.default),
        );
    }
    for (i, key) in file.trust.config_signing_keys.iter().enumerate() {
        use base64::Engine as _;
        let ok = base64::engine::general_purpose::STANDARD
            .decode(key)
            .is_ok_and(|k| k.len() == 32);
        if !ok {
            out.error(
                format!("trust.config_signing_keys[{i}]"),
                "an ed25519 public key is 32 bytes in base64 (print one with `sspr-kiosk admin keygen`)",
            );
        }
    }
    if file.keys.device_key.is_none() {
        out.error("keys", "set `device_key` (it encrypts new passwords waiting in the outbox), e.g. device_key = { credential = \"device-key\" }");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_urls_follow_the_tls_rules() {
        let ok = parse_ldap_url("ldaps://dc1.example.com", false, false).unwrap();
        assert_eq!((ok.port, ok.transport), (636, Transport::Ldaps));
        let ok = parse_ldap_url("ldap://dc1.example.com:3389", true, false).unwrap();
        assert_eq!((ok.port, ok.transport), (3389, Transport::StartTls));
        assert!(
            parse_ldap_url("ldap://dc1", false, false)
                .unwrap_err()
                .contains("in the clear")
        );
        assert_eq!(
            parse_ldap_url("ldap://127.0.0.1:1389", false, true)
                .unwrap()
                .transport,
            Transport::Plain
        );
        assert!(parse_ldap_url("ldaps://dc1", true, false).is_err());
        assert!(parse_ldap_url("https://dc1", false, false).is_err());
        assert!(parse_ldap_url("ldaps://dc1/dc=example", false, false).is_err());
        assert_eq!(
            parse_ldap_url("ldaps://[::1]:6360", false, false)
                .unwrap()
                .host,
            "::1"
        );
    }

    #[test]
    fn attribute_names() {
        assert!(is_attribute_name("sAMAccountName"));
        assert!(is_attribute_name("msDS-cloudExtensionAttribute1"));
        assert!(is_attribute_name("1.2.840.113556.1.4.221"));
        assert!(!is_attribute_name("mail)(uid=*"));
        assert!(!is_attribute_name(""));
        assert!(!is_attribute_name("1abc"));
    }

    #[test]
    fn kiosk_ids() {
        assert!(KioskId::parse("hq-lobby_1.a").is_some());
        assert!(KioskId::parse("").is_none());
        assert!(KioskId::parse("has space").is_none());
        assert!(KioskId::parse(&"x".repeat(65)).is_none());
    }
}

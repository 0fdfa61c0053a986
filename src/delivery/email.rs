//! The SMTP adapter: sends code messages and notifications through the configured relay with lettre
//! over rustls (ring). TLS is STARTTLS (required, never opportunistic) or implicit, and trusts only
//! `[trust] services_ca` — never the system store; plain SMTP exists for tests on loopback only.
//! One connection per message; `timeout_secs` bounds the whole send. It must never log a code, a
//! password or a message body, and never put unchecked input into a header.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub use super::SiteInfo;
use super::address::{parse_address, parse_from};
use super::templates::{self, Rendered};
use super::{DeliveryError, Notification};
use crate::config::kiosk::{EmailSection, SmtpSecurity};
use crate::secret::Secret;

/// How long a code is said to be valid when the agent does not say otherwise (DESIGN.md: 5 min).
pub const DEFAULT_CODE_VALIDITY: Duration = Duration::from_secs(300);

/// Sends mail through one relay. Built once from the configuration; cheap to share.
pub struct EmailSender {
    host: String,
    port: u16,
    security: Security,
    from: Mailbox,
    credentials: Option<(String, Secret)>,
    timeout: Duration,
    hello: ClientId,
    site: SiteInfo,
    code_validity: Duration,
}

/// The connection's protection, with the pinned trust anchors already loaded.
#[derive(Clone)]
enum Security {
    StartTls(TlsParameters),
    Implicit(TlsParameters),
    PlainForTests,
}

impl fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let security = match self.security {
            Security::StartTls(_) => "starttls",
            Security::Implicit(_) => "implicit-tls",
            Security::PlainForTests => "insecure-for-tests",
        };
        f.debug_struct("EmailSender")
            .field("relay", &format_args!("{}:{}", self.host, self.port))
            .field("security", &security)
            .field("from", &self.from.email.to_string())
            .field("username", &self.credentials.as_ref().map(|(u, _)| u))
            .field("timeout", &self.timeout)
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

impl EmailSender {
    /// Checks the configuration and loads the trust anchors; connects only when sending.
    ///
    /// `services_ca` is `[trust] services_ca`: required unless `security = "insecure-for-tests"`.
    /// `password` is the loaded `[delivery.email] password`, present exactly when `username` is.
    pub fn new(
        section: &EmailSection,
        services_ca: Option<&Path>,
        password: Option<Secret>,
        site: SiteInfo,
    ) -> Result<EmailSender, DeliveryError> {
        let host = section.host.trim().to_owned();
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DeliveryError::Config(format!(
                "[delivery.email] host {:?} is not a host name or IP address",
                section.host
            )));
        }
        let from = parse_from(&section.from)?;
        let credentials = match (&section.username, password) {
            (Some(user), Some(password)) => Some((user.clone(), password)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(DeliveryError::Config(
                    "[delivery.email] username is set but no password was loaded".to_owned(),
                ));
            }
            (None, Some(_)) => {
                return Err(DeliveryError::Config(
                    "[delivery.email] has a password but no username".to_owned(),
                ));
            }
        };
        let security = match section.security {
            SmtpSecurity::InsecureForTests => {
                log::warn!(
                    "[delivery.email] security = \"insecure-for-tests\": mail to {host} goes unencrypted{}",
                    if credentials.is_some() {
                        ", and so would the SMTP password if the relay offered AUTH"
                    } else {
                        ""
                    }
                );
                Security::PlainForTests
            }
            SmtpSecurity::Starttls => Security::StartTls(tls_parameters(&host, services_ca)?),
            SmtpSecurity::ImplicitTls => Security::Implicit(tls_parameters(&host, services_ca)?),
        };
        Ok(EmailSender {
            hello: ClientId::Domain(hello_name(&site.kiosk_id)),
            host,
            port: section.port,
            security,
            from,
            credentials,
            timeout: Duration::from_secs(section.timeout_secs.max(1)),
            site,
            code_validity: DEFAULT_CODE_VALIDITY,
        })
    }

    /// The validity a code message announces (`[gates.codes] validity_secs`).
    #[must_use]
    pub fn with_code_validity(mut self, validity: Duration) -> EmailSender {
        self.code_validity = validity;
        self
    }

    /// Sends a one-time code to `to`, in `language` (unknown languages get English).
    pub async fn send_code(
        &self,
        to: &str,
        code: &Secret,
        language: &str,
    ) -> Result<(), DeliveryError> {
        let to = parse_address(to)?;
        let rendered = templates::code_message(language, code, &self.site, self.code_validity);
        self.deliver(&to, rendered, "code").await
    }

    /// Tells `to` what happened; the message holds no secret.
    pub async fn notify(
        &self,
        to: &str,
        notification: &Notification,
        language: &str,
    ) -> Result<(), DeliveryError> {
        let to = parse_address(to)?;
        let rendered = templates::notification(language, notification, &self.site);
        let what = if notification.is_admin_alert() {
            "admin alert"
        } else {
            "notification"
        };
        self.deliver(&to, rendered, what).await
    }

    async fn deliver(
        &self,
        to: &Address,
        rendered: Rendered,
        what: &str,
    ) -> Result<(), DeliveryError> {
        let message = self.message(to, &rendered)?;
        drop(rendered);
        let transport = self.transport();
        let outcome = match tokio::time::timeout(self.timeout, transport.send(message)).await {
            Err(_elapsed) => Err(DeliveryError::Timeout {
                secs: self.timeout.as_secs(),
            }),
            Ok(Ok(_response)) => Ok(()),
            Ok(Err(e)) => Err(self.classify(&e, to)),
        };
        let recipient = crate::mask::email(to.as_ref());
        match &outcome {
            Ok(()) => log::info!(
                "email {what} to {recipient} accepted by {}:{}",
                self.host,
                self.port
            ),
            Err(e) => log::warn!(
                "email {what} to {recipient} via {}:{} not sent: {e}",
                self.host,
                self.port
            ),
        }
        outcome
    }

    fn message(&self, to: &Address, rendered: &Rendered) -> Result<Message, DeliveryError> {
        let domain = self.from.email.domain();
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to.clone()))
            .subject(templates::header_safe(&rendered.subject))
            .message_id(Some(format!("<{:032x}@{domain}>", rand::random::<u128>())))
            .header(AutoSubmitted)
            .multipart(MultiPart::alternative_plain_html(
                rendered.text.clone(),
                rendered.html.clone(),
            ))
            .map_err(|e| DeliveryError::Config(format!("cannot build the message: {e}")))
    }

    /// A transport for one send: lettre keeps the password as a plain `String`, so it lives only as
    /// long as the send.
    fn transport(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        let tls = match &self.security {
            Security::StartTls(params) => Tls::Required(params.clone()),
            Security::Implicit(params) => Tls::Wrapper(params.clone()),
            Security::PlainForTests => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .hello_name(self.hello.clone())
            .timeout(Some(self.timeout));
        if let Some((user, password)) = &self.credentials {
            builder = builder
                .credentials(Credentials::new(user.clone(), password.expose().to_owned()))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        builder.build()
    }

    /// Turns lettre's error into what happens next. The relay's own words go into `detail` (they
    /// never contain our password or the message; a recipient address they echo is masked).
    fn classify(&self, err: &lettre::transport::smtp::Error, to: &Address) -> DeliveryError {
        let detail = redact(&err.to_string(), to.as_ref());
        if let Some(tls) = rustls_error(err) {
            return DeliveryError::Tls {
                detail: format!(
                    "{tls} (the relay's certificate must chain to [trust] services_ca and name {})",
                    self.host
                ),
            };
        }
        if err.is_timeout() {
            return DeliveryError::Timeout {
                secs: self.timeout.as_secs(),
            };
        }
        if let Some(code) = err.status() {
            let code = u16::from(code);
            let requires_tls = detail.to_ascii_lowercase().contains("starttls");
            return match code {
                530 | 538 if requires_tls => DeliveryError::Tls {
                    detail: format!("the relay requires TLS first: {detail}"),
                },
                530 | 534 | 535 | 538 => DeliveryError::AuthFailed { detail },
                400..=499 => DeliveryError::Unreachable { detail },
                _ => DeliveryError::Refused { code, detail },
            };
        }
        if err.is_client() {
            // lettre's own refusals, recognised by its wording (pinned by the integration tests).
            if detail.contains("authentication mechanism") {
                return DeliveryError::AuthFailed {
                    detail: "the relay offers no AUTH PLAIN or LOGIN on this connection (does it \
                             require TLS first?); the password was not sent"
                        .to_owned(),
                };
            }
            if detail.contains("STARTTLS") {
                return DeliveryError::Tls {
                    detail: format!(
                        "{}:{} does not offer STARTTLS (use security = \"implicit-tls\" for port 465)",
                        self.host, self.port
                    ),
                };
            }
            return DeliveryError::Config(detail);
        }
        DeliveryError::Unreachable { detail }
    }
}

/// `detail` with every occurrence of `address` (ASCII letters in any case) replaced by its masked form:
/// relays like to quote the recipient ("<jane@example.com>: User unknown"), and logs must not.
fn redact(detail: &str, address: &str) -> String {
    if address.is_empty() {
        return detail.to_owned();
    }
    // ASCII lowercasing keeps every byte offset, so matches in the copy are offsets in the original.
    let lower_detail = detail.to_ascii_lowercase();
    let lower_address = address.to_ascii_lowercase();
    let masked = crate::mask::email(address);
    let mut out = String::with_capacity(detail.len());
    let mut last = 0;
    for (at, _) in lower_detail.match_indices(&lower_address) {
        out.push_str(&detail[last..at]);
        out.push_str(&masked);
        last = at + address.len();
    }
    out.push_str(&detail[last..]);
    out
}

/// The pinned TLS parameters for `host`: the certificates of `services_ca`, nothing else.
fn tls_parameters(host: &str, services_ca: Option<&Path>) -> Result<TlsParameters, DeliveryError> {
    let Some(ca) = services_ca else {
        return Err(DeliveryError::Config(
            "[delivery.email] uses TLS but [trust] services_ca is not set: the kiosk trusts only the \
             CA you configure, never the system store; set services_ca to the PEM file of the CA \
             that issued the relay's certificate"
                .to_owned(),
        ));
    };
    if rustls::pki_types::ServerName::try_from(host).is_err() {
        return Err(DeliveryError::Config(format!(
            "[delivery.email] host {host:?} cannot be checked against a certificate"
        )));
    }
    let certs = crate::directory::tls::ca_certificates(ca)
        .map_err(|e| DeliveryError::Config(format!("[trust] services_ca: {e}")))?;
    let mut builder =
        TlsParameters::builder(host.to_owned()).certificate_store(CertificateStore::None);
    for cert in certs {
        let cert = Certificate::from_der(cert.to_vec())
            .map_err(|e| DeliveryError::Config(format!("[trust] services_ca: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| DeliveryError::Config(format!("TLS setup for {host}: {e}")))
}

/// The EHLO name: the kiosk id as a host-name label, so relay logs say which kiosk connected.
fn hello_name(kiosk_id: &str) -> String {
    let name: String = kiosk_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches(['-', '.']);
    if name.is_empty() {
        "sspr-kiosk".to_owned()
    } else {
        name.to_owned()
    }
}

/// The rustls error somewhere in lettre's error chain: lettre wraps it in `io::Error`s, whose
/// `source()` skips the wrapped error, so each `io::Error` is opened by hand.
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        current = e.source();
    }
    None
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office replies must not answer the kiosk.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_words_quoting_the_recipient_are_masked() {
        let detail =
            "permanent error (550): <Jane.Doe@example.com>: User unknown (jane.doe@EXAMPLE.com)";
        let redacted = redact(detail, "Jane.Doe@example.com");
        assert_eq!(
            redacted,
            "permanent error (550): <J•••@e•••.com>: User unknown (J•••@e•••.com)"
        );
        assert_eq!(redact("no address here", "a@b.c"), "no address here");
    }

    #[test]
    fn hello_name_is_a_host_label_made_from_the_kiosk_id() {
        assert_eq!(hello_name("Lobby_1.b2"), "lobby-1.b2");
        assert_eq!(hello_name("__"), "sspr-kiosk");
    }

    fn section(security: SmtpSecurity) -> EmailSection {
        EmailSection {
            host: "127.0.0.1".to_owned(),
            port: 2525,
            security,
            from: "kiosk@example.test".to_owned(),
            username: None,
            password: None,
            timeout_secs: 5,
        }
    }

    fn site() -> SiteInfo {
        SiteInfo {
            kiosk_id: "lobby-1".to_owned(),
            location: "Building 2".to_owned(),
            helpdesk: "ext. 4357".to_owned(),
        }
    }

    #[test]
    fn tls_without_a_services_ca_is_a_config_error() {
        for security in [SmtpSecurity::Starttls, SmtpSecurity::ImplicitTls] {
            let err = EmailSender::new(&section(security), None, None, site()).unwrap_err();
            assert!(matches!(err, DeliveryError::Config(_)), "{err}");
            assert!(err.to_string().contains("services_ca"), "{err}");
        }
        assert!(
            EmailSender::new(&section(SmtpSecurity::InsecureForTests), None, None, site()).is_ok()
        );
    }

    #[test]
    fn an_unreadable_ca_is_a_config_error() {
        let missing = Path::new("/nonexistent/ca.pem");
        let err = EmailSender::new(
            &section(SmtpSecurity::Starttls),
            Some(missing),
            None,
            site(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("services_ca"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = EmailSender::new(&section(SmtpSecurity::Starttls), Some(&empty), None, site())
            .unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }

    #[test]
    fn username_and_password_come_together() {
        let mut with_user = section(SmtpSecurity::InsecureForTests);
        with_user.username = Some("kiosk".to_owned());
        let err = EmailSender::new(&with_user, None, None, site()).unwrap_err();
        assert!(matches!(err, DeliveryError::Config(_)), "{err}");
        let section = section(SmtpSecurity::InsecureForTests);
        let err = EmailSender::new(&section, None, Some(Secret::new("pw")), site()).unwrap_err();
        assert!(matches!(err, DeliveryError::Config(_)), "{err}");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let mut with_user = section(SmtpSecurity::InsecureForTests);
        with_user.username = Some("kiosk".to_owned());
        let sender =
            EmailSender::new(&with_user, None, Some(Secret::new("Relay#Pass-77")), site()).unwrap();
        let debug = format!("{sender:?}");
        assert!(!debug.contains("Relay#Pass-77"), "{debug}");
        assert!(debug.contains("kiosk"), "{debug}");
    }
}

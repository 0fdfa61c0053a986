//! The email adapter against the harness's real SMTP server (aiosmtpd): STARTTLS and implicit TLS
//! pinned to the server's CA, AUTH, refusals (wrong CA, wrong password, AUTH without TLS, closed port,
//! silence), templates and addresses. A scripted peer plays a relay that refuses or defers a
//! recipient, which the capture server never does (helpers: `email_support.rs`). Logs are captured and
//! searched for secrets.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use sspr_kiosk::config::kiosk::{EmailSection, SmtpSecurity};
use sspr_kiosk::delivery::email::{EmailSender, SiteInfo};
use sspr_kiosk::delivery::{Change, DeliveryError, Notification};
use sspr_kiosk::secret::Secret;

use crate::email_support::{ScriptedRelay, install_log_capture, logs, part};
use crate::harness::certs::TestPki;
use crate::harness::free_port;
use crate::harness::smtp::{SmtpOptions, SmtpServer, SmtpTls, smtp};

const WAIT: Duration = Duration::from_secs(5);
const LOGIN: &str = "kiosk";
const PASSWORD: &str = "Mail#Relay-2024";

fn site() -> SiteInfo {
    SiteInfo {
        kiosk_id: "lobby-1".to_owned(),
        location: "Building 2, main lobby".to_owned(),
        helpdesk: "+49 30 1234-5678".to_owned(),
    }
}

fn with_auth(tls: SmtpTls) -> SmtpOptions {
    SmtpOptions {
        tls,
        auth: Some((LOGIN.to_owned(), PASSWORD.to_owned())),
    }
}

/// A sender for `port` on 127.0.0.1; `password` set means AUTH as `kiosk`.
fn sender_for(
    port: u16,
    security: SmtpSecurity,
    ca: Option<&Path>,
    password: Option<&str>,
    timeout_secs: u64,
) -> EmailSender {
    install_log_capture();
    let section = EmailSection {
        host: "127.0.0.1".to_owned(),
        port,
        security,
        from: "IT Kiosk <kiosk@example.test>".to_owned(),
        username: password.map(|_| LOGIN.to_owned()),
        password: None,
        timeout_secs,
    };
    EmailSender::new(&section, ca, password.map(Secret::new), site()).unwrap()
}

fn sender(server: &SmtpServer, security: SmtpSecurity, password: Option<&str>) -> EmailSender {
    let ca = (security != SmtpSecurity::InsecureForTests).then_some(server.pki.ca_pem.as_path());
    sender_for(server.port(), security, ca, password, 5)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn send_code(sender: &EmailSender, to: &str, code: &str, lang: &str) -> Result<(), DeliveryError> {
    runtime().block_on(sender.send_code(to, &Secret::new(code), lang))
}

fn notify(
    sender: &EmailSender,
    to: &str,
    n: &Notification,
    lang: &str,
) -> Result<(), DeliveryError> {
    runtime().block_on(sender.notify(to, n, lang))
}

#[test]
fn email_code_arrives_over_starttls_with_auth_as_text_and_html() {
    let server = SmtpServer::start(with_auth(SmtpTls::StartTls { required: true }));
    let sender = sender(&server, SmtpSecurity::Starttls, Some(PASSWORD));
    send_code(&sender, "Jane.Doe@Example.TEST", "482913", "en").unwrap();

    let m = server.wait_for_message("Jane.Doe@example.test", WAIT);
    assert!(m.tls, "sent over STARTTLS");
    assert_eq!(m.auth_login.as_deref(), Some(LOGIN));
    assert_eq!(m.from, "kiosk@example.test");
    assert_eq!(m.to, ["Jane.Doe@example.test"], "domain lowercased");
    assert_eq!(m.subject, "Your verification code");
    for body in [m.body_text.clone(), part(&m, "text/html")] {
        assert!(body.contains("482913"), "{body}");
        assert!(body.contains("lobby-1"), "{body}");
        assert!(body.contains("Building 2, main lobby"), "{body}");
        assert!(body.contains("5 minutes"), "{body}");
        assert!(body.contains("+49 30 1234-5678"), "{body}");
    }
    assert!(
        m.raw.contains("Content-Type: multipart/alternative"),
        "{}",
        m.raw
    );
    assert!(part(&m, "text/html").contains("<p"), "an HTML body");
    assert!(
        m.raw.contains("Auto-Submitted: auto-generated"),
        "{}",
        m.raw
    );
    assert!(
        m.raw.contains("From: \"IT Kiosk\" <kiosk@example.test>")
            || m.raw.contains("From: IT Kiosk <kiosk@example.test>"),
        "{}",
        m.raw
    );
    assert!(
        m.raw.contains("Message-ID: <") && m.raw.contains("@example.test>"),
        "{}",
        m.raw
    );
    assert!(
        !m.raw.contains(PASSWORD),
        "the SMTP password is not in the message"
    );
}

#[test]
fn email_implicit_tls_with_auth() {
    let server = SmtpServer::start(with_auth(SmtpTls::Implicit));
    let sender = sender(&server, SmtpSecurity::ImplicitTls, Some(PASSWORD));
    send_code(&sender, "smtps@example.test", "105577", "en").unwrap();
    let m = server.wait_for_message("smtps@example.test", WAIT);
    assert!(m.tls);
    assert_eq!(m.auth_login.as_deref(), Some(LOGIN));
    assert!(m.body_text.contains("105577"));
}

#[test]
fn email_certificate_from_another_ca_is_refused_as_tls() {
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestPki::create(other_dir.path(), "some other CA");
    for (tls, security) in [
        (SmtpTls::StartTls { required: true }, SmtpSecurity::Starttls),
        (SmtpTls::Implicit, SmtpSecurity::ImplicitTls),
    ] {
        let server = SmtpServer::start(SmtpOptions { tls, auth: None });
        let sender = sender_for(server.port(), security, Some(&other.ca_pem), None, 5);
        let err = send_code(&sender, "wrong.ca@example.test", "111111", "en").unwrap_err();
        let DeliveryError::Tls { detail } = &err else {
            panic!("{security:?}: expected Tls, got {err:?}");
        };
        assert!(detail.contains("UnknownIssuer"), "{detail}");
        assert!(detail.contains("services_ca"), "says what to fix: {detail}");
        assert!(server.messages().is_empty(), "nothing was sent");
    }
}

#[test]
fn email_relay_without_starttls_is_refused_as_tls_not_sent_in_clear() {
    let server = smtp();
    let ca_dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(ca_dir.path(), "unused CA");
    let sender = sender_for(
        server.port(),
        SmtpSecurity::Starttls,
        Some(&pki.ca_pem),
        None,
        5,
    );
    let err = send_code(&sender, "no.starttls@example.test", "222222", "en").unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Tls { detail } if detail.contains("does not offer STARTTLS")),
        "{err:?}"
    );
    let leaked = server
        .messages()
        .iter()
        .any(|m| m.to.iter().any(|r| r == "no.starttls@example.test"));
    assert!(!leaked, "required STARTTLS never falls back to plain text");
}

#[test]
fn email_wrong_auth_password_is_auth_failed() {
    let server = SmtpServer::start(with_auth(SmtpTls::StartTls { required: true }));
    let sender = sender(&server, SmtpSecurity::Starttls, Some("not-the-password"));
    let err = send_code(&sender, "wrong.pw@example.test", "333333", "en").unwrap_err();
    assert!(matches!(err, DeliveryError::AuthFailed { .. }), "{err:?}");
    assert!(err.to_string().contains("535"), "the relay's answer: {err}");
    assert!(!err.to_string().contains("not-the-password"), "{err}");
    assert!(server.messages().is_empty());
}

#[test]
fn email_auth_without_tls_is_refused_and_the_password_never_sent() {
    let server = SmtpServer::start(with_auth(SmtpTls::StartTls { required: true }));
    // Misconfigured as plain SMTP: the relay offers no AUTH before STARTTLS, so the password stays here.
    let with_password = sender(&server, SmtpSecurity::InsecureForTests, Some(PASSWORD));
    let err = send_code(&with_password, "no.tls.auth@example.test", "444444", "en").unwrap_err();
    let DeliveryError::AuthFailed { detail } = &err else {
        panic!("expected AuthFailed, got {err:?}");
    };
    assert!(detail.contains("require TLS"), "{detail}");

    // Without credentials the relay's own refusal ("530 ... STARTTLS first") is a TLS problem.
    let without = sender(&server, SmtpSecurity::InsecureForTests, None);
    let err = send_code(&without, "no.tls@example.test", "444444", "en").unwrap_err();
    assert!(matches!(err, DeliveryError::Tls { .. }), "{err:?}");
    assert!(err.to_string().contains("530"), "{err}");
    assert!(server.messages().is_empty());
}

#[test]
fn email_closed_port_is_unreachable_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(dir.path(), "unused CA");
    let sender = sender_for(
        free_port(),
        SmtpSecurity::Starttls,
        Some(&pki.ca_pem),
        None,
        5,
    );
    let began = Instant::now();
    let err = send_code(&sender, "closed@example.test", "555555", "en").unwrap_err();
    assert!(matches!(err, DeliveryError::Unreachable { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
}

#[test]
fn email_silent_relay_times_out_within_the_configured_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts and never says a word (no 220 greeting).
    let holder = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        drop(stream);
    });
    let sender = sender_for(port, SmtpSecurity::InsecureForTests, None, None, 1);
    let began = Instant::now();
    let err = send_code(&sender, "silence@example.test", "666666", "en").unwrap_err();
    let took = began.elapsed();
    assert!(matches!(err, DeliveryError::Timeout { secs: 1 }), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    holder.join().unwrap();
}

#[test]
fn email_notification_has_reference_kiosk_and_location_and_no_code() {
    let server = smtp();
    let sender = sender(server, SmtpSecurity::InsecureForTests, None);
    send_code(&sender, "notified@example.test", "739164", "en").unwrap();
    let code_message = server.wait_for_message("notified@example.test", WAIT);
    assert!(code_message.body_text.contains("739164"));

    let n = Notification::ResetAndUnlocked {
        reference: "K7Q-42XD".to_owned(),
        at: SystemTime::now(),
    };
    notify(&sender, "notified@example.test", &n, "en").unwrap();
    let m = server.wait_for_message("notified@example.test", WAIT);
    assert_eq!(
        m.subject,
        "Your password was reset and your account unlocked"
    );
    let html = part(&m, "text/html");
    for body in [&m.body_text, &html] {
        assert!(body.contains("K7Q-42XD"), "{body}");
        assert!(body.contains("lobby-1"), "{body}");
        assert!(body.contains("Building 2, main lobby"), "{body}");
        assert!(body.contains("+49 30 1234-5678"), "{body}");
        assert!(
            !body.contains("739164"),
            "no code in a notification: {body}"
        );
        let longest_digit_run = body
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest_digit_run < 6,
            "nothing that looks like a code: {body}"
        );
    }
}

#[test]
fn email_admin_alert_names_account_and_kiosk() {
    let server = smtp();
    let sender = sender(server, SmtpSecurity::InsecureForTests, None);
    let n = Notification::PrivilegedAction {
        account: "adm-jdoe".to_owned(),
        change: Change::Reset,
        reference: "P9Z-11AB".to_owned(),
        at: SystemTime::now(),
    };
    notify(&sender, "security@example.test", &n, "fr").unwrap();
    let m = server.wait_for_message("security@example.test", WAIT);
    assert_eq!(m.subject, "[lobby-1] Compte privilégié modifié");
    assert!(
        m.body_text
            .contains("adm-jdoe (réinitialisation du mot de passe)"),
        "{}",
        m.body_text
    );
    assert!(m.body_text.contains("P9Z-11AB"));
    assert!(m.body_text.contains("Building 2, main lobby"));
}

#[test]
fn email_german_template_for_de() {
    let server = smtp();
    let sender = sender(server, SmtpSecurity::InsecureForTests, None);
    send_code(&sender, "deutsch@example.test", "908172", "de").unwrap();
    let m = server.wait_for_message("deutsch@example.test", WAIT);
    assert_eq!(m.subject, "Ihr Bestätigungscode");
    assert!(
        m.body_text.contains("Ihr Bestätigungscode lautet:"),
        "{}",
        m.body_text
    );
    assert!(
        m.body_text.contains("Er ist 5 Minuten gültig"),
        "{}",
        m.body_text
    );
    assert!(m.body_text.contains("908172"));
    assert!(part(&m, "text/html").contains("<html lang=\"de\">"));

    let n = Notification::AccountUnlocked {
        reference: "U1".to_owned(),
        at: SystemTime::now(),
    };
    notify(&sender, "deutsch@example.test", &n, "de-AT").unwrap();
    let m = server.wait_for_message("deutsch@example.test", WAIT);
    assert_eq!(m.subject, "Ihr Konto wurde entsperrt");
    assert!(
        m.body_text.contains("Ihr Passwort wurde nicht geändert"),
        "{}",
        m.body_text
    );

    send_code(&sender, "unknown.lang@example.test", "123987", "pt-BR").unwrap();
    let m = server.wait_for_message("unknown.lang@example.test", WAIT);
    assert_eq!(
        m.subject, "Your verification code",
        "unknown language → English"
    );
}

#[test]
fn email_header_injection_in_the_address_is_refused() {
    let server = smtp();
    let sender = sender(server, SmtpSecurity::InsecureForTests, None);
    for to in [
        "victim@example.test\r\nBcc: attacker@example.test",
        "victim@example.test\nBcc: attacker@example.test",
        "victim@example.test>\r\nRCPT TO:<attacker@example.test",
    ] {
        let err = send_code(&sender, to, "777777", "en").unwrap_err();
        assert!(matches!(err, DeliveryError::Config(_)), "{to:?}: {err:?}");
        let n = Notification::PasswordReset {
            reference: "X".to_owned(),
            at: SystemTime::now(),
        };
        let err = notify(&sender, to, &n, "en").unwrap_err();
        assert!(matches!(err, DeliveryError::Config(_)), "{to:?}: {err:?}");
    }
    let reached = server.messages().into_iter().any(|m| {
        m.to.iter()
            .any(|r| r.contains("attacker") || r.contains("victim"))
            || m.raw.contains("attacker@")
    });
    assert!(!reached, "nothing was sent to anyone");
}

#[test]
fn email_relay_refusing_or_deferring_the_recipient() {
    let refusing = ScriptedRelay::start(
        "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown",
    );
    let sender = sender_for(refusing.port, SmtpSecurity::InsecureForTests, None, None, 5);
    let err = send_code(&sender, "nobody@example.test", "888888", "en").unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Refused { code: 550, detail } if detail.contains("User unknown")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(
        !err.to_string().contains("nobody@example.test"),
        "the relay's echo of the address is masked: {err}"
    );

    let deferring = ScriptedRelay::start("451 4.3.0 Try again later");
    let sender = sender_for(
        deferring.port,
        SmtpSecurity::InsecureForTests,
        None,
        None,
        5,
    );
    let err = send_code(&sender, "later@example.test", "999999", "en").unwrap_err();
    assert!(matches!(err, DeliveryError::Unreachable { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn email_logs_never_hold_the_code_or_the_password() {
    assert!(
        install_log_capture(),
        "the log must be captured before sending"
    );
    let server = SmtpServer::start(with_auth(SmtpTls::StartTls { required: true }));
    let good = sender(&server, SmtpSecurity::Starttls, Some(PASSWORD));
    send_code(&good, "logged@example.test", "246813", "en").unwrap();
    server.wait_for_message("logged@example.test", WAIT);
    let bad = sender(&server, SmtpSecurity::Starttls, Some("Wrong#Relay-Pass"));
    send_code(&bad, "logged@example.test", "135792", "en").unwrap_err();

    let lines = logs();
    let ours: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("l•••@e•••.test"))
        .collect();
    assert!(
        ours.iter().any(|l| l.contains("accepted by"))
            && ours.iter().any(|l| l.contains("not sent")),
        "both sends were logged with the masked recipient: {ours:#?}"
    );
    for line in &lines {
        for secret in [
            "246813",
            "135792",
            PASSWORD,
            "Wrong#Relay-Pass",
            "logged@example.test",
        ] {
            assert!(!line.contains(secret), "{secret} in the log: {line}");
        }
    }
}

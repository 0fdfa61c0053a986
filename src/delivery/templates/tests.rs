use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

fn site() -> SiteInfo {
    SiteInfo {
        kiosk_id: "lobby-1".to_owned(),
        location: "Building 2, main lobby".to_owned(),
        helpdesk: "+49 30 1234-5678".to_owned(),
    }
}

/// 2025-03-14 09:26:53 UTC.
fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_741_944_413)
}

fn until() -> SystemTime {
    at() + Duration::from_secs(24 * 3600)
}

fn every_notification() -> Vec<Notification> {
    let reference = || "K7Q-42XD".to_owned();
    vec![
        Notification::PasswordReset {
            reference: reference(),
            at: at(),
        },
        Notification::AccountUnlocked {
            reference: reference(),
            at: at(),
        },
        Notification::ResetAndUnlocked {
            reference: reference(),
            at: at(),
        },
        Notification::PasswordChanged {
            reference: reference(),
            at: at(),
        },
        Notification::QueuedApplied {
            change: Change::Reset,
            reference: reference(),
            at: at(),
        },
        Notification::QueuedRejected {
            change: Change::Unlock,
            reference: reference(),
            at: at(),
        },
        Notification::QueuedExpired {
            change: Change::ResetAndUnlock,
            reference: reference(),
            at: at(),
        },
        Notification::SsprLockout {
            reference: reference(),
            at: at(),
            until: until(),
        },
        Notification::PrivilegedAction {
            account: "adm-jdoe".to_owned(),
            change: Change::Reset,
            reference: reference(),
            at: at(),
        },
        Notification::LockoutAlert {
            account: "jdoe".to_owned(),
            failures: 5,
            reference: reference(),
            at: at(),
            until: until(),
        },
        Notification::KioskThrottled {
            failures: 20,
            at: at(),
            until: until(),
        },
    ]
}

const LANGS: [&str; 4] = ["en", "de", "fr", "es"];

#[test]
fn language_tags_pick_the_primary_language_and_fall_back_to_english() {
    assert_eq!(Lang::from_tag("de"), Lang::De);
    assert_eq!(Lang::from_tag("de-CH"), Lang::De);
    assert_eq!(Lang::from_tag("DE_at"), Lang::De);
    assert_eq!(Lang::from_tag(" fr "), Lang::Fr);
    assert_eq!(Lang::from_tag("es-MX"), Lang::Es);
    assert_eq!(Lang::from_tag("en-GB"), Lang::En);
    assert_eq!(Lang::from_tag("pt"), Lang::En);
    assert_eq!(Lang::from_tag(""), Lang::En);
    assert_eq!(Lang::from_tag("deu"), Lang::En, "not a prefix match");
}

#[test]
fn code_message_holds_the_code_kiosk_location_validity_and_helpdesk() {
    let code = Secret::new("482913");
    let m = code_message("en", &code, &site(), Duration::from_secs(300));
    assert_eq!(m.subject, "Your verification code");
    assert!(!m.subject.contains("482913"), "no code in the subject");
    for body in [&m.text, &m.html] {
        assert!(body.contains("482913"), "{body}");
        assert!(body.contains("lobby-1"), "{body}");
        assert!(body.contains("Building 2, main lobby"), "{body}");
        assert!(body.contains("5 minutes"), "{body}");
        assert!(body.contains("+49 30 1234-5678"), "{body}");
        assert!(body.contains("If this wasn"), "{body}");
    }
    assert!(m.html.starts_with("<!DOCTYPE html>"));
    assert!(m.html.contains("<html lang=\"en\">"));
}

#[test]
fn code_message_in_each_language() {
    let code = Secret::new("482913");
    let expected = [
        ("en", "Your verification code", "valid for 5 minutes"),
        ("de", "Ihr Bestätigungscode", "Er ist 5 Minuten gültig"),
        ("fr", "Votre code de vérification", "valable 5 minutes"),
        ("es", "Su código de verificación", "durante 5 minutos"),
    ];
    for (lang, subject, validity) in expected {
        let m = code_message(lang, &code, &site(), Duration::from_secs(300));
        assert_eq!(m.subject, subject, "{lang}");
        assert!(m.text.contains(validity), "{lang}: {}", m.text);
        assert!(m.text.contains("482913"), "{lang}");
        assert!(m.html.contains(&format!("lang=\"{lang}\"")), "{lang}");
    }
}

#[test]
fn validity_is_never_rounded_up() {
    let code = Secret::new("1");
    let text = |secs, lang| {
        code_message(lang, &code, &site(), Duration::from_secs(secs))
            .text
            .clone()
    };
    assert!(text(60, "en").contains("valid for 1 minute and"));
    assert!(text(90, "en").contains("valid for 90 seconds"));
    assert!(text(600, "de").contains("10 Minuten"));
    assert!(text(45, "es").contains("45 segundos"));
}

#[test]
fn debug_of_a_rendered_code_message_hides_the_bodies() {
    let m = code_message(
        "en",
        &Secret::new("482913"),
        &site(),
        Duration::from_secs(300),
    );
    let debug = format!("{m:?}");
    assert!(!debug.contains("482913"), "{debug}");
    assert!(debug.contains("Your verification code"));
}

#[test]
fn every_notification_names_reference_time_kiosk_and_location_in_every_language() {
    for lang in LANGS {
        for n in every_notification() {
            let m = notification(lang, &n, &site());
            for body in [&m.text, &m.html] {
                assert!(body.contains("lobby-1"), "{lang} {n:?}: {body}");
                assert!(body.contains("Building 2, main lobby"), "{lang} {n:?}");
                assert!(
                    body.contains("2025-03-14 09:26 UTC"),
                    "{lang} {n:?}: {body}"
                );
                if !matches!(n, Notification::KioskThrottled { .. }) {
                    assert!(body.contains("K7Q-42XD"), "{lang} {n:?}: {body}");
                }
                assert!(
                    !body.contains('{'),
                    "unfilled placeholder: {lang} {n:?}: {body}"
                );
            }
            assert!(
                !m.subject.is_empty() && !m.subject.contains('{'),
                "{lang} {n:?}"
            );
        }
    }
}

#[test]
fn user_notifications_say_call_the_helpdesk_and_admin_alerts_do_not() {
    for n in every_notification() {
        let m = notification("en", &n, &site());
        assert_eq!(
            m.text
                .contains("If this wasn't you, call the helpdesk now: +49 30 1234-5678"),
            !n.is_admin_alert(),
            "{n:?}: {}",
            m.text
        );
    }
}

#[test]
fn notifications_in_german() {
    let n = Notification::PasswordReset {
        reference: "K7Q-42XD".to_owned(),
        at: at(),
    };
    let m = notification("de-DE", &n, &site());
    assert_eq!(m.subject, "Ihr Passwort wurde zurückgesetzt");
    assert!(m.text.contains("Referenz: K7Q-42XD"), "{}", m.text);
    assert!(
        m.text
            .contains("Terminal: lobby-1 – Building 2, main lobby"),
        "{}",
        m.text
    );
    assert!(m.text.contains("Falls Sie das nicht waren"), "{}", m.text);
}

#[test]
fn queued_outcomes_name_the_change_and_failed_ones_say_try_again() {
    let n = Notification::QueuedRejected {
        change: Change::Unlock,
        reference: "R1".to_owned(),
        at: at(),
    };
    let m = notification("en", &n, &site());
    assert!(
        m.text.contains("(account unlock) was refused"),
        "{}",
        m.text
    );
    assert!(m.text.contains("Please try again"), "{}", m.text);
    let n = Notification::QueuedApplied {
        change: Change::ResetAndUnlock,
        reference: "R1".to_owned(),
        at: at(),
    };
    let m = notification("fr", &n, &site());
    assert!(
        m.text
            .contains("(réinitialisation du mot de passe et déverrouillage du compte)"),
        "{}",
        m.text
    );
    assert!(!m.text.contains("Veuillez réessayer"), "{}", m.text);
}

#[test]
fn lockout_says_until_when() {
    let n = Notification::SsprLockout {
        reference: "R1".to_owned(),
        at: at(),
        until: until(),
    };
    let m = notification("es", &n, &site());
    assert!(
        m.text.contains("hasta el 2025-03-15 09:26 UTC"),
        "{}",
        m.text
    );
}

#[test]
fn admin_alerts_name_the_account_in_the_body_only() {
    let n = Notification::LockoutAlert {
        account: "jdoe".to_owned(),
        failures: 5,
        reference: "R1".to_owned(),
        at: at(),
        until: until(),
    };
    let m = notification("en", &n, &site());
    assert_eq!(m.subject, "[lobby-1] Self-service lockout");
    assert!(
        m.text.contains("blocked for jdoe after 5 failed"),
        "{}",
        m.text
    );
    assert!(m.text.contains("audit log"), "{}", m.text);
}

#[test]
fn inserted_values_are_escaped_in_html_and_never_expanded_twice() {
    let site = SiteInfo {
        kiosk_id: "lobby-1".to_owned(),
        location: "<script>alert(1)</script> & \"{helpdesk}\"".to_owned(),
        helpdesk: "secret-helpdesk".to_owned(),
    };
    let n = Notification::PrivilegedAction {
        account: "<b>adm</b>".to_owned(),
        change: Change::Reset,
        reference: "R&D".to_owned(),
        at: at(),
    };
    let m = notification("en", &n, &site);
    assert!(!m.html.contains("<script>"), "{}", m.html);
    assert!(!m.html.contains("<b>adm"), "{}", m.html);
    assert!(
        m.html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;{helpdesk}&quot;")
    );
    assert!(m.html.contains("R&amp;D"));
    assert!(
        m.text.contains("\"{helpdesk}\""),
        "plain text keeps it verbatim: {}",
        m.text
    );
    assert!(!m.text.contains("\"secret-helpdesk\""));
}

#[test]
fn subjects_never_carry_a_line_break() {
    let site = SiteInfo {
        kiosk_id: "lobby\r\nBcc: all@example.com".to_owned(),
        location: "x".to_owned(),
        helpdesk: "y".to_owned(),
    };
    let n = Notification::KioskThrottled {
        failures: 3,
        at: at(),
        until: until(),
    };
    let m = notification("en", &n, &site);
    assert!(
        !m.subject.contains('\r') && !m.subject.contains('\n'),
        "{:?}",
        m.subject
    );
    assert_eq!(header_safe("a\r\nb\tc"), "a  b c");
}

#[test]
fn utc_formatting_matches_the_calendar() {
    assert_eq!(format_utc(UNIX_EPOCH), "1970-01-01 00:00 UTC");
    assert_eq!(format_utc(at()), "2025-03-14 09:26 UTC");
    // A leap day and the turn of a century that is a leap year.
    assert_eq!(
        format_utc(UNIX_EPOCH + Duration::from_secs(951_782_400)),
        "2000-02-29 00:00 UTC"
    );
    assert_eq!(
        format_utc(UNIX_EPOCH + Duration::from_secs(4_107_542_399)),
        "2100-02-28 23:59 UTC"
    );
    assert_eq!(
        format_utc(UNIX_EPOCH - Duration::from_secs(10)),
        "1970-01-01 00:00 UTC"
    );
}

#[test]
fn fill_replaces_known_placeholders_once_and_keeps_unknown_ones() {
    let values = [("a", "{b}"), ("b", "B")];
    assert_eq!(fill("x {a} {b} {c} {", &values, plain), "x {b} B {c} {");
    assert_eq!(fill("<{b}>", &values, html), "&lt;B&gt;");
}

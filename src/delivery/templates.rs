//! The texts of code messages and notifications in English, German, French and Spanish (any other
//! language tag gets English). Pure: values in, a subject, a plain-text body and an HTML body out.
//! Every inserted value is HTML-escaped in the HTML body; subjects hold fixed text and the kiosk id
//! only, never anything a person typed. A notification never contains a secret; a code message holds
//! the code and nothing else secret.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Change, Notification, SiteInfo};
use crate::secret::Secret;

mod texts;

use texts::{DE, EN, ES, FR, Texts};

/// A language we have texts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
    Fr,
    Es,
}

impl Lang {
    /// `de`, `de-CH`, `DE_at` → German; anything unknown (or empty) → English.
    pub fn from_tag(tag: &str) -> Lang {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "de" => Lang::De,
            "fr" => Lang::Fr,
            "es" => Lang::Es,
            _ => Lang::En,
        }
    }

    /// The BCP 47 tag written into the HTML body.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
        }
    }

    fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::De => &DE,
            Lang::Fr => &FR,
            Lang::Es => &ES,
        }
    }
}

/// A message ready to send. It may hold a one-time code, so Debug shows the subject only and the
/// bodies are wiped when it is dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// The message carrying a one-time code, valid for `validity`.
pub fn code_message(
    language: &str,
    code: &Secret,
    site: &SiteInfo,
    validity: Duration,
) -> Rendered {
    let lang = Lang::from_tag(language);
    let t = lang.texts();
    let validity = duration_words(t, validity);
    let values = [
        ("validity", validity.as_str()),
        ("kiosk", site.kiosk_id.as_str()),
        ("location", site.location.as_str()),
        ("helpdesk", site.helpdesk.as_str()),
    ];
    let paragraphs = [t.code_use, t.requested_at, t.not_you_code];

    let mut text = format!("{}\n\n    {}\n\n", t.code_intro, code.expose());
    for p in paragraphs {
        text.push_str(&fill(p, &values, plain));
        text.push_str("\n\n");
    }
    text.truncate(text.trim_end().len());
    text.push('\n');

    let mut body = format!(
        "<p>{}</p>\n<p style=\"font-size:2em;font-weight:bold;letter-spacing:0.15em\">{}</p>\n",
        html(t.code_intro),
        html(code.expose())
    );
    for p in paragraphs {
        body.push_str(&format!("<p>{}</p>\n", fill(p, &values, html)));
    }
    Rendered {
        subject: header_safe(t.code_subject),
        text,
        html: html_page(lang, t.code_subject, &body),
    }
}

/// The message telling someone what happened; no secret at all.
pub fn notification(language: &str, notification: &Notification, site: &SiteInfo) -> Rendered {
    let lang = Lang::from_tag(language);
    let t = lang.texts();
    let facts = Facts::of(notification);
    let (subject, lead) = facts.kind.texts(t);
    let change = facts.change.map(|c| t.changes[change_index(c)]);
    let at = format_utc(facts.at);
    let until = facts.until.map(format_utc).unwrap_or_default();
    let failures = facts.failures.map(|n| n.to_string()).unwrap_or_default();
    let values = [
        ("kiosk", site.kiosk_id.as_str()),
        ("location", site.location.as_str()),
        ("helpdesk", site.helpdesk.as_str()),
        ("change", change.unwrap_or_default()),
        ("account", facts.account.unwrap_or_default()),
        ("failures", failures.as_str()),
        ("until", until.as_str()),
    ];

    let mut details: Vec<(&str, String)> = Vec::new();
    if let Some(reference) = facts.reference {
        details.push((t.label_reference, reference.to_owned()));
    }
    details.push((t.label_time, at));
    details.push((
        t.label_kiosk,
        format!("{} – {}", site.kiosk_id, site.location),
    ));

    let mut closing = Vec::new();
    if facts.kind.is_failed_request() {
        closing.push(t.try_again);
    }
    if notification.is_admin_alert() {
        if facts.reference.is_some() {
            closing.push(t.admin_footer);
        }
    } else {
        closing.push(t.not_you);
    }

    let mut text = fill(lead, &values, plain);
    text.push_str("\n\n");
    for (label, value) in &details {
        text.push_str(&format!("{label}: {value}\n"));
    }
    for line in &closing {
        text.push('\n');
        text.push_str(&fill(line, &values, plain));
        text.push('\n');
    }

    let mut body = format!("<p>{}</p>\n<table>\n", fill(lead, &values, html));
    for (label, value) in &details {
        body.push_str(&format!(
            "<tr><th style=\"text-align:left;padding-right:1em\">{}</th><td>{}</td></tr>\n",
            html(label),
            html(value)
        ));
    }
    body.push_str("</table>\n");
    for line in &closing {
        body.push_str(&format!("<p>{}</p>\n", fill(line, &values, html)));
    }
    let subject = fill(subject, &values, plain);
    Rendered {
        subject: header_safe(&subject),
        text,
        html: html_page(lang, &subject, &body),
    }
}

/// `2025-03-14 09:26 UTC`. Kiosks and readers may sit in different zones, so the zone is always named.
pub fn format_utc(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar (H. Hinnant's
/// `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// What a notification says, independent of language.
struct Facts<'a> {
    kind: Kind,
    reference: Option<&'a str>,
    at: SystemTime,
    until: Option<SystemTime>,
    change: Option<Change>,
    account: Option<&'a str>,
    failures: Option<u32>,
}

#[derive(Clone, Copy)]
enum Kind {
    Reset,
    Unlocked,
    ResetUnlocked,
    Changed,
    QueuedApplied,
    QueuedRejected,
    QueuedExpired,
    Lockout,
    Privileged,
    LockoutAlert,
    Throttled,
}

impl Kind {
    fn texts(self, t: &'static Texts) -> (&'static str, &'static str) {
        match self {
            Kind::Reset => t.reset,
            Kind::Unlocked => t.unlocked,
            Kind::ResetUnlocked => t.reset_unlocked,
            Kind::Changed => t.changed,
            Kind::QueuedApplied => t.queued_applied,
            Kind::QueuedRejected => t.queued_rejected,
            Kind::QueuedExpired => t.queued_expired,
            Kind::Lockout => t.lockout,
            Kind::Privileged => t.privileged,
            Kind::LockoutAlert => t.lockout_alert,
            Kind::Throttled => t.throttled,
        }
    }

    fn is_failed_request(self) -> bool {
        matches!(self, Kind::QueuedRejected | Kind::QueuedExpired)
    }
}

impl<'a> Facts<'a> {
    fn of(n: &'a Notification) -> Facts<'a> {
        let base = |kind, reference: &'a str, at: &SystemTime| Facts {
            kind,
            reference: Some(reference),
            at: *at,
            until: None,
            change: None,
            account: None,
            failures: None,
        };
        match n {
            Notification::PasswordReset { reference, at } => base(Kind::Reset, reference, at),
            Notification::AccountUnlocked { reference, at } => base(Kind::Unlocked, reference, at),
            Notification::ResetAndUnlocked { reference, at } => {
                base(Kind::ResetUnlocked, reference, at)
            }
            Notification::PasswordChanged { reference, at } => base(Kind::Changed, reference, at),
            Notification::QueuedApplied {
                change,
                reference,
                at,
            } => Facts {
                change: Some(*change),
                ..base(Kind::QueuedApplied, reference, at)
            },
            Notification::QueuedRejected {
                change,
                reference,
                at,
            } => Facts {
                change: Some(*change),
                ..base(Kind::QueuedRejected, reference, at)
            },
            Notification::QueuedExpired {
                change,
                reference,
                at,
            } => Facts {
                change: Some(*change),
                ..base(Kind::QueuedExpired, reference, at)
            },
            Notification::SsprLockout {
                reference,
                at,
                until,
            } => Facts {
                until: Some(*until),
                ..base(Kind::Lockout, reference, at)
            },
            Notification::PrivilegedAction {
                account,
                change,
                reference,
                at,
            } => Facts {
                change: Some(*change),
                account: Some(account),
                ..base(Kind::Privileged, reference, at)
            },
            Notification::LockoutAlert {
                account,
                failures,
                reference,
                at,
                until,
            } => Facts {
                account: Some(account),
                failures: Some(*failures),
                until: Some(*until),
                ..base(Kind::LockoutAlert, reference, at)
            },
            Notification::KioskThrottled {
                failures,
                at,
                until,
            } => Facts {
                kind: Kind::Throttled,
                reference: None,
                at: *at,
                until: Some(*until),
                change: None,
                account: None,
                failures: Some(*failures),
            },
        }
    }
}

fn change_index(change: Change) -> usize {
    match change {
        Change::Reset => 0,
        Change::Unlock => 1,
        Change::ResetAndUnlock => 2,
    }
}

/// `5 minutes` when the validity is whole minutes, otherwise `90 seconds` (never rounded up: a code
/// must not be promised longer than it lives).
fn duration_words(t: &Texts, validity: Duration) -> String {
    let secs = validity.as_secs();
    let (n, (one, many)) = if secs >= 60 && secs % 60 == 0 {
        (secs / 60, t.minutes)
    } else {
        (secs, t.seconds)
    };
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Replaces `{name}` placeholders in one pass (so a value containing `{kiosk}` stays as typed) and
/// passes both the template's own text and every value through `escape`.
fn fill(template: &str, values: &[(&str, &str)], escape: fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&escape(&rest[..open]));
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(&escape(value));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&escape("{"));
                rest = after;
            }
        }
    }
    out.push_str(&escape(rest));
    out
}

fn plain(s: &str) -> String {
    s.to_owned()
}

/// Escapes text for HTML element content and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A header value on one line: control characters (CR and LF above all) become spaces.
pub fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn html_page(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family:sans-serif;line-height:1.4\">\n{body}</body>\n</html>\n",
        lang.tag(),
        html(title)
    )
}

#[cfg(test)]
mod tests;

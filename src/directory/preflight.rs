//! `sspr-kiosk directory check` and `directory whois`: what an admin runs before go-live and when a
//! person at the kiosk says "it doesn't know me". Output is for admins (it may name DNs and raw
//! diagnostics); contact details are masked and no secret is ever printed.

use std::fmt::Write as _;

use rand::Rng as _;

use super::ldap::{LdapDirectory, ProbeOutcome};
use super::{Directory, Lookup, UserRecord};
use crate::config::Settings;
use crate::config::kiosk::{Flavour, HistoryOnReset};
use crate::gates::eligibility::{self, Eligibility};
use crate::secret::Secret;

/// What `directory check` found: the report text and whether the kiosk is ready.
#[derive(Debug)]
pub struct CheckReport {
    pub text: String,
    pub ready: bool,
}

/// Options for `directory check`.
#[derive(Debug, Default)]
pub struct CheckOptions<'a> {
    /// A test account to look up (and unlock, and with `reset_canary` reset to a random password).
    pub canary: Option<&'a str>,
    pub reset_canary: bool,
}

struct Report {
    text: String,
    problems: usize,
}

impl Report {
    fn ok(&mut self, what: impl AsRef<str>) {
        let _ = writeln!(self.text, "  ok    {}", what.as_ref());
    }
    fn warn(&mut self, what: impl AsRef<str>) {
        let _ = writeln!(self.text, "  warn  {}", what.as_ref());
    }
    fn fail(&mut self, what: impl AsRef<str>) {
        self.problems += 1;
        let _ = writeln!(self.text, "  FAIL  {}", what.as_ref());
    }
}

pub async fn check(
    directory: &LdapDirectory,
    settings: &Settings,
    options: CheckOptions<'_>,
) -> CheckReport {
    let d = &settings.directory;
    let mut r = Report {
        text: String::new(),
        problems: 0,
    };
    let _ = writeln!(
        r.text,
        "directory check for kiosk {} ({}, base {})",
        settings.site.kiosk_id,
        d.flavour.label(),
        d.base_dn
    );
    let probes = directory.probe_urls().await;
    for probe in &probes {
        let ms = probe.elapsed.as_millis();
        match &probe.outcome {
            ProbeOutcome::Bound => r.ok(format!("{}: TLS verified, bound as {} ({ms} ms)", probe.url, d.bind_dn)),
            ProbeOutcome::Unreachable(why) => r.fail(format!("{}: unreachable: {why}", probe.url)),
            ProbeOutcome::Tls(why) => r.fail(format!("{}: TLS refused: {why} (is [trust] directory_ca the CA that issued the server's certificate, and does its name match?)", probe.url)),
            ProbeOutcome::BindRejected(why) => r.fail(format!("{}: the service account cannot bind: {why} (check bind_dn and the bind password)", probe.url)),
        }
    }
    if !probes.iter().any(|p| p.outcome == ProbeOutcome::Bound) {
        let _ = writeln!(r.text, "result: NOT ready — no directory server usable");
        return CheckReport {
            text: r.text,
            ready: false,
        };
    }
    match directory.policy_hints_supported().await {
        Ok(Some(true)) => r.ok("password history and minimum age are enforced on resets (LDAP_SERVER_POLICY_HINTS)"),
        Ok(Some(false)) => match d.history_on_reset {
            HistoryOnReset::Require => r.fail(
                "this directory does not support LDAP_SERVER_POLICY_HINTS: password RESETS WILL BE REFUSED \
                 (history_on_reset = \"require\"); unlock works. Use Windows Server 2008 R2+ DCs or set \"best-effort\"",
            ),
            HistoryOnReset::BestEffort => r.warn(
                "this directory does not support LDAP_SERVER_POLICY_HINTS: resets will NOT check password history \
                 (history_on_reset = \"best-effort\")",
            ),
        },
        Ok(None) => r.ok("OpenLDAP: resets are checked by ppolicy if the service account has `write`, not `manage`, on userPassword"),
        Err(e) => r.fail(format!("cannot read the rootDSE: {e}")),
    }
    if let Some(canary) = options.canary {
        check_canary(directory, settings, canary, options.reset_canary, &mut r).await;
    } else {
        r.warn("no --canary account given: reading attributes and write rights were not checked");
    }
    let ready = r.problems == 0;
    let _ = writeln!(
        r.text,
        "result: {}",
        if ready {
            "ready".to_owned()
        } else {
            format!("NOT ready — {} problem(s)", r.problems)
        }
    );
    CheckReport {
        text: r.text,
        ready,
    }
}

async fn check_canary(
    directory: &LdapDirectory,
    settings: &Settings,
    canary: &str,
    reset: bool,
    r: &mut Report,
) {
    let attrs = &settings.directory.attributes;
    let user = match directory.find_user(Lookup::Identifier(canary)).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            r.fail(format!("canary `{canary}`: no single account matches (check identifiers, user_filter and base_dn)"));
            return;
        }
        Err(e) => {
            r.fail(format!("canary `{canary}`: lookup failed: {e}"));
            return;
        }
    };
    r.ok(format!("canary `{canary}` found: {}", user.dn));
    let mut missing = Vec::new();
    if user.emails.is_empty() && !attrs.email.is_empty() {
        missing.push(attrs.email.join("/"));
    }
    if user.mobiles.is_empty() && !attrs.mobile.is_empty() {
        missing.push(attrs.mobile.join("/"));
    }
    if missing.is_empty() {
        r.ok("contact attributes readable on the canary");
    } else {
        r.warn(format!(
            "the canary has no readable {} (empty, or the service account may not read it)",
            missing.join(", ")
        ));
    }
    if settings.directory.flavour == Flavour::ActiveDirectory {
        match directory.writable_attributes(&user.dn).await {
            Ok(writable) => {
                let can = |a: &str| writable.iter().any(|w| w.eq_ignore_ascii_case(a));
                for (attr, purpose) in [
                    ("lockoutTime", "unlock"),
                    (attrs.registration.as_str(), "registration"),
                ] {
                    if can(attr) {
                        r.ok(format!("may write {attr} ({purpose})"));
                    } else {
                        r.fail(format!("may NOT write {attr} ({purpose}) on the canary: delegate it to the service account"));
                    }
                }
            }
            Err(e) => r.fail(format!("cannot read effective rights: {e}")),
        }
    }
    match directory.unlock(&user.dn).await {
        Ok(()) => r.ok("unlocked the canary (unlock works)"),
        Err(e) => r.fail(format!("unlock of the canary failed: {e}")),
    }
    if reset {
        let password = random_password();
        match directory.reset_password(&user.dn, &password, false).await {
            Ok(()) => {
                r.ok("reset the canary's password to a random value (not shown): resets work")
            }
            Err(e) => r.fail(format!("reset of the canary failed: {e}")),
        }
    }
}

/// A throwaway password that passes common complexity rules.
fn random_password() -> Secret {
    const SETS: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%+-=?@",
    ];
    let mut rng = rand::rng();
    let mut chars: Vec<char> = (0..24)
        .map(|i| {
            let set = SETS[i % SETS.len()];
            char::from(set[rng.random_range(0..set.len())])
        })
        .collect();
    for i in (1..chars.len()).rev() {
        chars.swap(i, rng.random_range(0..=i));
    }
    Secret::new(chars.into_iter().collect::<String>())
}

/// `directory whois`: what the kiosk sees for one person; `None` when no single account matches.
pub async fn whois(
    directory: &LdapDirectory,
    settings: &Settings,
    who: &str,
    badge: bool,
) -> Result<Option<String>, super::DirectoryError> {
    let lookup = if badge {
        Lookup::Badge(who)
    } else {
        Lookup::Identifier(who)
    };
    let Some(user) = directory.find_user(lookup).await? else {
        return Ok(None);
    };
    Ok(Some(describe(&user, settings)))
}

fn describe(user: &UserRecord, settings: &Settings) -> String {
    let mut out = String::new();
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let _ = writeln!(out, "{} — {}", user.login, user.display_name);
    let _ = writeln!(out, "  dn            {}", user.dn);
    let _ = writeln!(out, "  locked        {}", yes_no(user.locked));
    let _ = writeln!(out, "  disabled      {}", yes_no(user.disabled));
    let eligibility = match eligibility::eligibility(user, &settings.policy) {
        Eligibility::Eligible { privileged: false } => "yes".to_owned(),
        Eligibility::Eligible { privileged: true } => format!(
            "yes, privileged ({} methods, no security questions)",
            settings.policy.privileged_methods_required
        ),
        Eligibility::Denied(reason) => format!("no: {reason:?}"),
    };
    let _ = writeln!(out, "  may use kiosk {eligibility}");
    let _ = writeln!(out, "  groups        {}", user.groups.len());
    for group in &user.groups {
        let _ = writeln!(out, "                {group}");
    }
    let masked = |v: &[String], f: fn(&str) -> String| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.iter().map(|x| f(x)).collect::<Vec<_>>().join(", ")
        }
    };
    let _ = writeln!(
        out,
        "  email         {}",
        masked(&user.emails, crate::mask::email)
    );
    let _ = writeln!(
        out,
        "  mobile        {}",
        masked(&user.mobiles, crate::mask::phone)
    );
    let _ = writeln!(
        out,
        "  badge         {}",
        if user.badges.is_empty() {
            "none".to_owned()
        } else {
            format!("{} registered", user.badges.len())
        }
    );
    let registration = match &user.registration {
        Some(blob) => format!("present (encrypted, {} bytes)", blob.len()),
        None => "none".to_owned(),
    };
    let _ = writeln!(out, "  registration  {registration}");
    out
}

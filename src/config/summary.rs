//! The short summary `config check` prints for a good file: what an admin wants to confirm at a glance
//! (which directory, which gates, which policy). Secrets appear only as their source, never their value.

use std::fmt::Write as _;

use super::board::BoardFile;
use super::kiosk::PrivilegedMode;
use super::settings::{Settings, Transport};

pub fn kiosk(s: &Settings) -> String {
    let mut out = String::new();
    let d = &s.directory;
    let _ = writeln!(
        out,
        "  kiosk       {} — {}",
        s.site.kiosk_id, s.site.location
    );
    let _ = writeln!(out, "  directory   {} at {}", d.flavour.label(), d.base_dn);
    for url in &d.urls {
        let transport = match url.transport {
            Transport::Ldaps => "LDAPS",
            Transport::StartTls => "StartTLS",
            Transport::Plain => "PLAIN, tests only",
        };
        let _ = writeln!(out, "              {} ({transport})", url.url);
    }
    let _ = writeln!(
        out,
        "  bind as     {} (password from {})",
        d.bind_dn,
        d.bind_password.describe()
    );
    let methods: Vec<&str> = s.methods.iter().map(|m| m.name()).collect();
    let _ = writeln!(out, "  gates       {}", methods.join(", "));
    let p = &s.policy;
    let privileged = match p.privileged {
        PrivilegedMode::TwoMethods => format!(
            "{} methods, no security questions",
            p.privileged_methods_required
        ),
        PrivilegedMode::Refuse => "refused".to_owned(),
    };
    let _ = writeln!(
        out,
        "  policy      {} method(s) required; privileged accounts: {privileged}; lockout after {} failures in {} h",
        p.methods_required,
        p.lockout_failures,
        p.lockout_window_secs / 3600
    );
    let _ = writeln!(
        out,
        "  passwords   at least {} characters, strength ≥ {}/4{}",
        p.password.min_length,
        p.password.min_strength,
        if p.password.reject_common {
            ", common passwords refused"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "  languages   {} (default {})",
        s.languages.offered.join(", "),
        s.languages.default
    );
    for (i, (key, source)) in s.secret_sources().iter().enumerate() {
        let label = if i == 0 { "secrets" } else { "" };
        let _ = writeln!(out, "  {label:<11} {key} ← {}", source.describe());
    }
    out
}

pub fn board(b: &BoardFile) -> String {
    let mut out = String::new();
    let d = &b.display;
    let _ = writeln!(
        out,
        "  board       {} — {}",
        b.board.name, b.board.description
    );
    let _ = writeln!(
        out,
        "  display     {}×{} rotated {}°, {} mm wide",
        d.width, d.height, d.rotation, d.width_mm
    );
    let reader = b.reader.as_ref().map_or("none".to_owned(), |r| {
        let port = r
            .port
            .as_ref()
            .map_or("keyboard".to_owned(), |p| p.display().to_string());
        let protocol = r.protocol.map_or("protocol not set", |p| p.name());
        format!("{port} ({protocol})")
    });
    let _ = writeln!(out, "  reader      {reader}");
    let modem = b
        .modem
        .as_ref()
        .and_then(|m| m.port.as_ref())
        .map_or("none".to_owned(), |p| p.display().to_string());
    let _ = writeln!(out, "  modem       {modem}");
    out
}

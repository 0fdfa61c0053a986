//! Configuration: `kiosk.toml` (what admins push: site, directory, gates, policy, delivery, branding,
//! languages, trust anchors, keys) and the board file (what the hardware is). Parsed strictly — unknown
//! keys are errors — and every problem is reported at once, located as `FILE:LINE:COL`.
//!
//! Layers: `located` (TOML → typed schema, collecting problems) → `kiosk`/`board` (schemas) →
//! `validate` (meaning) → `settings` (what the program runs on). Secrets are only *named* here.

pub mod board;
pub mod diagnostics;
pub mod kiosk;
pub mod located;
pub mod secret_ref;
pub mod settings;
pub mod summary;
pub mod validate;

use std::path::{Path, PathBuf};

pub use board::BoardFile;
pub use diagnostics::{Diagnostic, Locator, Severity};
pub use settings::Settings;

use validate::Findings;

/// What a file is: detected from its content (a board file has a `[board]` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Kiosk,
    Board,
}

/// How much a check may assume about the machine it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckMode {
    /// Anywhere (an admin's workstation, CI): structure and meaning only.
    Portable,
    /// On the kiosk itself: also load every secret and check every referenced file exists.
    OnDevice,
}

/// The checked content of a file, valid only if no diagnostic is an error.
#[derive(Debug)]
pub enum Checked {
    Kiosk(Box<Settings>),
    Board(Box<BoardFile>),
}

/// The result of checking one file.
#[derive(Debug)]
pub struct Report {
    pub file: PathBuf,
    pub kind: FileKind,
    pub value: Option<Checked>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.value.is_none()
            || self
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
    }
}

/// Why a configuration could not be loaded: the file's located problems, all of them.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(.diagnostics))]
pub struct ConfigError {
    pub diagnostics: Vec<Diagnostic>,
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads and checks one file of either kind.
pub fn check_file(path: &Path, mode: CheckMode) -> Report {
    match std::fs::read_to_string(path) {
        Ok(text) => check_text(path, &text, mode),
        Err(e) => Report {
            file: path.to_owned(),
            kind: FileKind::Kiosk,
            value: None,
            diagnostics: vec![Diagnostic {
                file: path.to_owned(),
                line: 1,
                column: 1,
                severity: Severity::Error,
                path: String::new(),
                message: format!("cannot read the file: {e}"),
            }],
        },
    }
}

pub fn detect_kind(text: &str) -> FileKind {
    let (root, _) = toml::de::DeTable::parse_recoverable(text);
    if root.get_ref().contains_key("board") {
        FileKind::Board
    } else {
        FileKind::Kiosk
    }
}

/// Checks `text` as the content of `path`.
pub fn check_text(path: &Path, text: &str, mode: CheckMode) -> Report {
    let locator = Locator::new(path, text);
    let kind = detect_kind(text);
    let mut diagnostics = Vec::new();
    let mut findings = Findings::default();
    let value =
        match kind {
            FileKind::Kiosk => {
                let parsed = located::parse::<kiosk::KioskFile>(text);
                diagnostics.extend(parsed.problems.iter().map(|p| {
                    locator.at_span(&p.span, Severity::Error, &p.path, p.message.clone())
                }));
                parsed
                    .value
                    .and_then(|file| validate::validate(&file, &mut findings))
                    .map(|settings| {
                        if mode == CheckMode::OnDevice {
                            check_on_device(&settings, &mut findings);
                        }
                        Checked::Kiosk(Box::new(settings))
                    })
            }
            FileKind::Board => {
                let parsed = located::parse::<BoardFile>(text);
                diagnostics.extend(parsed.problems.iter().map(|p| {
                    locator.at_span(&p.span, Severity::Error, &p.path, p.message.clone())
                }));
                parsed
                    .value
                    .filter(|board| board::validate(board, &mut findings))
                    .map(|b| Checked::Board(Box::new(b)))
            }
        };
    diagnostics.extend(
        findings
            .0
            .into_iter()
            .map(|f| locator.at_path(&f.path, f.severity, f.message)),
    );
    diagnostics.sort_by_key(|d| (d.line, d.column));
    Report {
        file: path.to_owned(),
        kind,
        value,
        diagnostics,
    }
}

/// On the kiosk: every secret loads and every referenced file exists.
fn check_on_device(settings: &Settings, out: &mut Findings) {
    for (key, source) in settings.secret_sources() {
        match source.load_from_env() {
            Ok(secret) => log::debug!("{key}: loaded from {}: {secret:?}", source.describe()),
            Err(e) => out.error(key, e.to_string()),
        }
    }
    let files = [
        ("trust.directory_ca", settings.trust.directory_ca.as_ref()),
        ("trust.services_ca", settings.trust.services_ca.as_ref()),
        ("trust.fleet_ca", settings.trust.fleet_ca.as_ref()),
        ("branding.logo", settings.branding.logo.as_ref()),
    ];
    for (key, path) in files {
        if let Some(path) = path
            && let Err(e) = std::fs::metadata(path)
        {
            out.error(key, format!("cannot read {}: {e}", path.display()));
        }
    }
}

/// Loads `kiosk.toml` for running: checked on-device, warnings logged, errors returned all together.
pub fn load_kiosk(path: &Path) -> Result<Settings, ConfigError> {
    let report = check_file(path, CheckMode::OnDevice);
    for warning in report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
    {
        log::warn!("{warning}");
    }
    match report.value {
        Some(Checked::Kiosk(settings)) if !report.has_errors() => Ok(*settings),
        Some(Checked::Board(_)) => Err(ConfigError {
            diagnostics: vec![wrong_kind(path, "a board file", "kiosk.toml")],
        }),
        _ => Err(ConfigError {
            diagnostics: report.diagnostics,
        }),
    }
}

/// Loads a board file for running.
pub fn load_board(path: &Path) -> Result<BoardFile, ConfigError> {
    let report = check_file(path, CheckMode::Portable);
    for warning in report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
    {
        log::warn!("{warning}");
    }
    match report.value {
        Some(Checked::Board(board)) if !report.has_errors() => Ok(*board),
        Some(Checked::Kiosk(_)) => Err(ConfigError {
            diagnostics: vec![wrong_kind(path, "a kiosk configuration", "board file")],
        }),
        _ => Err(ConfigError {
            diagnostics: report.diagnostics,
        }),
    }
}

fn wrong_kind(path: &Path, is: &str, wanted: &str) -> Diagnostic {
    Diagnostic {
        file: path.to_owned(),
        line: 1,
        column: 1,
        severity: Severity::Error,
        path: String::new(),
        message: format!("this is {is}, but a {wanted} was expected here"),
    }
}

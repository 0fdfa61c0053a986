//! `sspr-kiosk config check` end to end: the real binary on the shipped examples, every board file,
//! and broken files whose problems must all be reported with their locations.

use std::path::{Path, PathBuf};
use std::process::Command;

use sspr_kiosk::config::{self, CheckMode, Checked, FileKind, Severity};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

pub fn sspr_kiosk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sspr-kiosk"))
}

#[test]
fn every_example_config_is_a_valid_kiosk_config() {
    let files = toml_files("docs/examples");
    assert!(
        files.len() >= 2,
        "expected the AD and OpenLDAP examples, found {files:?}"
    );
    for file in files {
        let report = config::check_file(&file, CheckMode::Portable);
        assert_eq!(report.kind, FileKind::Kiosk, "{}", file.display());
        assert!(
            !report.has_errors(),
            "{}: {:#?}",
            file.display(),
            report.diagnostics
        );
        assert!(
            report.diagnostics.is_empty(),
            "examples should not even warn: {:#?}",
            report.diagnostics
        );
        assert!(matches!(report.value, Some(Checked::Kiosk(_))));
    }
}

#[test]
fn every_board_file_is_valid() {
    let files = toml_files("board-config");
    assert!(
        files.len() >= 4,
        "expected one file per supported board, found {files:?}"
    );
    for file in files {
        let board =
            config::load_board(&file).unwrap_or_else(|e| panic!("{}:\n{e}", file.display()));
        assert!(board.display.width > 0 && board.display.height > 0);
    }
}

#[test]
fn config_check_prints_a_summary_for_good_files() {
    let out = sspr_kiosk()
        .args(["config", "check"])
        .arg(repo("docs/examples/kiosk-active-directory.toml"))
        .arg(repo("board-config/rpi4-official-7in.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ldaps://dc1.example.com (LDAPS)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("gates       qa, email, sms, totp, badge"),
        "{stdout}"
    );
    assert!(stdout.contains("1 method(s) required"), "{stdout}");
    assert!(stdout.contains("800×480"), "{stdout}");
}

/// The "done when" of the foundation issue: an unknown key, a wrong type and a missing required value
/// give three located errors and a non-zero exit.
#[test]
fn config_check_locates_an_unknown_key_a_wrong_type_and_a_missing_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    let good = std::fs::read_to_string(repo("docs/examples/kiosk-openldap.toml")).unwrap();
    let bad = good
        .replace(
            "kiosk_id = \"plant-2-gate\"",
            "kiosk_id = \"plant-2-gate\"\nlocaton = \"typo\"",
        )
        .replace("starttls = true", "starttls = \"yes\"")
        .replace("base_dn = \"dc=example,dc=org\"\n", "");
    assert_ne!(good, bad);
    std::fs::write(&file, &bad).unwrap();
    let line_of = |needle: &str| bad.lines().position(|l| l.starts_with(needle)).unwrap() + 1;

    let out = sspr_kiosk()
        .args(["config", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errors: Vec<&str> = stdout.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(errors.len(), 3, "{stdout}");
    let f = file.display();
    assert!(
        errors.contains(&format!("{f}:{}:1: error: unknown key `locaton` in [site]: did you mean `location`? remove it or use one of: `kiosk_id`, `location`, `helpdesk`, `data_dir`, `ui_socket`", line_of("locaton")).as_str()),
        "{stdout}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with(&format!("{f}:{}:12: error: `directory.starttls`: wrong type: string \"yes\", expected true or false", line_of("starttls")))),
        "{stdout}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with(&format!(
            "{f}:{}:1: error: missing required key `base_dn` in [directory]",
            line_of("[directory]")
        ))),
        "{stdout}"
    );
}

#[test]
fn meaning_problems_are_located_too() {
    let good = std::fs::read_to_string(repo("docs/examples/kiosk-active-directory.toml")).unwrap();
    let bad = good
        .replace("\"ldaps://dc2.example.com\"", "\"ldap://dc2.example.com\"")
        .replace(
            "enabled = [\"email\", \"sms\", \"totp\", \"qa\", \"badge\"]",
            "enabled = [\"badge\"]",
        )
        .replace(
            "bind_password = { credential = \"ldap-bind-password\" }",
            "bind_password = \"hunter2\"",
        );
    let report = config::check_text(Path::new("kiosk.toml"), &bad, CheckMode::Portable);
    let find = |path: &str| {
        report
            .diagnostics
            .iter()
            .find(|d| d.path == path)
            .unwrap_or_else(|| panic!("no problem at {path}: {:#?}", report.diagnostics))
    };
    // A wrong-typed secret stops parsing that value; meaning checks need a parsed file, so fix it first.
    let secret = find("directory.bind_password");
    assert!(
        secret
            .message
            .contains("never written in the configuration"),
        "{}",
        secret.message
    );

    let bad = bad.replace(
        "bind_password = \"hunter2\"",
        "bind_password = { credential = \"x\" }",
    );
    let report = config::check_text(Path::new("kiosk.toml"), &bad, CheckMode::Portable);
    assert!(report.has_errors());
    let clear = report
        .diagnostics
        .iter()
        .find(|d| d.path == "directory.urls[1]")
        .expect("plain ldap refused");
    assert!(clear.message.contains("in the clear"), "{}", clear.message);
    assert_eq!(clear.severity, Severity::Error);
    let badge = report
        .diagnostics
        .iter()
        .find(|d| d.path == "gates.enabled")
        .expect("badge alone refused");
    assert!(
        badge.message.contains("only identifies"),
        "{}",
        badge.message
    );
    let line = bad.lines().position(|l| l.starts_with("urls = ")).unwrap() + 1;
    assert_eq!(clear.line, line);
}

#[test]
fn a_board_file_is_not_accepted_as_kiosk_config() {
    let err = config::load_kiosk(&repo("board-config/qemu-x86.toml")).unwrap_err();
    assert!(err.to_string().contains("board file"), "{err}");
}

#[test]
fn outbox_ages_are_checked() {
    let good = std::fs::read_to_string(repo("docs/examples/kiosk-active-directory.toml")).unwrap();
    assert!(good.contains("reset_max_age_secs = 900"));
    let bad = good.replace("reset_max_age_secs = 900", "reset_max_age_secs = 5");
    let report = config::check_text(Path::new("kiosk.toml"), &bad, CheckMode::Portable);
    let problem = report
        .diagnostics
        .iter()
        .find(|d| d.path == "outbox.reset_max_age_secs")
        .expect("located");
    assert!(
        problem.message.contains("out of range"),
        "{}",
        problem.message
    );
    let Some(Checked::Kiosk(settings)) =
        config::check_text(Path::new("kiosk.toml"), &good, CheckMode::Portable).value
    else {
        panic!("the example is valid")
    };
    assert_eq!(
        (
            settings.outbox.unlock_max_age_secs,
            settings.outbox.reset_max_age_secs
        ),
        (86400, 900)
    );
}

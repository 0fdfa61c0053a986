//! The command line: help a sysadmin can read, and honest "not available yet" for what later work fills in.

use crate::config_tests::sspr_kiosk;

#[test]
fn help_lists_every_subcommand() {
    let out = sspr_kiosk().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in [
        "agent",
        "ui",
        "demo",
        "drive",
        "admin",
        "config",
        "directory",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing:\n{help}"
        );
    }
    let out = sspr_kiosk().args(["directory", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("check") && help.contains("whois"), "{help}");
}

#[test]
fn unfinished_subcommands_say_so_and_exit_2() {
    let cases: &[&[&str]] = &[&["ui"], &["demo"], &["admin", "keygen"]];
    for args in cases {
        let out = sspr_kiosk().args(*args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("not available yet"), "{args:?}: {stdout}");
    }
}

#[test]
fn config_check_needs_a_file() {
    let out = sspr_kiosk().args(["config", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FILE"));
}

#[test]
fn an_unreadable_file_is_an_error_not_a_crash() {
    let out = sspr_kiosk()
        .args(["config", "check", "/nonexistent/kiosk.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("/nonexistent/kiosk.toml:1:1: error: cannot read the file"),
        "{stdout}"
    );
}

#[test]
fn directory_commands_without_a_config_say_which_file_is_missing() {
    let out = sspr_kiosk()
        .args([
            "directory",
            "whois",
            "--config",
            "/nonexistent/kiosk.toml",
            "alice",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/kiosk.toml:1:1: error: cannot read the file"),
        "{stderr}"
    );
}

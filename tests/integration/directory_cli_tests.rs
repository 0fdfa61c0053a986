//! `sspr-kiosk directory check` and `directory whois` end to end: the real binary, a real kiosk.toml
//! and bind password credential, against the harness's slapd and Samba AD DC.

use std::path::Path;
use std::process::Output;

use crate::config_tests::sspr_kiosk;
use crate::harness::{samba::samba, slapd::slapd};

/// Writes a kiosk.toml for a directory and the credentials directory holding its bind password.
fn kiosk_config(dir: &Path, directory: &str, ca: &Path, bind_password: &str) -> std::path::PathBuf {
    let credentials = dir.join("credentials");
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::write(credentials.join("ldap-bind-password"), bind_password).unwrap();
    std::fs::write(credentials.join("device-key"), "k".repeat(44)).unwrap();
    let text = format!(
        r#"version = 1
[site]
kiosk_id = "test-kiosk"
location = "Test bench"
helpdesk = "ext. 1234"
data_dir = "{data}"
{directory}
[gates]
enabled = ["email"]
[policy]
privileged_groups = ["cn=admins,ou=groups,dc=example,dc=test"]
[delivery.email]
host = "127.0.0.1"
port = 2525
security = "insecure-for-tests"
from = "kiosk@example.test"
[trust]
directory_ca = "{ca}"
[keys]
device_key = {{ credential = "device-key" }}
"#,
        data = dir.display(),
        ca = ca.display(),
    );
    let file = dir.join("kiosk.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn run(dir: &Path, config: &Path, args: &[&str]) -> Output {
    let mut command = sspr_kiosk();
    command
        .args(["directory"])
        .args(&args[..1])
        .arg("--config")
        .arg(config)
        .args(&args[1..]);
    command
        .env("CREDENTIALS_DIRECTORY", dir.join("credentials"))
        .output()
        .unwrap()
}

fn slapd_section(url: &str, bind_dn: &str) -> String {
    format!(
        r#"[directory]
flavour = "openldap"
urls = ["ldaps://127.0.0.1:1", "{url}"]
base_dn = "dc=example,dc=test"
bind_dn = "{bind_dn}"
bind_password = {{ credential = "ldap-bind-password" }}
[directory.attributes]
identifiers = ["uid", "mail"]
badge = "employeeNumber"
mobile = ["mobile"]
email = ["mail"]
registration = "ssprRegistration"
"#
    )
}

#[test]
fn directory_check_on_slapd_reports_each_url_and_the_canary() {
    let server = slapd();
    let dir = tempfile::tempdir().unwrap();
    let config = kiosk_config(
        dir.path(),
        &slapd_section(&server.ldaps_url(), &server.service_dn),
        &server.pki.ca_pem,
        &server.service_password,
    );
    let out = run(dir.path(), &config, &["check", "--canary", "normal.user"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The first URL is dead on purpose: the check reports it and is not ready.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("FAIL  ldaps://127.0.0.1:1: unreachable"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "ok    {}: TLS verified, bound as {}",
            server.ldaps_url(),
            server.service_dn
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "ok    canary `normal.user` found: uid=normal.user,ou=people,dc=example,dc=test"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("ok    unlocked the canary"), "{stdout}");
    assert!(
        stdout.contains("result: NOT ready — 1 problem(s)"),
        "{stdout}"
    );
}

#[test]
fn directory_check_with_a_wrong_bind_password_names_the_fix() {
    let server = slapd();
    let dir = tempfile::tempdir().unwrap();
    let section = slapd_section(&server.ldaps_url(), &server.service_dn)
        .replace("\"ldaps://127.0.0.1:1\", ", "");
    let config = kiosk_config(dir.path(), &section, &server.pki.ca_pem, "wrong-password");
    let out = run(dir.path(), &config, &["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("the service account cannot bind: rc 49"),
        "{stdout}"
    );
    assert!(
        stdout.contains("check bind_dn and the bind password"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("wrong-password"),
        "the password must never be printed: {stdout}"
    );
}

#[test]
fn directory_whois_on_slapd_masks_contacts_and_knows_privilege() {
    let server = slapd();
    let dir = tempfile::tempdir().unwrap();
    let config = kiosk_config(
        dir.path(),
        &slapd_section(&server.ldaps_url(), &server.service_dn),
        &server.pki.ca_pem,
        &server.service_password,
    );
    let out = run(dir.path(), &config, &["whois", "normal.user"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("normal.user — Norma Normal"), "{stdout}");
    assert!(stdout.contains("email         n•••@e•••.test"), "{stdout}");
    assert!(stdout.contains("mobile        +1 ••• •••• 01"), "{stdout}");
    assert!(
        !stdout.contains("normal.user@example.test") && !stdout.contains("5550100001"),
        "{stdout}"
    );

    let out = run(dir.path(), &config, &["whois", "priv.user"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("may use kiosk yes, privileged"), "{stdout}");

    let out = run(dir.path(), &config, &["whois", "--badge", "0004567890"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("badge.user"));

    let out = run(dir.path(), &config, &["whois", "nobody.here"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no single account matches"));
}

#[test]
fn directory_check_on_samba_reports_missing_history_support() {
    let dc = samba();
    let dir = tempfile::tempdir().unwrap();
    let section = format!(
        r#"[directory]
flavour = "active-directory"
urls = ["{url}"]
base_dn = "{base}"
bind_dn = "{bind}"
bind_password = {{ credential = "ldap-bind-password" }}
history_on_reset = "require"
[directory.attributes]
identifiers = ["sAMAccountName", "userPrincipalName"]
email = ["mail"]
mobile = ["mobile"]
registration = "msDS-cloudExtensionAttribute1"
"#,
        url = dc.ldaps_url(),
        base = dc.base_dn,
        bind = dc.cast.service.dn,
    );
    let config = kiosk_config(
        dir.path(),
        &section,
        &dc.pki.ca_pem,
        &dc.cast.service.password,
    );
    let out = run(dir.path(), &config, &["check", "--canary", "normal.user"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("ok    {}: TLS verified", dc.ldaps_url())),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .contains("does not support LDAP_SERVER_POLICY_HINTS: password RESETS WILL BE REFUSED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok    may write lockoutTime (unlock)"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
}

//! No configured secret ever reaches the log: the real binary loads every secret at the highest
//! verbosity, and its whole output is searched for the secret values.

use std::path::Path;

use crate::config_tests::sspr_kiosk;

const SECRETS: &[(&str, &str)] = &[
    ("ldap-bind-password", "Qx7-Bind-Pa55word-ÄÖÜ-7f3e"),
    ("smtp-password", "Wv2-mail-relay-91c2d"),
    ("sms-gateway-token", "Bearer Zt9-gateway-5a5a5a"),
    ("device-key", "Ky4-0b0b0b-local-aead"),
    ("registration-key-2026-11", "Jm8-1c1c1c-fleet-blob"),
];

#[test]
fn no_configured_secret_appears_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    for (name, value) in SECRETS {
        std::fs::write(credentials.join(name), format!("{value}\n")).unwrap();
    }
    // The example references files under /etc/sspr-kiosk/trust: point trust at files that exist.
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/kiosk-active-directory.toml"),
    )
    .unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not checked here").unwrap();
    let config = example
        .replace(
            "/etc/sspr-kiosk/trust/directory-ca.pem",
            ca.to_str().unwrap(),
        )
        .replace(
            "/etc/sspr-kiosk/trust/services-ca.pem",
            ca.to_str().unwrap(),
        )
        .replace("/etc/sspr-kiosk/trust/fleet-ca.pem", ca.to_str().unwrap());
    let file = dir.path().join("kiosk.toml");
    std::fs::write(&file, config).unwrap();

    let out = sspr_kiosk()
        .args(["-vv", "config", "check", "--on-device"])
        .arg(&file)
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .env_remove("JOURNAL_STREAM")
        .env("SSPR_LOG", "trace")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The secrets were really loaded and formatted into the log (masked)...
    for (name, _) in SECRETS {
        assert!(
            stderr.contains(&format!(
                "loaded from systemd credential `{name}`: Secret(***)"
            )),
            "{name} not loaded:\n{stderr}"
        );
    }
    // ...and no value appears anywhere, not even a fragment.
    for (_, value) in SECRETS {
        for text in [&stdout, &stderr] {
            assert!(!text.contains(value), "secret leaked:\n{text}");
            assert!(
                !text.contains(&value[..value.len() / 2]),
                "secret fragment leaked:\n{text}"
            );
        }
    }
}

#[test]
fn a_missing_credential_is_reported_with_the_unit_fix() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/kiosk-active-directory.toml");
    let out = sspr_kiosk()
        .args(["config", "check", "--on-device"])
        .arg(&file)
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("LoadCredential=ldap-bind-password"),
        "{stdout}"
    );
}

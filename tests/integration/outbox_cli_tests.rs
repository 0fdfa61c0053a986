//! `sspr-kiosk outbox list|retry|purge` and `sspr-kiosk audit verify|export` end to end: the real
//! binary and a real kiosk.toml with the device key as a credential, on an outbox the library
//! wrote. No directory is needed: these commands never contact it.

use std::path::{Path, PathBuf};
use std::process::Output;

use sspr_kiosk::directory::Dn;
use sspr_kiosk::outbox::{AuditEntry, Kind, NewOperation, Outbox};
use sspr_kiosk::secret::Secret;

use crate::config_tests::sspr_kiosk;

const DEVICE_KEY: &str = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
const PASSWORD: &str = "Plaintext-Reset-Pw-4711";

/// A kiosk.toml whose data_dir is `dir/data`, and the credentials directory it needs.
fn kiosk_config(dir: &Path) -> PathBuf {
    let credentials = dir.join("credentials");
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(credentials.join("ldap-bind-password"), "bind-secret").unwrap();
    std::fs::write(credentials.join("device-key"), DEVICE_KEY).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, "not needed by these commands").unwrap();
    let text = format!(
        r#"version = 1
[site]
kiosk_id = "test-kiosk"
location = "Test bench"
helpdesk = "ext. 1234"
data_dir = "{data}"
[directory]
flavour = "openldap"
urls = ["ldaps://127.0.0.1:1"]
base_dn = "dc=example,dc=test"
bind_dn = "cn=kiosk,dc=example,dc=test"
bind_password = {{ credential = "ldap-bind-password" }}
[directory.attributes]
identifiers = ["uid", "mail"]
email = ["mail"]
registration = "ssprRegistration"
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
        data = dir.join("data").display(),
        ca = ca.display(),
    );
    let file = dir.join("kiosk.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn outbox_path(dir: &Path) -> PathBuf {
    dir.join("data").join("outbox.db")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    sspr_kiosk()
        .args(args)
        .arg("--config")
        .arg(dir.join("kiosk.toml"))
        .env("CREDENTIALS_DIRECTORY", dir.join("credentials"))
        .env_remove("JOURNAL_STREAM")
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn now_ms() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since.as_millis()).unwrap()
}

fn operation(kind: Kind, user: &str, reference: &str) -> NewOperation {
    NewOperation {
        kind,
        dn: Dn::new(format!("uid={user},ou=people,dc=example,dc=test")),
        user_key: user.to_owned(),
        new_password: (kind == Kind::Reset).then(|| Secret::new(PASSWORD)),
        registration_blob: None,
        idempotency_key: format!("{reference}-key"),
        reference: Some(reference.to_owned()),
        now: now_ms(),
    }
}

fn entry(n: u64) -> AuditEntry {
    AuditEntry {
        claimed: format!("user{n}"),
        kiosk_id: "test-kiosk".into(),
        methods: vec!["email".into()],
        outcome: "Unlocked".into(),
        reference: format!("AUD-000{n}"),
        time: 1_741_944_413_000 + n,
    }
}

/// Two unlocks and a reset (ids 1, 2, 3) and five audit records, written by the library.
fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    kiosk_config(dir.path());
    let outbox = Outbox::open(&outbox_path(dir.path()), &Secret::new(DEVICE_KEY)).unwrap();
    for (kind, user, reference) in [
        (Kind::Unlock, "alice", "K7M-4QXP"),
        (Kind::Reset, "bob", "R2D-2C3P"),
        (Kind::Unlock, "carol", "H9J-KWZT"),
    ] {
        outbox.enqueue(operation(kind, user, reference)).unwrap();
    }
    for n in 1..=5 {
        outbox.audit().append(&entry(n)).unwrap();
    }
    dir
}

#[test]
fn outbox_list_shows_every_operation_and_no_secret() {
    let dir = seeded();
    let out = run(dir.path(), &["outbox", "list"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("ID  REFERENCE"), "{stdout}");
    for reference in ["K7M-4QXP", "R2D-2C3P", "H9J-KWZT"] {
        assert!(stdout.contains(reference), "{stdout}");
    }
    assert!(
        stdout.contains("uid=bob,ou=people,dc=example,dc=test"),
        "{stdout}"
    );
    let bob = stdout.lines().find(|l| l.contains("R2D-2C3P")).unwrap();
    assert!(bob.starts_with("2 "), "{bob}");
    assert!(bob.contains("reset") && bob.contains("pending"), "{bob}");
    assert!(stdout.contains("3 operation(s): 3 pending"), "{stdout}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
}

#[test]
fn outbox_retry_and_purge_say_what_happened_and_refuse_bad_ids() {
    let dir = seeded();

    let out = run(dir.path(), &["outbox", "retry", "1"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("operation 1 (K7M-4QXP, unlock uid=alice,"),
        "{stdout}"
    );
    assert!(stdout.contains("is due now"), "{stdout}");

    let out = run(dir.path(), &["outbox", "purge", "2"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("operation 2 (R2D-2C3P, reset uid=bob,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("purged: it will not be applied"),
        "{stdout}"
    );

    let out = run(dir.path(), &["outbox", "list"]);
    let (stdout, _) = text(&out);
    let alice = stdout.lines().find(|l| l.contains("K7M-4QXP")).unwrap();
    assert!(alice.contains("due now"), "{stdout}");
    let bob = stdout.lines().find(|l| l.contains("R2D-2C3P")).unwrap();
    assert!(
        bob.contains("purged") && bob.contains("purged by an administrator"),
        "{stdout}"
    );

    // A purged operation is neither retried nor purged again; an unknown id is named.
    for (args, message) in [
        (
            ["outbox", "retry", "2"],
            "cannot retry 2: outbox operation 2 is purged, not pending",
        ),
        (
            ["outbox", "purge", "2"],
            "cannot purge 2: outbox operation 2 is purged, not pending",
        ),
        (
            ["outbox", "retry", "99"],
            "cannot retry 99: no outbox operation or event 99",
        ),
        (
            ["outbox", "purge", "99"],
            "cannot purge 99: no outbox operation or event 99",
        ),
    ] {
        let out = run(dir.path(), &args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}\n{stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }

    // The secret of the purged reset is gone from the file as well.
    let outbox = Outbox::open(&outbox_path(dir.path()), &Secret::new(DEVICE_KEY)).unwrap();
    assert!(!outbox.operation(2).unwrap().unwrap().holds_secret);
}

#[test]
fn audit_verify_finds_the_tampered_record_and_export_prints_json_lines() {
    let dir = seeded();
    let head = Outbox::open(&outbox_path(dir.path()), &Secret::new(DEVICE_KEY))
        .unwrap()
        .audit()
        .verify()
        .unwrap();

    let out = run(dir.path(), &["audit", "verify"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        format!(
            "audit chain intact: 5 records, last hash {}\n",
            head.last_hash
        )
    );

    let out = run(dir.path(), &["audit", "export", "--since", "2"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let seqs: Vec<u64> = stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["seq"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(seqs, [3, 4, 5], "{stdout}");
    assert!(stdout.contains(r#""reference":"AUD-0003""#), "{stdout}");
    let out = run(dir.path(), &["audit", "export"]);
    assert_eq!(text(&out).0.lines().count(), 5);

    // Whoever holds the file can drop the trigger and edit a record; the chain still tells.
    let db = rusqlite::Connection::open(outbox_path(dir.path())).unwrap();
    db.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET record = replace(record, 'Unlocked', 'Abandoned') WHERE seq = 4;",
    )
    .unwrap();
    drop(db);
    let out = run(dir.path(), &["audit", "verify"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(
            "audit chain BROKEN at record 4: its content does not match its hash (altered)\n"
        ),
        "{stdout}"
    );
}

#[test]
fn a_missing_outbox_is_named_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    kiosk_config(dir.path());
    let path = outbox_path(dir.path());
    for args in [
        &["outbox", "list"][..],
        &["outbox", "retry", "1"],
        &["outbox", "purge", "1"],
        &["audit", "verify"],
        &["audit", "export", "--since", "0"],
    ] {
        let out = run(dir.path(), args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}\n{stderr}");
        assert!(
            stderr.contains(&format!(
                "no outbox at {}: has the agent run on this kiosk?",
                path.display()
            )),
            "{args:?}: {stderr}"
        );
        assert!(!path.exists(), "{args:?} created {}", path.display());
    }
}

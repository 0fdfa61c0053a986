//! The file and what is in it: no plaintext secrets, schema versions, corruption, reopening, admin
//! actions and notification events.

use std::path::Path;

use super::*;
use crate::outbox::model::REFERENCE_ALPHABET;

fn contains_bytes(path: &Path, needle: &[u8]) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}

fn contains(path: &Path, needle: &str) -> bool {
    std::fs::read(path)
        .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

#[tokio::test]
async fn plaintext_secrets_never_reach_the_database_or_its_wal() {
    let (dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "old", true);
    let passwords = [
        "Plaintext-Canary-7731",
        "Zebra-Quartz-Hollow-88",
        "Second-Canary-0042",
    ];
    outbox
        .enqueue(reset(ALICE, passwords[0], "p1", T0))
        .unwrap();
    outbox
        .enqueue(operation(
            Kind::ResetAndUnlock,
            BOB,
            Some(passwords[1]),
            "p2",
            T0,
        ))
        .unwrap();
    let mut registration = operation(Kind::Registration, BOB, None, "p3", T0);
    registration.registration_blob = Some(passwords[2].into());
    outbox.enqueue(registration).unwrap();

    let files = ["outbox.db", "outbox.db-wal", "outbox.db-shm"].map(|f| dir.path().join(f));
    assert!(
        std::fs::metadata(&files[1]).unwrap().len() > 0,
        "the WAL holds the new rows"
    );
    // The check can see what is stored in clear (the DN), so it would see a password too.
    assert!(files.iter().any(|f| contains(f, "uid=alice")));
    for file in &files {
        for password in passwords {
            assert!(
                !contains(file, password),
                "{password} in {}",
                file.display()
            );
        }
    }

    let ciphertexts: Vec<Vec<u8>> = {
        let conn = outbox.conn();
        let mut statement = conn
            .prepare("SELECT sealed FROM outbox_operations WHERE sealed IS NOT NULL")
            .unwrap();
        let rows = statement.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(ciphertexts.len(), 3);

    while outbox.sync_once(&directory, T0).await.unwrap().is_some() {}
    // Erased means gone from the files, not just unlinked: secure_delete zeroes the freed bytes and
    // the checkpoint after each terminal step truncates the WAL that held the old pages.
    for file in &files {
        for sealed in &ciphertexts {
            assert!(
                !contains_bytes(file, sealed),
                "ciphertext left in {}",
                file.display()
            );
        }
    }
    assert_eq!(directory.current_password(ALICE).unwrap(), passwords[0]);
    assert!(
        outbox
            .list()
            .unwrap()
            .iter()
            .all(|op| op.state == State::Applied && !op.holds_secret)
    );
    drop(outbox);
    for file in &files {
        for password in passwords {
            assert!(
                !contains(file, password),
                "{password} in {}",
                file.display()
            );
        }
    }
    let raw = rusqlite::Connection::open(&files[0]).unwrap();
    let sealed: i64 = raw
        .query_row(
            "SELECT count(*) FROM outbox_operations WHERE sealed IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sealed, 0);
}

#[tokio::test]
async fn admin_list_retry_purge_and_event_delivery() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::default();
    directory.set(Mode::Unreachable);
    let mut op = reset(ALICE, "Admin-Sees-Not-1", "k1", T0);
    op.reference = Some("K7M-4QXP".into());
    let a = outbox.enqueue(op).unwrap();
    assert_eq!(a.reference, "K7M-4QXP");
    let b = outbox.enqueue(unlock(BOB, "k2", T0)).unwrap();
    outbox.sync_once(&directory, T0).await.unwrap();

    let listing = outbox.list().unwrap();
    assert_eq!(
        listing.iter().map(|o| o.id).collect::<Vec<_>>(),
        [b.id, a.id]
    );
    assert!(!format!("{listing:?}").contains("Admin-Sees-Not"));
    assert!(listing[1].holds_secret && listing[1].next_attempt_at > T0);

    // retry: due now, not after the backoff.
    outbox.retry(a.id).unwrap();
    directory.set(Mode::Up);
    assert_eq!(
        outbox
            .sync_once(&directory, T0 + 1)
            .await
            .unwrap()
            .unwrap()
            .id,
        a.id
    );
    assert!(matches!(
        outbox.retry(a.id),
        Err(OutboxError::NotPending { .. })
    ));
    assert!(matches!(outbox.retry(999), Err(OutboxError::NotFound(999))));

    // purge: the secret goes, the person is told.
    let c = outbox
        .enqueue(reset(BOB, "Purged-Away-1", "k3", T0))
        .unwrap();
    outbox.purge(c.id, T0 + 2).unwrap();
    let summary = state(&outbox, c.id);
    assert_eq!(
        (summary.state, summary.holds_secret),
        (State::Purged, false)
    );
    assert!(matches!(
        outbox.purge(a.id, T0),
        Err(OutboxError::NotPending {
            state: "applied",
            ..
        })
    ));

    let events = outbox.pending_events().unwrap();
    let outcomes: Vec<_> = events
        .iter()
        .map(|e| (e.operation_id, e.outcome.clone()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (a.id, Outcome::Applied),
            (
                c.id,
                Outcome::Purged {
                    maybe_applied: false
                }
            )
        ]
    );
    outbox.mark_delivered(events[0].id).unwrap();
    assert_eq!(outbox.pending_events().unwrap().len(), 1);
    assert!(matches!(
        outbox.mark_delivered(12_345),
        Err(OutboxError::NotFound(_))
    ));
    // Bob's unlock was not disturbed by the purge of his later reset.
    assert_eq!(
        finished(outbox.sync_once(&directory, T0 + 10_000).await.unwrap()),
        Outcome::Applied
    );
}

#[tokio::test]
async fn reopening_keeps_everything() {
    let (dir, outbox) = on_disk();
    let directory = FakeDirectory::default();
    let a = outbox.enqueue(unlock(ALICE, "k1", T0)).unwrap();
    let b = outbox
        .enqueue(reset(BOB, "Kept-Across-1", "k2", T0))
        .unwrap();
    outbox.sync_once(&directory, T0).await.unwrap();
    let audit = AuditEntry {
        claimed: "alice".into(),
        kiosk_id: "lobby-1".into(),
        methods: vec!["sms".into()],
        outcome: "Queued".into(),
        reference: b.reference.clone(),
        time: T0,
    };
    outbox.audit().append(&audit).unwrap();
    let (listing, events) = (outbox.list().unwrap(), outbox.pending_events().unwrap());
    drop(outbox);

    let outbox = reopen(&dir);
    assert_eq!(outbox.list().unwrap(), listing);
    assert_eq!(outbox.pending_events().unwrap(), events);
    assert_eq!(outbox.audit().verify().unwrap().records, 1);
    assert_eq!(outbox.enqueue(unlock(ALICE, "k1", T0)).unwrap().id, a.id);
    let step = outbox.sync_once(&directory, T0).await.unwrap().unwrap();
    assert_eq!(
        (step.id, step.outcome),
        (b.id, SyncOutcome::Finished(Outcome::Applied))
    );
    assert_eq!(directory.current_password(BOB).unwrap(), "Kept-Across-1");
    outbox.integrity_check().unwrap();
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let (dir, outbox) = on_disk();
    drop(outbox);
    let path = dir.path().join("outbox.db");
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("INSERT INTO schema_migrations VALUES (99, 0)", [])
        .unwrap();
    drop(raw);
    let err = Outbox::open(&path, &key()).unwrap_err();
    assert!(
        matches!(err, OutboxError::TooNew { found: 99, supported, .. } if supported == Outbox::schema_version())
    );
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("newer"),
        "{message}"
    );
}

#[test]
fn a_corrupt_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = Outbox::open(&path, &key()).unwrap_err();
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );

    let missing = dir.path().join("no-such-dir").join("outbox.db");
    let err = Outbox::open(&missing, &key()).unwrap_err();
    assert!(matches!(err, OutboxError::Create { .. }), "{err:?}");
}

#[test]
fn the_file_is_private_and_in_wal_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let (dir, outbox) = on_disk();
    outbox.enqueue(unlock(ALICE, "k", T0)).unwrap();
    let mode = std::fs::metadata(dir.path().join("outbox.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    let conn = outbox.conn();
    let pragma = |name: &str| -> String {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| format!("{v:?}"))
        .unwrap()
    };
    assert!(pragma("journal_mode").contains("wal"));
    assert_eq!(pragma("synchronous"), "Integer(2)"); // FULL
    assert_eq!(pragma("secure_delete"), "Integer(1)");
    assert_eq!(pragma("foreign_keys"), "Integer(1)");
}

#[test]
fn malformed_operations_store_nothing() {
    let outbox = Outbox::in_memory(&key()).unwrap();
    let mut no_password = reset(ALICE, "x", "k1", T0);
    no_password.new_password = None;
    assert!(matches!(
        outbox.enqueue(no_password),
        Err(OutboxError::InvalidOperation(_))
    ));
    let unlock_with_password = operation(Kind::Unlock, ALICE, Some("x"), "k2", T0);
    assert!(matches!(
        outbox.enqueue(unlock_with_password),
        Err(OutboxError::InvalidOperation(_))
    ));
    assert!(outbox.list().unwrap().is_empty());
    assert!(!format!("{:?}", reset(ALICE, "Debug-Canary-1", "k", T0)).contains("Canary"));
}

#[test]
fn references_are_short_and_unambiguous() {
    for _ in 0..200 {
        let reference = new_reference();
        assert_eq!(reference.len(), 8);
        assert_eq!(reference.as_bytes()[3], b'-');
        assert!(
            reference
                .chars()
                .filter(|c| *c != '-')
                .all(|c| REFERENCE_ALPHABET.contains(&(c as u8)))
        );
        assert!(!reference.contains(['0', 'O', '1', 'I', 'L']));
    }
}

#[test]
fn a_sync_step_can_run_on_a_multi_threaded_runtime() {
    fn assert_send<T: Send>(_: &T) {}
    let outbox = Outbox::in_memory(&key()).unwrap();
    let directory = FakeDirectory::default();
    let step = outbox.sync_once(&directory, T0);
    assert_send(&step);
}

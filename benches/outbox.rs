//! Outbox benchmark (not a test): the durable enqueue rate (every enqueue committed with fsync,
//! `synchronous=FULL`) next to a bare rusqlite insert loop with the same pragmas in the same run, and
//! the ratio; plus the local drain rate (one `sync_once` per operation against an in-process
//! directory that answers at once: the outbox's own cost per apply, without any LDAP).
//!
//! Run: `cargo bench --bench outbox`. `SSPR_BENCH_OPERATIONS` sets the operations per round (default
//! 300); `SSPR_BENCH_DIR` the directory for the database files (default: the system temp dir —
//! use a real disk, fsync on tmpfs costs nothing). Three rounds; medians are printed.

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark binary: fail loudly, print results"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use sspr_kiosk::directory::{Directory, DirectoryError, Dn, Lookup, UserRecord};
use sspr_kiosk::outbox::{Kind, NewOperation, Outbox};
use sspr_kiosk::secret::Secret;

const NOW: u64 = 1_700_000_000_000;

/// Answers every write at once: what is measured is the outbox alone.
struct InstantDirectory;

impl Directory for InstantDirectory {
    async fn find_user(&self, _: Lookup<'_>) -> Result<Option<UserRecord>, DirectoryError> {
        Ok(None)
    }
    async fn unlock(&self, _: &Dn) -> Result<(), DirectoryError> {
        Ok(())
    }
    async fn reset_password(&self, _: &Dn, _: &Secret, _: bool) -> Result<(), DirectoryError> {
        Ok(())
    }
    async fn change_password(&self, _: &Dn, _: &Secret, _: &Secret) -> Result<(), DirectoryError> {
        Ok(())
    }
    async fn verify_password(&self, _: &Dn, _: &Secret) -> Result<(), DirectoryError> {
        Ok(())
    }
    async fn read_registration(&self, _: &Dn) -> Result<Option<String>, DirectoryError> {
        Ok(None)
    }
    async fn write_registration(&self, _: &Dn, _: Option<&str>) -> Result<(), DirectoryError> {
        Ok(())
    }
}

fn operation(i: usize) -> NewOperation {
    let dn = format!("uid=user{i},ou=people,dc=example,dc=com");
    NewOperation {
        kind: Kind::Reset,
        user_key: dn.clone(),
        dn: Dn::new(dn),
        new_password: Some(Secret::new(format!("Bench-Password-{i}-Quartz"))),
        registration_blob: None,
        idempotency_key: format!("bench-{i}"),
        reference: None,
        now: NOW,
    }
}

/// Durable enqueues per second, and local applies per second.
fn outbox_round(dir: &Path, operations: usize, runtime: &tokio::runtime::Runtime) -> (f64, f64) {
    let outbox = Outbox::open(&dir.join("outbox.db"), &Secret::new("bench-device-key")).unwrap();
    let ops: Vec<NewOperation> = (0..operations).map(operation).collect();
    let start = Instant::now();
    for op in ops {
        outbox.enqueue(op).unwrap();
    }
    let enqueue = rate(operations, start.elapsed());

    let start = Instant::now();
    let mut applied = 0;
    runtime.block_on(async {
        while outbox
            .sync_once(&InstantDirectory, NOW)
            .await
            .unwrap()
            .is_some()
        {
            applied += 1;
        }
    });
    assert_eq!(applied, operations);
    (enqueue, rate(operations, start.elapsed()))
}

/// Inserts per second of a plain table with the outbox's pragmas, one committed row per insert.
fn bare_round(dir: &Path, operations: usize) -> f64 {
    let conn = Connection::open(dir.join("bare.db")).unwrap();
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for (pragma, value) in [
        ("synchronous", "FULL"),
        ("secure_delete", "ON"),
        ("foreign_keys", "ON"),
    ] {
        conn.pragma_update(None, pragma, value).unwrap();
    }
    conn.execute_batch(
        "CREATE TABLE ops (id INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE,
             dn TEXT NOT NULL, payload BLOB NOT NULL, created_at INTEGER NOT NULL)",
    )
    .unwrap();
    let payload = [0x5au8; 64]; // the size of a sealed password: nonce, ciphertext, tag
    let start = Instant::now();
    for i in 0..operations {
        conn.execute(
            "INSERT INTO ops (idempotency_key, dn, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                format!("bench-{i}"),
                format!("uid=user{i},ou=people,dc=example,dc=com"),
                &payload[..],
                1_700_000_000_000i64
            ],
        )
        .unwrap();
    }
    rate(operations, start.elapsed())
}

fn rate(operations: usize, elapsed: Duration) -> f64 {
    operations as f64 / elapsed.as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let operations: usize = std::env::var("SSPR_BENCH_OPERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let base = std::env::var_os("SSPR_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (mut bare, mut enqueue, mut drain) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let dir = tempfile::tempdir_in(&base).unwrap();
        bare.push(bare_round(dir.path(), operations));
        let (e, d) = outbox_round(dir.path(), operations, &runtime);
        enqueue.push(e);
        drain.push(d);
    }
    let (bare, enqueue, drain) = (median(bare), median(enqueue), median(drain));
    println!(
        "outbox benchmark: {operations} operations per round, 3 rounds, files in {}",
        base.display()
    );
    println!("  bare rusqlite insert (WAL, synchronous=FULL): {bare:>9.0} rows/s");
    println!("  outbox enqueue (sealed reset, fsync'd):       {enqueue:>9.0} ops/s");
    println!(
        "  ratio bare / outbox enqueue:                  {:>9.2}x",
        bare / enqueue
    );
    println!("  outbox drain, instant directory (sync_once): {drain:>9.0} ops/s");
    println!(
        "  ratio bare insert / drain:                    {:>9.2}x",
        bare / drain
    );
}

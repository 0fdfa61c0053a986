//! The outbox database file: pragmas, append-only migrations, and telling a corrupt file or one
//! written by a newer version apart from a usable one. Nothing here knows what an operation means.
//! Migrations are only ever appended: a released migration is never edited or removed.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OptionalExtension as _};

use super::OutboxError;

/// Migration `n` (1-based) is `MIGRATIONS[n - 1]`. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: operations, their notification events, the audit chain.
    "
    CREATE TABLE outbox_operations (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key  TEXT    NOT NULL UNIQUE,
        reference        TEXT    NOT NULL,
        kind             TEXT    NOT NULL
                         CHECK (kind IN ('unlock', 'reset', 'reset-unlock', 'registration')),
        dn               TEXT    NOT NULL,
        user_key         TEXT    NOT NULL,
        -- nonce || XChaCha20-Poly1305 ciphertext; NULL once the operation is terminal
        sealed           BLOB,
        state            TEXT    NOT NULL
                         CHECK (state IN ('pending', 'applying', 'applied', 'rejected',
                                          'expired', 'purged')),
        created_at       INTEGER NOT NULL,
        expires_at       INTEGER NOT NULL,
        next_attempt_at  INTEGER NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        -- an attempt may have reached the directory without a definite answer
        maybe_applied    INTEGER NOT NULL DEFAULT 0,
        lease_until      INTEGER,
        last_error       TEXT,
        outcome_code     TEXT,
        finished_at      INTEGER
    );
    CREATE INDEX outbox_operations_open ON outbox_operations (state, next_attempt_at);
    CREATE INDEX outbox_operations_user ON outbox_operations (user_key, id);
    CREATE INDEX outbox_operations_reference ON outbox_operations (reference);

    CREATE TABLE outbox_events (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        operation_id  INTEGER NOT NULL REFERENCES outbox_operations (id),
        reference     TEXT    NOT NULL,
        kind          TEXT    NOT NULL,
        dn            TEXT    NOT NULL,
        outcome       TEXT    NOT NULL
                      CHECK (outcome IN ('applied', 'rejected', 'expired', 'purged')),
        code          TEXT,
        maybe_applied INTEGER NOT NULL DEFAULT 0,
        at            INTEGER NOT NULL,
        delivered     INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_events_undelivered ON outbox_events (delivered, id);

    CREATE TABLE audit_log (
        seq        INTEGER PRIMARY KEY,
        time       INTEGER NOT NULL,
        record     TEXT    NOT NULL,
        prev_hash  BLOB    NOT NULL,
        hash       BLOB    NOT NULL
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    ",
];

/// The newest schema this build understands.
pub(super) fn supported_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// Sets the pragmas, checks the file, and migrates it to [`supported_version`].
pub(super) fn prepare(
    conn: &mut Connection,
    path: &Path,
    on_disk: bool,
) -> Result<(), OutboxError> {
    let at_open = |source: rusqlite::Error| classify(path, source);
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(at_open)?;
    // The first statement reads the header: a file that is not a database fails here.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(at_open)?;
    if on_disk && !mode.eq_ignore_ascii_case("wal") {
        return Err(OutboxError::NotWal {
            path: path.to_owned(),
            mode,
        });
    }
    for (pragma, value) in [
        ("synchronous", "FULL"),
        ("secure_delete", "ON"),
        ("foreign_keys", "ON"),
    ] {
        conn.pragma_update(None, pragma, value).map_err(at_open)?;
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(at_open)?;
    if check != "ok" {
        return Err(OutboxError::Corrupt {
            path: path.to_owned(),
            detail: check,
        });
    }
    migrate(conn).map_err(|e| match e {
        Migration::TooNew(found) => OutboxError::TooNew {
            path: path.to_owned(),
            found,
            supported: supported_version(),
        },
        Migration::Sql(source) => classify(path, source),
    })
}

enum Migration {
    TooNew(u32),
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for Migration {
    fn from(e: rusqlite::Error) -> Migration {
        Migration::Sql(e)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), Migration> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             applied_at INTEGER NOT NULL
         )",
    )?;
    let current: u32 = conn
        .query_row("SELECT max(version) FROM schema_migrations", [], |row| {
            row.get::<_, Option<u32>>(0)
        })
        .optional()?
        .flatten()
        .unwrap_or(0);
    if current > supported_version() {
        return Err(Migration::TooNew(current));
    }
    for (version, sql) in (1u32..).zip(MIGRATIONS).skip(current as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at)
             VALUES (?1, CAST(strftime('%s', 'now') AS INTEGER))",
            [version],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// Names the file for the two failures an admin must act on; everything else is I/O.
fn classify(path: &Path, source: rusqlite::Error) -> OutboxError {
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => OutboxError::Corrupt {
            path: path.to_owned(),
            detail: source.to_string(),
        },
        _ => OutboxError::Open {
            path: path.to_owned(),
            source,
        },
    }
}

/// Copies the WAL back into the database and truncates it, so pages that held an erased secret
/// leave the WAL file too. Best effort: a busy reader only postpones it to the next checkpoint.
pub(super) fn checkpoint(conn: &Connection) {
    let result = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        row.get::<_, i64>(0)
    });
    if let Err(e) = result {
        log::warn!("outbox: WAL checkpoint failed (retried at the next terminal operation): {e}");
    }
}

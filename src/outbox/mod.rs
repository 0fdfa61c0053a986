//! The outbox: every directory write is recorded durably (SQLite, WAL, `synchronous=FULL`) before
//! it is applied, so a kiosk never loses what it promised and never says "done" before the directory
//! confirmed it. Owns the operations, their notification events ([`OutboxEvent`]) and the audit
//! chain ([`audit`]). Secrets are stored only sealed (XChaCha20-Poly1305, `seal.rs`) and erased once
//! an operation is terminal. It must not know about screens or LDAP: only [`Directory`].
//!
//! Lifecycle: `pending` → `applying` (leased to one sync step) → `applied` | `rejected` | `expired`,
//! or back to `pending` after a transient failure; an admin may `purge` a pending one.
//! Files: `model.rs` (data), `schema.rs` (file, migrations), `sync.rs` (one step), `retry.rs`
//! (pure backoff), `admin.rs` (list, retry, purge, events), `audit.rs` (hash chain), `report.rs`
//! (what the admin commands print).

mod admin;
pub mod audit;
mod model;
pub mod report;
pub mod retry;
mod schema;
mod seal;
mod sync;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension as _, Transaction, TransactionBehavior, params};

#[cfg(doc)]
use crate::directory::Directory;
use crate::secret::Secret;

pub use audit::{AuditEntry, AuditError, AuditLog, BrokenLink, ChainHead, LinkFault};
pub use model::{
    Kind, NewOperation, OperationSummary, OutboxEvent, OutboxPolicy, Outcome, Queued, State,
    new_reference,
};
pub use retry::RetryPolicy;
pub use sync::{Applied, SyncOutcome, UNCONFIRMED, UNREADABLE};

use seal::{Payload, SealingKey};

/// What went wrong; each variant says what happens next.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The file cannot be opened or created (missing directory, permissions, disk): the agent cannot
    /// record operations and must not start (OutOfService).
    #[error("cannot open the outbox database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The file cannot be created (the data directory is missing, read-only or full): the agent
    /// cannot record operations and must not start (OutOfService).
    #[error("cannot create the outbox database {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    /// There is no outbox file at `path` (admin commands never create one): nothing was read.
    /// Check `site.data_dir` and whether the agent has started on this machine.
    #[error("no outbox at {}: has the agent run on this kiosk?", .path.display())]
    Missing { path: PathBuf },
    /// Not a database, or damaged: the agent refuses to start. Move the file aside (keep it for
    /// investigation) and restart to begin with an empty outbox.
    #[error(
        "the outbox database {path} is corrupt ({detail}): move it aside and restart; queued \
         operations in it are lost"
    )]
    Corrupt { path: PathBuf, detail: String },
    /// Written by a newer sspr-kiosk: refused rather than misread. Upgrade this kiosk again.
    #[error(
        "the outbox database {path} has schema version {found}, newer than this build supports \
         ({supported}): it was written by a newer sspr-kiosk; install that version again"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// The file system refused WAL mode (e.g. a network file system): the agent refuses to start.
    #[error(
        "the outbox database {path} cannot use WAL mode (got `{mode}`): use a local file system"
    )]
    NotWal { path: PathBuf, mode: String },
    /// The device key cannot key the outbox: the agent refuses to start until it is fixed.
    #[error("the device key cannot be used to seal outbox secrets")]
    DeviceKey,
    /// Encryption failed: nothing was stored; the session reports the write as failed.
    #[error("sealing the operation's secret failed; nothing was stored")]
    Seal,
    /// A bug in the caller (e.g. a reset without a password): nothing was stored.
    #[error("invalid outbox operation: {0}")]
    InvalidOperation(&'static str),
    /// Reading or writing failed (disk full, read-only, I/O): nothing changed. The caller must not
    /// report the operation as queued; the kiosk goes out of service.
    #[error("outbox storage failed: {0}")]
    Storage(#[from] rusqlite::Error),
    /// No operation (or event) with this id: nothing changed.
    #[error("no outbox operation or event {0}")]
    NotFound(i64),
    /// The admin action needs a pending operation: nothing changed.
    #[error("outbox operation {id} is {state}, not pending")]
    NotPending { id: i64, state: &'static str },
    /// This sync step's lease ran out and another step took the operation over: this step's answer
    /// is dropped; the other step's decides.
    #[error("outbox operation {0} was taken over by another sync step")]
    LeaseLost(i64),
}

/// The outbox database. One per kiosk; cheap to share (`&Outbox` is `Sync`).
#[derive(Debug)]
pub struct Outbox {
    conn: Mutex<Connection>,
    key: SealingKey,
    policy: OutboxPolicy,
}

impl Outbox {
    /// Opens (creating if needed, mode 0600) and migrates the database at `path`, e.g.
    /// `<data_dir>/outbox.db`.
    pub fn open(path: &Path, device_key: &Secret) -> Result<Outbox, OutboxError> {
        create_private(path).map_err(|source| OutboxError::Create {
            path: path.to_owned(),
            source,
        })?;
        let mut conn = Connection::open(path).map_err(|source| OutboxError::Open {
            path: path.to_owned(),
            source,
        })?;
        schema::prepare(&mut conn, path, true)?;
        Outbox::with_connection(conn, device_key)
    }

    /// Opens and migrates the database at `path` like [`Outbox::open`], but never creates it:
    /// `Err(Missing)` if there is no file (admin commands must not leave an empty outbox behind).
    pub fn open_existing(path: &Path, device_key: &Secret) -> Result<Outbox, OutboxError> {
        if !path.is_file() {
            return Err(OutboxError::Missing {
                path: path.to_owned(),
            });
        }
        // Without SQLITE_OPEN_CREATE: a file removed since the check is an error, not a new outbox.
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn =
            Connection::open_with_flags(path, flags).map_err(|source| OutboxError::Open {
                path: path.to_owned(),
                source,
            })?;
        schema::prepare(&mut conn, path, true)?;
        Outbox::with_connection(conn, device_key)
    }

    /// A private in-memory outbox (no WAL, nothing durable): for tests.
    pub fn in_memory(device_key: &Secret) -> Result<Outbox, OutboxError> {
        let path = Path::new(":memory:");
        let mut conn = Connection::open_in_memory().map_err(|source| OutboxError::Open {
            path: path.to_owned(),
            source,
        })?;
        schema::prepare(&mut conn, path, false)?;
        Outbox::with_connection(conn, device_key)
    }

    fn with_connection(conn: Connection, device_key: &Secret) -> Result<Outbox, OutboxError> {
        Ok(Outbox {
            conn: Mutex::new(conn),
            key: SealingKey::derive(device_key).map_err(|_| OutboxError::DeviceKey)?,
            policy: OutboxPolicy::default(),
        })
    }

    /// Replaces the default ages, retry and lease policy.
    pub fn with_policy(mut self, policy: OutboxPolicy) -> Outbox {
        self.policy = policy;
        self
    }

    pub fn policy(&self) -> &OutboxPolicy {
        &self.policy
    }

    /// The schema version this build writes.
    pub fn schema_version() -> u32 {
        schema::supported_version()
    }

    /// A poisoned lock only means another thread panicked between statements; SQLite rolled its
    /// transaction back, so the connection is still consistent.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `op` durably (fsync'd) and returns what the receipt shows. Only after this returns
    /// `Ok` may the kiosk say "queued".
    pub fn enqueue(&self, op: NewOperation) -> Result<Queued, OutboxError> {
        let payload = match (op.kind, op.new_password, op.registration_blob) {
            (Kind::Unlock, None, None) => None,
            (Kind::Reset | Kind::ResetAndUnlock, Some(password), None) if !password.is_empty() => {
                Some(Payload::Password(password))
            }
            (Kind::Reset | Kind::ResetAndUnlock, _, _) => {
                return Err(OutboxError::InvalidOperation(
                    "a reset needs exactly a new password",
                ));
            }
            (Kind::Registration, None, blob) => Some(Payload::Registration(blob.map(Secret::new))),
            _ => {
                return Err(OutboxError::InvalidOperation(
                    "this kind carries no password",
                ));
            }
        };
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                "SELECT id, reference, expires_at FROM outbox_operations WHERE idempotency_key = ?1",
                [&op.idempotency_key],
                |row| Ok((row.get(0)?, row.get(1)?, row.get::<_, i64>(2)?)),
            )
            .optional()?;
        if let Some((id, reference, expires_at)) = existing {
            return Ok(Queued {
                id,
                reference,
                expires_at: from_db(expires_at),
                existing: true,
            });
        }
        let sealed = payload
            .map(|p| seal::seal(&self.key, &p, &op.idempotency_key, op.kind, op.dn.as_str()))
            .transpose()
            .map_err(|_| OutboxError::Seal)?;
        let reference = op.reference.unwrap_or_else(new_reference);
        let expires_at = op.now.saturating_add(self.policy.max_age_ms(op.kind));
        tx.execute(
            "INSERT INTO outbox_operations (idempotency_key, reference, kind, dn, user_key, sealed,
                 state, created_at, expires_at, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?7)",
            params![
                op.idempotency_key,
                reference,
                op.kind.as_str(),
                op.dn.as_str(),
                op.user_key,
                sealed,
                to_db(op.now),
                to_db(expires_at),
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Queued {
            id,
            reference,
            expires_at,
            existing: false,
        })
    }
}

/// Ends operation `id` with `outcome`: erases the sealed secret (overwritten on disk:
/// `secure_delete`), and records the event the notifier will pick up. Part of the caller's
/// transaction.
fn finish(
    tx: &Transaction<'_>,
    id: i64,
    outcome: &Outcome,
    now: u64,
    error: Option<&str>,
) -> rusqlite::Result<()> {
    let (code, maybe_applied) = match outcome {
        Outcome::Applied => (None, false),
        Outcome::Rejected { code } => (Some(code.as_str()), false),
        Outcome::Expired { maybe_applied } | Outcome::Purged { maybe_applied } => {
            (None, *maybe_applied)
        }
    };
    let state = outcome.state().as_str();
    tx.execute(
        "UPDATE outbox_operations SET state = ?2, sealed = NULL, lease_until = NULL,
             finished_at = ?3, outcome_code = ?4, maybe_applied = ?5,
             last_error = coalesce(?6, last_error)
         WHERE id = ?1",
        params![id, state, to_db(now), code, maybe_applied, error],
    )?;
    tx.execute(
        "INSERT INTO outbox_events (operation_id, reference, kind, dn, outcome, code, maybe_applied,
             at)
         SELECT id, reference, kind, dn, ?2, ?3, ?4, ?5 FROM outbox_operations WHERE id = ?1",
        params![id, state, code, maybe_applied, to_db(now)],
    )?;
    Ok(())
}

/// Creates the file readable by its owner only before SQLite does (the WAL and shared-memory files
/// take the database file's permissions).
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// SQLite integers are signed; milliseconds since 1970 fit for the next 290 million years.
fn to_db(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn from_db(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0)
}

fn bad_value(column: usize, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unknown value `{value}`").into(),
    )
}

#[cfg(test)]
mod tests;

//! What admins and the notifier do with the outbox: list operations (never a secret), make a pending
//! one due now, purge one, read and acknowledge notification events, check the file's integrity.
//! Must not apply anything to the directory: that is `sync.rs`'s job alone.

use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior};

use crate::directory::Dn;

use super::{
    Kind, OperationSummary, Outbox, OutboxError, OutboxEvent, Outcome, State, bad_value, finish,
    from_db, schema, to_db,
};

impl Outbox {
    /// Every operation, newest first (admin listing; no secrets).
    pub fn list(&self) -> Result<Vec<OperationSummary>, OutboxError> {
        let conn = self.conn();
        let mut statement = conn.prepare(&format!("{SUMMARY} ORDER BY id DESC"))?;
        let rows = statement.query_map([], summary)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// One operation, if it exists.
    pub fn operation(&self, id: i64) -> Result<Option<OperationSummary>, OutboxError> {
        let conn = self.conn();
        Ok(conn
            .query_row(&format!("{SUMMARY} WHERE id = ?1"), [id], summary)
            .optional()?)
    }

    /// Makes a pending operation due now (skips its backoff). Its expiry is unchanged.
    pub fn retry(&self, id: i64) -> Result<(), OutboxError> {
        let conn = self.conn();
        let state = state_of(&conn, id)?;
        if state != State::Pending {
            return Err(OutboxError::NotPending {
                id,
                state: state.as_str(),
            });
        }
        conn.execute(
            "UPDATE outbox_operations SET next_attempt_at = 0 WHERE id = ?1 AND state = 'pending'",
            [id],
        )?;
        Ok(())
    }

    /// Cancels an operation that has not applied: erases its secret, marks it `purged` and records
    /// an event (the person was told "queued" and must learn it will not happen). An operation
    /// being applied right now (lease not run out) cannot be purged.
    pub fn purge(&self, id: i64, now: u64) -> Result<(), OutboxError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (state, lease_until, maybe_applied) = tx
            .query_row(
                "SELECT state, lease_until, maybe_applied FROM outbox_operations WHERE id = ?1",
                [id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, bool>(2)?,
                    ))
                },
            )
            .optional()?
            .ok_or(OutboxError::NotFound(id))?;
        let state = State::parse(&state).ok_or(OutboxError::NotFound(id))?;
        let stale_lease = state == State::Applying && lease_until.is_some_and(|t| t <= to_db(now));
        if state != State::Pending && !stale_lease {
            return Err(OutboxError::NotPending {
                id,
                state: state.as_str(),
            });
        }
        let outcome = Outcome::Purged {
            maybe_applied: maybe_applied || stale_lease,
        };
        finish(&tx, id, &outcome, now, Some("purged by an administrator"))?;
        tx.commit()?;
        schema::checkpoint(&conn);
        Ok(())
    }

    /// Terminal transitions not yet handed to the notifier, oldest first.
    pub fn pending_events(&self) -> Result<Vec<OutboxEvent>, OutboxError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT id, operation_id, reference, kind, dn, outcome, code, maybe_applied, at
             FROM outbox_events WHERE delivered = 0 ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            let kind: String = row.get(3)?;
            let outcome: String = row.get(5)?;
            let code: Option<String> = row.get(6)?;
            let maybe_applied: bool = row.get(7)?;
            Ok(OutboxEvent {
                id: row.get(0)?,
                operation_id: row.get(1)?,
                reference: row.get(2)?,
                kind: Kind::parse(&kind).ok_or_else(|| bad_value(3, &kind))?,
                dn: Dn::new(row.get::<_, String>(4)?),
                outcome: match outcome.as_str() {
                    "applied" => Outcome::Applied,
                    "rejected" => Outcome::Rejected {
                        code: code.unwrap_or_default(),
                    },
                    "expired" => Outcome::Expired { maybe_applied },
                    "purged" => Outcome::Purged { maybe_applied },
                    other => return Err(bad_value(5, other)),
                },
                at: from_db(row.get(8)?),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The notifier has handed event `id` on; it is not returned again.
    pub fn mark_delivered(&self, id: i64) -> Result<(), OutboxError> {
        let changed = self
            .conn()
            .execute("UPDATE outbox_events SET delivered = 1 WHERE id = ?1", [id])?;
        if changed == 0 {
            return Err(OutboxError::NotFound(id));
        }
        Ok(())
    }

    /// `PRAGMA integrity_check`: `Err(Corrupt)` names what is damaged.
    pub fn integrity_check(&self) -> Result<(), OutboxError> {
        let conn = self.conn();
        let result: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        if result == "ok" {
            return Ok(());
        }
        Err(OutboxError::Corrupt {
            path: conn.path().unwrap_or(":memory:").into(),
            detail: result,
        })
    }
}

const SUMMARY: &str = "SELECT id, reference, kind, dn, user_key, state, created_at, expires_at,
        next_attempt_at, attempts, maybe_applied, last_error, outcome_code, sealed IS NOT NULL
    FROM outbox_operations";

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<OperationSummary> {
    let kind: String = row.get(2)?;
    let state: String = row.get(5)?;
    Ok(OperationSummary {
        id: row.get(0)?,
        reference: row.get(1)?,
        kind: Kind::parse(&kind).ok_or_else(|| bad_value(2, &kind))?,
        dn: Dn::new(row.get::<_, String>(3)?),
        user_key: row.get(4)?,
        state: State::parse(&state).ok_or_else(|| bad_value(5, &state))?,
        created_at: from_db(row.get(6)?),
        expires_at: from_db(row.get(7)?),
        next_attempt_at: from_db(row.get(8)?),
        attempts: row.get(9)?,
        maybe_applied: row.get(10)?,
        last_error: row.get(11)?,
        outcome_code: row.get(12)?,
        holds_secret: row.get(13)?,
    })
}

fn state_of(conn: &Connection, id: i64) -> Result<State, OutboxError> {
    let state: String = conn
        .query_row(
            "SELECT state FROM outbox_operations WHERE id = ?1",
            [id],
            |row| row.get(0),
        )
        .optional()?
        .ok_or(OutboxError::NotFound(id))?;
    State::parse(&state).ok_or(OutboxError::NotFound(id))
}

//! One sync step: [`Outbox::sync_once`] handles at most one operation per call, so the worker loop
//! and tests drain the queue deterministically. It claims the row durably (`applying`, leased)
//! before calling the directory and settles it afterwards; the database lock is never held across
//! the directory call. Must not retry in a loop of its own or sleep: the caller owns time.
//!
//! Re-applying after a crash or an uncertain answer is harmless: unlock and registration writes are
//! idempotent, and a reset the directory refuses on the second try is confirmed by binding with it.

use rand::Rng as _;
use rusqlite::{OptionalExtension as _, TransactionBehavior, named_params, params};

use crate::directory::{BindFailure, Directory, DirectoryError, Dn};
use crate::secret::Secret;

use super::seal::{self, Payload};
use super::{Kind, Outbox, OutboxError, Outcome, finish, schema, to_db};

/// [`Outcome::Rejected`] code: the directory refused a re-applied reset (history or minimum age),
/// which an earlier, interrupted attempt of this very operation may have caused, and binding with
/// the new password could not tell (e.g. the account is locked). The person is told to try the new
/// password and to ask the helpdesk if it does not work.
pub const UNCONFIRMED: &str = "outbox.unconfirmed";
/// [`Outcome::Rejected`] code: the stored secret does not open with this kiosk's device key (the key
/// was replaced) or is damaged. The person has to start again.
pub const UNREADABLE: &str = "outbox.unreadable";

/// What one sync step did to one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub id: i64,
    pub reference: String,
    pub kind: Kind,
    pub dn: Dn,
    pub outcome: SyncOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Terminal; an [`super::OutboxEvent`] was recorded in the same transaction.
    Finished(Outcome),
    /// The directory could not be reached: the operation stays pending until `next_attempt_at`.
    Retrying {
        attempts: u32,
        next_attempt_at: u64,
        /// The [`crate::directory::MessageCode`] of the failure.
        code: String,
    },
}

/// The row a step is about.
struct Head {
    id: i64,
    reference: String,
    kind: Kind,
    dn: Dn,
    /// An earlier attempt may have reached the directory (transient failure, or a step that died
    /// while `applying`).
    maybe_applied: bool,
}

impl Head {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Head> {
        let kind: String = row.get(2)?;
        Ok(Head {
            id: row.get(0)?,
            reference: row.get(1)?,
            kind: Kind::parse(&kind).ok_or_else(|| super::bad_value(2, &kind))?,
            dn: Dn::new(row.get::<_, String>(3)?),
            maybe_applied: row.get(4)?,
        })
    }

    fn into_applied(self, outcome: SyncOutcome) -> Applied {
        Applied {
            id: self.id,
            reference: self.reference,
            kind: self.kind,
            dn: self.dn,
            outcome,
        }
    }
}

/// A claimed operation: `applying`, leased to this step, payload opened.
pub(super) struct Job {
    head: Head,
    attempts: u32,
    payload: Option<Payload>,
}

pub(super) enum Claim {
    /// Expired, or unreadable: finished without asking the directory.
    Done(Applied),
    Due(Job),
}

enum Verdict {
    Applied,
    Unconfirmed,
    Unreadable,
}

/// Not yet terminal and not held by a live step.
const CLAIMABLE: &str = "(o.state = 'pending' OR (o.state = 'applying' AND o.lease_until <= :now))";
const HEAD: &str = "o.id, o.reference, o.kind, o.dn, (o.state = 'applying' OR o.maybe_applied)";

impl Outbox {
    /// Handles one operation: expires the oldest one past its age, or else applies the oldest due
    /// one whose user has no earlier unfinished operation. `Ok(None)`: nothing to do until later.
    /// `Err`: the database failed (nothing changed) or this step lost its lease.
    pub async fn sync_once<D: Directory>(
        &self,
        directory: &D,
        now: u64,
    ) -> Result<Option<Applied>, OutboxError> {
        let job = match self.claim(now)? {
            None => return Ok(None),
            Some(Claim::Done(done)) => return Ok(Some(done)),
            Some(Claim::Due(job)) => job,
        };
        let answer = apply(directory, &job).await;
        let jitter: u64 = rand::rng().random();
        self.settle(job, answer, now, jitter).map(Some)
    }

    pub(super) fn claim(&self, now: u64) -> Result<Option<Claim>, OutboxError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now_db = to_db(now);
        // Expiry first: an operation past its age is never applied, even when due.
        let expired = tx
            .query_row(
                &format!(
                    "SELECT {HEAD} FROM outbox_operations o
                     WHERE o.expires_at <= :now AND {CLAIMABLE} ORDER BY o.id LIMIT 1"
                ),
                named_params! { ":now": now_db },
                Head::from_row,
            )
            .optional()?;
        let done = if let Some(head) = expired {
            let outcome = Outcome::Expired {
                maybe_applied: head.maybe_applied,
            };
            finish(
                &tx,
                head.id,
                &outcome,
                now,
                Some("expired before it could be applied"),
            )?;
            head.into_applied(SyncOutcome::Finished(outcome))
        } else {
            let due = tx
                .query_row(
                    &format!(
                        "SELECT {HEAD}, o.sealed, o.idempotency_key, o.attempts
                         FROM outbox_operations o
                         WHERE {CLAIMABLE} AND o.next_attempt_at <= :now
                           AND NOT EXISTS (
                               SELECT 1 FROM outbox_operations e
                               WHERE e.user_key = o.user_key AND e.id < o.id
                                 AND e.state IN ('pending', 'applying'))
                         ORDER BY o.id LIMIT 1"
                    ),
                    named_params! { ":now": now_db },
                    |row| {
                        Ok((
                            Head::from_row(row)?,
                            row.get::<_, Option<Vec<u8>>>(5)?,
                            row.get::<_, String>(6)?,
                            row.get::<_, u32>(7)?,
                        ))
                    },
                )
                .optional()?;
            let Some((head, sealed, idempotency_key, attempts)) = due else {
                return Ok(None);
            };
            let payload = match &sealed {
                Some(bytes) => seal::open(
                    &self.key,
                    bytes,
                    &idempotency_key,
                    head.kind,
                    head.dn.as_str(),
                )
                .ok()
                .filter(|p| p.fits(head.kind)),
                None => None,
            };
            if payload.is_some() || (sealed.is_none() && head.kind == Kind::Unlock) {
                let attempts = attempts.saturating_add(1);
                tx.execute(
                    "UPDATE outbox_operations
                     SET state = 'applying', attempts = ?2, lease_until = ?3, maybe_applied = ?4
                     WHERE id = ?1",
                    params![
                        head.id,
                        attempts,
                        to_db(now.saturating_add(self.policy.lease_ms)),
                        head.maybe_applied
                    ],
                )?;
                tx.commit()?;
                return Ok(Some(Claim::Due(Job {
                    head,
                    attempts,
                    payload,
                })));
            }
            let outcome = Outcome::Rejected {
                code: UNREADABLE.to_owned(),
            };
            let why = "the stored secret does not open with this device key";
            finish(&tx, head.id, &outcome, now, Some(why))?;
            head.into_applied(SyncOutcome::Finished(outcome))
        };
        tx.commit()?;
        schema::checkpoint(&conn);
        log_step(&done);
        Ok(Some(Claim::Done(done)))
    }

    fn settle(
        &self,
        job: Job,
        answer: Result<Verdict, DirectoryError>,
        now: u64,
        jitter: u64,
    ) -> Result<Applied, OutboxError> {
        let Job { head, attempts, .. } = job;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Fencing: only the step whose claim (attempt number) still stands may settle.
        let held: bool = tx
            .query_row(
                "SELECT state = 'applying' AND attempts = ?2 FROM outbox_operations WHERE id = ?1",
                params![head.id, attempts],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(false);
        if !held {
            return Err(OutboxError::LeaseLost(head.id));
        }
        let (outcome, why) = match answer {
            Ok(Verdict::Applied) => (Outcome::Applied, None),
            Ok(Verdict::Unconfirmed) => (
                rejected(UNCONFIRMED),
                Some(
                    "the directory refused the re-applied password; binding could not confirm it"
                        .into(),
                ),
            ),
            Ok(Verdict::Unreadable) => (rejected(UNREADABLE), Some("payload does not fit".into())),
            Err(e) if e.is_transient() => {
                let next_attempt_at = self.policy.retry.next_attempt(attempts, now, jitter);
                tx.execute(
                    "UPDATE outbox_operations SET state = 'pending', lease_until = NULL,
                         next_attempt_at = ?2, maybe_applied = 1, last_error = ?3
                     WHERE id = ?1",
                    params![head.id, to_db(next_attempt_at), e.to_string()],
                )?;
                tx.commit()?;
                let applied = head.into_applied(SyncOutcome::Retrying {
                    attempts,
                    next_attempt_at,
                    code: e.code().as_str().to_owned(),
                });
                log_step(&applied);
                return Ok(applied);
            }
            Err(e) => (rejected(e.code().as_str()), Some(e.to_string())),
        };
        finish(&tx, head.id, &outcome, now, why.as_deref())?;
        tx.commit()?;
        schema::checkpoint(&conn);
        let applied = head.into_applied(SyncOutcome::Finished(outcome));
        log_step(&applied);
        Ok(applied)
    }
}

fn rejected(code: &str) -> Outcome {
    Outcome::Rejected {
        code: code.to_owned(),
    }
}

/// The journal line for a step: reference, kind, DN and outcome; never a secret.
fn log_step(applied: &Applied) {
    let Applied {
        id,
        reference,
        kind,
        dn,
        outcome,
    } = applied;
    let kind = kind.as_str();
    match outcome {
        SyncOutcome::Finished(outcome) => {
            log::info!("outbox: {kind} {id} (ref {reference}) for {dn}: {outcome:?}");
        }
        SyncOutcome::Retrying { attempts, code, .. } => {
            log::warn!("outbox: {kind} {id} (ref {reference}) for {dn}: {code}, attempt {attempts}")
        }
    }
}

async fn apply<D: Directory>(directory: &D, job: &Job) -> Result<Verdict, DirectoryError> {
    let dn = &job.head.dn;
    match (job.head.kind, &job.payload) {
        (Kind::Unlock, None) => directory.unlock(dn).await.map(|()| Verdict::Applied),
        (kind @ (Kind::Reset | Kind::ResetAndUnlock), Some(Payload::Password(password))) => {
            let unlock = kind == Kind::ResetAndUnlock;
            match directory.reset_password(dn, password, unlock).await {
                Ok(()) => Ok(Verdict::Applied),
                Err(refusal @ DirectoryError::PasswordRejected { .. })
                    if job.head.maybe_applied =>
                {
                    confirm(directory, dn, password, unlock, refusal).await
                }
                Err(e) => Err(e),
            }
        }
        (Kind::Registration, Some(Payload::Registration(blob))) => directory
            .write_registration(dn, blob.as_ref().map(Secret::expose))
            .await
            .map(|()| Verdict::Applied),
        _ => Ok(Verdict::Unreadable),
    }
}

/// An earlier attempt of this operation may already have set this very password, so the
/// directory's refusal (history, minimum age — AD's `0000052D` does not say which) may be about our
/// own write. Rather than guess, bind with the password: it works only if it is the current one.
/// The price is one extra bind, which counts as a failed logon in the rare case of a genuine
/// refusal.
async fn confirm<D: Directory>(
    directory: &D,
    dn: &Dn,
    password: &Secret,
    unlock: bool,
    refusal: DirectoryError,
) -> Result<Verdict, DirectoryError> {
    let mut bind = directory.verify_password(dn, password).await;
    if unlock
        && matches!(
            bind,
            Err(DirectoryError::UserBind {
                reason: BindFailure::Locked,
                ..
            })
        )
    {
        // The interrupted attempt reset without unlocking: finish what was asked, then check.
        directory.unlock(dn).await?;
        bind = directory.verify_password(dn, password).await;
    }
    match bind {
        // Expired / must change: the directory accepted the password before judging its age.
        Ok(())
        | Err(DirectoryError::UserBind {
            reason: BindFailure::Expired | BindFailure::MustChange,
            ..
        }) => Ok(Verdict::Applied),
        Err(DirectoryError::UserBind {
            reason: BindFailure::WrongPassword,
            ..
        }) => Err(refusal),
        Err(e) if e.is_transient() => Err(e),
        Err(_) => Ok(Verdict::Unconfirmed),
    }
}

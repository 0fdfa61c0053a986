//! The audit chain: one record per attempt (kiosk, claimed user, methods, outcome, reference, time;
//! never a secret) in the outbox database, each row carrying the previous row's hash and
//! `hash = SHA-256(prev_hash ‖ canonical JSON of the record)`. [`AuditLog::verify`] points at the
//! first broken link; [`AuditLog::export_since`] gives JSON lines an auditor can re-hash. Rows are
//! never updated or deleted (triggers refuse it); journaling the record is the agent's job.

use std::fmt;

use rusqlite::{OptionalExtension as _, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Outbox, OutboxError, from_db, to_db};

/// The hash the first record chains to.
const GENESIS: [u8; 32] = [0; 32];

/// One audit record. Fields are declared in lexicographic order on purpose: the canonical JSON is
/// serde_json's compact form of this struct (keys sorted, no whitespace), whatever serde_json's
/// map features. A new field must be inserted in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// What the person claimed to be (as the agent decided to record it: plain or keyed hash).
    pub claimed: String,
    pub kiosk_id: String,
    /// The verification methods passed, by name.
    pub methods: Vec<String>,
    pub outcome: String,
    pub reference: String,
    /// Milliseconds since the Unix epoch.
    pub time: u64,
}

impl AuditEntry {
    /// The exact bytes that are hashed.
    pub fn canonical_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: u64,
    pub reason: LinkFault,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFault {
    /// Sequence numbers jump: records before this one were removed.
    Gap { expected: u64 },
    /// This record does not carry the previous record's hash: the one before was altered or
    /// replaced.
    PrevHash,
    /// The record's content does not match its hash: this record was altered.
    Hash,
}

impl fmt::Display for LinkFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkFault::Gap { expected } => write!(f, "record {expected} is missing"),
            LinkFault::PrevHash => f.write_str("it does not carry the previous record's hash"),
            LinkFault::Hash => f.write_str("its content does not match its hash (altered)"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The chain is broken: records from `seq` on cannot be trusted. Keep the database for
    /// investigation; `sspr-kiosk audit verify` exits non-zero.
    #[error("the audit chain is broken at record {}: {}", .0.seq, .0.reason)]
    BrokenLink(BrokenLink),
    /// The database could not be read: nothing was checked.
    #[error(transparent)]
    Storage(#[from] OutboxError),
}

impl From<rusqlite::Error> for AuditError {
    fn from(e: rusqlite::Error) -> AuditError {
        AuditError::Storage(OutboxError::Storage(e))
    }
}

/// The end of a verified chain. Keep `last_hash` elsewhere (an export, the admin API): a chain
/// alone cannot reveal a truncated tail or a wholesale rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub records: u64,
    pub last_seq: u64,
    /// Hex; the genesis hash (64 zeros) for an empty log.
    pub last_hash: String,
}

/// The audit chain of an [`Outbox`].
#[derive(Debug, Clone, Copy)]
pub struct AuditLog<'a> {
    outbox: &'a Outbox,
}

impl Outbox {
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog { outbox: self }
    }
}

impl AuditLog<'_> {
    /// Appends `entry` durably and returns its sequence number (1, 2, …).
    pub fn append(&self, entry: &AuditEntry) -> Result<u64, OutboxError> {
        let record = entry
            .canonical_json()
            .map_err(|_| OutboxError::InvalidOperation("audit record cannot be serialised"))?;
        let mut conn = self.outbox.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let (seq, prev_hash) = match last {
            Some((seq, hash)) => (seq.saturating_add(1), hash),
            None => (1, GENESIS.to_vec()),
        };
        let hash = link_hash(&prev_hash, &record);
        tx.execute(
            "INSERT INTO audit_log (seq, time, record, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![seq, to_db(entry.time), record, prev_hash, hash.to_vec()],
        )?;
        tx.commit()?;
        Ok(from_db(seq))
    }

    /// Re-hashes the whole chain; the first broken link is reported.
    pub fn verify(&self) -> Result<ChainHead, AuditError> {
        let conn = self.outbox.conn();
        let mut statement =
            conn.prepare("SELECT seq, record, prev_hash, hash FROM audit_log ORDER BY seq")?;
        let mut rows = statement.query([])?;
        let mut expected_seq = 1u64;
        let mut previous = GENESIS.to_vec();
        let mut records = 0u64;
        while let Some(row) = rows.next()? {
            let seq = from_db(row.get(0)?);
            let record: String = row.get(1)?;
            let prev_hash: Vec<u8> = row.get(2)?;
            let hash: Vec<u8> = row.get(3)?;
            let broken = |reason| AuditError::BrokenLink(BrokenLink { seq, reason });
            if seq != expected_seq {
                return Err(broken(LinkFault::Gap {
                    expected: expected_seq,
                }));
            }
            if prev_hash != previous {
                return Err(broken(LinkFault::PrevHash));
            }
            if link_hash(&prev_hash, &record).as_slice() != hash.as_slice() {
                return Err(broken(LinkFault::Hash));
            }
            previous = hash;
            expected_seq = seq.saturating_add(1);
            records += 1;
        }
        Ok(ChainHead {
            records,
            last_seq: expected_seq - 1,
            last_hash: hex(&previous),
        })
    }

    /// Records after `seq` (0 for all), one JSON line each:
    /// `{"seq":…,"prev_hash":"<hex>","hash":"<hex>","record":<canonical JSON, verbatim>}` — the
    /// record is the exact hashed text, so an auditor can re-hash every line.
    pub fn export_since(&self, seq: u64) -> Result<Vec<String>, OutboxError> {
        let conn = self.outbox.conn();
        let mut statement = conn.prepare(
            "SELECT seq, record, prev_hash, hash FROM audit_log WHERE seq > ?1 ORDER BY seq",
        )?;
        let rows = statement.query_map([to_db(seq)], |row| {
            let seq: i64 = row.get(0)?;
            let record: String = row.get(1)?;
            let prev_hash: Vec<u8> = row.get(2)?;
            let hash: Vec<u8> = row.get(3)?;
            Ok(format!(
                r#"{{"seq":{seq},"prev_hash":"{}","hash":"{}","record":{record}}}"#,
                hex(&prev_hash),
                hex(&hash)
            ))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

fn link_hash(prev_hash: &[u8], record: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(record.as_bytes());
    hasher.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn entry(n: u64) -> AuditEntry {
        AuditEntry {
            claimed: format!("user{n}"),
            kiosk_id: "lobby-1".into(),
            methods: vec!["email".into(), "badge".into()],
            outcome: "Reset".into(),
            reference: format!("K7M-4QX{n}"),
            time: 1_700_000_000_000 + n,
        }
    }

    fn open(dir: &tempfile::TempDir) -> Outbox {
        Outbox::open(&dir.path().join("outbox.db"), &Secret::new("device-key")).unwrap()
    }

    fn raw(dir: &tempfile::TempDir) -> rusqlite::Connection {
        rusqlite::Connection::open(dir.path().join("outbox.db")).unwrap()
    }

    #[test]
    fn canonical_json_has_sorted_keys_and_no_whitespace() {
        assert_eq!(
            entry(1).canonical_json().unwrap(),
            r#"{"claimed":"user1","kiosk_id":"lobby-1","methods":["email","badge"],"outcome":"Reset","reference":"K7M-4QX1","time":1700000000001}"#
        );
    }

    #[test]
    fn the_chain_verifies_exports_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir);
        let empty = outbox.audit().verify().unwrap();
        assert_eq!((empty.records, empty.last_hash), (0, "0".repeat(64)));
        for n in 1..=5 {
            assert_eq!(outbox.audit().append(&entry(n)).unwrap(), n);
        }
        let head = outbox.audit().verify().unwrap();
        assert_eq!((head.records, head.last_seq), (5, 5));
        drop(outbox);

        let outbox = open(&dir);
        assert_eq!(outbox.audit().verify().unwrap(), head);
        assert_eq!(outbox.audit().append(&entry(6)).unwrap(), 6);
        let lines = outbox.audit().export_since(4).unwrap();
        assert_eq!(lines.len(), 2);
        // Every exported line re-hashes to its own hash and chains to the line before.
        let mut previous: Option<String> = None;
        for line in &lines {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let (_, rest) = line.split_once(r#""record":"#).unwrap();
            let record_text = &rest[..rest.len() - 1];
            let prev = value["prev_hash"].as_str().unwrap();
            let prev_bytes: Vec<u8> = (0..32)
                .map(|i| u8::from_str_radix(&prev[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            assert_eq!(hex(&link_hash(&prev_bytes, record_text)), value["hash"]);
            if let Some(p) = &previous {
                assert_eq!(p, prev);
            }
            previous = Some(value["hash"].as_str().unwrap().to_owned());
            let record: AuditEntry = serde_json::from_value(value["record"].clone()).unwrap();
            assert!(record.reference.starts_with("K7M-4QX"));
        }
        assert_eq!(
            previous.unwrap(),
            outbox.audit().verify().unwrap().last_hash
        );
        assert_eq!(outbox.audit().export_since(0).unwrap().len(), 6);
    }

    #[test]
    fn tampering_with_one_row_is_found_at_that_row() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir);
        for n in 1..=6 {
            outbox.audit().append(&entry(n)).unwrap();
        }
        drop(outbox);
        let tamper =
            "UPDATE audit_log SET record = replace(record, 'Reset', 'Abandoned') WHERE seq = 3";
        let db = raw(&dir);
        // The triggers refuse a plain edit …
        let refused = db.execute(tamper, []).unwrap_err();
        assert!(refused.to_string().contains("append-only"), "{refused}");
        // … but whoever holds the file can drop them; the chain still tells.
        db.execute_batch("DROP TRIGGER audit_log_no_update")
            .unwrap();
        db.execute(tamper, []).unwrap();
        drop(db);
        let err = open(&dir).audit().verify().unwrap_err();
        let AuditError::BrokenLink(link) = &err else {
            panic!("{err}")
        };
        assert_eq!(
            *link,
            BrokenLink {
                seq: 3,
                reason: LinkFault::Hash
            }
        );
        assert!(err.to_string().contains("record 3"), "{err}");

        // Re-hashing the altered row moves the break to the next link.
        let db = raw(&dir);
        let (record, prev): (String, Vec<u8>) = db
            .query_row(
                "SELECT record, prev_hash FROM audit_log WHERE seq = 3",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        db.execute(
            "UPDATE audit_log SET hash = ?1 WHERE seq = 3",
            [link_hash(&prev, &record).to_vec()],
        )
        .unwrap();
        drop(db);
        let err = open(&dir).audit().verify().unwrap_err();
        assert!(matches!(
            err,
            AuditError::BrokenLink(BrokenLink {
                seq: 4,
                reason: LinkFault::PrevHash
            })
        ));
    }

    #[test]
    fn a_removed_record_is_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir);
        for n in 1..=4 {
            outbox.audit().append(&entry(n)).unwrap();
        }
        drop(outbox);
        let db = raw(&dir);
        assert!(
            db.execute("DELETE FROM audit_log WHERE seq = 2", [])
                .is_err()
        );
        db.execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2;")
            .unwrap();
        drop(db);
        let err = open(&dir).audit().verify().unwrap_err();
        assert!(matches!(
            err,
            AuditError::BrokenLink(BrokenLink {
                seq: 3,
                reason: LinkFault::Gap { expected: 2 }
            })
        ));
    }
}

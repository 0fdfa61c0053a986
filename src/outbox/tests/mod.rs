//! Outbox tests on real on-disk SQLite files (one temporary directory each) with a small in-memory
//! directory double that can be switched to "unreachable", "rejects" or "applies, then times out".
//! `sync_steps`: what a sync step does; `storage`: the file, secrets at rest, admin actions, events.

mod storage;
mod sync_steps;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use super::*;
use crate::directory::{
    BindFailure, Directory, DirectoryError, Dn, Lookup, PasswordRejection, UserRecord,
};
use crate::secret::Secret;

const T0: u64 = 1_700_000_000_000;
const MINUTE: u64 = 60_000;
const ALICE: &str = "uid=alice,ou=people,dc=example,dc=com";
const BOB: &str = "uid=bob,ou=people,dc=example,dc=com";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Up,
    Unreachable,
    Rejects,
    /// The write lands, but the answer is lost (a timeout after sending).
    AppliesThenTimesOut,
}

#[derive(Debug, Default)]
struct Fake {
    mode: Mode,
    locked: HashSet<String>,
    /// Every password a user has had, the current one last.
    history: HashMap<String, Vec<String>>,
    registration: HashMap<String, Option<String>>,
    calls: Vec<String>,
}

#[derive(Debug, Default)]
struct FakeDirectory(Mutex<Fake>);

impl FakeDirectory {
    fn with_user(dn: &str, password: &str, locked: bool) -> FakeDirectory {
        let fake = FakeDirectory::default();
        {
            let mut f = fake.0.lock().unwrap();
            f.history.insert(dn.into(), vec![password.into()]);
            if locked {
                f.locked.insert(dn.into());
            }
        }
        fake
    }
    fn set(&self, mode: Mode) {
        self.0.lock().unwrap().mode = mode;
    }
    fn calls(&self) -> Vec<String> {
        self.0.lock().unwrap().calls.clone()
    }
    fn current_password(&self, dn: &str) -> Option<String> {
        self.0.lock().unwrap().history.get(dn)?.last().cloned()
    }
    fn passwords_set(&self, dn: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| *c == &format!("reset {dn}"))
            .count()
    }
    fn is_locked(&self, dn: &str) -> bool {
        self.0.lock().unwrap().locked.contains(dn)
    }
    /// A write as the current mode has it: refused, made (and answered), or made with the answer lost.
    fn write(
        &self,
        call: String,
        change: impl FnOnce(&mut Fake) -> Result<(), DirectoryError>,
    ) -> Result<(), DirectoryError> {
        let mut f = self.0.lock().unwrap();
        match f.mode {
            Mode::Unreachable => Err(unreachable()),
            Mode::Rejects => Err(DirectoryError::ProtectedAccount {
                dn: call,
                diagnostic: "adminCount=1".into(),
            }),
            Mode::Up | Mode::AppliesThenTimesOut => {
                change(&mut f)?;
                f.calls.push(call);
                if f.mode == Mode::AppliesThenTimesOut {
                    return Err(DirectoryError::Timeout {
                        operation: "write",
                        seconds: 5,
                    });
                }
                Ok(())
            }
        }
    }
}

fn unreachable() -> DirectoryError {
    DirectoryError::Unreachable {
        attempts: vec![(
            "ldaps://dc1.example.com".into(),
            "connection refused".into(),
        )],
    }
}

impl Directory for FakeDirectory {
    async fn find_user(&self, _: Lookup<'_>) -> Result<Option<UserRecord>, DirectoryError> {
        Ok(None)
    }

    async fn unlock(&self, user: &Dn) -> Result<(), DirectoryError> {
        self.write(format!("unlock {user}"), |f| {
            f.locked.remove(user.as_str());
            Ok(())
        })
    }

    async fn reset_password(
        &self,
        user: &Dn,
        new_password: &Secret,
        unlock: bool,
    ) -> Result<(), DirectoryError> {
        if self.0.lock().unwrap().mode == Mode::Rejects {
            return Err(DirectoryError::PasswordRejected {
                reason: PasswordRejection::TooSimple,
                diagnostic: "0000052D".into(),
            });
        }
        self.write(format!("reset {user}"), |f| {
            let history = f.history.entry(user.to_string()).or_default();
            if history.iter().any(|p| p == new_password.expose()) {
                return Err(DirectoryError::PasswordRejected {
                    reason: PasswordRejection::InHistory,
                    diagnostic: "0000052D".into(),
                });
            }
            history.push(new_password.expose().to_owned());
            if unlock {
                f.locked.remove(user.as_str());
            }
            Ok(())
        })
    }

    async fn change_password(&self, _: &Dn, _: &Secret, _: &Secret) -> Result<(), DirectoryError> {
        Err(DirectoryError::Other {
            rc: 53,
            diagnostic: "not used by the outbox".into(),
        })
    }

    async fn verify_password(&self, user: &Dn, password: &Secret) -> Result<(), DirectoryError> {
        let mut f = self.0.lock().unwrap();
        if f.mode == Mode::Unreachable {
            return Err(unreachable());
        }
        f.calls.push(format!("bind {user}"));
        let bind = |reason| DirectoryError::UserBind {
            reason,
            diagnostic: String::new(),
        };
        if f.locked.contains(user.as_str()) {
            return Err(bind(BindFailure::Locked));
        }
        match f.history.get(user.as_str()).and_then(|h| h.last()) {
            Some(current) if current == password.expose() => Ok(()),
            _ => Err(bind(BindFailure::WrongPassword)),
        }
    }

    async fn read_registration(&self, user: &Dn) -> Result<Option<String>, DirectoryError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .registration
            .get(user.as_str())
            .cloned()
            .flatten())
    }

    async fn write_registration(
        &self,
        user: &Dn,
        blob: Option<&str>,
    ) -> Result<(), DirectoryError> {
        self.write(format!("registration {user}"), |f| {
            f.registration
                .insert(user.to_string(), blob.map(str::to_owned));
            Ok(())
        })
    }
}

fn operation(kind: Kind, dn: &str, password: Option<&str>, key: &str, now: u64) -> NewOperation {
    NewOperation {
        kind,
        dn: Dn::new(dn),
        user_key: dn.to_lowercase(),
        new_password: password.map(Secret::new),
        registration_blob: None,
        idempotency_key: key.into(),
        reference: None,
        now,
    }
}

fn unlock(dn: &str, key: &str, now: u64) -> NewOperation {
    operation(Kind::Unlock, dn, None, key, now)
}

fn reset(dn: &str, password: &str, key: &str, now: u64) -> NewOperation {
    operation(Kind::Reset, dn, Some(password), key, now)
}

fn key() -> Secret {
    Secret::new("a-device-key-from-a-systemd-credential")
}

fn on_disk() -> (tempfile::TempDir, Outbox) {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(&dir.path().join("outbox.db"), &key()).unwrap();
    (dir, outbox)
}

fn reopen(dir: &tempfile::TempDir) -> Outbox {
    Outbox::open(&dir.path().join("outbox.db"), &key()).unwrap()
}

fn finished(applied: Option<Applied>) -> Outcome {
    match applied.map(|a| a.outcome) {
        Some(SyncOutcome::Finished(outcome)) => outcome,
        other => panic!("expected a terminal step, got {other:?}"),
    }
}

fn state(outbox: &Outbox, id: i64) -> OperationSummary {
    outbox.operation(id).unwrap().unwrap()
}

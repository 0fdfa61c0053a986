//! Runs the flow core's effects against the adapters and turns their results into events.
//! Every directory and delivery error is logged for the admin here and reduced to a message code for
//! the person; nothing here decides what the session does next.

use crate::config::kiosk::Method;
use crate::directory::BindFailure;
use crate::directory::{Directory, DirectoryError, Dn, Lookup};
use crate::flow::decoy;
use crate::flow::effect::{AccountRef, Action, AuditRecord, Claim, Effect};
use crate::flow::event::{ApplyOutcome, Event, LookupAnswer};

use super::Agent;
use super::sealed::{self, Stored};
use crate::outbox::{AuditEntry, Kind, NewOperation, State as OutboxState};

impl Agent {
    /// Runs one effect; returns the event that reports its result, if it has one.
    pub(crate) async fn run_effect(&self, effect: Effect) -> Option<Event> {
        match effect {
            Effect::LookUpUser { identifier } => Some(Event::UserLookedUp(Box::new(
                self.look_up(&identifier).await,
            ))),
            Effect::SendCode {
                method,
                destination,
                code,
                language,
            } => {
                let ok = match (method, &self.email) {
                    (Method::Email, Some(email)) => {
                        match email.send_code(&destination, &code, &language).await {
                            Ok(()) => true,
                            Err(e) => {
                                log::warn!("email code not sent: {e}");
                                false
                            }
                        }
                    }
                    (method, _) => {
                        log::warn!(
                            "cannot send a {} code: this version has no {} delivery configured",
                            method.name(),
                            method.name()
                        );
                        false
                    }
                };
                Some(Event::DeliveryAnswered { ok })
            }
            Effect::StartCall { destination, .. } => {
                // No voice provider in this version: the call never connects. Decoys wait the same.
                if destination.is_some() {
                    log::warn!("voice call requested but this version has no voice provider");
                }
                let wait = self
                    .settings
                    .delivery
                    .voice
                    .as_ref()
                    .map_or(30, |v| v.call_timeout_secs.min(30));
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                Some(Event::CallEnded { confirmed: false })
            }
            Effect::Apply {
                dn,
                action,
                new_password,
                reference,
            } => Some(Event::DirectoryAnswered(
                self.apply(dn, action, new_password, reference).await,
            )),
            Effect::ChangePassword {
                dn,
                current,
                new_password,
                reference,
            } => {
                let result = self
                    .directory
                    .change_password(&Dn::new(dn), &current, &new_password)
                    .await;
                Some(Event::DirectoryAnswered(apply_outcome(
                    result, "change", &reference,
                )))
            }
            Effect::VerifyPassword { dn, password } => {
                let ok = match self
                    .directory
                    .verify_password(&Dn::new(dn), &password)
                    .await
                {
                    Ok(()) => true,
                    Err(e) => {
                        log::info!("registration: current password not accepted: {e}");
                        false
                    }
                };
                Some(Event::PasswordVerified { ok })
            }
            Effect::WriteRegistration { dn, registration } => {
                let result = self
                    .update_stored(&dn, |s| s.registration = *registration)
                    .await;
                if result.is_ok() {
                    log::info!("registration stored for {dn}");
                }
                let outcome = match result {
                    Ok(()) => ApplyOutcome::Done,
                    Err(code) => ApplyOutcome::Failed(code),
                };
                Some(Event::DirectoryAnswered(outcome))
            }
            Effect::RecordFailure { account, counter } => {
                match account {
                    AccountRef::Person { dn } => {
                        let _ = self.update_stored(&dn, |s| s.failures = counter).await;
                    }
                    AccountRef::Decoy { key } => {
                        if let Ok(mut memory) = self.memory.lock() {
                            memory.decoy_failures.insert(key, counter);
                        }
                    }
                }
                None
            }
            Effect::ClearFailures { account } => {
                if let AccountRef::Person { dn } = account {
                    let _ = self.update_stored(&dn, |s| s.failures.reset()).await;
                }
                None
            }
            Effect::RememberSends { account, sends } => {
                let key = match account {
                    AccountRef::Person { dn } => dn.to_lowercase(),
                    AccountRef::Decoy { key } => key,
                };
                if let Ok(mut memory) = self.memory.lock() {
                    memory.sends.insert(key, sends);
                }
                None
            }
            Effect::RecordTotpStep { dn, step } => {
                let _ = self
                    .update_stored(&dn, |s| s.registration.totp_last_step = Some(step))
                    .await;
                None
            }
            Effect::Audit(record) => {
                self.audit(&record);
                None
            }
            Effect::Ignored => None,
        }
    }

    async fn look_up(&self, claim: &Claim) -> LookupAnswer {
        let lookup = match claim {
            Claim::Typed(text) => Lookup::Identifier(text),
            Claim::Badge(id) => Lookup::Badge(id),
        };
        match self.directory.find_user(lookup).await {
            Ok(Some(record)) => {
                let stored = record.registration.as_deref().map_or_else(Stored::default, |blob| {
                    sealed::open(blob, record.dn.as_str(), &self.seal_keys).unwrap_or_else(|e| {
                        log::error!("registration record of {} unusable: {e}; treated as not registered", record.dn);
                        Stored::default()
                    })
                });
                let sends = self
                    .memory
                    .lock()
                    .ok()
                    .and_then(|m| m.sends.get(&record.dn.as_str().to_lowercase()).cloned())
                    .unwrap_or_default();
                LookupAnswer::Found {
                    record,
                    registration: stored.registration,
                    failures: stored.failures,
                    sends,
                }
            }
            Ok(None) => {
                let key = decoy::decoy_key(&self.flow, claim.text());
                let memory = self.memory.lock().ok();
                let failures = memory
                    .as_ref()
                    .and_then(|m| m.decoy_failures.get(&key).cloned())
                    .unwrap_or_default();
                let sends = memory
                    .as_ref()
                    .and_then(|m| m.sends.get(&key).cloned())
                    .unwrap_or_default();
                LookupAnswer::NotFound { failures, sends }
            }
            Err(e) => {
                log::error!("directory lookup failed: {e}");
                LookupAnswer::Unavailable
            }
        }
    }

    /// Read-modify-write of a person's sealed record (failure counter, TOTP step, registration).
    /// A record that does not open (tampered, unknown key) is replaced. Errors are logged for the
    /// admin and returned as the message code the person would see.
    async fn update_stored(
        &self,
        dn: &str,
        change: impl FnOnce(&mut Stored),
    ) -> Result<(), String> {
        let Some(key) = self.seal_keys.first() else {
            log::error!("no keys.registration_key configured: the record of {dn} is not stored");
            return Err("service.not_possible_here".into());
        };
        let entry = Dn::new(dn);
        let mut stored = match self.directory.read_registration(&entry).await {
            Ok(Some(blob)) => sealed::open(&blob, dn, &self.seal_keys).unwrap_or_default(),
            Ok(None) => Stored::default(),
            Err(e) => {
                log::error!("cannot read the registration record of {dn}: {e}");
                return Err(e.code().as_str().to_owned());
            }
        };
        change(&mut stored);
        let blob = sealed::seal(&stored, dn, key).map_err(|e| {
            log::error!("cannot seal the registration record of {dn}: {e}");
            "service.not_possible_here".to_owned()
        })?;
        self.directory
            .write_registration(&entry, Some(&blob))
            .await
            .map_err(|e| {
                log::error!("cannot store the registration record of {dn}: {e}");
                e.code().as_str().to_owned()
            })
    }

    /// Records the write in the outbox (durably, password sealed), then tries the directory at once
    /// for up to the directory timeout. The receipt says done only when the directory confirmed it;
    /// queued when the directory could not be reached (the worker keeps trying).
    async fn apply(
        &self,
        dn: String,
        action: Action,
        new_password: Option<crate::secret::Secret>,
        reference: String,
    ) -> ApplyOutcome {
        let kind = match action {
            Action::Unlock => Kind::Unlock,
            Action::Reset => Kind::Reset,
            Action::ResetAndUnlock => Kind::ResetAndUnlock,
        };
        let mut nonce = [0u8; 8];
        rand::Rng::fill(&mut rand::rng(), &mut nonce);
        let operation = NewOperation {
            kind,
            dn: Dn::new(dn.clone()),
            user_key: dn.to_lowercase(),
            new_password,
            registration_blob: None,
            idempotency_key: format!(
                "{reference}:{}:{}",
                action.as_str(),
                u64::from_le_bytes(nonce)
            ),
            reference: Some(reference.clone()),
            now: super::now_ms(),
        };
        let queued = match self.outbox.enqueue(operation) {
            Ok(queued) => queued,
            Err(e) => {
                // Not recorded means not promised: the person is told it is not possible right now.
                log::error!(
                    "outbox: cannot record {} ref={reference}: {e}",
                    action.as_str()
                );
                return ApplyOutcome::Failed("service.not_possible_here".into());
            }
        };
        let deadline = tokio::time::Instant::now() + self.settings.directory.timeout;
        loop {
            match self.outbox.operation(queued.id) {
                Ok(Some(op)) => match op.state {
                    OutboxState::Applied => return ApplyOutcome::Done,
                    OutboxState::Rejected => {
                        let code = op
                            .outcome_code
                            .unwrap_or_else(|| "service.not_possible_here".into());
                        return if code.starts_with("password.") {
                            ApplyOutcome::PasswordRejected(code)
                        } else {
                            ApplyOutcome::Failed(code)
                        };
                    }
                    OutboxState::Expired | OutboxState::Purged => {
                        return ApplyOutcome::Failed("service.not_possible_here".into());
                    }
                    OutboxState::Pending if op.attempts > 0 => return ApplyOutcome::Queued,
                    OutboxState::Pending | OutboxState::Applying => {}
                },
                Ok(None) => return ApplyOutcome::Failed("service.not_possible_here".into()),
                Err(e) => {
                    log::error!("outbox: {e}");
                    return ApplyOutcome::Queued;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return ApplyOutcome::Queued;
            }
            // Apply due work now (ours, or an earlier write for the same person that must go first).
            match self
                .outbox
                .sync_once(&self.directory, super::now_ms())
                .await
            {
                Ok(Some(_)) => {}
                Ok(None) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                Err(e) => {
                    log::error!("outbox: {e}");
                    return ApplyOutcome::Queued;
                }
            }
        }
    }

    fn audit(&self, record: &AuditRecord) {
        // A claim that matched nobody may be a mistyped password: only its keyed hash is logged.
        let claimed = if record.real {
            record.claimed.clone()
        } else {
            format!(
                "unmatched#{}",
                &decoy::decoy_key(&self.flow, &record.claimed)[..12]
            )
        };
        let methods: Vec<&str> = record.methods_passed.iter().map(|m| m.name()).collect();
        let entry = AuditEntry {
            claimed: claimed.clone(),
            kiosk_id: self.settings.site.kiosk_id.to_string(),
            methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            outcome: format!("{:?}", record.outcome),
            reference: record.reference.clone(),
            time: super::now_ms(),
        };
        if let Err(e) = self.outbox.audit().append(&entry) {
            log::error!("audit record ref={} not stored: {e}", record.reference);
        }
        log::info!(
            target: "audit",
            "kiosk={} ref={} claimed={claimed} methods=[{}] outcome={:?}",
            self.settings.site.kiosk_id,
            record.reference,
            methods.join(","),
            record.outcome
        );
    }
}

/// What a directory write's result means for the receipt. Until the outbox exists, an unreachable
/// directory is an honest failure ("not possible right now"), never a false "done".
fn apply_outcome(result: Result<(), DirectoryError>, what: &str, reference: &str) -> ApplyOutcome {
    match result {
        Ok(()) => ApplyOutcome::Done,
        Err(e) => {
            log::warn!("{what} ref={reference} failed: {e}");
            match &e {
                DirectoryError::PasswordRejected { .. } => {
                    ApplyOutcome::PasswordRejected(e.code().as_str().to_owned())
                }
                DirectoryError::UserBind {
                    reason: BindFailure::WrongPassword,
                    ..
                } => ApplyOutcome::WrongPassword,
                _ => ApplyOutcome::Failed(e.code().as_str().to_owned()),
            }
        }
    }
}

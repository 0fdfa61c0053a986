//! Sync steps: apply once, back off, order per user, expire, reject, re-apply after a crash.

use super::*;

#[tokio::test]
async fn enqueue_then_sync_applies_exactly_once() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "Old-Password-1", true);
    let queued = outbox.enqueue(unlock(ALICE, "s1-unlock", T0)).unwrap();
    assert!(!queued.existing);
    assert_eq!(queued.expires_at, T0 + 24 * 60 * MINUTE);
    let queued_reset = outbox
        .enqueue(reset(ALICE, "New-Password-2", "s2-reset", T0))
        .unwrap();
    assert_eq!(queued_reset.expires_at, T0 + 15 * MINUTE);
    assert!(state(&outbox, queued_reset.id).holds_secret);

    let first = outbox.sync_once(&directory, T0).await.unwrap().unwrap();
    assert_eq!(
        (first.id, first.reference.as_str()),
        (queued.id, queued.reference.as_str())
    );
    assert_eq!(first.outcome, SyncOutcome::Finished(Outcome::Applied));
    assert_eq!(
        finished(outbox.sync_once(&directory, T0).await.unwrap()),
        Outcome::Applied
    );
    assert!(
        outbox
            .sync_once(&directory, T0 + 60 * MINUTE)
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(
        directory.calls(),
        [format!("unlock {ALICE}"), format!("reset {ALICE}")]
    );
    assert_eq!(directory.current_password(ALICE).unwrap(), "New-Password-2");
    assert!(!directory.is_locked(ALICE));
    let summary = state(&outbox, queued_reset.id);
    assert_eq!(
        (summary.state, summary.attempts, summary.holds_secret),
        (State::Applied, 1, false)
    );
    let events = outbox.pending_events().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[1].operation_id, events[1].kind),
        (queued_reset.id, Kind::Reset)
    );
    assert_eq!(
        (&events[1].outcome, events[1].dn.as_str()),
        (&Outcome::Applied, ALICE)
    );
}

#[tokio::test]
async fn unreachable_stays_pending_with_backoff_then_applies() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "old", true);
    directory.set(Mode::Unreachable);
    let id = outbox.enqueue(unlock(ALICE, "k", T0)).unwrap().id;

    let step = outbox.sync_once(&directory, T0).await.unwrap().unwrap();
    let SyncOutcome::Retrying {
        attempts: 1,
        next_attempt_at,
        code,
    } = step.outcome
    else {
        panic!("{step:?}")
    };
    assert_eq!(code, "service.directory_unavailable");
    assert!(
        (T0 + 2_500..=T0 + 5_000).contains(&next_attempt_at),
        "{next_attempt_at}"
    );
    let summary = state(&outbox, id);
    assert_eq!(
        (summary.state, summary.next_attempt_at),
        (State::Pending, next_attempt_at)
    );
    assert!(summary.last_error.unwrap().contains("connection refused"));
    assert!(
        outbox.pending_events().unwrap().is_empty(),
        "no event before a terminal state"
    );

    // Not due yet: nothing happens, even with the directory back.
    directory.set(Mode::Up);
    assert!(
        outbox
            .sync_once(&directory, next_attempt_at - 1)
            .await
            .unwrap()
            .is_none()
    );
    // Still down at the next attempt: the window grows.
    directory.set(Mode::Unreachable);
    let step = outbox
        .sync_once(&directory, next_attempt_at)
        .await
        .unwrap()
        .unwrap();
    let SyncOutcome::Retrying {
        attempts: 2,
        next_attempt_at: second,
        ..
    } = step.outcome
    else {
        panic!("{step:?}")
    };
    assert!((next_attempt_at + 5_000..=next_attempt_at + 10_000).contains(&second));

    directory.set(Mode::Up);
    assert_eq!(
        finished(outbox.sync_once(&directory, second).await.unwrap()),
        Outcome::Applied
    );
    assert_eq!(directory.calls(), [format!("unlock {ALICE}")]);
    assert_eq!(state(&outbox, id).attempts, 3);
}

#[tokio::test]
async fn a_later_operation_of_the_same_user_never_overtakes() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "old", true);
    directory.set(Mode::Unreachable);
    let first = outbox.enqueue(unlock(ALICE, "a1", T0)).unwrap().id;
    let second = outbox
        .enqueue(reset(ALICE, "Alice-New-1", "a2", T0 + 1))
        .unwrap()
        .id;
    let bob = outbox.enqueue(unlock(BOB, "b1", T0 + 2)).unwrap().id;

    let step = outbox.sync_once(&directory, T0 + 2).await.unwrap().unwrap();
    assert_eq!(step.id, first);
    directory.set(Mode::Up);
    // Alice's unlock is backing off; her reset must wait for it, Bob's unlock need not.
    let step = outbox
        .sync_once(&directory, T0 + 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(step.id, bob);
    assert!(
        outbox
            .sync_once(&directory, T0 + 10)
            .await
            .unwrap()
            .is_none()
    );
    let later = T0 + 10 * 1_000;
    assert_eq!(
        outbox
            .sync_once(&directory, later)
            .await
            .unwrap()
            .unwrap()
            .id,
        first
    );
    assert_eq!(
        outbox
            .sync_once(&directory, later)
            .await
            .unwrap()
            .unwrap()
            .id,
        second
    );
    assert_eq!(
        directory.calls(),
        [
            format!("unlock {BOB}"),
            format!("unlock {ALICE}"),
            format!("reset {ALICE}")
        ]
    );
}

#[tokio::test]
async fn an_old_reset_expires_and_an_unlock_of_the_same_age_still_applies() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "old", true);
    let never_tried = outbox
        .enqueue(reset(ALICE, "Too-Late-1", "r1", T0))
        .unwrap()
        .id;
    let unlock_id = outbox.enqueue(unlock(BOB, "u1", T0)).unwrap().id;

    let at = T0 + 15 * MINUTE;
    let step = outbox.sync_once(&directory, at).await.unwrap().unwrap();
    assert_eq!(step.id, never_tried);
    assert_eq!(
        step.outcome,
        SyncOutcome::Finished(Outcome::Expired {
            maybe_applied: false
        })
    );
    assert_eq!(
        finished(outbox.sync_once(&directory, at).await.unwrap()),
        Outcome::Applied
    );
    assert_eq!(
        directory.calls(),
        [format!("unlock {BOB}")],
        "the reset never reached it"
    );
    let summary = state(&outbox, never_tried);
    assert_eq!(
        (summary.state, summary.holds_secret),
        (State::Expired, false)
    );
    assert_eq!(state(&outbox, unlock_id).state, State::Applied);

    // A reset that was tried during the outage may have reached the directory: the event says so.
    directory.set(Mode::Unreachable);
    let tried = outbox
        .enqueue(reset(ALICE, "Tried-Once-1", "r2", at))
        .unwrap()
        .id;
    outbox.sync_once(&directory, at).await.unwrap();
    let step = outbox
        .sync_once(&directory, at + 15 * MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(step.id, tried);
    assert_eq!(
        step.outcome,
        SyncOutcome::Finished(Outcome::Expired {
            maybe_applied: true
        })
    );
    let outcomes: Vec<Outcome> = outbox
        .pending_events()
        .unwrap()
        .into_iter()
        .map(|e| e.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Expired {
                maybe_applied: false
            },
            Outcome::Applied,
            Outcome::Expired {
                maybe_applied: true
            }
        ]
    );
}

#[tokio::test]
async fn rejection_is_terminal() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "old", false);
    directory.set(Mode::Rejects);
    let id = outbox.enqueue(reset(ALICE, "simple", "k", T0)).unwrap().id;
    let outcome = finished(outbox.sync_once(&directory, T0).await.unwrap());
    assert_eq!(
        outcome,
        Outcome::Rejected {
            code: "password.too_simple".into()
        }
    );
    directory.set(Mode::Up);
    assert!(
        outbox
            .sync_once(&directory, T0 + 10 * MINUTE)
            .await
            .unwrap()
            .is_none()
    );
    let summary = state(&outbox, id);
    assert_eq!(
        (summary.state, summary.holds_secret),
        (State::Rejected, false)
    );
    assert_eq!(summary.outcome_code.as_deref(), Some("password.too_simple"));
    assert_eq!(directory.current_password(ALICE).unwrap(), "old");
    assert!(matches!(
        outbox.retry(id),
        Err(OutboxError::NotPending {
            state: "rejected",
            ..
        })
    ));
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_existing_operation() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "old", true);
    let first = outbox
        .enqueue(reset(ALICE, "Once-Only-1", "session-42", T0))
        .unwrap();
    let mut again = reset(ALICE, "Once-Only-1", "session-42", T0 + 5);
    again.reference = Some("OTHER-REF".into());
    let second = outbox.enqueue(again).unwrap();
    assert!(second.existing);
    assert_eq!((second.id, &second.reference), (first.id, &first.reference));
    assert_eq!(outbox.list().unwrap().len(), 1);

    outbox.sync_once(&directory, T0).await.unwrap();
    let third = outbox
        .enqueue(reset(ALICE, "Once-Only-1", "session-42", T0 + 9))
        .unwrap();
    assert_eq!(third.id, first.id);
    assert!(
        outbox
            .sync_once(&directory, T0 + 10)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(directory.passwords_set(ALICE), 1);
}

#[tokio::test]
async fn a_crash_between_apply_and_mark_re_applies_harmlessly() {
    let (dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "old", false);
    let id = outbox
        .enqueue(reset(ALICE, "After-Crash-1", "c1", T0))
        .unwrap()
        .id;
    let unlock_id = outbox.enqueue(unlock(BOB, "c2", T0)).unwrap().id;
    // The step claims the reset, the directory applies it, and the process dies before settling.
    let Some(crate::outbox::sync::Claim::Due(_job)) = outbox.claim(T0).unwrap() else {
        panic!("nothing claimed")
    };
    directory
        .reset_password(&Dn::new(ALICE), &Secret::new("After-Crash-1"), false)
        .await
        .unwrap();
    drop(outbox);

    let outbox = reopen(&dir);
    assert_eq!(state(&outbox, id).state, State::Applying);
    // While the dead step's lease runs, the reset is not taken again; other users proceed.
    assert_eq!(
        outbox
            .sync_once(&directory, T0 + 1)
            .await
            .unwrap()
            .unwrap()
            .id,
        unlock_id
    );
    assert!(
        outbox
            .sync_once(&directory, T0 + 1)
            .await
            .unwrap()
            .is_none()
    );
    // After the lease: re-applied, refused by history, confirmed by binding, counted as applied.
    let lease = outbox.policy().lease_ms;
    assert_eq!(
        finished(outbox.sync_once(&directory, T0 + lease).await.unwrap()),
        Outcome::Applied
    );
    assert_eq!(directory.passwords_set(ALICE), 1);
    assert_eq!(directory.calls().last().unwrap(), &format!("bind {ALICE}"));
    let summary = state(&outbox, id);
    assert_eq!(
        (summary.state, summary.attempts, summary.maybe_applied),
        (State::Applied, 2, false)
    );
}

#[tokio::test]
async fn a_lost_answer_to_reset_and_unlock_is_confirmed_and_the_unlock_finished() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "old", true);
    outbox
        .enqueue(operation(
            Kind::ResetAndUnlock,
            ALICE,
            Some("Lost-Answer-1"),
            "k",
            T0,
        ))
        .unwrap();
    directory.set(Mode::AppliesThenTimesOut);
    let step = outbox.sync_once(&directory, T0).await.unwrap().unwrap();
    assert!(
        matches!(step.outcome, SyncOutcome::Retrying { .. }),
        "{step:?}"
    );
    assert!(!directory.is_locked(ALICE));
    // Someone locks the account again (wrong old password at a PC) before the retry.
    directory.0.lock().unwrap().locked.insert(ALICE.into());
    directory.set(Mode::Up);
    assert_eq!(
        finished(outbox.sync_once(&directory, T0 + MINUTE).await.unwrap()),
        Outcome::Applied
    );
    assert_eq!(directory.passwords_set(ALICE), 1);
    assert!(!directory.is_locked(ALICE));
}

#[tokio::test]
async fn a_genuine_history_refusal_after_an_uncertain_attempt_is_still_a_refusal() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::with_user(ALICE, "Used-Before-1", false);
    directory
        .reset_password(&Dn::new(ALICE), &Secret::new("Current-2"), false)
        .await
        .unwrap();
    outbox
        .enqueue(reset(ALICE, "Used-Before-1", "k", T0))
        .unwrap();
    directory.set(Mode::Unreachable);
    outbox.sync_once(&directory, T0).await.unwrap();
    directory.set(Mode::Up);
    let outcome = finished(outbox.sync_once(&directory, T0 + MINUTE).await.unwrap());
    assert_eq!(
        outcome,
        Outcome::Rejected {
            code: "password.in_history".into()
        }
    );
    assert_eq!(directory.current_password(ALICE).unwrap(), "Current-2");

    // Locked and no unlock asked for: the bind cannot tell, and the kiosk does not guess.
    directory.0.lock().unwrap().locked.insert(ALICE.into());
    outbox.enqueue(reset(ALICE, "Current-2", "k2", T0)).unwrap();
    directory.set(Mode::Unreachable);
    outbox.sync_once(&directory, T0).await.unwrap();
    directory.set(Mode::Up);
    let outcome = finished(outbox.sync_once(&directory, T0 + MINUTE).await.unwrap());
    assert_eq!(
        outcome,
        Outcome::Rejected {
            code: UNCONFIRMED.into()
        }
    );
}

#[tokio::test]
async fn registration_writes_and_removals_apply() {
    let (_dir, outbox) = on_disk();
    let directory = FakeDirectory::default();
    let mut write = operation(Kind::Registration, ALICE, None, "r1", T0);
    write.registration_blob = Some("sspr1.k1.AAAA".into());
    outbox.enqueue(write).unwrap();
    outbox.sync_once(&directory, T0).await.unwrap();
    let dn = Dn::new(ALICE);
    assert_eq!(
        directory.read_registration(&dn).await.unwrap().as_deref(),
        Some("sspr1.k1.AAAA")
    );
    outbox
        .enqueue(operation(Kind::Registration, ALICE, None, "r2", T0))
        .unwrap();
    outbox.sync_once(&directory, T0).await.unwrap();
    assert_eq!(directory.read_registration(&dn).await.unwrap(), None);
}

#[tokio::test]
async fn another_device_key_cannot_open_queued_secrets() {
    let (dir, outbox) = on_disk();
    let reset_id = outbox
        .enqueue(reset(ALICE, "Sealed-Away-1", "k1", T0))
        .unwrap()
        .id;
    outbox.enqueue(unlock(BOB, "k2", T0)).unwrap();
    drop(outbox);
    let outbox = Outbox::open(&dir.path().join("outbox.db"), &Secret::new("a new key")).unwrap();
    let directory = FakeDirectory::default();
    let step = outbox.sync_once(&directory, T0).await.unwrap().unwrap();
    assert_eq!(step.id, reset_id);
    assert_eq!(
        step.outcome,
        SyncOutcome::Finished(Outcome::Rejected {
            code: UNREADABLE.into()
        })
    );
    assert_eq!(
        finished(outbox.sync_once(&directory, T0).await.unwrap()),
        Outcome::Applied
    );
    assert_eq!(directory.calls(), [format!("unlock {BOB}")]);
}

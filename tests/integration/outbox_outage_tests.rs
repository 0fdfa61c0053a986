//! The outbox through a real directory outage: with slapd stopped, 50 unlocks and 10 resets are
//! recorded; once slapd is back the worker's sync step applies every unlock and every unexpired reset
//! exactly once (checked by binding), and resets older than their maximum age are reported expired.

use sspr_kiosk::directory::Dn;
use sspr_kiosk::outbox::{Kind, NewOperation, Outbox, OutboxEvent, State};
use sspr_kiosk::secret::Secret;

use crate::directory_support::{connect, slapd_target};
use crate::harness::slapd::Slapd;

const T0: u64 = 1_900_000_000_000;
const MINUTE: u64 = 60_000;

fn operation(kind: Kind, dn: &str, password: Option<&str>, key: &str, now: u64) -> NewOperation {
    NewOperation {
        kind,
        dn: Dn::new(dn),
        user_key: dn.to_lowercase(),
        new_password: password.map(Secret::new),
        registration_blob: None,
        idempotency_key: key.to_owned(),
        reference: None,
        now,
    }
}

#[test]
fn fifty_unlocks_and_ten_resets_survive_an_outage_and_apply_once() {
    let mut server = Slapd::start();
    let locked: Vec<_> = (0..50).map(|_| server.create_user("outage")).collect();
    for user in &locked {
        server.lock_user(user);
    }
    let resets: Vec<_> = (0..10).map(|_| server.create_user("outreset")).collect();
    let late: Vec<_> = (0..2).map(|_| server.create_user("outlate")).collect();
    let directory = connect(&slapd_target(&server));
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(
        &dir.path().join("outbox.db"),
        &Secret::new("outage-test-device-key"),
    )
    .unwrap();

    server.stop();
    // Two resets that will be too old by the time the directory returns.
    for (i, user) in late.iter().enumerate() {
        outbox
            .enqueue(operation(
                Kind::Reset,
                &user.dn,
                Some(&format!("Late-Reset#{i}-Pw-2031")),
                &format!("late-{i}"),
                T0,
            ))
            .unwrap();
    }
    let now = T0 + 10 * MINUTE;
    for (i, user) in locked.iter().enumerate() {
        outbox
            .enqueue(operation(
                Kind::Unlock,
                &user.dn,
                None,
                &format!("unlock-{i}"),
                now,
            ))
            .unwrap();
    }
    for (i, user) in resets.iter().enumerate() {
        let queued = outbox
            .enqueue(operation(
                Kind::Reset,
                &user.dn,
                Some(&format!("Outage-Reset#{i}-Pw-2031")),
                &format!("reset-{i}"),
                now,
            ))
            .unwrap();
        // Enqueueing the same operation again (a retried request) stores nothing new.
        let again = outbox
            .enqueue(operation(
                Kind::Reset,
                &user.dn,
                Some(&format!("Outage-Reset#{i}-Pw-2031")),
                &format!("reset-{i}"),
                now,
            ))
            .unwrap();
        assert!(again.existing && again.id == queued.id);
    }
    // While the directory is down the sync step keeps everything pending.
    for _ in 0..5 {
        directory.run(|d| outbox.sync_once(d, now)).unwrap();
    }
    assert!(
        outbox
            .list()
            .unwrap()
            .iter()
            .all(|op| op.state == State::Pending)
    );

    server.restart();
    // Drain at T0 + 16 min: the 10-minute-old resets are still valid, the 16-minute-old ones are not.
    let drain_at = T0 + 16 * MINUTE;
    let mut steps = 0;
    while directory
        .run(|d| outbox.sync_once(d, drain_at))
        .unwrap()
        .is_some()
    {
        steps += 1;
        assert!(steps < 500, "the outbox does not drain");
    }
    let ops = outbox.list().unwrap();
    let applied = ops.iter().filter(|op| op.state == State::Applied).count();
    let expired = ops.iter().filter(|op| op.state == State::Expired).count();
    assert_eq!((applied, expired, ops.len()), (60, 2, 62), "{ops:#?}");
    assert!(
        ops.iter().all(|op| !op.holds_secret),
        "terminal operations keep no secret"
    );

    for user in &locked {
        assert!(!server.is_locked(&user.dn), "{} still locked", user.dn);
        server
            .bind(&user.dn, &user.password)
            .expect("unlocked: the old password binds");
    }
    for (i, user) in resets.iter().enumerate() {
        server
            .bind(&user.dn, &format!("Outage-Reset#{i}-Pw-2031"))
            .expect("the queued reset applied");
        assert!(server.bind(&user.dn, &user.password).is_err());
    }
    for user in &late {
        server
            .bind(&user.dn, &user.password)
            .expect("an expired reset was never applied");
    }
    // Every outcome is waiting for the notifier: 60 applied, 2 expired.
    let events: Vec<OutboxEvent> = outbox.pending_events().unwrap();
    assert_eq!(events.len(), 62);
    // A second drain applies nothing twice.
    assert!(
        directory
            .run(|d| outbox.sync_once(d, drain_at + MINUTE))
            .unwrap()
            .is_none()
    );
}

//! The directory adapter (`LdapDirectory`, OpenLDAP flavour) against a real slapd with ppolicy: lookups,
//! unlock, reset, change, verify and registration, the policy's refusals with their message codes, and
//! the transport (TLS trust, StartTLS, failover, outages). State-changing tests use fresh users or their
//! own slapd; the shared one's cast is only read.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Debug;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use ldap3::{LdapError, Mod};
use sspr_kiosk::config::settings::DirectorySettings;
use sspr_kiosk::config::validate::parse_ldap_url;
use sspr_kiosk::directory::ldap::LdapDirectory;
use sspr_kiosk::directory::{
    BindFailure, Directory, DirectoryError, Dn, Lookup, MessageCode, PasswordRejection, UserRecord,
};
use sspr_kiosk::secret::Secret;

use crate::directory_support::{TestDirectory, connect, settings, slapd_target};
use crate::harness::certs::TestPki;
use crate::harness::slapd::{
    ADMINS_GROUP_DN, CastUser, MAX_FAILURES, OPERATORS_GROUP_DN, STAFF_GROUP_DN, Slapd, slapd,
};

/// The adapter as configured for `server` (LDAPS, its CA, `history_on_reset = "require"`).
fn adapter(server: &Slapd) -> TestDirectory {
    connect(&slapd_target(server))
}

/// The adapter with hand-made settings (StartTLS, several URLs, short timeouts).
fn adapter_with(settings: DirectorySettings, server: &Slapd) -> TestDirectory {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let directory = LdapDirectory::new(settings, Secret::new(&server.service_password)).unwrap();
    TestDirectory { rt, directory }
}

fn dn(user: &CastUser) -> Dn {
    Dn::new(&user.dn)
}

fn secret(value: &str) -> Secret {
    Secret::new(value)
}

fn find(d: &TestDirectory, lookup: Lookup<'_>) -> Option<UserRecord> {
    d.run(|d| d.find_user(lookup))
        .unwrap_or_else(|e| panic!("find_user({lookup:?}) failed: {e}"))
}

fn found(d: &TestDirectory, lookup: Lookup<'_>) -> UserRecord {
    find(d, lookup).unwrap_or_else(|| panic!("find_user({lookup:?}) found nobody"))
}

/// The error of a call that must fail.
fn failure<T: Debug>(what: &str, outcome: Result<T, DirectoryError>) -> DirectoryError {
    match outcome {
        Ok(value) => panic!("{what} succeeded ({value:?}) but must fail"),
        Err(e) => e,
    }
}

fn assert_rejected(error: &DirectoryError, expected: PasswordRejection, code: MessageCode) {
    assert!(
        matches!(error, DirectoryError::PasswordRejected { reason, .. } if *reason == expected),
        "expected PasswordRejected {{ {expected:?} }}, got {error:?}"
    );
    assert_eq!(error.code(), code, "{error:?}");
    assert!(!error.is_transient(), "{error:?}");
}

fn assert_bind_failure(error: &DirectoryError, expected: BindFailure, code: MessageCode) {
    assert!(
        matches!(error, DirectoryError::UserBind { reason, .. } if *reason == expected),
        "expected UserBind {{ {expected:?} }}, got {error:?}"
    );
    assert_eq!(error.code(), code, "{error:?}");
}

fn assert_unavailable(error: &DirectoryError) {
    assert!(
        matches!(
            error,
            DirectoryError::Unreachable { .. } | DirectoryError::Timeout { .. }
        ),
        "expected Unreachable or Timeout, got {error:?}"
    );
    assert_eq!(error.code(), MessageCode::DirectoryUnavailable);
    assert!(error.is_transient(), "{error:?}");
}

/// Binding as `dn` with `password` must fail with rc 49.
fn assert_bind_refused(server: &Slapd, dn: &str, password: &str) {
    match server.bind(dn, password) {
        Ok(_) => panic!("{dn} still binds with a password that must no longer work"),
        Err(LdapError::LdapResult { result }) => assert_eq!(result.rc, 49, "{result:?}"),
        Err(other) => panic!("binding as {dn} failed without an LDAP result: {other}"),
    }
}

fn lowercase_set<'a>(dns: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    dns.into_iter().map(str::to_lowercase).collect()
}

// ---------------------------------------------------------------------------------------------------
// find_user

#[test]
fn directory_slapd_find_user_by_uid_mail_and_badge_reads_every_field() {
    let s = slapd();
    let d = adapter(s);
    let normal = &s.cast.normal;
    let expected = UserRecord {
        dn: dn(normal),
        login: normal.login.clone(),
        display_name: normal.display_name.clone(),
        locked: false,
        disabled: false,
        groups: Vec::new(),
        admin_count: false,
        emails: vec![normal.mail.clone().unwrap()],
        mobiles: vec![normal.mobile.clone().unwrap()],
        badges: Vec::new(),
        registration: None,
    };
    assert_eq!(found(&d, Lookup::Identifier("normal.user")), expected);
    assert_eq!(
        found(&d, Lookup::Identifier("normal.user@example.test")),
        expected,
        "by mail"
    );
    assert_eq!(
        found(&d, Lookup::Identifier("  Normal.User ")),
        expected,
        "uid matches case-insensitively, surrounding spaces ignored"
    );

    let badge = &s.cast.badge;
    let by_badge = found(&d, Lookup::Badge("0004567890"));
    assert_eq!(by_badge.dn, dn(badge));
    assert_eq!(by_badge.login, "badge.user");
    assert_eq!(by_badge.display_name, "Bea Badge");
    assert_eq!(by_badge.badges, vec!["0004567890".to_owned()]);
    assert_eq!(by_badge.emails, vec!["badge.user@example.test".to_owned()]);
    assert!(by_badge.mobiles.is_empty());
    assert!(
        find(&d, Lookup::Identifier("0004567890")).is_none(),
        "a badge number is not a username"
    );

    let locked = found(&d, Lookup::Identifier("locked.user"));
    assert!(locked.locked, "locked.user was locked by real failed binds");
    assert!(
        !locked.disabled,
        "a lockout from failed binds is for the kiosk to lift"
    );
    assert_eq!(locked.mobiles, vec!["+15550100002".to_owned()]);

    let unregistered = found(&d, Lookup::Identifier("noreg.user"));
    assert_eq!(unregistered.dn, dn(&s.cast.unregistered));
    assert!(unregistered.emails.is_empty() && unregistered.mobiles.is_empty());
    assert!(!unregistered.locked);

    let privileged = found(&d, Lookup::Identifier("priv.user"));
    assert_eq!(
        lowercase_set(privileged.groups.iter().map(Dn::as_str)),
        lowercase_set([ADMINS_GROUP_DN, OPERATORS_GROUP_DN, STAFF_GROUP_DN]),
        "direct and nested groupOfNames memberships"
    );
    assert!(privileged.is_member_of(&s.admins_group_dn));
    assert!(privileged.is_member_of(STAFF_GROUP_DN), "two levels up");
    assert!(!privileged.admin_count, "adminCount is an AD notion");
}

#[test]
fn directory_slapd_unknown_and_ambiguous_lookups_find_nobody() {
    let s = slapd();
    let d = adapter(s);
    for unknown in ["nobody.here", "nobody@example.test", "", "   "] {
        assert_eq!(find(&d, Lookup::Identifier(unknown)), None, "{unknown:?}");
    }
    assert_eq!(find(&d, Lookup::Badge("0000000000")), None);
    assert_eq!(
        find(&d, Lookup::Identifier("sspr-kiosk")),
        None,
        "the service account is not a person"
    );

    // Two people sharing a mail address (and a badge): the kiosk never guesses between them.
    let first = s.create_user("ambiguous");
    let second = s.create_user("ambiguous");
    let shared_mail = first.mail.clone().unwrap();
    let shared_badge = first.badge.clone().unwrap();
    s.modify_as_root(
        &second.dn,
        vec![
            Mod::Replace("mail", HashSet::from([shared_mail.as_str()])),
            Mod::Replace("employeeNumber", HashSet::from([shared_badge.as_str()])),
        ],
    );
    assert_eq!(find(&d, Lookup::Identifier(&shared_mail)), None);
    assert_eq!(find(&d, Lookup::Badge(&shared_badge)), None);
    assert_eq!(
        found(&d, Lookup::Identifier(&first.login)).dn,
        dn(&first),
        "each is still found by what is unique to them"
    );
    assert_eq!(found(&d, Lookup::Identifier(&second.login)).dn, dn(&second));

    // One person's uid is another person's mail: two entries match, so nobody is found.
    let third = s.create_user("crossmatch");
    s.modify_as_root(
        &third.dn,
        vec![Mod::Replace("mail", HashSet::from([first.login.as_str()]))],
    );
    assert_eq!(find(&d, Lookup::Identifier(&first.login)), None);
}

#[test]
fn directory_slapd_hostile_lookups_are_escaped() {
    let s = slapd();
    let d = adapter(s);
    assert!(find(&d, Lookup::Identifier("normal.user")).is_some());
    // Each of these would match normal.user (or everyone) if it reached the filter unescaped.
    for hostile in [
        "*",
        "normal*",
        "*)(uid=*",
        ")(",
        "normal.user)(uid=normal.user",
        "normal.user)(|(uid=*",
        "\\6eormal.user",
        "\\00",
        "\0",
        "normal.user\0",
        "no*al.user",
    ] {
        assert_eq!(
            find(&d, Lookup::Identifier(hostile)),
            None,
            "identifier {hostile:?}"
        );
        assert_eq!(find(&d, Lookup::Badge(hostile)), None, "badge {hostile:?}");
    }
    assert_eq!(find(&d, Lookup::Badge("000456789*")), None);

    // Escaping keeps legitimate values intact: special characters and UTF-8 still match exactly.
    let user = s.create_user("oddvalues");
    let odd_mail = format!("o*(dd)\\{}@example.test", user.login);
    let umlaut_uid = format!("jürgen.{}", user.login);
    s.modify_as_root(
        &user.dn,
        vec![
            Mod::Replace("mail", HashSet::from([odd_mail.as_str()])),
            Mod::Add("uid", HashSet::from([umlaut_uid.as_str()])),
        ],
    );
    assert_eq!(found(&d, Lookup::Identifier(&odd_mail)).dn, dn(&user));
    assert_eq!(found(&d, Lookup::Identifier(&umlaut_uid)).dn, dn(&user));

    // A DN with filter metacharacters goes into the group-membership filters escaped too.
    let odd = s.create_user_named(&format!("o'brien (it)*.{}", user.login));
    let group = s.create_group(&format!("odd-{}", user.login), &[&odd.dn]);
    let record = found(&d, Lookup::Identifier(&odd.login));
    assert_eq!(record.dn, dn(&odd));
    assert_eq!(
        lowercase_set(record.groups.iter().map(Dn::as_str)),
        lowercase_set([group.as_str()])
    );
}

// ---------------------------------------------------------------------------------------------------
// unlock and reset

#[test]
fn directory_slapd_unlock_clears_a_lockout_from_real_failed_binds() {
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("unlock");
    s.lock_user(&user);
    assert!(found(&d, Lookup::Identifier(&user.login)).locked);

    let target = dn(&user);
    d.run(|d| d.unlock(&target)).expect("unlock");
    assert!(!s.is_locked(&user.dn), "pwdAccountLockedTime is gone");
    assert!(!found(&d, Lookup::Identifier(&user.login)).locked);
    s.bind(&user.dn, &user.password)
        .expect("the old password binds after the unlock");

    d.run(|d| d.unlock(&target))
        .expect("unlocking an unlocked account succeeds (idempotent)");
    let never_locked = dn(&s.create_user("neverlocked"));
    d.run(|d| d.unlock(&never_locked))
        .expect("unlocking a never-locked account succeeds");
}

#[test]
fn directory_slapd_an_administrative_lock_reads_as_disabled() {
    // slapo-ppolicy(5): pwdAccountLockedTime 000001010000Z means "permanently locked; may only be
    // unlocked by an administrator". A kiosk must not lift it (and a reset on slapd would).
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("adminlock");
    s.modify_as_root(
        &user.dn,
        vec![Mod::Replace(
            "pwdAccountLockedTime",
            HashSet::from(["000001010000Z"]),
        )],
    );
    let record = found(&d, Lookup::Identifier(&user.login));
    assert!(record.locked, "the password does not work");
    assert!(record.disabled, "unlocking at a kiosk must not be offered");
}

#[test]
fn directory_slapd_reset_replaces_the_password() {
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("reset");
    let target = dn(&user);
    let new_password = secret("Reset#Brand-New-2024");
    d.run(|d| d.reset_password(&target, &new_password, false))
        .expect("reset");
    s.bind(&user.dn, new_password.expose())
        .expect("the new password binds");
    assert_bind_refused(s, &user.dn, &user.password);
}

#[test]
fn directory_slapd_reset_to_a_password_in_history_is_refused() {
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("history");
    let target = dn(&user);
    let first = secret("History#First-2024");
    d.run(|d| d.reset_password(&target, &first, false))
        .expect("a fresh password is accepted");

    let original = secret(&user.password);
    let error = failure(
        "reset to the previous password",
        d.run(|d| d.reset_password(&target, &original, false)),
    );
    assert_rejected(
        &error,
        PasswordRejection::InHistory,
        MessageCode::PasswordInHistory,
    );
    let error = failure(
        "reset to the current password",
        d.run(|d| d.reset_password(&target, &first, false)),
    );
    assert_rejected(
        &error,
        PasswordRejection::InHistory,
        MessageCode::PasswordInHistory,
    );
    s.bind(&user.dn, first.expose())
        .expect("a refused reset leaves the password alone");
}

#[test]
fn directory_slapd_reset_to_a_too_short_password_is_refused() {
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("tooshort");
    let target = dn(&user);
    let short = secret("Sh0rt!");
    let error = failure(
        "reset to a 6-character password",
        d.run(|d| d.reset_password(&target, &short, false)),
    );
    assert_rejected(
        &error,
        PasswordRejection::TooShort,
        MessageCode::PasswordTooShort,
    );
    s.bind(&user.dn, &user.password)
        .expect("the old password still works");
}

#[test]
fn directory_slapd_reset_with_unlock_does_both_in_one_call() {
    let s = slapd();
    let d = adapter(s);

    // OpenLDAP 2.5's ppolicy clears the lockout itself when a password is reset, so the unlock that
    // follows finds nothing to delete: reset + unlock must still succeed (unlock is idempotent).
    let reset_only = s.create_user("resetonly");
    s.lock_user(&reset_only);
    let target = dn(&reset_only);
    let password = secret("Reset#Only-Locked-2024");
    d.run(|d| d.reset_password(&target, &password, false))
        .expect("reset of a locked account");
    assert!(
        !s.is_locked(&reset_only.dn),
        "ppolicy unlocks on a reset (if this changes, `unlock: true` is what unlocks)"
    );

    let user = s.create_user("resetunlock");
    s.lock_user(&user);
    let target = dn(&user);
    let password = secret("Reset#And-Unlock-2024");
    d.run(|d| d.reset_password(&target, &password, true))
        .expect("reset + unlock");
    assert!(!s.is_locked(&user.dn));
    s.bind(&user.dn, password.expose())
        .expect("the new password binds at once");
    assert!(!found(&d, Lookup::Identifier(&user.login)).locked);
}

#[test]
fn directory_slapd_non_ascii_passwords_reset_and_bind() {
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("unicode");
    let target = dn(&user);
    for password in ["ÄÖÜ€…-Grüße-2024", "🔐🦀 Schlüssel ✓ 2024 😀"] {
        let password = secret(password);
        d.run(|d| d.reset_password(&target, &password, false))
            .unwrap_or_else(|e| panic!("reset to a non-ASCII password: {e}"));
        s.bind(&user.dn, password.expose())
            .expect("the non-ASCII password binds");
        d.run(|d| d.verify_password(&target, &password))
            .expect("and verifies through the adapter");
    }
    let current = secret("🔐🦀 Schlüssel ✓ 2024 😀");
    let chosen = secret("Ünïcödé…€-Wechsel-2024");
    d.run(|d| d.change_password(&target, &current, &chosen))
        .expect("change from one non-ASCII password to another");
    s.bind(&user.dn, chosen.expose())
        .expect("the changed password binds");
}

// ---------------------------------------------------------------------------------------------------
// change and verify (bound as the user)

#[test]
fn directory_slapd_change_password_bound_as_the_user() {
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("change");
    let target = dn(&user);
    let original = secret(&user.password);
    let chosen = secret("Chosen#By-The-User-2024");
    d.run(|d| d.change_password(&target, &original, &chosen))
        .expect("a good change");
    s.bind(&user.dn, chosen.expose())
        .expect("the chosen password binds");
    assert_bind_refused(s, &user.dn, &user.password);

    let error = failure(
        "change back to a password in history",
        d.run(|d| d.change_password(&target, &chosen, &original)),
    );
    assert_rejected(
        &error,
        PasswordRejection::InHistory,
        MessageCode::PasswordInHistory,
    );

    let short = secret("Sh0rt!");
    let error = failure(
        "change to a too short password",
        d.run(|d| d.change_password(&target, &chosen, &short)),
    );
    assert_rejected(
        &error,
        PasswordRejection::TooShort,
        MessageCode::PasswordTooShort,
    );

    let wrong = secret("Not#The-Current-2024");
    let other = secret("Another#Choice-2024");
    let error = failure(
        "change with a wrong current password",
        d.run(|d| d.change_password(&target, &wrong, &other)),
    );
    assert_bind_failure(
        &error,
        BindFailure::WrongPassword,
        MessageCode::WrongPassword,
    );
    s.bind(&user.dn, chosen.expose())
        .expect("nothing changed after the refusals");
}

#[test]
fn directory_slapd_change_password_of_a_locked_user_says_locked() {
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("changelocked");
    s.lock_user(&user);
    let target = dn(&user);
    let current = secret(&user.password);
    let chosen = secret("Locked#Out-Choice-2024");
    let error = failure(
        "change while locked",
        d.run(|d| d.change_password(&target, &current, &chosen)),
    );
    assert_bind_failure(&error, BindFailure::Locked, MessageCode::AccountLocked);
    let error = failure(
        "verify while locked",
        d.run(|d| d.verify_password(&target, &current)),
    );
    assert_bind_failure(&error, BindFailure::Locked, MessageCode::AccountLocked);
    assert!(s.is_locked(&user.dn));
}

#[test]
fn directory_slapd_verify_password_counts_as_a_logon_attempt() {
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("verify");
    let target = dn(&user);
    let right = secret(&user.password);
    d.run(|d| d.verify_password(&target, &right))
        .expect("the right password verifies");
    for attempt in 0..MAX_FAILURES {
        let wrong = secret(&format!("Wrong#{attempt}-Guess-2024"));
        let error = failure(
            "verify a wrong password",
            d.run(|d| d.verify_password(&target, &wrong)),
        );
        assert_bind_failure(
            &error,
            BindFailure::WrongPassword,
            MessageCode::WrongPassword,
        );
    }
    assert!(
        s.is_locked(&user.dn),
        "{MAX_FAILURES} wrong verifications lock the account like wrong logons"
    );
    let error = failure(
        "verify the right password while locked",
        d.run(|d| d.verify_password(&target, &right)),
    );
    assert_bind_failure(&error, BindFailure::Locked, MessageCode::AccountLocked);
}

// ---------------------------------------------------------------------------------------------------
// registration (the shipped schema's ssprRegistration)

#[test]
fn directory_slapd_registration_round_trip_adds_the_auxiliary_class() {
    let s = slapd();
    let d = adapter(s);
    let user = s.create_user("registration");
    let target = dn(&user);
    let has_class = |dn: &str| {
        s.read_attr(dn, "objectClass")
            .iter()
            .any(|c| c.eq_ignore_ascii_case("ssprKioskUser"))
    };
    assert_eq!(d.run(|d| d.read_registration(&target)).unwrap(), None);
    assert!(!has_class(&user.dn));
    d.run(|d| d.write_registration(&target, None))
        .expect("clearing the registration of someone who never registered");
    assert!(!has_class(&user.dn), "clearing adds no class");

    // A realistic blob: base64 of ~1.5 KB of ciphertext.
    let blob: String = "QUJD".repeat(500) + "ZA==";
    d.run(|d| d.write_registration(&target, Some(&blob)))
        .expect("first write adds ssprKioskUser");
    assert!(has_class(&user.dn), "the auxiliary class was added");
    assert_eq!(
        d.run(|d| d.read_registration(&target)).unwrap().as_deref(),
        Some(blob.as_str())
    );
    assert_eq!(
        found(&d, Lookup::Identifier(&user.login))
            .registration
            .as_deref(),
        Some(blob.as_str()),
        "find_user carries the registration"
    );

    let updated = "dXBkYXRlZA==";
    d.run(|d| d.write_registration(&target, Some(updated)))
        .expect("a later write replaces");
    assert_eq!(
        d.run(|d| d.read_registration(&target)).unwrap().as_deref(),
        Some(updated)
    );
    assert_eq!(s.read_attr(&user.dn, "ssprRegistration"), vec![updated]);

    d.run(|d| d.write_registration(&target, None))
        .expect("removing the registration");
    assert_eq!(d.run(|d| d.read_registration(&target)).unwrap(), None);
    d.run(|d| d.write_registration(&target, None))
        .expect("removing it again is harmless");
    d.run(|d| d.write_registration(&target, Some(updated)))
        .expect("registering again");
    assert_eq!(
        d.run(|d| d.read_registration(&target)).unwrap().as_deref(),
        Some(updated)
    );

    // The ACL from the schema's comment lets the service account add this one class and no other.
    let mut service = s.service_conn();
    let other_class = Mod::Add("objectClass", HashSet::from(["extensibleObject"]));
    let rc = service.modify(&user.dn, vec![other_class]).unwrap().rc;
    assert_eq!(rc, 50, "the service account may add only ssprKioskUser");

    let ghost = Dn::new(format!(
        "uid=ghost.registration,{}",
        "ou=people,dc=example,dc=test"
    ));
    let error = failure(
        "read the registration of nobody",
        d.run(|d| d.read_registration(&ghost)),
    );
    assert!(
        matches!(error, DirectoryError::NoSuchUser { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), MessageCode::NotPossibleHere);
}

// ---------------------------------------------------------------------------------------------------
// errors that are not about the password

#[test]
fn directory_slapd_writes_to_missing_or_forbidden_entries_say_so() {
    let s = slapd();
    let d = adapter(s);
    let ghost = Dn::new("uid=ghost.user,ou=people,dc=example,dc=test");
    let error = failure("unlock nobody", d.run(|d| d.unlock(&ghost)));
    assert!(
        matches!(&error, DirectoryError::NoSuchUser { dn } if dn == ghost.as_str()),
        "{error:?}"
    );
    assert_eq!(error.code(), MessageCode::NotPossibleHere);
    let password = secret("Ghost#Password-2024");
    let error = failure(
        "reset nobody",
        d.run(|d| d.reset_password(&ghost, &password, false)),
    );
    assert!(
        matches!(error, DirectoryError::NoSuchUser { .. }),
        "{error:?}"
    );

    // Outside ou=people the service account has no write on userPassword.
    let outside = Dn::new("ou=groups,dc=example,dc=test");
    let error = failure(
        "reset outside ou=people",
        d.run(|d| d.reset_password(&outside, &password, false)),
    );
    assert!(
        matches!(&error, DirectoryError::InsufficientAccess { dn, .. } if dn == outside.as_str()),
        "{error:?}"
    );
    assert_eq!(error.code(), MessageCode::NotPossibleHere);
    assert!(!error.is_transient());
}

#[test]
fn directory_slapd_wrong_service_password_is_an_admin_error() {
    let s = slapd();
    let config = settings(&slapd_target(s));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let d = LdapDirectory::new(config, secret("Not#The-Service-Password")).unwrap();
    let error = failure(
        "find_user with a wrong service password",
        rt.block_on(d.find_user(Lookup::Identifier("normal.user"))),
    );
    match &error {
        DirectoryError::ServiceBind { url, bind_dn, .. } => {
            assert_eq!(url, &s.ldaps_url());
            assert_eq!(bind_dn, &s.service_dn);
        }
        other => panic!("expected ServiceBind, got {other:?}"),
    }
    assert_eq!(error.code(), MessageCode::NotPossibleHere);
    assert!(!error.is_transient());
    // One bad bind; a good one right away clears ppolicy's failure counter on the shared server.
    s.service_conn();
}

// ---------------------------------------------------------------------------------------------------
// transport: TLS trust, StartTLS, failover, outages

#[test]
fn directory_slapd_a_server_from_another_ca_is_refused_naming_the_url() {
    let s = slapd();
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestPki::create(other_dir.path(), "not the directory's CA");
    let mut target = slapd_target(s);
    target.ca_file = Some(&other.ca_pem);
    let d = connect(&target);
    let error = failure(
        "find_user against an untrusted server",
        d.run(|d| d.find_user(Lookup::Identifier("normal.user"))),
    );
    match &error {
        DirectoryError::Tls { url, .. } => assert_eq!(url, &s.ldaps_url()),
        other => panic!("expected Tls, got {other:?}"),
    }
    assert!(
        error.to_string().contains(&s.ldaps_url()),
        "the message names the URL: {error}"
    );
    assert_eq!(error.code(), MessageCode::NotPossibleHere);
    assert!(!error.is_transient(), "retrying cannot fix trust");

    let user = dn(&s.cast.normal);
    let password = secret(&s.cast.normal.password);
    let error = failure(
        "verify_password against an untrusted server",
        d.run(|d| d.verify_password(&user, &password)),
    );
    assert!(
        matches!(&error, DirectoryError::Tls { url, .. } if *url == s.ldaps_url()),
        "{error:?}"
    );
}

#[test]
fn directory_slapd_starttls_on_the_plain_port() {
    let s = slapd();
    let mut config = settings(&slapd_target(s));
    config.urls = vec![parse_ldap_url(&s.ldap_url(), true, false).unwrap()];
    let d = adapter_with(config.clone(), s);
    assert_eq!(
        found(&d, Lookup::Identifier("normal.user")).dn,
        dn(&s.cast.normal)
    );
    let user = dn(&s.cast.normal);
    let password = secret(&s.cast.normal.password);
    d.run(|d| d.verify_password(&user, &password))
        .expect("a user bind over StartTLS");

    // TLS really is negotiated on ldap://: a certificate from another CA is refused there too.
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestPki::create(other_dir.path(), "not the directory's CA");
    config.ca_file = Some(other.ca_pem.clone());
    let d = adapter_with(config, s);
    let error = failure(
        "StartTLS to an untrusted server",
        d.run(|d| d.find_user(Lookup::Identifier("normal.user"))),
    );
    assert!(
        matches!(&error, DirectoryError::Tls { url, .. } if *url == s.ldap_url()),
        "{error:?}"
    );
}

#[test]
fn directory_slapd_a_dead_first_url_fails_over_to_the_second() {
    let s = slapd();
    // The dead servers live on 127.0.0.2 (loopback too): an ephemeral port taken on 127.0.0.1 here
    // could be the one `free_port` just handed to a slapd starting in a parallel test.
    // Accepts TCP (the kernel's backlog) but never speaks TLS: a hung server.
    let silent = TcpListener::bind("127.0.0.2:0").unwrap();
    let silent_url = format!("ldaps://127.0.0.2:{}", silent.local_addr().unwrap().port());
    // Nothing else binds 127.0.0.2, so this port stays closed once the probe is dropped.
    let closed = {
        let probe = TcpListener::bind("127.0.0.2:0").unwrap();
        format!("ldaps://127.0.0.2:{}", probe.local_addr().unwrap().port())
    };
    let mut config = settings(&slapd_target(s));
    config.connect_timeout = Duration::from_millis(300);
    let url = |u: &str| parse_ldap_url(u, false, false).unwrap();

    config.urls = vec![url(&closed), url(&s.ldaps_url())];
    let d = adapter_with(config.clone(), s);
    let started = Instant::now();
    assert!(find(&d, Lookup::Identifier("normal.user")).is_some());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a refused port is skipped at once ({:?})",
        started.elapsed()
    );
    let user = dn(&s.cast.normal);
    let password = secret(&s.cast.normal.password);
    d.run(|d| d.verify_password(&user, &password))
        .expect("user binds fail over too");

    config.urls = vec![url(&silent_url), url(&s.ldaps_url())];
    let d = adapter_with(config.clone(), s);
    let started = Instant::now();
    assert!(find(&d, Lookup::Identifier("normal.user")).is_some());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a silent server is skipped after the connect timeout ({:?})",
        started.elapsed()
    );

    config.urls = vec![url(&closed), url(&silent_url)];
    let d = adapter_with(config, s);
    let error = failure(
        "find_user with every URL dead",
        d.run(|d| d.find_user(Lookup::Identifier("normal.user"))),
    );
    assert_unavailable(&error);
    match &error {
        DirectoryError::Unreachable { attempts } => {
            let tried: Vec<&str> = attempts.iter().map(|(u, _)| u.as_str()).collect();
            assert_eq!(tried, [closed.as_str(), silent_url.as_str()]);
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    drop(silent);
}

#[test]
fn directory_slapd_stopped_mid_run_is_unreachable_and_the_adapter_reconnects() {
    let mut own = Slapd::start();
    let user = own.create_user("outage");
    let d = adapter(&own);
    assert!(find(&d, Lookup::Identifier(&user.login)).is_some());

    own.stop();
    let target = dn(&user);
    let started = Instant::now();
    let error = failure(
        "find_user while slapd is down",
        d.run(|d| d.find_user(Lookup::Identifier(&user.login))),
    );
    assert_unavailable(&error);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a stopped directory fails fast ({:?})",
        started.elapsed()
    );
    let error = failure("unlock while slapd is down", d.run(|d| d.unlock(&target)));
    assert_unavailable(&error);
    let password = secret("Outage#Queued-2024");
    let error = failure(
        "reset while slapd is down",
        d.run(|d| d.reset_password(&target, &password, true)),
    );
    assert_unavailable(&error);
    let current = secret(&user.password);
    let error = failure(
        "verify while slapd is down",
        d.run(|d| d.verify_password(&target, &current)),
    );
    assert_unavailable(&error);

    own.restart();
    assert!(
        find(&d, Lookup::Identifier(&user.login)).is_some(),
        "the same adapter reconnects by itself"
    );
    d.run(|d| d.reset_password(&target, &password, true))
        .expect("writes work again");
    own.bind(&user.dn, password.expose())
        .expect("the reset applied");
    own.stop();
}

#[test]
fn directory_slapd_established_connection_broken_between_calls_is_replaced() {
    // The first write after a restart must not fail on the dead pooled connection.
    let mut own = Slapd::start();
    let user = own.create_user("reconnect");
    let d = adapter(&own);
    assert!(find(&d, Lookup::Identifier(&user.login)).is_some());
    own.restart();
    let target = dn(&user);
    let password = secret("Reconnect#Write-2024");
    d.run(|d| d.reset_password(&target, &password, false))
        .expect("a reset right after the restart");
    own.bind(&user.dn, password.expose())
        .expect("the reset applied");
    own.stop();
}

#[test]
fn directory_slapd_a_hung_server_times_out_and_recovers() {
    let own = Slapd::start();
    let mut config = settings(&slapd_target(&own));
    config.timeout = Duration::from_millis(800);
    config.connect_timeout = Duration::from_millis(400);
    let d = adapter_with(config, &own);
    assert!(find(&d, Lookup::Identifier("normal.user")).is_some());

    own.pause();
    let started = Instant::now();
    let outcome = d.run(|d| d.find_user(Lookup::Identifier("normal.user")));
    let took = started.elapsed();
    own.resume();
    let error = failure("find_user on a frozen slapd", outcome);
    assert_unavailable(&error);
    assert!(
        took < Duration::from_secs(4),
        "bounded by the timeouts ({took:?})"
    );

    assert!(
        find(&d, Lookup::Identifier("normal.user")).is_some(),
        "works again once slapd answers"
    );
}

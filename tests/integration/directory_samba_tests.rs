//! The directory adapter (`LdapDirectory`, Active Directory flavour) against the real Samba 4.17 AD DC
//! from the harness: lookups, unlock, reset, change, registration, TLS and failover, and the message
//! code of every error. Tests that change an account create their own user; the cast is only read.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use ldap3::{LdapError, Scope, SearchEntry};
use sspr_kiosk::config::kiosk::HistoryOnReset;
use sspr_kiosk::directory::{
    BindFailure, Directory, DirectoryError, Dn, Lookup, MessageCode, PasswordRejection, UserRecord,
};
use sspr_kiosk::secret::Secret;

use crate::directory_support::{TestDirectory, connect, samba_target};
use crate::harness::certs::TestPki;
use crate::harness::samba::{CastUser, DOMAIN_ADMINS_DN, samba, strong_password};

const REGISTRATION_ATTR: &str = "msDS-cloudExtensionAttribute1";
/// Domain Admins is a member of this builtin group: priv.user is in it only through nesting.
const BUILTIN_ADMINISTRATORS_DN: &str = "CN=Administrators,CN=Builtin,DC=example,DC=test";

fn adapter(history_on_reset: HistoryOnReset) -> TestDirectory {
    connect(&samba_target(samba(), history_on_reset))
}

fn dn(user: &CastUser) -> Dn {
    Dn::new(user.dn.clone())
}

fn find(d: &TestDirectory, lookup: Lookup<'_>) -> Option<UserRecord> {
    d.run(|d| d.find_user(lookup))
        .unwrap_or_else(|e| panic!("find_user({lookup:?}) failed: {e}"))
}

fn found(d: &TestDirectory, lookup: Lookup<'_>) -> UserRecord {
    find(d, lookup).unwrap_or_else(|| panic!("find_user({lookup:?}) found nobody"))
}

fn expect_err<T: Debug>(result: Result<T, DirectoryError>, what: &str) -> DirectoryError {
    match result {
        Err(e) => e,
        Ok(v) => panic!("{what}: expected an error, got Ok({v:?})"),
    }
}

fn reset(
    d: &TestDirectory,
    user: &CastUser,
    password: &str,
    unlock: bool,
) -> Result<(), DirectoryError> {
    let secret = Secret::new(password);
    let user = dn(user);
    d.run(|d| d.reset_password(&user, &secret, unlock))
}

fn change(
    d: &TestDirectory,
    user: &CastUser,
    current: &str,
    new: &str,
) -> Result<(), DirectoryError> {
    let (current, new) = (Secret::new(current), Secret::new(new));
    let user = dn(user);
    d.run(|d| d.change_password(&user, &current, &new))
}

fn verify(d: &TestDirectory, user: &CastUser, password: &str) -> Result<(), DirectoryError> {
    let secret = Secret::new(password);
    let user = dn(user);
    d.run(|d| d.verify_password(&user, &secret))
}

fn unlock(d: &TestDirectory, user: &Dn) -> Result<(), DirectoryError> {
    d.run(|d| d.unlock(user))
}

/// Binds through the harness (not the adapter), so the adapter's writes are checked independently.
fn assert_binds(user: &CastUser, password: &str) {
    if let Err(e) = samba().bind(&user.upn, password) {
        panic!("{} should bind with this password: {e}", user.login);
    }
}

/// The diagnostic of a refused bind (rc 49); fails if the password works.
fn bind_refusal(user: &CastUser, password: &str) -> String {
    match samba().bind(&user.upn, password) {
        Err(LdapError::LdapResult { result }) if result.rc == 49 => result.text,
        Err(e) => panic!("bind as {}: expected rc 49, got {e}", user.login),
        Ok(_) => panic!("{} bound with a password that must not work", user.login),
    }
}

fn lowercase(dns: impl IntoIterator<Item = impl AsRef<str>>) -> BTreeSet<String> {
    dns.into_iter().map(|d| d.as_ref().to_lowercase()).collect()
}

fn assert_rejected(error: DirectoryError, reason: PasswordRejection, code: MessageCode) {
    match &error {
        DirectoryError::PasswordRejected { reason: got, .. } => {
            assert_eq!(*got, reason, "{error}");
        }
        other => panic!("expected PasswordRejected({reason:?}), got {other:?}"),
    }
    assert_eq!(error.code(), code, "{error}");
}

fn assert_user_bind(error: DirectoryError, reason: BindFailure, code: MessageCode) {
    match &error {
        DirectoryError::UserBind { reason: got, .. } => assert_eq!(*got, reason, "{error}"),
        other => panic!("expected UserBind({reason:?}), got {other:?}"),
    }
    assert_eq!(error.code(), code, "{error}");
}

#[test]
fn directory_samba_find_user_by_sam_account_name_upn_and_mail_with_every_field() {
    let dc = samba();
    let d = adapter(HistoryOnReset::Require);
    let normal = &dc.cast.normal;
    let mail = normal.mail.clone().unwrap();
    let record = found(&d, Lookup::Identifier(&normal.login));
    assert!(record.dn.same_as(&normal.dn), "{:?}", record.dn);
    assert_eq!(record.login, normal.login);
    assert_eq!(record.display_name, normal.display_name);
    assert!(!record.locked && !record.disabled && !record.admin_count);
    // Domain Users is the primary group (primaryGroupID, not `member`): no group lists normal.user.
    assert!(record.groups.is_empty(), "{:?}", record.groups);
    assert_eq!(record.emails, vec![mail.clone()]);
    assert_eq!(record.mobiles, vec![normal.mobile.clone().unwrap()]);
    assert!(record.badges.is_empty());
    assert_eq!(record.registration, None);

    for other in [
        normal.upn.as_str(),
        mail.as_str(),
        "NORMAL.USER",
        "  normal.user ",
    ] {
        assert_eq!(
            found(&d, Lookup::Identifier(other)),
            record,
            "lookup by {other:?}"
        );
    }
}

#[test]
fn directory_samba_find_user_by_badge() {
    let dc = samba();
    let d = adapter(HistoryOnReset::Require);
    let badge = &dc.cast.badge;
    let id = badge.badge.clone().unwrap();
    let record = found(&d, Lookup::Badge(&id));
    assert!(record.dn.same_as(&badge.dn), "{:?}", record.dn);
    assert_eq!(record.login, badge.login);
    assert_eq!(record.display_name, badge.display_name);
    assert_eq!(record.badges, vec![id.clone()]);
    assert_eq!(record.emails, vec![badge.mail.clone().unwrap()]);
    assert!(record.mobiles.is_empty());
    // A badge number is not a username, and a username is not a badge.
    assert_eq!(find(&d, Lookup::Identifier(&id)), None);
    assert_eq!(find(&d, Lookup::Badge(&badge.login)), None);
}

#[test]
fn directory_samba_groups_include_nested_membership_through_the_in_chain_rule() {
    let dc = samba();
    let user = dc.create_user("nested");
    let bystander = dc.create_user("bystander");
    let inner = dc.create_group("inner", &[&user.dn]);
    let middle = dc.create_group("middle", &[&inner]);
    let outer = dc.create_group("outer", &[&middle, &bystander.dn]);
    let unrelated = dc.create_group("unrelated", &[&bystander.dn]);

    let d = adapter(HistoryOnReset::Require);
    let record = found(&d, Lookup::Identifier(&user.login));
    assert_eq!(
        lowercase(record.groups.iter().map(Dn::as_str)),
        lowercase([&inner, &middle, &outer]),
        "direct and nested groups, nothing else"
    );
    assert!(record.is_member_of(&outer));
    assert!(!record.is_member_of(&unrelated));
}

#[test]
fn directory_samba_privileged_user_has_admin_count_and_nested_admin_groups() {
    let dc = samba();
    let d = adapter(HistoryOnReset::Require);
    let record = found(&d, Lookup::Identifier(&dc.cast.privileged.login));
    assert!(record.dn.same_as(&dc.cast.privileged.dn));
    assert!(record.admin_count, "priv.user has adminCount=1");
    assert!(record.is_member_of(DOMAIN_ADMINS_DN), "{:?}", record.groups);
    assert!(
        record.is_member_of(BUILTIN_ADMINISTRATORS_DN),
        "nested through Domain Admins: {:?}",
        record.groups
    );
    assert!(!record.locked);

    let normal = found(&d, Lookup::Identifier(&dc.cast.normal.login));
    assert!(!normal.admin_count);
}

#[test]
fn directory_samba_locked_and_disabled_accounts_read_as_such() {
    let dc = samba();
    let d = adapter(HistoryOnReset::Require);
    let locked = found(&d, Lookup::Identifier(&dc.cast.locked.login));
    assert!(
        locked.locked,
        "locked.user is locked by failed binds at start"
    );
    assert!(!locked.disabled);

    let user = dc.create_user("disabled");
    dc.replace_attr(&user.dn, "userAccountControl", &["514"]);
    let record = found(&d, Lookup::Identifier(&user.login));
    assert!(record.disabled && !record.locked, "{record:?}");
    let error = expect_err(verify(&d, &user, &user.password), "verify a disabled user");
    assert_user_bind(error, BindFailure::Disabled, MessageCode::AccountDisabled);
}

#[test]
fn directory_samba_unknown_user_is_none() {
    let d = adapter(HistoryOnReset::Require);
    for unknown in ["no.such.user", "no.such.user@example.test", "", "   "] {
        assert_eq!(find(&d, Lookup::Identifier(unknown)), None, "{unknown:?}");
    }
    assert_eq!(find(&d, Lookup::Badge("0000000001")), None);
}

#[test]
fn directory_samba_two_users_sharing_a_mail_are_never_guessed_between() {
    let dc = samba();
    let first = dc.create_user("ambig");
    let second = dc.create_user("ambig");
    let mail = first.mail.clone().unwrap();
    let d = adapter(HistoryOnReset::Require);
    assert!(found(&d, Lookup::Identifier(&mail)).dn.same_as(&first.dn));

    dc.replace_attr(&second.dn, "mail", &[&mail]);
    assert_eq!(
        find(&d, Lookup::Identifier(&mail)),
        None,
        "two people share {mail}"
    );
    // Each is still found by what is unique to them.
    assert!(
        found(&d, Lookup::Identifier(&first.login))
            .dn
            .same_as(&first.dn)
    );
    assert!(
        found(&d, Lookup::Identifier(&second.login))
            .dn
            .same_as(&second.dn)
    );
}

#[test]
fn directory_samba_injection_attempts_in_usernames_never_match() {
    let dc = samba();
    let d = adapter(HistoryOnReset::Require);
    // Controls: the real values are found, so a `None` below is the escaping, not a broken search.
    assert!(find(&d, Lookup::Identifier("normal.user")).is_some());
    assert!(find(&d, Lookup::Badge(dc.cast.badge.badge.as_deref().unwrap())).is_some());

    let hostile = [
        "*",
        ")(",
        "*)(",
        "normal*",
        "normal.use*",
        "*.user",
        "n*l.user",
        "*@example.test",
        "normal.user)(sAMAccountName=*",
        "*)(|(sAMAccountName=*",
        "normal.user)(|(objectClass=*)",
        "(sAMAccountName=normal.user)",
        "\0",
        "normal.user\0",
        "normal.user\0xyz",
        "\0normal.user",
        "\\00",
        "normal.user\\00",
        "\\2a",
        "normal\\2a",
        "\\",
    ];
    for value in hostile {
        assert_eq!(
            find(&d, Lookup::Identifier(value)),
            None,
            "identifier {value:?} must not match anyone"
        );
    }
    // Only badge.user has a badge: an unescaped `*` here would find exactly one person.
    for value in [
        "*",
        "0004567*",
        "*890",
        "0004567890)(employeeNumber=*",
        "0004567890\0",
    ] {
        assert_eq!(
            find(&d, Lookup::Badge(value)),
            None,
            "badge {value:?} must not match anyone"
        );
    }
}

#[test]
fn directory_samba_unlock_clears_a_lockout_from_real_failed_binds_and_is_idempotent() {
    let dc = samba();
    let user = dc.create_user("unlock");
    let d = adapter(HistoryOnReset::Require);
    let target = dn(&user);
    unlock(&d, &target).expect("unlocking an account that is not locked succeeds");

    dc.lock_user(&user);
    assert!(found(&d, Lookup::Identifier(&user.login)).locked);
    let refusal = bind_refusal(&user, &user.password);
    assert!(refusal.contains("data 775"), "locked: {refusal}");
    let error = expect_err(verify(&d, &user, &user.password), "verify while locked");
    assert_user_bind(error, BindFailure::Locked, MessageCode::AccountLocked);

    unlock(&d, &target).expect("unlock");
    assert!(!dc.is_locked(&user.dn));
    assert_eq!(dc.read_attr(&user.dn, "lockoutTime"), vec!["0".to_owned()]);
    assert!(!found(&d, Lookup::Identifier(&user.login)).locked);
    assert_binds(&user, &user.password);
    verify(&d, &user, &user.password).expect("verify after unlock");

    unlock(&d, &target).expect("unlock again is idempotent");
    assert!(!dc.is_locked(&user.dn));
    assert_binds(&user, &user.password);
}

#[test]
fn directory_samba_policy_hints_are_absent_and_require_refuses_resets_but_not_unlock() {
    let dc = samba();
    // The premise: Samba 4.17 announces neither policy-hints OID in its rootDSE.
    let (entries, _) = dc
        .admin_conn()
        .search("", Scope::Base, "(objectClass=*)", vec!["supportedControl"])
        .and_then(|r| r.success())
        .unwrap();
    let controls = SearchEntry::construct(entries.into_iter().next().unwrap())
        .attrs
        .remove("supportedControl")
        .unwrap_or_default();
    assert!(controls.len() > 5, "rootDSE supportedControl: {controls:?}");
    assert!(
        !controls
            .iter()
            .any(|c| c == "1.2.840.113556.1.4.2239" || c == "1.2.840.113556.1.4.2066"),
        "{controls:?}"
    );

    let user = dc.create_user("require");
    let d = adapter(HistoryOnReset::Require);
    for unlock_too in [false, true] {
        let error = expect_err(
            reset(&d, &user, &strong_password(), unlock_too),
            "reset under history_on_reset = require",
        );
        match &error {
            DirectoryError::HistoryNotEnforceable { url } => assert_eq!(url, dc.ldaps_url()),
            other => panic!("expected HistoryNotEnforceable, got {other:?}"),
        }
        assert_eq!(error.code(), MessageCode::NotPossibleHere);
        let reason = error.to_string();
        assert!(
            reason.contains(dc.ldaps_url()) && reason.contains("best-effort"),
            "the admin reason names the server and the way out: {reason}"
        );
    }
    assert_binds(&user, &user.password);

    dc.lock_user(&user);
    unlock(&d, &dn(&user)).expect("unlock keeps working under require");
    assert!(!dc.is_locked(&user.dn));
    assert_binds(&user, &user.password);
}

#[test]
fn directory_samba_best_effort_reset_sets_the_new_password_and_the_old_one_fails() {
    let dc = samba();
    let user = dc.create_user("reset");
    let d = adapter(HistoryOnReset::BestEffort);
    let new = strong_password();
    reset(&d, &user, &new, false).expect("reset under best-effort");
    assert_binds(&user, &new);
    let refusal = bind_refusal(&user, &user.password);
    assert!(refusal.contains("data 52e"), "old password: {refusal}");
    verify(&d, &user, &new).expect("verify the new password");
    let error = expect_err(verify(&d, &user, &user.password), "verify the old password");
    assert_user_bind(
        error,
        BindFailure::WrongPassword,
        MessageCode::WrongPassword,
    );
    assert!(!dc.is_locked(&user.dn));
}

#[test]
fn directory_samba_reset_does_not_unlock_but_reset_with_unlock_does() {
    let dc = samba();
    let user = dc.create_user("resetunlk");
    let d = adapter(HistoryOnReset::BestEffort);
    dc.lock_user(&user);

    let first = strong_password();
    reset(&d, &user, &first, false).expect("reset without unlock");
    assert!(dc.is_locked(&user.dn), "an AD reset alone does not unlock");
    assert!(bind_refusal(&user, &first).contains("data 775"));

    let second = strong_password();
    reset(&d, &user, &second, true).expect("reset with unlock");
    assert!(!dc.is_locked(&user.dn));
    assert!(!found(&d, Lookup::Identifier(&user.login)).locked);
    assert_binds(&user, &second);
}

#[test]
fn directory_samba_too_short_and_too_simple_passwords_are_refused_with_their_codes() {
    let dc = samba();
    let user = dc.create_user("quality");
    let d = adapter(HistoryOnReset::BestEffort);
    let too_short = "Ab1!x";
    let too_simple = "abcdefghijkl";

    let error = expect_err(reset(&d, &user, too_short, false), "reset too short");
    assert_rejected(
        error,
        PasswordRejection::TooShort,
        MessageCode::PasswordTooShort,
    );
    let error = expect_err(reset(&d, &user, too_simple, false), "reset too simple");
    assert_rejected(
        error,
        PasswordRejection::TooSimple,
        MessageCode::PasswordTooSimple,
    );

    let error = expect_err(
        change(&d, &user, &user.password, too_short),
        "change too short",
    );
    assert_rejected(
        error,
        PasswordRejection::TooShort,
        MessageCode::PasswordTooShort,
    );
    let error = expect_err(
        change(&d, &user, &user.password, too_simple),
        "change too simple",
    );
    assert_rejected(
        error,
        PasswordRejection::TooSimple,
        MessageCode::PasswordTooSimple,
    );

    assert_binds(&user, &user.password);
}

#[test]
fn directory_samba_change_password_enforces_history_and_checks_the_current_one() {
    let dc = samba();
    let user = dc.create_user("change");
    let d = adapter(HistoryOnReset::Require);
    let original = user.password.clone();
    let next = strong_password();

    change(&d, &user, &original, &next).expect("a good change (allowed under require)");
    assert_binds(&user, &next);
    assert!(bind_refusal(&user, &original).contains("data 52e"));

    let error = expect_err(
        change(&d, &user, &next, &original),
        "change back to the previous one",
    );
    assert_rejected(
        error,
        PasswordRejection::InHistory,
        MessageCode::PasswordInHistory,
    );
    let error = expect_err(change(&d, &user, &next, &next), "change to the current one");
    assert_rejected(
        error,
        PasswordRejection::InHistory,
        MessageCode::PasswordInHistory,
    );

    let error = expect_err(
        change(&d, &user, &strong_password(), &strong_password()),
        "change with a wrong current password",
    );
    assert_user_bind(
        error,
        BindFailure::WrongPassword,
        MessageCode::WrongPassword,
    );
    assert_binds(&user, &next);
}

#[test]
fn directory_samba_privileged_user_is_never_reset_or_unlocked() {
    let dc = samba();
    let privileged = &dc.cast.privileged;
    let d = adapter(HistoryOnReset::BestEffort);
    let attempts = [
        ("reset", reset(&d, privileged, &strong_password(), false)),
        ("unlock", unlock(&d, &dn(privileged))),
    ];
    for (what, result) in attempts {
        let error = expect_err(result, what);
        match &error {
            DirectoryError::ProtectedAccount { dn, .. } => assert_eq!(dn, &privileged.dn),
            other => panic!("{what} of priv.user: expected ProtectedAccount, got {other:?}"),
        }
        assert_eq!(error.code(), MessageCode::AccountProtected, "{what}");
    }
    assert_binds(privileged, &privileged.password);

    // Outside the delegated OU without adminCount: a missing right, for an admin to fix.
    let service = Dn::new(dc.cast.service.dn.clone());
    let error = expect_err(unlock(&d, &service), "unlock outside the delegated OU");
    assert!(
        matches!(&error, DirectoryError::InsufficientAccess { dn, .. } if dn == &dc.cast.service.dn),
        "{error:?}"
    );
    assert_eq!(error.code(), MessageCode::NotPossibleHere);
}

#[test]
fn directory_samba_non_ascii_passwords_are_reset_changed_and_bind() {
    let dc = samba();
    let user = dc.create_user("unicode");
    let d = adapter(HistoryOnReset::BestEffort);
    let umlauts = "ÄÖÜ€straße42";
    let emoji = "Kp😀Schlüssel7!";

    reset(&d, &user, umlauts, false).expect("reset to ÄÖÜ€");
    assert_binds(&user, umlauts);
    verify(&d, &user, umlauts).expect("verify ÄÖÜ€");
    assert!(bind_refusal(&user, &user.password).contains("data 52e"));

    change(&d, &user, umlauts, emoji).expect("change from ÄÖÜ€ to an emoji password");
    assert_binds(&user, emoji);
    verify(&d, &user, emoji).expect("verify emoji");

    let other = dc.create_user("emoji");
    reset(&d, &other, emoji, false).expect("reset to an emoji password");
    assert_binds(&other, emoji);
}

#[test]
fn directory_samba_verify_password_right_and_wrong() {
    let dc = samba();
    let user = dc.create_user("verify");
    let d = adapter(HistoryOnReset::Require);
    verify(&d, &user, &user.password).expect("the right password");
    let error = expect_err(verify(&d, &user, &strong_password()), "a wrong password");
    assert_user_bind(
        error,
        BindFailure::WrongPassword,
        MessageCode::WrongPassword,
    );
    let error = expect_err(verify(&d, &user, ""), "an empty password");
    assert_user_bind(
        error,
        BindFailure::WrongPassword,
        MessageCode::WrongPassword,
    );
    verify(&d, &user, &user.password).expect("the right password again");
}

#[test]
fn directory_samba_registration_round_trips_in_ms_ds_cloud_extension_attribute1() {
    let dc = samba();
    let user = dc.create_user("register");
    let d = adapter(HistoryOnReset::Require);
    let target = dn(&user);
    assert_eq!(d.run(|d| d.read_registration(&target)).unwrap(), None);

    let blob: String = format!("v1.{}", "QmFzZTY0K/=".repeat(200));
    d.run(|d| d.write_registration(&target, Some(&blob)))
        .expect("write the registration");
    assert_eq!(
        d.run(|d| d.read_registration(&target)).unwrap().as_deref(),
        Some(blob.as_str())
    );
    assert_eq!(
        dc.read_attr(&user.dn, REGISTRATION_ATTR),
        vec![blob.clone()]
    );
    assert_eq!(
        found(&d, Lookup::Identifier(&user.login))
            .registration
            .as_deref(),
        Some(blob.as_str())
    );

    let replaced = "v1.second";
    d.run(|d| d.write_registration(&target, Some(replaced)))
        .expect("replace the registration");
    assert_eq!(
        dc.read_attr(&user.dn, REGISTRATION_ATTR),
        vec![replaced.to_owned()]
    );

    d.run(|d| d.write_registration(&target, None))
        .expect("remove the registration");
    assert_eq!(d.run(|d| d.read_registration(&target)).unwrap(), None);
    assert!(dc.read_attr(&user.dn, REGISTRATION_ATTR).is_empty());
    d.run(|d| d.write_registration(&target, None))
        .expect("removing an absent registration is fine");

    // Protected accounts keep their registration out of the kiosk's reach too.
    let privileged = dn(&dc.cast.privileged);
    let error = expect_err(
        d.run(|d| d.write_registration(&privileged, Some("v1.x"))),
        "write on priv.user",
    );
    assert_eq!(error.code(), MessageCode::AccountProtected, "{error:?}");
}

#[test]
fn directory_samba_an_entry_that_vanished_is_no_such_user() {
    let dc = samba();
    let d = adapter(HistoryOnReset::BestEffort);
    let gone = Dn::new(format!("CN=gone.user,{}", dc.users_ou));
    let password = Secret::new(strong_password());
    let attempts = [
        ("unlock", unlock(&d, &gone)),
        (
            "reset",
            d.run(|d| d.reset_password(&gone, &password, false)),
        ),
        (
            "read registration",
            d.run(|d| d.read_registration(&gone)).map(|_| ()),
        ),
        (
            "write registration",
            d.run(|d| d.write_registration(&gone, Some("v1.x"))),
        ),
    ];
    for (what, result) in attempts {
        let error = expect_err(result, what);
        assert!(
            matches!(&error, DirectoryError::NoSuchUser { dn } if dn == gone.as_str()),
            "{what}: {error:?}"
        );
        assert_eq!(error.code(), MessageCode::NotPossibleHere, "{what}");
    }
}

#[test]
fn directory_samba_a_certificate_from_another_ca_is_refused_naming_the_url() {
    let dc = samba();
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestPki::create(other_dir.path(), "some other CA");
    let mut target = samba_target(dc, HistoryOnReset::Require);
    target.ca_file = Some(&other.ca_pem);
    let d = connect(&target);

    let user = &dc.cast.normal;
    let attempts = [
        (
            "find_user",
            d.run(|d| d.find_user(Lookup::Identifier(&user.login)))
                .map(|_| ()),
        ),
        ("verify_password", verify(&d, user, &user.password)),
    ];
    for (what, result) in attempts {
        let error = expect_err(result, what);
        match &error {
            DirectoryError::Tls { url, .. } => assert_eq!(url, dc.ldaps_url(), "{what}"),
            other => panic!("{what}: expected Tls, got {other:?}"),
        }
        assert!(error.to_string().contains(dc.ldaps_url()), "{error}");
        assert_eq!(error.code(), MessageCode::NotPossibleHere);
        assert!(!error.is_transient());
    }
}

/// A port on 127.0.0.1 nobody listens on (bound, then released).
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("ldaps://127.0.0.1:{port}")
}

#[test]
fn directory_samba_a_dead_first_url_fails_over_to_the_second() {
    let dc = samba();
    let user = dc.create_user("failover");
    let dead = closed_port_url();
    let mut target = samba_target(dc, HistoryOnReset::Require);
    target.urls = vec![dead.clone(), dc.ldaps_url().to_owned()];
    let d = connect(&target);

    let start = Instant::now();
    let record = found(&d, Lookup::Identifier(&user.login));
    assert!(record.dn.same_as(&user.dn));
    verify(&d, &user, &user.password).expect("a user bind fails over too");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "a refused port is skipped at once: {:?}",
        start.elapsed()
    );

    // Nothing answers at all: unreachable, with every URL tried, and worth retrying.
    let mut target = samba_target(dc, HistoryOnReset::Require);
    let other_dead = closed_port_url();
    target.urls = vec![dead.clone(), other_dead.clone()];
    let d = connect(&target);
    let error = expect_err(
        d.run(|d| d.find_user(Lookup::Identifier(&user.login))),
        "all dead",
    );
    match &error {
        DirectoryError::Unreachable { attempts } => {
            let urls: Vec<&str> = attempts.iter().map(|(url, _)| url.as_str()).collect();
            assert_eq!(urls, [dead.as_str(), other_dead.as_str()]);
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert_eq!(error.code(), MessageCode::DirectoryUnavailable);
    assert!(error.is_transient());
}

#[test]
fn directory_samba_a_wrong_service_password_is_an_admin_error() {
    let dc = samba();
    // One failed bind of svc-sspr per DC process: far below the lockout threshold of 3.
    let mut target = samba_target(dc, HistoryOnReset::Require);
    target.bind_password = "Not-the-service-passw0rd";
    let d = connect(&target);
    let error = expect_err(
        d.run(|d| d.find_user(Lookup::Identifier("normal.user"))),
        "wrong service password",
    );
    match &error {
        DirectoryError::ServiceBind { url, bind_dn, .. } => {
            assert_eq!(url, dc.ldaps_url());
            assert_eq!(bind_dn, &dc.cast.service.dn);
        }
        other => panic!("expected ServiceBind, got {other:?}"),
    }
    assert_eq!(error.code(), MessageCode::NotPossibleHere);
    assert!(!error.is_transient());
}

#[test]
fn directory_samba_a_user_who_must_change_their_password_can_change_it() {
    let dc = samba();
    let user = dc.create_user("mustchange");
    dc.replace_attr(&user.dn, "pwdLastSet", &["0"]);
    let d = adapter(HistoryOnReset::Require);
    // AD refuses the bind (data 773) although the password is right.
    let error = expect_err(
        verify(&d, &user, &user.password),
        "verify a must-change user",
    );
    assert!(
        matches!(
            &error,
            DirectoryError::UserBind {
                reason: BindFailure::MustChange,
                ..
            }
        ),
        "{error:?}"
    );
    // The password was right: the person is told it has expired, not that it was wrong.
    assert_eq!(error.code(), MessageCode::PasswordExpired);

    let error = expect_err(
        change(&d, &user, &strong_password(), &strong_password()),
        "must change, wrong current password",
    );
    assert_user_bind(
        error,
        BindFailure::WrongPassword,
        MessageCode::WrongPassword,
    );
    let error = expect_err(
        change(&d, &user, &user.password, &user.password),
        "must change, to the same password",
    );
    assert_rejected(
        error,
        PasswordRejection::InHistory,
        MessageCode::PasswordInHistory,
    );

    let new = strong_password();
    change(&d, &user, &user.password, &new).expect("a must-change user changes their password");
    assert_binds(&user, &new);
    assert!(bind_refusal(&user, &user.password).contains("data 52e"));
    assert_ne!(dc.read_attr(&user.dn, "pwdLastSet"), vec!["0".to_owned()]);
    verify(&d, &user, &new).expect("verify after the change");
}

//! Proves the slapd harness gives what the directory tests rely on: LDAPS with a verified certificate,
//! ppolicy lockout and history, the service account's least-privilege rights, and the seeded cast.

use std::collections::HashSet;

use ldap3::exop::{WhoAmI, WhoAmIResp};
use ldap3::{LdapConn, LdapError, LdapResult, Mod, Scope, SearchEntry};

use crate::harness::certs::TestPki;
use crate::harness::slapd::ppolicy::{
    PASSWORD_MODIFY_OID, PpolicyError, password_modify, ppolicy_error,
};
use crate::harness::slapd::{MAX_FAILURES, Slapd, slapd};

/// The LDAP result of a bind that must fail.
fn bind_failure(outcome: Result<LdapConn, LdapError>) -> LdapResult {
    match outcome {
        Ok(_) => panic!("the bind succeeded but must fail"),
        Err(LdapError::LdapResult { result }) => result,
        Err(other) => panic!("the bind failed without an LDAP result: {other}"),
    }
}

fn entry(conn: &mut LdapConn, base: &str, filter: &str, attrs: &[&str]) -> Option<SearchEntry> {
    let (entries, _) = conn
        .search(base, Scope::Subtree, filter, attrs.to_vec())
        .unwrap()
        .success()
        .unwrap();
    assert!(
        entries.len() <= 1,
        "{filter} matched {} entries",
        entries.len()
    );
    entries.into_iter().next().map(SearchEntry::construct)
}

fn first(entry: &SearchEntry, attr: &str) -> Option<String> {
    entry.attrs.get(attr).and_then(|v| v.first().cloned())
}

#[test]
fn slapd_ldaps_binds_as_root_and_as_a_user() {
    let s = slapd();
    assert!(s.ldaps_url().starts_with("ldaps://127.0.0.1:"));
    s.bind(&s.root_dn, &s.root_password)
        .expect("root DN binds over LDAPS");
    let mut conn = s
        .bind(&s.cast.normal.dn, &s.cast.normal.password)
        .expect("normal.user binds");
    let who = conn
        .extended(WhoAmI)
        .unwrap()
        .success()
        .unwrap()
        .0
        .parse::<WhoAmIResp>();
    assert_eq!(who.authzid, format!("dn:{}", s.cast.normal.dn));
}

#[test]
fn slapd_wrong_password_fails_with_rc_49() {
    let s = slapd();
    let user = s.create_user("wrongpw");
    let result = bind_failure(s.bind(&user.dn, "Not-The-Password-1"));
    assert_eq!(result.rc, 49);
    assert_eq!(ppolicy_error(&result), None, "one bad bind does not lock");
    s.bind(&user.dn, &user.password)
        .expect("the right password still binds");
}

#[test]
fn slapd_tls_client_refuses_a_server_signed_by_another_ca() {
    let s = slapd();
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestPki::create(other_dir.path(), "some other CA");
    let outcome = s
        .connect_with(other.client_config())
        .and_then(|mut c| c.simple_bind(&s.root_dn, &s.root_password));
    let err = outcome.expect_err("a client trusting another CA must refuse the server");
    assert!(
        format!("{err:?}").contains("UnknownIssuer"),
        "unexpected error: {err:?}"
    );
}

#[test]
fn slapd_three_wrong_binds_lock_until_the_service_account_unlocks() {
    let s = slapd();
    let user = s.create_user("lockout");
    for attempt in 0..MAX_FAILURES {
        assert!(
            !s.is_locked(&user.dn),
            "locked after only {attempt} bad binds"
        );
        assert_eq!(
            bind_failure(s.bind(&user.dn, &format!("Wrong#{attempt}-pass"))).rc,
            49
        );
    }
    assert!(
        s.is_locked(&user.dn),
        "pwdAccountLockedTime set after {MAX_FAILURES} bad binds"
    );

    let refused = bind_failure(s.bind(&user.dn, &user.password));
    assert_eq!(
        refused.rc, 49,
        "a locked account refuses even the right password"
    );
    assert_eq!(ppolicy_error(&refused), Some(PpolicyError::AccountLocked));

    let mut service = s.service_conn();
    let unlock = Mod::Delete("pwdAccountLockedTime", HashSet::new());
    service
        .modify(&user.dn, vec![unlock])
        .unwrap()
        .success()
        .expect("the service account unlocks");
    assert!(!s.is_locked(&user.dn));
    s.bind(&user.dn, &user.password)
        .expect("the user binds again after the unlock");
}

#[test]
fn slapd_service_reset_is_checked_against_history() {
    let s = slapd();
    let user = s.create_user("history");
    let mut service = s.service_conn();

    let fresh = "Brand#New-Pass-77";
    let reset = password_modify(&mut service, &user.dn, fresh);
    assert_eq!(reset.rc, 0, "a fresh password is accepted: {reset:?}");
    s.bind(&user.dn, fresh).expect("the new password binds");
    assert_eq!(
        bind_failure(s.bind(&user.dn, &user.password)).rc,
        49,
        "the old one no longer does"
    );

    let reuse = password_modify(&mut service, &user.dn, &user.password);
    assert_eq!(reuse.rc, 19, "a password in history is refused: {reuse:?}");
    assert_eq!(ppolicy_error(&reuse), Some(PpolicyError::PasswordInHistory));

    let short = password_modify(&mut service, &user.dn, "Sh0rt!");
    assert_eq!(
        short.rc, 19,
        "a password under pwdMinLength is refused: {short:?}"
    );
    assert_eq!(ppolicy_error(&short), Some(PpolicyError::PasswordTooShort));
    s.bind(&user.dn, fresh)
        .expect("refused resets leave the password alone");
}

#[test]
fn slapd_service_account_has_least_privilege() {
    let s = slapd();
    let mut service = s.service_conn();
    let normal = &s.cast.normal;
    let found = entry(&mut service, &normal.dn, "(objectClass=*)", &["*", "+"]).unwrap();
    assert!(
        !found.attrs.contains_key("userPassword"),
        "password hashes must stay unreadable"
    );
    assert_eq!(first(&found, "mail").as_deref(), normal.mail.as_deref());

    let edit = Mod::Replace("mail", HashSet::from(["evil@example.test"]));
    let rc = service.modify(&normal.dn, vec![edit]).unwrap().rc;
    assert_eq!(
        rc, 50,
        "the service account may not change other attributes"
    );

    let rootdse = service.search(
        "",
        Scope::Base,
        "(objectClass=*)",
        vec!["supportedExtension"],
    );
    let (entries, _) = rootdse.unwrap().success().unwrap();
    let extensions = &SearchEntry::construct(entries[0].clone()).attrs["supportedExtension"];
    assert!(extensions.iter().any(|e| e == PASSWORD_MODIFY_OID));
}

#[test]
fn slapd_user_changes_their_own_password() {
    let s = slapd();
    let user = s.create_user("selfchange");
    let mut conn = s.bind(&user.dn, &user.password).unwrap();
    let change = password_modify(&mut conn, &user.dn, "Chosen#By-Me-2024");
    assert_eq!(change.rc, 0, "{change:?}");
    s.bind(&user.dn, "Chosen#By-Me-2024")
        .expect("the chosen password binds");
    let stored = s.read_attr(&user.dn, "userPassword");
    assert!(
        stored.iter().all(|v| v.starts_with("{SSHA}")),
        "ppolicy hashes cleartext: {stored:?}"
    );
}

#[test]
fn slapd_cast_users_exist_with_their_attributes() {
    let s = slapd();
    let mut service = s.service_conn();
    let attrs = ["mail", "mobile", "employeeNumber", "displayName"];
    for user in s.cast.all() {
        let filter = format!("(uid={})", user.login);
        let found = entry(&mut service, &s.base_dn, &filter, &attrs)
            .unwrap_or_else(|| panic!("{} is missing", user.login));
        let read = |attr| first(&found, attr);
        assert_eq!(found.dn, user.dn);
        assert_eq!(read("displayName").as_ref(), Some(&user.display_name));
        assert_eq!(read("mail"), user.mail, "{}", user.login);
        assert_eq!(read("mobile"), user.mobile, "{}", user.login);
        assert_eq!(read("employeeNumber"), user.badge, "{}", user.login);
        if user.login != s.cast.locked.login {
            s.bind(&user.dn, &user.password)
                .unwrap_or_else(|e| panic!("{}: {e}", user.login));
        }
    }
    let normal = &s.cast.normal;
    assert_eq!(normal.display_name, "Norma Normal");
    assert_eq!(normal.mail.as_deref(), Some("normal.user@example.test"));
    assert_eq!(normal.mobile.as_deref(), Some("+15550100001"));
    let unregistered = &s.cast.unregistered;
    assert_eq!((&unregistered.mail, &unregistered.mobile), (&None, &None));
    let badge = entry(
        &mut service,
        &s.base_dn,
        "(employeeNumber=0004567890)",
        &["uid"],
    );
    assert_eq!(badge.unwrap().dn, s.cast.badge.dn);
    assert_eq!(s.cast.service.dn, s.service_dn);
    s.bind(&s.cast.service.dn, &s.cast.service.password)
        .expect("the service account binds");
}

#[test]
fn slapd_priv_user_is_an_admin_and_locked_user_is_locked() {
    let s = slapd();
    let mut service = s.service_conn();
    let filter = format!(
        "(&(objectClass=groupOfNames)(member={}))",
        s.cast.privileged.dn
    );
    let group = entry(&mut service, &s.base_dn, &filter, &["cn"]).expect("priv.user's group");
    assert_eq!(group.dn, s.admins_group_dn);
    let filter = format!("(member={})", s.cast.normal.dn);
    assert!(entry(&mut service, &s.base_dn, &filter, &["cn"]).is_none());

    let locked = &s.cast.locked;
    assert!(s.is_locked(&locked.dn));
    assert!(!s.is_locked(&s.cast.normal.dn));
    let refused = bind_failure(s.bind(&locked.dn, &locked.password));
    assert_eq!(
        (refused.rc, ppolicy_error(&refused)),
        (49, Some(PpolicyError::AccountLocked))
    );
}

#[test]
fn slapd_restart_keeps_data_and_ports() {
    let mut own = Slapd::start();
    let user = own.create_user("outage");
    let url = own.ldaps_url();
    own.stop();
    assert!(!own.is_running());
    assert!(
        own.try_connect().is_err(),
        "nothing answers while slapd is stopped"
    );
    own.restart();
    assert_eq!(own.ldaps_url(), url);
    own.bind(&user.dn, &user.password)
        .expect("the data survived the restart");
    assert!(own.is_locked(&own.cast.locked.dn));
    own.stop();
}

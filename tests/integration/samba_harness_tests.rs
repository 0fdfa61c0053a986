//! Proof that the Samba AD DC harness starts a real directory that behaves like AD: TLS with our CA only,
//! the seeded cast, real lockout, and a service account that may reset and unlock in its OU but not a
//! protected Domain Admin. Every test can fail against a server that does not do this.

use std::collections::HashSet;

use ldap3::{LdapConn, LdapError, Mod, Scope, SearchEntry};

use crate::harness::certs::TestPki;
use crate::harness::samba::{
    CastUser, DOMAIN_ADMINS_DN, reset_password_mod, samba, strong_password,
};

/// rc and diagnostic text of an LDAP failure (panics on transport errors: those are not answers).
fn ldap_failure(result: Result<LdapConn, LdapError>) -> (u32, String) {
    match result {
        Err(LdapError::LdapResult { result }) => (result.rc, result.text),
        Err(e) => panic!("expected an LDAP result, got a transport error: {e}"),
        Ok(_) => panic!("expected the operation to fail, but it succeeded"),
    }
}

fn entry(conn: &mut LdapConn, dn: &str, attrs: &[&str]) -> SearchEntry {
    let (mut entries, _) = conn
        .search(dn, Scope::Base, "(objectClass=*)", attrs.to_vec())
        .and_then(|r| r.success())
        .unwrap_or_else(|e| panic!("search {dn}: {e}"));
    assert_eq!(entries.len(), 1, "{dn} should exist exactly once");
    SearchEntry::construct(entries.remove(0))
}

fn single(entry: &SearchEntry, attr: &str) -> Option<String> {
    entry.attrs.get(attr).map(|values| {
        assert_eq!(
            values.len(),
            1,
            "{attr} of {} should be single-valued",
            entry.dn
        );
        values[0].clone()
    })
}

#[test]
fn samba_admin_binds_over_ldaps_and_a_wrong_password_is_rc_49() {
    let dc = samba();
    let mut admin = dc.admin_conn();
    let root = entry(&mut admin, &dc.base_dn, &["distinguishedName"]);
    assert_eq!(
        single(&root, "distinguishedName").as_deref(),
        Some(dc.base_dn.as_str())
    );

    let (rc, text) = ldap_failure(dc.bind(&dc.admin_dn, "Wrong-Passw0rd!"));
    assert_eq!(rc, 49, "wrong password must be invalidCredentials: {text}");
    assert!(
        text.contains("data 52e"),
        "wrong password diagnostic: {text}"
    );
}

#[test]
fn samba_tls_client_refuses_a_server_certificate_from_another_ca() {
    let dc = samba();
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestPki::create(other_dir.path(), "some other CA");
    let Err(err) = dc.connect_with(other.client_config()) else {
        panic!("TLS with a foreign CA must fail");
    };
    // Refused for the issuer, not for some other reason (a closed port would fail too).
    let message = format!("{err:?}");
    assert!(message.contains("UnknownIssuer"), "{message}");

    // The same path with the right CA connects: the failure above is the CA, not the plumbing.
    dc.connect_with(dc.pki.client_config())
        .expect("TLS with the harness CA");
}

#[test]
fn samba_cast_users_exist_with_their_attributes_and_passwords() {
    let dc = samba();
    let mut admin = dc.admin_conn();
    let c = &dc.cast;
    for user in [
        &c.normal,
        &c.locked,
        &c.privileged,
        &c.unregistered,
        &c.badge,
        &c.service,
    ] {
        let attrs = [
            "sAMAccountName",
            "userPrincipalName",
            "displayName",
            "mail",
            "mobile",
        ];
        let e = entry(
            &mut admin,
            &user.dn,
            &[&attrs[..], &["employeeNumber"]].concat(),
        );
        assert_eq!(
            single(&e, "sAMAccountName").as_deref(),
            Some(user.login.as_str())
        );
        assert_eq!(
            single(&e, "userPrincipalName").as_deref(),
            Some(user.upn.as_str())
        );
        assert_eq!(
            single(&e, "displayName").as_deref(),
            Some(user.display_name.as_str())
        );
        assert_eq!(single(&e, "mail"), user.mail, "mail of {}", user.login);
        assert_eq!(
            single(&e, "mobile"),
            user.mobile,
            "mobile of {}",
            user.login
        );
        assert_eq!(
            single(&e, "employeeNumber"),
            user.badge,
            "badge of {}",
            user.login
        );
        assert!(user.upn.ends_with("@example.test"), "{}", user.upn);
        if user.login != c.locked.login {
            dc.bind(&user.upn, &user.password)
                .unwrap_or_else(|e| panic!("{} should bind with its password: {e}", user.login));
        }
    }
    assert!(c.normal.dn.ends_with(&format!(",{}", dc.users_ou)));
    assert!(
        !c.service.dn.ends_with(&dc.users_ou),
        "the service account lives outside the OU"
    );
    assert_eq!(c.normal.display_name, "Norma Normal");
    assert_eq!(c.normal.mobile.as_deref(), Some("+15550100001"));
    assert_eq!(c.badge.badge.as_deref(), Some("0004567890"));
    assert_eq!(
        (c.unregistered.mail.as_ref(), c.unregistered.mobile.as_ref()),
        (None, None)
    );
}

#[test]
fn samba_locked_user_is_locked_by_real_failed_binds_and_normal_user_binds() {
    let dc = samba();
    let locked = &dc.cast.locked;
    assert!(dc.is_locked(&locked.dn));
    let lockout_time: i64 = dc.read_attr(&locked.dn, "lockoutTime")[0].parse().unwrap();
    assert!(
        lockout_time > 0,
        "lockoutTime of a locked user: {lockout_time}"
    );
    let (rc, text) = ldap_failure(dc.bind(&locked.upn, &locked.password));
    assert_eq!(rc, 49, "{text}");
    assert!(
        text.contains("data 775"),
        "a locked account's bind diagnostic: {text}"
    );

    assert!(!dc.is_locked(&dc.cast.normal.dn));
    dc.bind(&dc.cast.normal.dn, &dc.cast.normal.password)
        .expect("normal.user binds by DN");
    dc.bind(&dc.cast.normal.upn, &dc.cast.normal.password)
        .expect("normal.user binds by UPN");
}

#[test]
fn samba_priv_user_is_a_protected_domain_admin() {
    let dc = samba();
    let mut admin = dc.admin_conn();
    let privileged = &dc.cast.privileged;
    let e = entry(&mut admin, &privileged.dn, &["memberOf", "adminCount"]);
    let groups = e.attrs.get("memberOf").cloned().unwrap_or_default();
    assert!(
        groups
            .iter()
            .any(|g| g.eq_ignore_ascii_case(DOMAIN_ADMINS_DN)),
        "{groups:?}"
    );
    assert_eq!(single(&e, "adminCount").as_deref(), Some("1"));

    let members = entry(&mut admin, DOMAIN_ADMINS_DN, &["member"]);
    let members = members.attrs.get("member").cloned().unwrap_or_default();
    assert!(
        members
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&privileged.dn)),
        "{members:?}"
    );
    assert!(
        !members
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&dc.cast.normal.dn))
    );
}

#[test]
fn samba_service_account_resets_a_password_and_the_old_one_stops_working() {
    let dc = samba();
    let user = dc.create_user("reset");
    let new_password = strong_password();
    dc.service_conn()
        .modify(&user.dn, reset_password_mod(&new_password))
        .and_then(|r| r.success())
        .expect("svc-sspr may reset a password in the OU");

    dc.bind(&user.upn, &new_password)
        .expect("the new password binds");
    let (rc, text) = ldap_failure(dc.bind(&user.upn, &user.password));
    assert_eq!(rc, 49, "the old password must stop working at once: {text}");
}

#[test]
fn samba_service_account_unlocks_a_locked_user() {
    let dc = samba();
    let user: CastUser = dc.create_user("unlock");
    dc.lock_user(&user);
    let (rc, text) = ldap_failure(dc.bind(&user.upn, &user.password));
    assert!(
        rc == 49 && text.contains("data 775"),
        "locked even with the right password: {text}"
    );

    let unlock = vec![Mod::Replace(
        b"lockoutTime".to_vec(),
        HashSet::from([b"0".to_vec()]),
    )];
    dc.service_conn()
        .modify(&user.dn, unlock)
        .and_then(|r| r.success())
        .expect("svc-sspr may write lockoutTime in the OU");
    assert!(!dc.is_locked(&user.dn));
    dc.bind(&user.upn, &user.password)
        .expect("the unlocked user binds again");
}

#[test]
fn samba_service_account_cannot_reset_or_unlock_a_domain_admin() {
    let dc = samba();
    let privileged = &dc.cast.privileged;
    let mut svc = dc.service_conn();
    let reset = svc
        .modify(&privileged.dn, reset_password_mod(&strong_password()))
        .map(|r| r.rc);
    assert_eq!(
        reset.expect("an LDAP answer"),
        50,
        "reset of a Domain Admin: insufficientAccessRights"
    );
    let unlock = vec![Mod::Replace(
        b"lockoutTime".to_vec(),
        HashSet::from([b"0".to_vec()]),
    )];
    assert_eq!(
        svc.modify(&privileged.dn, unlock)
            .map(|r| r.rc)
            .expect("an LDAP answer"),
        50
    );

    // Nor outside its OU: the delegation is scoped.
    let outside = svc
        .modify(&dc.admin_dn, reset_password_mod(&strong_password()))
        .map(|r| r.rc);
    assert_eq!(outside.expect("an LDAP answer"), 50, "reset outside the OU");
    dc.bind(&privileged.upn, &privileged.password)
        .expect("priv.user's password is unchanged");
}

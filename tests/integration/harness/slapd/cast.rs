//! The test cast in slapd: the same people (and field names) as the Samba harness, with known strong
//! passwords, and fresh users for tests that change state. People are added over LDAP so ppolicy
//! hashes their passwords; the service account comes from `tests/fixtures/slapd_seed.ldif`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};

use ldap3::LdapConn;

use super::{PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD};

pub use crate::harness::cast::{Cast, CastUser};

impl Cast {
    pub(super) fn new() -> Cast {
        let person = |login: &str, name: &str, password: &str| CastUser {
            login: login.to_owned(),
            upn: format!("{login}@example.test"),
            dn: format!("uid={login},{PEOPLE_DN}"),
            display_name: name.to_owned(),
            password: password.to_owned(),
            mail: Some(format!("{login}@example.test")),
            mobile: None,
            badge: None,
        };
        let mobile = |number: &str| Some(number.to_owned());
        Cast {
            normal: CastUser {
                mobile: mobile("+15550100001"),
                ..person("normal.user", "Norma Normal", "Norma#Normal-2024")
            },
            locked: CastUser {
                mobile: mobile("+15550100002"),
                ..person("locked.user", "Lockie Locked", "Lockie#Locked-2024")
            },
            privileged: CastUser {
                mobile: mobile("+15550100003"),
                ..person("priv.user", "Prisca Privileged", "Prisca#Priv-2024")
            },
            unregistered: CastUser {
                mail: None,
                ..person("noreg.user", "Noah Noreg", "Noah#Noreg-2024")
            },
            badge: CastUser {
                badge: Some("0004567890".to_owned()),
                ..person("badge.user", "Bea Badge", "Bea#Badge-2024")
            },
            service: CastUser {
                dn: SERVICE_DN.to_owned(),
                mail: None,
                ..person("sspr-kiosk", "SSPR kiosk service", SERVICE_PASSWORD)
            },
        }
    }

    /// The five people (not the service account).
    pub fn all(&self) -> [&CastUser; 5] {
        [
            &self.normal,
            &self.locked,
            &self.privileged,
            &self.unregistered,
            &self.badge,
        ]
    }
}

impl CastUser {
    /// A user no other test uses: `<prefix>.<n>` (prefix cut to 12 alphanumerics), with mail, mobile
    /// and badge.
    pub(super) fn fresh(prefix: &str) -> CastUser {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let prefix: String = prefix
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect();
        let login = format!("{prefix}.{n}");
        CastUser {
            dn: format!("uid={login},{PEOPLE_DN}"),
            display_name: format!("Fresh User {n}"),
            password: format!("Fresh#{n}-Start-2024"),
            mail: Some(format!("{login}@example.test")),
            mobile: Some(format!("+1555020{n:04}")),
            badge: Some(format!("09{n:08}")),
            upn: format!("{login}@example.test"),
            login,
        }
    }
}

/// Adds `user` as an inetOrgPerson; the cleartext password is hashed by ppolicy on the way in.
pub(super) fn add_user(conn: &mut LdapConn, user: &CastUser) {
    let name = user.display_name.as_str();
    let (given, surname) = name.split_once(' ').unwrap_or((name, name));
    let mut attrs: Vec<(&str, HashSet<&str>)> = vec![
        ("objectClass", HashSet::from(["inetOrgPerson"])),
        ("uid", HashSet::from([user.login.as_str()])),
        ("cn", HashSet::from([name])),
        ("givenName", HashSet::from([given])),
        ("sn", HashSet::from([surname])),
        ("displayName", HashSet::from([name])),
        ("userPassword", HashSet::from([user.password.as_str()])),
    ];
    let optional = [
        ("mail", &user.mail),
        ("mobile", &user.mobile),
        ("employeeNumber", &user.badge),
    ];
    for (attr, value) in optional {
        if let Some(value) = value {
            attrs.push((attr, HashSet::from([value.as_str()])));
        }
    }
    conn.add(&user.dn, attrs)
        .expect("add request")
        .success()
        .unwrap_or_else(|e| panic!("test harness: adding {} to slapd failed: {e}", user.dn));
}

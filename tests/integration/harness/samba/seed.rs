//! Seeds a freshly provisioned DC (once per template): the Kiosk Users OU, the cast, and the service
//! account with rights delegated over that OU only. `add_user` also serves `SambaDc::create_user`.

use std::collections::HashSet;

use ldap3::{LdapConn, Mod};

use super::template::{Instance, Programs, path_str};
use super::{
    ADMIN_DN, ADMIN_PASSWORD, BASE_DN, CastUser, DOMAIN_ADMINS_DN, USERS_OU, bind, cast,
    read_entry, unicode_pwd,
};

const RESET_PASSWORD_RIGHT: &str = "00299570-246d-11d0-a768-00aa006e0529";
const LOCKOUT_TIME_ATTR: &str = "28630ebf-41d5-11d1-a9c1-0000f80367c1";
/// `msDS-cloudExtensionAttribute1` (schema 2012 R2, single-valued string on every user via the
/// `msDS-CloudExtensions` system auxiliary class): the kiosk's registration attribute on AD.
const REGISTRATION_ATTR: &str = "9709eaaf-49da-4db2-908a-0446e5eab844";
const USER_CLASS: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";
/// Security descriptor control flag: the DACL does not inherit from the parent.
const SE_DACL_PROTECTED: u16 = 0x1000;
const UF_NORMAL_ACCOUNT: &str = "512";

pub fn seed(programs: &Programs, instance: &Instance) {
    let mut admin = bind(&instance.client_config, ADMIN_DN, ADMIN_PASSWORD)
        .unwrap_or_else(|e| panic!("test harness: Administrator bind for seeding failed: {e}"));
    let cast = cast();
    add(
        &mut admin,
        USERS_OU,
        vec![attr("objectClass", ["organizationalUnit"])],
    );
    add_user(&mut admin, &cast.service);
    delegate(
        programs,
        instance,
        &object_sid(&mut admin, &cast.service.dn),
    );
    for user in [
        &cast.normal,
        &cast.locked,
        &cast.privileged,
        &cast.unregistered,
        &cast.badge,
    ] {
        add_user(&mut admin, user);
    }
    let member = HashSet::from([cast.privileged.dn.clone().into_bytes()]);
    admin
        .modify(DOMAIN_ADMINS_DN, vec![Mod::Add(b"member".to_vec(), member)])
        .and_then(|r| r.success())
        .unwrap_or_else(|e| panic!("test harness: cannot add priv.user to Domain Admins: {e}"));
    protect_like_admin_sd_holder(&mut admin, &cast.privileged.dn);
}

/// Adds an enabled user with its password; complexity and length are checked by the DC.
pub fn add_user(admin: &mut LdapConn, user: &CastUser) {
    let (given, sn) = user
        .display_name
        .split_once(' ')
        .unwrap_or((&user.display_name, "-"));
    let mut attrs = vec![
        attr("objectClass", ["user"]),
        attr("sAMAccountName", [user.login.as_str()]),
        attr("userPrincipalName", [user.upn.as_str()]),
        attr("displayName", [user.display_name.as_str()]),
        attr("givenName", [given]),
        attr("sn", [sn]),
        attr("userAccountControl", [UF_NORMAL_ACCOUNT]),
        (
            b"unicodePwd".to_vec(),
            HashSet::from([unicode_pwd(&user.password)]),
        ),
    ];
    let optional = [
        ("mail", &user.mail),
        ("mobile", &user.mobile),
        ("employeeNumber", &user.badge),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            attrs.push(attr(name, [value.as_str()]));
        }
    }
    add(admin, &user.dn, attrs);
}

/// Adds a global security group (the default `groupType`) with `members` (user or group DNs).
pub fn add_group(admin: &mut LdapConn, dn: &str, name: &str, members: &[&str]) {
    let mut attrs = vec![
        attr("objectClass", ["group"]),
        attr("sAMAccountName", [name]),
    ];
    if !members.is_empty() {
        attrs.push((
            b"member".to_vec(),
            members.iter().map(|m| m.as_bytes().to_vec()).collect(),
        ));
    }
    add(admin, dn, attrs);
}

/// Reset Password, read/write lockoutTime and the registration attribute on user objects under the OU,
/// read on everything there.
/// `samba-tool` works on the database directly, next to the running server, like on a real DC.
fn delegate(programs: &Programs, instance: &Instance, sid: &str) {
    let sddl = format!(
        "(OA;CIIO;CR;{RESET_PASSWORD_RIGHT};{USER_CLASS};{sid})\
         (OA;CIIO;RPWP;{LOCKOUT_TIME_ATTR};{USER_CLASS};{sid})\
         (OA;CIIO;RPWP;{REGISTRATION_ATTR};{USER_CLASS};{sid})\
         (A;CI;RPLCLORC;;;{sid})"
    );
    programs.tool(&[
        "dsacl",
        "set",
        "-s",
        path_str(&instance.conf),
        &format!("--objectdn={USERS_OU}"),
        &format!("--sddl={sddl}"),
    ]);
}

/// Samba has no SDProp: a Domain Admin inside a delegated OU inherits the delegation, so the service
/// account could reset it. Windows stamps AdminSDHolder's descriptor (inheritance off) on such members;
/// do the same, so the directory behaves like the AD the kiosk will face.
fn protect_like_admin_sd_holder(admin: &mut LdapConn, dn: &str) {
    let holder = format!("CN=AdminSDHolder,CN=System,{BASE_DN}");
    let mut sd = binary_attr(admin, &holder, "nTSecurityDescriptor");
    assert!(
        sd.len() > 20,
        "test harness: AdminSDHolder descriptor is too short"
    );
    let control = u16::from_le_bytes([sd[2], sd[3]]) | SE_DACL_PROTECTED;
    sd[2..4].copy_from_slice(&control.to_le_bytes());
    let mods = vec![
        Mod::Replace(b"nTSecurityDescriptor".to_vec(), HashSet::from([sd])),
        Mod::Replace(b"adminCount".to_vec(), HashSet::from([b"1".to_vec()])),
    ];
    admin
        .modify(dn, mods)
        .and_then(|r| r.success())
        .unwrap_or_else(|e| panic!("test harness: cannot protect {dn}: {e}"));
}

/// The string form (`S-1-5-21-…`) of an entry's objectSid.
pub fn object_sid(conn: &mut LdapConn, dn: &str) -> String {
    let sid = binary_attr(conn, dn, "objectSid");
    assert!(
        sid.len() >= 8 && sid.len() == 8 + 4 * usize::from(sid[1]),
        "malformed objectSid of {dn}"
    );
    let authority = sid[2..8]
        .iter()
        .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    let sub_authorities = sid[8..]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]).to_string());
    std::iter::once(format!("S-{}-{authority}", sid[0]))
        .chain(sub_authorities)
        .collect::<Vec<_>>()
        .join("-")
}

/// A binary attribute; ldap3 files values that happen to be valid UTF-8 under `attrs` instead.
fn binary_attr(conn: &mut LdapConn, dn: &str, name: &str) -> Vec<u8> {
    let mut entry = read_entry(conn, dn, &[name]);
    let text = entry
        .attrs
        .remove(name)
        .map(|v| v.into_iter().map(String::into_bytes).collect());
    entry
        .bin_attrs
        .remove(name)
        .or(text)
        .and_then(|mut values: Vec<Vec<u8>>| values.pop())
        .unwrap_or_else(|| panic!("test harness: {dn} has no {name}"))
}

fn add(admin: &mut LdapConn, dn: &str, attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)>) {
    admin
        .add(dn, attrs)
        .and_then(|r| r.success())
        .unwrap_or_else(|e| panic!("test harness: cannot add {dn}: {e}"));
}

fn attr<const N: usize>(name: &str, values: [&str; N]) -> (Vec<u8>, HashSet<Vec<u8>>) {
    (
        name.as_bytes().to_vec(),
        values.iter().map(|v| v.as_bytes().to_vec()).collect(),
    )
}

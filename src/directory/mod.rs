//! The directory port: find people, unlock, reset and change passwords, keep registration data.
//! [`Directory`] is the trait the agent uses; [`ldap::LdapDirectory`] is its one implementation
//! (Active Directory / Samba AD and OpenLDAP with ppolicy, over rustls). `ad.rs`, `openldap.rs`,
//! `filter.rs` and `ber.rs` are pure encodings; only `ldap.rs` and `tls.rs` do I/O.

pub mod ad;
pub mod ber;
pub mod error;
pub mod filter;
pub mod ldap;
pub mod openldap;
pub mod preflight;
pub mod tls;

use std::fmt;
use std::future::Future;

pub use error::{BindFailure, DirectoryError, MessageCode, PasswordRejection};

use crate::secret::Secret;

/// A distinguished name as the directory returned it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Dn(String);

impl Dn {
    pub fn new(dn: impl Into<String>) -> Dn {
        Dn(dn.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// DN equality as directories mean it for group checks: case-insensitive, spaces after commas ignored.
    pub fn same_as(&self, other: &str) -> bool {
        normalize_dn(&self.0) == normalize_dn(other)
    }
}

fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| rdn.trim().to_lowercase())
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Debug for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dn({})", self.0)
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a person is looked up.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    /// A typed username, UPN or mail address, matched against the configured identifier attributes.
    Identifier(&'a str),
    /// A normalised badge ID, matched against the configured badge attribute.
    Badge(&'a str),
}

/// What the kiosk knows about a person from the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub dn: Dn,
    /// The first configured identifier attribute's value (e.g. sAMAccountName or uid).
    pub login: String,
    pub display_name: String,
    pub locked: bool,
    /// AD `userAccountControl` ACCOUNTDISABLE, or ppolicy's administrative lock (`pwdAccountLockedTime`
    /// `000001010000Z`): unlocking would not help, or would override an administrator.
    pub disabled: bool,
    /// Every group the person is in, nested membership included.
    pub groups: Vec<Dn>,
    /// AD `adminCount=1`: protected by AdminSDHolder.
    pub admin_count: bool,
    pub emails: Vec<String>,
    pub mobiles: Vec<String>,
    pub badges: Vec<String>,
    /// The registration attribute's value (an encrypted blob), if set.
    pub registration: Option<String>,
}

impl UserRecord {
    pub fn is_member_of(&self, group_dn: &str) -> bool {
        self.groups.iter().any(|g| g.same_as(group_dn))
    }
}

/// The directory as the agent needs it. Every method has a timeout and returns a [`DirectoryError`]
/// that says what happens next; none of them ever shows a raw LDAP message to a person.
pub trait Directory: Send + Sync {
    /// The person matching `lookup`, or `None` when nobody or more than one entry matches (the kiosk
    /// never guesses between two people).
    fn find_user(
        &self,
        lookup: Lookup<'_>,
    ) -> impl Future<Output = Result<Option<UserRecord>, DirectoryError>> + Send;

    /// Clears the lockout. Idempotent: unlocking an unlocked account succeeds.
    fn unlock(&self, user: &Dn) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Sets a new password as the service account, with history enforced where the directory can
    /// (see `history_on_reset`); with `unlock`, also clears the lockout (AD resets do not unlock).
    fn reset_password(
        &self,
        user: &Dn,
        new_password: &Secret,
        unlock: bool,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Changes the password bound as the user, who knows the current one: the directory applies its
    /// own policy (history, age) natively.
    fn change_password(
        &self,
        user: &Dn,
        current: &Secret,
        new_password: &Secret,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Proves the person knows their current password by binding as them (counts as a logon attempt
    /// for the directory's own lockout).
    fn verify_password(
        &self,
        user: &Dn,
        password: &Secret,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Reads the registration attribute.
    fn read_registration(
        &self,
        user: &Dn,
    ) -> impl Future<Output = Result<Option<String>, DirectoryError>> + Send;

    /// The person's email addresses (the configured email attributes), for notifications.
    fn contacts(
        &self,
        user: &Dn,
    ) -> impl Future<Output = Result<Vec<String>, DirectoryError>> + Send {
        let _ = user;
        async { Ok(Vec::new()) }
    }

    /// Replaces the registration attribute (`None` removes it).
    fn write_registration(
        &self,
        user: &Dn,
        blob: Option<&str>,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_comparison_ignores_case_and_spaces() {
        let dn = Dn::new("CN=Domain Admins,CN=Users,DC=example,DC=com");
        assert!(dn.same_as("cn=domain admins, cn=users, dc=example, dc=com"));
        assert!(!dn.same_as("CN=Domain Users,CN=Users,DC=example,DC=com"));
    }
}

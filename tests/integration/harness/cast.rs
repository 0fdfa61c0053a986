//! The test cast: the same people, with the same field names, in every directory the harness runs,
//! so a test can be written once for Samba AD and OpenLDAP.

/// A directory account with the password the harness gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CastUser {
    pub login: String,
    /// userPrincipalName on AD; `login@example.test` on OpenLDAP (which has no UPN).
    pub upn: String,
    pub dn: String,
    pub display_name: String,
    pub password: String,
    pub mail: Option<String>,
    pub mobile: Option<String>,
    /// Badge ID, stored in `employeeNumber`.
    pub badge: Option<String>,
}

/// The seeded accounts. Read-only for tests on a shared server: use `create_user` to change state.
#[derive(Debug, Clone)]
pub struct Cast {
    pub normal: CastUser,
    /// Locked out by real failed binds when the server starts.
    pub locked: CastUser,
    /// Privileged: Domain Admins (AD, protected like AdminSDHolder protects it) or `cn=admins`.
    pub privileged: CastUser,
    /// No mail, no mobile: nothing to send a code to.
    pub unregistered: CastUser,
    pub badge: CastUser,
    /// The kiosk's least-privilege service account. Not one of the people.
    pub service: CastUser,
}

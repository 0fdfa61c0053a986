//! [`LdapDirectory`]: the one real [`Directory`], over ldap3 and rustls, for Active Directory / Samba AD
//! and OpenLDAP with ppolicy. Encodings and error parsing live in the pure `ad`, `openldap` and
//! `filter` modules; connections and failover in `connect`.

mod connect;
mod probe;

pub use probe::{ProbeOutcome, UrlProbe};

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use ldap3::controls::RawControl;
use ldap3::exop::PasswordModify;
use ldap3::{Ldap, LdapError, LdapResult, Mod, Scope, SearchEntry};
use tokio::sync::Mutex;

use self::connect::{Attempt, Connector, Session};
use super::error::{BindFailure, DirectoryError};
use super::{Directory, Dn, Lookup, UserRecord, ad, filter, openldap};
use crate::config::kiosk::{Flavour, HistoryOnReset};
use crate::config::settings::DirectorySettings;
use crate::secret::Secret;

/// LDAP result code objectClassViolation: the entry's classes do not allow the attribute.
const OBJECT_CLASS_VIOLATION: u32 = 65;

/// The auxiliary class from `docs/directory/openldap-sspr-kiosk.ldif` that allows `ssprRegistration`.
const OPENLDAP_AUX_CLASS: &str = "ssprKioskUser";

/// Groups are followed this deep on OpenLDAP (nested `groupOfNames`).
const MAX_GROUP_DEPTH: usize = 8;

pub struct LdapDirectory {
    connector: Connector,
    bind_password: Secret,
    session: Mutex<Option<Session>>,
    warned_no_history: AtomicBool,
}

impl std::fmt::Debug for LdapDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapDirectory")
            .field("urls", &self.connector.settings.urls)
            .field("bind_dn", &self.connector.settings.bind_dn)
            .finish_non_exhaustive()
    }
}

impl LdapDirectory {
    /// Builds the adapter; connects lazily on first use. Fails if the CA file cannot be loaded.
    pub fn new(
        settings: DirectorySettings,
        bind_password: Secret,
    ) -> Result<LdapDirectory, DirectoryError> {
        let tls = match &settings.ca_file {
            Some(ca) => Some(super::tls::client_config(ca).map_err(|e| {
                DirectoryError::Tls {
                    url: settings
                        .urls
                        .first()
                        .map(|u| u.url.clone())
                        .unwrap_or_default(),
                    detail: e.to_string(),
                }
            })?),
            None => None,
        };
        Ok(LdapDirectory {
            connector: Connector { settings, tls },
            bind_password,
            session: Mutex::new(None),
            warned_no_history: AtomicBool::new(false),
        })
    }

    fn settings(&self) -> &DirectorySettings {
        &self.connector.settings
    }

    /// The service session, reused while its connection lives.
    async fn session(&self) -> Result<Session, DirectoryError> {
        let mut guard = self.session.lock().await;
        if let Some(session) = guard.as_mut()
            && !session.ldap.is_closed()
        {
            return Ok(session.clone());
        }
        *guard = None;
        let session = self
            .connector
            .service_session(self.bind_password.expose())
            .await?;
        *guard = Some(session.clone());
        Ok(session)
    }

    async fn forget_session(&self) {
        *self.session.lock().await = None;
    }

    /// Maps a transport error and drops a broken session so the next call reconnects (or fails over).
    async fn fail(&self, error: LdapError, operation: &'static str, url: &str) -> DirectoryError {
        if connect::is_connection_error(&error) {
            self.forget_session().await;
        }
        connect::transport_error(&error, operation, self.connector.op_timeout(), url)
    }

    /// Searches with one retry on a fresh session if the connection broke (reads are safe to repeat).
    async fn search(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[String],
        operation: &'static str,
    ) -> Result<Vec<SearchEntry>, DirectoryError> {
        let mut retried = false;
        loop {
            let session = self.session().await?;
            let mut ldap = session.ldap.clone();
            let result = ldap
                .with_timeout(self.connector.op_timeout())
                .search(base, scope, filter, attrs.to_vec())
                .await;
            match result {
                Ok(ldap3::SearchResult(entries, result)) if result.rc == 0 || result.rc == 10 => {
                    return Ok(entries
                        .into_iter()
                        .filter(|e| !e.is_ref() && !e.is_intermediate())
                        .map(SearchEntry::construct)
                        .collect());
                }
                Ok(ldap3::SearchResult(_, result)) if result.rc == 32 => return Ok(Vec::new()),
                Ok(ldap3::SearchResult(_, result)) => {
                    return Err(DirectoryError::Other {
                        rc: result.rc,
                        diagnostic: result.text,
                    });
                }
                Err(e) if connect::is_connection_error(&e) && !retried => {
                    log::info!(
                        "directory: connection to {} broke during {operation}; reconnecting",
                        session.url
                    );
                    self.forget_session().await;
                    retried = true;
                }
                Err(e) => return Err(self.fail(e, operation, &session.url).await),
            }
        }
    }

    async fn modify(
        &self,
        dn: &Dn,
        mods: Vec<Mod<Vec<u8>>>,
        controls: Vec<RawControl>,
        operation: &'static str,
    ) -> Result<LdapResult, DirectoryError> {
        let session = self.session().await?;
        let mut ldap = session.ldap.clone();
        match ldap
            .with_controls(controls)
            .with_timeout(self.connector.op_timeout())
            .modify(dn.as_str(), mods)
            .await
        {
            Ok(result) => Ok(result),
            Err(e) => Err(self.fail(e, operation, &session.url).await),
        }
    }

    /// Turns a failed write into an error; a refusal on AD is checked against `adminCount`.
    async fn write_error(&self, result: LdapResult, dn: &Dn) -> DirectoryError {
        log::warn!(
            "directory: write to {dn} refused: rc {} {}",
            result.rc,
            result.text.trim()
        );
        match self.settings().flavour {
            Flavour::ActiveDirectory => {
                let admin_count = if result.rc == 50 {
                    self.admin_count(dn).await
                } else {
                    false
                };
                ad::modify_error(result.rc, &result.text, dn.as_str(), admin_count)
            }
            Flavour::Openldap => openldap::password_error(
                result.rc,
                &result.text,
                connect::policy_error(&result),
                dn.as_str(),
            ),
        }
    }

    async fn admin_count(&self, dn: &Dn) -> bool {
        let attrs = ["adminCount".to_owned()];
        match self
            .search(
                dn.as_str(),
                Scope::Base,
                "(objectClass=*)",
                &attrs,
                "read adminCount",
            )
            .await
        {
            Ok(entries) => entries
                .iter()
                .any(|e| values(e, "adminCount").iter().any(|v| v == "1")),
            Err(_) => false,
        }
    }

    /// Opens a session bound as the user on the first reachable URL.
    async fn user_session(
        &self,
        user: &Dn,
        password: &Secret,
    ) -> Result<(Ldap, String), DirectoryError> {
        let mut attempts = Vec::new();
        for url in &self.settings().urls {
            match self
                .connector
                .open(url, user.as_str(), password.expose())
                .await
            {
                Ok(ldap) => return Ok((ldap, url.url.clone())),
                Err(Attempt::BindRejected {
                    rc,
                    diagnostic,
                    policy,
                }) => {
                    let reason = match (self.settings().flavour, policy) {
                        (_, Some(openldap::PolicyError::AccountLocked)) => BindFailure::Locked,
                        (Flavour::ActiveDirectory, _) => ad::bind_failure(&diagnostic),
                        (Flavour::Openldap, _) => BindFailure::WrongPassword,
                    };
                    log::info!("directory: bind as {user} refused: rc {rc} ({reason:?})");
                    return Err(DirectoryError::UserBind { reason, diagnostic });
                }
                Err(Attempt::Tls(detail)) => {
                    return Err(DirectoryError::Tls {
                        url: url.url.clone(),
                        detail,
                    });
                }
                Err(Attempt::Unreachable(why)) => attempts.push((url.url.clone(), why)),
            }
        }
        Err(DirectoryError::Unreachable { attempts })
    }

    fn user_attributes(&self) -> Vec<String> {
        let s = self.settings();
        let a = &s.attributes;
        let mut attrs: Vec<String> = a.identifiers.clone();
        attrs.extend([a.display_name.clone(), a.registration.clone()]);
        attrs.extend(a.email.iter().cloned());
        attrs.extend(a.mobile.iter().cloned());
        attrs.extend(a.badge.iter().cloned());
        match s.flavour {
            Flavour::ActiveDirectory => {
                attrs.extend(["userAccountControl", "lockoutTime", "adminCount"].map(String::from))
            }
            Flavour::Openldap => attrs.push("pwdAccountLockedTime".to_owned()),
        }
        attrs
    }

    async fn groups_of(&self, dn: &str) -> Result<Vec<Dn>, DirectoryError> {
        let none = ["1.1".to_owned()];
        let base = self.settings().base_dn.clone();
        match self.settings().flavour {
            Flavour::ActiveDirectory => {
                // LDAP_MATCHING_RULE_IN_CHAIN: every group the user is in, directly or nested.
                let filter = format!("(member:1.2.840.113556.1.4.1941:={})", filter::escape(dn));
                let entries = self
                    .search(
                        &base,
                        Scope::Subtree,
                        &filter,
                        &none,
                        "read group memberships",
                    )
                    .await?;
                Ok(entries.into_iter().map(|e| Dn::new(e.dn)).collect())
            }
            Flavour::Openldap => {
                let mut found: Vec<Dn> = Vec::new();
                let mut seen = BTreeSet::new();
                let mut frontier = vec![dn.to_owned()];
                for _ in 0..MAX_GROUP_DEPTH {
                    let mut next = Vec::new();
                    for member in frontier {
                        let escaped = filter::escape(&member);
                        let filter = format!("(|(member={escaped})(uniqueMember={escaped}))");
                        for entry in self
                            .search(
                                &base,
                                Scope::Subtree,
                                &filter,
                                &none,
                                "read group memberships",
                            )
                            .await?
                        {
                            if seen.insert(entry.dn.to_lowercase()) {
                                next.push(entry.dn.clone());
                                found.push(Dn::new(entry.dn));
                            }
                        }
                    }
                    if next.is_empty() {
                        break;
                    }
                    frontier = next;
                }
                Ok(found)
            }
        }
    }

    async fn to_record(&self, entry: SearchEntry) -> Result<UserRecord, DirectoryError> {
        let s = self.settings();
        let a = &s.attributes;
        let first = |attr: &str| values(&entry, attr).into_iter().next();
        let many = |attrs: &[String]| {
            attrs
                .iter()
                .flat_map(|attr| values(&entry, attr))
                .collect::<Vec<_>>()
        };
        let login = a
            .identifiers
            .iter()
            .find_map(|attr| first(attr))
            .unwrap_or_default();
        let (locked, disabled, admin_count) = match s.flavour {
            Flavour::ActiveDirectory => {
                // msDS-User-Account-Control-Computed is constructed: only a base search returns it.
                let computed = ["msDS-User-Account-Control-Computed".to_owned()];
                let base = self
                    .search(
                        &entry.dn,
                        Scope::Base,
                        "(objectClass=*)",
                        &computed,
                        "read lock state",
                    )
                    .await?;
                let computed = base
                    .first()
                    .and_then(|e| values(e, &computed[0]).into_iter().next());
                let uac = first("userAccountControl")
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0);
                (
                    ad::is_locked(computed.as_deref(), first("lockoutTime").as_deref()),
                    uac & 0x2 != 0,
                    first("adminCount").as_deref() == Some("1"),
                )
            }
            Flavour::Openldap => {
                let locked_time = first("pwdAccountLockedTime");
                (
                    locked_time.is_some(),
                    locked_time.as_deref() == Some(openldap::ADMINISTRATIVE_LOCK),
                    false,
                )
            }
        };
        Ok(UserRecord {
            dn: Dn::new(entry.dn.clone()),
            display_name: first(&a.display_name).unwrap_or_else(|| login.clone()),
            login,
            locked,
            disabled,
            groups: self.groups_of(&entry.dn).await?,
            admin_count,
            emails: many(&a.email),
            mobiles: many(&a.mobile),
            badges: a
                .badge
                .as_ref()
                .map(|b| values(&entry, b))
                .unwrap_or_default(),
            registration: first(&a.registration),
        })
    }

    /// Whether a reset may go ahead here, and with which policy-hints control.
    fn reset_controls(&self, session: &Session) -> Result<Vec<RawControl>, DirectoryError> {
        match session.policy_hints_oid {
            Some(oid) => Ok(vec![RawControl {
                ctype: oid.to_owned(),
                crit: true,
                val: Some(ad::policy_hints_value()),
            }]),
            None => match self.settings().history_on_reset {
                HistoryOnReset::Require => Err(DirectoryError::HistoryNotEnforceable {
                    url: session.url.clone(),
                }),
                HistoryOnReset::BestEffort => {
                    if !self.warned_no_history.swap(true, Ordering::Relaxed) {
                        log::warn!(
                            "directory {} does not support LDAP_SERVER_POLICY_HINTS: password history is NOT \
                             enforced on resets (history_on_reset = \"best-effort\")",
                            session.url
                        );
                    }
                    Ok(Vec::new())
                }
            },
        }
    }
}

/// Values of `attr` in `entry`, matching the attribute name case-insensitively.
pub(crate) fn values(entry: &SearchEntry, attr: &str) -> Vec<String> {
    entry
        .attrs
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(attr))
        .flat_map(|(_, values)| values.iter().cloned())
        .collect()
}

/// An AD password change: delete the current value, add the new one (the DC checks the current one).
fn ad_change_mods(current: &Secret, new_password: &Secret) -> Vec<Mod<Vec<u8>>> {
    let old = zeroize::Zeroizing::new(ad::unicode_pwd(current.expose()));
    let new = zeroize::Zeroizing::new(ad::unicode_pwd(new_password.expose()));
    vec![
        Mod::Delete(b"unicodePwd".to_vec(), one(old.to_vec())),
        Mod::Add(b"unicodePwd".to_vec(), one(new.to_vec())),
    ]
}

fn one<T: std::hash::Hash + Eq>(value: T) -> HashSet<T> {
    HashSet::from([value])
}

impl Directory for LdapDirectory {
    async fn find_user(&self, lookup: Lookup<'_>) -> Result<Option<UserRecord>, DirectoryError> {
        let s = self.settings();
        let (attrs, value) = match lookup {
            Lookup::Identifier(value) => (s.attributes.identifiers.clone(), value),
            Lookup::Badge(value) => match &s.attributes.badge {
                Some(badge) => (vec![badge.clone()], value),
                None => return Ok(None),
            },
        };
        let value = value.trim();
        // No identifier holds a control character, and Samba compares filter values as C strings:
        // the correctly escaped `normal.user\00` would match normal.user there.
        if value.is_empty() || value.chars().any(char::is_control) {
            return Ok(None);
        }
        let filter = filter::any_attribute_equals(&s.user_filter, &attrs, value);
        let mut entries = self
            .search(
                &s.base_dn,
                Scope::Subtree,
                &filter,
                &self.user_attributes(),
                "find user",
            )
            .await?;
        if entries.len() > 1 {
            // The typed value is not logged: people sometimes type a password into the username field.
            log::warn!(
                "directory: a lookup matched {} entries; treated as unknown (never guess between people)",
                entries.len()
            );
            return Ok(None);
        }
        match entries.pop() {
            Some(entry) => self.to_record(entry).await.map(Some),
            None => Ok(None),
        }
    }

    async fn unlock(&self, user: &Dn) -> Result<(), DirectoryError> {
        let mods = match self.settings().flavour {
            Flavour::ActiveDirectory => vec![Mod::Replace(
                b"lockoutTime".to_vec(),
                one(ad::UNLOCKED.as_bytes().to_vec()),
            )],
            Flavour::Openldap => vec![Mod::Delete(
                b"pwdAccountLockedTime".to_vec(),
                HashSet::new(),
            )],
        };
        let result = self.modify(user, mods, Vec::new(), "unlock").await?;
        match result.rc {
            0 => Ok(()),
            16 => Ok(()), // noSuchAttribute: not locked (OpenLDAP) — unlocking is idempotent
            _ => Err(self.write_error(result, user).await),
        }
    }

    async fn reset_password(
        &self,
        user: &Dn,
        new_password: &Secret,
        unlock: bool,
    ) -> Result<(), DirectoryError> {
        match self.settings().flavour {
            Flavour::ActiveDirectory => {
                let session = self.session().await?;
                let controls = self.reset_controls(&session)?;
                let value = zeroize::Zeroizing::new(ad::unicode_pwd(new_password.expose()));
                let mods = vec![Mod::Replace(b"unicodePwd".to_vec(), one(value.to_vec()))];
                let result = self.modify(user, mods, controls, "reset password").await?;
                if result.rc != 0 {
                    return Err(self.write_error(result, user).await);
                }
            }
            Flavour::Openldap => {
                let session = self.session().await?;
                let mut ldap = session.ldap.clone();
                let request = PasswordModify {
                    user_id: Some(user.as_str()),
                    old_pass: None,
                    new_pass: Some(new_password.expose()),
                };
                let ppolicy = RawControl {
                    ctype: openldap::PPOLICY_OID.to_owned(),
                    crit: false,
                    val: None,
                };
                let outcome = ldap
                    .with_controls(ppolicy)
                    .with_timeout(self.connector.op_timeout())
                    .extended(request)
                    .await;
                let result = match outcome {
                    Ok(ldap3::result::ExopResult(_, result)) => result,
                    Err(e) => return Err(self.fail(e, "reset password", &session.url).await),
                };
                if result.rc != 0 {
                    return Err(self.write_error(result, user).await);
                }
            }
        }
        log::info!("directory: password reset for {user}");
        if unlock {
            self.unlock(user).await?;
        }
        Ok(())
    }

    async fn change_password(
        &self,
        user: &Dn,
        current: &Secret,
        new_password: &Secret,
    ) -> Result<(), DirectoryError> {
        let (mut ldap, url) = match self.user_session(user, current).await {
            Ok(session) => session,
            // AD refuses to bind an account that must change its password (773) or whose password
            // expired (532) — after checking the password, so it is right. These people come to change
            // it: the delete-old/add-new modify proves the old password itself, so the service session
            // may send it (AD grants Change Password to Everyone) and the DC applies the user policy.
            Err(DirectoryError::UserBind {
                reason: BindFailure::MustChange | BindFailure::Expired,
                ..
            }) if self.settings().flavour == Flavour::ActiveDirectory => {
                let mods = ad_change_mods(current, new_password);
                let result = self
                    .modify(user, mods, Vec::new(), "change password")
                    .await?;
                if result.rc != 0 {
                    log::info!(
                        "directory: password change for {user} refused: rc {} {}",
                        result.rc,
                        result.text.trim()
                    );
                    return Err(ad::modify_error(
                        result.rc,
                        &result.text,
                        user.as_str(),
                        false,
                    ));
                }
                log::info!("directory: password changed by {user} (it had to be changed)");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let timeout = self.connector.op_timeout();
        let result = match self.settings().flavour {
            Flavour::ActiveDirectory => {
                let mods = ad_change_mods(current, new_password);
                ldap.with_timeout(timeout).modify(user.as_str(), mods).await
            }
            Flavour::Openldap => {
                let request = PasswordModify {
                    user_id: None,
                    old_pass: Some(current.expose()),
                    new_pass: Some(new_password.expose()),
                };
                let ppolicy = RawControl {
                    ctype: openldap::PPOLICY_OID.to_owned(),
                    crit: false,
                    val: None,
                };
                ldap.with_controls(ppolicy)
                    .with_timeout(timeout)
                    .extended(request)
                    .await
                    .map(|r| r.1)
            }
        };
        let _ = ldap.unbind().await;
        let result = match result {
            Ok(result) => result,
            Err(e) => {
                return Err(connect::transport_error(
                    &e,
                    "change password",
                    timeout,
                    &url,
                ));
            }
        };
        if result.rc != 0 {
            log::info!(
                "directory: password change for {user} refused: rc {} {}",
                result.rc,
                result.text.trim()
            );
            return Err(match self.settings().flavour {
                Flavour::ActiveDirectory => {
                    ad::modify_error(result.rc, &result.text, user.as_str(), false)
                }
                Flavour::Openldap => openldap::password_error(
                    result.rc,
                    &result.text,
                    connect::policy_error(&result),
                    user.as_str(),
                ),
            });
        }
        log::info!("directory: password changed by {user}");
        Ok(())
    }

    async fn verify_password(&self, user: &Dn, password: &Secret) -> Result<(), DirectoryError> {
        let (mut ldap, _) = self.user_session(user, password).await?;
        let _ = ldap.unbind().await;
        Ok(())
    }

    async fn read_registration(&self, user: &Dn) -> Result<Option<String>, DirectoryError> {
        let attr = self.settings().attributes.registration.clone();
        let entries = self
            .search(
                user.as_str(),
                Scope::Base,
                "(objectClass=*)",
                std::slice::from_ref(&attr),
                "read registration",
            )
            .await?;
        match entries.first() {
            Some(entry) => Ok(values(entry, &attr).into_iter().next()),
            None => Err(DirectoryError::NoSuchUser {
                dn: user.to_string(),
            }),
        }
    }

    async fn contacts(&self, user: &Dn) -> Result<Vec<String>, DirectoryError> {
        let attrs = self.settings().attributes.email.clone();
        if attrs.is_empty() {
            return Ok(Vec::new());
        }
        let entries = self
            .search(
                user.as_str(),
                Scope::Base,
                "(objectClass=*)",
                &attrs,
                "read contacts",
            )
            .await?;
        Ok(entries
            .first()
            .map(|e| attrs.iter().flat_map(|a| values(e, a)).collect())
            .unwrap_or_default())
    }

    async fn write_registration(
        &self,
        user: &Dn,
        blob: Option<&str>,
    ) -> Result<(), DirectoryError> {
        let attr = self.settings().attributes.registration.as_bytes().to_vec();
        let values = blob.map(|b| one(b.as_bytes().to_vec())).unwrap_or_default();
        let replace = vec![Mod::Replace(attr.clone(), values.clone())];
        let mut result = self
            .modify(user, replace, Vec::new(), "write registration")
            .await?;
        if result.rc == OBJECT_CLASS_VIOLATION
            && self.settings().flavour == Flavour::Openldap
            && blob.is_some()
        {
            // First registration of this person: the attribute needs the schema's auxiliary class.
            let mods = vec![
                Mod::Add(
                    b"objectClass".to_vec(),
                    one(OPENLDAP_AUX_CLASS.as_bytes().to_vec()),
                ),
                Mod::Replace(attr, values),
            ];
            result = self
                .modify(user, mods, Vec::new(), "write registration")
                .await?;
        }
        match result.rc {
            0 => Ok(()),
            _ => Err(self.write_error(result, user).await),
        }
    }
}

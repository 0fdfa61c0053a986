//! Connections: failover across the configured URLs, TLS with the pinned CA, timeouts, one reused
//! service-account session, and short-lived sessions bound as a user. Also turns ldap3's errors into
//! [`DirectoryError`]s that say what happens next.

use std::sync::Arc;
use std::time::Duration;

use ldap3::controls::RawControl;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult, Scope};

use crate::config::settings::{DirectorySettings, DirectoryUrl, Transport};
use crate::directory::error::DirectoryError;
use crate::directory::{ad, openldap};

/// A bound connection and what was learnt about its server.
#[derive(Clone)]
pub(super) struct Session {
    pub ldap: Ldap,
    pub url: String,
    /// The policy-hints OID this server announces in its rootDSE (AD only).
    pub policy_hints_oid: Option<&'static str>,
}

/// Why one attempt to open a session failed.
pub(super) enum Attempt {
    /// Network, DNS, refused, timed out: try the next URL.
    Unreachable(String),
    /// The certificate or TLS handshake was refused: an admin must fix trust or the server.
    Tls(String),
    /// The bind itself was refused (rc 49 and friends).
    BindRejected {
        rc: u32,
        diagnostic: String,
        policy: Option<openldap::PolicyError>,
    },
}

pub(super) struct Connector {
    pub settings: DirectorySettings,
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Connector {
    /// Opens a connection to `url` and binds as `dn`.
    pub async fn open(
        &self,
        url: &DirectoryUrl,
        dn: &str,
        password: &str,
    ) -> Result<Ldap, Attempt> {
        let connect_timeout = self.settings.connect_timeout;
        let mut conn_settings = LdapConnSettings::new().set_conn_timeout(connect_timeout);
        if let Some(tls) = &self.tls {
            conn_settings = conn_settings.set_config(tls.clone());
        }
        if url.transport == Transport::StartTls {
            conn_settings = conn_settings.set_starttls(true);
        }
        let connecting = LdapConnAsync::with_settings(conn_settings, &url.url);
        let (conn, mut ldap) = match tokio::time::timeout(connect_timeout * 2, connecting).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => return Err(classify_connect(&e)),
            Err(_) => {
                return Err(Attempt::Unreachable(format!(
                    "no answer within {connect_timeout:?}"
                )));
            }
        };
        let url_text = url.url.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                log::debug!("directory connection to {url_text} ended: {e}");
            }
        });
        let bind = ldap
            .with_controls(RawControl {
                ctype: openldap::PPOLICY_OID.to_owned(),
                crit: false,
                val: None,
            })
            .with_timeout(self.settings.timeout)
            .simple_bind(dn, password)
            .await;
        match bind {
            Ok(result) if result.rc == 0 => Ok(ldap),
            Ok(result) => {
                let policy = policy_error(&result);
                let _ = ldap.unbind().await;
                Err(Attempt::BindRejected {
                    rc: result.rc,
                    diagnostic: result.text,
                    policy,
                })
            }
            Err(e) => Err(classify_connect(&e)),
        }
    }

    /// Opens a session bound as the service account on the first URL that answers.
    pub async fn service_session(&self, bind_password: &str) -> Result<Session, DirectoryError> {
        let bind_dn = self.settings.bind_dn.clone();
        let mut attempts = Vec::new();
        let mut tls_failure: Option<(String, String)> = None;
        let mut bind_failure: Option<(String, String)> = None;
        for url in &self.settings.urls {
            match self.open(url, &bind_dn, bind_password).await {
                Ok(ldap) => {
                    let mut session = Session {
                        ldap,
                        url: url.url.clone(),
                        policy_hints_oid: None,
                    };
                    if self.settings.flavour == crate::config::kiosk::Flavour::ActiveDirectory {
                        session.policy_hints_oid = self.policy_hints(&mut session.ldap).await;
                    }
                    log::debug!("directory: service session on {}", url.url);
                    return Ok(session);
                }
                Err(Attempt::Unreachable(why)) => {
                    log::warn!("directory {} unreachable: {why}", url.url);
                    attempts.push((url.url.clone(), why));
                }
                Err(Attempt::Tls(why)) => {
                    log::error!("directory {}: TLS failed: {why}", url.url);
                    attempts.push((url.url.clone(), format!("TLS: {why}")));
                    tls_failure.get_or_insert((url.url.clone(), why));
                }
                Err(Attempt::BindRejected { rc, diagnostic, .. }) => {
                    log::error!(
                        "directory {}: service account bind refused (rc {rc}): {diagnostic}",
                        url.url
                    );
                    attempts.push((url.url.clone(), format!("bind refused: {diagnostic}")));
                    bind_failure.get_or_insert((url.url.clone(), diagnostic));
                }
            }
        }
        if let Some((url, diagnostic)) = bind_failure {
            return Err(DirectoryError::ServiceBind {
                url,
                bind_dn,
                diagnostic,
            });
        }
        if let Some((url, detail)) = tls_failure {
            return Err(DirectoryError::Tls { url, detail });
        }
        Err(DirectoryError::Unreachable { attempts })
    }

    /// Reads the rootDSE's `supportedControl` and picks the policy-hints OID, if any.
    async fn policy_hints(&self, ldap: &mut Ldap) -> Option<&'static str> {
        let search = ldap
            .with_timeout(self.settings.timeout)
            .search("", Scope::Base, "(objectClass=*)", vec!["supportedControl"])
            .await;
        let controls: Vec<String> = match search.and_then(|r| r.success()) {
            Ok((entries, _)) => entries
                .into_iter()
                .map(ldap3::SearchEntry::construct)
                .flat_map(|e| super::values(&e, "supportedControl"))
                .collect(),
            Err(e) => {
                log::warn!("directory: cannot read the rootDSE: {e}");
                return None;
            }
        };
        if controls.iter().any(|c| c == ad::POLICY_HINTS_OID) {
            Some(ad::POLICY_HINTS_OID)
        } else if controls
            .iter()
            .any(|c| c == ad::POLICY_HINTS_DEPRECATED_OID)
        {
            Some(ad::POLICY_HINTS_DEPRECATED_OID)
        } else {
            None
        }
    }

    pub fn op_timeout(&self) -> Duration {
        self.settings.timeout
    }
}

/// The ppolicy response control's error, if the result carries one.
pub(super) fn policy_error(result: &LdapResult) -> Option<openldap::PolicyError> {
    result
        .ctrls
        .iter()
        .find(|c| c.1.ctype == openldap::PPOLICY_OID)
        .and_then(|c| c.1.val.as_deref())
        .and_then(openldap::parse_response)
}

fn classify_connect(error: &LdapError) -> Attempt {
    if is_tls_error(error) {
        Attempt::Tls(error.to_string())
    } else {
        Attempt::Unreachable(error.to_string())
    }
}

fn is_tls_error(error: &LdapError) -> bool {
    match error {
        LdapError::Rustls { .. } | LdapError::DNSName { .. } => true,
        LdapError::Io { source } => source
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()),
        _ => false,
    }
}

/// Whether an operation error means the connection is gone (so the session must be reopened).
pub(super) fn is_connection_error(error: &LdapError) -> bool {
    matches!(
        error,
        LdapError::Io { .. }
            | LdapError::OpSend { .. }
            | LdapError::ResultRecv { .. }
            | LdapError::IdScrubSend { .. }
            | LdapError::MiscSend { .. }
    )
}

/// Maps an operation-level ldap3 error (not an LDAP result code) to what happens next.
pub(super) fn transport_error(
    error: &LdapError,
    operation: &'static str,
    timeout: Duration,
    url: &str,
) -> DirectoryError {
    match error {
        LdapError::Timeout { .. } => DirectoryError::Timeout {
            operation,
            seconds: timeout.as_secs(),
        },
        LdapError::LdapResult { result } => DirectoryError::Other {
            rc: result.rc,
            diagnostic: result.text.clone(),
        },
        e if is_tls_error(e) => DirectoryError::Tls {
            url: url.to_owned(),
            detail: e.to_string(),
        },
        e => DirectoryError::Unreachable {
            attempts: vec![(url.to_owned(), e.to_string())],
        },
    }
}

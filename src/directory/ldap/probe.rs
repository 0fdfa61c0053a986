//! Diagnostics for admins (`sspr-kiosk directory check`): try every URL on its own, and ask AD which
//! attributes the service account may write on an entry.

use std::time::{Duration, Instant};

use ldap3::Scope;

use super::connect::Attempt;
use super::{LdapDirectory, values};
use crate::directory::Dn;
use crate::directory::error::DirectoryError;

/// How one configured URL answered.
#[derive(Debug, Clone)]
pub struct UrlProbe {
    pub url: String,
    pub outcome: ProbeOutcome,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// TLS verified and the service account bound.
    Bound,
    Unreachable(String),
    Tls(String),
    BindRejected(String),
}

impl LdapDirectory {
    /// Connects to every configured URL in turn and binds as the service account.
    pub async fn probe_urls(&self) -> Vec<UrlProbe> {
        let mut probes = Vec::new();
        for url in &self.settings().urls {
            let start = Instant::now();
            let outcome = match self
                .connector
                .open(url, &self.settings().bind_dn, self.bind_password.expose())
                .await
            {
                Ok(mut ldap) => {
                    let _ = ldap.unbind().await;
                    ProbeOutcome::Bound
                }
                Err(Attempt::Unreachable(why)) => ProbeOutcome::Unreachable(why),
                Err(Attempt::Tls(why)) => ProbeOutcome::Tls(why),
                Err(Attempt::BindRejected { rc, diagnostic, .. }) => {
                    ProbeOutcome::BindRejected(format!("rc {rc}: {}", diagnostic.trim()))
                }
            };
            probes.push(UrlProbe {
                url: url.url.clone(),
                outcome,
                elapsed: start.elapsed(),
            });
        }
        probes
    }

    /// Whether the current service session's server supports LDAP_SERVER_POLICY_HINTS (AD only;
    /// `None` on OpenLDAP, where resets are policy-checked through the service account's ACL).
    pub async fn policy_hints_supported(&self) -> Result<Option<bool>, DirectoryError> {
        let session = self.session().await?;
        Ok(match self.settings().flavour {
            crate::config::kiosk::Flavour::ActiveDirectory => {
                Some(session.policy_hints_oid.is_some())
            }
            crate::config::kiosk::Flavour::Openldap => None,
        })
    }

    /// AD's `allowedAttributesEffective` on `dn`: the attributes the service account may write there.
    pub async fn writable_attributes(&self, dn: &Dn) -> Result<Vec<String>, DirectoryError> {
        let attr = "allowedAttributesEffective".to_owned();
        let entries = self
            .search(
                dn.as_str(),
                Scope::Base,
                "(objectClass=*)",
                std::slice::from_ref(&attr),
                "read effective rights",
            )
            .await?;
        Ok(entries
            .first()
            .map(|e| values(e, &attr))
            .unwrap_or_default())
    }
}

//! Builds the real `LdapDirectory` adapter against the harness's servers, with a tokio runtime that
//! lives as long as the adapter (its connections are driven by tasks on that runtime).
//! Harness calls (sync ldap3) must not run inside `run`: they start their own runtime.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use sspr_kiosk::config::kiosk::{AttributesSection, Flavour, HistoryOnReset};
use sspr_kiosk::config::settings::DirectorySettings;
use sspr_kiosk::config::validate::parse_ldap_url;
use sspr_kiosk::directory::ldap::LdapDirectory;
use sspr_kiosk::secret::{Secret, SecretSource};

use crate::harness::samba::SambaDc;
use crate::harness::slapd::Slapd;

pub struct TestDirectory {
    pub rt: tokio::runtime::Runtime,
    pub directory: LdapDirectory,
}

impl TestDirectory {
    /// Runs one adapter call to completion.
    pub fn run<'a, F: Future + 'a>(
        &'a self,
        call: impl FnOnce(&'a LdapDirectory) -> F,
    ) -> F::Output {
        self.rt.block_on(call(&self.directory))
    }
}

pub struct Target<'a> {
    pub flavour: Flavour,
    pub urls: Vec<String>,
    pub base_dn: &'a str,
    pub bind_dn: &'a str,
    pub bind_password: &'a str,
    pub ca_file: Option<&'a Path>,
    pub history_on_reset: HistoryOnReset,
    pub insecure_for_tests: bool,
}

pub fn settings(target: &Target<'_>) -> DirectorySettings {
    let (identifiers, registration) = match target.flavour {
        Flavour::ActiveDirectory => (
            vec![
                "sAMAccountName".to_owned(),
                "userPrincipalName".to_owned(),
                "mail".to_owned(),
            ],
            "msDS-cloudExtensionAttribute1",
        ),
        Flavour::Openldap => (
            vec!["uid".to_owned(), "mail".to_owned()],
            "ssprRegistration",
        ),
    };
    DirectorySettings {
        flavour: target.flavour,
        urls: target
            .urls
            .iter()
            .map(|u| parse_ldap_url(u, false, target.insecure_for_tests).unwrap())
            .collect(),
        base_dn: target.base_dn.to_owned(),
        bind_dn: target.bind_dn.to_owned(),
        bind_password: SecretSource::Credential("unused-in-tests".to_owned()),
        user_filter: target.flavour.default_user_filter().to_owned(),
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        history_on_reset: target.history_on_reset,
        attributes: AttributesSection {
            identifiers,
            badge: Some("employeeNumber".to_owned()),
            display_name: "displayName".to_owned(),
            mobile: vec!["mobile".to_owned()],
            email: vec!["mail".to_owned()],
            registration: registration.to_owned(),
        },
        ca_file: target.ca_file.map(Path::to_path_buf),
    }
}

pub fn connect(target: &Target<'_>) -> TestDirectory {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let directory =
        LdapDirectory::new(settings(target), Secret::new(target.bind_password)).unwrap();
    TestDirectory { rt, directory }
}

pub fn samba_target(dc: &SambaDc, history_on_reset: HistoryOnReset) -> Target<'_> {
    Target {
        flavour: Flavour::ActiveDirectory,
        urls: vec![dc.ldaps_url().to_owned()],
        base_dn: &dc.base_dn,
        bind_dn: &dc.cast.service.dn,
        bind_password: &dc.cast.service.password,
        ca_file: Some(&dc.pki.ca_pem),
        history_on_reset,
        insecure_for_tests: false,
    }
}

pub fn slapd_target(server: &Slapd) -> Target<'_> {
    Target {
        flavour: Flavour::Openldap,
        urls: vec![server.ldaps_url()],
        base_dn: &server.base_dn,
        bind_dn: &server.service_dn,
        bind_password: &server.service_password,
        ca_file: Some(&server.pki.ca_pem),
        history_on_reset: HistoryOnReset::Require,
        insecure_for_tests: false,
    }
}

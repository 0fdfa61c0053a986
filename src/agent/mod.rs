//! The agent: the imperative shell around the pure flow core. It owns the clock, the randomness and
//! the adapters (directory, delivery, sealed registration records), runs the core's effects and feeds
//! their results back as events, and serves the UI protocol on a Unix socket (`server.rs`).
//! It never decides anything the core decides.

mod effects;
pub mod notifier;
pub mod sealed;
pub mod server;
pub mod worker;

use std::collections::HashMap;
use std::sync::Mutex;

use crate::config::Settings;
use crate::delivery::email::{EmailSender, SiteInfo};
use crate::directory::ldap::LdapDirectory;
use crate::flow::FlowConfig;
use crate::gates::codes::SendHistory;
use crate::gates::lockout::FailureCounter;
use crate::outbox::Outbox;
use crate::secret::SecretError;

use self::sealed::{SealError, SealKey};

/// Why the agent cannot start; each says what the admin must fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot load a secret: {0}")]
    Secret(#[from] SecretError),
    #[error("directory: {0}")]
    Directory(#[from] crate::directory::DirectoryError),
    #[error("email delivery: {0}")]
    Email(#[from] crate::delivery::DeliveryError),
    #[error("{0}")]
    Key(#[from] SealError),
    /// The outbox database cannot be opened (missing data directory, newer version, corrupt file).
    #[error("outbox: {0}")]
    Outbox(#[from] crate::outbox::OutboxError),
    #[error(
        "keys.device_key is not configured: the agent needs it (it keys decoys and the outbox)"
    )]
    NoDeviceKey,
    #[error("cannot listen on {path}: {source}")]
    Socket {
        path: String,
        source: std::io::Error,
    },
}

/// Counters the agent keeps in memory: code sends per account, and decoys' failure counters.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    pub sends: HashMap<String, SendHistory>,
    pub decoy_failures: HashMap<String, FailureCounter>,
}

/// Everything a session needs from the outside world.
#[derive(Debug)]
pub struct Agent {
    pub settings: Settings,
    pub flow: FlowConfig,
    pub directory: LdapDirectory,
    pub email: Option<EmailSender>,
    /// Current registration key first, then older ones still accepted for reading.
    pub seal_keys: Vec<SealKey>,
    /// Every directory write and audit record goes through here first.
    pub outbox: Outbox,
    pub(crate) memory: Mutex<Memory>,
}

impl Agent {
    /// Builds the agent from on-device settings: loads every secret it needs.
    pub fn from_settings(settings: Settings) -> Result<Agent, StartError> {
        let bind_password = settings.directory.bind_password.load_from_env()?;
        let directory = LdapDirectory::new(settings.directory.clone(), bind_password)?;
        let device_key = settings
            .keys
            .device_key
            .as_ref()
            .ok_or(StartError::NoDeviceKey)?
            .0
            .load_from_env()?;
        let mut seal_keys = Vec::new();
        for key in settings
            .keys
            .registration_key
            .iter()
            .chain(&settings.keys.previous_registration_keys)
        {
            let material = key.secret.0.load_from_env()?;
            seal_keys.push(SealKey::parse(&key.id, material.expose())?);
        }
        let email = match &settings.delivery.email {
            Some(section) => {
                let password = section
                    .password
                    .as_ref()
                    .map(|p| p.0.load_from_env())
                    .transpose()?;
                let site = SiteInfo {
                    kiosk_id: settings.site.kiosk_id.to_string(),
                    location: settings.site.location.clone(),
                    helpdesk: settings.site.helpdesk.clone(),
                };
                let validity = std::time::Duration::from_secs(settings.gates.codes.validity_secs);
                Some(
                    EmailSender::new(
                        section,
                        settings.trust.services_ca.as_deref(),
                        password,
                        site,
                    )?
                    .with_code_validity(validity),
                )
            }
            None => None,
        };
        let flow = FlowConfig::from_settings(
            &settings,
            *device_key.derive_key(b"sspr-kiosk decoy key v1"),
        );
        let policy = crate::outbox::OutboxPolicy {
            unlock_max_age_ms: settings.outbox.unlock_max_age_secs * 1000,
            reset_max_age_ms: settings.outbox.reset_max_age_secs * 1000,
            ..Default::default()
        };
        let outbox = Outbox::open(&settings.site.data_dir.join("outbox.db"), &device_key)?
            .with_policy(policy);
        Ok(Agent {
            settings,
            flow,
            directory,
            email,
            seal_keys,
            outbox,
            memory: Mutex::new(Memory::default()),
        })
    }
}

/// Milliseconds since the Unix epoch: the agent owns the clock.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

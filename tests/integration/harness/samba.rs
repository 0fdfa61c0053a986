//! One real Samba 4 AD DC per test process, on 127.0.0.1 (LDAP 389, LDAPS 636: Samba's ports are fixed),
//! seeded with the kiosk's test cast and a least-privilege service account.
//!
//! Provisioning is slow, so a provisioned and seeded directory is cached as a template (`template.rs`) and
//! each test process runs a fresh copy. Tests that change state use `create_user`, never the cast.

mod seed;
mod template;

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ldap3::{LdapConn, LdapConnSettings, LdapError, Mod, Scope, SearchEntry};

use super::certs::TestPki;
use super::process::ServerProcess;

pub const REALM: &str = "EXAMPLE.TEST";
pub const BASE_DN: &str = "DC=example,DC=test";
pub const USERS_OU: &str = "OU=Kiosk Users,DC=example,DC=test";
pub const ADMIN_DN: &str = "CN=Administrator,CN=Users,DC=example,DC=test";
pub const DOMAIN_ADMINS_DN: &str = "CN=Domain Admins,CN=Users,DC=example,DC=test";
const NETBIOS_DOMAIN: &str = "EXAMPLE";
const UPN_SUFFIX: &str = "example.test";
const ADMIN_PASSWORD: &str = "Ad7!mQz3-Xc8r";
const LDAPS_URL: &str = "ldaps://127.0.0.1:636";
/// `msDS-User-Account-Control-Computed` bit: locked out now (lockoutTime within lockoutDuration).
const UF_LOCKOUT: u32 = 0x10;

pub use super::cast::{Cast, CastUser};

/// Where the startup time went, measured once per process.
#[derive(Debug, Clone, Copy)]
pub struct StartupTimes {
    pub template_cached: bool,
    /// Provisioning and seeding a template (zero when cached).
    pub provision: Duration,
    /// Copying the template and writing the configuration and certificates.
    pub prepare: Duration,
    /// From spawning `samba` until an LDAPS bind as Administrator succeeds.
    pub until_ready: Duration,
    pub total: Duration,
}

#[derive(Debug)]
pub struct SambaDc {
    pub base_dn: String,
    pub users_ou: String,
    pub admin_dn: String,
    pub admin_password: String,
    pub pki: TestPki,
    pub cast: Cast,
    pub startup: StartupTimes,
    /// The running copy (removed when the test process ends).
    pub dir: PathBuf,
    client_config: Arc<rustls::ClientConfig>,
    next_user: AtomicU32,
    _process: ServerProcess,
}

/// The shared DC, started on first use. A failed start fails every later caller with the same message.
pub fn samba() -> &'static SambaDc {
    static DC: OnceLock<Result<SambaDc, String>> = OnceLock::new();
    let started = DC.get_or_init(|| {
        std::panic::catch_unwind(SambaDc::start).map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned())
        })
    });
    match started {
        Ok(dc) => dc,
        Err(message) => panic!("test harness: the Samba AD DC failed to start earlier: {message}"),
    }
}

impl SambaDc {
    fn start() -> SambaDc {
        let begin = Instant::now();
        super::require_root("the Samba AD DC");
        let programs = template::Programs::find();
        template::ensure_ports_free();
        let (template_dir, provision) = template::ensure(&programs);

        let prepare_start = Instant::now();
        let dir = super::server_dir("samba");
        let data = dir.join("dc");
        template::copy_dir(&template_dir, &data);
        let instance = template::Instance::start(&programs, &data, &dir);
        let prepare = instance.spawned_at - prepare_start;
        let until_ready = instance.ready_at - instance.spawned_at;

        let mut dc = SambaDc {
            base_dn: BASE_DN.to_owned(),
            users_ou: USERS_OU.to_owned(),
            admin_dn: ADMIN_DN.to_owned(),
            admin_password: ADMIN_PASSWORD.to_owned(),
            pki: instance.pki,
            cast: cast(),
            startup: StartupTimes {
                template_cached: provision.is_none(),
                provision: provision.unwrap_or_default(),
                prepare,
                until_ready,
                total: Duration::ZERO,
            },
            dir,
            client_config: instance.client_config,
            next_user: AtomicU32::new(1),
            _process: instance.process,
        };
        // Lockout expires after lockoutDuration (30 min): a lock cached in the template would not hold.
        dc.lock_user(&dc.cast.locked);
        dc.startup.total = begin.elapsed();
        dc.report_startup();
        dc
    }

    fn report_startup(&self) {
        let s = &self.startup;
        let template = if s.template_cached {
            "template cached".to_owned()
        } else {
            format!(
                "provisioned a new template in {:.1} s",
                s.provision.as_secs_f64()
            )
        };
        eprintln!(
            "harness: samba AD DC ready in {:.1} s ({template}; copy+config {:.2} s, \
             until LDAPS bind {:.2} s)",
            s.total.as_secs_f64(),
            s.prepare.as_secs_f64(),
            s.until_ready.as_secs_f64(),
        );
    }

    pub fn ldaps_url(&self) -> &'static str {
        LDAPS_URL
    }

    /// An LDAPS connection, not yet bound, trusting only `config`'s roots.
    pub fn connect_with(&self, config: rustls::ClientConfig) -> Result<LdapConn, LdapError> {
        connect(Arc::new(config))
    }

    /// Binds as `who` (a DN, a UPN or `DOMAIN\login`). The error carries rc 49 and `data 775` / `52e`.
    pub fn bind(&self, who: &str, password: &str) -> Result<LdapConn, LdapError> {
        bind(&self.client_config, who, password)
    }

    pub fn admin_conn(&self) -> LdapConn {
        self.bind(ADMIN_DN, ADMIN_PASSWORD)
            .unwrap_or_else(|e| panic!("test harness: Administrator bind to Samba failed: {e}"))
    }

    /// The delegated kiosk service account, bound.
    pub fn service_conn(&self) -> LdapConn {
        let svc = &self.cast.service;
        self.bind(&svc.dn, &svc.password)
            .unwrap_or_else(|e| panic!("test harness: svc-sspr bind to Samba failed: {e}"))
    }

    /// A new user in `USERS_OU` with mail and mobile, unique in this process (sAMAccountName ≤ 20).
    pub fn create_user(&self, prefix: &str) -> CastUser {
        let n = self.next_user.fetch_add(1, Ordering::Relaxed);
        let prefix: String = prefix
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect();
        let login = format!("{prefix}.{n}");
        let user = CastUser {
            upn: format!("{login}@{UPN_SUFFIX}"),
            dn: format!("CN={login},{USERS_OU}"),
            display_name: format!("Fresh User {n}"),
            password: strong_password(),
            mail: Some(format!("{login}@example.test")),
            mobile: Some(format!("+1555020{n:04}")),
            badge: None,
            login,
        };
        seed::add_user(&mut self.admin_conn(), &user);
        user
    }

    /// A new group in `USERS_OU` with `members` (user or group DNs), unique in this process; its DN.
    pub fn create_group(&self, prefix: &str, members: &[&str]) -> String {
        let n = self.next_user.fetch_add(1, Ordering::Relaxed);
        let prefix: String = prefix
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect();
        let name = format!("{prefix}.g{n}");
        let dn = format!("CN={name},{USERS_OU}");
        seed::add_group(&mut self.admin_conn(), &dn, &name, members);
        dn
    }

    /// Replaces all values of one attribute of one entry, as Administrator (no values: removes it).
    pub fn replace_attr(&self, dn: &str, attr: &str, values: &[&str]) {
        let values = values.iter().map(|v| v.as_bytes().to_vec()).collect();
        self.admin_conn()
            .modify(dn, vec![Mod::Replace(attr.as_bytes().to_vec(), values)])
            .and_then(|r| r.success())
            .unwrap_or_else(|e| panic!("test harness: cannot replace {attr} of {dn}: {e}"));
    }

    /// Fails binds with random wrong passwords (never a previous one: those do not count) until locked.
    pub fn lock_user(&self, user: &CastUser) {
        for _ in 0..10 {
            match self.bind(&user.upn, &strong_password()) {
                Err(LdapError::LdapResult { result }) if result.text.contains("data 775") => break,
                Err(LdapError::LdapResult { result }) if result.rc == 49 => continue,
                Err(e) => panic!(
                    "test harness: unexpected error while locking {}: {e}",
                    user.login
                ),
                Ok(_) => panic!("test harness: a random password bound as {}", user.login),
            }
        }
        assert!(
            self.is_locked(&user.dn),
            "test harness: {} is not locked after failed binds",
            user.login
        );
    }

    /// Whether the DC considers the account locked out right now.
    pub fn is_locked(&self, dn: &str) -> bool {
        let computed = self.read_attr(dn, "msDS-User-Account-Control-Computed");
        let flags: u32 = computed
            .first()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                panic!("test harness: no msDS-User-Account-Control-Computed on {dn}")
            });
        flags & UF_LOCKOUT != 0
    }

    /// All values of one attribute of one entry, read as Administrator (empty when absent).
    pub fn read_attr(&self, dn: &str, attr: &str) -> Vec<String> {
        read_entry(&mut self.admin_conn(), dn, &[attr])
            .attrs
            .remove(attr)
            .unwrap_or_default()
    }
}

/// A random password that passes Samba's default complexity rules and names no user.
pub fn strong_password() -> String {
    let random = RandomState::new().hash_one(Instant::now());
    format!("Kp{:08x}!{:04}zQ", random as u32, (random >> 32) % 10_000)
}

/// The `unicodePwd` value Samba expects: the password in double quotes, UTF-16LE.
pub fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// A replace of `unicodePwd`: an administrative reset (needs Reset Password on the target).
pub fn reset_password_mod(password: &str) -> Vec<Mod<Vec<u8>>> {
    vec![Mod::Replace(
        b"unicodePwd".to_vec(),
        HashSet::from([unicode_pwd(password)]),
    )]
}

fn connect(config: Arc<rustls::ClientConfig>) -> Result<LdapConn, LdapError> {
    let settings = LdapConnSettings::new()
        .set_config(config)
        .set_conn_timeout(Duration::from_secs(10));
    LdapConn::with_settings(settings, LDAPS_URL)
}

fn bind(
    config: &Arc<rustls::ClientConfig>,
    who: &str,
    password: &str,
) -> Result<LdapConn, LdapError> {
    let mut conn = connect(Arc::clone(config))?;
    conn.simple_bind(who, password)?.success()?;
    Ok(conn)
}

/// One entry by DN; values that are not UTF-8 (SIDs, descriptors) are in `bin_attrs`.
fn read_entry(conn: &mut LdapConn, dn: &str, attrs: &[&str]) -> SearchEntry {
    let (entries, _) = conn
        .search(dn, Scope::Base, "(objectClass=*)", attrs.to_vec())
        .and_then(|r| r.success())
        .unwrap_or_else(|e| panic!("test harness: cannot read {dn}: {e}"));
    let entry = entries
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("test harness: no entry {dn}"));
    SearchEntry::construct(entry)
}

fn cast() -> Cast {
    let user =
        |login: &str, name: &str, password: &str, mail: bool, mobile: Option<&str>| CastUser {
            login: login.to_owned(),
            upn: format!("{login}@{UPN_SUFFIX}"),
            dn: format!("CN={login},{USERS_OU}"),
            display_name: name.to_owned(),
            password: password.to_owned(),
            mail: mail.then(|| format!("{login}@example.test")),
            mobile: mobile.map(str::to_owned),
            badge: None,
        };
    let mut service = user(
        "svc-sspr",
        "SSPR Kiosk Service",
        "Pe9@rBx4-Tn6vWk",
        false,
        None,
    );
    service.dn = format!("CN=svc-sspr,CN=Users,{BASE_DN}");
    Cast {
        normal: user(
            "normal.user",
            "Norma Normal",
            "Vt8#qLm2-Rw5z",
            true,
            Some("+15550100001"),
        ),
        locked: user(
            "locked.user",
            "Lockie Locked",
            "Hx3$kPn7-Ds4c",
            true,
            Some("+15550100002"),
        ),
        privileged: user("priv.user", "Priam Privileged", "Jb6%wQr9-Fy2m", true, None),
        unregistered: user("noreg.user", "Nora Noreg", "Zc5&tNv8-Gh3p", false, None),
        badge: CastUser {
            badge: Some("0004567890".to_owned()),
            ..user("badge.user", "Bea Badge", "Mw2*yKd6-Lq7s", true, None)
        },
        service,
    }
}

//! A real OpenLDAP slapd with the ppolicy overlay on free loopback ports (ldap:// and ldaps://), its
//! cn=config built from `tests/fixtures/slapd_config.ldif`, seeded with the test cast.
//!
//! `slapd()` is one shared instance per test process: tests that change state use `create_user`, or
//! start their own `Slapd` (cheap). The data directory survives `stop`/`restart` (outage tests); it is
//! removed when the test process exits.

mod cast;
pub mod ppolicy;

pub use cast::{Cast, CastUser};

use ppolicy::ppolicy_request_control;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ldap3::{LdapConn, LdapConnSettings, LdapError, Mod, Scope, SearchEntry};

use super::certs::TestPki;
use super::process::ServerProcess;
use super::{free_port, require_program, server_dir, wait_for_port};

const CONFIG_TEMPLATE: &str = include_str!("../../fixtures/slapd_config.ldif");
const SEED_TEMPLATE: &str = include_str!("../../fixtures/slapd_seed.ldif");
/// The schema the project ships for OpenLDAP, loaded into cn=config exactly as an admin would.
const SSPR_SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/docs/directory/openldap-sspr-kiosk.ldif"
);

pub const BASE_DN: &str = "dc=example,dc=test";
pub const PEOPLE_DN: &str = "ou=people,dc=example,dc=test";
pub const ADMINS_GROUP_DN: &str = "cn=admins,ou=groups,dc=example,dc=test";
/// Holds `cn=admins` as a member (nested one level).
pub const OPERATORS_GROUP_DN: &str = "cn=operators,ou=groups,dc=example,dc=test";
/// Holds `cn=operators` as a member (nested two levels).
pub const STAFF_GROUP_DN: &str = "cn=staff,ou=groups,dc=example,dc=test";
pub const POLICY_DN: &str = "cn=default,ou=policies,dc=example,dc=test";
/// `pwdMaxFailure` of the default policy: this many wrong binds lock an account.
pub const MAX_FAILURES: usize = 3;
/// `pwdInHistory` of the default policy.
pub const PASSWORDS_IN_HISTORY: usize = 5;

const ROOT_DN: &str = "cn=admin,dc=example,dc=test";
const ROOT_PASSWORD: &str = "Root#Directory-2024";
const SERVICE_DN: &str = "cn=sspr-kiosk,ou=services,dc=example,dc=test";
const SERVICE_PASSWORD: &str = "Kiosk#Service-2024";

/// How long one start took, printed once per instance.
#[derive(Debug, Clone, Copy)]
pub struct SlapdStartup {
    /// TLS files, cn=config and the tree written with `slapadd`.
    pub config: Duration,
    /// From spawning slapd until ldap:// and ldaps:// accept connections.
    pub listen: Duration,
    /// Adding the cast over LDAP and locking `locked.user` with real failed binds.
    pub seed: Duration,
}

#[derive(Debug)]
pub struct Slapd {
    pub base_dn: String,
    pub root_dn: String,
    pub root_password: String,
    pub service_dn: String,
    pub service_password: String,
    pub admins_group_dn: String,
    pub pki: TestPki,
    pub cast: Cast,
    pub startup: SlapdStartup,
    /// Duration of the latest `restart` (slapd spawned until it listens again).
    pub last_restart: Option<Duration>,
    dir: PathBuf,
    ldap_port: u16,
    ldaps_port: u16,
    generation: u32,
    server: Option<ServerProcess>,
    // Owns `dir`: its watchdog removes the directory when the test process exits, so the data
    // survives a `stop` of slapd itself.
    _keeper: ServerProcess,
}

/// The slapd shared by every test of this process.
pub fn slapd() -> &'static Slapd {
    static SHARED: OnceLock<Slapd> = OnceLock::new();
    SHARED.get_or_init(Slapd::start)
}

impl Slapd {
    /// Builds a fresh directory on two free ports, starts slapd and seeds the cast.
    pub fn start() -> Slapd {
        require_program("slapd", "slapd");
        let slapadd = require_program("slapadd", "slapd");
        let began = Instant::now();

        let dir = server_dir("slapd");
        let sleep = require_program("sleep", "coreutils");
        let keeper = ServerProcess::spawn("keeper", &dir, &sleep, &["infinity"]);
        let pki = TestPki::create(&dir, "sspr-kiosk test slapd CA");
        build_config(&slapadd, &dir, &pki);
        let config = began.elapsed();

        let ldap_port = free_port();
        let ldaps_port = loop {
            let port = free_port();
            if port != ldap_port {
                break port;
            }
        };
        let mut slapd = Slapd {
            base_dn: BASE_DN.to_owned(),
            root_dn: ROOT_DN.to_owned(),
            root_password: ROOT_PASSWORD.to_owned(),
            service_dn: SERVICE_DN.to_owned(),
            service_password: SERVICE_PASSWORD.to_owned(),
            admins_group_dn: ADMINS_GROUP_DN.to_owned(),
            pki,
            cast: Cast::new(),
            startup: SlapdStartup {
                config,
                listen: Duration::ZERO,
                seed: Duration::ZERO,
            },
            last_restart: None,
            dir,
            ldap_port,
            ldaps_port,
            generation: 0,
            server: None,
            _keeper: keeper,
        };
        slapd.startup.listen = slapd.spawn();

        let seeding = Instant::now();
        slapd.seed_cast();
        slapd.startup.seed = seeding.elapsed();
        eprintln!(
            "harness: slapd ready in {:.2} s (config {:.3} s, listening {:.3} s, cast {:.3} s) on {}",
            began.elapsed().as_secs_f64(),
            slapd.startup.config.as_secs_f64(),
            slapd.startup.listen.as_secs_f64(),
            slapd.startup.seed.as_secs_f64(),
            slapd.ldaps_url(),
        );
        slapd
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// slapd's log (`-d stats`) of the current run.
    pub fn log_path(&self) -> Option<&Path> {
        self.server.as_ref().map(|s| s.log.as_path())
    }

    pub fn is_running(&self) -> bool {
        self.server.is_some()
    }

    /// Stops slapd (SIGTERM, waits); the data, the ports and the certificates stay for `restart`.
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop();
        }
    }

    /// Starts slapd again on the same data and ports (stopping it first if it runs).
    pub fn restart(&mut self) {
        self.stop();
        let took = self.spawn();
        self.last_restart = Some(took);
        eprintln!("harness: slapd restarted in {:.3} s", took.as_secs_f64());
    }

    /// An LDAPS connection (trusting only this server's CA), not yet bound.
    pub fn connect(&self) -> LdapConn {
        self.try_connect()
            .unwrap_or_else(|e| panic!("test harness: cannot connect to {}: {e}", self.ldaps_url()))
    }

    pub fn try_connect(&self) -> Result<LdapConn, LdapError> {
        self.connect_with(self.pki.client_config())
    }

    /// An LDAPS connection, not yet bound, trusting only `config`'s roots.
    pub fn connect_with(&self, config: rustls::ClientConfig) -> Result<LdapConn, LdapError> {
        let settings = LdapConnSettings::new()
            .set_config(Arc::new(config))
            .set_conn_timeout(Duration::from_secs(5));
        LdapConn::with_settings(settings, &self.ldaps_url())
    }

    /// Simple bind over LDAPS. The ppolicy request control rides along, so a failure's
    /// `LdapError::LdapResult` carries the reason (`ppolicy_error`), e.g. `AccountLocked` with rc 49.
    pub fn bind(&self, dn: &str, password: &str) -> Result<LdapConn, LdapError> {
        let mut conn = self.try_connect()?;
        conn.with_controls(ppolicy_request_control())
            .simple_bind(dn, password)?
            .success()?;
        Ok(conn)
    }

    pub fn root_conn(&self) -> LdapConn {
        self.bind(&self.root_dn, &self.root_password)
            .unwrap_or_else(|e| panic!("test harness: root bind to slapd failed: {e}"))
    }

    /// Bound as the kiosk's service account (write-only on userPassword, write on
    /// pwdAccountLockedTime under ou=people, read on the mapped attributes).
    pub fn service_conn(&self) -> LdapConn {
        self.bind(&self.service_dn, &self.service_password)
            .unwrap_or_else(|e| panic!("test harness: service account bind to slapd failed: {e}"))
    }

    /// A fresh user `<prefix>.<n>` in ou=people with mail, mobile, badge and a known password, for
    /// tests that change state on a shared server.
    pub fn create_user(&self, prefix: &str) -> CastUser {
        let user = CastUser::fresh(prefix);
        let mut conn = self.plain_root_conn();
        cast::add_user(&mut conn, &user);
        user
    }

    /// Like `create_user`, but with exactly `login` as uid (and RDN): for logins holding filter
    /// metacharacters such as `(`, `)` or `*`. Commas and backslashes would need DN escaping: avoid them.
    pub fn create_user_named(&self, login: &str) -> CastUser {
        let user = CastUser {
            login: login.to_owned(),
            upn: format!("{login}@example.test"),
            dn: format!("uid={login},{PEOPLE_DN}"),
            ..CastUser::fresh("named")
        };
        let mut conn = self.plain_root_conn();
        cast::add_user(&mut conn, &user);
        user
    }

    /// A new `groupOfNames` `cn=<cn>,ou=groups` holding `members`; returns its DN.
    pub fn create_group(&self, cn: &str, members: &[&str]) -> String {
        let dn = format!("cn={cn},ou=groups,{BASE_DN}");
        let mut conn = self.plain_root_conn();
        conn.add(
            &dn,
            vec![
                ("objectClass", HashSet::from(["groupOfNames"])),
                ("cn", HashSet::from([cn])),
                ("member", members.iter().copied().collect()),
            ],
        )
        .expect("add request")
        .success()
        .unwrap_or_else(|e| panic!("test harness: adding group {dn} failed: {e}"));
        dn
    }

    /// Locks `user` the way a person does: `MAX_FAILURES` binds with wrong passwords.
    pub fn lock_user(&self, user: &CastUser) {
        let mut conn = LdapConn::new(&self.ldap_url()).expect("connect to slapd");
        for attempt in 0..MAX_FAILURES {
            let wrong = format!("Wrong#{attempt}-{}", user.password);
            let rc = conn.simple_bind(&user.dn, &wrong).expect("bind request").rc;
            assert_eq!(rc, 49, "a wrong password must fail to bind as {}", user.dn);
        }
        assert!(
            self.is_locked(&user.dn),
            "{} not locked after {MAX_FAILURES} bad binds",
            user.dn
        );
    }

    /// Whether ppolicy has set `pwdAccountLockedTime` on `dn` (read as the root DN).
    pub fn is_locked(&self, dn: &str) -> bool {
        !self.read_attr(dn, "pwdAccountLockedTime").is_empty()
    }

    /// Clears the lockout as an administrator would (deleting `pwdAccountLockedTime`).
    pub fn unlock_user(&self, dn: &str) {
        let mut conn = self.plain_root_conn();
        conn.modify(
            dn,
            vec![Mod::Delete("pwdAccountLockedTime", HashSet::new())],
        )
        .expect("modify request")
        .success()
        .unwrap_or_else(|e| panic!("test harness: unlocking {dn} failed: {e}"));
    }

    /// Applies `mods` to `dn` as the root DN (test set-up the service account may not do).
    pub fn modify_as_root(&self, dn: &str, mods: Vec<Mod<&str>>) {
        let mut conn = self.plain_root_conn();
        conn.modify(dn, mods)
            .expect("modify request")
            .success()
            .unwrap_or_else(|e| panic!("test harness: modifying {dn} as root failed: {e}"));
    }

    /// Freezes slapd (SIGSTOP): connections stay open but nothing answers, as with a hung server.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Thaws a `pause`d slapd (SIGCONT).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self
            .server
            .as_ref()
            .and_then(ServerProcess::pid)
            .expect("test harness: slapd is not running");
        let status = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("run kill");
        assert!(
            status.success(),
            "test harness: kill -{signal} {pid} failed"
        );
    }

    /// All values of one (possibly operational) attribute of `dn`, read as the root DN.
    pub fn read_attr(&self, dn: &str, attr: &str) -> Vec<String> {
        let mut conn = self.plain_root_conn();
        let (entries, _) = conn
            .search(dn, Scope::Base, "(objectClass=*)", vec![attr])
            .expect("search request")
            .success()
            .unwrap_or_else(|e| panic!("test harness: reading {attr} of {dn} failed: {e}"));
        entries
            .into_iter()
            .flat_map(|e| {
                SearchEntry::construct(e)
                    .attrs
                    .remove(attr)
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Internal bookkeeping goes over plain ldap:// on loopback: one TLS handshake fewer per call.
    fn plain_root_conn(&self) -> LdapConn {
        let mut conn = LdapConn::new(&self.ldap_url()).expect("connect to slapd over ldap://");
        conn.simple_bind(&self.root_dn, &self.root_password)
            .expect("bind request")
            .success()
            .unwrap_or_else(|e| panic!("test harness: root bind to slapd failed: {e}"));
        conn
    }

    fn seed_cast(&self) {
        let mut conn = self.plain_root_conn();
        for user in self.cast.all() {
            cast::add_user(&mut conn, user);
        }
        self.lock_user(&self.cast.locked);
    }

    /// Spawns slapd on the configured ports and waits until both listen; returns how long it took.
    fn spawn(&mut self) -> Duration {
        let began = Instant::now();
        self.generation += 1;
        let run_dir = self.dir.join(format!("run-{}", self.generation));
        std::fs::create_dir_all(&run_dir).expect("create slapd run directory");
        let urls = format!("{}/ {}/", self.ldap_url(), self.ldaps_url());
        let config_dir = self.dir.join("slapd.d");
        let slapd = require_program("slapd", "slapd");
        let server = ServerProcess::spawn(
            "slapd",
            &run_dir,
            &slapd,
            &["-h", &urls, "-F", path_str(&config_dir), "-d", "stats"],
        );
        for port in [self.ldap_port, self.ldaps_port] {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            wait_for_port(addr, Duration::from_secs(10), "slapd", &server.log);
        }
        self.server = Some(server);
        began.elapsed()
    }
}

/// Writes cn=config and the tree with `slapadd` (offline, before slapd runs).
fn build_config(slapadd: &Path, dir: &Path, pki: &TestPki) {
    let config_dir = dir.join("slapd.d");
    std::fs::create_dir_all(&config_dir).expect("create slapd.d");
    std::fs::create_dir_all(dir.join("data")).expect("create slapd data directory");
    let config = CONFIG_TEMPLATE
        .replace("@DIR@", path_str(dir))
        .replace("@TLS_CA@", path_str(&pki.ca_pem))
        .replace("@TLS_CERT@", path_str(&pki.cert_pem))
        .replace("@TLS_KEY@", path_str(&pki.key_pem))
        .replace("@ROOT_PW@", ROOT_PASSWORD)
        .replace("@SSPR_SCHEMA@", SSPR_SCHEMA);
    let seed = SEED_TEMPLATE.replace("@SERVICE_PW@", SERVICE_PASSWORD);
    for (database, name, ldif) in [("0", "config.ldif", config), ("1", "seed.ldif", seed)] {
        let path = dir.join(name);
        std::fs::write(&path, ldif).expect("write LDIF");
        let out = Command::new(slapadd)
            .args([
                "-q",
                "-n",
                database,
                "-F",
                path_str(&config_dir),
                "-l",
                path_str(&path),
            ])
            .output()
            .expect("run slapadd");
        assert!(
            out.status.success(),
            "test harness: slapadd -n{database} -l {} failed: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

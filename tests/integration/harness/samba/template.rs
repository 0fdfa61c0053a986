//! The cached, provisioned and seeded Samba directory, and starting `samba` on a copy of it.
//!
//! Provisioning takes seconds of CPU, copying takes milliseconds: the template is built once per Samba
//! version and seed version under the target dir (atomically, by renaming a finished staging copy).
//! Every run writes its own smb.conf, so nothing points at system paths or at another run's files.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::super::certs::TestPki;
use super::super::process::ServerProcess;
use super::super::{INSTALL_HINT, require_program};
use super::{ADMIN_DN, ADMIN_PASSWORD, NETBIOS_DOMAIN, REALM, seed};

/// Bump whenever the seed (cast, passwords, policy, ACLs) changes: old templates are then ignored.
const TEMPLATE_VERSION: u32 = 2;
/// Samba binds all of these on the interface, fixed: a second DC on 127.0.0.1 cannot start.
const FIXED_PORTS: [u16; 4] = [389, 636, 3268, 3269];
const STAGING_PREFIX: &str = "samba-template-staging-";

#[derive(Debug)]
pub struct Programs {
    pub samba: PathBuf,
    pub samba_tool: PathBuf,
}

impl Programs {
    pub fn find() -> Programs {
        Programs {
            samba: require_program("samba", "samba samba-ad-dc"),
            samba_tool: require_program("samba-tool", "samba-common-bin samba-ad-provision"),
        }
    }

    /// `4.17.12_Debian`: a template is only reused by the Samba version that provisioned it.
    fn version(&self) -> String {
        let version = run(
            Command::new(&self.samba).arg("--version"),
            "samba --version",
        );
        let version = version.trim().trim_start_matches("Version ");
        version
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// Runs `samba-tool args…` and fails with its output if it fails.
    pub fn tool(&self, args: &[&str]) -> String {
        run(Command::new(&self.samba_tool).args(args), "samba-tool")
    }
}

/// Fails unless Samba's fixed ports on 127.0.0.1 are free (waits a little for a previous run's DC).
pub fn ensure_ports_free() {
    for port in FIXED_PORTS {
        let start = Instant::now();
        loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(_) => break,
                Err(_) if start.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!(
                    "test harness: 127.0.0.1:{port} is already in use ({e}). Samba's LDAP ports are \
                     fixed, so only one AD DC can run per address: stop whatever listens there \
                     (`ss -ltnp 'sport = :{port}'`; another test process?)"
                ),
            }
        }
    }
}

/// The template directory, built now if missing; `Some(duration)` when it had to be built.
pub fn ensure(programs: &Programs) -> (PathBuf, Option<Duration>) {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let template = cache.join(format!(
        "samba-template-v{TEMPLATE_VERSION}-{}",
        programs.version()
    ));
    if template.join("private/sam.ldb").is_file() {
        return (template, None);
    }
    let start = Instant::now();
    remove_abandoned_staging(cache);
    let staging = cache.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).expect("create the Samba template staging directory");
    let data = staging.join("dc");
    provision(programs, &staging, &data);
    {
        let instance = Instance::start(programs, &data, &staging.join("proc"));
        seed::seed(programs, &instance);
    } // dropping the instance stops samba, so the copied databases are quiescent
    // A concurrent process may have won the race: its template is as good as ours.
    if std::fs::rename(&data, &template).is_err() && !template.join("private/sam.ldb").is_file() {
        panic!(
            "test harness: cannot move the Samba template into {}",
            template.display()
        );
    }
    let _ = std::fs::remove_dir_all(&staging);
    (template, Some(start.elapsed()))
}

/// Staging directories of test processes that died while building a template.
fn remove_abandoned_staging(cache: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(STAGING_PREFIX) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn provision(programs: &Programs, staging: &Path, data: &Path) {
    // An empty -s file: otherwise /etc/samba/smb.conf leaks into the provisioned configuration.
    let empty_conf = staging.join("empty.conf");
    std::fs::write(&empty_conf, "").expect("write an empty smb.conf");
    programs.tool(&[
        "domain",
        "provision",
        "-s",
        path_str(&empty_conf),
        &format!("--targetdir={}", path_str(data)),
        &format!("--realm={REALM}"),
        &format!("--domain={NETBIOS_DOMAIN}"),
        "--server-role=dc",
        "--dns-backend=NONE",
        &format!("--adminpass={ADMIN_PASSWORD}"),
        "--host-name=dc1",
        "--option=interfaces = 127.0.0.1",
        "--option=bind interfaces only = yes",
        "--option=server services = ldap",
    ]);
    programs.tool(&[
        "domain",
        "passwordsettings",
        "set",
        "-s",
        path_str(&data.join("etc/smb.conf")),
        "--complexity=on",
        "--history-length=24",
        "--min-pwd-length=7",
        "--min-pwd-age=0",
        // Never expire: a template may be older than the 42-day default, and binds would fail `532`.
        "--max-pwd-age=0",
        "--account-lockout-threshold=3",
    ]);
}

/// `cp -a`: keeps the owners and POSIX ACLs that provisioning put on sysvol.
pub fn copy_dir(from: &Path, to: &Path) {
    run(
        Command::new("cp").arg("-a").arg(from).arg(to),
        "cp -a (Samba template)",
    );
}

/// `samba` running on a data directory; `proc_dir` (its config, certificates, log) is removed on stop.
#[derive(Debug)]
pub struct Instance {
    pub process: ServerProcess,
    pub pki: TestPki,
    pub client_config: Arc<rustls::ClientConfig>,
    pub conf: PathBuf,
    pub spawned_at: Instant,
    pub ready_at: Instant,
}

impl Instance {
    pub fn start(programs: &Programs, data: &Path, proc_dir: &Path) -> Instance {
        std::fs::create_dir_all(proc_dir.join("run")).expect("create the Samba pid directory");
        let pki = TestPki::create(proc_dir, "sspr-kiosk Samba test CA");
        let conf = proc_dir.join("smb.conf");
        std::fs::write(&conf, smb_conf(data, proc_dir, &pki)).expect("write smb.conf");
        // So that `samba-tool -s dc/etc/smb.conf` on a kept directory sees this run's paths.
        std::fs::copy(&conf, data.join("etc/smb.conf")).expect("copy smb.conf into the data dir");
        let args = [
            "-F",
            "-M",
            "single",
            "--debug-stdout",
            "-s",
            path_str(&conf),
        ];
        let spawned_at = Instant::now();
        let process = ServerProcess::spawn("samba", proc_dir, &programs.samba, &args);
        let client_config = Arc::new(pki.client_config());
        let ready_at = wait_for_bind(&process, &client_config);
        Instance {
            process,
            pki,
            client_config,
            conf,
            spawned_at,
            ready_at,
        }
    }
}

/// Polls an Administrator bind over LDAPS: the port opens before the directory answers binds.
fn wait_for_bind(process: &ServerProcess, config: &Arc<rustls::ClientConfig>) -> Instant {
    let start = Instant::now();
    let mut last_error = String::from("not tried");
    while start.elapsed() < Duration::from_secs(60) {
        match super::bind(config, ADMIN_DN, ADMIN_PASSWORD) {
            Ok(_) => return Instant::now(),
            Err(e) => last_error = e.to_string(),
        }
        let alive = process
            .pid()
            .is_none_or(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(&process.log).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    panic!(
        "test harness: Samba did not answer an LDAPS bind after {:?} (last error: {last_error}). \
         Its log ({}):\n{}\n({INSTALL_HINT})",
        start.elapsed(),
        process.log.display(),
        tail.join("\n")
    );
}

/// The whole configuration, written fresh for each copy (same values provisioning wrote, new paths).
fn smb_conf(data: &Path, proc_dir: &Path, pki: &TestPki) -> String {
    let d = data.display();
    let p = proc_dir.display();
    format!(
        "[global]
\tnetbios name = DC1
\trealm = {REALM}
\tworkgroup = {NETBIOS_DOMAIN}
\tserver role = active directory domain controller
\tserver services = ldap
\tinterfaces = 127.0.0.1
\tbind interfaces only = yes
\tprivate dir = {d}/private
\tbinddns dir = {d}/bind-dns
\tlock directory = {d}
\tstate directory = {d}/state
\tcache directory = {d}/cache
\tpid directory = {p}/run
\tlog file = {p}/samba-debug.log
\tncalrpc dir = {p}/ncalrpc
\twinbindd socket directory = {p}/winbindd
\tntp signd socket directory = {p}/ntp_signd
\t# Provision drops this; without it the old password keeps binding for 60 min after a reset.
\told password allowed period = 0
\ttls enabled = yes
\ttls keyfile = {}
\ttls certfile = {}
\ttls cafile = {}

[sysvol]
\tpath = {d}/state/sysvol
\tread only = No

[netlogon]
\tpath = {d}/state/sysvol/{}/scripts
\tread only = No
",
        pki.key_pem.display(),
        pki.cert_pem.display(),
        pki.ca_pem.display(),
        REALM.to_lowercase(),
    )
}

fn run(command: &mut Command, what: &str) -> String {
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("test harness: cannot run {what}: {e} ({INSTALL_HINT})"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        panic!(
            "test harness: {what} failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    stdout
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("harness paths are UTF-8")
}

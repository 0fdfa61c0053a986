//! The real-server test harness: Samba AD DC, OpenLDAP slapd (ppolicy) and an SMTP capture server,
//! started on loopback in temporary directories and stopped when the test process ends.
//!
//! Shared pieces live here (programs, ports, processes, certificates); each server has its own file.
//! A server that cannot start makes the test fail loudly with the command that installs it — never skip.

#![allow(dead_code, reason = "not every test binary module uses every helper")]

pub mod cast;
pub mod certs;
pub mod process;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The Debian packages the harness needs, in one line an operator can paste.
pub const INSTALL_HINT: &str = "run `scripts/dev test` as root (it installs everything), or: \
apt-get install -y slapd ldap-utils samba samba-ad-dc samba-ad-provision python3-aiosmtpd socat oathtool openssl";

/// Finds `program` on PATH or in the sbin directories, or fails the test with the install command.
pub fn require_program(program: &str, package: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from));
    for dir in dirs {
        let candidate = dir.join(program);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "test harness: `{program}` not found. Install it with `apt-get install -y {package}` \
         ({INSTALL_HINT})"
    );
}

/// Fails the test unless it runs as root (Samba AD DC needs root: it binds port 636 and chowns sysvol).
pub fn require_root(what: &str) {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .unwrap_or_default();
    assert_eq!(
        uid, "0",
        "test harness: {what} must run as root (CI runs as root; run `sudo scripts/dev test`)"
    );
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port on loopback");
    listener.local_addr().expect("local addr").port()
}

/// Waits until something accepts TCP connections on `addr`, or fails with `log` in the message.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration, what: &str, log: &Path) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let tail = std::fs::read_to_string(log).unwrap_or_default();
    let tail: String = tail
        .lines()
        .rev()
        .take(30)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    panic!(
        "test harness: {what} did not listen on {addr} within {timeout:?}. Its log ({}):\n{tail}",
        log.display()
    );
}

/// A fresh temporary directory for one server, under the system temp dir.
pub fn server_dir(prefix: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(&format!("sspr-{prefix}-"))
        .tempdir()
        .expect("create a temporary directory")
        .keep()
}

pub mod samba;
pub mod slapd;
pub mod smtp;

//! A real SMTP server that captures mail: Debian's python3-aiosmtpd running
//! `tests/fixtures/smtp_capture.py`, in plain, STARTTLS or implicit-TLS mode, optionally requiring AUTH.
//!
//! Every accepted message lands in a spool directory (raw `.eml` + a `.toml` sidecar, each renamed into
//! place); tests read it with `messages` or `wait_for_message`. Nothing is ever relayed.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::certs::{TestPki, set_mode};
use super::process::ServerProcess;
use super::{INSTALL_HINT, free_port, server_dir, wait_for_port};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/smtp_capture.py"
);
/// Debian's interpreter: a `python3` earlier on PATH (pyenv, venv) does not see python3-aiosmtpd.
const PYTHON: &str = "/usr/bin/python3";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    #[default]
    Plain,
    /// STARTTLS offered; with `required`, every command but EHLO/NOOP/QUIT/STARTTLS gets 530 before it.
    StartTls { required: bool },
    /// SMTPS: TLS from the first byte.
    Implicit,
}

#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    pub tls: SmtpTls,
    /// `(login, password)`: AUTH PLAIN/LOGIN is then required before MAIL, and refused (538) before
    /// STARTTLS.
    pub auth: Option<(String, String)>,
}

/// One message as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMessage {
    /// The spool number, `0001`, `0002`, … in arrival order.
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub raw: String,
    /// The decoded `Subject:` header.
    pub subject: String,
    /// The decoded text/plain body (line ends `\n`).
    pub body_text: String,
    /// Whether the message came over TLS (STARTTLS or implicit).
    pub tls: bool,
    /// The AUTH login, if the client authenticated.
    pub auth_login: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sidecar {
    from: String,
    to: Vec<String>,
    tls: bool,
    subject: String,
    body_text: String,
    auth_login: Option<String>,
}

#[derive(Debug)]
pub struct SmtpServer {
    pub options: SmtpOptions,
    pub pki: TestPki,
    /// From spawning the server until it accepts connections.
    pub startup: Duration,
    port: u16,
    spool: PathBuf,
    /// (spool id, lowercased recipient) pairs already handed out by `wait_for_message`.
    taken: Mutex<HashSet<(String, String)>>,
    process: ServerProcess,
}

/// A plain, AUTH-less capture server shared by every test of this process (use distinct recipients).
pub fn smtp() -> &'static SmtpServer {
    static SHARED: OnceLock<SmtpServer> = OnceLock::new();
    SHARED.get_or_init(|| SmtpServer::start(SmtpOptions::default()))
}

impl SmtpServer {
    pub fn start(options: SmtpOptions) -> SmtpServer {
        require_aiosmtpd();
        let began = Instant::now();
        let dir = server_dir("smtp");
        let spool = dir.join("spool");
        std::fs::create_dir(&spool).expect("create the SMTP spool directory");
        let pki = TestPki::create(&dir, "sspr-kiosk test SMTP CA");
        let port = free_port();

        let mut args: Vec<String> = vec![SCRIPT.into(), "--port".into(), port.to_string()];
        args.extend(["--spool".into(), path_string(&spool)]);
        let mode = match options.tls {
            SmtpTls::Plain => "plain",
            SmtpTls::StartTls { .. } => "starttls",
            SmtpTls::Implicit => "implicit",
        };
        args.extend(["--tls".into(), mode.into()]);
        if options.tls != SmtpTls::Plain {
            args.extend(["--cert".into(), path_string(&pki.cert_pem)]);
            args.extend(["--key".into(), path_string(&pki.key_pem)]);
        }
        if options.tls == (SmtpTls::StartTls { required: true }) {
            args.push("--require-starttls".into());
        }
        if let Some((login, password)) = &options.auth {
            // A file, not argv: other users on the machine can read command lines.
            let auth_file = dir.join("auth");
            std::fs::write(&auth_file, format!("{login}\n{password}\n")).expect("write auth file");
            set_mode(&auth_file, 0o600);
            args.extend(["--auth-file".into(), path_string(&auth_file)]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let process = ServerProcess::spawn("smtp", &dir, Path::new(PYTHON), &args);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        wait_for_port(
            addr,
            Duration::from_secs(10),
            "the SMTP capture server",
            &process.log,
        );
        let startup = began.elapsed();
        eprintln!(
            "harness: smtp ({mode}{}) ready in {:.2} s on 127.0.0.1:{port}",
            if options.auth.is_some() { ", AUTH" } else { "" },
            startup.as_secs_f64()
        );
        SmtpServer {
            options,
            pki,
            startup,
            port,
            spool,
            taken: Mutex::new(HashSet::new()),
            process,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn spool_dir(&self) -> &Path {
        &self.spool
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<CapturedMessage> {
        let mut ids: Vec<String> = std::fs::read_dir(&self.spool)
            .expect("read the SMTP spool")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".toml").map(str::to_owned))
            .collect();
        ids.sort();
        ids.into_iter().map(|id| self.read_message(id)).collect()
    }

    /// The oldest message to `to` (case-insensitive) not yet returned for `to` by this method, waiting
    /// up to `timeout`; so a test that expects a second code gets the second message, not the first again.
    pub fn wait_for_message(&self, to: &str, timeout: Duration) -> CapturedMessage {
        let began = Instant::now();
        let to = to.to_ascii_lowercase();
        loop {
            let messages = self.messages();
            let mut taken = self.taken.lock().expect("lock");
            let found = messages.iter().find(|m| {
                m.to.iter().any(|r| r.eq_ignore_ascii_case(&to))
                    && !taken.contains(&(m.id.clone(), to.clone()))
            });
            if let Some(message) = found {
                taken.insert((message.id.clone(), to));
                return message.clone();
            }
            drop(taken);
            if began.elapsed() > timeout {
                let seen: Vec<_> = messages
                    .iter()
                    .map(|m| (&m.id, &m.to, &m.subject))
                    .collect();
                let log = std::fs::read_to_string(&self.process.log).unwrap_or_default();
                panic!(
                    "no new message to {to} within {timeout:?}; the spool has {seen:?}. Log:\n{log}"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn read_message(&self, id: String) -> CapturedMessage {
        let sidecar = self.spool.join(format!("{id}.toml"));
        let text = std::fs::read_to_string(&sidecar).expect("read a spool sidecar");
        let meta: Sidecar = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("bad sidecar {}: {e}\n{text}", sidecar.display()));
        let raw = std::fs::read(self.spool.join(format!("{id}.eml"))).expect("read a spooled .eml");
        CapturedMessage {
            id,
            from: meta.from,
            to: meta.to,
            raw: String::from_utf8_lossy(&raw).into_owned(),
            subject: meta.subject,
            body_text: meta.body_text,
            tls: meta.tls,
            auth_login: meta.auth_login,
        }
    }
}

fn require_aiosmtpd() {
    let ok = std::process::Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        ok,
        "test harness: {PYTHON} cannot import aiosmtpd. Install it with \
         `apt-get install -y python3-aiosmtpd` ({INSTALL_HINT})"
    );
}

fn path_string(path: &Path) -> String {
    path.to_str().expect("temporary paths are UTF-8").to_owned()
}

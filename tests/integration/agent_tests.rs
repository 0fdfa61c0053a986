//! End to end: the real `sspr-kiosk agent` process against real slapd and a real SMTP server, driven
//! through the protocol by the real `sspr-kiosk drive`. Codes are read from the SMTP server's mailbox.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::config_tests::sspr_kiosk;
use crate::harness::slapd::Slapd;
use crate::harness::smtp::{SmtpOptions, SmtpServer};

/// A running agent with its own config, credentials and socket; killed on drop.
struct AgentProcess {
    child: Child,
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const REGISTRATION_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

const EMAIL_TOTP: &str = r#"enabled = ["email", "totp"]"#;

const WITH_QA: &str = r#"enabled = ["email", "totp", "qa"]
[gates.qa.questions]
pet = "First pet?"
school = "First school?"
city = "City of birth?"
street = "Childhood street?"
car = "First car?""#;

fn start_agent(server: &Slapd, smtp: &SmtpServer, gates: &str, policy: &str) -> AgentProcess {
    start_agent_on_board(server, smtp, gates, policy, None)
}

/// An agent with a board file whose badge reader listens on `reader` (a pty).
fn start_agent_on_board(
    server: &Slapd,
    smtp: &SmtpServer,
    gates: &str,
    policy: &str,
    reader: Option<&Path>,
) -> AgentProcess {
    let directory = Directory {
        section: format!(
            "flavour = \"openldap\"\nurls = [\"{}\"]\nbase_dn = \"dc=example,dc=test\"\nbind_dn = \"{}\"\n",
            server.ldaps_url(),
            server.service_dn
        ),
        attributes: "identifiers = [\"uid\", \"mail\"]\nbadge = \"employeeNumber\"\nregistration = \"ssprRegistration\"",
        bind_password: &server.service_password,
        ca: &server.pki.ca_pem,
        privileged_group: "cn=admins,ou=groups,dc=example,dc=test",
    };
    start_agent_for(&directory, smtp, gates, policy, reader)
}

/// The directory part of an agent's configuration.
struct Directory<'a> {
    section: String,
    attributes: &'a str,
    bind_password: &'a str,
    ca: &'a Path,
    privileged_group: &'a str,
}

fn start_agent_for(
    directory: &Directory<'_>,
    smtp: &SmtpServer,
    gates: &str,
    policy: &str,
    reader: Option<&Path>,
) -> AgentProcess {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(
        credentials.join("ldap-bind-password"),
        directory.bind_password,
    )
    .unwrap();
    std::fs::write(credentials.join("device-key"), "test-device-key-material").unwrap();
    std::fs::write(credentials.join("registration-key"), REGISTRATION_KEY).unwrap();
    let socket = dir.path().join("ui.sock");
    let config = format!(
        r#"version = 1
[site]
kiosk_id = "e2e-kiosk"
location = "Test lab"
helpdesk = "ext. 1234"
data_dir = "{data}"
ui_socket = "{socket}"
[directory]
{section}bind_password = {{ credential = "ldap-bind-password" }}
[directory.attributes]
{attributes}
mobile = ["mobile"]
email = ["mail"]
[gates]
{gates}
[policy]
privileged_groups = ["{privileged}"]
{policy}
[delivery.email]
host = "127.0.0.1"
port = {port}
security = "insecure-for-tests"
from = "kiosk@example.test"
[trust]
directory_ca = "{ca}"
[keys]
device_key = {{ credential = "device-key" }}
registration_key = {{ id = "k1", secret = {{ credential = "registration-key" }} }}
"#,
        data = dir.path().display(),
        socket = socket.display(),
        section = directory.section,
        attributes = directory.attributes,
        privileged = directory.privileged_group,
        port = smtp.port(),
        ca = directory.ca.display(),
    );
    let file = dir.path().join("kiosk.toml");
    std::fs::write(&file, config).unwrap();
    let board = dir.path().join("board.toml");
    if let Some(reader) = reader {
        let text = format!(
            "version = 1\n[board]\nname = \"test\"\ndescription = \"test bench\"\n\
             [display]\nwidth = 800\nheight = 480\nwidth_mm = 155\n\
             [reader]\nport = \"{}\"\nprotocol = \"em4100-frame\"\n",
            reader.display()
        );
        std::fs::write(&board, text).unwrap();
    }
    let log = std::fs::File::create(dir.path().join("agent.log")).unwrap();
    let child = sspr_kiosk()
        .args(["agent", "--config"])
        .arg(&file)
        .arg("--board")
        .arg(&board)
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .env("SSPR_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let agent = AgentProcess { child, dir, socket };
    let start = Instant::now();
    while !agent.socket.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "agent did not start:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    agent
}

impl AgentProcess {
    /// Waits (up to 10 s) until the agent's log satisfies `done`: audit lines are written by
    /// background tasks, a moment after the screen that caused them.
    fn wait_for_log(&self, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if done(&log) || start.elapsed() > Duration::from_secs(10) {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    fn drive(&self, script: &str) -> Output {
        let file = self
            .dir
            .path()
            .join(format!("script-{}.txt", rand_suffix()));
        std::fs::write(&file, script).unwrap();
        sspr_kiosk()
            .arg("drive")
            .arg(&file)
            .arg("--socket")
            .arg(&self.socket)
            .output()
            .unwrap()
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A file the test fills with the code from the mailbox; the script waits for it with `$(…)`.
fn code_file(
    dir: &Path,
    smtp: &'static SmtpServer,
    to: String,
) -> (PathBuf, std::thread::JoinHandle<()>) {
    let file = dir.join(format!("code-{}", rand_suffix()));
    let target = file.clone();
    let handle = std::thread::spawn(move || {
        let message = smtp.wait_for_message(&to, Duration::from_secs(20));
        let code = message
            .body_text
            .lines()
            .map(str::trim)
            .find(|l| l.len() >= 6 && l.chars().all(|c| c.is_ascii_digit()))
            .expect("a code line in the message")
            .to_owned();
        std::fs::write(&target, code).unwrap();
    });
    (file, handle)
}

fn wait_for(file: &Path) -> String {
    format!(
        "$(for i in $(seq 200); do [ -s {0} ] && break; sleep 0.1; done; cat {0})",
        file.display()
    )
}

fn transcript(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn smtp_server() -> &'static SmtpServer {
    static SERVER: std::sync::OnceLock<SmtpServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| SmtpServer::start(SmtpOptions::default()))
}

#[test]
fn unlock_only_with_an_email_code_then_the_old_password_still_binds() {
    let server = Slapd::start();
    let smtp = smtp_server();
    let user = server.create_user("e2e");
    server.lock_user(&user);
    assert!(server.is_locked(&user.dn));
    let agent = start_agent(&server, smtp, EMAIL_TOTP, "");
    let (code, waiter) = code_file(agent.dir.path(), smtp, user.mail.clone().unwrap());
    let script = format!(
        "identify {login}\nexpect choose-method\nchoose email:0\nexpect enter-code\nenter-code {code}\n\
         expect choose-action\nchoose action:unlock\nexpect receipt\n",
        login = user.login,
        code = wait_for(&code),
    );
    let output = agent.drive(&script);
    waiter.join().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}\nagent log:\n{}",
        transcript(&output),
        String::from_utf8_lossy(&output.stderr),
        agent.log()
    );
    assert!(
        !server.is_locked(&user.dn),
        "the directory says the account is still locked"
    );
    server
        .bind(&user.dn, &user.password)
        .expect("the old password binds after an unlock-only");
    let log = agent.log();
    assert!(log.contains("outcome=Unlocked"), "{log}");
    let code = std::fs::read_to_string(&code).unwrap();
    assert!(!log.contains(&code), "the code must not be logged");
    // The owner is told, with the receipt's reference, and the message carries no code.
    let reference = log
        .split("ref=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_owned();
    let notice = smtp.wait_for_message(user.mail.as_deref().unwrap(), Duration::from_secs(20));
    assert!(
        notice.body_text.contains(&reference),
        "{}",
        notice.body_text
    );
    assert!(
        notice.body_text.contains("e2e-kiosk") && !notice.body_text.contains(&code),
        "{}",
        notice.body_text
    );
}

#[test]
fn an_unknown_user_sees_what_a_known_user_with_a_wrong_code_sees() {
    let server = Slapd::start();
    let smtp = smtp_server();
    let user = server.create_user("e2e");
    let agent = start_agent(&server, smtp, EMAIL_TOTP, "");
    let script = |name: &str| {
        format!(
            "identify {name}\nexpect choose-method\nchoose #1\nexpect enter-code\n\
             enter-code 111111\nexpect enter-code code.wrong\nenter-code 222222\nexpect enter-code code.wrong\n\
             enter-code 333333\nexpect choose-method code.dead\n"
        )
    };
    let known = agent.drive(&script(&user.login));
    let unknown = agent.drive(&script("nobody.here"));
    assert!(
        known.status.success(),
        "{}\n{}\nagent log:\n{}",
        transcript(&known),
        String::from_utf8_lossy(&known.stderr),
        agent.log()
    );
    assert!(
        unknown.status.success(),
        "{}\n{}",
        transcript(&unknown),
        String::from_utf8_lossy(&unknown.stderr)
    );
    assert_eq!(transcript(&known), transcript(&unknown));
    // The real person's failure was counted in the directory (sealed registration record).
    let blob = server.read_attr(&user.dn, "ssprRegistration");
    assert!(
        blob.first().is_some_and(|b| b.starts_with("sspr1.k1.")),
        "{blob:?}"
    );
    // Both drives left mid-session: each session still ends with exactly one audit record.
    let log = agent.wait_for_log(|l| l.matches("[audit]").count() >= 2);
    let audits = log.lines().filter(|l| l.contains("[audit]")).count();
    assert_eq!(audits, 2, "{}", agent.log());
    assert!(
        !agent.log().contains("nobody.here"),
        "an unmatched claim is logged only as a keyed hash"
    );
}

#[test]
fn malformed_and_out_of_sequence_input_is_refused_without_harm() {
    let server = Slapd::start();
    let smtp = smtp_server();
    let agent = start_agent(&server, smtp, EMAIL_TOTP, "");
    // Out of sequence: a code or an action on the attract screen is refused, nothing changes.
    for script in [
        "enter-code 123456\nexpect attract\n",
        "choose action:unlock\nexpect attract\n",
    ] {
        let output = agent.drive(script);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains("not expected on this screen"),
            "{stderr}"
        );
    }
    let output = agent.drive("expect attract\n");
    assert!(
        output.status.success(),
        "the agent still serves: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Raw garbage and a wrong version on the socket.
    use std::io::{BufRead, BufReader, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(&agent.socket).unwrap();
    stream
        .write_all(b"{\"type\":\"hello\",\"version\":99}\n")
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream.try_clone().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains("refused") && line.contains("version 99"),
        "{line}"
    );
    let mut stream = std::os::unix::net::UnixStream::connect(&agent.socket).unwrap();
    stream
        .write_all(b"{\"type\":\"hello\",\"version\":1}\nnot json at all\n")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut l = String::new();
        reader.read_line(&mut l).unwrap();
        lines.push(l);
    }
    assert!(lines[2].contains("malformed input"), "{lines:?}");
    let _ = Command::new("true").status();
}

#[test]
fn register_at_the_kiosk_then_reset_with_qa_and_totp_from_oathtool() {
    crate::harness::require_program("oathtool", "oathtool");
    let server = Slapd::start();
    let smtp = smtp_server();
    let user = server.create_user("e2e");
    let agent = start_agent(&server, smtp, WITH_QA, "methods_required = 2");
    let register = format!(
        "choose register\nexpect register-auth\nidentify {login}\nenter-current {password}\nexpect register-start\n\
         choose register:qa\nexpect register-qa\nregister-answers pet=Rex | school=Hill Valley High | city=Springfield\n\
         expect register-start register.qa_saved\nchoose register:totp\nexpect register-totp\n\
         enter-totp $(oathtool --totp -b {{qr-secret}})\nexpect register-start register.totp_saved\n\
         choose register:finish\nexpect receipt\n\
         # the next kiosk visit: a reset with both methods (the TOTP code of the next step: no replay)\n\
         choose done\nexpect attract\nidentify {login}\nexpect choose-method\nchoose qa\nexpect qa\n\
         answer pet=Rex | school=Hill Valley High | city=Springfield\nexpect choose-method verify.another_method\n\
         choose totp\nexpect totp\nenter-totp $(oathtool --totp -b {{qr-secret}} -N 'now + 30 seconds')\n\
         expect new-password\nenter-password Quiet-Harbour-Lantern-81\nexpect receipt\n",
        login = user.login,
        password = user.password,
    );
    let output = agent.drive(&register);
    assert!(
        output.status.success(),
        "{}\n{}\nagent log:\n{}",
        transcript(&output),
        String::from_utf8_lossy(&output.stderr),
        agent.log()
    );
    server
        .bind(&user.dn, "Quiet-Harbour-Lantern-81")
        .expect("the new password binds");
    assert!(
        server.bind(&user.dn, &user.password).is_err(),
        "the old password no longer binds"
    );
    let blob = server.read_attr(&user.dn, "ssprRegistration");
    assert!(
        blob.first()
            .is_some_and(|b| b.starts_with("sspr1.k1.") && !b.contains("Rex")),
        "{blob:?}"
    );
}

/// Seals a registration with security answers into the person's entry, as a kiosk would.
fn register_answers(server: &Slapd, dn: &str) {
    register(server, dn, None);
}

/// Seals answers (and an authenticator secret, if given) into the person's entry.
fn register(server: &Slapd, dn: &str, totp_secret: Option<&str>) {
    use sspr_kiosk::agent::sealed::{self, SealKey, Stored};
    use sspr_kiosk::gates::qa::{self, GivenAnswer, HashParams};
    let cfg = sspr_kiosk::config::kiosk::QaSection {
        questions: [
            ("pet", "First pet?"),
            ("school", "First school?"),
            ("city", "City of birth?"),
            ("street", "Street?"),
            ("car", "Car?"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        register: 3,
        ask: 3,
    };
    let given = [
        ("pet", "Rex"),
        ("school", "Hill Valley High"),
        ("city", "Springfield"),
    ]
    .map(|(q, a)| GivenAnswer::new(q, a));
    let answers = qa::register(
        &given,
        &cfg,
        &[[1; 16], [2; 16], [3; 16]],
        &HashParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    let mut stored = Stored::default();
    stored.registration.answers = answers;
    stored.registration.totp_secret = totp_secret.map(sspr_kiosk::secret::Secret::new);
    let blob = sealed::seal(
        &stored,
        dn,
        &SealKey::parse("k1", REGISTRATION_KEY).unwrap(),
    )
    .unwrap();
    use std::collections::HashSet;
    server.modify_as_root(
        dn,
        vec![
            ldap3::Mod::Add("objectClass", HashSet::from(["ssprKioskUser"])),
            ldap3::Mod::Replace("ssprRegistration", HashSet::from([blob.as_str()])),
        ],
    );
}

#[test]
fn five_failures_on_one_kiosk_block_the_account_on_another() {
    let server = Slapd::start();
    let smtp = smtp_server();
    let user = server.create_user("e2e");
    register_answers(&server, &user.dn);
    let first = start_agent(&server, smtp, WITH_QA, "");
    let mut script = format!("identify {}\nexpect choose-method\n", user.login);
    for round in 1..=5 {
        script.push_str("choose qa\nexpect qa\nanswer wrong | wrong | wrong\n");
        if round < 5 {
            script.push_str("expect choose-method qa.wrong\n");
        }
    }
    script.push_str("expect blocked\n");
    let output = first.drive(&script);
    assert!(
        output.status.success(),
        "{}\n{}\nagent log:\n{}",
        transcript(&output),
        String::from_utf8_lossy(&output.stderr),
        first.log()
    );

    // The fifth failure is stored by a background write: wait until the directory holds the block.
    let key = sspr_kiosk::agent::sealed::SealKey::parse("k1", REGISTRATION_KEY).unwrap();
    let policy = sspr_kiosk::config::kiosk::PolicySection::default();
    let start = Instant::now();
    loop {
        let blob = server.read_attr(&user.dn, "ssprRegistration");
        let stored = blob.first().and_then(|b| {
            sspr_kiosk::agent::sealed::open(b, &user.dn, std::slice::from_ref(&key)).ok()
        });
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        if stored.is_some_and(|s| s.failures.is_blocked(now, &policy)) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the block never reached the directory:\n{}",
            first.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A second kiosk knows nothing of the first one's memory: the counter is in the directory.
    let second = start_agent(&server, smtp, WITH_QA, "");
    let output = second.drive(&format!("identify {}\nexpect blocked\n", user.login));
    assert!(
        output.status.success(),
        "{}\n{}\nagent log:\n{}",
        transcript(&output),
        String::from_utf8_lossy(&output.stderr),
        second.log()
    );
    // The right answers do not help while blocked; another person is not affected.
    let other = server.create_user("e2e");
    let output = second.drive(&format!("identify {}\nexpect choose-method\n", other.login));
    assert!(output.status.success(), "{}", transcript(&output));
}

#[test]
fn a_privileged_account_is_never_offered_security_questions() {
    let server = Slapd::start();
    let smtp = smtp_server();
    let admin = server.cast.privileged.clone();
    register(&server, &admin.dn, Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"));
    let agent = start_agent(&server, smtp, WITH_QA, "");
    let output = agent.drive(&format!(
        "identify {}\nexpect choose-method\nchoose qa\nexpect qa\n",
        admin.login
    ));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("not expected on this screen"),
        "{}\n{stderr}",
        transcript(&output)
    );
    // Two methods are needed: after the authenticator code the kiosk asks for another one.
    let output = agent.drive(&format!(
        "identify {}\nexpect choose-method\nchoose totp\nexpect totp\nenter-totp $(oathtool --totp -b JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP)\n\
         expect choose-method verify.another_method\n",
        admin.login
    ));
    assert!(
        output.status.success(),
        "{}\n{}\n{}",
        transcript(&output),
        String::from_utf8_lossy(&output.stderr),
        agent.log()
    );
}

#[test]
fn a_badge_tap_on_the_reader_identifies_and_the_ui_cannot_fake_one() {
    let server = Slapd::start();
    let smtp = smtp_server();
    let pty = crate::reader_tests::PtyPair::start();
    let agent = start_agent_on_board(&server, smtp, EMAIL_TOTP, "", Some(&pty.reader()));
    let badge = server.cast.badge.clone();
    let id = badge.badge.clone().unwrap();
    let output = agent.drive(&format!(
        "badge {} {id}\nexpect choose-method\n",
        pty.card().display()
    ));
    assert!(
        output.status.success(),
        "{}\n{}\n{}",
        transcript(&output),
        String::from_utf8_lossy(&output.stderr),
        agent.log()
    );
    let claimed = format!("claimed={id}");
    assert!(
        agent
            .wait_for_log(|l| l.contains(&claimed))
            .contains(&claimed),
        "the badge identified its owner: {}",
        agent.log()
    );
    // An unregistered badge walks the same screens (a decoy).
    let output = agent.drive(&format!(
        "badge {} 00DEADBEEF\nexpect choose-method\n",
        pty.card().display()
    ));
    assert!(output.status.success(), "{}", transcript(&output));
    // The protocol has no way to claim a badge: a made-up input type is malformed.
    use std::io::{BufRead, BufReader, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(&agent.socket).unwrap();
    stream
        .write_all(
            format!(
                "{{\"type\":\"hello\",\"version\":1}}\n{{\"type\":\"badge\",\"id\":\"{id}\"}}\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let lines: Vec<String> = (0..3)
        .map(|_| {
            let mut l = String::new();
            reader.read_line(&mut l).unwrap();
            l
        })
        .collect();
    assert!(lines[2].contains("malformed input"), "{lines:?}");
}

#[test]
fn an_unlock_during_a_directory_outage_is_queued_and_applied_when_it_returns() {
    let mut server = Slapd::start();
    let smtp = smtp_server();
    let user = server.create_user("e2e");
    server.lock_user(&user);
    let agent = start_agent(&server, smtp, EMAIL_TOTP, "");
    let (code, waiter) = code_file(agent.dir.path(), smtp, user.mail.clone().unwrap());
    let go = agent.dir.path().join("go");
    let script = format!(
        "identify {login}\nexpect choose-method\nchoose email:0\nexpect enter-code\nenter-code {code}\n\
         expect choose-action\nchoose $(for i in $(seq 200); do [ -e {go} ] && break; sleep 0.1; done; echo action:unlock)\n\
         expect receipt\n",
        login = user.login,
        code = wait_for(&code),
        go = go.display(),
    );
    let file = agent.dir.path().join("outage.txt");
    std::fs::write(&file, script).unwrap();
    let drive = sspr_kiosk()
        .arg("drive")
        .arg(&file)
        .arg("--socket")
        .arg(&agent.socket)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    waiter.join().unwrap();
    std::thread::sleep(Duration::from_millis(2500)); // the code is checked; the kiosk offers the actions
    server.stop();
    std::fs::write(&go, "").unwrap();
    let output = drive.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}\n{}",
        transcript(&output),
        String::from_utf8_lossy(&output.stderr),
        agent.log()
    );
    let log = agent.wait_for_log(|l| l.contains("outcome=Queued"));
    assert!(
        log.contains("outcome=Queued"),
        "the receipt must say queued, never done:\n{log}"
    );

    server.restart();
    let start = Instant::now();
    while server.is_locked(&user.dn) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the queued unlock was not applied:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server
        .bind(&user.dn, &user.password)
        .expect("unlocked by the outbox; the old password binds");
    // The directory changed first; the outbox records it (fsync'd) and logs a moment later.
    let start = Instant::now();
    while !agent.log().contains("applied to") {
        assert!(start.elapsed() < Duration::from_secs(10), "{}", agent.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    // The audit chain is in the outbox database, and the file holds no secret.
    let db = std::fs::read(agent.dir.path().join("outbox.db")).unwrap();
    assert!(
        !db.windows(user.password.len())
            .any(|w| w == user.password.as_bytes())
    );
}

#[test]
fn unlock_with_an_email_code_on_samba_ad() {
    let dc = crate::harness::samba::samba();
    let smtp = smtp_server();
    // A prefix of its own: the mailbox is shared with the slapd tests, whose users count from 1 too.
    let user = dc.create_user("adkiosk");
    dc.lock_user(&user);
    let directory = Directory {
        section: format!(
            "flavour = \"active-directory\"\nurls = [\"{}\"]\nbase_dn = \"{}\"\nbind_dn = \"{}\"\nhistory_on_reset = \"best-effort\"\n",
            dc.ldaps_url(),
            dc.base_dn,
            dc.cast.service.dn
        ),
        attributes: "identifiers = [\"sAMAccountName\", \"userPrincipalName\"]\nregistration = \"msDS-cloudExtensionAttribute1\"",
        bind_password: &dc.cast.service.password,
        ca: &dc.pki.ca_pem,
        privileged_group: crate::harness::samba::DOMAIN_ADMINS_DN,
    };
    let agent = start_agent_for(&directory, smtp, EMAIL_TOTP, "", None);
    let (code, waiter) = code_file(agent.dir.path(), smtp, user.mail.clone().unwrap());
    let script = format!(
        "identify {upn}\nexpect choose-method\nchoose email:0\nexpect enter-code\nenter-code {code}\n\
         expect choose-action\nchoose action:unlock\nexpect receipt\n",
        upn = user.upn,
        code = wait_for(&code),
    );
    let output = agent.drive(&script);
    waiter.join().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}\nagent log:\n{}",
        transcript(&output),
        String::from_utf8_lossy(&output.stderr),
        agent.log()
    );
    assert!(
        !dc.is_locked(&user.dn),
        "the DC says the account is still locked"
    );
    dc.bind(&user.dn, &user.password)
        .expect("the old password binds after an unlock-only");
}

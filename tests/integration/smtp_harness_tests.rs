//! Proves the SMTP capture server is a real SMTP server: a minimal hand-written client (plain TCP, then
//! rustls for STARTTLS and SMTPS) sends mail that lands in the spool; TLS and AUTH are enforced.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use crate::harness::certs::TestPki;
use crate::harness::smtp::{SmtpOptions, SmtpServer, SmtpTls, smtp};

const WAIT: Duration = Duration::from_secs(5);

#[derive(Debug)]
enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

/// Just enough SMTP to drive the server: one command, one (possibly multi-line) reply.
#[derive(Debug)]
struct Client {
    conn: Conn,
}

impl Client {
    fn connect(server: &SmtpServer) -> Client {
        let tcp = TcpStream::connect(server.addr()).unwrap();
        tcp.set_read_timeout(Some(WAIT)).unwrap();
        let mut client = Client {
            conn: Conn::Plain(tcp),
        };
        assert_eq!(client.reply().0, 220, "greeting");
        client
    }

    fn connect_tls(server: &SmtpServer, config: ClientConfig) -> std::io::Result<Client> {
        let tcp = TcpStream::connect(server.addr()).unwrap();
        tcp.set_read_timeout(Some(WAIT)).unwrap();
        let mut client = Client {
            conn: Conn::Tls(Box::new(tls(tcp, config)?)),
        };
        assert_eq!(client.reply().0, 220, "greeting");
        Ok(client)
    }

    fn starttls(self, config: ClientConfig) -> Result<Client, std::io::Error> {
        let mut client = self;
        assert_eq!(client.command("STARTTLS").0, 220);
        let Conn::Plain(tcp) = client.conn else {
            panic!("STARTTLS twice")
        };
        Ok(Client {
            conn: Conn::Tls(Box::new(tls(tcp, config)?)),
        })
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.conn {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }

    fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let data = format!("{line}\r\n");
        match &mut self.conn {
            Conn::Plain(s) => s.write_all(data.as_bytes()),
            Conn::Tls(s) => s.write_all(data.as_bytes()).and_then(|()| s.flush()),
        }
    }

    /// Byte by byte, so nothing past the reply is buffered when STARTTLS swaps the stream.
    fn try_line(&mut self) -> std::io::Result<String> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            if self.read(&mut byte)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            line.push(byte[0]);
        }
        Ok(String::from_utf8(line).unwrap().trim_end().to_owned())
    }

    fn try_reply(&mut self) -> std::io::Result<(u16, String)> {
        let mut text = String::new();
        loop {
            let line = self.try_line()?;
            text.push_str(&line);
            text.push('\n');
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((line[..3].parse().expect("a reply code"), text));
            }
        }
    }

    fn reply(&mut self) -> (u16, String) {
        self.try_reply().expect("read an SMTP reply")
    }

    fn command(&mut self, line: &str) -> (u16, String) {
        self.write_line(line).expect("send an SMTP command");
        self.reply()
    }

    fn send(&mut self, from: &str, to: &[&str], subject: &str, body: &str) {
        assert_eq!(self.command(&format!("MAIL FROM:<{from}>")).0, 250);
        for rcpt in to {
            assert_eq!(self.command(&format!("RCPT TO:<{rcpt}>")).0, 250);
        }
        assert_eq!(self.command("DATA").0, 354);
        let mut message = format!(
            "From: <{from}>\r\nTo: <{}>\r\nSubject: {subject}\r\n",
            to[0]
        );
        message.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
        for line in body.lines() {
            let stuffed = if line.starts_with('.') { "." } else { "" };
            message.push_str(&format!("{stuffed}{line}\r\n"));
        }
        message.push('.');
        let (code, text) = self.command(&message);
        assert_eq!(code, 250, "message refused: {text}");
    }
}

/// Wraps `tcp` in TLS for 127.0.0.1 and completes the handshake, so a refused certificate is an `Err`.
fn tls(
    tcp: TcpStream,
    config: ClientConfig,
) -> std::io::Result<StreamOwned<ClientConnection, TcpStream>> {
    let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            let index = (n >> (18 - 6 * i) & 63) as usize;
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[index])
            } else {
                '='
            });
        }
    }
    out
}

fn auth_plain(login: &str, password: &str) -> String {
    format!(
        "AUTH PLAIN {}",
        base64(format!("\0{login}\0{password}").as_bytes())
    )
}

fn with_auth(tls: SmtpTls) -> SmtpOptions {
    SmtpOptions {
        tls,
        auth: Some(("kiosk".to_owned(), "Mail#Relay-2024".to_owned())),
    }
}

#[test]
fn smtp_base64_matches_rfc_4648() {
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}

#[test]
fn smtp_plain_message_is_captured() {
    let server = smtp();
    let mut client = Client::connect(server);
    let (code, ehlo) = client.command("EHLO kiosk.example.test");
    assert_eq!(code, 250);
    assert!(
        !ehlo.contains("AUTH"),
        "no AUTH on the plain server: {ehlo}"
    );
    let body = "Your code is 482913.\n.leading dot survives\n";
    client.send(
        "kiosk@example.test",
        &["plain.rcpt@example.test"],
        "Your code",
        body,
    );
    assert_eq!(client.command("QUIT").0, 221);

    let message = server.wait_for_message("Plain.Rcpt@example.test", WAIT);
    assert_eq!(message.from, "kiosk@example.test");
    assert_eq!(message.to, ["plain.rcpt@example.test"]);
    assert_eq!(message.subject, "Your code");
    assert_eq!(message.body_text, body);
    assert!(message.raw.contains("Subject: Your code\r\n"));
    assert!(!message.tls);
    assert_eq!(message.auth_login, None);
}

#[test]
fn smtp_wait_for_message_returns_each_message_once() {
    let server = smtp();
    let mut client = Client::connect(server);
    client.command("EHLO kiosk.example.test");
    client.send(
        "kiosk@example.test",
        &["twice@example.test", "cc@example.test"],
        "first",
        "1\n",
    );
    client.send(
        "kiosk@example.test",
        &["twice@example.test"],
        "second",
        "2\n",
    );
    assert_eq!(
        server.wait_for_message("twice@example.test", WAIT).subject,
        "first"
    );
    assert_eq!(
        server.wait_for_message("twice@example.test", WAIT).subject,
        "second"
    );
    assert_eq!(
        server.wait_for_message("cc@example.test", WAIT).subject,
        "first"
    );
    let all = server.messages();
    let twice = all
        .iter()
        .filter(|m| m.to.iter().any(|r| r == "twice@example.test"));
    assert_eq!(twice.count(), 2);
}

#[test]
fn smtp_required_starttls_refuses_plaintext_mail() {
    let server = SmtpServer::start(SmtpOptions {
        tls: SmtpTls::StartTls { required: true },
        auth: None,
    });
    let mut client = Client::connect(&server);
    let (_, ehlo) = client.command("EHLO kiosk.example.test");
    assert!(ehlo.contains("STARTTLS"), "{ehlo}");
    assert_eq!(client.command("MAIL FROM:<kiosk@example.test>").0, 530);

    let mut client = client.starttls(server.pki.client_config()).unwrap();
    let (code, ehlo) = client.command("EHLO kiosk.example.test");
    assert_eq!(code, 250);
    assert!(!ehlo.contains("STARTTLS"), "not offered again: {ehlo}");
    client.send(
        "kiosk@example.test",
        &["tls.rcpt@example.test"],
        "Over TLS",
        "secret code\n",
    );
    let message = server.wait_for_message("tls.rcpt@example.test", WAIT);
    assert!(message.tls);
    assert_eq!(message.body_text, "secret code\n");
}

#[test]
fn smtp_starttls_client_refuses_a_certificate_from_another_ca() {
    let server = SmtpServer::start(SmtpOptions {
        tls: SmtpTls::StartTls { required: false },
        ..Default::default()
    });
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestPki::create(other_dir.path(), "some other CA");
    let mut client = Client::connect(&server);
    client.command("EHLO kiosk.example.test");
    let err = client
        .starttls(other.client_config())
        .expect_err("the handshake must fail");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
}

#[test]
fn smtp_auth_over_starttls() {
    let server = SmtpServer::start(with_auth(SmtpTls::StartTls { required: false }));
    let (login, password) = server.options.auth.clone().unwrap();
    let mut client = Client::connect(&server);
    let (_, ehlo) = client.command("EHLO kiosk.example.test");
    assert!(
        !ehlo.contains("AUTH"),
        "AUTH must not be offered in plaintext: {ehlo}"
    );
    assert_eq!(
        client.command(&auth_plain(&login, &password)).0,
        538,
        "AUTH needs TLS first"
    );

    let mut client = client.starttls(server.pki.client_config()).unwrap();
    let (_, ehlo) = client.command("EHLO kiosk.example.test");
    assert!(ehlo.contains("AUTH LOGIN PLAIN"), "{ehlo}");
    assert_eq!(
        client.command("MAIL FROM:<kiosk@example.test>").0,
        530,
        "AUTH is required"
    );
    assert_eq!(client.command(&auth_plain(&login, "wrong-password")).0, 535);
    assert_eq!(client.command(&auth_plain(&login, &password)).0, 235);
    client.send(
        "kiosk@example.test",
        &["auth.rcpt@example.test"],
        "Authenticated",
        "hi\n",
    );
    let message = server.wait_for_message("auth.rcpt@example.test", WAIT);
    assert_eq!(
        (message.tls, message.auth_login.as_deref()),
        (true, Some("kiosk"))
    );
}

#[test]
fn smtp_implicit_tls_with_auth_login() {
    let server = SmtpServer::start(with_auth(SmtpTls::Implicit));
    let (login, password) = server.options.auth.clone().unwrap();
    let config = || server.pki.client_config();

    let mut client = Client::connect_tls(&server, config()).unwrap();
    let (_, ehlo) = client.command("EHLO kiosk.example.test");
    assert!(
        ehlo.contains("AUTH LOGIN PLAIN") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );
    assert_eq!(client.command("AUTH LOGIN").0, 334);
    assert_eq!(client.command(&base64(login.as_bytes())).0, 334);
    assert_eq!(client.command(&base64(b"wrong-password")).0, 535);

    let mut client = Client::connect_tls(&server, config()).unwrap();
    client.command("EHLO kiosk.example.test");
    assert_eq!(client.command("AUTH LOGIN").0, 334);
    assert_eq!(client.command(&base64(login.as_bytes())).0, 334);
    assert_eq!(client.command(&base64(password.as_bytes())).0, 235);
    client.send(
        "kiosk@example.test",
        &["smtps.rcpt@example.test"],
        "Over SMTPS",
        "hi\n",
    );
    let message = server.wait_for_message("smtps.rcpt@example.test", WAIT);
    assert_eq!(
        (message.tls, message.auth_login.as_deref()),
        (true, Some("kiosk"))
    );

    let plain = TcpStream::connect(server.addr()).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut greeting = [0u8; 3];
    let read = (&plain).read(&mut greeting).unwrap_or(0);
    assert_ne!(
        &greeting[..read],
        b"220",
        "no plaintext greeting on the SMTPS port"
    );
}

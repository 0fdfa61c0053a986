//! Helpers for the email tests: MIME part decoding (quoted-printable, base64), a process-wide log
//! capture, and a scripted relay that answers RCPT with a chosen refusal (the capture server accepts
//! every recipient, so refusals need a peer that says no).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};

use crate::harness::smtp::CapturedMessage;

/// The decoded body of the MIME part with this content type (quoted-printable, base64 or 7bit).
pub fn part(message: &CapturedMessage, content_type: &str) -> String {
    let raw = message.raw.replace("\r\n", "\n");
    let start = raw
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part in:\n{raw}"));
    let part = &raw[start..];
    let (headers, body) = part.split_once("\n\n").unwrap();
    let body = &body[..body.find("\n--").unwrap_or(body.len())];
    if headers.contains("Content-Transfer-Encoding: quoted-printable") {
        decode_qp(body)
    } else if headers.contains("Content-Transfer-Encoding: base64") {
        decode_base64(&body.replace('\n', ""))
    } else {
        body.to_owned()
    }
}

fn decode_qp(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn decode_base64(data: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// Every log line any email test produced (the logger is process-wide and tests run in parallel).
pub fn logs() -> Vec<String> {
    assert!(
        install_log_capture(),
        "another logger was installed in the test process first: the email tests cannot read the log"
    );
    LOG_LINES.lock().unwrap().clone()
}

static LOG_LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LOG_LINES.lock().unwrap().push(format!(
            "{} {}: {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}

/// Installs the capturing logger once; false if some other logger got there first.
pub fn install_log_capture() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let ok = log::set_boxed_logger(Box::new(Capture)).is_ok();
        if ok {
            log::set_max_level(log::LevelFilter::Trace);
        }
        ok
    })
}

/// A relay that greets, accepts EHLO and MAIL, and answers every RCPT with `rcpt_reply`.
pub struct ScriptedRelay {
    pub port: u16,
}

impl ScriptedRelay {
    pub fn start(rcpt_reply: &'static str) -> ScriptedRelay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                std::thread::spawn(move || serve_scripted(stream, rcpt_reply));
            }
        });
        ScriptedRelay { port }
    }
}

fn serve_scripted(stream: TcpStream, rcpt_reply: &str) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut say = |line: &str| writer.write_all(format!("{line}\r\n").as_bytes());
    if say("220 scripted.example.test ESMTP").is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
        let command = line.trim_end().to_ascii_uppercase();
        let reply = if command.starts_with("EHLO") {
            "250-scripted.example.test\r\n250 8BITMIME"
        } else if command.starts_with("MAIL") || command.starts_with("RSET") {
            "250 2.1.0 OK"
        } else if command.starts_with("RCPT") {
            rcpt_reply
        } else if command.starts_with("QUIT") {
            let _ = say("221 2.0.0 Bye");
            return;
        } else {
            "502 5.5.2 Not implemented"
        };
        if say(reply).is_err() {
            return;
        }
        line.clear();
    }
}

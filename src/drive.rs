//! `sspr-kiosk drive SCRIPT`: a protocol client that runs a scripted session against a running agent
//! and prints a transcript — one line per view: the screen id, its message codes and the attempts
//! left (a view that repeats the previous line, as countdown updates do, is not printed again). Site admins use
//! it for acceptance checks of a deployment; the tests use it end to end.
//!
//! Script lines (`#` starts a comment):
//! `expect SCREEN [CODE…]`, `identify TEXT`, `choose ID|#N`, `enter-code V`, `enter-totp V`,
//! `enter-current V`, `answer A | B | C` (or `answer ID=A | ID=B` by question id), `enter-password V`,
//! `draft-password V`, `register-answers ID=A | ID=B | ID=C`, `enter-contact V`, `wait SECONDS`,
//! `badge DEVICE ID` (writes a reader frame to the reader's serial device, e.g. a test pty). A value written `$(command)` is replaced by the command's trimmed output (e.g. the
//! latest code from a test mailbox, or `oathtool --totp -b SECRET`); `{qr-secret}` is the secret of
//! the last TOTP enrolment QR shown.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use crate::protocol::{AgentMessage, Input, VERSION, View};

/// How long `expect` waits for the screen.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error("cannot connect to the agent at {path}: {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("line {line}: {message}")]
    Script { line: usize, message: String },
    #[error("the agent closed the connection")]
    Closed,
    #[error("the agent refused: {0}")]
    Refused(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    view: Option<View>,
    transcript: Vec<String>,
    /// The TOTP secret of the last enrolment QR shown, for `{qr-secret}` in values.
    qr_secret: Option<String>,
    /// An input was sent and no answer has been read since.
    awaiting_reply: bool,
}

/// How long `expect` gives the agent to answer an input before judging the current view (the agent
/// holds some replies for 700 ms; an input that changes nothing visible gets no reply at all).
const REPLY_GRACE: Duration = Duration::from_millis(1500);

impl Client {
    async fn send(&mut self, input: &Input) -> Result<(), DriveError> {
        let mut line = serde_json::to_string(input).map_err(std::io::Error::other)?;
        line.push('\n');
        self.writer.write_all(line.as_bytes()).await?;
        self.awaiting_reply = true;
        Ok(())
    }

    /// Reads one message; views update the current view and the transcript.
    async fn receive(&mut self) -> Result<AgentMessage, DriveError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            return Err(DriveError::Closed);
        }
        let message: AgentMessage = serde_json::from_str(&line).map_err(std::io::Error::other)?;
        if let AgentMessage::View { view } = &message {
            let mut entry = serde_json::to_value(view.screen)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            for code in &view.messages {
                entry.push(' ');
                entry.push_str(code);
            }
            if let Some(left) = view.attempts_left {
                entry.push_str(&format!(" left={left}"));
            }
            // Countdowns re-send the same screen every second: one line per distinct screen state.
            if self.transcript.last() != Some(&entry) {
                println!("{entry}");
                self.transcript.push(entry);
            }
            if let Some(secret) = view
                .qr
                .as_deref()
                .and_then(|uri| uri.split("secret=").nth(1))
                .and_then(|s| s.split('&').next())
            {
                self.qr_secret = Some(secret.to_owned());
            }
            self.view = Some((**view).clone());
        }
        Ok(message)
    }

    /// Waits until the current view shows `screen` (with `codes` among its messages).
    async fn expect(&mut self, screen: &str, codes: &[&str]) -> Result<bool, DriveError> {
        let matches = |view: &Option<View>| {
            view.as_ref().is_some_and(|v| {
                serde_json::to_value(v.screen)
                    .ok()
                    .and_then(|s| s.as_str().map(|s| s == screen))
                    .unwrap_or(false)
                    && codes.iter().all(|c| v.messages.iter().any(|m| m == c))
            })
        };
        if std::mem::take(&mut self.awaiting_reply)
            && let Ok(message) = tokio::time::timeout(REPLY_GRACE, self.receive()).await
            && let AgentMessage::Refused { reason } = message?
        {
            return Err(DriveError::Refused(reason));
        }
        let deadline = tokio::time::Instant::now() + EXPECT_TIMEOUT;
        while !matches(&self.view) {
            match tokio::time::timeout_at(deadline, self.receive()).await {
                Ok(result) => {
                    if let AgentMessage::Refused { reason } = result? {
                        return Err(DriveError::Refused(reason));
                    }
                }
                Err(_) => return Ok(false),
            }
        }
        Ok(true)
    }
}

/// Replaces a `$(command)` value with the command's trimmed standard output.
async fn value(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let Some(command) = raw.strip_prefix("$(").and_then(|r| r.strip_suffix(')')) else {
        return Ok(raw.to_owned());
    };
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .output()
        .await
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{command}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The EM4100 reader frame for a 10-hex-digit badge ID.
fn badge_frame(id: &str) -> Option<[u8; 14]> {
    if id.len() != 10 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut bytes = [0u8; 5];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&id[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(crate::devices::badge::frame::encode(bytes))
}

/// Runs `script` against the agent at `socket`; returns the transcript.
pub async fn run(socket: &Path, script: &str) -> Result<Vec<String>, DriveError> {
    let stream = UnixStream::connect(socket)
        .await
        .map_err(|source| DriveError::Connect {
            path: socket.display().to_string(),
            source,
        })?;
    let (reader, writer) = stream.into_split();
    let mut client = Client {
        reader: BufReader::new(reader),
        writer,
        view: None,
        transcript: Vec::new(),
        qr_secret: None,
        awaiting_reply: false,
    };
    client.send(&Input::Hello { version: VERSION }).await?;
    match client.receive().await? {
        AgentMessage::Welcome { .. } => {}
        AgentMessage::Refused { reason } => return Err(DriveError::Refused(reason)),
        AgentMessage::View { .. } => {}
    }
    client.expect("attract", &[]).await?;
    for (index, raw) in script.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (command, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let fail = |message: String| DriveError::Script { line, message };
        let rest = match &client.qr_secret {
            Some(secret) => rest.replace("{qr-secret}", secret),
            None => rest.to_owned(),
        };
        let arg = value(&rest).await.map_err(fail)?;
        let input = match command {
            "expect" => {
                let mut words = rest.split_whitespace();
                let screen = words
                    .next()
                    .ok_or_else(|| fail("expect needs a screen id".into()))?;
                let codes: Vec<&str> = words.collect();
                if !client.expect(screen, &codes).await? {
                    let shown = client.transcript.last().cloned().unwrap_or_default();
                    return Err(fail(format!(
                        "expected `{}`, the kiosk shows `{shown}`",
                        rest.trim()
                    )));
                }
                continue;
            }
            "wait" => {
                let seconds: f64 = arg.parse().map_err(|_| fail("wait needs seconds".into()))?;
                let until = tokio::time::Instant::now() + Duration::from_secs_f64(seconds);
                while let Ok(message) = tokio::time::timeout_at(until, client.receive()).await {
                    message?;
                }
                continue;
            }
            "identify" => {
                if client
                    .view
                    .as_ref()
                    .is_some_and(|v| v.screen == crate::protocol::ScreenId::Attract)
                {
                    client.send(&Input::Choose { id: "start".into() }).await?;
                }
                Input::Submit {
                    field: "identifier".into(),
                    value: arg,
                }
            }
            "choose" | "tap" => {
                let id = match arg.strip_prefix('#') {
                    Some(n) => {
                        let n: usize = n
                            .parse()
                            .map_err(|_| fail("choose #N needs a number".into()))?;
                        let choices = client
                            .view
                            .as_ref()
                            .map(|v| v.choices.clone())
                            .unwrap_or_default();
                        choices
                            .get(n.wrapping_sub(1))
                            .map(|c| c.id.clone())
                            .ok_or_else(|| fail(format!("there is no choice #{n}")))?
                    }
                    None => arg,
                };
                Input::Choose { id }
            }
            "enter-code" => Input::Submit {
                field: "code".into(),
                value: arg,
            },
            "enter-totp" => Input::Submit {
                field: "totp".into(),
                value: arg,
            },
            "enter-current" => Input::Submit {
                field: "current-password".into(),
                value: arg,
            },
            "answer" => {
                // `id=answer | …` answers by question id, in whatever order the kiosk asks them.
                let given: Vec<&str> = arg.split(" | ").map(str::trim).collect();
                let by_id = given.iter().all(|a| a.contains('='));
                let values = if by_id {
                    let asked = client
                        .view
                        .as_ref()
                        .map(|v| v.choices.clone())
                        .unwrap_or_default();
                    asked
                        .iter()
                        .map(|q| {
                            given
                                .iter()
                                .find_map(|a| a.strip_prefix(&format!("{}=", q.id)))
                                .unwrap_or("")
                                .to_owned()
                        })
                        .collect()
                } else {
                    given.iter().map(|a| (*a).to_owned()).collect()
                };
                Input::Answers { values }
            }
            "register-answers" => Input::RegisterAnswers {
                answers: arg
                    .split(" | ")
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(q, a)| crate::protocol::QaAnswer {
                        question: q.trim().to_owned(),
                        answer: a.trim().to_owned(),
                    })
                    .collect(),
            },
            "enter-contact" => Input::Submit {
                field: "contact".into(),
                value: arg,
            },
            "enter-password" => Input::Password {
                new: arg.clone(),
                confirm: arg,
                draft: false,
            },
            "draft-password" => Input::Password {
                new: arg.clone(),
                confirm: String::new(),
                draft: true,
            },
            "badge" => {
                // `badge DEVICE ID`: write an EM4100 reader frame for the 10-hex-digit ID to the serial
                // device the agent's reader listens on (a test pty) — the protocol cannot claim a badge.
                let (device, id) = arg
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| fail("badge needs DEVICE ID".into()))?;
                let frame = badge_frame(id.trim())
                    .ok_or_else(|| fail(format!("`{id}` is not a 10-hex-digit badge ID")))?;
                let mut port = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(device)
                    .await
                    .map_err(|e| fail(format!("cannot open {device}: {e}")))?;
                port.write_all(&frame).await?;
                client.awaiting_reply = true;
                continue;
            }
            other => return Err(fail(format!("unknown step `{other}`"))),
        };
        client.send(&input).await?;
    }
    Ok(client.transcript)
}

//! The UI protocol server: a Unix socket (mode 0660), JSON lines, one session per connection.
//! Reads `Input`s, steps the flow core, runs effects in the background, and sends a `View` whenever
//! what the UI should show changes. Malformed or out-of-sequence input is refused with a message and
//! changes nothing. Replies that follow an identification or a verification are held to a fixed
//! minimum delay, so their timing does not tell real people from decoys.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::devices::reader::ReaderEvent;
use crate::flow::event::{Context, Event};
use crate::flow::{self, Session, input, view};
use crate::protocol::{AgentMessage, Input, VERSION, View};

use super::{Agent, StartError};

/// Minimum time between an identifying or verifying input and the reply that follows it.
const PADDED_REPLY: Duration = Duration::from_millis(700);
const TICK: Duration = Duration::from_millis(500);
/// Longest accepted input line; anything longer is refused (a UI never sends that much).
const MAX_LINE: usize = 16 * 1024;

/// Binds the socket (replacing a stale one) with owner+group access only.
pub fn bind(path: &Path) -> Result<UnixListener, StartError> {
    let error = |source| StartError::Socket {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(error(e)),
        _ => {}
    }
    let listener = UnixListener::bind(path).map_err(error)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(error)?;
    Ok(listener)
}

/// Forwards the badge reader's taps to every connected session (normally the one UI). A badge can
/// only come from here — the protocol has no input for it.
pub fn forward_badges(mut events: mpsc::Receiver<ReaderEvent>) -> broadcast::Sender<String> {
    let (taps, _) = broadcast::channel(16);
    let sender = taps.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                ReaderEvent::Badge(id) => {
                    let _ = sender.send(id);
                }
                ReaderEvent::Available => log::info!("badge reader available"),
                ReaderEvent::Unavailable(why) => {
                    log::warn!(
                        "badge reader unavailable ({why}): the kiosk works by keyboard until it is back"
                    );
                }
            }
        }
    });
    taps
}

/// Accepts UI connections until the process ends.
pub async fn serve(agent: Arc<Agent>, listener: UnixListener, badges: broadcast::Sender<String>) {
    log::info!(
        "agent ready: kiosk {} serving the UI on {}",
        agent.settings.site.kiosk_id,
        agent.settings.site.ui_socket.display()
    );
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let agent = Arc::clone(&agent);
                let taps = badges.subscribe();
                tokio::spawn(async move {
                    if let Err(e) = connection(agent, stream, taps).await {
                        log::info!("UI connection closed: {e}");
                    }
                });
            }
            Err(e) => {
                log::warn!("cannot accept a UI connection: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

use super::now_ms;

fn context() -> Context {
    let mut entropy = [0u8; 32];
    rand::rng().fill(&mut entropy);
    Context {
        now: now_ms(),
        entropy,
    }
}

/// A result of an effect, tagged with the session it belongs to.
struct Tagged {
    generation: u64,
    event: Event,
}

struct Connection {
    agent: Arc<Agent>,
    session: Session,
    results: mpsc::Sender<Tagged>,
    writer: tokio::net::unix::OwnedWriteHalf,
    last_view: Option<View>,
    hold_until: Option<Instant>,
}

async fn connection(
    agent: Arc<Agent>,
    stream: UnixStream,
    mut taps: broadcast::Receiver<String>,
) -> std::io::Result<()> {
    let (reader, writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let (results, mut incoming) = mpsc::channel::<Tagged>(32);
    let language = agent.flow.default_language.clone();
    let mut conn = Connection {
        session: Session::new(&language, now_ms()),
        agent,
        results,
        writer,
        last_view: None,
        hold_until: None,
    };

    let first = read_line(&mut reader).await?;
    match first.as_deref().map(|l| serde_json::from_str::<Input>(l)) {
        Some(Ok(Input::Hello { version })) if version == VERSION => {}
        Some(Ok(Input::Hello { version })) => {
            let reason =
                format!("protocol version {version} not supported; this agent speaks {VERSION}");
            conn.send(&AgentMessage::Refused { reason }).await?;
            return Ok(());
        }
        _ => {
            conn.send(&AgentMessage::Refused {
                reason: "the first message must be hello".into(),
            })
            .await?;
            return Ok(());
        }
    }
    conn.send(&AgentMessage::Welcome {
        version: VERSION,
        kiosk_id: conn.agent.settings.site.kiosk_id.to_string(),
    })
    .await?;
    conn.send_view().await?;
    let result = serve_session(&mut conn, &mut reader, &mut incoming, &mut taps).await;
    conn.close();
    result
}

async fn serve_session(
    conn: &mut Connection,
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    incoming: &mut mpsc::Receiver<Tagged>,
    taps: &mut broadcast::Receiver<String>,
) -> std::io::Result<()> {
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            line = read_line(reader) => {
                let Some(line) = line? else { return Ok(()) };
                match serde_json::from_str::<Input>(&line) {
                    Ok(input) => conn.on_input(input).await?,
                    Err(_) => conn.send(&AgentMessage::Refused { reason: "malformed input".into() }).await?,
                }
            }
            Some(tagged) = incoming.recv() => {
                // Results of a session that has ended are dropped, not applied to the next one.
                if tagged.generation == conn.session.generation {
                    conn.step(tagged.event).await?;
                }
            }
            Ok(id) = taps.recv() => conn.step(Event::BadgeRead(id)).await?,
            _ = tick.tick() => conn.step(Event::Tick).await?,
        }
    }
}

/// One line, held in zeroizing memory (it may carry a password); `None` at end of stream.
async fn read_line(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
) -> std::io::Result<Option<Zeroizing<String>>> {
    let mut line = Zeroizing::new(String::new());
    let read = reader.read_line(&mut line).await?;
    if read == 0 {
        return Ok(None);
    }
    if line.len() > MAX_LINE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "input line too long",
        ));
    }
    Ok(Some(line))
}

impl Connection {
    /// The UI went away: the session ends as if cancelled, so it is audited and its secrets dropped.
    fn close(&mut self) {
        let ctx = context();
        let session = std::mem::replace(&mut self.session, Session::new("en", ctx.now));
        let cancel = Event::Chosen("cancel".into());
        let (_, effects) = flow::step(session, cancel, &ctx, &self.agent.flow);
        for effect in effects
            .into_iter()
            .filter(|e| !matches!(e, crate::flow::Effect::Ignored))
        {
            let agent = Arc::clone(&self.agent);
            tokio::spawn(async move {
                agent.run_effect(effect).await;
            });
        }
    }

    async fn on_input(&mut self, input: Input) -> std::io::Result<()> {
        let Some(event) = input::event_from(input) else {
            return self
                .send(&AgentMessage::Refused {
                    reason: "unexpected input".into(),
                })
                .await;
        };
        if matches!(
            event,
            Event::IdentifierSubmitted(_)
                | Event::CodeSubmitted(_)
                | Event::TotpSubmitted(_)
                | Event::AnswersSubmitted(_)
        ) || matches!(&event, Event::PasswordTyped { draft: false, .. })
        {
            self.hold_until = Some(Instant::now() + PADDED_REPLY);
        }
        self.step_input(event).await
    }

    /// Steps a UI input; an input the current screen does not take is refused with a message.
    async fn step_input(&mut self, event: Event) -> std::io::Result<()> {
        let ignored = self.step_reporting(event).await?;
        if ignored {
            self.hold_until = None;
            self.send(&AgentMessage::Refused {
                reason: "not expected on this screen".into(),
            })
            .await?;
        }
        Ok(())
    }

    async fn step(&mut self, event: Event) -> std::io::Result<()> {
        self.step_reporting(event).await.map(|_| ())
    }

    /// Steps the core and runs its effects; returns whether the core ignored the event.
    async fn step_reporting(&mut self, event: Event) -> std::io::Result<bool> {
        let ctx = context();
        let session = std::mem::replace(&mut self.session, Session::new("en", ctx.now));
        // Answer hashing (Argon2id) takes tens of milliseconds: keep it off the async workers.
        let agent = Arc::clone(&self.agent);
        let language = agent.flow.default_language.clone();
        let stepped =
            tokio::task::spawn_blocking(move || flow::step(session, event, &ctx, &agent.flow))
                .await;
        let (session, effects) = match stepped {
            Ok(result) => result,
            Err(e) => {
                // Never expected; the person starts again rather than the kiosk stopping.
                log::error!("flow core failed ({e}); starting a fresh session");
                (Session::new(&language, now_ms()), Vec::new())
            }
        };
        self.session = session;
        let ignored = effects
            .iter()
            .any(|e| matches!(e, crate::flow::Effect::Ignored));
        for effect in effects
            .into_iter()
            .filter(|e| !matches!(e, crate::flow::Effect::Ignored))
        {
            let agent = Arc::clone(&self.agent);
            let results = self.results.clone();
            let generation = self.session.generation;
            tokio::spawn(async move {
                if let Some(event) = agent.run_effect(effect).await {
                    let _ = results.send(Tagged { generation, event }).await;
                }
            });
        }
        self.send_view().await?;
        Ok(ignored)
    }

    async fn send_view(&mut self) -> std::io::Result<()> {
        let view = view::view(&self.session, now_ms(), &self.agent.flow);
        if self.last_view.as_ref() == Some(&view) {
            return Ok(());
        }
        if let Some(until) = self.hold_until.take() {
            tokio::time::sleep_until(until).await;
        }
        self.last_view = Some(view.clone());
        self.send(&AgentMessage::View {
            view: Box::new(view),
        })
        .await
    }

    async fn send(&mut self, message: &AgentMessage) -> std::io::Result<()> {
        let mut line = serde_json::to_string(message).map_err(std::io::Error::other)?;
        line.push('\n');
        self.writer.write_all(line.as_bytes()).await
    }
}

//! The badge reader's serial side: one thread opens the board file's `[reader]` port, feeds the
//! pure [`BadgeDecoder`] and sends [`ReaderEvent`]s to the agent. It survives unplug and replug
//! (the port is tried again every second) and garbage on the line, and never panics; it knows
//! nothing of sessions. A keyboard-wedge reader needs no thread: it types into the UI like a
//! keyboard, so [`ReaderConfig::from_board`] returns `Ok(None)` for it (`badge::normalise_typed`
//! reads its text).

use std::io::{ErrorKind, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serialport::{DataBits, FlowControl, Parity, SerialPort, StopBits};
use tokio::sync::mpsc::Sender;
use tokio::sync::mpsc::error::TrySendError;

use super::badge::{BadgeDecoder, Debouncer, Framing};
use crate::config::board::SerialDeviceSection;
use crate::config::kiosk::BadgeSection;

/// What the reader thread tells the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A new tap: the normalised badge ID (repeats of a held card are already folded).
    Badge(String),
    /// The port is open; badges can be read. Sent once per (re)connection; the debounce memory
    /// survives reconnection, so a card held across a flaky contact stays one tap.
    Available,
    /// The port cannot be opened or has gone away (why, for the log); sent once per outage. The
    /// kiosk keeps working by keyboard and the thread keeps trying.
    Unavailable(String),
}

/// Where and how to read badges.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    pub port: PathBuf,
    pub baud: u32,
    pub framing: Framing,
    pub badge: BadgeSection,
    /// Same ID within this long of its last sighting is the same tap.
    pub debounce: Duration,
    /// How often a missing port is tried again.
    pub retry_every: Duration,
}

/// Why no reader thread runs. In every case the kiosk runs keyboard-only.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    /// A serial reader without `port` (config validation refuses this board file).
    #[error("[reader] names no `port`")]
    NoPort,
    /// A reader without `protocol` (config validation refuses this board file).
    #[error("[reader] names no `protocol`")]
    NoProtocol,
    /// The operating system refused a thread.
    #[error("cannot start the badge reader thread: {0}")]
    Spawn(#[source] std::io::Error),
}

impl ReaderConfig {
    /// The reader of a board file with the kiosk's `[gates.badge]` rules and default timings;
    /// `Ok(None)` for a keyboard-wedge reader (no serial side).
    pub fn from_board(
        reader: &SerialDeviceSection,
        badge: &BadgeSection,
    ) -> Result<Option<ReaderConfig>, ReaderError> {
        let protocol = reader.protocol.ok_or(ReaderError::NoProtocol)?;
        let Some(framing) = Framing::of(protocol) else {
            return Ok(None);
        };
        let port = reader.port.clone().ok_or(ReaderError::NoPort)?;
        Ok(Some(ReaderConfig {
            port,
            baud: reader.baud,
            framing,
            badge: badge.clone(),
            debounce: Debouncer::DEFAULT_WINDOW,
            retry_every: Duration::from_secs(1),
        }))
    }
}

/// The running reader thread. [`Reader::stop`] (or dropping it) stops and joins the thread within
/// about [`READ_TIMEOUT`]; the thread also ends by itself when the event receiver is dropped. The
/// sender is dropped when the thread ends, so the receiver then sees the channel close.
#[derive(Debug)]
pub struct Reader {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How long one read waits, which bounds how late the thread notices `stop`.
pub const READ_TIMEOUT: Duration = Duration::from_millis(100);

impl Reader {
    /// Starts the thread; callable from sync or async code (the thread is plain std). Give the
    /// channel room for a few events: the thread waits while it is full, but never past a stop.
    pub fn spawn(config: ReaderConfig, events: Sender<ReaderEvent>) -> Result<Reader, ReaderError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("badge-reader".to_owned())
            .spawn(move || Worker::new(config, events, flag).run())
            .map_err(ReaderError::Spawn)?;
        Ok(Reader {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            log::error!("badge reader thread ended abnormally");
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Why reading from an open port ended.
enum Ended {
    /// Stop was requested or nobody listens any more.
    Stopped,
    /// The port failed or vanished (why).
    Lost(String),
}

struct Worker {
    config: ReaderConfig,
    events: Sender<ReaderEvent>,
    stop: Arc<AtomicBool>,
    decoder: BadgeDecoder,
    /// The time base handed to the pure debouncer.
    started: Instant,
    /// What the agent was last told: `None` before the first report.
    available: Option<bool>,
}

impl Worker {
    fn new(config: ReaderConfig, events: Sender<ReaderEvent>, stop: Arc<AtomicBool>) -> Worker {
        let decoder = BadgeDecoder::new(config.framing, config.badge.clone(), config.debounce);
        Worker {
            config,
            events,
            stop,
            decoder,
            started: Instant::now(),
            available: None,
        }
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.events.is_closed()
    }

    fn run(mut self) {
        while !self.stopping() {
            match self.open() {
                Ok(port) => {
                    if !self.report(true, String::new()) {
                        return;
                    }
                    self.decoder.reset();
                    match self.pump(port) {
                        Ended::Stopped => return,
                        Ended::Lost(why) => {
                            if !self.report(false, why) {
                                return;
                            }
                        }
                    }
                }
                Err(e) => {
                    let why = format!("cannot open {}: {e}", self.config.port.display());
                    if !self.report(false, why) {
                        return;
                    }
                }
            }
            self.pause(self.config.retry_every);
        }
    }

    fn open(&self) -> serialport::Result<Box<dyn SerialPort>> {
        serialport::new(self.config.port.to_string_lossy(), self.config.baud)
            .data_bits(DataBits::Eight)
            .parity(Parity::None)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .timeout(READ_TIMEOUT)
            .open()
    }

    /// Reads until the port fails or vanishes, or the thread is stopped.
    fn pump(&mut self, mut port: Box<dyn SerialPort>) -> Ended {
        let mut buf = [0; 256];
        loop {
            if self.stopping() {
                return Ended::Stopped;
            }
            match port.read(&mut buf) {
                Ok(0) => return Ended::Lost("the port closed".to_owned()),
                Ok(n) => {
                    let taps = self.decoder.feed(&buf[..n], self.started.elapsed());
                    for id in taps {
                        log::info!("badge read");
                        if !self.send(ReaderEvent::Badge(id)) {
                            return Ended::Stopped;
                        }
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {
                    // Some USB adapters just fall silent when unplugged; their device node goes
                    // away.
                    if !self.config.port.exists() {
                        return Ended::Lost(format!("{} disappeared", self.config.port.display()));
                    }
                }
                Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                    let port = self.config.port.display();
                    return Ended::Lost(format!("{port} hung up (unplugged?)"));
                }
                Err(e) => return Ended::Lost(format!("{}: {e}", self.config.port.display())),
            }
        }
    }

    /// Tells the agent about a change of availability; false if nobody listens any more.
    fn report(&mut self, available: bool, why: String) -> bool {
        if self.available == Some(available) {
            return true;
        }
        self.available = Some(available);
        let event = if available {
            log::info!("badge reader available on {}", self.config.port.display());
            ReaderEvent::Available
        } else {
            log::warn!("badge reader unavailable, keyboard only: {why}");
            ReaderEvent::Unavailable(why)
        };
        self.send(event)
    }

    /// Sends like `blocking_send`, but gives up when stopped, so a full channel nobody drains any
    /// more cannot hang `Reader::stop`. False if the event was not delivered.
    fn send(&self, mut event: ReaderEvent) -> bool {
        loop {
            match self.events.try_send(event) {
                Ok(()) => return true,
                Err(TrySendError::Closed(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if self.stop.load(Ordering::Relaxed) {
                        return false;
                    }
                    event = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }

    /// Sleeps for `total` unless stopped first.
    fn pause(&self, total: Duration) {
        let until = Instant::now() + total;
        while !self.stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(READ_TIMEOUT));
        }
    }
}

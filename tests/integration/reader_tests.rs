//! The badge reader thread over a real pseudo-terminal pair: socat links `reader` (the port the
//! thread opens) to `card` (where the test plays the RDM6300 or line reader). Proves debounce,
//! garbage and bad checksums on a real tty, line mode, and unplug/replug: socat stopping removes
//! the port (`Unavailable`), socat starting again brings it back (`Available`) and badges flow
//! again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sspr_kiosk::config::kiosk::{BadgeFormat, BadgeSection};
use sspr_kiosk::devices::badge::Framing;
use sspr_kiosk::devices::badge::frame::encode;
use sspr_kiosk::devices::reader::{Reader, ReaderConfig, ReaderEvent};
use tokio::sync::mpsc::{self, Receiver};

use crate::harness::process::ServerProcess;
use crate::harness::{require_program, server_dir};

const WAIT: Duration = Duration::from_secs(5);
/// Card 4567890 (0x0045B352), facility 0x1F.
const CARD: [u8; 5] = [0x1F, 0x00, 0x45, 0xB3, 0x52];
/// A widely quoted RDM6300 example card, 0x62 / 0xE3086CED = 3808980205.
const OTHER: [u8; 5] = [0x62, 0xE3, 0x08, 0x6C, 0xED];

/// A socat pty pair whose links live in `links`, which outlives socat restarts.
#[derive(Debug)]
pub struct PtyPair {
    links: tempfile::TempDir,
    socat: Option<ServerProcess>,
}

impl PtyPair {
    pub fn start() -> PtyPair {
        let mut pair = PtyPair {
            links: tempfile::tempdir().unwrap(),
            socat: None,
        };
        pair.plug();
        pair
    }

    pub fn reader(&self) -> PathBuf {
        self.links.path().join("reader")
    }

    pub fn card(&self) -> PathBuf {
        self.links.path().join("card")
    }

    /// Starts socat and waits for both links.
    fn plug(&mut self) {
        let socat = require_program("socat", "socat");
        let end = |name: &str| {
            format!(
                "pty,raw,echo=0,link={}",
                self.links.path().join(name).display()
            )
        };
        let (reader, card) = (end("reader"), end("card"));
        let process = ServerProcess::spawn(
            "socat",
            &server_dir("socat"),
            &socat,
            &["-d", "-d", &reader, &card],
        );
        let start = Instant::now();
        while !(self.reader().exists() && self.card().exists()) {
            assert!(
                start.elapsed() < WAIT,
                "socat made no pty links in {WAIT:?}: {}",
                std::fs::read_to_string(&process.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.socat = Some(process);
    }

    /// Stops socat: the ptys close and their links are removed, like a reader being unplugged.
    fn unplug(&mut self) {
        if let Some(mut socat) = self.socat.take() {
            socat.stop();
        }
        let start = Instant::now();
        while self.reader().exists() && start.elapsed() < WAIT {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Writes bytes as the reader hardware would.
    fn send(&self, bytes: &[u8]) {
        let mut card = std::fs::OpenOptions::new()
            .write(true)
            .open(self.card())
            .unwrap();
        card.write_all(bytes).unwrap();
        card.flush().unwrap();
    }

    /// A card held on an RDM6300: the frame `times` times, ~50 ms apart.
    fn hold(&self, card: [u8; 5], times: usize) {
        for _ in 0..times {
            self.send(&encode(card));
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn start_reader(
    port: &Path,
    framing: Framing,
    format: BadgeFormat,
) -> (Reader, Receiver<ReaderEvent>) {
    let config = ReaderConfig {
        port: port.to_owned(),
        baud: 9600,
        framing,
        badge: BadgeSection {
            format,
            strip_facility_code: false,
        },
        debounce: Duration::from_millis(1500),
        retry_every: Duration::from_millis(200),
    };
    let (tx, rx) = mpsc::channel(16);
    (Reader::spawn(config, tx).unwrap(), rx)
}

async fn next(rx: &mut Receiver<ReaderEvent>) -> ReaderEvent {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no reader event within {WAIT:?}"))
        .expect("the reader thread ended")
}

fn badge(id: &str) -> ReaderEvent {
    ReaderEvent::Badge(id.to_owned())
}

#[tokio::test]
async fn reader_folds_a_held_card_into_one_tap() {
    let pty = PtyPair::start();
    let (reader, mut rx) = start_reader(&pty.reader(), Framing::Em4100Frame, BadgeFormat::Decimal);
    assert_eq!(next(&mut rx).await, ReaderEvent::Available);
    pty.hold(CARD, 5);
    pty.hold(OTHER, 1);
    // Events are ordered: the second card coming next proves the four repeats were folded.
    assert_eq!(next(&mut rx).await, badge("0004567890"));
    assert_eq!(next(&mut rx).await, badge("3808980205"));
    reader.stop();
    assert_eq!(
        rx.recv().await,
        None,
        "stopping the reader closes the channel"
    );
}

#[tokio::test]
async fn reader_skips_garbage_and_bad_checksums() {
    let pty = PtyPair::start();
    let (_reader, mut rx) = start_reader(&pty.reader(), Framing::Em4100Frame, BadgeFormat::Hex);
    assert_eq!(next(&mut rx).await, ReaderEvent::Available);
    // Line noise, a truncated frame, a stray ETX, then a valid frame.
    pty.send(b"\xff\x00\xfe\x13noise\x020045B3\x03\x03\x02\x02ZZ");
    pty.send(&encode(CARD));
    assert_eq!(next(&mut rx).await, badge("1F0045B352"));
    // A frame with a wrong checksum (last digit bumped) is dropped; the valid one after it arrives.
    let mut bad = encode(OTHER);
    bad[12] = if bad[12] == b'0' { b'1' } else { b'0' };
    pty.send(&bad);
    pty.send(&encode(OTHER));
    assert_eq!(next(&mut rx).await, badge("62E3086CED"));
}

#[tokio::test]
async fn reader_reads_line_per_badge_readers() {
    let pty = PtyPair::start();
    let (_reader, mut rx) = start_reader(&pty.reader(), Framing::Line, BadgeFormat::Decimal);
    assert_eq!(next(&mut rx).await, ReaderEvent::Available);
    let overlong = "1".repeat(100);
    pty.send(format!("\r\n\n{overlong}\r\n  4567890 \r\n").as_bytes());
    assert_eq!(next(&mut rx).await, badge("0004567890"));
    // Hex lines in a decimal kiosk: the card number of a full EM4100 ID.
    pty.send(b"\xff\x01junk\n62e3086ced\n");
    assert_eq!(next(&mut rx).await, badge("3808980205"));
    // The same card twice within the debounce window is one tap.
    pty.send(b"1F0045B352\r0004567890\n");
    pty.send(b"12345\n");
    assert_eq!(next(&mut rx).await, badge("0004567890"));
    assert_eq!(next(&mut rx).await, badge("0000012345"));
}

#[tokio::test]
async fn reader_survives_unplug_and_replug() {
    let mut pty = PtyPair::start();
    let (reader, mut rx) = start_reader(&pty.reader(), Framing::Em4100Frame, BadgeFormat::Decimal);
    assert_eq!(next(&mut rx).await, ReaderEvent::Available);
    pty.hold(CARD, 1);
    assert_eq!(next(&mut rx).await, badge("0004567890"));

    pty.unplug();
    match next(&mut rx).await {
        ReaderEvent::Unavailable(why) => assert!(why.contains("hung up"), "{why}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    pty.plug();
    assert_eq!(next(&mut rx).await, ReaderEvent::Available);
    // Badges flow on the new port. (The debouncer's memory outlives the reconnection, so a card
    // still held across a flaky USB contact stays one tap: use another card here.)
    pty.hold(OTHER, 3);
    assert_eq!(next(&mut rx).await, badge("3808980205"));
    reader.stop();
    assert_eq!(rx.recv().await, None);
}

#[tokio::test]
async fn reader_waits_for_a_port_that_is_not_there_yet() {
    let links = tempfile::tempdir().unwrap();
    let (reader, mut rx) = start_reader(
        &links.path().join("reader"),
        Framing::Em4100Frame,
        BadgeFormat::Hex,
    );
    match next(&mut rx).await {
        ReaderEvent::Unavailable(why) => assert!(why.contains("cannot open"), "{why}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // Retrying says nothing new while the port stays missing.
    let quiet = tokio::time::timeout(Duration::from_millis(700), rx.recv()).await;
    assert!(quiet.is_err(), "unexpected {quiet:?}");
    let mut pty = PtyPair { links, socat: None };
    pty.plug();
    assert_eq!(next(&mut rx).await, ReaderEvent::Available);
    pty.hold(OTHER, 2);
    assert_eq!(next(&mut rx).await, badge("62E3086CED"));
    reader.stop();
}

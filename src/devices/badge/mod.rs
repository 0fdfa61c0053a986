//! PURE badge-reader protocol: bytes from a reader in, normalised badge IDs out. [`frame`] parses
//! RDM6300/EM4100 frames, [`line`](mod@line) parses line-per-badge readers, [`Debouncer`] folds a
//! card held on the reader into one tap and [`normalise`] applies `[gates.badge]`. No I/O and no
//! clock: the serial thread (`devices::reader`) passes the bytes and the time in.

pub mod frame;
pub mod line;
#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::config::board::ReaderProtocol;
use crate::config::kiosk::{BadgeFormat, BadgeSection};

pub use frame::FrameParser;
pub use line::LineParser;

/// What a reader reported, before normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawBadge {
    /// A full EM4100 ID: the version/facility byte and the 32-bit card number.
    Em4100 { facility: u8, card: u32 },
    /// A card number without its facility byte (a line reader printing 8 hex or up to 10 decimal
    /// digits).
    Card(u32),
    /// Text in no known shape, uppercased: looked up exactly as the reader printed it.
    Text(String),
}

impl RawBadge {
    /// The 5 data bytes of an EM4100 frame: facility first, then the card number big-endian.
    pub fn from_bytes(bytes: [u8; 5]) -> RawBadge {
        let [facility, a, b, c, d] = bytes;
        RawBadge::Em4100 {
            facility,
            card: u32::from_be_bytes([a, b, c, d]),
        }
    }

    /// Interprets one line from a line-per-badge reader (or a keyboard wedge's typing). Up to 10
    /// decimal digits are a card number when the kiosk is configured for decimal IDs; 10 hex digits
    /// are a full EM4100 ID; 8 hex digits a card number; anything else is kept as text.
    pub fn from_line(text: &str, format: BadgeFormat) -> RawBadge {
        let text = text.trim();
        let all = |f: fn(&u8) -> bool| !text.is_empty() && text.bytes().all(|b| f(&b));
        if format == BadgeFormat::Decimal
            && text.len() <= 10
            && all(u8::is_ascii_digit)
            && let Ok(card) = text.parse::<u32>()
        {
            return RawBadge::Card(card);
        }
        if all(u8::is_ascii_hexdigit) {
            if text.len() == 10
                && let Some(bytes) = frame::hex_bytes::<5>(text.as_bytes())
            {
                return RawBadge::from_bytes(bytes);
            }
            if text.len() == 8
                && let Ok(card) = u32::from_str_radix(text, 16)
            {
                return RawBadge::Card(card);
            }
        }
        RawBadge::Text(text.to_ascii_uppercase())
    }
}

/// The ID the directory is searched for. Hex: 10 uppercase hex digits (facility byte and card), or
/// 8 with `strip_facility_code`. Decimal: the 32-bit card number zero-padded to 10 digits, as
/// printed on most cards — it never includes the facility byte, so `strip_facility_code` changes
/// nothing.
pub fn normalise(raw: &RawBadge, badge: &BadgeSection) -> String {
    match (raw, badge.format) {
        (RawBadge::Em4100 { facility, card }, BadgeFormat::Hex) if !badge.strip_facility_code => {
            format!("{facility:02X}{card:08X}")
        }
        (RawBadge::Em4100 { card, .. } | RawBadge::Card(card), BadgeFormat::Hex) => {
            format!("{card:08X}")
        }
        (RawBadge::Em4100 { card, .. } | RawBadge::Card(card), BadgeFormat::Decimal) => {
            format!("{card:010}")
        }
        (RawBadge::Text(text), _) => text.clone(),
    }
}

/// Normalises text a keyboard-wedge reader typed; `None` if it is empty, too long or not printable.
pub fn normalise_typed(text: &str, badge: &BadgeSection) -> Option<String> {
    let text = line::clean(text.as_bytes())?;
    Some(normalise(&RawBadge::from_line(text, badge.format), badge))
}

/// Folds repeats into taps: the same ID seen again less than `window` after its last sighting is
/// the same card still on the reader. Every sighting restarts the window, so a card held for a
/// minute is one tap; lifting it for longer than the window makes the next sighting a new tap.
#[derive(Debug, Clone)]
pub struct Debouncer {
    window: Duration,
    last: Option<(String, Duration)>,
}

impl Debouncer {
    /// What the serial thread uses: RDM6300 modules repeat a held card every ~100 ms.
    pub const DEFAULT_WINDOW: Duration = Duration::from_millis(1500);

    pub fn new(window: Duration) -> Debouncer {
        Debouncer { window, last: None }
    }

    /// Whether `id`, seen at `now` (any monotonic time base), is a new tap.
    pub fn accept(&mut self, id: &str, now: Duration) -> bool {
        let repeat = matches!(&self.last,
            Some((last, seen)) if last == id && now.saturating_sub(*seen) < self.window);
        self.last = Some((id.to_owned(), now));
        !repeat
    }
}

/// How a serial reader frames its IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// STX, 10 hex digits, 2 hex digits XOR checksum, ETX (RDM6300 and clones).
    Em4100Frame,
    /// One ID per `\r`/`\n`-terminated line.
    Line,
}

impl Framing {
    /// The framing of a board file's reader protocol; `None` for a keyboard wedge, which has no
    /// serial side (it types into the UI).
    pub fn of(protocol: ReaderProtocol) -> Option<Framing> {
        match protocol {
            ReaderProtocol::Em4100Frame => Some(Framing::Em4100Frame),
            ReaderProtocol::Line => Some(Framing::Line),
            ReaderProtocol::KeyboardWedge => None,
        }
    }
}

#[derive(Debug, Clone)]
enum Parser {
    Frame(FrameParser),
    Line(LineParser),
}

/// Everything between the serial port and the agent: parse, normalise, debounce.
#[derive(Debug, Clone)]
pub struct BadgeDecoder {
    parser: Parser,
    badge: BadgeSection,
    debouncer: Debouncer,
}

impl BadgeDecoder {
    pub fn new(framing: Framing, badge: BadgeSection, debounce: Duration) -> BadgeDecoder {
        let parser = match framing {
            Framing::Em4100Frame => Parser::Frame(FrameParser::new()),
            Framing::Line => Parser::Line(LineParser::new()),
        };
        BadgeDecoder {
            parser,
            badge,
            debouncer: Debouncer::new(debounce),
        }
    }

    /// Feeds bytes read at `now`; returns the new taps they complete, normalised, in order.
    pub fn feed(&mut self, bytes: &[u8], now: Duration) -> Vec<String> {
        let mut taps = Vec::new();
        for &byte in bytes {
            let raw = match &mut self.parser {
                Parser::Frame(parser) => parser.push(byte),
                Parser::Line(parser) => parser
                    .push(byte)
                    .map(|text| RawBadge::from_line(&text, self.badge.format)),
            };
            if let Some(raw) = raw {
                let id = normalise(&raw, &self.badge);
                if self.debouncer.accept(&id, now) {
                    taps.push(id);
                }
            }
        }
        taps
    }

    /// Forgets a half-received frame or line (the port was closed and opened again).
    pub fn reset(&mut self) {
        match &mut self.parser {
            Parser::Frame(parser) => parser.reset(),
            Parser::Line(parser) => parser.reset(),
        }
    }
}

//! Normalisation, debounce and the decoder as a whole, plus properties over random bytes: nothing
//! panics, and a valid frame or line survives any noise around it.

use std::time::Duration;

use proptest::prelude::*;

use super::frame::{ETX, STX, encode};
use super::*;

fn section(format: BadgeFormat, strip_facility_code: bool) -> BadgeSection {
    BadgeSection {
        format,
        strip_facility_code,
    }
}

const HEX: BadgeSection = BadgeSection {
    format: BadgeFormat::Hex,
    strip_facility_code: false,
};
const DECIMAL: BadgeSection = BadgeSection {
    format: BadgeFormat::Decimal,
    strip_facility_code: false,
};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Card 4567890 (0x0045B352) with facility 0x1F.
const CARD: RawBadge = RawBadge::Em4100 {
    facility: 0x1F,
    card: 4_567_890,
};

#[test]
fn hex_is_ten_uppercase_digits_or_eight_without_the_facility() {
    assert_eq!(normalise(&CARD, &HEX), "1F0045B352");
    assert_eq!(
        normalise(&CARD, &section(BadgeFormat::Hex, true)),
        "0045B352"
    );
    assert_eq!(normalise(&RawBadge::Card(0xABCD), &HEX), "0000ABCD");
}

#[test]
fn decimal_is_the_card_number_as_printed_on_the_card() {
    assert_eq!(normalise(&CARD, &DECIMAL), "0004567890");
    assert_eq!(
        normalise(&CARD, &section(BadgeFormat::Decimal, true)),
        "0004567890"
    );
    let max = RawBadge::from_bytes([0xFF; 5]);
    assert_eq!(normalise(&max, &DECIMAL), "4294967295");
    assert_eq!(normalise(&max, &HEX), "FFFFFFFFFF");
}

#[test]
fn lines_are_read_in_the_configured_format() {
    use BadgeFormat::{Decimal, Hex};
    assert_eq!(
        RawBadge::from_line("0004567890", Decimal),
        RawBadge::Card(4_567_890)
    );
    assert_eq!(
        RawBadge::from_line("4567890", Decimal),
        RawBadge::Card(4_567_890)
    );
    // Too big for a card number, or hex letters: a full EM4100 ID in hex.
    assert_eq!(RawBadge::from_line("1f0045b352", Decimal), CARD);
    assert_eq!(
        RawBadge::from_line("9999999999", Decimal),
        RawBadge::from_bytes([0x99; 5])
    );
    assert_eq!(RawBadge::from_line("1F0045B352", Hex), CARD);
    assert_eq!(
        RawBadge::from_line("0045b352", Hex),
        RawBadge::Card(4_567_890)
    );
    assert_eq!(
        RawBadge::from_line(" 069,44178 ", Hex),
        RawBadge::Text("069,44178".into())
    );
    assert_eq!(
        RawBadge::from_line("emp-17", Decimal),
        RawBadge::Text("EMP-17".into())
    );
}

#[test]
fn typed_badges_normalise_like_line_readers() {
    assert_eq!(
        normalise_typed(" 4567890\n", &DECIMAL).as_deref(),
        Some("0004567890")
    );
    assert_eq!(
        normalise_typed("1f0045b352", &HEX).as_deref(),
        Some("1F0045B352")
    );
    assert_eq!(normalise_typed("   ", &HEX), None);
    assert_eq!(normalise_typed(&"1".repeat(40), &HEX), None);
}

#[test]
fn a_held_card_is_one_tap_and_a_lifted_card_taps_again() {
    let mut d = Debouncer::new(Debouncer::DEFAULT_WINDOW);
    assert!(d.accept("A", ms(0)));
    // Held for 5 s, seen every 100 ms: still the first tap.
    assert!((1..50).all(|i| !d.accept("A", ms(i * 100))));
    // Lifted for 1.6 s: a new tap.
    assert!(d.accept("A", ms(4900 + 1600)));
    // Another card at once is a new tap, and so is the first card after it.
    assert!(d.accept("B", ms(6600)));
    assert!(d.accept("A", ms(6700)));
    // Time running backwards (it never should) is treated as a repeat, not a crash.
    assert!(!d.accept("A", ms(10)));
}

#[test]
fn the_decoder_parses_normalises_and_debounces() {
    let mut decoder = BadgeDecoder::new(Framing::Em4100Frame, DECIMAL, Debouncer::DEFAULT_WINDOW);
    let frame = encode([0x1F, 0x00, 0x45, 0xB3, 0x52]);
    let mut noisy = b"\xff\x02zz".to_vec();
    for _ in 0..5 {
        noisy.extend_from_slice(&frame);
    }
    assert_eq!(decoder.feed(&noisy, ms(0)), ["0004567890"]);
    // The frame split across reads, while the card is still held.
    assert_eq!(decoder.feed(&frame[..6], ms(100)), Vec::<String>::new());
    assert_eq!(decoder.feed(&frame[6..], ms(150)), Vec::<String>::new());
    assert_eq!(decoder.feed(&frame, ms(3000)), ["0004567890"]);

    let mut lines = BadgeDecoder::new(Framing::Line, HEX, Debouncer::DEFAULT_WINDOW);
    assert_eq!(
        lines.feed(b"1f0045b352\r\n\r\n0045B352\n", ms(0)),
        ["1F0045B352", "0045B352"]
    );
    lines.feed(b"1F00", ms(10));
    lines.reset();
    assert_eq!(lines.feed(b"0045B352\n", ms(5000)), ["0045B352"]);
}

#[test]
fn framing_follows_the_board_file() {
    use crate::config::board::ReaderProtocol;
    assert_eq!(
        Framing::of(ReaderProtocol::Em4100Frame),
        Some(Framing::Em4100Frame)
    );
    assert_eq!(Framing::of(ReaderProtocol::Line), Some(Framing::Line));
    assert_eq!(Framing::of(ReaderProtocol::KeyboardWedge), None);
}

/// Bytes that exercise every branch: framing bytes, hex digits, line ends and anything else.
fn wire_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(b"0123456789ABCDEFabcdef".to_vec()),
        2 => prop::sample::select(vec![STX, ETX, b'\r', b'\n']),
        1 => any::<u8>(),
    ]
}

fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        prop::collection::vec(wire_byte(), 0..200),
    ]
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in noise(), hex in any::<bool>(), strip in any::<bool>()) {
        let format = if hex { BadgeFormat::Hex } else { BadgeFormat::Decimal };
        for framing in [Framing::Em4100Frame, Framing::Line] {
            let mut decoder = BadgeDecoder::new(framing, section(format, strip), ms(1500));
            for (i, chunk) in bytes.chunks(7).enumerate() {
                for id in decoder.feed(chunk, ms(i as u64 * 10)) {
                    prop_assert!(!id.is_empty() && id.len() <= line::MAX_LINE);
                }
            }
        }
    }

    #[test]
    fn a_valid_frame_in_noise_is_found(
        before in noise(),
        after in noise(),
        data in any::<[u8; 5]>(),
    ) {
        let mut bytes = before;
        bytes.extend_from_slice(&encode(data));
        bytes.extend(after);
        let mut parser = FrameParser::new();
        let found: Vec<RawBadge> = bytes.iter().filter_map(|&b| parser.push(b)).collect();
        prop_assert!(found.contains(&RawBadge::from_bytes(data)), "{found:?}");
    }

    #[test]
    fn a_line_between_noisy_lines_is_found(
        before in noise(),
        after in noise(),
        card in any::<u32>(),
    ) {
        let mut bytes = before;
        bytes.extend_from_slice(format!("\r\n{card:010}\r\n").as_bytes());
        bytes.extend(after);
        let mut decoder = BadgeDecoder::new(Framing::Line, DECIMAL, ms(0));
        let found = decoder.feed(&bytes, ms(0));
        prop_assert!(found.contains(&format!("{card:010}")), "{found:?}");
    }
}

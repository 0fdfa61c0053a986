//! RDM6300/EM4100 frames, byte by byte: STX (0x02), 10 ASCII hex digits (facility byte and 32-bit
//! card number), 2 ASCII hex digits of checksum (XOR of the 5 data bytes), ETX (0x03). Anything
//! else — noise, truncated frames, wrong checksums — is skipped, and every STX starts a new frame,
//! so the parser is back in step with the reader at the next frame whatever came before.

use super::RawBadge;

pub const STX: u8 = 0x02;
pub const ETX: u8 = 0x03;
/// The hex digits between STX and ETX.
const PAYLOAD: usize = 12;

/// A streaming frame parser; it holds at most one partial frame.
#[derive(Debug, Clone, Default)]
pub struct FrameParser {
    buf: [u8; PAYLOAD],
    len: usize,
    in_frame: bool,
}

impl FrameParser {
    pub fn new() -> FrameParser {
        FrameParser::default()
    }

    /// Takes the next byte from the reader; returns the badge when it completes a valid frame.
    pub fn push(&mut self, byte: u8) -> Option<RawBadge> {
        match byte {
            STX => {
                self.in_frame = true;
                self.len = 0;
                None
            }
            _ if !self.in_frame => None,
            ETX => {
                let complete = self.len == PAYLOAD;
                self.reset();
                if complete { decode(&self.buf) } else { None }
            }
            _ if self.len < PAYLOAD && byte.is_ascii_hexdigit() => {
                self.buf[self.len] = byte;
                self.len += 1;
                None
            }
            // Not a hex digit, or too long: not a frame; wait for the next STX.
            _ => {
                self.reset();
                None
            }
        }
    }

    /// Forgets any partial frame.
    pub fn reset(&mut self) {
        self.in_frame = false;
        self.len = 0;
    }
}

/// The frame a reader sends for `bytes` (facility first), checksum included. For tests and
/// simulators; the kiosk itself only reads frames.
pub fn encode(bytes: [u8; 5]) -> [u8; 14] {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let checksum = bytes.iter().fold(0, |acc, b| acc ^ b);
    let mut frame = [0; 14];
    frame[0] = STX;
    for (i, byte) in bytes.iter().chain([&checksum]).enumerate() {
        frame[1 + 2 * i] = DIGITS[usize::from(byte >> 4)];
        frame[2 + 2 * i] = DIGITS[usize::from(byte & 0x0f)];
    }
    frame[13] = ETX;
    frame
}

fn decode(payload: &[u8; PAYLOAD]) -> Option<RawBadge> {
    let [data @ .., checksum] = hex_bytes::<6>(payload)?;
    let expected = data.iter().fold(0, |acc, b| acc ^ b);
    (expected == checksum).then(|| RawBadge::from_bytes(data))
}

/// `2 * N` ASCII hex digits (either case) as `N` bytes; `None` if the length or a digit is wrong.
pub(super) fn hex_bytes<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0; N];
    for (slot, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *slot = u8::try_from(high << 4 | low).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Vec<RawBadge> {
        let mut parser = FrameParser::new();
        bytes.iter().filter_map(|&b| parser.push(b)).collect()
    }

    fn card(facility: u8, card: u32) -> RawBadge {
        RawBadge::Em4100 { facility, card }
    }

    // Checksums worked by hand: 62^E3^08^6C^ED = 08 (a widely quoted RDM6300 example frame) and
    // 00^00^45^B3^52 = A4 (card number 4567890 = 0x0045B352).
    const EXAMPLE: &[u8] = b"\x0262E3086CED08\x03";
    const CARD_4567890: &[u8] = b"\x02000045B352A4\x03";

    #[test]
    fn real_frames_decode() {
        assert_eq!(parse(EXAMPLE), [card(0x62, 0xE308_6CED)]);
        assert_eq!(parse(CARD_4567890), [card(0, 4_567_890)]);
        assert_eq!(encode([0x62, 0xE3, 0x08, 0x6C, 0xED]), EXAMPLE);
        assert_eq!(encode([0, 0, 0x45, 0xB3, 0x52]), CARD_4567890);
    }

    #[test]
    fn lowercase_hex_is_accepted() {
        assert_eq!(parse(b"\x0262e3086ced08\x03"), [card(0x62, 0xE308_6CED)]);
    }

    #[test]
    fn a_wrong_checksum_is_dropped() {
        assert_eq!(parse(b"\x0262E3086CED09\x03"), []);
        assert_eq!(parse(b"\x0262E3086CEE08\x03"), []);
    }

    #[test]
    fn truncated_and_overlong_frames_are_dropped() {
        assert_eq!(parse(b"\x0262E3086CED0\x03"), []);
        assert_eq!(parse(b"\x0262E3086CED080\x03"), []);
        assert_eq!(parse(b"\x02\x03\x03\x02"), []);
    }

    #[test]
    fn noise_inside_a_frame_drops_it() {
        assert_eq!(parse(b"\x0262E3086C\r\nED08\x03"), []);
        assert_eq!(parse(b"\x0262E30G6CED08\x03"), []);
    }

    #[test]
    fn a_new_stx_resynchronises() {
        let mut bytes = b"\x0262E308".to_vec();
        bytes.extend_from_slice(CARD_4567890);
        assert_eq!(parse(&bytes), [card(0, 4_567_890)]);
        let mut bytes = b"garbage\x03\xff\x00ED08\x03".to_vec();
        bytes.extend_from_slice(EXAMPLE);
        bytes.extend_from_slice(b"\r\n\xfe");
        bytes.extend_from_slice(CARD_4567890);
        assert_eq!(parse(&bytes), [card(0x62, 0xE308_6CED), card(0, 4_567_890)]);
    }

    #[test]
    fn repeats_are_all_reported_here_and_folded_by_the_debouncer() {
        assert_eq!(parse(&EXAMPLE.repeat(3)).len(), 3);
    }
}

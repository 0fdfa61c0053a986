//! RFC 4648 base32 (alphabet `A–Z2–7`), the encoding of TOTP secrets in `otpauth://` URIs and in
//! authenticator apps. Encodes without padding; decodes case-insensitively, ignoring spaces, `-`
//! and trailing `=` (how people copy secrets). Pure and allocation-only.

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The text is not base32: a character outside the alphabet, or a length no byte string encodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not valid base32")]
pub struct InvalidBase32;

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(buffer >> bits));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(symbol(buffer << (5 - bits)));
    }
    out
}

fn symbol(index: u16) -> char {
    char::from(ALPHABET[usize::from(index & 31)])
}

pub fn decode(text: &str) -> Result<Vec<u8>, InvalidBase32> {
    let text = text.trim_end_matches(|c: char| c == '=' || c.is_ascii_whitespace());
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    let mut symbols = 0usize;
    for c in text.chars() {
        if c == ' ' || c == '-' {
            continue;
        }
        let value = match c.to_ascii_uppercase() {
            upper @ 'A'..='Z' => upper as u16 - u16::from(b'A'),
            digit @ '2'..='7' => digit as u16 - u16::from(b'2') + 26,
            _ => return Err(InvalidBase32),
        };
        symbols += 1;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // 1, 3 or 6 symbols left over in a group of 8 cannot come from whole bytes.
    if matches!(symbols % 8, 1 | 3 | 6) {
        return Err(InvalidBase32);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_test_vectors() {
        // RFC 4648 section 10, padding removed.
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn decoding_is_lenient_about_case_spaces_and_padding() {
        assert_eq!(decode("mzxw 6ytb-oi======").unwrap(), b"foobar");
        assert_eq!(
            decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(),
            b"12345678901234567890"
        );
    }

    #[test]
    fn invalid_text_is_refused() {
        assert_eq!(
            decode("MZXW1"),
            Err(InvalidBase32),
            "1 is not in the alphabet"
        );
        assert_eq!(decode("M"), Err(InvalidBase32), "one symbol is not a byte");
        assert_eq!(decode("MZX"), Err(InvalidBase32));
        assert_eq!(decode("MZXW6Y"), Err(InvalidBase32));
    }

    #[test]
    fn every_byte_string_round_trips() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        }
    }
}

//! Line-per-badge readers: one ID per line, terminated by `\r`, `\n` or both. Lines are trimmed;
//! empty lines, lines longer than [`MAX_LINE`] bytes and lines with anything but printable ASCII
//! (noise on the wire) are skipped.

/// Longer lines are not a badge ID (EM4100 IDs are at most 13 characters in any common notation).
pub const MAX_LINE: usize = 32;

/// A streaming line parser; it holds at most [`MAX_LINE`] bytes.
#[derive(Debug, Clone, Default)]
pub struct LineParser {
    buf: Vec<u8>,
    overlong: bool,
}

impl LineParser {
    pub fn new() -> LineParser {
        LineParser::default()
    }

    /// Takes the next byte; returns the trimmed line when a terminator ends a usable one.
    pub fn push(&mut self, byte: u8) -> Option<String> {
        match byte {
            b'\r' | b'\n' => {
                let line = (!self.overlong)
                    .then(|| clean(&self.buf).map(str::to_owned))
                    .flatten();
                self.reset();
                line
            }
            _ if self.overlong => None,
            _ if self.buf.len() >= MAX_LINE => {
                self.buf.clear();
                self.overlong = true;
                None
            }
            _ => {
                self.buf.push(byte);
                None
            }
        }
    }

    /// Forgets any partial line.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.overlong = false;
    }
}

/// The trimmed text of a line, if it is a plausible ID: non-empty, at most [`MAX_LINE`] bytes,
/// printable ASCII only.
pub(super) fn clean(line: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(line).ok()?.trim();
    let printable = text.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    (!text.is_empty() && line.len() <= MAX_LINE && printable).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Vec<String> {
        let mut parser = LineParser::new();
        bytes.iter().filter_map(|&b| parser.push(b)).collect()
    }

    #[test]
    fn any_terminator_ends_a_line_and_text_is_trimmed() {
        assert_eq!(
            parse(b"0004567890\r\n  0A1B2C3D4E \r12345678\n"),
            ["0004567890", "0A1B2C3D4E", "12345678"]
        );
    }

    #[test]
    fn empty_overlong_and_unprintable_lines_are_skipped() {
        let overlong = "9".repeat(MAX_LINE + 1);
        let bytes = format!("\r\n\n   \r\n{overlong}\n0004567890\n");
        assert_eq!(parse(bytes.as_bytes()), ["0004567890"]);
        assert_eq!(
            parse(b"00045\x0267890\n\xff\xfe\n0004567890\n"),
            ["0004567890"]
        );
        assert_eq!(parse(&[b'7'; MAX_LINE]).len(), 0, "no terminator yet");
        let mut exact = vec![b'7'; MAX_LINE];
        exact.push(b'\n');
        assert_eq!(
            parse(&exact).len(),
            1,
            "exactly MAX_LINE bytes is still a line"
        );
    }

    #[test]
    fn an_unterminated_line_waits() {
        let mut parser = LineParser::new();
        assert!(b"0004567".iter().all(|&b| parser.push(b).is_none()));
        assert_eq!(parser.push(b'\n').as_deref(), Some("0004567"));
    }
}

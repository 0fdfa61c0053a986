//! The few BER (X.690) pieces LDAP controls need: definite-length TLV writing and reading.
//! Pure: bytes in, bytes out.

/// One tag-length-value element: `tag`, then the content bytes.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// A BER INTEGER in the minimal two's-complement form.
pub fn integer(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    tlv(0x02, &bytes[start..])
}

/// Reads one element at the start of `input`: `(tag, content, rest)`, or `None` if malformed.
pub fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > std::mem::size_of::<usize>() || rest.len() < count {
            return None;
        }
        let (len_bytes, after) = rest.split_at(count);
        rest = after;
        len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal() {
        assert_eq!(integer(0), [0x02, 0x01, 0x00]);
        assert_eq!(integer(1), [0x02, 0x01, 0x01]);
        assert_eq!(integer(127), [0x02, 0x01, 0x7f]);
        assert_eq!(integer(128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer(-1), [0x02, 0x01, 0xff]);
        assert_eq!(integer(256), [0x02, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn long_lengths_round_trip() {
        let content = vec![7u8; 300];
        let encoded = tlv(0x04, &content);
        assert_eq!(&encoded[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (tag, got, rest) = read(&encoded).unwrap();
        assert_eq!((tag, got.len(), rest.len()), (0x04, 300, 0));
    }

    #[test]
    fn truncated_input_is_rejected() {
        assert!(read(&[0x30]).is_none());
        assert!(read(&[0x30, 0x05, 0x01]).is_none());
        assert!(read(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(read(&[]).is_none());
    }
}

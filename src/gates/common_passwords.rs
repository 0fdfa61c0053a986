//! The shipped list of common and breached passwords (220,744 entries of 8–64 characters; sources,
//! licences and rebuild in `data/README.md`) as a Bloom filter embedded in the binary: one SHA-256
//! and 10 bit probes per lookup, no allocation beyond normalising the candidate, no start-up cost.
//! False-positive rate ≈ 0.1% (a password wrongly called common: the user picks another); no false
//! negatives. Pure: the data is `include_bytes!`, never read from disk.

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use zeroize::{Zeroize, Zeroizing};

const DATA: &[u8] = include_bytes!("data/common-passwords.bloom");
const HEADER_LEN: usize = 32;
const MAGIC: &[u8; 8] = b"SSPRBF01";

const fn u32_at(at: usize) -> u32 {
    u32::from_le_bytes([DATA[at], DATA[at + 1], DATA[at + 2], DATA[at + 3]])
}

const fn u64_at(at: usize) -> u64 {
    (u32_at(at) as u64) | ((u32_at(at + 4) as u64) << 32)
}

const PROBES: u32 = u32_at(8);
/// Distinct entries in the filter.
pub const ENTRIES: u32 = u32_at(12);
const BITS: u64 = u64_at(16);
/// Entries are at least this many characters (Unicode scalar values) after normalisation: shorter
/// ones were left out, since `policy.password.min_length` cannot go below 8.
pub const MIN_CHARS: usize = u32_at(24) as usize;
/// No entry is longer than this, so longer candidates are not looked up.
pub const MAX_CHARS: usize = u32_at(28) as usize;

// A malformed data file is a build error, not a runtime surprise.
const _: () = {
    let mut i = 0;
    while i < MAGIC.len() {
        assert!(DATA[i] == MAGIC[i], "common-passwords.bloom: bad magic");
        i += 1;
    }
    assert!(
        PROBES > 0 && BITS > 0 && ENTRIES > 0,
        "common-passwords.bloom: empty filter"
    );
    assert!(
        DATA.len() as u64 == HEADER_LEN as u64 + BITS.div_ceil(8),
        "common-passwords.bloom: size does not match its header"
    );
};

/// The result of looking a candidate up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// In the list (or, with probability ≈ 0.1%, a false positive).
    Listed,
    NotListed,
    /// Shorter than [`MIN_CHARS`]: the list does not cover it (the length rule rejects it anyway).
    TooShort,
}

/// Looks `password` up after the same normalisation the list was built with: NFKC, then lowercase
/// (so "PassWord123" matches "password123").
pub fn lookup(password: &str) -> Lookup {
    let normalised = Zeroizing::new(password.nfkc().collect::<String>().to_lowercase());
    let chars = normalised.chars().count();
    if chars < MIN_CHARS {
        return Lookup::TooShort;
    }
    if chars > MAX_CHARS {
        return Lookup::NotListed;
    }
    let mut digest: [u8; 32] = Sha256::digest(normalised.as_bytes()).into();
    let h1 = u64::from_le_bytes(first_eight(&digest, 0));
    let h2 = u64::from_le_bytes(first_eight(&digest, 8)) | 1;
    digest.zeroize();
    let bits = DATA.get(HEADER_LEN..).unwrap_or_default();
    let all_set = (0..u64::from(PROBES)).all(|i| {
        let index = h1.wrapping_add(i.wrapping_mul(h2)) % BITS;
        let byte = usize::try_from(index / 8)
            .ok()
            .and_then(|at| bits.get(at))
            .copied()
            .unwrap_or(0);
        byte & (1 << (index % 8)) != 0
    });
    if all_set {
        Lookup::Listed
    } else {
        Lookup::NotListed
    }
}

fn first_eight(digest: &[u8; 32], at: usize) -> [u8; 8] {
    let mut out = [0u8; 8];
    if let Some(src) = digest.get(at..at + 8) {
        out.copy_from_slice(src);
    }
    out
}

/// The filter's theoretical false-positive rate, (1 − e^(−kn/m))^k.
pub fn false_positive_rate() -> f64 {
    let (k, n, m) = (f64::from(PROBES), f64::from(ENTRIES), BITS as f64);
    (1.0 - (-k * n / m).exp()).powf(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_describes_the_shipped_list() {
        const { assert!(ENTRIES >= 100_000) };
        assert_eq!((MIN_CHARS, MAX_CHARS), (8, 64));
        assert!(false_positive_rate() < 0.0011, "{}", false_positive_rate());
        assert!(DATA.len() < 512 * 1024, "{} bytes", DATA.len());
    }

    #[test]
    fn well_known_passwords_are_listed_in_any_case() {
        for pw in [
            "password1",
            "PASSWORD123",
            "iloveyou",
            "Qwertyuiop123",
            "1qaz2wsx3edc",
            "P@ssw0rd",
            "trustno1",
        ] {
            assert_eq!(lookup(pw), Lookup::Listed, "{pw}");
        }
        // Full-width letters are NFKC-normalised to ASCII before the lookup.
        assert_eq!(lookup("ｐａｓｓｗｏｒｄ１"), Lookup::Listed);
    }

    #[test]
    fn short_and_long_candidates() {
        assert_eq!(lookup("123456"), Lookup::TooShort);
        assert_eq!(lookup(""), Lookup::TooShort);
        assert_eq!(lookup(&"a".repeat(65)), Lookup::NotListed);
    }

    #[test]
    fn false_positives_are_rare() {
        let probes = 20_000;
        let hits = (0..probes)
            .filter(|i| lookup(&format!("kiosk-probe-{i:08x}-zq")) == Lookup::Listed)
            .count();
        // Expected ≈ 20; allow for chance.
        assert!(hits < 60, "{hits} false positives in {probes}");
    }
}

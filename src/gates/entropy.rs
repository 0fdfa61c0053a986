//! Unbiased choices from caller-supplied random bytes. The gates never draw randomness themselves:
//! the agent passes bytes from the OS CSPRNG, tests pass fixed bytes. Rejection sampling, never `x
//! % n` on a range that is not a multiple of `n` (modulo bias).

/// The supplied bytes ran out before an unbiased value could be drawn: the caller passes more (32
/// bytes are plenty for every use in `gates`; running out with them has probability below 2^-100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not enough entropy bytes were supplied")]
pub struct EntropyExhausted;

/// Reads random bytes 8 at a time.
#[derive(Debug)]
pub struct Entropy<'a> {
    bytes: &'a [u8],
}

impl<'a> Entropy<'a> {
    pub fn new(bytes: &'a [u8]) -> Entropy<'a> {
        Entropy { bytes }
    }

    fn next_u64(&mut self) -> Result<u64, EntropyExhausted> {
        let (head, rest) = self
            .bytes
            .split_first_chunk::<8>()
            .ok_or(EntropyExhausted)?;
        self.bytes = rest;
        Ok(u64::from_le_bytes(*head))
    }

    /// A uniformly distributed value in `0..n` (`n > 0`). Draws falling in the incomplete top range
    /// `[n * floor(2^64 / n), 2^64)` are rejected and redrawn.
    pub fn below(&mut self, n: u64) -> Result<u64, EntropyExhausted> {
        if n == 0 {
            return Err(EntropyExhausted);
        }
        // 2^64 mod n: the size of the incomplete top range (0 when n divides 2^64).
        let rem = (u64::MAX % n + 1) % n;
        loop {
            let x = self.next_u64()?;
            if rem == 0 || x < 0u64.wrapping_sub(rem) {
                return Ok(x % n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_in_range_and_use_eight_bytes_each() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut e = Entropy::new(&bytes);
        for _ in 0..32 {
            assert!(e.below(7).unwrap() < 7);
        }
        assert_eq!(e.below(7), Err(EntropyExhausted));
    }

    #[test]
    fn draws_in_the_biased_top_range_are_rejected() {
        // n = 10: 2^64 mod 10 = 6, so the 6 values from u64::MAX - 5 up are rejected.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        bytes.extend_from_slice(&(u64::MAX - 5).to_le_bytes());
        bytes.extend_from_slice(&(u64::MAX - 6).to_le_bytes());
        let mut e = Entropy::new(&bytes);
        assert_eq!(e.below(10).unwrap(), (u64::MAX - 6) % 10);
        assert_eq!(e.below(10), Err(EntropyExhausted));
    }

    #[test]
    fn powers_of_two_and_one_never_reject() {
        let bytes = u64::MAX.to_le_bytes();
        assert_eq!(
            Entropy::new(&bytes).below(1 << 32).unwrap(),
            u64::MAX % (1 << 32)
        );
        assert_eq!(Entropy::new(&bytes).below(1).unwrap(), 0);
        assert_eq!(Entropy::new(&[]).below(5), Err(EntropyExhausted));
        assert_eq!(Entropy::new(&bytes).below(0), Err(EntropyExhausted));
    }
}

//! One-time codes sent by email, SMS or voice: generating a code from caller-supplied random bytes,
//! the life of one issued code (valid 5 min, single use, 3 wrong tries kill it) and a user's send
//! history (30 s resend cool-down, 5 sends per hour). Pure: `now` and entropy are arguments;
//! delivering the code and keeping the history between sessions is the agent's job.

use serde::{Deserialize, Serialize};

use super::entropy::{Entropy, EntropyExhausted};
use super::{Millis, secs_to_millis};
use crate::config::kiosk::CodesSection;
use crate::secret::Secret;

pub const MIN_DIGITS: u32 = 6;
pub const MAX_DIGITS: u32 = 10;
/// The window of the per-user send cap (`max_sends_per_hour`).
pub const SEND_WINDOW_MS: Millis = 3_600_000;

/// Why no code could be made. Neither happens with a validated configuration and 32 bytes of
/// entropy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// `gates.codes.digits` is outside 6–10: no code is issued.
    #[error("a one-time code has {MIN_DIGITS} to {MAX_DIGITS} digits, not {0}")]
    BadDigits(u32),
    /// The caller passed too few random bytes: no code is issued; retry with more.
    #[error(transparent)]
    Entropy(#[from] EntropyExhausted),
}

/// `digits` decimal digits, uniformly distributed (leading zeros kept), drawn from `entropy` by
/// rejection sampling — never `random % 10^digits` on a range that is not a multiple of it.
pub fn generate_code(digits: u32, entropy: &[u8]) -> Result<Secret, CodeError> {
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
        return Err(CodeError::BadDigits(digits));
    }
    let value = Entropy::new(entropy).below(10u64.pow(digits))?;
    Ok(Secret::new(format!(
        "{value:0width$}",
        width = digits as usize
    )))
}

/// The result of checking a typed code. Everything but `Accepted` is a failed verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeVerdict {
    /// Correct: the code is now used up.
    Accepted,
    /// Wrong; `attempts_left == 0` means this try killed the code.
    Wrong { attempts_left: u32 },
    /// Older than the validity period: a new code must be sent.
    Expired,
    /// Killed by earlier wrong tries: a new code must be sent.
    Dead,
    /// Already accepted once: a code is single-use.
    AlreadyUsed,
}

impl CodeVerdict {
    /// Message code for the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeVerdict::Accepted => "code.accepted",
            CodeVerdict::Wrong { attempts_left: 0 } => "code.dead",
            CodeVerdict::Wrong { .. } => "code.wrong",
            CodeVerdict::Expired => "code.expired",
            CodeVerdict::Dead => "code.dead",
            CodeVerdict::AlreadyUsed => "code.used",
        }
    }
}

/// Why a (re)send is refused; `retry_at` is when it would be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefused {
    CoolingDown { retry_at: Millis },
    HourlyLimit { retry_at: Millis },
}

impl SendRefused {
    pub fn retry_at(self) -> Millis {
        match self {
            SendRefused::CoolingDown { retry_at } | SendRefused::HourlyLimit { retry_at } => {
                retry_at
            }
        }
    }

    /// Message code for the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            SendRefused::CoolingDown { .. } => "code.resend_cooldown",
            SendRefused::HourlyLimit { .. } => "code.send_limit",
        }
    }
}

/// Why [`CodeState::issue`] or [`CodeState::resend`] produced no code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// The user's send history forbids a send now: nothing is sent, the history is unchanged.
    #[error("send refused until {}", .0.retry_at())]
    Refused(SendRefused),
    /// See [`CodeError`]; the history is unchanged.
    #[error(transparent)]
    Code(#[from] CodeError),
}

/// When codes were sent to one user, for the resend cool-down and the hourly cap. Serialisable so
/// the agent can keep it per user across sessions (and kiosks, if it stores it in the directory).
/// Only sends inside the window are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendHistory {
    sends: Vec<Millis>,
}

impl SendHistory {
    pub fn new() -> SendHistory {
        SendHistory::default()
    }

    /// Send times still inside the window, oldest first.
    pub fn sends(&self) -> &[Millis] {
        &self.sends
    }

    /// Whether a code may be sent at `now`.
    pub fn check(&self, now: Millis, cfg: &CodesSection) -> Result<(), SendRefused> {
        if let Some(&last) = self.sends.last() {
            let retry_at = last.saturating_add(secs_to_millis(cfg.resend_cooldown_secs));
            if now < retry_at {
                return Err(SendRefused::CoolingDown { retry_at });
            }
        }
        let max = cfg.max_sends_per_hour as usize;
        let recent: Vec<Millis> = self.recent(now).collect();
        if recent.len() >= max {
            // The send that must leave the window before another fits.
            let retry_at = match recent.len().checked_sub(max).and_then(|i| recent.get(i)) {
                Some(&oldest) => oldest.saturating_add(SEND_WINDOW_MS),
                None => now.saturating_add(SEND_WINDOW_MS),
            };
            return Err(SendRefused::HourlyLimit { retry_at });
        }
        Ok(())
    }

    /// Checks, and on success records a send at `now`.
    pub fn admit(&mut self, now: Millis, cfg: &CodesSection) -> Result<(), SendRefused> {
        self.check(now, cfg)?;
        self.sends
            .retain(|&t| now.saturating_sub(t) < SEND_WINDOW_MS);
        self.sends.push(now);
        self.sends.sort_unstable();
        Ok(())
    }

    /// Sends within the last hour (a send stamped after `now`, from a clock that stepped back,
    /// counts).
    fn recent(&self, now: Millis) -> impl Iterator<Item = Millis> + '_ {
        self.sends
            .iter()
            .copied()
            .filter(move |&t| now.saturating_sub(t) < SEND_WINDOW_MS)
    }
}

/// One issued code and what happened to it. Held by the agent for the session (never stored: it
/// carries the code); dropping it zeroizes the code.
#[derive(Debug, Clone)]
pub struct CodeState {
    code: Secret,
    issued_at: Millis,
    wrong_attempts: u32,
    sends: u32,
    used: bool,
}

impl CodeState {
    /// Makes a code if the user's `history` allows a send at `now`, recording the send. Deliver
    /// [`CodeState::code`] to the user.
    pub fn issue(
        history: &mut SendHistory,
        cfg: &CodesSection,
        entropy: &[u8],
        now: Millis,
    ) -> Result<CodeState, IssueError> {
        history.check(now, cfg).map_err(IssueError::Refused)?;
        let code = generate_code(cfg.digits, entropy)?;
        history.admit(now, cfg).map_err(IssueError::Refused)?;
        Ok(CodeState {
            code,
            issued_at: now,
            wrong_attempts: 0,
            sends: 1,
            used: false,
        })
    }

    /// A resend ("I didn't get it"): a fresh code replaces the old one (which stops working), with
    /// a fresh validity period and tries. The cool-down and hourly cap bound how many tries that
    /// buys.
    pub fn resend(
        &mut self,
        history: &mut SendHistory,
        cfg: &CodesSection,
        entropy: &[u8],
        now: Millis,
    ) -> Result<(), IssueError> {
        history.check(now, cfg).map_err(IssueError::Refused)?;
        let code = generate_code(cfg.digits, entropy)?;
        history.admit(now, cfg).map_err(IssueError::Refused)?;
        self.code = code;
        self.issued_at = now;
        self.wrong_attempts = 0;
        self.used = false;
        self.sends = self.sends.saturating_add(1);
        Ok(())
    }

    /// The code to deliver. Never log it.
    pub fn code(&self) -> &Secret {
        &self.code
    }

    pub fn issued_at(&self) -> Millis {
        self.issued_at
    }

    pub fn expires_at(&self, cfg: &CodesSection) -> Millis {
        self.issued_at
            .saturating_add(secs_to_millis(cfg.validity_secs))
    }

    pub fn wrong_attempts(&self) -> u32 {
        self.wrong_attempts
    }

    /// How many times a code was sent in this state (1 + resends).
    pub fn sends(&self) -> u32 {
        self.sends
    }

    pub fn is_used(&self) -> bool {
        self.used
    }

    /// Checks what the user typed. Spaces and `-` are ignored ("123 456" as an SMS shows it); the
    /// comparison takes the same time wherever the digits differ.
    pub fn verify(&mut self, typed: &Secret, now: Millis, cfg: &CodesSection) -> CodeVerdict {
        let max_attempts = cfg.max_attempts.max(1);
        if self.used {
            return CodeVerdict::AlreadyUsed;
        }
        if self.wrong_attempts >= max_attempts {
            return CodeVerdict::Dead;
        }
        if now >= self.expires_at(cfg) {
            return CodeVerdict::Expired;
        }
        let typed = Secret::new(
            typed
                .expose()
                .chars()
                .filter(|c| *c != ' ' && *c != '-')
                .collect::<String>(),
        );
        if typed.ct_eq(&self.code) {
            self.used = true;
            CodeVerdict::Accepted
        } else {
            self.wrong_attempts += 1;
            CodeVerdict::Wrong {
                attempts_left: max_attempts - self.wrong_attempts,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = 1_700_000_000_000;
    const SEC: Millis = 1000;

    fn cfg() -> CodesSection {
        CodesSection::default()
    }

    fn issued(code: &str) -> CodeState {
        CodeState {
            code: Secret::new(code),
            issued_at: T0,
            wrong_attempts: 0,
            sends: 1,
            used: false,
        }
    }

    #[test]
    fn codes_have_the_configured_digits_and_keep_leading_zeros() {
        let zeros = [0u8; 8];
        assert_eq!(generate_code(6, &zeros).unwrap().expose(), "000000");
        for digits in MIN_DIGITS..=MAX_DIGITS {
            let code = generate_code(digits, &[0xa5; 32]).unwrap();
            assert_eq!(code.expose().len(), digits as usize);
            assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(generate_code(5, &[0; 32]), Err(CodeError::BadDigits(5)));
        assert_eq!(generate_code(11, &[0; 32]), Err(CodeError::BadDigits(11)));
        assert_eq!(
            generate_code(6, &[0; 7]),
            Err(CodeError::Entropy(EntropyExhausted))
        );
    }

    #[test]
    fn generation_rejects_the_biased_top_range() {
        // 2^64 mod 10^6 = 551616: u64::MAX is in the rejected range, the next draw is used.
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(&1_234_567u64.to_le_bytes());
        assert_eq!(generate_code(6, &bytes).unwrap().expose(), "234567");
    }

    #[test]
    fn digits_are_uniform_enough() {
        // 10,000 codes from a fixed byte stream (splitmix64: tests pass entropy in): each digit
        // value should appear about 6,000 times across the 60,000 digits.
        let mut state: u64 = 42;
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            let mut bytes = [0u8; 32];
            for chunk in bytes.chunks_mut(8) {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
            }
            for b in generate_code(6, &bytes).unwrap().expose().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        assert!(
            counts.iter().all(|&c| (5_600..6_400).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn right_code_is_accepted_once() {
        let mut state = issued("123456");
        assert_eq!(
            state.verify(&Secret::new("123 456"), T0 + SEC, &cfg()),
            CodeVerdict::Accepted
        );
        assert!(state.is_used());
        assert_eq!(
            state.verify(&Secret::new("123456"), T0 + 2 * SEC, &cfg()),
            CodeVerdict::AlreadyUsed
        );
    }

    #[test]
    fn three_wrong_tries_kill_the_code() {
        let mut state = issued("123456");
        let wrong = Secret::new("654321");
        assert_eq!(
            state.verify(&wrong, T0, &cfg()),
            CodeVerdict::Wrong { attempts_left: 2 }
        );
        assert_eq!(
            state.verify(&Secret::new(""), T0, &cfg()),
            CodeVerdict::Wrong { attempts_left: 1 }
        );
        assert_eq!(
            state.verify(&wrong, T0, &cfg()),
            CodeVerdict::Wrong { attempts_left: 0 }
        );
        assert_eq!(
            CodeVerdict::Wrong { attempts_left: 0 }.as_str(),
            "code.dead"
        );
        // Even the right code is refused now.
        assert_eq!(
            state.verify(&Secret::new("123456"), T0, &cfg()),
            CodeVerdict::Dead
        );
        assert_eq!(state.wrong_attempts(), 3);
    }

    #[test]
    fn code_expires_after_the_validity_period() {
        let mut state = issued("123456");
        let right = Secret::new("123456");
        assert_eq!(state.expires_at(&cfg()), T0 + 300 * SEC);
        assert_eq!(
            state.verify(&right, T0 + 300 * SEC, &cfg()),
            CodeVerdict::Expired
        );
        assert_eq!(
            state.verify(&right, T0 + 300 * SEC - 1, &cfg()),
            CodeVerdict::Accepted
        );
    }

    #[test]
    fn issue_records_a_send_and_resend_waits_for_the_cool_down() {
        let cfg = cfg();
        let mut history = SendHistory::new();
        let mut state = CodeState::issue(&mut history, &cfg, &[1; 32], T0).unwrap();
        assert_eq!(history.sends(), &[T0]);
        let first = state.code().clone();

        let early = state.resend(&mut history, &cfg, &[2; 32], T0 + 29 * SEC);
        assert_eq!(
            early,
            Err(IssueError::Refused(SendRefused::CoolingDown {
                retry_at: T0 + 30 * SEC
            }))
        );
        assert!(
            state.code().ct_eq(&first),
            "a refused resend keeps the code"
        );

        state.verify(&Secret::new("x"), T0 + SEC, &cfg);
        state
            .resend(&mut history, &cfg, &[2; 32], T0 + 30 * SEC)
            .unwrap();
        assert!(!state.code().ct_eq(&first), "a resend is a fresh code");
        assert_eq!(
            (state.sends(), state.wrong_attempts(), state.issued_at()),
            (2, 0, T0 + 30 * SEC)
        );
        assert_eq!(
            state.verify(&first, T0 + 31 * SEC, &cfg),
            CodeVerdict::Wrong { attempts_left: 2 }
        );
    }

    #[test]
    fn at_most_five_sends_per_hour() {
        let cfg = cfg();
        let mut history = SendHistory::new();
        for i in 0..5 {
            history.admit(T0 + i * 60 * SEC, &cfg).unwrap();
        }
        let refused = history.check(T0 + 10 * 60 * SEC, &cfg);
        assert_eq!(
            refused,
            Err(SendRefused::HourlyLimit {
                retry_at: T0 + SEND_WINDOW_MS
            })
        );
        assert_eq!(refused.unwrap_err().as_str(), "code.send_limit");
        assert!(CodeState::issue(&mut history, &cfg, &[0; 32], T0 + SEND_WINDOW_MS - 1).is_err());
        // The first send leaves the window: one more fits, and old sends are forgotten.
        history.admit(T0 + SEND_WINDOW_MS, &cfg).unwrap();
        assert_eq!(history.sends().len(), 5);
        assert_eq!(
            history.check(T0 + SEND_WINDOW_MS + 30 * SEC, &cfg),
            Err(SendRefused::HourlyLimit {
                retry_at: T0 + 60 * SEC + SEND_WINDOW_MS
            })
        );
    }

    #[test]
    fn send_history_round_trips_through_json() {
        let mut history = SendHistory::new();
        history.admit(T0, &cfg()).unwrap();
        let json = serde_json::to_string(&history).unwrap();
        assert_eq!(json, format!("{{\"sends\":[{T0}]}}"));
        assert_eq!(serde_json::from_str::<SendHistory>(&json).unwrap(), history);
    }

    #[test]
    fn the_code_never_prints() {
        let state = issued("123456");
        assert!(!format!("{state:?}").contains("123456"));
    }
}

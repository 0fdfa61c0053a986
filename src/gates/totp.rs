//! Authenticator-app codes: RFC 6238 TOTP over RFC 4226 HOTP (HMAC-SHA-1 by default; SHA-256 and
//! SHA-512 too), with the configured digits, step and clock-skew window; replay refusal (the caller
//! stores the last accepted time step); and the `otpauth://` enrolment URI shown as a QR code.
//! Pure: `now` and the entropy for a new secret are arguments. Secrets are base32 text in a
//! [`Secret`].

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Millis, base32};
use crate::config::kiosk::TotpSection;
use crate::secret::Secret;

/// Upper bound on the steps checked either side of now, whatever the parameters say.
pub const MAX_SKEW_STEPS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    #[default]
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The name in an `otpauth://` URI.
    pub fn uri_name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    /// Secret length for new enrolments: the hash's output size (RFC 4226 asks for at least 160
    /// bits).
    pub fn key_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }
}

/// How codes are computed and checked. From [`TotpSection`]; the algorithm is SHA-1 unless a caller
/// chooses otherwise (most authenticator apps only do SHA-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpParams {
    pub algorithm: Algorithm,
    /// 6–9 (the configuration allows 6–8).
    pub digits: u32,
    pub step_secs: u64,
    /// Steps accepted either side of the current one (clock drift of the phone).
    pub skew_steps: u32,
}

impl TotpParams {
    pub fn from_config(cfg: &TotpSection) -> TotpParams {
        TotpParams {
            algorithm: Algorithm::Sha1,
            digits: cfg.digits,
            step_secs: cfg.step_secs,
            skew_steps: cfg.skew_steps,
        }
    }

    pub fn with_algorithm(self, algorithm: Algorithm) -> TotpParams {
        TotpParams { algorithm, ..self }
    }

    /// The RFC 6238 time step counter at `now` (T0 = 0).
    pub fn time_step(&self, now: Millis) -> u64 {
        (now / 1000).checked_div(self.step_secs).unwrap_or(0)
    }
}

impl Default for TotpParams {
    fn default() -> TotpParams {
        TotpParams::from_config(&TotpSection::default())
    }
}

/// A stored secret or parameter is unusable. Not a failed gate: the user cannot use this method
/// until an admin fixes the configuration or the user enrols again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// The stored secret is not base32 or is empty: the user must enrol again.
    #[error("the TOTP secret is not valid base32")]
    InvalidSecret,
    /// Digits outside 6–9: a configuration error.
    #[error("TOTP codes have 6 to 9 digits, not {0}")]
    BadDigits(u32),
    /// A zero step: a configuration error.
    #[error("the TOTP step must be at least one second")]
    BadStep,
    /// Fewer random bytes than the secret length were passed to [`new_secret`].
    #[error("not enough entropy for a new TOTP secret")]
    NotEnoughEntropy,
}

/// The outcome of checking a typed code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpVerdict {
    /// Correct and newer than the last accepted code: store `step` as the new last accepted step.
    Accepted {
        step: u64,
    },
    /// Correct for a step at or before the last accepted one: refused (someone may have watched
    /// it).
    Replayed,
    Rejected,
}

impl TotpVerdict {
    /// Message code for the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            TotpVerdict::Accepted { .. } => "totp.accepted",
            TotpVerdict::Replayed => "totp.replayed",
            TotpVerdict::Rejected => "totp.wrong",
        }
    }
}

/// RFC 4226 HOTP value (dynamic truncation, then `digits` decimal digits).
pub fn hotp(key: &[u8], counter: u64, digits: u32, algorithm: Algorithm) -> Result<u32, TotpError> {
    if !(6..=9).contains(&digits) {
        return Err(TotpError::BadDigits(digits));
    }
    let mac = hmac(algorithm, key, &counter.to_be_bytes())?;
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let window: [u8; 4] = mac
        .get(offset..offset + 4)
        .and_then(|w| w.try_into().ok())
        .ok_or(TotpError::InvalidSecret)?;
    let binary = u32::from_be_bytes(window) & 0x7fff_ffff;
    Ok(binary % 10u32.pow(digits))
}

fn hmac(algorithm: Algorithm, key: &[u8], message: &[u8]) -> Result<Zeroizing<Vec<u8>>, TotpError> {
    fn run<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Result<Zeroizing<Vec<u8>>, TotpError> {
        let mut mac = <M as KeyInit>::new_from_slice(key).map_err(|_| TotpError::InvalidSecret)?;
        mac.update(message);
        Ok(Zeroizing::new(mac.finalize().into_bytes().to_vec()))
    }
    match algorithm {
        Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, message),
        Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, message),
        Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, message),
    }
}

fn decode_secret(secret: &Secret) -> Result<Zeroizing<Vec<u8>>, TotpError> {
    let key =
        Zeroizing::new(base32::decode(secret.expose()).map_err(|_| TotpError::InvalidSecret)?);
    if key.is_empty() {
        return Err(TotpError::InvalidSecret);
    }
    Ok(key)
}

fn format_code(value: u32, digits: u32) -> Secret {
    Secret::new(format!("{value:0width$}", width = digits as usize))
}

/// The code an authenticator shows at `now` (for enrolment confirmation and tests).
pub fn code_at(secret: &Secret, now: Millis, params: &TotpParams) -> Result<Secret, TotpError> {
    if params.step_secs == 0 {
        return Err(TotpError::BadStep);
    }
    let key = decode_secret(secret)?;
    let value = hotp(&key, params.time_step(now), params.digits, params.algorithm)?;
    Ok(format_code(value, params.digits))
}

/// Checks `typed` against the steps within `skew_steps` of `now`. `last_step` is the step of the
/// last accepted code for this user (None if never): a code for that step or earlier is
/// [`TotpVerdict::Replayed`]. Every candidate step is computed and compared in constant time,
/// whichever matches.
pub fn verify(
    secret: &Secret,
    typed: &Secret,
    now: Millis,
    last_step: Option<u64>,
    params: &TotpParams,
) -> Result<TotpVerdict, TotpError> {
    if params.step_secs == 0 {
        return Err(TotpError::BadStep);
    }
    let key = decode_secret(secret)?;
    let typed = Secret::new(
        typed
            .expose()
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>(),
    );
    let current = params.time_step(now);
    // Configuration allows 0–2; the cap keeps a bad value from turning a check into a long loop.
    let skew = u64::from(params.skew_steps.min(MAX_SKEW_STEPS));
    let mut newest_match: Option<u64> = None;
    for step in current.saturating_sub(skew)..=current.saturating_add(skew) {
        let expected = format_code(
            hotp(&key, step, params.digits, params.algorithm)?,
            params.digits,
        );
        if expected.ct_eq(&typed) {
            newest_match = Some(step);
        }
    }
    Ok(match (newest_match, last_step) {
        (None, _) => TotpVerdict::Rejected,
        (Some(step), Some(last)) if step <= last => TotpVerdict::Replayed,
        (Some(step), _) => TotpVerdict::Accepted { step },
    })
}

/// A new secret for enrolment: the first [`Algorithm::key_len`] bytes of `entropy`, base32-encoded.
pub fn new_secret(entropy: &[u8], algorithm: Algorithm) -> Result<Secret, TotpError> {
    let bytes = entropy
        .get(..algorithm.key_len())
        .ok_or(TotpError::NotEnoughEntropy)?;
    Ok(Secret::new(base32::encode(bytes)))
}

/// `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=…&digits=…&period=…` (Google's Key
/// URI format). Issuer and account are percent-encoded (RFC 3986: everything but unreserved
/// characters), so a `:` or space in either cannot break the label. It carries the secret, hence a
/// [`Secret`].
pub fn otpauth_uri(issuer: &str, account: &str, secret: &Secret, params: &TotpParams) -> Secret {
    let issuer = percent_encode(issuer);
    Secret::new(format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm={algorithm}\
         &digits={digits}&period={period}",
        account = percent_encode(account),
        secret = percent_encode(secret.expose()),
        algorithm = params.algorithm.uri_name(),
        digits = params.digits,
        period = params.step_secs,
    ))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    fn rfc_params(algorithm: Algorithm) -> TotpParams {
        TotpParams {
            algorithm,
            digits: 8,
            step_secs: 30,
            skew_steps: 0,
        }
    }

    fn secret(seed: &[u8]) -> Secret {
        Secret::new(base32::encode(seed))
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, value) in expected.into_iter().enumerate() {
            assert_eq!(
                hotp(SEED_SHA1, counter as u64, 6, Algorithm::Sha1).unwrap(),
                value
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b_vectors() {
        let table: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (secs, sha1, sha256, sha512) in table {
            let now = secs * 1000;
            for (algorithm, seed, code) in [
                (Algorithm::Sha1, SEED_SHA1, sha1),
                (Algorithm::Sha256, SEED_SHA256, sha256),
                (Algorithm::Sha512, SEED_SHA512, sha512),
            ] {
                let params = rfc_params(algorithm);
                assert_eq!(
                    code_at(&secret(seed), now, &params).unwrap().expose(),
                    code,
                    "{algorithm:?} at {secs}"
                );
                let verdict =
                    verify(&secret(seed), &Secret::new(code), now, None, &params).unwrap();
                assert_eq!(verdict, TotpVerdict::Accepted { step: secs / 30 });
            }
        }
    }

    #[test]
    fn skew_window_accepts_neighbouring_steps_only() {
        let params = TotpParams::default();
        let s = secret(SEED_SHA1);
        let now = 1_700_000_000_000;
        let step = params.time_step(now);
        for (offset, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let at = (now as i64 + offset * 30_000) as u64;
            let code = code_at(&s, at, &params).unwrap();
            let verdict = verify(&s, &code, now, None, &params).unwrap();
            let expected = if accepted {
                TotpVerdict::Accepted {
                    step: (step as i64 + offset) as u64,
                }
            } else {
                TotpVerdict::Rejected
            };
            assert_eq!(verdict, expected, "offset {offset}");
        }
        assert_eq!(
            verify(&s, &Secret::new("000000x"), now, None, &params).unwrap(),
            TotpVerdict::Rejected
        );
    }

    #[test]
    fn a_code_is_accepted_once_then_replayed() {
        let params = TotpParams::default();
        let s = secret(SEED_SHA1);
        let now = 1_700_000_000_000;
        let code = code_at(&s, now, &params).unwrap();
        let TotpVerdict::Accepted { step } = verify(&s, &code, now, None, &params).unwrap() else {
            panic!("fresh code refused");
        };
        assert_eq!(
            verify(&s, &code, now + 5_000, Some(step), &params).unwrap(),
            TotpVerdict::Replayed
        );
        // An older code still inside the skew window is a replay too, once a newer one was used.
        let older = code_at(&s, now - 30_000, &params).unwrap();
        assert_eq!(
            verify(&s, &older, now, Some(step), &params).unwrap(),
            TotpVerdict::Replayed
        );
        // The next step's code is fine.
        let next = code_at(&s, now + 30_000, &params).unwrap();
        assert_eq!(
            verify(&s, &next, now + 30_000, Some(step), &params).unwrap(),
            TotpVerdict::Accepted { step: step + 1 }
        );
    }

    #[test]
    fn unusable_secrets_and_parameters_are_errors() {
        let params = TotpParams::default();
        let code = Secret::new("123456");
        assert_eq!(
            verify(&Secret::new("not base32!"), &code, 0, None, &params),
            Err(TotpError::InvalidSecret)
        );
        assert_eq!(
            verify(&Secret::new(""), &code, 0, None, &params),
            Err(TotpError::InvalidSecret)
        );
        let zero_step = TotpParams {
            step_secs: 0,
            ..params
        };
        assert_eq!(
            verify(&secret(SEED_SHA1), &code, 0, None, &zero_step),
            Err(TotpError::BadStep)
        );
        assert_eq!(
            hotp(SEED_SHA1, 0, 5, Algorithm::Sha1),
            Err(TotpError::BadDigits(5))
        );
    }

    #[test]
    fn new_secrets_have_the_algorithms_key_length() {
        let entropy = [7u8; 64];
        assert_eq!(
            new_secret(&entropy, Algorithm::Sha1)
                .unwrap()
                .expose()
                .len(),
            32
        );
        assert_eq!(
            new_secret(&entropy, Algorithm::Sha256)
                .unwrap()
                .expose()
                .len(),
            52
        );
        assert_eq!(
            new_secret(&entropy, Algorithm::Sha512)
                .unwrap()
                .expose()
                .len(),
            103
        );
        assert_eq!(
            new_secret(&entropy[..19], Algorithm::Sha1),
            Err(TotpError::NotEnoughEntropy)
        );
    }

    #[test]
    fn otpauth_uri_percent_encodes_label_and_parameters() {
        let params = TotpParams::default();
        let uri = otpauth_uri(
            "ACME Corp: HQ",
            "anna.müller@example.org",
            &secret(b"hello"),
            &params,
        );
        assert_eq!(
            uri.expose(),
            "otpauth://totp/ACME%20Corp%3A%20HQ:anna.m%C3%BCller%40example.org?secret=NBSWY3DP\
             &issuer=ACME%20Corp%3A%20HQ&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(format!("{uri}"), "***");
    }
}

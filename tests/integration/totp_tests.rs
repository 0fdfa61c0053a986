//! Interoperability of `gates::totp` with a real, independent TOTP implementation: Debian's
//! `oathtool` (OATH Toolkit). Codes it prints must be accepted by our `verify`, for SHA-1/256/512,
//! at fixed times (`--now @EPOCH`, deterministic) and at the real current time; secrets we generate
//! must work in it.

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use sspr_kiosk::gates::Millis;
use sspr_kiosk::gates::totp::{self, Algorithm, TotpParams, TotpVerdict};
use sspr_kiosk::secret::Secret;

use crate::harness::require_program;

fn oathtool() -> PathBuf {
    require_program("oathtool", "oathtool")
}

/// Runs `oathtool --totp[=ALG] -b SECRET -d DIGITS [--now @SECS]` and returns the code it prints.
fn oathtool_code(
    secret: &Secret,
    algorithm: Algorithm,
    digits: u32,
    at_secs: Option<u64>,
) -> Secret {
    let mode = match algorithm {
        Algorithm::Sha1 => "--totp",
        Algorithm::Sha256 => "--totp=sha256",
        Algorithm::Sha512 => "--totp=sha512",
    };
    let mut cmd = Command::new(oathtool());
    cmd.args([mode, "-b", "-d", &digits.to_string()]);
    if let Some(secs) = at_secs {
        cmd.args(["--now", &format!("@{secs}")]);
    }
    cmd.arg(secret.expose());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "oathtool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(
        code.len(),
        digits as usize,
        "unexpected oathtool output {code:?}"
    );
    Secret::new(code)
}

fn new_secret(algorithm: Algorithm, seed: u8) -> Secret {
    let entropy: Vec<u8> = (0..64u8)
        .map(|i| i.wrapping_mul(31).wrapping_add(seed))
        .collect();
    totp::new_secret(&entropy, algorithm).unwrap()
}

fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as Millis
}

#[test]
fn totp_codes_from_oathtool_at_fixed_times_are_accepted() {
    let times: [u64; 4] = [59, 1_111_111_109, 1_700_000_000, 2_000_000_000];
    for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        for digits in [6, 8] {
            let params = TotpParams {
                algorithm,
                digits,
                ..TotpParams::default()
            };
            let secret = new_secret(algorithm, digits as u8);
            for secs in times {
                let code = oathtool_code(&secret, algorithm, digits, Some(secs));
                let now = secs * 1000 + 500;
                assert_eq!(
                    totp::code_at(&secret, now, &params).unwrap().expose(),
                    code.expose(),
                    "{algorithm:?}/{digits} at {secs}"
                );
                assert_eq!(
                    totp::verify(&secret, &code, now, None, &params).unwrap(),
                    TotpVerdict::Accepted { step: secs / 30 },
                    "{algorithm:?}/{digits} at {secs}"
                );
            }
        }
    }
}

#[test]
fn totp_code_from_oathtool_now_is_accepted_once() {
    for algorithm in [Algorithm::Sha1, Algorithm::Sha256] {
        let params = TotpParams::default().with_algorithm(algorithm);
        let secret = new_secret(algorithm, 7);
        let code = oathtool_code(&secret, algorithm, 6, None);
        // ±1 step of skew covers a step boundary between oathtool's clock read and ours.
        let TotpVerdict::Accepted { step } =
            totp::verify(&secret, &code, now_millis(), None, &params).unwrap()
        else {
            panic!("{algorithm:?}: oathtool's current code was refused");
        };
        assert_eq!(
            totp::verify(&secret, &code, now_millis(), Some(step), &params).unwrap(),
            TotpVerdict::Replayed
        );
    }
}

#[test]
fn totp_wrong_code_from_another_secret_is_rejected() {
    let params = TotpParams::default();
    let ours = new_secret(Algorithm::Sha1, 1);
    let other = new_secret(Algorithm::Sha1, 2);
    let secs = 1_700_000_000;
    let code = oathtool_code(&other, Algorithm::Sha1, 6, Some(secs));
    assert_eq!(
        totp::verify(&ours, &code, secs * 1000, None, &params).unwrap(),
        TotpVerdict::Rejected
    );
}

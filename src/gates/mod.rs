//! PURE checks the flow core relies on: who may use the kiosk, security questions, one-time codes,
//! TOTP, SSPR lockout and kiosk throttling, and the new-password policy. No I/O, no clock, no
//! randomness source: time ([`Millis`]) and entropy (bytes from the agent's CSPRNG) are arguments.

pub mod base32;
pub mod codes;
pub mod common_passwords;
pub mod eligibility;
pub mod entropy;
pub mod lockout;
pub mod password_policy;
pub mod qa;
pub mod totp;

/// A point in time: milliseconds since the Unix epoch, supplied by the caller (the agent owns the
/// clock).
pub type Millis = u64;

/// Seconds from configuration as milliseconds, saturating instead of overflowing.
pub(crate) fn secs_to_millis(secs: u64) -> Millis {
    secs.saturating_mul(1000)
}

#[cfg(test)]
mod purity {
    //! STYLE.md "What may import what", checked mechanically: the gates import only std, serde,
    //! thiserror, small pure crates and the crate's own plain types, and never read a clock or draw
    //! randomness.

    const SOURCES: &[(&str, &str)] = &[
        ("base32.rs", include_str!("base32.rs")),
        ("codes.rs", include_str!("codes.rs")),
        ("common_passwords.rs", include_str!("common_passwords.rs")),
        ("eligibility.rs", include_str!("eligibility.rs")),
        ("entropy.rs", include_str!("entropy.rs")),
        ("lockout.rs", include_str!("lockout.rs")),
        ("password_policy.rs", include_str!("password_policy.rs")),
        ("qa.rs", include_str!("qa.rs")),
        ("totp.rs", include_str!("totp.rs")),
    ];

    const ALLOWED_ROOTS: &[&str] = &[
        "std",
        "core",
        "serde",
        "thiserror",
        "zeroize",
        "argon2",
        "hmac",
        "sha1",
        "sha2",
        "unicode_normalization",
        "zxcvbn",
        "super",
    ];
    const ALLOWED_CRATE_MODULES: &[&str] = &["secret", "config", "directory", "gates"];
    const FORBIDDEN: &[&str] = &[
        "SystemTime::now",
        "Instant::now",
        "thread_rng",
        "OsRng",
        "getrandom",
        "std::fs",
        "std::net",
        "std::process",
        "std::thread",
        "tokio",
        "rusqlite",
        "ldap3",
        "slint",
        "serialport",
    ];

    #[test]
    fn gates_use_only_pure_dependencies() {
        for (file, source) in SOURCES {
            for line in source.lines().map(str::trim) {
                let Some(path) = line
                    .strip_prefix("use ")
                    .or_else(|| line.strip_prefix("pub use "))
                else {
                    continue;
                };
                let mut segments = path.split("::");
                let root = segments.next().unwrap_or_default();
                if root == "self" || root.starts_with(char::is_uppercase) {
                    // A local enum's variants (`use Status::Met;` in a test).
                    continue;
                }
                if root == "crate" {
                    let module = segments.next().unwrap_or_default();
                    assert!(ALLOWED_CRATE_MODULES.contains(&module), "{file}: `{line}`");
                } else {
                    assert!(
                        ALLOWED_ROOTS.contains(&root),
                        "{file}: `{line}` is not a pure dependency"
                    );
                }
            }
            for token in FORBIDDEN {
                assert!(!source.contains(token), "{file} mentions `{token}`");
            }
        }
    }
}

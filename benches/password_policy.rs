//! Password-policy benchmark (not a test): mean and p99 time of one common-list lookup and of one
//! full `password_policy::check` (all rules, zxcvbn included), over a mix of listed, unlisted,
//! short and long candidates. The target is "well under a millisecond" for the lookup.
//!
//! Run: `cargo bench --bench password_policy`. `SSPR_BENCH_ITERATIONS` sets the rounds over the
//! candidate set (default 200).

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark binary: fail loudly, print results"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use sspr_kiosk::config::kiosk::PasswordSection;
use sspr_kiosk::gates::common_passwords::{self, Lookup};
use sspr_kiosk::gates::password_policy::{self, UserWords};
use sspr_kiosk::gates::qa;
use sspr_kiosk::secret::Secret;

const CANDIDATES: &[&str] = &[
    // listed
    "password123",
    "Qwertyuiop123",
    "1qaz2wsx3edc",
    "iloveyou2",
    "P@ssw0rd",
    // not listed
    "Tangerine-Orbit-Velvet-42",
    "correct horse battery staple",
    "Xylophone-Lena-93!quartz",
    "kiosk-probe-0000beef-zq",
    "Schöne Grüße aus Köln 2026",
    // short, long
    "abc",
    "Tangerine-Orbit-Velvet-42-Tangerine-Orbit-Velvet-42-Tangerine-Orbit-Velvet-42-x",
];

fn summarise(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let total: Duration = samples.iter().sum();
    let mean = total / samples.len() as u32;
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    let max = samples[samples.len() - 1];
    println!(
        "{name:<28} n={:<7} mean={:>9.2} µs  p99={:>9.2} µs  max={:>9.2} µs",
        samples.len(),
        mean.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        max.as_secs_f64() * 1e6,
    );
}

fn main() {
    let rounds: usize = std::env::var("SSPR_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    println!(
        "common list: {} entries, {} bytes embedded, false-positive rate {:.4}%",
        common_passwords::ENTRIES,
        include_bytes!("../src/gates/data/common-passwords.bloom").len(),
        common_passwords::false_positive_rate() * 100.0
    );

    // Warm-up (page in the embedded data, zxcvbn's lazily built dictionaries).
    let cfg = PasswordSection::default();
    let user = UserWords::new("anna.mueller", &["Anna-Lena Müller"]);
    for pw in CANDIDATES {
        black_box(common_passwords::lookup(pw));
        let secret = Secret::new(*pw);
        black_box(password_policy::check(&secret, &secret, &user, &cfg));
    }

    let mut lookups = Vec::with_capacity(rounds * CANDIDATES.len());
    let mut listed = 0usize;
    for _ in 0..rounds {
        for pw in CANDIDATES {
            let start = Instant::now();
            let result = black_box(common_passwords::lookup(black_box(pw)));
            lookups.push(start.elapsed());
            listed += usize::from(result == Lookup::Listed);
        }
    }
    assert_eq!(
        listed,
        rounds * 5,
        "the five listed candidates must be found"
    );
    summarise("common-list lookup", lookups);

    let mut checks = Vec::with_capacity(rounds * CANDIDATES.len());
    let mut per_candidate = vec![Duration::ZERO; CANDIDATES.len()];
    for _ in 0..rounds {
        for (i, pw) in CANDIDATES.iter().enumerate() {
            let secret = Secret::new(*pw);
            let start = Instant::now();
            black_box(password_policy::check(
                black_box(&secret),
                &secret,
                &user,
                &cfg,
            ));
            let elapsed = start.elapsed();
            checks.push(elapsed);
            per_candidate[i] += elapsed;
        }
    }
    summarise("full check (zxcvbn incl.)", checks);
    // zxcvbn dominates and grows with length (it looks at the first 100 characters).
    for (pw, total) in CANDIDATES.iter().zip(per_candidate) {
        let mean = total.as_secs_f64() * 1e6 / rounds as f64;
        println!("  {:>3} chars  mean={mean:>9.2} µs", pw.chars().count());
    }

    // For scale: one security-question answer hashed (or verified) with the production Argon2id
    // parameters — the other per-answer cost a session pays.
    let answer = Secret::new("Elm Street");
    let salt = [7u8; qa::SALT_LEN];
    let hashes = (0..10)
        .map(|_| {
            let start = Instant::now();
            black_box(qa::hash_answer(&answer, &salt, &qa::HashParams::RECOMMENDED).unwrap());
            start.elapsed()
        })
        .collect();
    summarise("qa answer hash (argon2id)", hashes);
}

//! The one integration-test binary: real servers from `harness`, the real `sspr-kiosk` binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test code: a failed expectation should stop the test loudly, and the harness reports \
              server start-up times on stderr"
)]

mod harness;

mod agent_tests;
mod cli_tests;
mod config_tests;
mod directory_cli_tests;
mod directory_samba_tests;
mod directory_slapd_tests;
mod directory_support;
mod email_support;
mod email_tests;
mod logging_tests;
mod outbox_cli_tests;
mod outbox_outage_tests;
mod purity_tests;
pub mod reader_tests;
mod samba_harness_tests;
mod slapd_harness_tests;
mod smtp_harness_tests;
mod totp_tests;

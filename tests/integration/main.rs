//! The one integration-test binary: real servers from `harness`, the real `sspr-kiosk` binary.

mod harness;

mod samba_harness_tests;
mod slapd_harness_tests;
mod smtp_harness_tests;

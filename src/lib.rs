//! sspr-kiosk: a walk-up self-service password reset and account unlock appliance.
//!
//! # Layout
//!
//! - [`cli`] — the command line (definitions only; `main.rs` wires it).
//! - [`config`] — `kiosk.toml` and board files: strict parsing with located problems, validation into
//!   [`config::Settings`].
//! - [`secret`] — [`secret::Secret`] (never prints, zeroized on drop) and where secrets come from.
//! - [`logging`] — the journal under systemd, stderr otherwise.
//!
//! Planned (see `docs/architecture.md`): `flow` and `gates` (the pure core), `protocol`, `agent`,
//! `directory`, `outbox`, `delivery`, `devices`, `admin`, `ui`.

pub mod agent;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod directory;
pub mod drive;
pub mod flow;
pub mod gates;
pub mod logging;
pub mod mask;
pub mod protocol;
pub mod secret;

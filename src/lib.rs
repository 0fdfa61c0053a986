//! sspr-kiosk: a walk-up self-service password reset and account unlock appliance.
//!
//! # Layout
//!
//! - [`flow`] and [`gates`] — the PURE core: the session state machine and the checks it relies on.
//!   No I/O, no clock, no randomness of their own.
//! - [`protocol`] — agent ↔ UI messages (`docs/protocol.md`).
//! - [`agent`] — the imperative shell: runs the core's effects, serves the UI socket.
//! - [`directory`] — the directory port and its ldap3 + rustls implementation (AD, Samba AD, OpenLDAP).
//! - [`delivery`] — email (SMTP over rustls) and notification texts.
//! - [`devices`] — the badge reader (pure frame parsing; a serial thread).
//! - [`config`] — `kiosk.toml` and board files: strict parsing with located problems, validation into
//!   [`config::Settings`].
//! - [`secret`] — [`secret::Secret`] (never prints, zeroized on drop) and where secrets come from.
//! - [`cli`], [`drive`], [`logging`], [`mask`] — the command line, scripted sessions, logs, masking.
//!
//! - [`outbox`] — durable, sealed directory writes and the hash-chained audit log (rusqlite).
//!
//! Planned (see `docs/architecture.md`): `admin`, `ui`.

pub mod agent;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod devices;
pub mod directory;
pub mod drive;
pub mod flow;
pub mod gates;
pub mod logging;
pub mod mask;
pub mod outbox;
pub mod protocol;
pub mod secret;

//! The command line: one binary, `sspr-kiosk`, with a subcommand per role. Definitions only (clap
//! derive); `main.rs` runs them. Help texts are written for the sysadmin who deploys the kiosk.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sspr-kiosk",
    version,
    about = "Walk-up self-service password reset and account unlock kiosk",
    long_about = "Walk-up self-service password reset and account unlock kiosk.\n\n\
        In production two systemd units run this binary: `sspr-kiosk agent` (the authority: directory, \
        outbox, badge reader, admin API) and `sspr-kiosk ui` (the touchscreen). Configuration lives in \
        /etc/sspr-kiosk/kiosk.toml and the board file; secrets come from systemd credentials or \
        root-only files, never from the configuration itself."
)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). SSPR_LOG=warn|info|debug|trace overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct ConfigPaths {
    /// The kiosk configuration.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/sspr-kiosk/kiosk.toml"
    )]
    pub config: PathBuf,
    /// The board file describing this kiosk's hardware.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/sspr-kiosk/board.toml"
    )]
    pub board: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the kiosk agent: sessions, gates, directory writes, outbox, badge reader, admin API.
    Agent(ConfigPaths),
    /// Run the touchscreen UI; it connects to the agent's socket and decides nothing itself.
    Ui(ConfigPaths),
    /// Run agent and UI together against a local, seeded directory (for evaluation and development).
    Demo,
    /// Run a scripted session against a running agent and print a transcript (acceptance checks).
    /// Script steps: expect SCREEN [CODE…], identify TEXT, choose ID|#N, enter-code V, enter-totp V,
    /// enter-current V, answer A | B | C, enter-password V, wait SECONDS; a value `$(cmd)` is the
    /// command's output. Exits 1 at the first unmet expectation.
    Drive {
        /// The session script.
        script: PathBuf,
        /// The agent's UI socket.
        #[arg(long, default_value = "/run/sspr-kiosk/ui.sock")]
        socket: PathBuf,
    },
    /// Fleet administration: keys, certificates, signed configuration push, status, audit.
    Admin {
        /// Arguments of the admin command (keygen, ca, enroll, sign, push, status, rollback, audit).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Talk to the configured directory.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Inspect and steer this kiosk's outbox: the directory writes recorded but not yet applied.
    /// Needs the outbox the agent created in site.data_dir and the device key credential.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Check and export this kiosk's hash-chained audit log (kept in the outbox database).
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// The kiosk configuration only (commands that touch no hardware).
#[derive(Debug, Args)]
pub struct KioskConfig {
    /// The kiosk configuration; the outbox is `outbox.db` in its site.data_dir.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/sspr-kiosk/kiosk.toml"
    )]
    pub config: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List every operation, newest first: id, receipt reference, kind, state, attempts, times
    /// (UTC), the last error or outcome, and the account's DN. Never shows a password.
    List {
        #[command(flatten)]
        config: KioskConfig,
    },
    /// Make a pending operation due now, skipping its backoff (after fixing the directory link,
    /// say). Its expiry is unchanged. Exits 1 if the id is unknown or the operation is not pending.
    Retry {
        /// The operation's id (first column of `outbox list`).
        id: i64,
        #[command(flatten)]
        config: KioskConfig,
    },
    /// Cancel an operation that has not applied: it never will, its secret is erased, and the
    /// person is notified. Exits 1 if the id is unknown or the operation already ended (or is
    /// being applied right now).
    Purge {
        /// The operation's id (first column of `outbox list`).
        id: i64,
        #[command(flatten)]
        config: KioskConfig,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-hash the whole audit chain. Prints the record count and the last hash (keep it: a chain
    /// alone cannot reveal a truncated tail), or the first broken record. Exits 1 if broken.
    Verify {
        #[command(flatten)]
        config: KioskConfig,
    },
    /// Print audit records after sequence number N as JSON lines on stdout:
    /// {"seq","prev_hash","hash","record"}, where record is the exact hashed text, so every line
    /// can be re-hashed independently.
    Export {
        /// Print records with a sequence number greater than N (0: all).
        #[arg(long, value_name = "N", default_value_t = 0)]
        since: u64,
        #[command(flatten)]
        config: KioskConfig,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check kiosk.toml and board files: every problem is printed as FILE:LINE:COL with how to fix it;
    /// a good file gets a short summary. Exits 1 if any file has an error.
    Check {
        /// Files to check; kiosk configuration or board file, detected from the content.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Also load every secret and check every referenced file, as the agent would on this machine.
        #[arg(long)]
        on_device: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Preflight: bind to every URL, verify TLS, check password-history support, and with --canary
    /// whether the service account can read the mapped attributes, unlock and (--reset-canary) reset.
    /// Exits 1 if the kiosk is not ready.
    Check {
        #[command(flatten)]
        paths: ConfigPaths,
        /// A test account to look up and unlock (unlocking is harmless).
        #[arg(long, value_name = "USER")]
        canary: Option<String>,
        /// Also reset the canary's password to a random value (proves the reset right; the value is not shown).
        #[arg(long, requires = "canary")]
        reset_canary: bool,
    },
    /// Show what the kiosk sees for one user: lock state, eligibility, registered methods (masked).
    Whois {
        #[command(flatten)]
        paths: ConfigPaths,
        /// Username, UPN or mail (or a badge ID with --badge).
        user: String,
        /// Look the person up by badge ID instead.
        #[arg(long)]
        badge: bool,
    },
}

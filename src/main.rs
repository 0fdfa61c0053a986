//! `sspr-kiosk`: wiring only — parse the command line, start logging, run the subcommand.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use sspr_kiosk::cli::{AuditCommand, Cli, Command, ConfigCommand, DirectoryCommand, OutboxCommand};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use sspr_kiosk::agent::{Agent, server};
use sspr_kiosk::config::{self, CheckMode, Checked, Settings, Severity};
use sspr_kiosk::devices::reader::{Reader, ReaderConfig};
use sspr_kiosk::directory::ldap::LdapDirectory;
use sspr_kiosk::directory::preflight::{self, CheckOptions};
use sspr_kiosk::outbox::{Outbox, report};

/// Exit code for a subcommand this version does not have yet (distinct from 1 = failure).
const NOT_AVAILABLE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    sspr_kiosk::logging::init(cli.verbose);
    match cli.command {
        Command::Config(ConfigCommand::Check { files, on_device }) => {
            let mode = if on_device {
                CheckMode::OnDevice
            } else {
                CheckMode::Portable
            };
            config_check(&files, mode)
        }
        Command::Agent(paths) => run_async(run_agent(paths.config, paths.board)),
        Command::Ui(_) => not_available("ui", "the touchscreen UI"),
        Command::Demo => not_available("demo", "the demo (agent + UI against a local directory)"),
        Command::Drive { script, socket } => run_async(drive(script, socket)),
        Command::Admin { .. } => not_available("admin", "fleet administration"),
        Command::Directory(DirectoryCommand::Check {
            paths,
            canary,
            reset_canary,
        }) => run_async(directory_check(paths.config, canary, reset_canary)),
        Command::Directory(DirectoryCommand::Whois { paths, user, badge }) => {
            run_async(directory_whois(paths.config, user, badge))
        }
        Command::Outbox(OutboxCommand::List { config }) => run(|| outbox_list(&config.config)),
        Command::Outbox(OutboxCommand::Retry { id, config }) => {
            run(|| outbox_retry(&config.config, id))
        }
        Command::Outbox(OutboxCommand::Purge { id, config }) => {
            run(|| outbox_purge(&config.config, id))
        }
        Command::Audit(AuditCommand::Verify { config }) => run(|| audit_verify(&config.config)),
        Command::Audit(AuditCommand::Export { since, config }) => {
            run(|| audit_export(&config.config, since))
        }
    }
}

/// Runs a synchronous command; errors are printed for the admin, exit code 1.
fn run(command: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    exit_code(command())
}

fn exit_code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            log::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an async command on a small runtime; errors are printed for the admin, exit code 1.
fn run_async(command: impl std::future::Future<Output = anyhow::Result<ExitCode>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            log::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    exit_code(runtime.block_on(command))
}

async fn run_agent(config: PathBuf, board: PathBuf) -> anyhow::Result<ExitCode> {
    let settings = config::load_kiosk(&config)?;
    let (reader_events, events) = tokio::sync::mpsc::channel(16);
    let mut _reader = None;
    if board.exists() {
        let board = config::load_board(&board)?;
        log::info!("board {}: {}", board.board.name, board.board.description);
        if let Some(section) = &board.reader {
            match ReaderConfig::from_board(section, &settings.gates.badge) {
                Ok(Some(reader)) => _reader = Some(Reader::spawn(reader, reader_events)?),
                Ok(None) => {
                    log::info!("keyboard-wedge badge reader: badges arrive as typing in the UI")
                }
                Err(e) => log::warn!("badge reader not started: {e}"),
            }
        }
    } else {
        log::warn!(
            "no board file at {}: running without badge reader or modem",
            board.display()
        );
    }
    let agent = Arc::new(Agent::from_settings(settings)?);
    let listener = server::bind(&agent.settings.site.ui_socket)?;
    let badges = server::forward_badges(events);
    tokio::spawn(sspr_kiosk::agent::worker::run(Arc::clone(&agent)));
    tokio::spawn(sspr_kiosk::agent::notifier::run(Arc::clone(&agent)));
    server::serve(agent, listener, badges).await;
    Ok(ExitCode::SUCCESS)
}

async fn drive(script: PathBuf, socket: PathBuf) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&script)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", script.display()))?;
    match sspr_kiosk::drive::run(&socket, &text).await {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            log::error!("drive: {}: {e}", script.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn connect_directory(config: &Path) -> anyhow::Result<(Settings, LdapDirectory)> {
    let settings = config::load_kiosk(config)?;
    let password = settings.directory.bind_password.load_from_env()?;
    let directory = LdapDirectory::new(settings.directory.clone(), password)?;
    Ok((settings, directory))
}

async fn directory_check(
    config: PathBuf,
    canary: Option<String>,
    reset_canary: bool,
) -> anyhow::Result<ExitCode> {
    let (settings, directory) = connect_directory(&config)?;
    let options = CheckOptions {
        canary: canary.as_deref(),
        reset_canary,
    };
    let report = preflight::check(&directory, &settings, options).await;
    print!("{}", report.text);
    Ok(if report.ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn directory_whois(config: PathBuf, user: String, badge: bool) -> anyhow::Result<ExitCode> {
    let (settings, directory) = connect_directory(&config)?;
    match preflight::whois(&directory, &settings, &user, badge).await? {
        Some(text) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        None => {
            println!("no single account matches (none, or more than one: the kiosk never guesses)");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The outbox the agent created on this kiosk; never creates one.
fn open_outbox(config: &Path) -> anyhow::Result<Outbox> {
    let settings = config::load_kiosk(config)?;
    let device_key = settings
        .keys
        .device_key
        .as_ref()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: keys.device_key is not configured; the outbox cannot be opened without it",
                config.display()
            )
        })?
        .0
        .load_from_env()?;
    let path = settings.site.data_dir.join("outbox.db");
    Ok(Outbox::open_existing(&path, &device_key)?)
}

fn outbox_list(config: &Path) -> anyhow::Result<ExitCode> {
    let outbox = open_outbox(config)?;
    print!("{}", report::operations(&outbox.list()?, now_ms()));
    Ok(ExitCode::SUCCESS)
}

fn outbox_retry(config: &Path, id: i64) -> anyhow::Result<ExitCode> {
    let outbox = open_outbox(config)?;
    let text = report::retry(&outbox, id).with_context(|| format!("cannot retry {id}"))?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn outbox_purge(config: &Path, id: i64) -> anyhow::Result<ExitCode> {
    let outbox = open_outbox(config)?;
    let text =
        report::purge(&outbox, id, now_ms()).with_context(|| format!("cannot purge {id}"))?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn audit_verify(config: &Path) -> anyhow::Result<ExitCode> {
    let verdict = report::verify(&open_outbox(config)?)?;
    print!("{}", verdict.text);
    Ok(if verdict.intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Written line by line: the export may be long and piped into `head`, where a closed pipe is
/// the reader being done, not an error.
fn audit_export(config: &Path, since: u64) -> anyhow::Result<ExitCode> {
    use std::io::Write as _;
    let lines = open_outbox(config)?.audit().export_since(since)?;
    let mut out = std::io::stdout().lock();
    let written = lines
        .iter()
        .try_for_each(|line| writeln!(out, "{line}"))
        .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write the export: {e}"))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn not_available(command: &str, what: &str) -> ExitCode {
    println!(
        "sspr-kiosk {command}: {what} is not available yet in this version ({}).",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::from(NOT_AVAILABLE)
}

fn config_check(files: &[std::path::PathBuf], mode: CheckMode) -> ExitCode {
    let mut failed = false;
    for file in files {
        let report = config::check_file(file, mode);
        for diagnostic in &report.diagnostics {
            println!("{diagnostic}");
        }
        let errors = report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if report.has_errors() {
            failed = true;
            println!("{}: {} error(s): not usable", file.display(), errors.max(1));
            continue;
        }
        match &report.value {
            Some(Checked::Kiosk(settings)) => {
                log::debug!("checked settings: {settings:?}");
                println!("{}: ok (kiosk configuration)", file.display());
                print!("{}", config::summary::kiosk(settings));
            }
            Some(Checked::Board(board)) => {
                println!("{}: ok (board file)", file.display());
                print!("{}", config::summary::board(board));
            }
            None => {}
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

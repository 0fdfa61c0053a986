//! `sspr-kiosk`: wiring only — parse the command line, start logging, run the subcommand.

use std::process::ExitCode;

use clap::Parser;
use sspr_kiosk::cli::{Cli, Command, ConfigCommand, DirectoryCommand};
use std::path::{Path, PathBuf};

use sspr_kiosk::config::{self, CheckMode, Checked, Settings, Severity};
use sspr_kiosk::directory::ldap::LdapDirectory;
use sspr_kiosk::directory::preflight::{self, CheckOptions};

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
        Command::Agent(_) => not_available("agent", "the kiosk agent"),
        Command::Ui(_) => not_available("ui", "the touchscreen UI"),
        Command::Demo => not_available("demo", "the demo (agent + UI against a local directory)"),
        Command::Drive { .. } => not_available("drive", "scripted sessions"),
        Command::Admin { .. } => not_available("admin", "fleet administration"),
        Command::Directory(DirectoryCommand::Check {
            paths,
            canary,
            reset_canary,
        }) => run_async(directory_check(paths.config, canary, reset_canary)),
        Command::Directory(DirectoryCommand::Whois { paths, user, badge }) => {
            run_async(directory_whois(paths.config, user, badge))
        }
    }
}

/// Runs an async command on a small runtime; errors are printed for the admin, exit code 1.
fn run_async(command: impl std::future::Future<Output = anyhow::Result<ExitCode>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            log::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command) {
        Ok(code) => code,
        Err(e) => {
            log::error!("{e:#}");
            ExitCode::FAILURE
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

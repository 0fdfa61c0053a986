//! `sspr-kiosk`: wiring only — parse the command line, start logging, run the subcommand.

use std::process::ExitCode;

use clap::Parser;
use sspr_kiosk::cli::{Cli, Command, ConfigCommand, DirectoryCommand};
use sspr_kiosk::config::{self, CheckMode, Checked, Severity};

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
        Command::Directory(DirectoryCommand::Check(_)) => {
            not_available("directory check", "the directory preflight")
        }
        Command::Directory(DirectoryCommand::Whois { .. }) => {
            not_available("directory whois", "the directory user lookup")
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

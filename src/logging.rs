//! Logging through the `log` facade: to the systemd journal (with priorities) when stderr is connected to
//! it (`JOURNAL_STREAM` matches), otherwise readable lines on stderr. Nothing here formats secrets: a
//! [`crate::secret::Secret`] prints as `***` wherever it ends up.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Where log records go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Journal,
    Stderr,
}

/// Installs the logger once for the process. `verbosity` 0 = info, 1 = debug, 2+ = trace;
/// `SSPR_LOG=warn|info|debug|trace` overrides it.
pub fn init(verbosity: u8) -> Sink {
    let level = level_from(verbosity, std::env::var("SSPR_LOG").ok().as_deref());
    log::set_max_level(level);
    if systemd_journal_logger::connected_to_journal()
        && let Ok(journal) = systemd_journal_logger::JournalLog::new()
        && journal.install().is_ok()
    {
        return Sink::Journal;
    }
    // If a logger was already installed (tests), keep it.
    let _ = log::set_boxed_logger(Box::new(StderrLog));
    Sink::Stderr
}

fn level_from(verbosity: u8, env: Option<&str>) -> LevelFilter {
    if let Some(level) = env.and_then(|s| s.trim().parse::<LevelFilter>().ok()) {
        return level;
    }
    match verbosity {
        0 => LevelFilter::Info,
        1 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// `LEVEL target: message` lines for a terminal or a test's captured stderr.
#[derive(Debug)]
struct StderrLog;

impl Log for StderrLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let label = match record.level() {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{label}: [{}] {}", record.target(), record.args());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_and_env_choose_the_level() {
        assert_eq!(level_from(0, None), LevelFilter::Info);
        assert_eq!(level_from(1, None), LevelFilter::Debug);
        assert_eq!(level_from(5, None), LevelFilter::Trace);
        assert_eq!(level_from(0, Some("trace")), LevelFilter::Trace);
        assert_eq!(level_from(2, Some("warn")), LevelFilter::Warn);
        assert_eq!(level_from(1, Some("nonsense")), LevelFilter::Debug);
    }
}

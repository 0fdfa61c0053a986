//! A server child process that cannot outlive the test process.
//!
//! The server runs under a tiny `sh` watchdog whose stdin is a pipe from the test process: when the test
//! process exits for any reason (normal end, panic, SIGKILL), the pipe closes, the watchdog kills the
//! server and removes its directory. Shared servers live in statics, whose destructors never run, so this
//! is what stops them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

#[derive(Debug)]
pub struct ServerProcess {
    name: String,
    watchdog: Child,
    stdin: Option<ChildStdin>,
    pub dir: PathBuf,
    pub log: PathBuf,
}

const WATCHDOG: &str = r#"
dir="$1"; log="$2"; shift 2
setsid "$@" </dev/null >>"$log" 2>&1 &
pid=$!
echo "$pid" > "$dir/server.pid"
read _ignored
kill -TERM "$pid" 2>/dev/null
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ -n "$SSPR_KEEP_TEST_SERVERS" ] || rm -rf "$dir"
"#;

impl ServerProcess {
    /// Starts `program args…` in the background with stdout/stderr appended to `dir/<name>.log`.
    /// `dir` is removed when the server stops (set `SSPR_KEEP_TEST_SERVERS=1` to keep it for debugging).
    pub fn spawn(name: &str, dir: &Path, program: &Path, args: &[&str]) -> ServerProcess {
        let log = dir.join(format!("{name}.log"));
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("watchdog")
            .arg(dir)
            .arg(&log)
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("test harness: cannot start {name} watchdog: {e}"));
        let mut process = ServerProcess {
            name: name.to_owned(),
            stdin: None,
            watchdog,
            dir: dir.to_owned(),
            log,
        };
        process.stdin = process.watchdog.stdin.take();
        process
    }

    /// The server's PID (not the watchdog's), once the watchdog has written it.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("server.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Stops the server and waits for it (the directory is removed by the watchdog).
    pub fn stop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
        let _ = self.watchdog.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

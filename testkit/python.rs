//! Autobahn|Python peers (`tests/python/peer.py`) connected to the router under test.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::{TestRouter, describe_status, peer_script, wait_with_timeout};

/// A running `tests/python/peer.py` (Autobahn|Python), connected to a router.
///
/// Its stdout is read line by line ([`PythonPeer::read_line`]); its stderr goes to a temporary
/// file that error messages quote. Dropping it kills the process.
#[derive(Debug)]
pub struct PythonPeer {
    child: Child,
    /// Lines of stdout from the reader thread; disconnected at EOF.
    lines: Receiver<std::io::Result<String>>,
    stderr_path: PathBuf,
    /// The peer.py arguments, for messages.
    description: String,
}

impl PythonPeer {
    /// Runs `<venv python> -u tests/python/peer.py --url <router.ws_url()> <args...>`.
    ///
    /// `args` are peer.py's global options (`--realm`, `--serializer`, `--authid`/`--ticket`,
    /// or another `--url`, which overrides the default) followed by a command, e.g.
    /// `&["--serializer", "msgpack", "callee"]` or `&["subscribe", "com.example.topic"]`.
    pub fn spawn(router: &TestRouter, args: &[&str]) -> Result<PythonPeer, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let python = router.python()?;
        let stderr_path = std::env::temp_dir().join(format!(
            "wamp-testkit-peer-{}-{}.stderr",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let description = format!("peer.py {}", args.join(" "));
        let stderr = File::create(&stderr_path).map_err(|e| {
            format!(
                "{description}: cannot create {}: {e}",
                stderr_path.display()
            )
        })?;
        let mut child = Command::new(&python)
            .arg("-u")
            .arg(peer_script())
            .args(["--url", &router.ws_url()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                let _ = std::fs::remove_file(&stderr_path);
                format!("{description}: cannot run {}: {e}", python.display())
            })?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&stderr_path);
            return Err(format!("{description}: no stdout pipe"));
        };
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut buf = Vec::new();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf);
                        let line = line.trim_end_matches(['\n', '\r']).to_owned();
                        if tx.send(Ok(line)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        Ok(PythonPeer {
            child,
            lines: rx,
            stderr_path,
            description,
        })
    }

    /// The next line the peer prints (without the line break), waiting up to `timeout`.
    ///
    /// Fails on timeout or when the peer exits without printing another line; the error
    /// includes the peer's stderr.
    pub fn read_line(&mut self, timeout: Duration) -> Result<String, String> {
        match self.lines.recv_timeout(timeout) {
            Ok(Ok(line)) => Ok(line),
            Ok(Err(e)) => Err(self.error(&format!("reading stdout failed: {e}"))),
            Err(RecvTimeoutError::Timeout) => Err(self.error(&format!(
                "no output line within {:.1} s",
                timeout.as_secs_f64()
            ))),
            Err(RecvTimeoutError::Disconnected) => {
                let status = wait_with_timeout(&mut self.child, Duration::from_secs(5))
                    .ok()
                    .flatten();
                Err(self.error(&format!(
                    "exited without another output line ({})",
                    describe_status(status)
                )))
            }
        }
    }

    /// Reads lines until one equals `expected` (ignoring surrounding whitespace), waiting up to
    /// `timeout` in all. The lines before it are skipped.
    pub fn wait_for_line(&mut self, expected: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut skipped = Vec::new();
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.read_line(remaining) {
                Ok(line) if line.trim() == expected.trim() => return Ok(()),
                Ok(line) => skipped.push(line),
                Err(e) => {
                    return Err(format!(
                        "waiting for {expected:?}: {e}\nskipped lines: {skipped:?}"
                    ));
                }
            }
        }
    }

    /// Waits up to `timeout` for the peer to exit by itself (e.g. `subscribe --count N` after
    /// N events) and returns its exit status. Output lines not read yet stay readable.
    pub fn wait(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        match wait_with_timeout(&mut self.child, timeout) {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err(self.error(&format!(
                "did not exit within {:.1} s",
                timeout.as_secs_f64()
            ))),
            Err(e) => Err(self.error(&format!("cannot wait for the process: {e}"))),
        }
    }

    /// Asks the peer to stop with SIGTERM (a callee leaves its session with GOODBYE first) and
    /// waits up to `timeout` for it to exit.
    pub fn terminate(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Ok(status);
        }
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Err(e) = sent {
            return Err(self.error(&format!("cannot run kill: {e}")));
        }
        self.wait(timeout)
    }

    /// The operating system's process id of the peer.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// What the peer wrote to stderr so far.
    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr_path)
    }

    fn error(&self, what: &str) -> String {
        peer_error(&self.description, what, "", &self.stderr())
    }
}

impl Drop for PythonPeer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

/// Runs a one-shot peer (`call`, `publish`, `subscribe --count N`) to completion and returns
/// its stdout.
///
/// `args` are as for [`PythonPeer::spawn`]. Fails if the peer does not exit successfully within
/// `timeout` (it is killed then); the error includes its stdout and stderr.
pub fn run_python(router: &TestRouter, args: &[&str], timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let mut peer = PythonPeer::spawn(router, args)?;
    let mut stdout = String::new();
    loop {
        match peer
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(Ok(line)) => {
                stdout.push_str(&line);
                stdout.push('\n');
            }
            Ok(Err(e)) => {
                return Err(peer_error(
                    &peer.description,
                    &format!("reading stdout failed: {e}"),
                    &stdout,
                    &peer.stderr(),
                ));
            }
            Err(RecvTimeoutError::Disconnected) => break, // stdout closed: the peer is done
            Err(RecvTimeoutError::Timeout) => {
                return Err(peer_error(
                    &peer.description,
                    &format!("did not finish within {:.1} s", timeout.as_secs_f64()),
                    &stdout,
                    &peer.stderr(),
                ));
            }
        }
    }
    let remaining = deadline.saturating_duration_since(Instant::now());
    let status = wait_with_timeout(&mut peer.child, remaining.max(Duration::from_secs(1)));
    match status {
        Ok(Some(status)) if status.success() => Ok(stdout),
        Ok(Some(status)) => Err(peer_error(
            &peer.description,
            &format!("failed ({status})"),
            &stdout,
            &peer.stderr(),
        )),
        Ok(None) => Err(peer_error(
            &peer.description,
            "closed its stdout but did not exit",
            &stdout,
            &peer.stderr(),
        )),
        Err(e) => Err(peer_error(
            &peer.description,
            &format!("cannot wait for the process: {e}"),
            &stdout,
            &peer.stderr(),
        )),
    }
}

fn peer_error(description: &str, what: &str, stdout: &str, stderr: &str) -> String {
    let mut message = format!("{description}: {what}");
    if !stdout.trim().is_empty() {
        let _ = write!(message, "\n--- stdout ---\n{}", stdout.trim_end());
    }
    if stderr.trim().is_empty() {
        message.push_str("\n(stderr empty)");
    } else {
        let _ = write!(message, "\n--- stderr ---\n{}", stderr.trim_end());
    }
    message
}

fn read_lossy(path: &Path) -> String {
    let mut bytes = Vec::new();
    match File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)) {
        Ok(_) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_error_quotes_output() {
        let message = peer_error(
            "peer.py call x",
            "failed (exit status: 1)",
            "out\n",
            "err\n",
        );
        assert_eq!(
            message,
            "peer.py call x: failed (exit status: 1)\n--- stdout ---\nout\n--- stderr ---\nerr"
        );
        let message = peer_error("peer.py callee", "no output", "", "");
        assert_eq!(message, "peer.py callee: no output\n(stderr empty)");
    }
}

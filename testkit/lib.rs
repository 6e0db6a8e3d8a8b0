//! Test support: a local Crossbar.io router for the examples and tests.
//!
//! [`Crossbar::start`] runs `scripts/crossbar.sh run` on three free ports of 127.0.0.1 and
//! returns once the router accepts connections; dropping the [`Crossbar`] stops it. [`shared`]
//! gives all tests of one test binary the same router. The first start on a machine creates the
//! router's Python venv (about two minutes); later starts take about 4-5 seconds.
//! [`Crossbar::start_with`] adds endpoints for particular tests ([`CrossbarOptions`]): a RawSocket
//! with a small message limit, a RawSocket on a Unix domain socket, and TLS endpoints.
//!
//! [`PythonPeer`] and [`run_python`] run `tests/python/peer.py`, an Autobahn|Python peer, against
//! a router, for interoperability tests.
//!
//! [`e2e`] holds the helpers the end-to-end tests share (time limits, sessions on the shared
//! router, Python peers off the async runtime, polling), and
//! [`per_serializer!`] defines a test per serializer.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! fn main() -> Result<(), String> {
//!     let router = testkit::shared()?;
//!     let mut callee = testkit::PythonPeer::spawn(router, &["callee"])?;
//!     callee.wait_for_line("ready", Duration::from_secs(30))?;
//!     let out = testkit::run_python(
//!         router,
//!         &["call", "com.interop.py.add", "--args", "[1, 2]"],
//!         Duration::from_secs(30),
//!     )?;
//!     assert_eq!(out.trim(), r#"{"args":[3],"kwargs":{}}"#);
//!     Ok(())
//! }
//! ```
//!
//! The router stops when the [`Crossbar`] is dropped, and also when the test process exits
//! without dropping it (statics such as the [`shared`] router are never dropped): the script
//! watches its stdin pipe and the test process id.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

pub mod e2e;

/// How long [`Crossbar::start`] waits for the router: the first start on a machine includes the
/// installation of the venv.
const READY_TIMEOUT: Duration = Duration::from_secs(600);
/// How long [`Crossbar::kill`] waits for the script to stop the router before killing it.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts of [`Crossbar::start`] when another process takes one of the chosen ports first.
const START_ATTEMPTS: usize = 3;
/// Exit status of `crossbar.sh run` when a port is in use.
const EXIT_PORT_IN_USE: i32 = 3;
/// Poll interval while waiting for a process to exit.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// The workspace root (holds `scripts/` and `tests/`).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The router script, `scripts/crossbar.sh`.
pub fn crossbar_script() -> PathBuf {
    workspace_root().join("scripts").join("crossbar.sh")
}

/// The Autobahn|Python interop peer, `tests/python/peer.py`.
pub fn peer_script() -> PathBuf {
    workspace_root()
        .join("tests")
        .join("python")
        .join("peer.py")
}

/// A Crossbar.io router run by `scripts/crossbar.sh run`; stopped on [`Crossbar::kill`] or drop.
///
/// The router binds 127.0.0.1 only. Its endpoints (see `scripts/crossbar/config.json`):
/// WebSocket paths `/ws` (anonymous), `/auth`, `/ticket`, `/wampcra`, `/cryptosign`, `/scram`,
/// `/anyauth` and `/info` on [`Crossbar::ws_port`]; RawSocket anonymous on
/// [`Crossbar::rawsocket_port`] and authenticated on [`Crossbar::rawsocket_auth_port`]; realms
/// `realm1` and `realm2`. [`Crossbar::start_with`] adds the endpoints of [`CrossbarOptions`].
#[derive(Debug)]
pub struct Crossbar {
    /// The `crossbar.sh run` process; `None` once stopped.
    script: Option<Child>,
    /// Its stdin pipe: closing it also tells the script to stop the router.
    stdin: Option<ChildStdin>,
    ws_port: u16,
    rawsocket_port: u16,
    rawsocket_auth_port: u16,
    extra: ExtraEndpoints,
    python: PathBuf,
    /// The router's process group (controller and worker), for [`Crossbar::kill_router`].
    router_pgid: Option<u32>,
    /// Whether [`Crossbar::freeze_router`] stopped it.
    frozen: bool,
    /// What it was started with, for [`Crossbar::restart`].
    options: CrossbarOptions,
}

/// Extra endpoints for [`Crossbar::start_with`]; the default adds none.
///
/// Each is a copy of the anonymous RawSocket endpoint (or, for `wss`, of the WebSocket
/// endpoint with all its paths) with one difference.
#[derive(Debug, Clone, Default)]
pub struct CrossbarOptions {
    /// An anonymous RawSocket endpoint that accepts messages of at most this many bytes (at
    /// least 512); see [`Crossbar::rawsocket_limited_url`].
    pub rawsocket_limited: Option<u32>,
    /// An anonymous RawSocket endpoint on a Unix domain socket in the router's temporary
    /// directory; see [`Crossbar::rawsocket_unix_url`].
    pub rawsocket_unix: bool,
    /// TLS endpoints; see [`Crossbar::wss_url`], [`Crossbar::rss_url`] and
    /// [`Crossbar::rss_mtls_url`].
    pub tls: Option<TlsEndpoints>,
}

/// The certificate files of the TLS endpoints ([`CrossbarOptions::tls`]), all PEM. The router
/// reads them at start.
#[derive(Debug, Clone)]
pub struct TlsEndpoints {
    /// The server certificate (optionally followed by its chain).
    pub certificate: PathBuf,
    /// The server certificate's private key.
    pub key: PathBuf,
    /// With a CA certificate, one more anonymous RawSocket over TLS endpoint requires a client
    /// certificate issued by that CA ([`Crossbar::rss_mtls_url`]).
    pub client_ca: Option<PathBuf>,
}

/// Where the extra endpoints of a router listen.
#[derive(Debug, Clone, Default)]
struct ExtraEndpoints {
    rawsocket_limited_port: Option<u16>,
    rawsocket_unix: Option<PathBuf>,
    wss_port: Option<u16>,
    rss_port: Option<u16>,
    rss_mtls_port: Option<u16>,
}

impl ExtraEndpoints {
    /// Assigns `ports` (free TCP ports, at least [`ExtraEndpoints::port_count`]) to the
    /// endpoints `options` asks for.
    fn assign(options: &CrossbarOptions, ports: &[u16]) -> ExtraEndpoints {
        let mut ports = ports.iter().copied();
        let mut extra = ExtraEndpoints::default();
        if options.rawsocket_limited.is_some() {
            extra.rawsocket_limited_port = ports.next();
        }
        if let Some(tls) = &options.tls {
            extra.wss_port = ports.next();
            extra.rss_port = ports.next();
            if tls.client_ca.is_some() {
                extra.rss_mtls_port = ports.next();
            }
        }
        extra
    }

    /// How many TCP ports the endpoints of `options` need.
    fn port_count(options: &CrossbarOptions) -> usize {
        usize::from(options.rawsocket_limited.is_some())
            + options
                .tls
                .as_ref()
                .map_or(0, |tls| 2 + usize::from(tls.client_ca.is_some()))
    }

    /// The `crossbar.sh run` options for these endpoints.
    fn args(&self, options: &CrossbarOptions) -> Vec<String> {
        let mut args = Vec::new();
        let mut push = |option: &str, value: String| {
            args.push(option.to_owned());
            args.push(value);
        };
        if let (Some(port), Some(size)) = (self.rawsocket_limited_port, options.rawsocket_limited) {
            push("--rawsocket-limited-port", port.to_string());
            push("--rawsocket-limited-size", size.to_string());
        }
        if options.rawsocket_unix {
            push("--rawsocket-unix", UNIX_SOCKET_NAME.to_owned());
        }
        if let Some(tls) = &options.tls {
            push("--tls-cert", tls.certificate.display().to_string());
            push("--tls-key", tls.key.display().to_string());
            if let Some(port) = self.wss_port {
                push("--wss-port", port.to_string());
            }
            if let Some(port) = self.rss_port {
                push("--rss-port", port.to_string());
            }
            if let (Some(port), Some(ca)) = (self.rss_mtls_port, &tls.client_ca) {
                push("--rss-mtls-port", port.to_string());
                push("--tls-client-ca", ca.display().to_string());
            }
        }
        args
    }
}

/// The file name of the Unix domain socket endpoint, in the router's temporary directory.
const UNIX_SOCKET_NAME: &str = "rawsocket.sock";

/// Why one start attempt failed.
enum StartError {
    /// A chosen port was taken by someone else: worth another attempt on other ports.
    PortInUse(String),
    /// Anything else.
    Failed(String),
}

impl Crossbar {
    /// Starts a router on three free ports and waits until it accepts connections.
    ///
    /// The script's progress and error messages (venv installation, router log on failure) go
    /// to this process's stderr.
    pub fn start() -> Result<Crossbar, String> {
        Self::start_with(&CrossbarOptions::default())
    }

    /// Starts a router with the extra endpoints of `options`, on free ports, and waits until
    /// every endpoint accepts connections.
    pub fn start_with(options: &CrossbarOptions) -> Result<Crossbar, String> {
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let ports = free_port_list(3 + ExtraEndpoints::port_count(options))?;
            let (&[ws, rawsocket, rawsocket_auth], rest) = ports.split_at(3.min(ports.len()))
            else {
                return Err("free_port_list returned too few ports".into());
            };
            let extra = ExtraEndpoints::assign(options, rest);
            match Self::start_on(ws, rawsocket, rawsocket_auth, options, extra) {
                Ok(crossbar) => return Ok(crossbar),
                Err(StartError::PortInUse(e)) => last_error = e,
                Err(StartError::Failed(e)) => return Err(e),
            }
        }
        Err(format!(
            "could not start Crossbar.io after {START_ATTEMPTS} attempts: {last_error}"
        ))
    }

    fn start_on(
        ws: u16,
        rawsocket: u16,
        rawsocket_auth: u16,
        options: &CrossbarOptions,
        extra: ExtraEndpoints,
    ) -> Result<Crossbar, StartError> {
        let script = crossbar_script();
        let mut child = Command::new("bash")
            .arg(&script)
            .arg("run")
            .args(["--ws-port", &ws.to_string()])
            .args(["--rawsocket-port", &rawsocket.to_string()])
            .args(["--rawsocket-auth-port", &rawsocket_auth.to_string()])
            .args(extra.args(options))
            .args(["--watch-pid", &std::process::id().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                StartError::Failed(format!("cannot run bash {}: {e}", script.display()))
            })?;
        let stdin = child.stdin.take();
        let Some(stdout) = child.stdout.take() else {
            terminate_script(&mut child, stdin);
            return Err(StartError::Failed("crossbar.sh: no stdout pipe".into()));
        };

        // A thread reads stdout so that the wait below can time out; it ends after "ready".
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let ready = matches!(&line, Ok(l) if l.starts_with("ready "));
                if tx.send(line).is_err() || ready {
                    break;
                }
            }
        });

        let deadline = Instant::now() + READY_TIMEOUT;
        let mut crossbar = Crossbar {
            script: Some(child),
            stdin,
            ws_port: ws,
            rawsocket_port: rawsocket,
            rawsocket_auth_port: rawsocket_auth,
            extra,
            python: PathBuf::new(),
            router_pgid: None,
            frozen: false,
            options: options.clone(),
        };
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Ok(line)) => match parse_ready_line(&line) {
                    Some(port) if port == ws => break,
                    Some(port) => {
                        return Err(StartError::Failed(format!(
                            "crossbar.sh reported port {port} instead of {ws}: {line:?}"
                        )));
                    }
                    None => {
                        // "unix PATH" comes before "ready"; anything else is not expected on
                        // stdout, but harmless.
                        if let Some(path) = line.trim_end().strip_prefix("unix ") {
                            crossbar.extra.rawsocket_unix = Some(PathBuf::from(path));
                        }
                        if let Some(pgid) = line.trim_end().strip_prefix("pgid ") {
                            crossbar.router_pgid = pgid.parse().ok();
                        }
                    }
                },
                Ok(Err(e)) => {
                    return Err(StartError::Failed(format!(
                        "reading crossbar.sh output: {e}"
                    )));
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(StartError::Failed(format!(
                        "Crossbar.io was not ready within {} s",
                        READY_TIMEOUT.as_secs()
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // The script exited (its stdout closed) before it was ready.
                    let status = crossbar.wait_script(Duration::from_secs(10));
                    let message = format!(
                        "crossbar.sh run exited before the router was ready ({}); \
                         see its messages on stderr",
                        describe_status(status)
                    );
                    return Err(match status {
                        Some(s) if s.code() == Some(EXIT_PORT_IN_USE) => {
                            StartError::PortInUse(message)
                        }
                        _ => StartError::Failed(message),
                    });
                }
            }
        }
        if options.rawsocket_unix && crossbar.extra.rawsocket_unix.is_none() {
            return Err(StartError::Failed(
                "crossbar.sh did not report the path of the Unix socket endpoint".into(),
            ));
        }
        crossbar.python = venv_python().map_err(StartError::Failed)?;
        Ok(crossbar)
    }

    /// Kills the router abruptly (SIGKILL to its whole process group, like `kill -9`): no
    /// goodbye, connections just drop. The ports stay reserved for [`Crossbar::restart`].
    pub fn kill_router(&mut self) -> Result<(), String> {
        self.signal_router("KILL")?;
        // The script notices the router is gone and exits; reap it.
        let _ = self.wait_script(Duration::from_secs(10));
        self.script = None;
        self.stdin = None;
        Ok(())
    }

    /// Freezes the router (SIGSTOP to its process group), like a host that stalls: its
    /// connections stay open but nothing is read or answered until [`Crossbar::thaw_router`].
    pub fn freeze_router(&mut self) -> Result<(), String> {
        self.signal_router("STOP")?;
        self.frozen = true;
        Ok(())
    }

    /// Resumes a router frozen by [`Crossbar::freeze_router`] (SIGCONT).
    pub fn thaw_router(&mut self) -> Result<(), String> {
        self.signal_router("CONT")?;
        self.frozen = false;
        Ok(())
    }

    /// Sends `signal` (a name such as `KILL`) to the router's whole process group.
    fn signal_router(&self, signal: &str) -> Result<(), String> {
        let pgid = self
            .router_pgid
            .ok_or("the router's process group is unknown (crossbar.sh printed no pgid line)")?;
        let status = Command::new("kill")
            .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !status.success() {
            return Err(format!("kill -{signal} -{pgid} failed ({status})"));
        }
        Ok(())
    }

    /// Starts the router again on the same ports with the same endpoints (after
    /// [`Crossbar::kill_router`] or [`Crossbar::kill`]).
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match Self::start_on(
                self.ws_port,
                self.rawsocket_port,
                self.rawsocket_auth_port,
                &self.options.clone(),
                self.extra.clone(),
            ) {
                Ok(mut started) => {
                    // Take over the new script; the old values are the same ports.
                    self.script = started.script.take();
                    self.stdin = started.stdin.take();
                    self.router_pgid = started.router_pgid;
                    self.extra = started.extra.clone();
                    return Ok(());
                }
                Err(StartError::PortInUse(e)) if Instant::now() < deadline => {
                    // The killed router's sockets may linger a moment.
                    let _ = e;
                    thread::sleep(Duration::from_millis(200));
                }
                Err(StartError::PortInUse(e) | StartError::Failed(e)) => return Err(e),
            }
        }
    }

    /// The URL of the anonymous WebSocket endpoint: `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        self.url("ws")
    }

    /// The URL of a WebSocket path (`"ws"`, `"auth"`, `"ticket"`, `"wampcra"`, `"cryptosign"`,
    /// `"scram"`, `"anyauth"`): `ws://127.0.0.1:PORT/<path>`. A leading `/` is optional.
    pub fn url(&self, path: &str) -> String {
        format!(
            "ws://127.0.0.1:{}/{}",
            self.ws_port,
            path.trim_start_matches('/')
        )
    }

    /// The URL of the anonymous RawSocket endpoint: `rs://127.0.0.1:PORT`.
    pub fn rawsocket_url(&self) -> String {
        format!("rs://127.0.0.1:{}", self.rawsocket_port)
    }

    /// The URL of the authenticated RawSocket endpoint: `rs://127.0.0.1:PORT`.
    pub fn rawsocket_auth_url(&self) -> String {
        format!("rs://127.0.0.1:{}", self.rawsocket_auth_port)
    }

    /// The URL of the anonymous RawSocket endpoint with the message limit of
    /// [`CrossbarOptions::rawsocket_limited`]: `rs://127.0.0.1:PORT`, if the router has one.
    pub fn rawsocket_limited_url(&self) -> Option<String> {
        self.extra
            .rawsocket_limited_port
            .map(|port| format!("rs://127.0.0.1:{port}"))
    }

    /// The path of the anonymous RawSocket endpoint on a Unix domain socket
    /// ([`CrossbarOptions::rawsocket_unix`]), if the router has one.
    pub fn rawsocket_unix_path(&self) -> Option<&Path> {
        self.extra.rawsocket_unix.as_deref()
    }

    /// The URL of the Unix domain socket endpoint: `unix:///PATH`, if the router has one.
    pub fn rawsocket_unix_url(&self) -> Option<String> {
        self.rawsocket_unix_path()
            .map(|path| format!("unix://{}", path.display()))
    }

    /// The URL of the anonymous WebSocket path over TLS ([`CrossbarOptions::tls`]):
    /// `wss://127.0.0.1:PORT/ws`, if the router has it. The other WebSocket paths are there too.
    pub fn wss_url(&self) -> Option<String> {
        self.extra
            .wss_port
            .map(|port| format!("wss://127.0.0.1:{port}/ws"))
    }

    /// The URL of the anonymous RawSocket endpoint over TLS ([`CrossbarOptions::tls`]):
    /// `rss://127.0.0.1:PORT`, if the router has it.
    pub fn rss_url(&self) -> Option<String> {
        self.extra
            .rss_port
            .map(|port| format!("rss://127.0.0.1:{port}"))
    }

    /// The URL of the anonymous RawSocket endpoint over TLS that requires a client certificate
    /// ([`TlsEndpoints::client_ca`]): `rss://127.0.0.1:PORT`, if the router has it.
    pub fn rss_mtls_url(&self) -> Option<String> {
        self.extra
            .rss_mtls_port
            .map(|port| format!("rss://127.0.0.1:{port}"))
    }

    /// The port of the WebSocket endpoints.
    pub fn ws_port(&self) -> u16 {
        self.ws_port
    }

    /// The port of the anonymous RawSocket endpoint.
    pub fn rawsocket_port(&self) -> u16 {
        self.rawsocket_port
    }

    /// The port of the authenticated RawSocket endpoint (ticket, wampcra, cryptosign, scram).
    pub fn rawsocket_auth_port(&self) -> u16 {
        self.rawsocket_auth_port
    }

    /// The Python of the router's venv; it has Autobahn|Python.
    pub fn python(&self) -> PathBuf {
        self.python.clone()
    }

    /// Stops the router and waits until it is gone (normally within about 2 seconds).
    /// Does nothing if it is stopped already.
    pub fn kill(&mut self) {
        if self.frozen {
            // A stopped process would not see the SIGTERM.
            let _ = self.thaw_router();
        }
        if let Some(mut script) = self.script.take() {
            terminate_script(&mut script, self.stdin.take());
        }
    }

    /// Waits up to `timeout` for the script to exit; `None` if it still runs or cannot be
    /// waited for.
    fn wait_script(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let script = self.script.as_mut()?;
        wait_with_timeout(script, timeout).ok().flatten()
    }
}

impl Drop for Crossbar {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Stops `crossbar.sh run`: SIGTERM (it then stops the router and exits), SIGKILL as a last
/// resort. `Child::kill` alone would not do: it sends SIGKILL, which leaves the router running.
fn terminate_script(script: &mut Child, stdin: Option<ChildStdin>) {
    // Closing stdin alone makes the script stop the router within half a second.
    drop(stdin);
    if let Ok(Some(_)) = script.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &script.id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Ok(Some(_)) = wait_with_timeout(script, STOP_TIMEOUT) {
        return;
    }
    eprintln!(
        "testkit: crossbar.sh (pid {}) did not stop within {} s; killing it",
        script.id(),
        STOP_TIMEOUT.as_secs()
    );
    let _ = script.kill();
    let _ = script.wait();
}

static SHARED: OnceLock<Result<Crossbar, String>> = OnceLock::new();

/// The router shared by all tests of this process, started on first use.
///
/// Concurrent callers wait for the one start. A failed start is remembered: every caller gets
/// the same error. The router is never dropped; it stops when this process exits.
pub fn shared() -> Result<&'static Crossbar, String> {
    SHARED
        .get_or_init(Crossbar::start)
        .as_ref()
        .map_err(|e| format!("the shared Crossbar.io router did not start: {e}"))
}

/// Asks `crossbar.sh python` for the venv's python (cheap once the venv exists).
fn venv_python() -> Result<PathBuf, String> {
    let script = crossbar_script();
    let output = Command::new("bash")
        .arg(&script)
        .arg("python")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run bash {} python: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "bash {} python failed ({})",
            script.display(),
            output.status
        ));
    }
    let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if path.is_empty() {
        return Err(format!("bash {} python printed nothing", script.display()));
    }
    Ok(PathBuf::from(path))
}

/// Three distinct TCP ports of 127.0.0.1 that were free a moment ago.
#[cfg(test)]
fn free_ports() -> Result<[u16; 3], String> {
    match free_port_list(3)?.as_slice() {
        &[a, b, c] => Ok([a, b, c]),
        other => Err(format!("expected 3 ports, got {other:?}")),
    }
}

/// `count` distinct TCP ports of 127.0.0.1 that were free a moment ago.
fn free_port_list(count: usize) -> Result<Vec<u16>, String> {
    // All listeners are open at once, so the ports differ.
    let listeners = (0..count)
        .map(|_| {
            TcpListener::bind(("127.0.0.1", 0))
                .and_then(|l| Ok((l.local_addr()?.port(), l)))
                .map_err(|e| format!("cannot find a free TCP port on 127.0.0.1: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(listeners.into_iter().map(|(port, _)| port).collect())
}

/// The port of a `ready ws://127.0.0.1:PORT` line.
fn parse_ready_line(line: &str) -> Option<u16> {
    line.trim_end()
        .strip_prefix("ready ws://127.0.0.1:")?
        .parse()
        .ok()
}

/// Polls `child` until it exits or `timeout` passes (`Ok(None)`).
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(POLL_INTERVAL);
    }
}

fn describe_status(status: Option<ExitStatus>) -> String {
    status.map_or_else(|| "exit status unknown".to_owned(), |s| s.to_string())
}

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
    pub fn spawn(router: &Crossbar, args: &[&str]) -> Result<PythonPeer, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
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
        let mut child = Command::new(router.python())
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
                format!(
                    "{description}: cannot run {}: {e}",
                    router.python().display()
                )
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
pub fn run_python(router: &Crossbar, args: &[&str], timeout: Duration) -> Result<String, String> {
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
    fn ready_line() {
        assert_eq!(parse_ready_line("ready ws://127.0.0.1:18080"), Some(18080));
        assert_eq!(
            parse_ready_line("ready ws://127.0.0.1:8080\r\n"),
            Some(8080)
        );
        assert_eq!(parse_ready_line("ready ws://127.0.0.1:"), None);
        assert_eq!(parse_ready_line("ready ws://127.0.0.1:99999"), None);
        assert_eq!(parse_ready_line("crossbar.sh: waiting"), None);
    }

    #[test]
    fn free_ports_differ() {
        let ports = free_ports();
        assert!(
            matches!(ports, Ok([a, b, c]) if a != b && b != c && a != c && a != 0),
            "{ports:?}"
        );
    }

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

    #[test]
    fn urls() {
        let crossbar = Crossbar {
            script: None,
            stdin: None,
            ws_port: 18080,
            rawsocket_port: 18081,
            rawsocket_auth_port: 18082,
            extra: ExtraEndpoints::default(),
            python: PathBuf::from("python3"),
            router_pgid: None,
            frozen: false,
            options: CrossbarOptions::default(),
        };
        assert_eq!(crossbar.ws_url(), "ws://127.0.0.1:18080/ws");
        assert_eq!(crossbar.url("auth"), "ws://127.0.0.1:18080/auth");
        assert_eq!(crossbar.url("/ticket"), "ws://127.0.0.1:18080/ticket");
        assert_eq!(crossbar.rawsocket_url(), "rs://127.0.0.1:18081");
        assert_eq!(crossbar.rawsocket_auth_url(), "rs://127.0.0.1:18082");
        assert_eq!(crossbar.wss_url(), None);
        assert_eq!(crossbar.rawsocket_unix_url(), None);
    }

    #[test]
    fn extra_endpoints() {
        let options = CrossbarOptions {
            rawsocket_limited: Some(65536),
            rawsocket_unix: true,
            tls: Some(TlsEndpoints {
                certificate: PathBuf::from("/c.pem"),
                key: PathBuf::from("/k.pem"),
                client_ca: Some(PathBuf::from("/ca.pem")),
            }),
        };
        assert_eq!(ExtraEndpoints::port_count(&options), 4);
        assert_eq!(ExtraEndpoints::port_count(&CrossbarOptions::default()), 0);
        let extra = ExtraEndpoints::assign(&options, &[1, 2, 3, 4]);
        assert_eq!(extra.rawsocket_limited_port, Some(1));
        assert_eq!(extra.rss_mtls_port, Some(4));
        let args = extra.args(&options).join(" ");
        assert_eq!(
            args,
            "--rawsocket-limited-port 1 --rawsocket-limited-size 65536 --rawsocket-unix \
             rawsocket.sock --tls-cert /c.pem --tls-key /k.pem --wss-port 2 --rss-port 3 \
             --rss-mtls-port 4 --tls-client-ca /ca.pem"
        );
        let crossbar = Crossbar {
            script: None,
            stdin: None,
            ws_port: 18080,
            rawsocket_port: 18081,
            rawsocket_auth_port: 18082,
            extra: ExtraEndpoints {
                rawsocket_unix: Some(PathBuf::from("/tmp/x/rawsocket.sock")),
                ..extra
            },
            python: PathBuf::from("python3"),
            router_pgid: None,
            frozen: false,
            options: CrossbarOptions::default(),
        };
        assert_eq!(
            crossbar.rawsocket_limited_url().as_deref(),
            Some("rs://127.0.0.1:1")
        );
        assert_eq!(crossbar.wss_url().as_deref(), Some("wss://127.0.0.1:2/ws"));
        assert_eq!(crossbar.rss_url().as_deref(), Some("rss://127.0.0.1:3"));
        assert_eq!(
            crossbar.rss_mtls_url().as_deref(),
            Some("rss://127.0.0.1:4")
        );
        assert_eq!(
            crossbar.rawsocket_unix_url().as_deref(),
            Some("unix:///tmp/x/rawsocket.sock")
        );
    }

    #[test]
    fn paths() {
        assert!(crossbar_script().ends_with("scripts/crossbar.sh"));
        assert!(peer_script().ends_with("tests/python/peer.py"));
    }
}

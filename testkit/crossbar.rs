//! Crossbar.io, the reference router: `scripts/crossbar.sh run` on free ports of 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::{
    RouterOptions, StartError, crossbar_script, describe_status, free_port_list,
    start_on_free_ports, venv_python, wait_with_timeout,
};

/// How long [`Crossbar::start`] waits for the router: the first start on a machine includes the
/// installation of the venv.
const READY_TIMEOUT: Duration = Duration::from_secs(600);
/// How long [`Crossbar::kill`] waits for the script to stop the router before killing it.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Exit status of `crossbar.sh run` when a port is in use.
const EXIT_PORT_IN_USE: i32 = 3;

/// A Crossbar.io router run by `scripts/crossbar.sh run`; stopped on [`Crossbar::kill`] or drop.
///
/// The router binds 127.0.0.1 only. Its endpoints (see `scripts/crossbar/config.json`):
/// WebSocket paths `/ws` (anonymous), `/auth`, `/ticket`, `/wampcra`, `/cryptosign`, `/scram`,
/// `/anyauth` and `/info` on [`Crossbar::ws_port`]; RawSocket anonymous on
/// [`Crossbar::rawsocket_port`] and authenticated on [`Crossbar::rawsocket_auth_port`]; realms
/// `realm1` and `realm2`. [`Crossbar::start_with`] adds the endpoints of [`RouterOptions`].
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
    options: RouterOptions,
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
    fn assign(options: &RouterOptions, ports: &[u16]) -> ExtraEndpoints {
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
    fn port_count(options: &RouterOptions) -> usize {
        usize::from(options.rawsocket_limited.is_some())
            + options
                .tls
                .as_ref()
                .map_or(0, |tls| 2 + usize::from(tls.client_ca.is_some()))
    }

    /// The `crossbar.sh run` options for these endpoints.
    fn args(&self, options: &RouterOptions) -> Vec<String> {
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

impl Crossbar {
    /// Starts a router on three free ports and waits until it accepts connections.
    ///
    /// The script's progress and error messages (venv installation, router log on failure) go
    /// to this process's stderr.
    pub fn start() -> Result<Crossbar, String> {
        Self::start_with(&RouterOptions::default())
    }

    /// Starts a router with the extra endpoints of `options`, on free ports, and waits until
    /// every endpoint accepts connections.
    pub fn start_with(options: &RouterOptions) -> Result<Crossbar, String> {
        start_on_free_ports("Crossbar.io", || {
            let ports = free_port_list(3 + ExtraEndpoints::port_count(options))
                .map_err(StartError::Failed)?;
            let (&[ws, rawsocket, rawsocket_auth], rest) = ports.split_at(3.min(ports.len()))
            else {
                return Err(StartError::Failed(
                    "free_port_list returned too few ports".into(),
                ));
            };
            let extra = ExtraEndpoints::assign(options, rest);
            Self::start_on(ws, rawsocket, rawsocket_auth, options, extra)
        })
    }

    fn start_on(
        ws: u16,
        rawsocket: u16,
        rawsocket_auth: u16,
        options: &RouterOptions,
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
    /// [`RouterOptions::rawsocket_limited`]: `rs://127.0.0.1:PORT`, if the router has one.
    pub fn rawsocket_limited_url(&self) -> Option<String> {
        self.extra
            .rawsocket_limited_port
            .map(|port| format!("rs://127.0.0.1:{port}"))
    }

    /// The path of the anonymous RawSocket endpoint on a Unix domain socket
    /// ([`RouterOptions::rawsocket_unix`]), if the router has one.
    pub fn rawsocket_unix_path(&self) -> Option<&Path> {
        self.extra.rawsocket_unix.as_deref()
    }

    /// The URL of the Unix domain socket endpoint: `unix:///PATH`, if the router has one.
    pub fn rawsocket_unix_url(&self) -> Option<String> {
        self.rawsocket_unix_path()
            .map(|path| format!("unix://{}", path.display()))
    }

    /// The URL of the anonymous WebSocket path over TLS ([`RouterOptions::tls`]):
    /// `wss://127.0.0.1:PORT/ws`, if the router has it. The other WebSocket paths are there too.
    pub fn wss_url(&self) -> Option<String> {
        self.extra
            .wss_port
            .map(|port| format!("wss://127.0.0.1:{port}/ws"))
    }

    /// The URL of the anonymous RawSocket endpoint over TLS ([`RouterOptions::tls`]):
    /// `rss://127.0.0.1:PORT`, if the router has it.
    pub fn rss_url(&self) -> Option<String> {
        self.extra
            .rss_port
            .map(|port| format!("rss://127.0.0.1:{port}"))
    }

    /// The URL of the anonymous RawSocket endpoint over TLS that requires a client certificate
    /// ([`TlsEndpoints::client_ca`](crate::TlsEndpoints::client_ca)): `rss://127.0.0.1:PORT`, if the router has it.
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

/// The port of a `ready ws://127.0.0.1:PORT` line.
fn parse_ready_line(line: &str) -> Option<u16> {
    line.trim_end()
        .strip_prefix("ready ws://127.0.0.1:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TlsEndpoints;

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
            options: RouterOptions::default(),
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
        let options = RouterOptions {
            rawsocket_limited: Some(65536),
            rawsocket_unix: true,
            tls: Some(TlsEndpoints {
                certificate: PathBuf::from("/c.pem"),
                key: PathBuf::from("/k.pem"),
                client_ca: Some(PathBuf::from("/ca.pem")),
            }),
        };
        assert_eq!(ExtraEndpoints::port_count(&options), 4);
        assert_eq!(ExtraEndpoints::port_count(&RouterOptions::default()), 0);
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
            options: RouterOptions::default(),
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
}

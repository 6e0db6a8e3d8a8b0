//! Test support: the router the examples and end-to-end tests run against, and Autobahn|Python
//! peers connected to it.
//!
//! The router under test is chosen by the environment variable `WAMP_TEST_ROUTER`
//! ([`ROUTER_ENV`]): `crossbar` (the default) runs Crossbar.io, the reference router
//! ([`Crossbar`], `scripts/crossbar.sh run` on free ports of 127.0.0.1); `embedded` runs this
//! workspace's `wampkit-router` in the test process ([`Embedded`]), with the same realms, roles,
//! credentials and endpoints. [`TestRouter`] is either one; [`shared`] gives all tests of one
//! test binary the same router. [`TestRouter::start_with`] adds endpoints for particular tests
//! ([`RouterOptions`]): a RawSocket with a small message limit, a RawSocket on a Unix domain
//! socket, and TLS endpoints. Where the two routers differ, a test asserts each one's documented
//! behaviour, or runs on Crossbar.io only and says why ([`skip_on_embedded`]).
//!
//! Crossbar.io starts in about 4-5 seconds (the first start on a machine creates its Python
//! venv, about two minutes); the embedded router at once.
//!
//! [`PythonPeer`] and [`run_python`] run `tests/python/peer.py`, an Autobahn|Python peer, against
//! either router, for interoperability tests (they need Crossbar.io's venv, which has
//! Autobahn|Python).
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
//! A router stops when its [`TestRouter`] is dropped, and also when the test process exits
//! without dropping it (statics such as the [`shared`] router are never dropped): Crossbar.io's
//! script watches its stdin pipe and the test process id, and the embedded router lives in the
//! test process.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

mod crossbar;
pub mod e2e;
mod embedded;
pub mod proxy;
mod python;
mod router;

pub use crossbar::Crossbar;
pub use embedded::Embedded;
pub use python::{PythonPeer, run_python};
pub use router::{
    ROUTER_ENV, RouterKind, RouterOptions, TestRouter, TlsEndpoints, shared, skip_on_embedded,
};

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

/// The Python of Crossbar.io's venv, which has Autobahn|Python; the first call asks
/// `crossbar.sh python` (cheap once the venv exists; it creates the venv otherwise).
fn venv_python() -> Result<PathBuf, String> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON.get_or_init(ask_venv_python).clone()
}

fn ask_venv_python() -> Result<PathBuf, String> {
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

/// Attempts to start a process on freshly chosen ports, when another process takes one of them
/// between the choice and the bind (see [`start_on_free_ports`]).
const START_ATTEMPTS: usize = 3;

/// Why one attempt to start a process on chosen ports failed.
#[derive(Debug)]
enum StartError {
    /// A chosen port was taken by someone else: worth another attempt on other ports.
    PortInUse(String),
    /// Anything else.
    Failed(String),
}

impl StartError {
    fn into_message(self) -> String {
        match self {
            StartError::PortInUse(e) | StartError::Failed(e) => e,
        }
    }
}

/// Runs `attempt` (which picks its ports afresh each time) until it succeeds, fails for another
/// reason than a taken port, or has failed [`START_ATTEMPTS`] times; `what` names the process
/// in the last case's error.
fn start_on_free_ports<T>(
    what: &str,
    mut attempt: impl FnMut() -> Result<T, StartError>,
) -> Result<T, String> {
    let mut last_error = String::new();
    for _ in 0..START_ATTEMPTS {
        match attempt() {
            Ok(started) => return Ok(started),
            Err(StartError::PortInUse(e)) => last_error = e,
            Err(StartError::Failed(e)) => return Err(e),
        }
    }
    Err(format!(
        "could not start {what} in {START_ATTEMPTS} attempts, each on a port that another process \
         took first; the last: {last_error}"
    ))
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

/// Compiles the README's examples as doctests (here, where every feature of wampkit and the
/// embedded router are at hand).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Compiles and runs the examples of the `#[service]` guide (wamp-client/src/docs/service.md) as
/// doctests: they start an embedded router.
#[doc = include_str!("../wamp-client/src/docs/service.md")]
#[cfg(doctest)]
pub struct ServiceGuideDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_differ() {
        let ports = free_ports();
        assert!(
            matches!(ports, Ok([a, b, c]) if a != b && b != c && a != c && a != 0),
            "{ports:?}"
        );
    }

    #[test]
    fn paths() {
        assert!(crossbar_script().ends_with("scripts/crossbar.sh"));
        assert!(peer_script().ends_with("tests/python/peer.py"));
    }
}

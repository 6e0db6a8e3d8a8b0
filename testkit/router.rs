//! The router under test: Crossbar.io or the embedded router, chosen by `WAMP_TEST_ROUTER`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::{Crossbar, Embedded};

/// The environment variable that chooses the router under test: `crossbar` (the default) or
/// `embedded`.
pub const ROUTER_ENV: &str = "WAMP_TEST_ROUTER";

/// Which router the tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterKind {
    /// Crossbar.io, the reference router (`scripts/crossbar.sh run`).
    Crossbar,
    /// This workspace's `wampkit-router`, in the test process.
    Embedded,
}

impl RouterKind {
    /// The kind [`ROUTER_ENV`] names; unset or empty means [`RouterKind::Crossbar`].
    pub fn from_env() -> Result<RouterKind, String> {
        Self::parse(std::env::var(ROUTER_ENV).ok().as_deref())
    }

    fn parse(value: Option<&str>) -> Result<RouterKind, String> {
        match value.map(str::trim) {
            None | Some("" | "crossbar") => Ok(RouterKind::Crossbar),
            Some("embedded") => Ok(RouterKind::Embedded),
            Some(other) => Err(format!(
                "{ROUTER_ENV}={other:?}: expected \"crossbar\" or \"embedded\""
            )),
        }
    }

    /// The kind of the router under test ([`from_env`](Self::from_env), read once); a value
    /// that names no router means Crossbar.io, and [`TestRouter::start`] reports it.
    pub fn current() -> RouterKind {
        static KIND: OnceLock<RouterKind> = OnceLock::new();
        *KIND.get_or_init(|| Self::from_env().unwrap_or(RouterKind::Crossbar))
    }

    /// The router's name for messages: `Crossbar.io` or `the embedded router`.
    pub fn name(self) -> &'static str {
        match self {
            RouterKind::Crossbar => "Crossbar.io",
            RouterKind::Embedded => "the embedded router",
        }
    }
}

/// Whether the router under test is the embedded one, so that the calling test, which checks
/// a behaviour of Crossbar.io only, should stop; if so, prints `why` (with `--nocapture`, or
/// when the test fails).
///
/// ```no_run
/// if testkit::skip_on_embedded("Crossbar.io reads CALL timeouts in seconds") {
///     return;
/// }
/// ```
pub fn skip_on_embedded(why: &str) -> bool {
    let skip = RouterKind::current() == RouterKind::Embedded;
    if skip {
        eprintln!("testkit: runs on Crossbar.io only: {why}");
    }
    skip
}

/// Extra endpoints for [`TestRouter::start_with`]; the default adds none.
///
/// Each is a copy of the anonymous RawSocket endpoint (or, for `wss`, of the WebSocket
/// endpoint with all its paths) with one difference.
#[derive(Debug, Clone, Default)]
pub struct RouterOptions {
    /// An anonymous RawSocket endpoint that accepts messages of at most this many bytes (at
    /// least 512 for Crossbar.io, 1024 for the embedded router); see
    /// [`TestRouter::rawsocket_limited_url`].
    pub rawsocket_limited: Option<u32>,
    /// An anonymous RawSocket endpoint on a Unix domain socket in a temporary directory; see
    /// [`TestRouter::rawsocket_unix_url`].
    pub rawsocket_unix: bool,
    /// TLS endpoints; see [`TestRouter::wss_url`], [`TestRouter::rss_url`] and
    /// [`TestRouter::rss_mtls_url`].
    pub tls: Option<TlsEndpoints>,
}

/// The certificate files of the TLS endpoints ([`RouterOptions::tls`]), all PEM. The router
/// reads them at start.
#[derive(Debug, Clone)]
pub struct TlsEndpoints {
    /// The server certificate (optionally followed by its chain).
    pub certificate: PathBuf,
    /// The server certificate's private key.
    pub key: PathBuf,
    /// With a CA certificate, one more anonymous RawSocket over TLS endpoint requires a client
    /// certificate issued by that CA ([`TestRouter::rss_mtls_url`]).
    pub client_ca: Option<PathBuf>,
}

/// The router under test, with Crossbar.io's endpoints (see `scripts/crossbar/config.json`):
/// WebSocket paths `/ws` (anonymous), `/auth`, `/ticket`, `/wampcra`, `/cryptosign`, `/scram`
/// and `/anyauth` ([`url`](Self::url)); RawSocket anonymous ([`rawsocket_url`](Self::rawsocket_url))
/// and authenticated ([`rawsocket_auth_url`](Self::rawsocket_auth_url)); realms `realm1` and
/// `realm2`; roles `anonymous` and `user` (everything), `restricted` (call and subscribe under
/// `com.example.public.`); callers and publishers always disclosed. All bind 127.0.0.1.
///
/// Stopped on [`kill`](Self::kill) or drop.
#[derive(Debug)]
pub enum TestRouter {
    /// Crossbar.io.
    Crossbar(Crossbar),
    /// The embedded router.
    Embedded(Embedded),
}

/// Calls the same method of whichever router it is.
macro_rules! delegate {
    ($self:ident.$method:ident($($arg:expr),*)) => {
        match $self {
            TestRouter::Crossbar(router) => router.$method($($arg),*),
            TestRouter::Embedded(router) => router.$method($($arg),*),
        }
    };
}

impl TestRouter {
    /// Starts the router [`ROUTER_ENV`] names, on free ports, and waits until it accepts
    /// connections.
    pub fn start() -> Result<TestRouter, String> {
        Self::start_with(&RouterOptions::default())
    }

    /// Starts the router [`ROUTER_ENV`] names with the extra endpoints of `options`, on free
    /// ports, and waits until every endpoint accepts connections.
    pub fn start_with(options: &RouterOptions) -> Result<TestRouter, String> {
        match RouterKind::from_env()? {
            RouterKind::Crossbar => Crossbar::start_with(options).map(TestRouter::Crossbar),
            RouterKind::Embedded => Embedded::start_with(options).map(TestRouter::Embedded),
        }
    }

    /// Which router this is.
    pub fn kind(&self) -> RouterKind {
        match self {
            TestRouter::Crossbar(_) => RouterKind::Crossbar,
            TestRouter::Embedded(_) => RouterKind::Embedded,
        }
    }

    /// The URL of the anonymous WebSocket endpoint: `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        delegate!(self.ws_url())
    }

    /// The URL of a WebSocket path (`"ws"`, `"auth"`, `"ticket"`, `"wampcra"`, `"cryptosign"`,
    /// `"scram"`, `"anyauth"`): `ws://127.0.0.1:PORT/<path>`. A leading `/` is optional. (The
    /// embedded router serves each path with other authentication methods on a port of its
    /// own.)
    pub fn url(&self, path: &str) -> String {
        delegate!(self.url(path))
    }

    /// The URL of the anonymous RawSocket endpoint: `rs://127.0.0.1:PORT`.
    pub fn rawsocket_url(&self) -> String {
        delegate!(self.rawsocket_url())
    }

    /// The URL of the authenticated RawSocket endpoint (ticket, wampcra, cryptosign, scram):
    /// `rs://127.0.0.1:PORT`.
    pub fn rawsocket_auth_url(&self) -> String {
        delegate!(self.rawsocket_auth_url())
    }

    /// The URL of the anonymous RawSocket endpoint with the message limit of
    /// [`RouterOptions::rawsocket_limited`]: `rs://127.0.0.1:PORT`, if the router has one.
    pub fn rawsocket_limited_url(&self) -> Option<String> {
        delegate!(self.rawsocket_limited_url())
    }

    /// The path of the anonymous RawSocket endpoint on a Unix domain socket
    /// ([`RouterOptions::rawsocket_unix`]), if the router has one.
    pub fn rawsocket_unix_path(&self) -> Option<&Path> {
        delegate!(self.rawsocket_unix_path())
    }

    /// The URL of the Unix domain socket endpoint: `unix:///PATH`, if the router has one.
    pub fn rawsocket_unix_url(&self) -> Option<String> {
        self.rawsocket_unix_path()
            .map(|path| format!("unix://{}", path.display()))
    }

    /// The URL of the anonymous WebSocket path over TLS ([`RouterOptions::tls`]):
    /// `wss://127.0.0.1:PORT/ws`, if the router has it.
    pub fn wss_url(&self) -> Option<String> {
        delegate!(self.wss_url())
    }

    /// The URL of the anonymous RawSocket endpoint over TLS ([`RouterOptions::tls`]):
    /// `rss://127.0.0.1:PORT`, if the router has it.
    pub fn rss_url(&self) -> Option<String> {
        delegate!(self.rss_url())
    }

    /// The URL of the anonymous RawSocket endpoint over TLS that requires a client certificate
    /// ([`TlsEndpoints::client_ca`]): `rss://127.0.0.1:PORT`, if the router has it.
    pub fn rss_mtls_url(&self) -> Option<String> {
        delegate!(self.rss_mtls_url())
    }

    /// The port of the anonymous WebSocket endpoint.
    pub fn ws_port(&self) -> u16 {
        delegate!(self.ws_port())
    }

    /// The port of the anonymous RawSocket endpoint.
    pub fn rawsocket_port(&self) -> u16 {
        delegate!(self.rawsocket_port())
    }

    /// The Python of Crossbar.io's venv, which has Autobahn|Python.
    pub fn python(&self) -> Result<PathBuf, String> {
        match self {
            TestRouter::Crossbar(router) => Ok(router.python()),
            TestRouter::Embedded(_) => crate::venv_python(),
        }
    }

    /// Stops the router abruptly: no goodbye, connections just drop (Crossbar.io: SIGKILL to
    /// its process group; the embedded router: its runtime is dropped). The ports stay
    /// reserved for [`restart`](Self::restart).
    pub fn kill_router(&mut self) -> Result<(), String> {
        delegate!(self.kill_router())
    }

    /// Starts the router again on the same ports with the same endpoints (after
    /// [`kill_router`](Self::kill_router) or [`kill`](Self::kill)); its realms start empty.
    pub fn restart(&mut self) -> Result<(), String> {
        delegate!(self.restart())
    }

    /// Freezes Crossbar.io (SIGSTOP to its process group), like a host that stalls: its
    /// connections stay open but nothing is read or answered until
    /// [`thaw_router`](Self::thaw_router). The embedded router cannot be frozen.
    pub fn freeze_router(&mut self) -> Result<(), String> {
        match self {
            TestRouter::Crossbar(router) => router.freeze_router(),
            TestRouter::Embedded(_) => Err("the embedded router cannot be frozen".into()),
        }
    }

    /// Resumes a router frozen by [`freeze_router`](Self::freeze_router).
    pub fn thaw_router(&mut self) -> Result<(), String> {
        match self {
            TestRouter::Crossbar(router) => router.thaw_router(),
            TestRouter::Embedded(_) => Err("the embedded router cannot be frozen".into()),
        }
    }

    /// Stops the router and waits until it is gone. Does nothing if it is stopped already.
    pub fn kill(&mut self) {
        delegate!(self.kill());
    }
}

static SHARED: OnceLock<Result<TestRouter, String>> = OnceLock::new();

/// The router shared by all tests of this process, started on first use.
///
/// Concurrent callers wait for the one start. A failed start is remembered: every caller gets
/// the same error. The router is never dropped; it stops when this process exits.
pub fn shared() -> Result<&'static TestRouter, String> {
    SHARED
        .get_or_init(TestRouter::start)
        .as_ref()
        .map_err(|e| format!("the shared router did not start: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(RouterKind::parse(None), Ok(RouterKind::Crossbar));
        assert_eq!(RouterKind::parse(Some("")), Ok(RouterKind::Crossbar));
        assert_eq!(
            RouterKind::parse(Some("crossbar")),
            Ok(RouterKind::Crossbar)
        );
        assert_eq!(
            RouterKind::parse(Some("embedded\n")),
            Ok(RouterKind::Embedded)
        );
        let err = RouterKind::parse(Some("nginx")).err().unwrap_or_default();
        assert!(err.contains(ROUTER_ENV), "{err}");
    }
}

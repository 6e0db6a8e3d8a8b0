//! The embedded router (`wampkit-router`) set up like Crossbar.io's test configuration, in the test
//! process.
//!
//! The routers run on a multi-thread tokio runtime of their own, so that they outlive the
//! runtime of the test that started them (tests use one runtime each) and keep routing while a
//! test blocks. A router's settings (authentication methods, message limit, TLS) apply to all
//! its listeners, so Crossbar.io's endpoints that differ in them are routers of their own, each
//! with realm1 and realm2, on ports of their own: sessions on different ones do not meet.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rustls::RootCertStore;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::runtime::Runtime;
use wampkit::auth::primitives::ScramKdfVariant;
use wampkit::router::{Action, AuthMethod, Authentication, Credential, RealmConfig, Role, Router};

use crate::RouterOptions;

/// How long [`Embedded::restart`] retries to bind a port that a stopped router still holds.
const REBIND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`Embedded::kill`] lets the routers say goodbye to their sessions.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The file name of the Unix domain socket endpoint, in a temporary directory.
const UNIX_SOCKET_NAME: &str = "rawsocket.sock";

/// The embedded router with Crossbar.io's test endpoints, realms, roles and credentials.
pub struct Embedded {
    /// The runtime the routers run on; `None` once stopped.
    runtime: Option<Runtime>,
    /// The running routers, by instance.
    routers: Vec<(Instance, Router)>,
    /// Every endpoint; the URLs have the ports chosen at the first start.
    endpoints: Vec<Endpoint>,
    options: RouterOptions,
    /// The directory of the Unix socket, removed on drop.
    unix_dir: Option<PathBuf>,
}

impl fmt::Debug for Embedded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedded")
            .field("running", &self.runtime.is_some())
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

/// A router instance: Crossbar.io endpoints that share one set of settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instance {
    /// Anonymous: `/ws`, RawSocket, Unix socket, and the TLS endpoints without client
    /// certificates.
    Anonymous,
    /// Anonymous RawSocket with a small message limit.
    Limited,
    /// Anonymous RawSocket over TLS that requires a client certificate.
    MutualTls,
    /// Ticket, WAMP-CRA, cryptosign and SCRAM: `/auth` and the authenticated RawSocket.
    Auth,
    /// One method: `/ticket`, `/wampcra`, `/cryptosign` or `/scram`.
    Only(AuthMethod),
    /// Every method and anonymous: `/anyauth`.
    AnyAuth,
}

/// What an endpoint is, for the accessors.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Name {
    /// A WebSocket path, such as `ws` or `ticket`.
    Path(&'static str),
    RawSocket,
    RawSocketAuth,
    Limited,
    Unix,
    Wss,
    Rss,
    RssMutualTls,
}

/// One listener.
#[derive(Debug, Clone)]
struct Endpoint {
    instance: Instance,
    name: Name,
    /// Where it listens: port 0 before the first start.
    url: String,
    port: Option<u16>,
}

impl Endpoint {
    fn new(instance: Instance, name: Name, url: String) -> Endpoint {
        Endpoint {
            instance,
            name,
            url,
            port: None,
        }
    }
}

impl Embedded {
    /// Starts the routers with the extra endpoints of `options`, on ports the system chooses.
    pub fn start_with(options: &RouterOptions) -> Result<Embedded, String> {
        let unix_dir = if options.rawsocket_unix {
            Some(unix_dir()?)
        } else {
            None
        };
        let mut embedded = Embedded {
            runtime: None,
            routers: Vec::new(),
            endpoints: plan(options, unix_dir.as_deref()),
            options: options.clone(),
            unix_dir,
        };
        embedded.launch(Duration::ZERO)?;
        Ok(embedded)
    }

    /// Builds the routers on a new runtime and listens on every endpoint, retrying a port in use
    /// for `retry_for`.
    fn launch(&mut self, retry_for: Duration) -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("embedded-router")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime for the embedded router: {e}"))?;
        let mut routers = Vec::new();
        for endpoint in &self.endpoints {
            if !routers.iter().any(|(i, _)| *i == endpoint.instance) {
                routers.push((endpoint.instance, build(endpoint.instance, &self.options)?));
            }
        }
        let plan: Vec<(Router, String)> = self
            .endpoints
            .iter()
            .filter_map(|endpoint| {
                let (_, router) = routers.iter().find(|(i, _)| *i == endpoint.instance)?;
                Some((router.clone(), endpoint.url.clone()))
            })
            .collect();
        let bound = run_on(&runtime, async move {
            let deadline = Instant::now() + retry_for;
            let mut bound = Vec::new();
            for (router, url) in plan {
                loop {
                    match router.listen(&url).await {
                        Ok(listening) => {
                            bound.push(listening);
                            break;
                        }
                        Err(_) if Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            Ok(bound)
        });
        let bound = match bound.and_then(|bound| bound) {
            Ok(bound) => bound,
            Err(e) => {
                runtime.shutdown_background();
                return Err(format!("the embedded router did not start: {e}"));
            }
        };
        for (endpoint, listening) in self.endpoints.iter_mut().zip(bound) {
            endpoint.url = listening.url().to_owned();
            endpoint.port = listening.local_addr().map(|a| a.port());
        }
        self.runtime = Some(runtime);
        self.routers = routers;
        Ok(())
    }

    fn endpoint(&self, name: &Name) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.name == *name)
    }

    fn endpoint_url(&self, name: &Name) -> Option<String> {
        self.endpoint(name).map(|e| e.url.clone())
    }

    /// See [`TestRouter::ws_url`](crate::TestRouter::ws_url).
    pub fn ws_url(&self) -> String {
        self.url("ws")
    }

    /// See [`TestRouter::url`](crate::TestRouter::url). A path Crossbar.io does not have is
    /// looked for on the anonymous endpoint's port, where nothing answers it.
    pub fn url(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        self.endpoints
            .iter()
            .find(|e| matches!(e.name, Name::Path(p) if p == path))
            .map_or_else(
                || format!("ws://127.0.0.1:{}/{path}", self.ws_port()),
                |e| e.url.clone(),
            )
    }

    /// See [`TestRouter::rawsocket_url`](crate::TestRouter::rawsocket_url).
    pub fn rawsocket_url(&self) -> String {
        self.endpoint_url(&Name::RawSocket).unwrap_or_default()
    }

    /// See [`TestRouter::rawsocket_auth_url`](crate::TestRouter::rawsocket_auth_url).
    pub fn rawsocket_auth_url(&self) -> String {
        self.endpoint_url(&Name::RawSocketAuth).unwrap_or_default()
    }

    /// See [`TestRouter::rawsocket_limited_url`](crate::TestRouter::rawsocket_limited_url).
    pub fn rawsocket_limited_url(&self) -> Option<String> {
        self.endpoint_url(&Name::Limited)
    }

    /// See [`TestRouter::rawsocket_unix_path`](crate::TestRouter::rawsocket_unix_path).
    pub fn rawsocket_unix_path(&self) -> Option<&Path> {
        self.endpoint(&Name::Unix)
            .and_then(|e| e.url.strip_prefix("unix://"))
            .map(Path::new)
    }

    /// See [`TestRouter::wss_url`](crate::TestRouter::wss_url).
    pub fn wss_url(&self) -> Option<String> {
        self.endpoint_url(&Name::Wss)
    }

    /// See [`TestRouter::rss_url`](crate::TestRouter::rss_url).
    pub fn rss_url(&self) -> Option<String> {
        self.endpoint_url(&Name::Rss)
    }

    /// See [`TestRouter::rss_mtls_url`](crate::TestRouter::rss_mtls_url).
    pub fn rss_mtls_url(&self) -> Option<String> {
        self.endpoint_url(&Name::RssMutualTls)
    }

    /// See [`TestRouter::ws_port`](crate::TestRouter::ws_port).
    pub fn ws_port(&self) -> u16 {
        self.endpoint(&Name::Path("ws"))
            .and_then(|e| e.port)
            .unwrap_or_default()
    }

    /// See [`TestRouter::rawsocket_port`](crate::TestRouter::rawsocket_port).
    pub fn rawsocket_port(&self) -> u16 {
        self.endpoint(&Name::RawSocket)
            .and_then(|e| e.port)
            .unwrap_or_default()
    }

    /// Drops the routers' runtime: every task ends where it is, every socket closes, no
    /// session is told goodbye (as when a router process is killed).
    pub fn kill_router(&mut self) -> Result<(), String> {
        self.routers.clear();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        Ok(())
    }

    /// Stops the routers and starts new ones on the same ports.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.launch(REBIND_TIMEOUT)
    }

    /// Shuts the routers down (GOODBYE to every session) and stops their runtime.
    pub fn kill(&mut self) {
        let routers: Vec<Router> = self.routers.drain(..).map(|(_, r)| r).collect();
        if let Some(runtime) = self.runtime.take() {
            let _ = run_on(&runtime, async move {
                let all = futures_util::future::join_all(routers.iter().map(Router::shutdown));
                let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT, all).await;
            });
            runtime.shutdown_background();
        }
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = self.unix_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The endpoints `options` asks for, on port 0.
fn plan(options: &RouterOptions, unix_dir: Option<&Path>) -> Vec<Endpoint> {
    let local = |scheme: &str, path: &str| format!("{scheme}://127.0.0.1:0{path}");
    let mut endpoints = vec![
        Endpoint::new(Instance::Anonymous, Name::Path("ws"), local("ws", "/ws")),
        Endpoint::new(Instance::Anonymous, Name::RawSocket, local("rs", "")),
        Endpoint::new(Instance::Auth, Name::Path("auth"), local("ws", "/auth")),
        Endpoint::new(Instance::Auth, Name::RawSocketAuth, local("rs", "")),
        Endpoint::new(
            Instance::AnyAuth,
            Name::Path("anyauth"),
            local("ws", "/anyauth"),
        ),
    ];
    for (method, path) in [
        (AuthMethod::Ticket, "ticket"),
        (AuthMethod::WampCra, "wampcra"),
        (AuthMethod::CryptoSign, "cryptosign"),
        (AuthMethod::Scram, "scram"),
    ] {
        endpoints.push(Endpoint::new(
            Instance::Only(method),
            Name::Path(path),
            local("ws", &format!("/{path}")),
        ));
    }
    if options.rawsocket_limited.is_some() {
        endpoints.push(Endpoint::new(
            Instance::Limited,
            Name::Limited,
            local("rs", ""),
        ));
    }
    if let Some(dir) = unix_dir {
        let path = dir.join(UNIX_SOCKET_NAME);
        endpoints.push(Endpoint::new(
            Instance::Anonymous,
            Name::Unix,
            format!("unix://{}", path.display()),
        ));
    }
    if let Some(tls) = &options.tls {
        endpoints.push(Endpoint::new(
            Instance::Anonymous,
            Name::Wss,
            local("wss", "/ws"),
        ));
        endpoints.push(Endpoint::new(
            Instance::Anonymous,
            Name::Rss,
            local("rss", ""),
        ));
        if tls.client_ca.is_some() {
            endpoints.push(Endpoint::new(
                Instance::MutualTls,
                Name::RssMutualTls,
                local("rss", ""),
            ));
        }
    }
    endpoints
}

/// The router of `instance`: realm1 and realm2 as in Crossbar.io's test configuration.
fn build(instance: Instance, options: &RouterOptions) -> Result<Router, String> {
    let authentication = match instance {
        Instance::Anonymous | Instance::Limited | Instance::MutualTls => {
            Authentication::anonymous()
        }
        Instance::Auth => credentials(&AuthMethod::ALL)?,
        Instance::Only(method) => credentials(&[method])?,
        Instance::AnyAuth => credentials(&AuthMethod::ALL)?.anonymous_role("anonymous"),
    };
    let mut builder = Router::builder()
        .add_realm(realm("realm1", authentication.clone()))
        .add_realm(realm("realm2", authentication));
    match instance {
        Instance::Anonymous => {
            if let Some(tls) = &options.tls {
                builder = builder.tls(server_config(&tls.certificate, &tls.key, None)?);
            }
        }
        Instance::Limited => {
            if let Some(limit) = options.rawsocket_limited {
                builder = builder.max_message_size(limit as usize);
            }
        }
        Instance::MutualTls => {
            if let Some(tls) = &options.tls {
                builder = builder.tls(server_config(
                    &tls.certificate,
                    &tls.key,
                    tls.client_ca.as_deref(),
                )?);
            }
        }
        Instance::Auth | Instance::Only(_) | Instance::AnyAuth => {}
    }
    Ok(builder.build())
}

/// Crossbar.io's test principals (`scripts/crossbar/config.json`) of `methods`, and no
/// anonymous sessions.
fn credentials(methods: &[AuthMethod]) -> Result<Authentication, String> {
    let mut auth = Authentication::new();
    for method in methods {
        auth = match method {
            AuthMethod::Ticket => auth
                .ticket("ticket-user", "ticket-secret-123", "user")
                .ticket("restricted-user", "restricted-secret", "restricted"),
            AuthMethod::WampCra => auth
                .wampcra("cra-user", "cra-secret-123", "user")
                .wampcra_salted(
                    "cra-salted-user",
                    "cra-salted-secret",
                    "salt123",
                    100,
                    32,
                    "user",
                )
                .map_err(|e| e.to_string())?,
            AuthMethod::CryptoSign => auth
                .cryptosign("cs-user", CS_PUBLIC_KEY, "user")
                .and_then(|auth| auth.router_key(ROUTER_PRIVATE_KEY))
                .map_err(|e| e.to_string())?,
            AuthMethod::Scram => auth.principal("scram-user", scram_principal()?),
            _ => auth,
        };
    }
    Ok(auth)
}

/// The public key of the cryptosign principal `cs-user`.
const CS_PUBLIC_KEY: &str = "53d9e731fcf81e7b480a0c4f281fea226a6c58b8118d4c08975a90273c77ef3b";
/// The key with which the router signs the challenges of clients that authenticate it (a
/// throwaway test key, like Crossbar.io's node key).
const ROUTER_PRIVATE_KEY: &str = "8bb5b6a1b7bea6b1d8b0a5c1f2e3d4c5b6a79880716253443526170819aabbcc";

/// The SCRAM principal `scram-user` as Crossbar.io's configuration stores it: Argon2id (its
/// `argon2id-13` form), the salt, the cost, StoredKey and ServerKey.
fn scram_principal() -> Result<Credential, String> {
    let bytes = |hex_text: &str| hex::decode(hex_text).map_err(|e| format!("{hex_text}: {e}"));
    let key = |hex_text: &str| {
        <[u8; 32]>::try_from(bytes(hex_text)?).map_err(|_| format!("{hex_text}: not 32 bytes"))
    };
    Ok(Credential::scram_keys(
        ScramKdfVariant::Argon2idBase64,
        bytes("5ff8f9fad4f6c5ca86341dacf4ca3eae")?,
        16,
        512,
        key("02cb23c30751cd481d7f59cdb80499c6d9e6096756a7d9efa9f4fa9e9327864c")?,
        key("45a39bb0eb7239e01c8ece71a2e7e2cfef51df9a06e932cada1a8161eb186951")?,
        "user",
    ))
}

/// A realm with Crossbar.io's test roles, callers and publishers disclosed.
fn realm(name: &str, authentication: Authentication) -> RealmConfig {
    RealmConfig::new(name)
        .authentication(authentication)
        .role(Role::new("anonymous").allow("", Action::ALL))
        .role(Role::new("user").allow("", Action::ALL))
        .role(
            Role::new("restricted").allow("com.example.public.", [Action::Call, Action::Subscribe]),
        )
        .disclose_callers()
        .disclose_publishers()
}

/// The TLS server configuration from PEM files; with `client_ca`, clients need a certificate
/// it issued.
fn server_config(
    certificate: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = CertificateDer::pem_file_iter(certificate)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", certificate.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in
                CertificateDer::pem_file_iter(ca).map_err(|e| format!("{}: {e}", ca.display()))?
            {
                let cert = cert.map_err(|e| format!("{}: {e}", ca.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", ca.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("client certificate verifier: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("{}: {e}", certificate.display()))?;
    Ok(Arc::new(config))
}

/// The prefix of the Unix socket directories, followed by the test process id.
const UNIX_DIR_PREFIX: &str = "wamp-testkit-router-";

/// A new empty directory for the Unix socket. Those of test processes that have ended are
/// removed first: a shared router is never dropped, so its directory outlives it.
fn unix_dir() -> Result<PathBuf, String> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    remove_stale_unix_dirs();
    let dir = std::env::temp_dir().join(format!(
        "{UNIX_DIR_PREFIX}{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Removes the Unix socket directories of processes that no longer run (Linux: no `/proc/PID`).
fn remove_stale_unix_dirs() {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|name| name.strip_prefix(UNIX_DIR_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !proc.join(pid.to_string()).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs `future` on `runtime` and waits for it, from any thread (also one of another runtime,
/// where waiting directly is not allowed).
fn run_on<F>(runtime: &Runtime, future: F) -> Result<F::Output, String>
where
    F: Future + Send,
    F::Output: Send,
{
    let handle = runtime.handle();
    thread::scope(|scope| {
        scope
            .spawn(|| handle.block_on(future))
            .join()
            .map_err(|_| "the embedded router's task panicked".to_owned())
    })
}

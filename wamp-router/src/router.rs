//! The [`Router`] handle: realms, in-process sessions, listeners and shutdown.

use std::future::Ready;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rustc_hash::{FxHashMap, FxHashSet};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wampkit_client::transport::memory::{self, MemoryTransport};
use wampkit_client::transport::{Transport, TransportError};
use wampkit_client::wire::Id;
use wampkit_client::{Serializer, Session, SessionBuilder};

use crate::builder::{RouterBuilder, Settings};
use crate::connection;
use crate::listen::{self, ListenError};
use crate::realm::{Realm, RealmConfig, RealmHandle};

/// An embedded WAMP router. Cloning it gives another handle to the same router.
///
/// Sessions join in-process ([`connect`](Self::connect), [`join`](Self::join)) or over the
/// network ([`listen`](Self::listen)); [`shutdown`](Self::shutdown) ends them all.
#[derive(Clone)]
pub struct Router {
    pub(crate) inner: Arc<RouterInner>,
}

/// What every connection of a router shares.
pub(crate) struct RouterInner {
    pub(crate) realms: FxHashMap<String, Arc<Realm>>,
    pub(crate) settings: Settings,
    /// Cancelled by [`Router::shutdown`]: listeners stop, sessions are told GOODBYE.
    pub(crate) shutdown: CancellationToken,
    /// Every connection and listener task, so that shutdown can wait for them.
    pub(crate) tasks: TaskTracker,
    /// Session ids in use: they are unique across realms (the specification's global scope).
    pub(crate) session_ids: Mutex<FxHashSet<Id>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut realms: Vec<&str> = self.inner.realms.keys().map(String::as_str).collect();
        realms.sort_unstable();
        f.debug_struct("Router")
            .field("realms", &realms)
            .finish_non_exhaustive()
    }
}

/// A listener started by [`Router::listen`]: where clients connect.
#[derive(Debug, Clone)]
pub struct Listening {
    url: String,
    local_addr: Option<SocketAddr>,
}

impl Listening {
    /// The URL clients connect to, with the port the system chose when the URL gave port 0.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address (`None` for a Unix socket).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }
}

impl Router {
    /// A builder: add realms, then [`build`](RouterBuilder::build).
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    pub(crate) fn new(realms: Vec<RealmConfig>, settings: Settings) -> Router {
        let realms = realms
            .into_iter()
            .map(|config| (config.name.clone(), Arc::new(Realm::new(config, &settings))))
            .collect();
        Router {
            inner: Arc::new(RouterInner {
                realms,
                settings,
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                session_ids: Mutex::new(FxHashSet::default()),
            }),
        }
    }

    /// A session joined to `realm` in-process, encoding its messages with MessagePack. Use
    /// [`join`](Self::join) to choose the serializer, authentication or any other setting.
    pub async fn connect(&self, realm: &str) -> wampkit_client::Result<Session> {
        self.join(
            Session::builder(format!("memory://router/{realm}"), realm)
                .serializer(Serializer::MsgPack),
        )
        .await
    }

    /// Joins a session built with `builder` in-process. Its messages are encoded and decoded
    /// with the builder's serializer, as over a socket, so the codecs are exercised; its URL
    /// only names the connection. Reconnecting works as over a socket (each attempt is a new
    /// in-process connection).
    pub async fn join(&self, builder: SessionBuilder) -> wampkit_client::Result<Session> {
        builder.connect_with_factory(self.connector()).await
    }

    /// Opens an in-process connection to this router each time it is called: the factory for
    /// [`SessionBuilder::connect_with_factory`]. The router learns the session's serializer
    /// from its HELLO.
    pub fn connector(
        &self,
    ) -> impl Fn() -> Ready<Result<MemoryTransport, TransportError>> + Send + Sync + 'static {
        let router = self.clone();
        move || {
            if router.inner.shutdown.is_cancelled() {
                return std::future::ready(Err(TransportError::new("the router has shut down")));
            }
            let (client, server) = memory::duplex(memory::DEFAULT_CAPACITY);
            router.spawn_connection(Box::new(server), None, "in-process".to_owned());
            std::future::ready(Ok(client))
        }
    }

    /// Serves one connection accepted elsewhere (a WebSocket upgraded by one's own HTTP server,
    /// say), whose messages are encoded with `serializer`.
    pub fn serve(
        &self,
        transport: impl Transport + 'static,
        serializer: Serializer,
        peer: impl Into<String>,
    ) {
        self.spawn_connection(Box::new(transport), Some(serializer), peer.into());
    }

    fn spawn_connection(
        &self,
        transport: Box<dyn Transport>,
        serializer: Option<Serializer>,
        peer: String,
    ) {
        if self.inner.shutdown.is_cancelled() {
            // A router shut down admits nobody: the transport is dropped, which closes it.
            return;
        }
        let inner = self.inner.clone();
        self.inner
            .tasks
            .spawn(connection::serve(inner, transport, serializer, peer));
    }

    /// Listens on `url` until [`shutdown`](Self::shutdown): `ws://HOST:PORT/PATH`,
    /// `rs://HOST:PORT`, `unix:///PATH`, and `wss://` and `rss://` with the TLS configuration
    /// given to [`RouterBuilder::tls`]. Port 0 lets the system choose; the returned
    /// [`Listening`] tells which.
    pub async fn listen(&self, url: &str) -> Result<Listening, ListenError> {
        let mut listener = listen::bind(url, &self.inner.settings.listen).await?;
        let listening = Listening {
            url: listener.url().to_owned(),
            local_addr: listener.local_addr(),
        };
        let router = self.clone();
        let shutdown = self.inner.shutdown.clone();
        self.inner.tasks.spawn(async move {
            loop {
                let incoming = tokio::select! {
                    () = shutdown.cancelled() => break,
                    incoming = listener.accept() => incoming,
                };
                match incoming {
                    Ok(incoming) => {
                        let router = router.clone();
                        router.inner.clone().tasks.spawn(async move {
                            let shutdown = router.inner.shutdown.clone();
                            let handshake = tokio::select! {
                                handshake = incoming.handshake() => handshake,
                                () = shutdown.cancelled() => return,
                            };
                            match handshake {
                                Ok(accepted) => {
                                    connection::serve(
                                        router.inner.clone(),
                                        accepted.transport,
                                        Some(accepted.serializer),
                                        accepted.peer,
                                    )
                                    .await;
                                }
                                Err(e) => tracing::debug!(error = %e, "handshake failed"),
                            }
                        });
                    }
                    Err(e) => {
                        // Out of file descriptors, say: wait rather than spin.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(listening)
    }

    /// A realm of this router, for inspecting and steering it (sessions, registrations,
    /// subscriptions; killing sessions, revoking registrations).
    pub fn realm(&self, name: &str) -> Option<RealmHandle> {
        self.inner
            .realms
            .get(name)
            .map(|realm| RealmHandle::new(realm.clone()))
    }

    /// The names of the router's realms, sorted.
    pub fn realm_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.inner.realms.keys().cloned().collect();
        names.sort_unstable();
        names
    }

    /// Shuts the router down: listeners stop, every session is sent GOODBYE
    /// `wamp.close.system_shutdown` and given the [goodbye
    /// timeout](RouterBuilder::goodbye_timeout) to answer, then its connection is closed.
    /// Returns once every connection has ended.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }
}

impl RouterInner {
    /// A new session id, unique across the router's realms.
    pub(crate) fn new_session_id(&self) -> Id {
        let mut ids = match self.session_ids.lock() {
            Ok(ids) => ids,
            Err(poisoned) => poisoned.into_inner(),
        };
        loop {
            let id = crate::ids::random_id();
            if ids.insert(id) {
                return id;
            }
        }
    }

    /// Frees a session id once its session has ended.
    pub(crate) fn release_session_id(&self, id: Id) {
        let mut ids = match self.session_ids.lock() {
            Ok(ids) => ids,
            Err(poisoned) => poisoned.into_inner(),
        };
        ids.remove(&id);
    }
}

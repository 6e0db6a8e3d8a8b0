//! Listeners: accept WebSocket and RawSocket (TCP, TLS, Unix) connections and agree on a
//! serializer, handing each connection to the router as a [`Transport`].

use std::net::SocketAddr;
use std::sync::Arc;

use wamp_client::Serializer;
use wamp_client::transport::Transport;

/// Why a listener could not start or a connection could not be accepted.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {url}: {reason}")]
pub struct ListenError {
    /// The URL given to [`Router::listen`](crate::Router::listen).
    pub url: String,
    /// What went wrong, and what to do about it.
    pub reason: String,
}

/// Settings every listener of a router shares.
#[derive(Debug, Clone)]
pub(crate) struct ListenSettings {
    /// The server configuration for `wss://` and `rss://`.
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    /// The largest message accepted from a client.
    pub(crate) max_message_size: usize,
}

/// A bound listener.
pub(crate) struct Listener {
    url: String,
    local_addr: Option<SocketAddr>,
}

/// A connection accepted, before its handshake.
pub(crate) struct Incoming {}

/// A connection ready to carry WAMP messages.
pub(crate) struct Accepted {
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) serializer: Serializer,
    /// The peer, as the session meta API shows it (`tcp4:127.0.0.1:50000`, `unix`).
    pub(crate) peer: String,
}

/// Binds `url`.
pub(crate) async fn bind(url: &str, _settings: &ListenSettings) -> Result<Listener, ListenError> {
    Err(ListenError {
        url: url.to_owned(),
        reason: "listening is not available yet".into(),
    })
}

impl Listener {
    /// The URL clients connect to, with the port the system chose for port 0.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The bound address (`None` for Unix sockets).
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The next connection.
    pub(crate) async fn accept(&mut self) -> std::io::Result<Incoming> {
        std::future::pending().await
    }
}

impl Incoming {
    /// Runs the transport's handshake (WebSocket upgrade, RawSocket handshake, TLS).
    pub(crate) async fn handshake(self) -> Result<Accepted, ListenError> {
        std::future::pending().await
    }
}

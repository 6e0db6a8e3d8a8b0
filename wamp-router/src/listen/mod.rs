//! Listeners: accept WebSocket and RawSocket (TCP, TLS, Unix) connections and agree on a
//! serializer, handing each connection to the router as a [`Transport`].
//!
//! Every handshake (TLS, then the WebSocket upgrade or the RawSocket handshake) has a deadline,
//! so a client that connects and says nothing does not hold a task for long.

mod url;
mod websocket;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use wampkit_client::Serializer;
use wampkit_client::transport::Transport;
use wampkit_client::transport::rawsocket::{RawSocketTransport, server_handshake};

use self::url::{ListenUrl, Protocol, bound_url};

/// Why a listener could not start or a connection could not be accepted.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {url}: {reason}")]
pub struct ListenError {
    /// The URL given to [`Router::listen`](crate::Router::listen).
    pub url: String,
    /// What went wrong, and what to do about it.
    pub reason: String,
}

impl ListenError {
    fn new(url: &str, reason: impl Into<String>) -> Self {
        ListenError {
            url: url.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Settings every listener of a router shares.
#[derive(Debug, Clone)]
pub(crate) struct ListenSettings {
    /// The server configuration for `wss://` and `rss://`.
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    /// The largest message accepted from a client.
    pub(crate) max_message_size: usize,
}

/// How long a new connection may take to finish its TLS, WebSocket or RawSocket handshake.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound listener.
pub(crate) struct Listener {
    url: String,
    local_addr: Option<SocketAddr>,
    socket: Socket,
    protocol: Protocol,
    tls: Option<TlsAcceptor>,
    max_message_size: usize,
    pub(crate) handshake_timeout: Duration,
}

/// The bound socket.
enum Socket {
    Tcp(TcpListener),
    /// A Unix domain socket, and its path (removed when the listener is dropped).
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, std::path::PathBuf),
}

/// Anything a connection runs over: TCP, TLS over TCP, a Unix domain socket.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A connection accepted, before its handshake.
pub(crate) struct Incoming {
    stream: Connection,
    peer: String,
    url: String,
    protocol: Protocol,
    tls: Option<TlsAcceptor>,
    max_message_size: usize,
    timeout: Duration,
}

/// An accepted socket.
enum Connection {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

/// A connection ready to carry WAMP messages.
pub(crate) struct Accepted {
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) serializer: Serializer,
    /// The peer, as the session meta API shows it (`tcp4:127.0.0.1:50000`, `unix`).
    pub(crate) peer: String,
}

/// Binds `url`.
pub(crate) async fn bind(url: &str, settings: &ListenSettings) -> Result<Listener, ListenError> {
    let parsed = ListenUrl::parse(url).map_err(|reason| ListenError::new(url, reason))?;
    match parsed {
        ListenUrl::Tcp {
            scheme,
            host,
            port,
            protocol,
            tls,
        } => {
            let tls = if tls {
                let config = settings.tls.clone().ok_or_else(|| {
                    ListenError::new(
                        url,
                        format!(
                            "{scheme}:// needs a TLS certificate: give the router one with \
                             RouterBuilder::tls"
                        ),
                    )
                })?;
                Some(TlsAcceptor::from(config))
            } else {
                None
            };
            let address = host.trim_start_matches('[').trim_end_matches(']');
            let listener = TcpListener::bind((address, port))
                .await
                .map_err(|e| ListenError::new(url, format!("cannot bind {host}:{port}: {e}")))?;
            let local_addr = listener
                .local_addr()
                .map_err(|e| ListenError::new(url, format!("no local address: {e}")))?;
            Ok(Listener {
                url: bound_url(scheme, &host, local_addr.port(), &protocol),
                local_addr: Some(local_addr),
                socket: Socket::Tcp(listener),
                protocol,
                tls,
                max_message_size: settings.max_message_size,
                handshake_timeout: HANDSHAKE_TIMEOUT,
            })
        }
        ListenUrl::Unix(path) => bind_unix(url, &path, settings),
    }
}

/// Binds a Unix domain socket at `path`, replacing a stale socket file no process listens on.
#[cfg(unix)]
fn bind_unix(url: &str, path: &str, settings: &ListenSettings) -> Result<Listener, ListenError> {
    use std::os::unix::fs::FileTypeExt as _;

    if let Ok(metadata) = std::fs::symlink_metadata(path) {
        if !metadata.file_type().is_socket() {
            return Err(ListenError::new(
                url,
                format!("{path} exists and is not a socket; remove it or choose another path"),
            ));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ListenError::new(
                url,
                format!("another process is listening on {path}"),
            ));
        }
        std::fs::remove_file(path).map_err(|e| {
            ListenError::new(url, format!("cannot remove the stale socket {path}: {e}"))
        })?;
    }
    let listener = tokio::net::UnixListener::bind(path)
        .map_err(|e| ListenError::new(url, format!("cannot bind the Unix socket {path}: {e}")))?;
    Ok(Listener {
        url: url.to_owned(),
        local_addr: None,
        socket: Socket::Unix(listener, path.into()),
        protocol: Protocol::RawSocket,
        tls: None,
        max_message_size: settings.max_message_size,
        handshake_timeout: HANDSHAKE_TIMEOUT,
    })
}

/// Unix domain sockets exist on Unix only.
#[cfg(not(unix))]
fn bind_unix(url: &str, _path: &str, _settings: &ListenSettings) -> Result<Listener, ListenError> {
    Err(ListenError::new(
        url,
        "unix:// URLs need Unix domain sockets, which this platform does not have",
    ))
}

impl Drop for Listener {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Socket::Unix(_, path) = &self.socket {
            // Best effort: a socket file left behind is replaced by the next bind anyway.
            let _ = std::fs::remove_file(path);
        }
    }
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
        let (stream, peer) = match &self.socket {
            Socket::Tcp(listener) => {
                let (stream, address) = listener.accept().await?;
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot disable Nagle's algorithm");
                }
                (Connection::Tcp(stream), describe_peer(address))
            }
            #[cfg(unix)]
            Socket::Unix(listener, _) => {
                let (stream, _) = listener.accept().await?;
                (Connection::Unix(stream), "unix".to_owned())
            }
        };
        Ok(Incoming {
            stream,
            peer,
            url: self.url.clone(),
            protocol: self.protocol.clone(),
            tls: self.tls.clone(),
            max_message_size: self.max_message_size,
            timeout: self.handshake_timeout,
        })
    }
}

/// A TCP peer as Crossbar.io describes it: `tcp4:127.0.0.1:50000`, `tcp6:::1:50000` (an
/// IPv4 client of a dual-stack socket shows as `tcp4`).
fn describe_peer(address: SocketAddr) -> String {
    match address {
        SocketAddr::V4(v4) => format!("tcp4:{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => format!("tcp4:{v4}:{}", v6.port()),
            None => format!("tcp6:{}:{}", v6.ip(), v6.port()),
        },
    }
}

impl Incoming {
    /// Runs the transport's handshake (WebSocket upgrade, RawSocket handshake, TLS).
    pub(crate) async fn handshake(self) -> Result<Accepted, ListenError> {
        let url = self.url.clone();
        let peer = self.peer.clone();
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.run()).await {
            Ok(Ok(accepted)) => Ok(accepted),
            Ok(Err(reason)) => Err(ListenError::new(&url, format!("{peer}: {reason}"))),
            Err(_) => Err(ListenError::new(
                &url,
                format!(
                    "{peer}: the client did not finish its handshake within {} ms",
                    timeout.as_millis()
                ),
            )),
        }
    }

    async fn run(self) -> Result<Accepted, String> {
        let stream: Box<dyn Io> = match self.stream {
            Connection::Tcp(tcp) => match &self.tls {
                Some(acceptor) => Box::new(
                    acceptor
                        .accept(tcp)
                        .await
                        .map_err(|e| format!("TLS handshake failed: {e}"))?,
                ),
                None => Box::new(tcp),
            },
            #[cfg(unix)]
            Connection::Unix(unix) => Box::new(unix),
        };
        let (transport, serializer): (Box<dyn Transport>, Serializer) = match &self.protocol {
            Protocol::WebSocket { path } => {
                let (transport, serializer) =
                    websocket::accept(stream, path, self.max_message_size).await?;
                (Box::new(transport), serializer)
            }
            Protocol::RawSocket => {
                let mut stream = stream;
                let handshake = server_handshake(&mut stream, self.max_message_size)
                    .await
                    .map_err(|e| e.to_string())?;
                (
                    Box::new(RawSocketTransport::server(stream, &handshake)),
                    handshake.serializer,
                )
            }
        };
        Ok(Accepted {
            transport,
            serializer,
            peer: self.peer,
        })
    }
}

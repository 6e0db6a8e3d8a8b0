//! Transports: carry encoded WAMP messages between this client and the router.
//!
//! A transport is a [`Stream`] of received messages and a [`Sink`] of messages to send, each one
//! complete WAMP message as bytes. The session task owns it; nothing else touches the socket.
//!
//! The router URL chooses the transport:
//!
//! | URL | transport |
//! | --- | --- |
//! | `ws://host[:port]/path` | WebSocket (port 80 by default) |
//! | `wss://host[:port]/path` | WebSocket over TLS (port 443 by default) |
//! | `rs://host:port` | RawSocket over TCP |
//! | `rss://host:port` | RawSocket over TLS |
//! | `unix:///path/to/socket` | RawSocket over a Unix domain socket (Unix only) |
//!
//! IPv6 addresses go in brackets (`rs://[::1]:8081`). RawSocket has no default port. Certificates
//! of `wss://` and `rss://` routers are verified against the Mozilla root certificates compiled in
//! (`webpki-roots`); the `tls_*` methods of the [`SessionBuilder`](crate::SessionBuilder) add the
//! system's store or private CAs.
//!
//! `ws://` is always there; `wss://` needs the `tls` feature, `rs://` and
//! `unix://` the `rawsocket` feature, `rss://` both. A URL whose feature is off fails to connect
//! with [`Error::FeatureDisabled`](crate::Error::FeatureDisabled), which names it.
//!
#![cfg_attr(
    feature = "proxy",
    doc = "With the `proxy` feature (on by default), `ws://`, `wss://`, `rs://` and `rss://`",
    doc = "connections go through an HTTP proxy when one is set",
    doc = "([`SessionBuilder::proxy`](crate::SessionBuilder::proxy)) or the environment names one",
    doc = "(`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`): a `CONNECT` tunnel to the",
    doc = "router, inside which TLS and the WebSocket or RawSocket handshake run as without a",
    doc = "proxy. `unix://` never uses a proxy.",
    doc = ""
)]
//! Every transport watches the router's liveness (see `keepalive`): it sends PINGs and fails
//! the connection when the router stays silent too long.
//!
//! # Other transports
//! A session runs over anything that is a [`Transport`]: a [`Stream`] of received messages and
//! a [`Sink`] of messages to send, each item one whole encoded WAMP message.
//! [`SessionBuilder::connect_with`](crate::SessionBuilder::connect_with) joins over one such
//! transport, and [`connect_with_factory`](crate::SessionBuilder::connect_with_factory) opens a
//! new one for every connection, reconnects included. [`memory`] is one in the same process,
//! for tests and embedding.
//!
//! # The router's side
//! `rawsocket` (with the `rawsocket` feature) also holds the router's half of RawSocket (its handshake and transport), for
//! routers built on this crate's wire types.

pub(crate) mod features;
mod keepalive;
pub mod memory;
#[cfg(feature = "proxy")]
mod proxy;
#[cfg(feature = "rawsocket")]
#[cfg_attr(docsrs, doc(cfg(feature = "rawsocket")))]
pub mod rawsocket;
#[cfg(feature = "__tls")]
mod tls;
mod websocket;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio::net::TcpStream;

use crate::error::ConnectError;
use crate::wire::Serializer;

#[cfg(test)]
pub(crate) use keepalive::{DEFAULT_INTERVAL, DEFAULT_TIMEOUT};
pub(crate) use keepalive::{KeepaliveOptions, KeepaliveTiming};
#[cfg(feature = "proxy")]
pub use proxy::ProxyError;
#[cfg(feature = "proxy")]
pub(crate) use proxy::ProxySettings;
#[cfg(feature = "__tls")]
pub(crate) use tls::{ClientAuthPem, TlsOptions};
pub(crate) use websocket::WebSocketOptions;

/// Transport settings chosen on the [`SessionBuilder`](crate::SessionBuilder).
#[derive(Debug, Clone, Default)]
pub(crate) struct TransportOptions {
    /// WebSocket settings. Its `max_message_size` is the receive limit of every transport.
    pub(crate) websocket: WebSocketOptions,
    /// TLS settings for `wss://` and `rss://`.
    #[cfg(feature = "__tls")]
    pub(crate) tls: TlsOptions,
    /// PINGs and the dead-peer timeout.
    pub(crate) keepalive: KeepaliveOptions,
    /// Opens the connections instead of the URL, when set.
    pub(crate) factory: Option<TransportFactory>,
    /// The HTTP proxy of `ws://`, `wss://`, `rs://` and `rss://` connections.
    #[cfg(feature = "proxy")]
    pub(crate) proxy: ProxySettings,
}

impl TransportOptions {
    /// The largest message accepted from the router, on every transport.
    pub(crate) fn max_message_size(&self) -> usize {
        self.websocket.max_message_size
    }
}

/// An I/O failure of a transport. Its [`source`](std::error::Error::source) is the
/// [`io::Error`](std::io::Error) when the failure came from the socket.
#[derive(Debug, Clone)]
pub struct TransportError {
    message: String,
    io: Option<Arc<std::io::Error>>,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {
    // The `io::Error` itself, not its `Arc`, so that `downcast_ref::<io::Error>` finds it.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io_error().map(|e| e as _)
    }
}

impl TransportError {
    /// A transport error with this description (for transports of one's own).
    pub fn new(reason: impl Into<String>) -> Self {
        TransportError {
            message: reason.into(),
            io: None,
        }
    }

    /// A transport error caused by `error`, described as `{context}: {error}`.
    pub fn io(context: &str, error: std::io::Error) -> Self {
        TransportError {
            message: format!("{context}: {error}"),
            io: Some(Arc::new(error)),
        }
    }

    /// The I/O error that caused this one, if any.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        self.io.as_deref()
    }

    /// The kind of the I/O error that caused this one, if any.
    pub fn kind(&self) -> Option<std::io::ErrorKind> {
        self.io_error().map(std::io::Error::kind)
    }
}

/// A message transport: what the session task reads from and writes to.
///
/// Each item of the [`Stream`] is one whole WAMP message as the router encoded it, each item
/// given to the [`Sink`] one whole message to send; the serializer is the one the session was
/// built with ([`SessionBuilder::serializer`](crate::SessionBuilder::serializer), JSON by
/// default). The end of the stream or an `Err` item ends the connection. The session flushes
/// after each batch of messages and closes the sink when the session ends. Nothing bounds the
/// size of a received message but the transport itself.
///
/// It is implemented for every type with these traits; [`memory::MemoryTransport`] is one.
pub trait Transport:
    Stream<Item = Result<Bytes, TransportError>> + Sink<Bytes, Error = TransportError> + Send + Unpin
{
}

impl<T> Transport for T where
    T: Stream<Item = Result<Bytes, TransportError>>
        + Sink<Bytes, Error = TransportError>
        + Send
        + Unpin
{
}

/// A boxed future of a transport being opened.
type Opening = Pin<Box<dyn Future<Output = Result<Box<dyn Transport>, TransportError>> + Send>>;

/// Opens a new transport for each connection (see
/// [`SessionBuilder::connect_with_factory`](crate::SessionBuilder::connect_with_factory)).
#[derive(Clone)]
pub(crate) struct TransportFactory(Arc<dyn Fn() -> Opening + Send + Sync>);

impl TransportFactory {
    pub(crate) fn new<F, Fut, T>(factory: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, TransportError>> + Send + 'static,
        T: Transport + 'static,
    {
        TransportFactory(Arc::new(move || {
            let opening = factory();
            Box::pin(async move {
                let transport: Box<dyn Transport> = Box::new(opening.await?);
                Ok(transport)
            })
        }))
    }
}

impl fmt::Debug for TransportFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransportFactory")
    }
}

/// An open transport and the serializer agreed with the router.
pub(crate) struct Connection {
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) serializer: Serializer,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("serializer", &self.serializer)
            .finish_non_exhaustive()
    }
}

/// `url` fit for logs and errors: the password of its userinfo (the whole userinfo when it has
/// no password, which may be a token) and its query string and fragment masked, e.g.
/// `ws://user:***@host/path?…`.
pub(crate) fn redact_url(url: &str) -> Cow<'_, str> {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, authority),
    };
    let (path, hidden) = match path.find(['?', '#']) {
        Some(at) => (path.get(..at).unwrap_or_default(), path.get(at..at + 1)),
        None => (path, None),
    };
    if userinfo.is_none() && hidden.is_none() {
        return Cow::Borrowed(url);
    }
    let mut redacted = String::with_capacity(url.len());
    if let Some(scheme) = scheme {
        redacted.push_str(scheme);
        redacted.push_str("://");
    }
    match userinfo.map(|userinfo| userinfo.split_once(':')) {
        Some(Some((user, _password))) => {
            redacted.push_str(user);
            redacted.push_str(":***@");
        }
        Some(None) => redacted.push_str("***@"),
        None => {}
    }
    redacted.push_str(host);
    redacted.push_str(path);
    if let Some(mark) = hidden {
        redacted.push_str(mark);
        redacted.push('…');
    }
    Cow::Owned(redacted)
}

const SCHEMES: &str = "use ws://host:port/path, wss://host:port/path, rs://host:port, \
                       rss://host:port or unix:///path/to/socket";

/// Opens a transport to `url`, offering `serializers` in order of preference.
pub(crate) async fn connect(
    url: &str,
    serializers: &[Serializer],
    options: &TransportOptions,
) -> Result<Connection, ConnectError> {
    if serializers.is_empty() {
        return Err(ConnectError::new(
            url,
            "no serializer was offered; offer at least one",
        ));
    }
    if let Some(factory) = &options.factory {
        // The first serializer offered: there is no handshake to agree on another.
        let serializer = serializers.first().copied().unwrap_or(Serializer::Json);
        let transport = (factory.0)().await.map_err(|e| {
            ConnectError::with_source(url, format!("cannot open the transport: {e}"), e)
        })?;
        return Ok(Connection {
            transport,
            serializer,
        });
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(ConnectError::new(
            url,
            format!("the URL has no scheme; {SCHEMES}"),
        ));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "ws" | "wss" => websocket::connect(url, serializers, options).await,
        #[cfg(feature = "rawsocket")]
        "rs" | "rss" => {
            let secure = scheme.eq_ignore_ascii_case("rss");
            let (host, port) = parse_host_port(url, rest)?;
            let host = host.as_str();
            #[cfg(feature = "__tls")]
            let tls_options = &options.tls;
            rawsocket::connect(url, serializers, options, move || async move {
                let tcp = open_tcp(url, options, secure, host, port).await?;
                let stream: Box<dyn rawsocket::Io> = if secure {
                    #[cfg(feature = "__tls")]
                    {
                        Box::new(tls::connect(url, host, tcp, tls_options).await?)
                    }
                    #[cfg(not(feature = "__tls"))]
                    {
                        return Err(features::scheme_connect_error(url, "rss"));
                    }
                } else {
                    Box::new(tcp)
                };
                Ok(stream)
            })
            .await
        }
        #[cfg(feature = "rawsocket")]
        "unix" => {
            if rest.is_empty() {
                return Err(ConnectError::new(
                    url,
                    "the unix:// URL has no socket path; use unix:///path/to/socket",
                ));
            }
            rawsocket::connect(url, serializers, options, || unix_connect(url, rest)).await
        }
        #[cfg(not(feature = "rawsocket"))]
        "rs" | "rss" | "unix" => {
            let _ = rest;
            Err(features::scheme_connect_error(url, scheme))
        }
        _ => Err(ConnectError::new(
            url,
            format!("unsupported URL scheme `{scheme}`; {SCHEMES}"),
        )),
    }
}

/// Splits the `host:port` of a RawSocket URL (what follows `rs://` or `rss://`).
#[cfg(feature = "rawsocket")]
fn parse_host_port(url: &str, rest: &str) -> Result<(String, u16), ConnectError> {
    let authority = match rest.split_once('/') {
        Some((authority, "")) => authority,
        Some(_) => {
            return Err(ConnectError::new(
                url,
                "a RawSocket URL has no path; use rs://host:port or rss://host:port",
            ));
        }
        None => rest,
    };
    if authority.contains(['@', '?', '#']) {
        return Err(ConnectError::new(
            url,
            "a RawSocket URL is only rs://host:port or rss://host:port (no user, query or \
             fragment)",
        ));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err(ConnectError::new(url, "unclosed `[` in the IPv6 address"));
        };
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(ConnectError::new(url, "the URL has no host"));
    }
    let Some(port) = port else {
        return Err(ConnectError::new(
            url,
            "a RawSocket URL needs a port: rs://host:port or rss://host:port",
        ));
    };
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| ConnectError::new(url, format!("`{port}` is not a TCP port")))?;
    Ok((host.to_owned(), port))
}

/// Opens a TCP connection to the router at `host:port`, through the HTTP proxy chosen for it
/// if there is one (`secure`: the transport runs TLS over it, which picks `HTTPS_PROXY`).
pub(crate) async fn open_tcp(
    url: &str,
    options: &TransportOptions,
    secure: bool,
    host: &str,
    port: u16,
) -> Result<TcpStream, ConnectError> {
    #[cfg(feature = "proxy")]
    if let Some(proxy) = options.proxy.choose(url, secure, host, port)? {
        return proxy::tunnel(url, &proxy, host, port).await;
    }
    #[cfg(not(feature = "proxy"))]
    let _ = (options, secure);
    tcp_connect(url, host, port).await
}

/// Opens a TCP connection, without Nagle's delay (messages are flushed in batches anyway).
pub(crate) async fn tcp_connect(
    url: &str,
    host: &str,
    port: u16,
) -> Result<TcpStream, ConnectError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    connect_nodelay(host, port).await.map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::ConnectionRefused => format!(
                "connection refused by {host}:{port}: is the router running and listening on \
                 this address?"
            ),
            _ => format!("cannot open a TCP connection to {host}:{port}: {e}"),
        };
        ConnectError::with_source(url, reason, e)
    })
}

/// Opens a TCP connection to `host` (no brackets around an IPv6 address) without Nagle's
/// delay: to the router, or to the proxy that tunnels to it.
pub(crate) async fn connect_nodelay(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect((host, port)).await?;
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot disable Nagle's algorithm");
    }
    Ok(stream)
}

/// Opens a Unix domain socket.
#[cfg(all(unix, feature = "rawsocket"))]
async fn unix_connect(url: &str, path: &str) -> Result<Box<dyn rawsocket::Io>, ConnectError> {
    let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!("no Unix socket at {path}: is the router running and listening there?")
            }
            std::io::ErrorKind::ConnectionRefused => format!(
                "connection refused by the Unix socket {path}: is the router still running?"
            ),
            _ => format!("cannot connect to the Unix socket {path}: {e}"),
        };
        ConnectError::with_source(url, reason, e)
    })?;
    Ok(Box::new(stream))
}

/// Unix domain sockets exist on Unix only.
#[cfg(all(not(unix), feature = "rawsocket"))]
async fn unix_connect(url: &str, _path: &str) -> Result<Box<dyn rawsocket::Io>, ConnectError> {
    Err(ConnectError::new(
        url,
        "unix:// URLs need Unix domain sockets, which this platform does not have",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "rawsocket")]
    fn parse(rest: &str) -> Result<(String, u16), String> {
        parse_host_port("u", rest).map_err(|e| e.reason)
    }

    #[test]
    fn urls_are_redacted() {
        for (url, redacted) in [
            ("ws://127.0.0.1:8080/ws", "ws://127.0.0.1:8080/ws"),
            (
                "ws://user:secret@127.0.0.1:1/ws?token=abc",
                "ws://user:***@127.0.0.1:1/ws?…",
            ),
            ("wss://token@host/ws", "wss://***@host/ws"),
            ("wss://host/ws#frag", "wss://host/ws#…"),
            ("ws://host?token=abc", "ws://host?…"),
            ("ws://a:b@c:d@host/p?q#f", "ws://a:***@host/p?…"),
            ("rs://[::1]:8081", "rs://[::1]:8081"),
            ("unix:///run/wamp.sock", "unix:///run/wamp.sock"),
            ("no scheme?secret", "no scheme?…"),
        ] {
            assert_eq!(redact_url(url), redacted, "{url}");
        }
    }

    #[cfg(feature = "rawsocket")]
    #[test]
    fn host_and_port() {
        assert_eq!(parse("127.0.0.1:8081"), Ok(("127.0.0.1".into(), 8081)));
        assert_eq!(parse("localhost:8081/"), Ok(("localhost".into(), 8081)));
        assert_eq!(parse("[::1]:9000"), Ok(("::1".into(), 9000)));
        assert!(parse("localhost").is_err_and(|e| e.contains("needs a port")));
        assert!(parse("[::1]").is_err_and(|e| e.contains("needs a port")));
        assert!(parse("host:http").is_err_and(|e| e.contains("not a TCP port")));
        assert!(parse("host:0").is_err());
        assert!(parse(":8081").is_err_and(|e| e.contains("no host")));
        assert!(parse("host:8081/ws").is_err_and(|e| e.contains("no path")));
        assert!(parse("user@host:8081").is_err());
    }

    #[tokio::test]
    async fn unknown_schemes_are_explained() {
        let options = TransportOptions::default();
        for url in ["http://host:80", "host:8080"] {
            let error = connect(url, &Serializer::ALL, &options).await.err();
            let reason = error.map(|e| e.reason).unwrap_or_default();
            assert!(reason.contains("rs://host:port"), "{url}: {reason}");
        }
        let error = connect("unix://", &Serializer::ALL, &options).await.err();
        let reason = error.map(|e| e.reason).unwrap_or_default();
        if cfg!(feature = "rawsocket") {
            assert!(reason.contains("no socket path"), "{reason}");
        } else {
            assert!(reason.contains("`rawsocket` feature"), "{reason}");
        }
    }

    #[cfg(all(unix, feature = "rawsocket"))]
    #[tokio::test]
    async fn missing_unix_socket() {
        let options = TransportOptions::default();
        let error = connect("unix:///nonexistent/wamp.sock", &Serializer::ALL, &options)
            .await
            .err();
        let reason = error.map(|e| e.reason).unwrap_or_default();
        assert!(
            reason.contains("no Unix socket at /nonexistent/wamp.sock"),
            "{reason}"
        );
    }
}

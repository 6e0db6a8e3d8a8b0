//! The transport and TLS settings of [`SessionBuilder`].

#[cfg(feature = "__tls")]
use std::path::PathBuf;
#[cfg(any(feature = "__tls", feature = "proxy"))]
use std::sync::Arc;

use super::SessionBuilder;
#[cfg(feature = "__tls")]
use crate::transport::ClientAuthPem;
#[cfg(feature = "proxy")]
use crate::transport::ProxySettings;

/// # Transports and TLS
///
/// The router URL chooses the transport:
///
/// | URL | transport |
/// | --- | --- |
/// | `ws://host[:port]/path` | WebSocket (port 80 by default) |
/// | `wss://host[:port]/path` | WebSocket over TLS (port 443 by default) |
/// | `rs://host:port` | RawSocket over TCP |
/// | `rss://host:port` | RawSocket over TLS |
/// | `unix:///path/to/socket` | RawSocket over a Unix domain socket (Unix only) |
///
/// IPv6 addresses go in brackets (`rs://[::1]:8081`). RawSocket has no default port.
/// `wss://` needs the `tls` feature, `rs://` and `unix://` the `rawsocket`
/// feature, `rss://` both; without them, connecting fails with
/// [`Error::FeatureDisabled`](crate::Error::FeatureDisabled).
///
/// On RawSocket, one serializer is offered per connection: the first of
/// [`serializers`](SessionBuilder::serializers), then the next one on a new connection if the
/// router refuses it. [`max_message_size`](SessionBuilder::max_message_size) is announced in the
/// handshake (rounded down to a power of two, at least 512 bytes) and enforced on every frame
/// received; a larger frame fails the connection. Routers that honour the announcement (Crossbar.io
/// does) never send more: they skip such events and turn such results into errors, so a limit
/// below a few KiB can even keep the router's WELCOME from arriving. A message longer than the router's announced limit is never sent: a call,
/// acknowledged publication, subscription or registration fails with
/// `wamp.error.payload_size_exceeded` ([`ErrorUri::PayloadSizeExceeded`](crate::ErrorUri)) and
/// the session goes on; an oversized invocation result is replaced by that error for the caller.
/// PINGs from the router are answered with PONGs.
///
/// TLS (`wss://`, `rss://`) uses rustls with the `ring` provider. The router's certificate is
/// verified by default against the Mozilla root certificates compiled into the client
/// (`webpki-roots`, the `tls` or `tls-webpki-roots` feature), so verification does not depend
/// on the machine's certificate store; the `tls-native-roots` feature trusts that store too (or
/// instead, without `tls-webpki-roots`), and `tls_ca_file` / `tls_ca_pem` add the CA of a
/// private PKI. The `tls_*` methods are available with any of the TLS features.
///
/// ```no_run
/// # #[cfg(feature = "tls")]
/// # async fn demo() -> wampkit::Result<()> {
/// use wampkit::Session;
///
/// let session = Session::builder("rss://router.example.com:8443", "realm1")
///     .tls_ca_file("/etc/wamp/ca.pem")
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[cfg_attr(
    feature = "proxy",
    doc = "",
    doc = "## HTTP proxies",
    doc = "",
    doc = "With the `proxy` feature (on by default), `ws://`, `wss://`, `rs://` and `rss://`",
    doc = "connections go through an HTTP proxy: the one given to [`proxy`](SessionBuilder::proxy), or",
    doc = "else the one the environment names (`HTTPS_PROXY` for `wss://` and `rss://`, `HTTP_PROXY`",
    doc = "for `ws://` and `rs://`, `ALL_PROXY` for both, `NO_PROXY` for the exceptions; see",
    doc = "[`proxy`](SessionBuilder::proxy)); [`no_proxy`](SessionBuilder::no_proxy) turns both off.",
    doc = "The client asks the proxy for a tunnel (`CONNECT host:port`), then runs TLS and the WebSocket",
    doc = "or RawSocket handshake through it with the router, so a `wss://` connection stays encrypted",
    doc = "end to end and the proxy sees only the router's host and port. `unix://` never uses a proxy.",
    doc = "A proxy that refuses the tunnel or cannot be reached fails the connection with a",
    doc = "[`ConnectError`](crate::error::ConnectError) whose",
    doc = "[`proxy_error`](crate::error::ConnectError::proxy_error) says why (e.g. HTTP 407: wrong",
    doc = "credentials)."
)]
impl SessionBuilder {
    /// Also trusts the CA certificates of a PEM bundle (`-----BEGIN CERTIFICATE-----` blocks),
    /// e.g. the CA of a private PKI that signed the router's certificate. May be called more
    /// than once; the built-in roots stay trusted unless `no_tls_webpki_roots`. The bundle is
    /// parsed when connecting: a bundle without certificates fails the connection with a
    /// [`ConnectError`](crate::error::ConnectError).
    ///
    /// Available with the `tls` feature (or `tls-webpki-roots`, `tls-native-roots`).
    #[cfg(feature = "__tls")]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(
            feature = "tls",
            feature = "tls-webpki-roots",
            feature = "tls-native-roots"
        )))
    )]
    pub fn tls_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.transport.tls.ca_pems.push(Arc::from(pem.as_ref()));
        self
    }

    /// Also trusts the CA certificates of a PEM file, read when connecting (a missing or
    /// malformed file fails the connection with a [`ConnectError`](crate::error::ConnectError)).
    ///
    /// Available with the `tls` feature (or `tls-webpki-roots`, `tls-native-roots`).
    #[cfg(feature = "__tls")]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(
            feature = "tls",
            feature = "tls-webpki-roots",
            feature = "tls-native-roots"
        )))
    )]
    pub fn tls_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.transport.tls.ca_files.push(path.into());
        self
    }

    /// Stops trusting the operating system's certificate store (trusted by default with the
    /// `tls-native-roots` feature, loaded when connecting).
    ///
    /// Available with the `tls-native-roots` feature.
    #[cfg(feature = "tls-native-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls-native-roots")))]
    pub fn no_tls_native_roots(mut self) -> Self {
        self.transport.tls.native_roots = false;
        self
    }

    /// Stops trusting the Mozilla root certificates compiled into the client (trusted by
    /// default), to trust only the CAs given with [`tls_ca_file`](SessionBuilder::tls_ca_file)
    /// or [`tls_ca_pem`](SessionBuilder::tls_ca_pem) (or the system store, with the
    /// `tls-native-roots` feature).
    ///
    /// Available with the `tls` (or `tls-webpki-roots`) feature.
    #[cfg(feature = "tls-webpki-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls-webpki-roots")))]
    pub fn no_tls_webpki_roots(mut self) -> Self {
        self.transport.tls.webpki_roots = false;
        self
    }

    /// Presents a client certificate during the TLS handshake, for routers that require one
    /// (mutual TLS). Both arguments are PEM: the certificate chain (leaf first) and its private
    /// key (PKCS#8, PKCS#1 or SEC1). The key never appears in `Debug` output or errors.
    ///
    /// Available with the `tls` feature (or `tls-webpki-roots`, `tls-native-roots`).
    #[cfg(feature = "__tls")]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(
            feature = "tls",
            feature = "tls-webpki-roots",
            feature = "tls-native-roots"
        )))
    )]
    pub fn tls_client_auth_pem(
        mut self,
        certificate_chain: impl AsRef<[u8]>,
        private_key: impl AsRef<[u8]>,
    ) -> Self {
        self.transport.tls.client_auth = Some(ClientAuthPem {
            certificate_chain: Arc::from(certificate_chain.as_ref()),
            private_key: Arc::from(private_key.as_ref()),
        });
        self
    }

    /// The name the router's certificate must be valid for, and that is sent as SNI (default:
    /// the URL's host). For routers reached by an address their certificate does not list.
    ///
    /// Available with the `tls` feature (or `tls-webpki-roots`, `tls-native-roots`).
    #[cfg(feature = "__tls")]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(
            feature = "tls",
            feature = "tls-webpki-roots",
            feature = "tls-native-roots"
        )))
    )]
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.transport.tls.server_name = Some(name.into());
        self
    }

    /// Uses a complete rustls client configuration (from rustls 0.23) instead of the one built
    /// from the other `tls_*` settings, which are then ignored (except
    /// [`tls_server_name`](SessionBuilder::tls_server_name)). For custom verifiers, ALPN or
    /// another crypto provider.
    ///
    /// Available with the `tls` feature (or `tls-webpki-roots`, `tls-native-roots`).
    #[cfg(feature = "__tls")]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(
            feature = "tls",
            feature = "tls-webpki-roots",
            feature = "tls-native-roots"
        )))
    )]
    pub fn tls_client_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.transport.tls.client_config = Some(config);
        self
    }

    /// Connects through this HTTP proxy (feature `proxy`), instead of the one the environment
    /// may name: `http://[user:password@]host[:port]` (port 80 by default; no scheme means
    /// `http://`). A user and password in the URL are sent to the proxy with HTTP Basic
    /// authentication (`Proxy-Authorization`), percent-decoded (`p%40ss` is `p@ss`); they never
    /// appear in `Debug` output, logs or errors, which name the proxy by host and port.
    ///
    /// The proxy carries every `ws://`, `wss://`, `rs://` and `rss://` connection, reconnects
    /// included, whatever `NO_PROXY` says; `unix://` connects directly. Proxies reached over TLS
    /// (`https://`) and SOCKS proxies are not supported, here or in the environment: connecting
    /// fails with [`ProxyError::InvalidUrl`](crate::error::ProxyError::InvalidUrl), as it does
    /// for a URL given here that does not parse.
    ///
    /// Without this method or [`no_proxy`](SessionBuilder::no_proxy), the environment is read at
    /// the first connection (reconnects keep what it said then), as curl and reqwest read it:
    ///
    /// - `HTTPS_PROXY` (or `https_proxy`) for `wss://` and `rss://`, `HTTP_PROXY` (or
    ///   `http_proxy`) for `ws://` and `rs://`, `ALL_PROXY` (or `all_proxy`) for those the
    ///   other two leave unset. The uppercase name wins when both are set. A value that is not
    ///   a URL is ignored.
    /// - `NO_PROXY` (or `no_proxy`): hosts that connect directly, separated by commas: a domain
    ///   (`example.com` or `.example.com`, both matching the domain and its subdomains), an IP
    ///   address, a network (`10.0.0.0/8`), or `*` for all.
    /// - `localhost` and `127.0.0.1` are not exempt: a proxy named by the environment carries
    ///   them too, unless `NO_PROXY` lists them (as with reqwest; the proxy may well refuse).
    /// - In a CGI script (`REQUEST_METHOD` set), the environment names no proxy.
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// use wampkit::Session;
    ///
    /// let session = Session::builder("wss://router.example.com/ws", "realm1")
    ///     .proxy("http://alice:s3cret@proxy.example.com:3128")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "proxy")]
    pub fn proxy(mut self, url: impl AsRef<str>) -> Self {
        self.transport.proxy = ProxySettings::Fixed(Arc::from(url.as_ref()));
        self
    }

    /// Connects directly, without a proxy, whatever the environment's `HTTP_PROXY`,
    /// `HTTPS_PROXY` or `ALL_PROXY` say (feature `proxy`); undoes
    /// [`proxy`](SessionBuilder::proxy).
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// let session = wampkit::Session::builder("ws://10.0.0.7:8080/ws", "realm1")
    ///     .no_proxy()
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "proxy")]
    pub fn no_proxy(mut self) -> Self {
        self.transport.proxy = ProxySettings::Disabled;
        self
    }

    /// **Dangerous**: accepts any TLS certificate, whoever issued it and whatever name it is for,
    /// so that anyone on the network path can read and change the traffic. For tests against
    /// routers with throwaway certificates only. Every connection made this way logs a warning.
    ///
    /// Available with the `tls` feature (or `tls-webpki-roots`, `tls-native-roots`).
    #[cfg(feature = "__tls")]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(
            feature = "tls",
            feature = "tls-webpki-roots",
            feature = "tls-native-roots"
        )))
    )]
    pub fn danger_accept_invalid_certificates(mut self) -> Self {
        self.transport.tls.danger_accept_invalid_certificates = true;
        self
    }
}

#[cfg(test)]
#[cfg(feature = "tls-webpki-roots")]
mod tests {
    use crate::Session;

    #[test]
    fn settings_reach_the_transport_options() {
        let builder = Session::builder("rss://127.0.0.1:1", "realm1")
            .tls_ca_pem("pem")
            .tls_ca_file("/ca.pem")
            .no_tls_webpki_roots()
            .tls_server_name("router.example")
            .tls_client_auth_pem("chain", "secret-key")
            .danger_accept_invalid_certificates();
        let tls = &builder.transport.tls;
        assert_eq!(tls.ca_pems.len(), 1);
        assert_eq!(tls.ca_files.len(), 1);
        assert!(!tls.webpki_roots);
        assert_eq!(tls.server_name.as_deref(), Some("router.example"));
        assert!(tls.danger_accept_invalid_certificates);
        let shown = format!("{builder:?}");
        assert!(!shown.contains("secret-key"), "{shown}");
    }

    #[cfg(feature = "proxy")]
    #[test]
    fn proxy_settings_and_password_redaction() {
        use crate::transport::ProxySettings;

        let builder = Session::builder("ws://127.0.0.1:1/ws", "realm1");
        assert!(matches!(
            builder.transport.proxy,
            ProxySettings::Environment(_)
        ));
        let builder = builder.proxy("http://alice:pr0xy-secret@proxy:3128");
        assert!(matches!(builder.transport.proxy, ProxySettings::Fixed(_)));
        let shown = format!("{builder:?}");
        assert!(!shown.contains("pr0xy-secret"), "{shown}");
        assert!(shown.contains("proxy:3128"), "{shown}");
        let builder = builder.no_proxy();
        assert!(matches!(builder.transport.proxy, ProxySettings::Disabled));
    }
}

//! The transport and TLS settings of [`SessionBuilder`].

#[cfg(feature = "__tls")]
use std::path::PathBuf;
#[cfg(feature = "__tls")]
use std::sync::Arc;

use super::SessionBuilder;
#[cfg(feature = "__tls")]
use crate::transport::ClientAuthPem;

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
/// `wss://` needs the `tls` feature (on by default), `rs://` and `unix://` the `rawsocket`
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
/// # async fn demo() -> wamp_client::Result<()> {
/// use wamp_client::Session;
///
/// let session = Session::builder("rss://router.example.com:8443", "realm1")
///     .tls_ca_file("/etc/wamp/ca.pem")
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
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
}

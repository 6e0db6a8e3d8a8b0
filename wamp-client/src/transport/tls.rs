//! TLS for `wss://` and `rss://`, by rustls with the `ring` crypto provider.
//!
//! The router's certificate is verified by default against the Mozilla root certificates compiled
//! in (`webpki-roots`, the `tls-webpki-roots` feature), so that verification works the same in a
//! minimal container as on a desktop. The operating system's store is trusted as well with the
//! `tls-native-roots` feature ([`TlsOptions::native_roots`]: every root feature compiled in
//! adds its roots, so that features unified by another crate only ever add trust), and so are
//! the CA certificates of a private PKI (PEM bundles, in memory or in files). Turning
//! verification off takes a call named `danger_...`, and every connection made that way logs a
//! warning.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::ConnectError;

/// TLS settings chosen on the [`SessionBuilder`](crate::SessionBuilder).
#[derive(Clone)]
pub(crate) struct TlsOptions {
    /// Trust the Mozilla roots compiled in (default: yes, with the `tls-webpki-roots` feature).
    pub(crate) webpki_roots: bool,
    /// Trust the operating system's certificate store (default: yes, with the
    /// `tls-native-roots` feature).
    pub(crate) native_roots: bool,
    /// Extra trusted CA certificates: PEM bundles given in memory.
    pub(crate) ca_pems: Vec<Arc<[u8]>>,
    /// Extra trusted CA certificates: PEM files, read at every connect (off the runtime's
    /// threads).
    pub(crate) ca_files: Vec<PathBuf>,
    /// A client certificate chain and its private key (PEM), for routers that require one.
    pub(crate) client_auth: Option<ClientAuthPem>,
    /// The name the certificate must be valid for (default: the URL's host).
    pub(crate) server_name: Option<String>,
    /// Accept any certificate (tests only).
    pub(crate) danger_accept_invalid_certificates: bool,
    /// A complete rustls configuration that replaces everything above but `server_name`.
    pub(crate) client_config: Option<Arc<ClientConfig>>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            webpki_roots: cfg!(feature = "tls-webpki-roots"),
            native_roots: cfg!(feature = "tls-native-roots"),
            ca_pems: Vec::new(),
            ca_files: Vec::new(),
            client_auth: None,
            server_name: None,
            danger_accept_invalid_certificates: false,
            client_config: None,
        }
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("webpki_roots", &self.webpki_roots)
            .field("native_roots", &self.native_roots)
            .field("ca_pems", &self.ca_pems.len())
            .field("ca_files", &self.ca_files)
            .field("client_auth", &self.client_auth)
            .field("server_name", &self.server_name)
            .field(
                "danger_accept_invalid_certificates",
                &self.danger_accept_invalid_certificates,
            )
            .field("client_config", &self.client_config.is_some())
            .finish()
    }
}

/// A client certificate chain and its private key, both PEM. The key never shows in `Debug`.
#[derive(Clone)]
pub(crate) struct ClientAuthPem {
    pub(crate) certificate_chain: Arc<[u8]>,
    pub(crate) private_key: Arc<[u8]>,
}

impl fmt::Debug for ClientAuthPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAuthPem")
            .field(
                "certificate_chain",
                &format_args!("{} bytes", self.certificate_chain.len()),
            )
            .field("private_key", &format_args!("<redacted>"))
            .finish()
    }
}

/// The crypto provider of every configuration built here: `ring`, chosen explicitly so that no
/// process-wide default has to be installed.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parses every certificate of a PEM bundle; `what` names the bundle in error messages.
fn parse_certificates(
    url: &str,
    pem: &[u8],
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, ConnectError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ConnectError::with_source(url, format!("{what} is not a valid PEM bundle"), e)
        })?;
    if certificates.is_empty() {
        return Err(ConnectError::new(
            url,
            format!("{what} contains no certificate (expected -----BEGIN CERTIFICATE----- blocks)"),
        ));
    }
    Ok(certificates)
}

impl TlsOptions {
    /// [`client_config`](Self::client_config), built on tokio's blocking threads when it reads
    /// files (CA files, the system's certificate store): blocking I/O on a runtime thread would
    /// stall every task on it, all of them on a current-thread runtime. The files are read on
    /// every connect, so that a renewed CA is picked up when reconnecting.
    pub(crate) async fn load_client_config(
        &self,
        url: &str,
    ) -> Result<Arc<ClientConfig>, ConnectError> {
        let reads_files = self.native_roots || !self.ca_files.is_empty();
        if !reads_files || self.danger_accept_invalid_certificates || self.client_config.is_some() {
            return self.client_config(url);
        }
        let options = self.clone();
        let owned_url = url.to_owned();
        tokio::task::spawn_blocking(move || options.client_config(&owned_url))
            .await
            .map_err(|e| ConnectError::with_source(url, "loading the TLS certificates failed", e))?
    }

    /// The rustls configuration for a connection to `url`. Reads the CA files and the system's
    /// store with blocking I/O: async code calls [`load_client_config`](Self::load_client_config).
    pub(crate) fn client_config(&self, url: &str) -> Result<Arc<ClientConfig>, ConnectError> {
        if self.danger_accept_invalid_certificates {
            let provider = provider();
            let builder = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| ConnectError::with_source(url, "cannot set up TLS", e))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }));
            return self.finish(url, builder);
        }
        if let Some(config) = &self.client_config {
            return Ok(config.clone());
        }

        let mut roots = RootCertStore::empty();
        #[cfg(feature = "tls-webpki-roots")]
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(feature = "tls-native-roots")]
        if self.native_roots {
            let native = rustls_native_certs::load_native_certs();
            for error in &native.errors {
                tracing::debug!(%error, "skipping part of the system certificate store");
            }
            let (added, ignored) = roots.add_parsable_certificates(native.certs);
            tracing::debug!(added, ignored, "loaded the system's root certificates");
        }
        for (index, pem) in self.ca_pems.iter().enumerate() {
            let what = format!("the CA bundle #{} given to tls_ca_pem", index + 1);
            for certificate in parse_certificates(url, pem, &what)? {
                roots.add(certificate).map_err(|e| {
                    ConnectError::with_source(
                        url,
                        format!("{what} holds an unusable certificate"),
                        e,
                    )
                })?;
            }
        }
        for path in &self.ca_files {
            let pem = std::fs::read(path).map_err(|e| {
                ConnectError::with_source(
                    url,
                    format!("cannot read the CA file {}", path.display()),
                    e,
                )
            })?;
            let what = format!("the CA file {}", path.display());
            for certificate in parse_certificates(url, &pem, &what)? {
                roots.add(certificate).map_err(|e| {
                    ConnectError::with_source(
                        url,
                        format!("{what} holds an unusable certificate"),
                        e,
                    )
                })?;
            }
        }
        if roots.is_empty() {
            return Err(ConnectError::new(
                url,
                "no trusted root certificate: the built-in roots are off and no CA was given \
                 (tls_ca_pem, tls_ca_file, or the system's store with the `tls-native-roots` \
                 feature of wampkit)",
            ));
        }
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| ConnectError::with_source(url, "cannot set up TLS", e))?
            .with_root_certificates(roots);
        self.finish(url, builder)
    }

    /// Adds the client certificate, if any.
    fn finish(
        &self,
        url: &str,
        builder: rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>,
    ) -> Result<Arc<ClientConfig>, ConnectError> {
        let config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some(auth) => {
                let chain = parse_certificates(
                    url,
                    &auth.certificate_chain,
                    "the client certificate chain",
                )?;
                // The parse error is not passed on as a source: it could quote the key.
                let key = PrivateKeyDer::from_pem_slice(&auth.private_key).map_err(|_| {
                    ConnectError::new(
                        url,
                        "the client private key is not a PEM private key (expected a -----BEGIN \
                         PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY block)",
                    )
                })?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    ConnectError::with_source(
                        url,
                        "the client certificate and private key cannot be used together",
                        e,
                    )
                })?
            }
        };
        Ok(Arc::new(config))
    }

    /// The name the router's certificate is checked against.
    fn server_name(&self, url: &str, host: &str) -> Result<ServerName<'static>, ConnectError> {
        let name = self.server_name.as_deref().unwrap_or(host);
        let name = name.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(name.to_owned()).map_err(|e| {
            ConnectError::with_source(
                url,
                format!("`{name}` is not a valid TLS server name (a DNS name or an IP address)"),
                e,
            )
        })
    }
}

/// Runs the TLS handshake over `stream` (already connected to `host`).
pub(crate) async fn connect<S>(
    url: &str,
    host: &str,
    stream: S,
    options: &TlsOptions,
) -> Result<TlsStream<S>, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = options.load_client_config(url).await?;
    let server_name = options.server_name(url, host)?;
    if options.danger_accept_invalid_certificates {
        tracing::warn!(
            url = %super::redact_url(url),
            "TLS certificate verification is DISABLED (danger_accept_invalid_certificates): this \
             connection is not protected against interception; use it for tests only"
        );
    }
    let expected = server_name.to_str().into_owned();
    TlsConnector::from(config)
        .connect(server_name, stream)
        .await
        .map_err(|e| describe_handshake_error(url, &expected, e))
}

/// Turns a failed TLS handshake into an error that says what to check.
fn describe_handshake_error(url: &str, expected: &str, e: io::Error) -> ConnectError {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let reason = match tls {
        Some(rustls::Error::InvalidCertificate(certificate)) => {
            describe_certificate_error(certificate, expected)
        }
        Some(rustls::Error::AlertReceived(alert)) => describe_alert(*alert),
        Some(other) => format!("TLS handshake failed: {other}"),
        None => match e.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
                "the router closed the connection during the TLS handshake: is this a TLS \
                 endpoint?"
                    .to_owned()
            }
            _ => format!("TLS handshake failed: {e}"),
        },
    };
    ConnectError::with_source(url, reason, e)
}

/// Explains a TLS alert from the router in an I/O error, if there is one. With TLS 1.3 a router
/// refuses a client certificate only after the client has finished its handshake, so such
/// alerts surface on the first read.
pub(crate) fn alert_in(e: &io::Error) -> Option<String> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(alert) => Some(describe_alert(*alert)),
        _ => None,
    }
}

fn describe_alert(alert: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    match alert {
        A::CertificateRequired | A::HandshakeFailure => format!(
            "the router requires a TLS client certificate (TLS alert {alert:?}): set one with \
             tls_client_auth_pem"
        ),
        A::UnknownCA
        | A::BadCertificate
        | A::CertificateUnknown
        | A::CertificateExpired
        | A::CertificateRevoked
        | A::UnsupportedCertificate
        | A::AccessDenied => format!(
            "the router rejected this client's TLS certificate (TLS alert {alert:?}): it must be \
             valid and issued by a CA the router trusts"
        ),
        other => format!("the router aborted the TLS connection (TLS alert {other:?})"),
    }
}

fn describe_certificate_error(error: &CertificateError, expected: &str) -> String {
    match error {
        CertificateError::UnknownIssuer => {
            "the router's TLS certificate is not signed by a trusted \
             certificate authority (unknown issuer): add its CA with tls_ca_file or tls_ca_pem, or \
             trust the system's store with the `tls-native-roots` feature of wampkit"
                .to_owned()
        }
        CertificateError::NotValidForName => format!(
            "the router's TLS certificate is not valid for the name `{expected}`: connect with a \
             host name the certificate lists, or set the expected name with tls_server_name"
        ),
        CertificateError::NotValidForNameContext { presented, .. } => format!(
            "the router's TLS certificate is not valid for the name `{expected}` (it lists {}): \
             connect with a host name the certificate lists, or set the expected name with \
             tls_server_name",
            if presented.is_empty() {
                "no names".to_owned()
            } else {
                presented.join(", ")
            }
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "the router's TLS certificate has expired".to_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "the router's TLS certificate is not valid yet: check the clocks".to_owned()
        }
        CertificateError::Revoked => "the router's TLS certificate has been revoked".to_owned(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "the router's TLS certificate is not meant for TLS servers (extended key usage)"
                .to_owned()
        }
        other => format!("the router's TLS certificate was rejected: {other:?}"),
    }
}

/// The verifier of [`TlsOptions::danger_accept_invalid_certificates`]: accepts every certificate
/// chain and name, but still checks that the handshake is signed by the certificate's key.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_builds() {
        let options = TlsOptions::default();
        assert!(options.client_config("wss://example.com").is_ok());
        let danger = TlsOptions {
            danger_accept_invalid_certificates: true,
            ..TlsOptions::default()
        };
        assert!(danger.client_config("wss://example.com").is_ok());
    }

    #[test]
    fn bad_pem_is_a_clear_error() {
        let options = TlsOptions {
            ca_pems: vec![Arc::from(&b"not a certificate"[..])],
            ..TlsOptions::default()
        };
        let error = options.client_config("wss://example.com").err();
        let reason = error.map(|e| e.reason).unwrap_or_default();
        assert!(reason.contains("contains no certificate"), "{reason}");

        let options = TlsOptions {
            ca_files: vec![PathBuf::from("/nonexistent/ca.pem")],
            ..TlsOptions::default()
        };
        let reason = options
            .client_config("wss://example.com")
            .err()
            .map(|e| e.reason)
            .unwrap_or_default();
        assert!(
            reason.contains("cannot read the CA file /nonexistent/ca.pem"),
            "{reason}"
        );
    }

    #[test]
    fn no_roots_is_a_clear_error() {
        let options = TlsOptions {
            webpki_roots: false,
            native_roots: false,
            ..TlsOptions::default()
        };
        let reason = options
            .client_config("wss://example.com")
            .err()
            .map(|e| e.reason)
            .unwrap_or_default();
        assert!(reason.contains("no trusted root certificate"), "{reason}");
    }

    #[test]
    fn client_key_is_redacted() {
        let auth = ClientAuthPem {
            certificate_chain: Arc::from(&b"chain"[..]),
            private_key: Arc::from(&b"-----BEGIN PRIVATE KEY-----secret"[..]),
        };
        let shown = format!(
            "{:?}",
            TlsOptions {
                client_auth: Some(auth),
                ..TlsOptions::default()
            }
        );
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn server_names() {
        let options = TlsOptions::default();
        assert!(options.server_name("u", "localhost").is_ok());
        assert!(options.server_name("u", "127.0.0.1").is_ok());
        assert!(options.server_name("u", "[::1]").is_ok());
        assert!(options.server_name("u", "bad name").is_err());
    }
}

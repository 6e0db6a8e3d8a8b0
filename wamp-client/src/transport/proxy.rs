//! HTTP proxies: which proxy a connection to the router goes through, and the `CONNECT` tunnel
//! through it.
//!
//! The proxy comes from [`SessionBuilder::proxy`](crate::SessionBuilder::proxy), or else from
//! the environment, read as reqwest and curl read it (by hyper-util's matcher, the one reqwest
//! uses): `HTTPS_PROXY` for TLS transports (`wss://`, `rss://`), `HTTP_PROXY` for the others
//! (`ws://`, `rs://`), `ALL_PROXY` for both when those are unset, each also in lowercase, and
//! `NO_PROXY` for the hosts that connect directly.
//!
//! The tunnel is plain HTTP/1.1: `CONNECT host:port`, with `Proxy-Authorization: Basic …` when
//! the proxy URL has a user, then the WebSocket or RawSocket handshake (and TLS first, for
//! `wss://` and `rss://`) runs through the tunnel, end to end with the router.

use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};

use http::Uri;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::error::{ConnectError, clip};

/// The longest answer head read from a proxy; proxies answer `CONNECT` in a few hundred bytes.
const MAX_RESPONSE_HEAD: usize = 8 * 1024;

/// The most header lines read in a proxy's answer.
const MAX_RESPONSE_HEADERS: usize = 32;

/// Which proxy the connections go through, chosen on the
/// [`SessionBuilder`](crate::SessionBuilder).
#[derive(Clone)]
pub(crate) enum ProxySettings {
    /// The proxy the environment names, read at the first connection and kept for every
    /// reconnect.
    Environment(Arc<OnceLock<Matcher>>),
    /// This proxy URL for every connection (but `unix://`).
    Fixed(Arc<str>),
    /// No proxy.
    Disabled,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings::Environment(Arc::default())
    }
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySettings::Environment(_) => f.write_str("Environment"),
            // The password of the URL's userinfo is masked.
            ProxySettings::Fixed(url) => f
                .debug_tuple("Fixed")
                .field(&super::redact_url(url))
                .finish(),
            ProxySettings::Disabled => f.write_str("Disabled"),
        }
    }
}

impl ProxySettings {
    /// The proxy for a connection to `host:port` (`host` may be a bracketed IPv6 address) over
    /// TLS (`secure`) or not, if one is to be used.
    pub(crate) fn choose(
        &self,
        url: &str,
        secure: bool,
        host: &str,
        port: u16,
    ) -> Result<Option<Intercept>, ConnectError> {
        let fixed;
        let matcher = match self {
            ProxySettings::Disabled => return Ok(None),
            ProxySettings::Environment(matcher) => {
                matcher.get_or_init(|| matcher_from(|name| std::env::var(name).ok()))
            }
            ProxySettings::Fixed(proxy) => {
                let shown = super::redact_url(proxy);
                check_proxy_url(proxy, &shown).map_err(|e| proxy_error(url, e))?;
                fixed = Matcher::builder().all(&**proxy).build();
                &fixed
            }
        };
        let target = target_uri(url, secure, host, port)?;
        match (matcher.intercept(&target), self) {
            // A fixed proxy's URL was checked above.
            (Some(intercept), ProxySettings::Fixed(_)) => Ok(Some(intercept)),
            (Some(intercept), _) => {
                // What the environment names is checked only now.
                let shown = proxy_name(intercept.uri());
                check_proxy_url(&intercept.uri().to_string(), &shown)
                    .map_err(|e| proxy_error(url, e))?;
                Ok(Some(intercept))
            }
            (None, ProxySettings::Fixed(proxy)) => Err(proxy_error(
                url,
                ProxyError::InvalidUrl {
                    proxy: super::redact_url(proxy).into_owned(),
                    reason: "not a valid proxy URL (expected http://[user:password@]host[:port])"
                        .to_owned(),
                },
            )),
            (None, _) => Ok(None),
        }
    }
}

/// The proxy rules of the environment variables that `var` looks up: the first set of
/// `HTTP_PROXY`/`http_proxy`, `HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`/`all_proxy` and
/// `NO_PROXY`/`no_proxy`, as reqwest reads them. In a CGI script (`REQUEST_METHOD` set) the
/// environment names no proxy: there `HTTP_PROXY` may come from a request's `Proxy:` header.
fn matcher_from(var: impl Fn(&str) -> Option<String>) -> Matcher {
    if var("REQUEST_METHOD").is_some() {
        return Matcher::builder().build();
    }
    let first = |names: [&str; 2]| names.iter().find_map(|name| var(name)).unwrap_or_default();
    let no_proxy = first(["NO_PROXY", "no_proxy"]);
    // hyper-util's `*` matches every host name but no IP address; curl's matches both.
    if no_proxy.split(',').any(|entry| entry.trim() == "*") {
        return Matcher::builder().build();
    }
    Matcher::builder()
        .all(first(["ALL_PROXY", "all_proxy"]))
        .http(first(["HTTP_PROXY", "http_proxy"]))
        .https(first(["HTTPS_PROXY", "https_proxy"]))
        .no(no_proxy)
        .build()
}

/// The URL the proxy rules are asked about: `https://` for a TLS transport, `http://` for the
/// others, as `HTTPS_PROXY` and `HTTP_PROXY` are meant.
fn target_uri(url: &str, secure: bool, host: &str, port: u16) -> Result<Uri, ConnectError> {
    let scheme = if secure { "https" } else { "http" };
    let authority = authority(host, port);
    format!("{scheme}://{authority}/")
        .parse::<Uri>()
        .map_err(|e| ConnectError::with_source(url, format!("`{host}` is not a valid host"), e))
}

/// `host:port`, with an IPv6 address in brackets.
fn authority(host: &str, port: u16) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    }
}

/// The proxy's URL for messages: scheme, host and port, never the credentials.
fn proxy_name(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    format!("{scheme}://{host_port}")
}

/// Refuses the proxy URLs this client cannot use: anything but an HTTP proxy without TLS.
fn check_proxy_url(proxy: &str, shown: &str) -> Result<(), ProxyError> {
    let invalid = |reason: &str| ProxyError::InvalidUrl {
        proxy: shown.to_owned(),
        reason: reason.to_owned(),
    };
    // The error of `http` names the part that is wrong, never the URL itself.
    let uri = proxy
        .parse::<Uri>()
        .map_err(|e| invalid(&format!("not a valid URL ({e})")))?;
    match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        None | Some("http") => {}
        Some("https") => {
            return Err(invalid(
                "proxies reached over TLS (https://) are not supported; use the proxy's \
                 http:// address (a wss:// or rss:// connection stays encrypted end to end \
                 through the tunnel)",
            ));
        }
        Some("socks4" | "socks4a" | "socks5" | "socks5h") => {
            return Err(invalid(
                "SOCKS proxies are not supported; use an HTTP proxy (http://host:port)",
            ));
        }
        Some(other) => {
            return Err(invalid(&format!(
                "unsupported proxy scheme `{other}`; use http://[user:password@]host[:port]"
            )));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("the proxy URL has no host"));
    }
    Ok(())
}

fn proxy_error(url: &str, error: ProxyError) -> ConnectError {
    ConnectError::with_source(url, error.to_string(), error)
}

/// Opens a TCP connection to `host:port` through a tunnel of `proxy`: connects to the proxy,
/// sends `CONNECT` and reads the proxy's answer. On success the stream carries bytes to and from
/// the target only.
pub(crate) async fn tunnel(
    url: &str,
    proxy: &Intercept,
    host: &str,
    port: u16,
) -> Result<TcpStream, ConnectError> {
    let shown = proxy_name(proxy.uri());
    let target = authority(host, port);
    let proxy_host = proxy
        .uri()
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let proxy_port = proxy.uri().port_u16().unwrap_or(80);
    tracing::debug!(proxy = %shown, %target, "opening a tunnel through the HTTP proxy");

    let mut stream = super::connect_nodelay(proxy_host, proxy_port)
        .await
        .map_err(|e| {
            proxy_error(
                url,
                ProxyError::Unreachable {
                    proxy: shown.clone(),
                    source: Arc::new(e),
                },
            )
        })?;

    let failed = |reason: String, source: Option<io::Error>| {
        proxy_error(
            url,
            ProxyError::Failed {
                proxy: shown.clone(),
                target: target.clone(),
                reason,
                source: source.map(Arc::new),
            },
        )
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(authorization) = proxy.basic_auth() {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(authorization.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream
        .write_all(&request)
        .await
        .map_err(|e| failed(format!("cannot send CONNECT: {e}"), Some(e)))?;

    let mut head = vec![0_u8; MAX_RESPONSE_HEAD];
    let mut filled = 0;
    loop {
        let Some(free) = head.get_mut(filled..).filter(|free| !free.is_empty()) else {
            return Err(failed(
                format!("its answer to CONNECT is longer than {MAX_RESPONSE_HEAD} bytes"),
                None,
            ));
        };
        let read = stream.read(free).await.map_err(|e| {
            failed(
                format!("reading its answer to CONNECT failed: {e}"),
                Some(e),
            )
        })?;
        if read == 0 {
            return Err(failed(
                "it closed the connection without answering CONNECT".to_owned(),
                None,
            ));
        }
        filled += read;
        let received = head.get(..filled).unwrap_or_default();
        match parse_answer(received) {
            Answer::Partial => continue,
            Answer::Invalid(reason) => return Err(failed(reason, None)),
            Answer::Status {
                code,
                reason,
                head_len,
            } => {
                if !(200..300).contains(&code) {
                    return Err(proxy_error(
                        url,
                        ProxyError::Refused {
                            proxy: shown,
                            target,
                            status: code,
                            reason: clip(&reason).into_owned(),
                        },
                    ));
                }
                // The target speaks only after this client's first bytes (TLS, WebSocket and
                // RawSocket clients all speak first), so nothing may follow the answer yet.
                if head_len != filled {
                    return Err(failed(
                        "it sent data after its answer to CONNECT, before the tunnel was used"
                            .to_owned(),
                        None,
                    ));
                }
                tracing::debug!(proxy = %shown, %target, status = code, "tunnel open");
                return Ok(stream);
            }
        }
    }
}

/// What a proxy's answer to `CONNECT` says so far.
#[derive(Debug, PartialEq)]
enum Answer {
    /// The head is not complete yet.
    Partial,
    /// Not an HTTP answer.
    Invalid(String),
    /// The status line and the head's length in bytes.
    Status {
        code: u16,
        reason: String,
        head_len: usize,
    },
}

fn parse_answer(received: &[u8]) -> Answer {
    let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(received) {
        Ok(httparse::Status::Partial) => Answer::Partial,
        Ok(httparse::Status::Complete(head_len)) => Answer::Status {
            code: response.code.unwrap_or_default(),
            reason: response.reason.unwrap_or_default().to_owned(),
            head_len,
        },
        Err(e) => Answer::Invalid(format!("its answer to CONNECT is not valid HTTP ({e})")),
    }
}

/// Why a connection through an HTTP proxy failed: the
/// [`source`](std::error::Error::source) of the [`ConnectError`], also given by
/// [`ConnectError::proxy_error`]. Proxies are named by scheme, host and port only, never with
/// their credentials.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy answered `CONNECT` with an error status, e.g. 407 (Proxy Authentication
    /// Required: the credentials are missing or wrong; some proxies answer wrong ones with
    /// 401), 403 (the proxy does not allow this
    /// destination or port) or 502 (the proxy cannot reach the router).
    #[error(
        "the proxy {proxy} refused to open a tunnel to {target}: HTTP {status} {reason}{hint}",
        hint = refusal_hint(*.status)
    )]
    Refused {
        /// The proxy, e.g. `http://proxy.example.com:3128`.
        proxy: String,
        /// The router's `host:port`.
        target: String,
        /// The HTTP status code of the proxy's answer.
        status: u16,
        /// The reason phrase of the proxy's answer.
        reason: String,
    },
    /// The proxy could not be reached (connection refused, unknown host, network down).
    #[error("cannot reach the proxy {proxy}: {source}")]
    Unreachable {
        /// The proxy.
        proxy: String,
        /// The socket's error.
        source: Arc<io::Error>,
    },
    /// The connection to the proxy failed while opening the tunnel, or its answer was not
    /// HTTP.
    #[error("the proxy {proxy} failed to open a tunnel to {target}: {reason}")]
    Failed {
        /// The proxy.
        proxy: String,
        /// The router's `host:port`.
        target: String,
        /// What went wrong.
        reason: String,
        /// The socket's error, if one caused this.
        source: Option<Arc<io::Error>>,
    },
    /// The proxy URL cannot be used: not a URL, or a proxy kind this client does not speak
    /// (`https://` or SOCKS proxies).
    #[error("the proxy URL {proxy} cannot be used: {reason}")]
    InvalidUrl {
        /// The proxy URL, its password masked.
        proxy: String,
        /// Why.
        reason: String,
    },
}

/// What to check after the proxy refused a tunnel.
fn refusal_hint(status: u16) -> &'static str {
    match status {
        401 | 407 => " (the proxy wants credentials: give them as http://user:password@host:port)",
        403 => " (the proxy does not allow tunnels to this host or port)",
        502..=504 => " (the proxy cannot reach the router: check the router's address)",
        _ => "",
    }
}

impl ConnectError {
    /// Why the connection through an HTTP proxy failed, if it failed there (feature `proxy`).
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use wampkit::Session;
    /// use wampkit::transport::ProxyError;
    ///
    /// let session = Session::builder("wss://router.example.com/ws", "realm1")
    ///     .proxy("http://user:password@proxy.example.com:3128")
    ///     .connect()
    ///     .await;
    /// if let Err(wampkit::Error::Connect(e)) = &session {
    ///     if let Some(ProxyError::Refused { status: 407, .. }) = e.proxy_error() {
    ///         eprintln!("wrong proxy credentials");
    ///     }
    /// }
    /// # }
    /// ```
    pub fn proxy_error(&self) -> Option<&ProxyError> {
        self.source.as_deref()?.downcast_ref::<ProxyError>()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The proxy `vars` choose for a connection to `url`'s host and port.
    fn chosen(vars: &[(&str, &str)], secure: bool, host: &str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let settings = ProxySettings::Environment(Arc::new(OnceLock::from(matcher_from(|name| {
            vars.get(name).cloned()
        }))));
        settings
            .choose("ws://x", secure, host, 8080)
            .unwrap()
            .map(|intercept| proxy_name(intercept.uri()))
    }

    #[test]
    fn environment_chooses_by_transport() {
        let vars = [
            ("HTTP_PROXY", "http://plain:3128"),
            ("HTTPS_PROXY", "http://secure:3128"),
        ];
        assert_eq!(
            chosen(&vars, false, "router").as_deref(),
            Some("http://plain:3128")
        );
        assert_eq!(
            chosen(&vars, true, "router").as_deref(),
            Some("http://secure:3128")
        );
        // Lowercase names, uppercase first; ALL_PROXY when the specific one is unset.
        let vars = [("http_proxy", "lower:1"), ("ALL_PROXY", "http://all:2")];
        assert_eq!(
            chosen(&vars, false, "router").as_deref(),
            Some("http://lower:1")
        );
        assert_eq!(
            chosen(&vars, true, "router").as_deref(),
            Some("http://all:2")
        );
        let vars = [
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:1"),
        ];
        assert_eq!(
            chosen(&vars, false, "router").as_deref(),
            Some("http://upper:1")
        );
        assert_eq!(chosen(&[], false, "router"), None);
        // A CGI script ignores the environment's proxies.
        let vars = [("HTTP_PROXY", "http://p:1"), ("REQUEST_METHOD", "GET")];
        assert_eq!(chosen(&vars, false, "router"), None);
    }

    #[test]
    fn no_proxy_exempts_hosts() {
        let no = |list: &str, host: &str| {
            chosen(
                &[("ALL_PROXY", "http://p:1"), ("NO_PROXY", list)],
                false,
                host,
            )
            .is_none()
        };
        assert!(no("router.example.com", "router.example.com"));
        assert!(no("example.com", "router.example.com"));
        assert!(no(".example.com", "router.example.com"));
        assert!(!no("example.com", "router.notexample.com"));
        assert!(no("a.test, 10.1.2.3", "10.1.2.3"));
        assert!(no("10.0.0.0/8", "10.200.0.1"));
        assert!(!no("10.0.0.0/8", "11.0.0.1"));
        assert!(no("::1", "[::1]"));
        assert!(no("*", "anything"));
        assert!(no("a.test, *", "127.0.0.1"));
        assert!(no("*", "[::1]"));
        // Local addresses go through the proxy unless NO_PROXY names them.
        assert!(!no("", "localhost"));
        assert!(!no("", "127.0.0.1"));
        assert!(no("localhost,127.0.0.1", "127.0.0.1"));
        let lower = [("all_proxy", "http://p:1"), ("no_proxy", "router")];
        assert_eq!(chosen(&lower, false, "router"), None);
    }

    #[test]
    fn fixed_proxy_and_credentials() {
        let settings = ProxySettings::Fixed(Arc::from("http://us%65r:p%40ss@proxy:3128"));
        let intercept = settings.choose("rs://r:1", false, "r", 1).unwrap().unwrap();
        assert_eq!(proxy_name(intercept.uri()), "http://proxy:3128");
        // Percent-decoded: user:p@ss.
        let expected = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "user:p@ss")
        );
        assert_eq!(
            intercept.basic_auth().unwrap().as_bytes(),
            expected.as_bytes()
        );
        let shown = format!("{settings:?}");
        assert!(!shown.contains("p%40ss"), "{shown}");
        // No scheme means http.
        let bare = ProxySettings::Fixed(Arc::from("proxy:3128"));
        let intercept = bare.choose("ws://r", true, "r", 1).unwrap().unwrap();
        assert_eq!(proxy_name(intercept.uri()), "http://proxy:3128");
        assert!(intercept.basic_auth().is_none());
        assert!(
            ProxySettings::Disabled
                .choose("ws://r", false, "r", 1)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn unusable_proxy_urls_are_clear_errors() {
        let reason = |proxy: &str| {
            ProxySettings::Fixed(Arc::from(proxy))
                .choose("ws://r", false, "r", 1)
                .err()
                .map(|e| e.reason)
                .unwrap_or_default()
        };
        assert!(reason("https://u:secret@proxy:443").contains("https://"));
        assert!(!reason("https://u:secret@proxy:443").contains("secret"));
        assert!(reason("socks5://proxy:1080").contains("SOCKS"));
        assert!(reason("ftp://proxy").contains("unsupported proxy scheme"));
        assert!(reason("http://").contains("not a valid URL"));
        let env = [("HTTPS_PROXY", "socks5h://proxy:1080")];
        let settings = ProxySettings::Environment(Arc::new(OnceLock::from(matcher_from(|name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }))));
        let error = settings.choose("wss://r", true, "r", 1).err().unwrap();
        assert!(error.reason.contains("SOCKS"), "{error}");
        assert!(matches!(
            error.proxy_error(),
            Some(ProxyError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn answers() {
        assert_eq!(parse_answer(b"HTTP/1.1 200 Conn"), Answer::Partial);
        let ok = b"HTTP/1.0 200 Connection established\r\nProxy-agent: x\r\n\r\n";
        assert_eq!(
            parse_answer(ok),
            Answer::Status {
                code: 200,
                reason: "Connection established".to_owned(),
                head_len: ok.len()
            }
        );
        assert!(matches!(
            parse_answer(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n<html>"),
            Answer::Status {
                code: 407,
                head_len: 46,
                ..
            }
        ));
        assert!(matches!(
            parse_answer(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Answer::Invalid(_)
        ));
    }

    #[test]
    fn refusals_name_proxy_status_and_target() {
        let error = ProxyError::Refused {
            proxy: "http://proxy:3128".to_owned(),
            target: "router:443".to_owned(),
            status: 407,
            reason: "Proxy Authentication Required".to_owned(),
        };
        let shown = error.to_string();
        assert!(shown.contains("http://proxy:3128"), "{shown}");
        assert!(shown.contains("router:443"), "{shown}");
        assert!(
            shown.contains("HTTP 407 Proxy Authentication Required"),
            "{shown}"
        );
        assert_eq!(authority("[::1]", 80), "[::1]:80");
        assert_eq!(authority("::1", 80), "[::1]:80");
        assert_eq!(authority("router", 80), "router:80");
    }
}

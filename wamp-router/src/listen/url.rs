//! Listening URLs: what to bind, and how to speak on it.

use tokio_tungstenite::tungstenite::http::Uri;

const SCHEMES: &str = "use ws://host:port/path, wss://host:port/path, rs://host:port, \
                       rss://host:port or unix:///path/to/socket";

/// What a listening URL asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ListenUrl {
    /// A TCP socket.
    Tcp {
        /// The URL's scheme, lowercase.
        scheme: &'static str,
        /// The host as written (brackets around an IPv6 address), for the URL given back.
        host: String,
        port: u16,
        protocol: Protocol,
        tls: bool,
    },
    /// A Unix domain socket at this path, speaking RawSocket.
    Unix(String),
}

/// The WAMP transport spoken on a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// WebSocket, upgrading requests for this path only.
    WebSocket { path: String },
    /// RawSocket.
    RawSocket,
}

impl ListenUrl {
    /// Parses `url`, or says what is wrong with it.
    pub(super) fn parse(url: &str) -> Result<ListenUrl, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(format!("the URL has no scheme; {SCHEMES}"));
        };
        let scheme = scheme.to_ascii_lowercase();
        let (scheme, tls, default_port): (&'static str, bool, Option<u16>) = match scheme.as_str() {
            "ws" => ("ws", false, Some(80)),
            "wss" => ("wss", true, Some(443)),
            "rs" => ("rs", false, None),
            "rss" => ("rss", true, None),
            "unix" if rest.is_empty() => {
                return Err(
                    "the unix:// URL has no socket path; use unix:///path/to/socket".into(),
                );
            }
            "unix" => return Ok(ListenUrl::Unix(rest.to_owned())),
            other => return Err(format!("unsupported URL scheme `{other}`; {SCHEMES}")),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("the URL is not valid ({e}); {SCHEMES}"))?;
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        if authority.contains('@') || uri.query().is_some() {
            return Err("a listening URL has no user, password or query".into());
        }
        let host = uri.host().unwrap_or_default();
        if host.is_empty() {
            return Err(
                "the URL has no host: give the address to listen on, such as \
                        127.0.0.1, [::1] or 0.0.0.0"
                    .into(),
            );
        }
        let written_port = authority
            .strip_prefix(host)
            .and_then(|rest| rest.strip_prefix(':'));
        let port = match (written_port, default_port) {
            (Some(port), _) => port
                .parse::<u16>()
                .map_err(|_| format!("`{port}` is not a TCP port"))?,
            (None, Some(port)) => port,
            (None, None) => {
                return Err(format!(
                    "a RawSocket URL needs a port: {scheme}://host:port (port 0 lets the system \
                     choose)"
                ));
            }
        };
        let path = uri.path();
        let protocol = if default_port.is_some() {
            Protocol::WebSocket {
                path: if path.is_empty() { "/" } else { path }.to_owned(),
            }
        } else if path.is_empty() || path == "/" {
            Protocol::RawSocket
        } else {
            return Err(format!(
                "a RawSocket URL has no path; use {scheme}://host:port"
            ));
        };
        Ok(ListenUrl::Tcp {
            scheme,
            host: host.to_owned(),
            port,
            protocol,
            tls,
        })
    }
}

/// The URL clients connect to once bound to `port`.
pub(super) fn bound_url(scheme: &str, host: &str, port: u16, protocol: &Protocol) -> String {
    match protocol {
        Protocol::WebSocket { path } => format!("{scheme}://{host}:{port}{path}"),
        Protocol::RawSocket => format!("{scheme}://{host}:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(scheme: &'static str, host: &str, port: u16, protocol: Protocol) -> ListenUrl {
        ListenUrl::Tcp {
            scheme,
            host: host.into(),
            port,
            protocol,
            tls: scheme.ends_with('s') && scheme != "rs" && scheme != "ws",
        }
    }

    fn ws(path: &str) -> Protocol {
        Protocol::WebSocket { path: path.into() }
    }

    #[test]
    fn urls() {
        for (url, expected) in [
            (
                "ws://127.0.0.1:8080/ws",
                tcp("ws", "127.0.0.1", 8080, ws("/ws")),
            ),
            ("WS://localhost", tcp("ws", "localhost", 80, ws("/"))),
            ("wss://[::1]:0/a/b", tcp("wss", "[::1]", 0, ws("/a/b"))),
            (
                "rs://0.0.0.0:0",
                tcp("rs", "0.0.0.0", 0, Protocol::RawSocket),
            ),
            (
                "rss://127.0.0.1:9/",
                tcp("rss", "127.0.0.1", 9, Protocol::RawSocket),
            ),
            (
                "unix:///run/wamp.sock",
                ListenUrl::Unix("/run/wamp.sock".into()),
            ),
        ] {
            assert_eq!(ListenUrl::parse(url), Ok(expected), "{url}");
        }
    }

    #[test]
    fn bad_urls_are_explained() {
        for (url, text) in [
            ("127.0.0.1:8080", "no scheme"),
            ("http://127.0.0.1:8080", "unsupported URL scheme `http`"),
            ("unix://", "no socket path"),
            ("rs://127.0.0.1", "needs a port"),
            ("rs://127.0.0.1:1/ws", "has no path"),
            ("ws://user@127.0.0.1:1/ws", "no user"),
            ("ws://127.0.0.1:1/ws?x=1", "no user, password or query"),
            ("ws://127.0.0.1:99999/ws", "not a TCP port"),
            ("ws://:80/ws", "no host"),
        ] {
            let error = ListenUrl::parse(url).err().unwrap_or_default();
            assert!(error.contains(text), "{url}: {error}");
        }
    }

    #[test]
    fn urls_given_back() {
        assert_eq!(
            bound_url("ws", "[::1]", 5, &ws("/ws")),
            "ws://[::1]:5/ws".to_owned()
        );
        assert_eq!(
            bound_url("rss", "localhost", 6, &Protocol::RawSocket),
            "rss://localhost:6".to_owned()
        );
    }
}

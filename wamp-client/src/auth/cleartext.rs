//! The warning about secrets offered without TLS to a remote host (see the module docs of
//! [`auth`](super), "Clear text").

use super::AuthConfig;

/// Warns (once per [`connect`](crate::SessionBuilder::connect)) when a method that reveals the
/// secret, or lets an eavesdropper test guesses of it offline, is offered over a connection
/// without TLS to a host other than the local machine (see the module docs).
pub(crate) fn warn_cleartext_secrets(url: &str, auth: &AuthConfig) {
    let exposed: Vec<&str> = auth
        .authenticators
        .iter()
        .map(|a| a.method())
        .filter(|m| matches!(*m, "ticket" | "wampcra"))
        .collect();
    if exposed.is_empty() {
        return;
    }
    let Some(host) = cleartext_remote_host(url) else {
        return;
    };
    tracing::warn!(
        target: "wampkit_client::auth",
        methods = ?exposed,
        %host,
        "offering {exposed:?} authentication to {host} without TLS: a ticket travels in clear \
         text, and a WAMP-CRA exchange lets an eavesdropper test guesses of the secret offline. \
         Use wss:// or rss://, or SCRAM or cryptosign"
    );
}

/// The host of a `ws://` or `rs://` URL (no TLS) unless it is the local machine; `None` for
/// TLS, `unix://` and local hosts.
fn cleartext_remote_host(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("ws") || scheme.eq_ignore_ascii_case("rs")) {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    (!is_local_host(host)).then_some(host)
}

/// `localhost`, `*.localhost` (RFC 6761), `127.0.0.0/8` and `::1` (also IPv4-mapped).
fn is_local_host(host: &str) -> bool {
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    match name.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::cleartext_remote_host;

    #[test]
    fn cleartext_hosts() {
        for (url, expected) in [
            ("ws://example.com/ws", Some("example.com")),
            ("ws://example.com:8080/ws", Some("example.com")),
            ("WS://user@10.0.0.7:80/ws?x", Some("10.0.0.7")),
            ("rs://192.0.2.1:8081", Some("192.0.2.1")),
            ("rs://[2001:db8::1]:8081", Some("2001:db8::1")),
            ("ws://localhost:8080/ws", None),
            ("ws://LOCALHOST.:8080/ws", None),
            ("ws://router.localhost/ws", None),
            ("ws://127.0.0.1:8080/ws", None),
            ("ws://127.1.2.3:8080/ws", None),
            ("rs://[::1]:8081", None),
            ("rs://[::ffff:127.0.0.1]:8081", None),
            ("wss://example.com/ws", None),
            ("rss://example.com:443", None),
            ("unix:///run/router.sock", None),
            ("nonsense", None),
        ] {
            assert_eq!(cleartext_remote_host(url), expected, "{url}");
        }
    }
}

//! What this build can connect with. A URL scheme or serializer whose Cargo feature is off fails
//! the connect before anything is opened, with an error that names the feature to enable.

use crate::error::{ConnectError, Error};
use crate::wire::Serializer;

/// The Cargo feature a URL scheme needs, when this build left it out.
fn missing_for_scheme(scheme: &str) -> Option<&'static str> {
    const TLS: bool = cfg!(feature = "__tls");
    const RAWSOCKET: bool = cfg!(feature = "rawsocket");
    match scheme {
        "rs" | "rss" | "unix" if !RAWSOCKET => Some("rawsocket"),
        "wss" | "rss" if !TLS => Some("tls"),
        _ => None,
    }
}

/// The error for a URL scheme this build left out, if it is one.
fn scheme_disabled(scheme: &str) -> Option<Error> {
    let scheme = scheme.to_ascii_lowercase();
    missing_for_scheme(&scheme).map(|feature| Error::FeatureDisabled {
        feature,
        needed_for: format!("the `{scheme}://` transport"),
    })
}

/// Checks that this build has the URL's transport (unless `custom_transport`: the application
/// opens the connections) and every serializer offered.
pub(crate) fn check(
    url: &str,
    serializers: &[Serializer],
    custom_transport: bool,
) -> Result<(), Error> {
    if !custom_transport {
        if let Some(error) = url
            .split_once("://")
            .and_then(|(scheme, _)| scheme_disabled(scheme))
        {
            return Err(error);
        }
    }
    if let Some(serializer) = serializers.iter().find(|s| !s.is_available()) {
        return Err(serializer.disabled());
    }
    if serializers.is_empty() && !Serializer::ALL.iter().any(|s| s.is_available()) {
        return Err(Error::FeatureDisabled {
            feature: "json",
            needed_for: "a session (this build has no serializer)".to_owned(),
        });
    }
    Ok(())
}

/// The connect error for a URL scheme whose transport this build left out (what
/// [`check`] reports before connecting).
#[cfg_attr(all(feature = "rawsocket", feature = "__tls"), allow(dead_code))]
pub(crate) fn scheme_connect_error(url: &str, scheme: &str) -> ConnectError {
    let reason = scheme_disabled(scheme).map_or_else(
        || format!("the `{scheme}://` transport is not in this build"),
        |error| error.to_string(),
    );
    ConnectError::new(url, reason)
}

/// The TLS alert in an I/O error, explained, if there is one (never, when this build has no
/// TLS).
pub(crate) fn tls_alert_in(io: &std::io::Error) -> Option<String> {
    #[cfg(feature = "__tls")]
    return super::tls::alert_in(io);
    #[cfg(not(feature = "__tls"))]
    {
        let _ = io;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(
        all(
            feature = "rawsocket",
            feature = "__tls",
            feature = "msgpack",
            feature = "cbor"
        ),
        allow(dead_code)
    )]
    fn feature_of(result: crate::Result<crate::Session>) -> Option<&'static str> {
        match result {
            Err(Error::FeatureDisabled { feature, .. }) => Some(feature),
            _ => None,
        }
    }

    #[test]
    fn what_is_compiled_in_passes() {
        let available: Vec<Serializer> = Serializer::ALL
            .into_iter()
            .filter(|s| s.is_available())
            .collect();
        assert!(check("ws://127.0.0.1:1/ws", &available, false).is_ok());
        assert!(check("rs://127.0.0.1:1", &available, true).is_ok());
    }

    #[cfg(not(feature = "rawsocket"))]
    #[tokio::test]
    async fn rawsocket_urls_name_the_feature() {
        for (url, scheme) in [
            ("rs://127.0.0.1:1", "rs"),
            ("RSS://127.0.0.1:1", "rss"),
            ("unix:///run/wamp.sock", "unix"),
        ] {
            let result = crate::Session::builder(url, "realm1").connect().await;
            let message = result
                .as_ref()
                .err()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert_eq!(feature_of(result), Some("rawsocket"), "{url}");
            assert!(
                message.starts_with(&format!(
                    "the `{scheme}://` transport needs the `rawsocket` feature of wampkit"
                )) && message.contains(r#"features = ["rawsocket"]"#),
                "{message}"
            );
            let reason = scheme_connect_error(url, scheme).reason;
            assert!(reason.contains("`rawsocket` feature"), "{reason}");
        }
    }

    #[cfg(not(feature = "__tls"))]
    #[tokio::test]
    async fn tls_urls_name_the_feature() {
        let result = crate::Session::builder("wss://127.0.0.1:1/ws", "realm1")
            .connect()
            .await;
        let message = result
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert_eq!(feature_of(result), Some("tls"));
        assert!(
            message.starts_with("the `wss://` transport needs the `tls` feature"),
            "{message}"
        );
        if cfg!(feature = "rawsocket") {
            let result = crate::Session::builder("rss://127.0.0.1:1", "realm1")
                .connect()
                .await;
            assert_eq!(feature_of(result), Some("tls"));
        }
    }

    #[cfg(not(feature = "msgpack"))]
    #[tokio::test]
    async fn msgpack_names_the_feature() {
        let result = crate::Session::builder("ws://127.0.0.1:1/ws", "realm1")
            .serializer(Serializer::MsgPack)
            .connect()
            .await;
        let message = result
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert_eq!(feature_of(result), Some("msgpack"));
        assert!(message.contains(r#"features = ["msgpack"]"#), "{message}");
        let error = Serializer::MsgPack.encode(&crate::wire::Message::Goodbye {
            details: crate::Dict::new(),
            reason: "wamp.close.normal".into(),
        });
        assert!(error.is_err_and(|e| e.reason.contains("`msgpack` feature")));
        assert!(Serializer::MsgPack.decode(&[0x90]).is_err());
    }

    #[cfg(not(feature = "cbor"))]
    #[tokio::test]
    async fn cbor_names_the_feature() {
        let (client, _router) = crate::transport::memory::pair(Serializer::Cbor);
        let result = crate::Session::builder("memory", "realm1")
            .serializer(Serializer::Cbor)
            .connect_with(client)
            .await;
        assert_eq!(feature_of(result), Some("cbor"));
        assert!(!Serializer::Cbor.is_available());
    }
}

//! Connections through a real HTTP proxy (tinyproxy, see `testkit::proxy`) to the router under
//! test: WebSocket and RawSocket, with and without TLS, Basic credentials, the proxy's refusals,
//! an unreachable proxy, and the environment's `HTTP_PROXY` and `NO_PROXY` (in a child process,
//! so that no other test sees them).
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::process::Command;
use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::time::Duration;

use testkit::e2e::{LIMIT, eventually, join, register_echo, within};
use testkit::proxy::Tinyproxy;
use wamp_testkit::closed_port::closed_port;
use wampkit::error::ProxyError;
use wampkit::session::SessionState;
use wampkit::{Error, ReconnectPolicy, Session, SessionBuilder};

/// The test CA's certificate (PEM); the router's certificate, for 127.0.0.1, is signed by it.
static CA: OnceLock<String> = OnceLock::new();

/// One router for this test binary, with TLS endpoints and a Unix socket.
fn router() -> &'static testkit::TestRouter {
    static ROUTER: OnceLock<Result<testkit::TestRouter, String>> = OnceLock::new();
    ROUTER
        .get_or_init(|| {
            let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("proxy-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let certificate = dir.join("server.crt");
            let key = dir.join("server.key");
            let (ca, server_certificate, server_key) = test_pki();
            std::fs::write(&certificate, server_certificate).unwrap();
            std::fs::write(&key, server_key).unwrap();
            CA.set(ca).unwrap();
            let router = testkit::TestRouter::start_with(&testkit::RouterOptions {
                tls: Some(testkit::TlsEndpoints {
                    certificate,
                    key,
                    client_ca: None,
                }),
                rawsocket_unix: true,
                ..Default::default()
            });
            // The router has read the files at start.
            let _ = std::fs::remove_dir_all(&dir);
            router
        })
        .as_ref()
        .expect("the router starts")
}

/// A CA, and a server certificate for 127.0.0.1 and localhost it signed, with its key.
fn test_pki() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "wamp-client proxy test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let certificate = params.signed_by(&key, &issuer).unwrap().pem();
    (ca, certificate, key.serialize_pem())
}

/// The port of a `scheme://127.0.0.1:PORT/...` URL.
fn port_of(url: &str) -> u16 {
    let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
    authority.rsplit_once(':').unwrap().1.parse().unwrap()
}

fn builder(url: &str) -> SessionBuilder {
    let builder = Session::builder(url, "realm1");
    match CA.get() {
        Some(ca) if url.starts_with("wss") || url.starts_with("rss") => builder.tls_ca_pem(ca),
        _ => builder,
    }
}

/// A call from a session joined with `through` to a callee connected directly.
async fn call_round_trip(url: &str, through: SessionBuilder) {
    let callee = join(builder(url).no_proxy()).await;
    let caller = join(through).await;
    let uri = format!("com.test.proxy.echo.{}", callee.id());
    let _echo = register_echo(&callee, &uri).await;
    let result = within("call", caller.call(&uri, (7, "through the proxy")))
        .await
        .unwrap();
    assert_eq!(
        result.args::<(i64, String)>().unwrap(),
        (7, "through the proxy".to_owned())
    );
    within("leave", caller.leave()).await.unwrap();
    within("leave", callee.leave()).await.unwrap();
}

/// A call round trip to `url` through a fresh proxy, which must have tunneled it.
async fn through_proxy(url: &str) {
    let proxy = Tinyproxy::start().unwrap();
    call_round_trip(url, builder(url).proxy(proxy.url())).await;
    assert!(
        proxy.tunnels_to(port_of(url)) >= 1,
        "no tunnel to {url} in the proxy's log: {}",
        proxy.log()
    );
}

#[tokio::test]
async fn websocket_through_the_proxy() {
    through_proxy(&router().ws_url()).await;
}

#[tokio::test]
async fn websocket_over_tls_through_the_proxy() {
    through_proxy(&router().wss_url().unwrap()).await;
}

#[tokio::test]
async fn rawsocket_through_the_proxy() {
    through_proxy(&router().rawsocket_url()).await;
}

#[tokio::test]
async fn rawsocket_over_tls_through_the_proxy() {
    through_proxy(&router().rss_url().unwrap()).await;
}

/// The proxy's password, and the same percent-encoded in part (tinyproxy's configuration takes
/// letters, digits, `.`, `-` and `_` only): the client decodes it.
const PASSWORD: &str = "s3cret.pw-1";
const PASSWORD_IN_URL: &str = "%733cret%2Epw-1";

#[tokio::test]
async fn basic_credentials_are_accepted() {
    let proxy = Tinyproxy::start_with_auth("alice", PASSWORD).unwrap();
    let url = router().ws_url();
    let through = builder(&url).proxy(proxy.url_with_credentials("alice", PASSWORD_IN_URL));
    call_round_trip(&url, through).await;
    assert!(proxy.tunnels_to(port_of(&url)) >= 1, "{}", proxy.log());
}

/// The error of connecting to `url` with `builder`, which must fail.
async fn connect_error(builder: SessionBuilder) -> wampkit::error::ConnectError {
    match within("connect", builder.connect()).await {
        Err(Error::Connect(e)) => e,
        Err(other) => panic!("expected a connect error, got {other:?}"),
        Ok(_) => panic!("connected"),
    }
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_refused() {
    let proxy = Tinyproxy::start_with_auth("alice", PASSWORD).unwrap();
    // tinyproxy answers 407 to a request without credentials, and 401 (sic) to wrong ones.
    let wrong = proxy.url_with_credentials("alice", "wr0ng-pw");
    for url in [router().ws_url(), router().rss_url().unwrap()] {
        for (proxy_url, expected) in [(&wrong, 401), (&proxy.url(), 407)] {
            let error = connect_error(builder(&url).proxy(proxy_url)).await;
            let Some(ProxyError::Refused {
                proxy: shown,
                target,
                status,
                ..
            }) = error.proxy_error()
            else {
                panic!("expected a refusal, got {error:?}");
            };
            assert_eq!(*status, expected, "{error}");
            assert_eq!(shown, &proxy.url());
            assert_eq!(target, &format!("127.0.0.1:{}", port_of(&url)));
            let text = format!("{error} / {error:?}");
            assert!(text.contains(&format!("HTTP {status} ")), "{text}");
            assert!(
                text.contains("give them as http://user:password@host:port"),
                "{text}"
            );
            assert!(text.contains(&proxy.url()), "{text}");
            assert!(!text.contains("wr0ng-pw"), "{text}");
        }
    }
    // The refusals reached the proxy: this client's traffic goes through it.
    assert!(proxy.tunnels_to(router().ws_port()) >= 2, "{}", proxy.log());
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_clear_error() {
    let closed = closed_port().unwrap();
    let proxy_url = format!("http://bob:hunter2@127.0.0.1:{}", closed.port());
    let error = connect_error(builder(&router().ws_url()).proxy(&proxy_url)).await;
    assert!(
        matches!(error.proxy_error(), Some(ProxyError::Unreachable { .. })),
        "{error:?}"
    );
    let text = format!("{error} / {error:?}");
    assert!(
        text.contains("cannot reach the proxy http://127.0.0.1:"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn something_else_than_a_proxy_fails_the_connection() {
    // A proxy that is no proxy (the router's WebSocket endpoint) answers CONNECT with an HTTP
    // error: the connection fails rather than going around it.
    let not_a_proxy = format!("http://127.0.0.1:{}", router().ws_port());
    let error = connect_error(builder(&router().rawsocket_url()).proxy(&not_a_proxy)).await;
    assert!(
        matches!(
            error.proxy_error(),
            Some(ProxyError::Refused { .. } | ProxyError::Failed { .. })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn unix_sockets_and_no_proxy_connect_directly() {
    // A dead proxy: only a direct connection joins.
    let closed = closed_port().unwrap();
    let dead = format!("http://127.0.0.1:{}", closed.port());
    let url = router().ws_url();
    let session = join(builder(&url).proxy(&dead).no_proxy()).await;
    within("leave", session.leave()).await.unwrap();
    let unix = router().rawsocket_unix_url().unwrap();
    let session = join(builder(&unix).proxy(&dead)).await;
    within("leave", session.leave()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn reconnects_go_through_the_same_proxy() {
    let mut proxy = Tinyproxy::start().unwrap();
    let url = router().rawsocket_url();
    let session = join(
        builder(&url)
            .proxy(proxy.url())
            .reconnect(ReconnectPolicy::default().initial_delay(Duration::from_millis(100))),
    )
    .await;
    let first = session.id();
    // The proxy goes down and comes back: the session's connection drops, and it rejoins
    // through the proxy.
    tokio::task::block_in_place(|| proxy.restart()).unwrap();
    eventually(
        "the session rejoins",
        LIMIT,
        Duration::from_millis(50),
        || async {
            match session.state() {
                SessionState::Joined { session: id } if id != first => Ok(()),
                state => Err(format!("{state:?}")),
            }
        },
    )
    .await;
    assert!(proxy.tunnels_to(port_of(&url)) >= 1, "{}", proxy.log());
    within("leave", session.leave()).await.unwrap();
}

/// The environment variable that tells [`environment_child`] which router URL to join; unset,
/// it does nothing (as in an ordinary run of the ignored tests).
const CHILD_URL: &str = "WAMP_TEST_PROXY_CHILD_URL";

/// Joins the URL in [`CHILD_URL`] with the proxy the environment names: run by
/// [`environment_proxy_and_no_proxy`] in a child process with its own environment.
#[tokio::test]
#[ignore = "run by environment_proxy_and_no_proxy in a child process"]
async fn environment_child() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let session = join(Session::builder(&url, "realm1")).await;
    within("leave", session.leave()).await.unwrap();
}

/// Runs [`environment_child`] with `vars` (and no other proxy variable); whether it joined.
fn run_child(url: &str, vars: &[(&str, &str)]) -> bool {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([
        "environment_child",
        "--exact",
        "--ignored",
        "--test-threads=1",
    ]);
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUEST_METHOD",
    ] {
        command.env_remove(name);
    }
    command.env(CHILD_URL, url).envs(vars.iter().copied());
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1 passed") || stdout.contains("1 failed"),
        "{stdout}"
    );
    output.status.success()
}

#[test]
fn environment_proxy_and_no_proxy() {
    let proxy = Tinyproxy::start().unwrap();
    let closed = closed_port().unwrap();
    let dead = format!("http://127.0.0.1:{}", closed.port());
    let url = router().ws_url();
    let port = router().ws_port();

    // HTTP_PROXY carries ws:// connections, localhost's too.
    assert!(run_child(&url, &[("HTTP_PROXY", &proxy.url())]));
    assert!(proxy.tunnels_to(port) >= 1, "{}", proxy.log());
    // ... and lowercase http_proxy, or ALL_PROXY; HTTPS_PROXY is for TLS only.
    assert!(!run_child(&url, &[("http_proxy", &dead)]));
    assert!(!run_child(&url, &[("ALL_PROXY", &dead)]));
    assert!(run_child(&url, &[("HTTPS_PROXY", &dead)]));
    // NO_PROXY exempts the router's host.
    assert!(run_child(
        &url,
        &[("HTTP_PROXY", &dead), ("NO_PROXY", "127.0.0.1")]
    ));
    assert!(run_child(
        &url,
        &[
            ("HTTP_PROXY", &dead),
            ("no_proxy", "example.com,127.0.0.0/8")
        ]
    ));
    assert!(run_child(&url, &[("HTTP_PROXY", &dead), ("NO_PROXY", "*")]));
    assert!(!run_child(
        &url,
        &[("HTTP_PROXY", &dead), ("NO_PROXY", "example.com")]
    ));
}

//! TLS (`wss://`, `rss://`) against the router under test with a CA and certificates generated
//! at test time.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::path::PathBuf;
use std::sync::OnceLock;

use futures_util::StreamExt as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use testkit::e2e::{join, register_echo, within};
use wampkit::{Error, Serializer, Session, SessionBuilder, Value};

/// PEM material made for this test run.
struct Pki {
    ca: String,
    client_certificate: String,
    client_key: String,
    /// A client certificate from a CA the router does not know.
    stranger_certificate: String,
    stranger_key: String,
}

/// A CA certificate and its issuer.
fn new_ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let certificate = params.self_signed(&key).unwrap();
    (certificate.pem(), Issuer::new(params, key))
}

/// A leaf certificate for `names`, issued by `issuer`: (certificate PEM, key PEM).
fn new_leaf(
    issuer: &Issuer<'_, KeyPair>,
    names: &[&str],
    purpose: ExtendedKeyUsagePurpose,
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("client"),
    );
    params.extended_key_usages = vec![purpose];
    let certificate = params.signed_by(&key, issuer).unwrap();
    (certificate.pem(), key.serialize_pem())
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let (ca, issuer) = new_ca("wamp-client test CA");
        let (client_certificate, client_key) =
            new_leaf(&issuer, &["client"], ExtendedKeyUsagePurpose::ClientAuth);
        let (_, stranger) = new_ca("someone else's CA");
        let (stranger_certificate, stranger_key) =
            new_leaf(&stranger, &["client"], ExtendedKeyUsagePurpose::ClientAuth);
        // The server certificate goes to files for the router only.
        let (server_certificate, server_key) = new_leaf(
            &issuer,
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        SERVER_FILES.get_or_init(|| {
            let dir = scratch_dir("server");
            let certificate = dir.join("server.crt");
            let key = dir.join("server.key");
            let ca_file = dir.join("ca.crt");
            std::fs::write(&certificate, server_certificate).unwrap();
            std::fs::write(&key, server_key).unwrap();
            std::fs::write(&ca_file, &ca).unwrap();
            (dir, certificate, key, ca_file)
        });
        Pki {
            ca,
            client_certificate,
            client_key,
            stranger_certificate,
            stranger_key,
        }
    })
}

/// The router's certificate files: (directory, certificate, key, client CA).
static SERVER_FILES: OnceLock<(PathBuf, PathBuf, PathBuf, PathBuf)> = OnceLock::new();

/// A fresh directory under Cargo's scratch space for integration tests.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One router for this test binary, with TLS endpoints using the test CA's certificate.
fn router() -> &'static testkit::TestRouter {
    static ROUTER: OnceLock<Result<testkit::TestRouter, String>> = OnceLock::new();
    ROUTER
        .get_or_init(|| {
            pki();
            let (dir, certificate, key, ca) = SERVER_FILES.get().expect("server files");
            let router = testkit::TestRouter::start_with(&testkit::RouterOptions {
                tls: Some(testkit::TlsEndpoints {
                    certificate: certificate.clone(),
                    key: key.clone(),
                    client_ca: Some(ca.clone()),
                }),
                ..Default::default()
            });
            // The router has read the files at start.
            let _ = std::fs::remove_dir_all(dir);
            router
        })
        .as_ref()
        .expect("the router starts")
}

fn wss() -> String {
    router().wss_url().expect("a wss endpoint")
}

fn rss() -> String {
    router().rss_url().expect("an rss endpoint")
}

fn trusting(url: &str) -> SessionBuilder {
    Session::builder(url, "realm1").tls_ca_pem(&pki().ca)
}

async fn connect_error(builder: SessionBuilder) -> String {
    let err = within("connect", builder.connect()).await.unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    err.to_string()
}

/// A call and an event between two sessions over `url`.
async fn round_trip(url: &str, serializer: Serializer) {
    let callee = join(trusting(url).serializer(serializer)).await;
    let caller = join(trusting(url).serializer(serializer)).await;
    assert_eq!(caller.serializer(), serializer);
    let uri = format!("com.test.tls.{serializer}.echo.{}", callee.id());
    let _echo = register_echo(&callee, &uri).await;
    let payload = (-7i64, Value::Bytes(vec![0, 255, 1]), "tls ✓");
    let result = within("call", caller.call(&uri, payload.clone()))
        .await
        .unwrap();
    assert_eq!(
        result.args::<(i64, Value, String)>().unwrap(),
        (payload.0, payload.1.clone(), payload.2.to_owned())
    );

    let topic = format!("com.test.tls.{serializer}.news.{}", callee.id());
    let mut events = within("subscribe", callee.subscribe(&topic)).await.unwrap();
    within("publish", caller.publish(&topic, (-1,)).acknowledge())
        .await
        .unwrap();
    let event = within("event", events.next()).await.expect("an event");
    assert_eq!(event.arg::<i64>(0).unwrap(), -1);
    within("leave", caller.leave()).await.unwrap();
    within("leave", callee.leave()).await.unwrap();
}

async fn wss_with_custom_ca(serializer: Serializer) {
    round_trip(&wss(), serializer).await;
}

async fn rss_with_custom_ca(serializer: Serializer) {
    round_trip(&rss(), serializer).await;
}

testkit::per_serializer!(wss_with_custom_ca, rss_with_custom_ca);

#[tokio::test]
async fn ca_file_and_host_names() {
    let dir = scratch_dir("ca-file");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &pki().ca).unwrap();
    for url in [wss(), rss()] {
        let session = join(Session::builder(&url, "realm1").tls_ca_file(&ca_file)).await;
        within("leave", session.leave()).await.unwrap();
        // The certificate lists localhost too.
        let by_name = url.replace("127.0.0.1", "localhost");
        let session = join(trusting(&by_name)).await;
        within("leave", session.leave()).await.unwrap();
        // Only the test CA: still fine.
        let session = join(trusting(&url).no_tls_webpki_roots()).await;
        within("leave", session.leave()).await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);

    let missing = connect_error(Session::builder(rss(), "realm1").tls_ca_file(&ca_file)).await;
    assert!(missing.contains("cannot read the CA file"), "{missing}");
}

#[tokio::test]
async fn unknown_ca_is_refused() {
    for url in [wss(), rss()] {
        let err = connect_error(Session::builder(&url, "realm1")).await;
        assert!(
            err.contains("not signed by a trusted certificate authority"),
            "{url}: {err}"
        );
        assert!(err.contains("tls_ca_file"), "says what to do: {err}");
    }
}

#[tokio::test]
async fn wrong_host_name_is_refused() {
    for url in [wss(), rss()] {
        let err = connect_error(trusting(&url).tls_server_name("router.example.com")).await;
        assert!(
            err.contains("not valid for the name `router.example.com`"),
            "{url}: {err}"
        );
        assert!(
            err.contains("127.0.0.1"),
            "lists the certificate's names: {err}"
        );
    }
}

#[tokio::test]
async fn danger_accept_invalid_certificates_connects() {
    for url in [wss(), rss()] {
        let session = join(
            Session::builder(&url, "realm1")
                .tls_server_name("router.example.com")
                .danger_accept_invalid_certificates(),
        )
        .await;
        let result = within("call", session.call("wamp.session.count", ()))
            .await
            .unwrap();
        assert!(result.arg::<u64>(0).unwrap() >= 1);
        within("leave", session.leave()).await.unwrap();
    }
}

#[tokio::test]
async fn client_certificates() {
    let url = router().rss_mtls_url().expect("an mtls endpoint");
    let pki = pki();
    let session =
        join(trusting(&url).tls_client_auth_pem(&pki.client_certificate, &pki.client_key)).await;
    within("leave", session.leave()).await.unwrap();

    // Without a certificate, or with one the router does not trust: refused.
    let err = connect_error(trusting(&url)).await;
    assert!(
        err.contains("the router requires a TLS client certificate"),
        "{err}"
    );
    let err = connect_error(
        trusting(&url).tls_client_auth_pem(&pki.stranger_certificate, &pki.stranger_key),
    )
    .await;
    assert!(
        err.contains("the router rejected this client's TLS certificate"),
        "{err}"
    );

    // A key that is not PEM: a clear error, without the key in it.
    let err = connect_error(
        trusting(&url).tls_client_auth_pem(&pki.client_certificate, "secret-not-a-key"),
    )
    .await;
    assert!(err.contains("not a PEM private key"), "{err}");
    assert!(!err.contains("secret-not-a-key"), "{err}");
}

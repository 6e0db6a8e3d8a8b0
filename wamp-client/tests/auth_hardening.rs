//! Authentication against routers that try to get around it: a WELCOME without the router's
//! proof of identity, key derivation costs the client must not pay, a router that makes the
//! client derive keys again and again, and secrets offered without TLS.
//!
//! Every router here is scripted (`wamp_testkit::scripted_router`); the log assertions use a small
//! subscriber that records events (`Capture`).
// Needs every authentication method: compiled with those features only (`cargo test --workspace` has them).
#![cfg(all(
    feature = "auth-wampcra",
    feature = "auth-cryptosign",
    feature = "auth-scram"
))]
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ed25519_dalek::{Signer as _, SigningKey};
use wampkit::auth::{
    Anonymous, AuthErrorKind, CryptoSign, KdfLimits, Scram, ScramKdf, Ticket, WampCra,
};
use wampkit::wire::Message;
use wampkit::{Dict, Error, ErrorUri, Serializer, Session, SessionBuilder, Value};

use wamp_testkit::scripted_router::{
    RouterPeer, ScriptedRouter, dict, expect_message, welcome_details,
};

/// The longest one test may take (key derivations are slow in debug builds); a hang fails the
/// test instead of CI.
const LIMIT: Duration = Duration::from_secs(60);

async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    wamp_testkit::bounded_for(LIMIT, what, future).await
}

/// Connects with `builder` while `script` plays the router on one connection; returns the
/// client's result.
async fn against<F, Fut>(builder: SessionBuilder, router: ScriptedRouter, script: F) -> Error
where
    F: FnOnce(RouterPeer) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let script = tokio::spawn(async move {
        let peer = router.accept().await;
        script(peer).await;
    });
    let err = match bounded("connect", builder.connect()).await {
        Ok(session) => {
            script.abort();
            panic!("joined as {:?}", session.details())
        }
        Err(e) => e,
    };
    bounded("router script", script)
        .await
        .expect("the router script failed");
    err
}

/// Asserts this client refused the authentication with `kind`; returns the message.
fn assert_refused(err: &Error, kind: AuthErrorKind) -> String {
    let Error::Authentication(auth) = err else {
        panic!("expected Error::Authentication({kind:?}), got {err:?}");
    };
    assert_eq!(auth.kind(), kind, "{err}");
    assert_eq!(err.uri(), Some(&ErrorUri::AuthenticationFailed));
    auth.message().to_owned()
}

/// Receives the client's ABORT `wamp.error.authentication_failed`, then the end of the
/// connection.
async fn expect_client_abort(peer: &mut RouterPeer) {
    expect_message!(
        peer,
        Message::Abort { reason, .. } if reason == "wamp.error.authentication_failed"
    );
    peer.expect_closed().await;
}

/// WELCOME details as a router that accepted `authmethod` (or named none) sends them.
fn welcome_as(authmethod: Option<&str>, authextra: Dict) -> Dict {
    let mut details = welcome_details();
    details.remove("authmethod");
    if let Some(method) = authmethod {
        details.insert("authmethod".into(), Value::from(method));
    }
    details.insert("authextra".into(), Value::Dict(authextra));
    details
}

// ===== 1. The router must prove its identity where the client requires it

const CLIENT_KEY: [u8; 32] = [1; 32];
const ROUTER_KEY: [u8; 32] = [9; 32];

fn router_public_key() -> String {
    hex::encode(
        SigningKey::from_bytes(&ROUTER_KEY)
            .verifying_key()
            .as_bytes(),
    )
}

fn pinned_cryptosign() -> CryptoSign {
    CryptoSign::from_bytes(&CLIENT_KEY)
        .authid("device")
        .verify_router(&router_public_key())
        .unwrap()
}

#[tokio::test]
async fn cryptosign_with_a_router_key_refuses_a_welcome_without_challenge() {
    for (authmethod, second) in [
        (Some("cryptosign"), None),
        (None, None),
        (Some("anonymous"), Some(Anonymous)),
    ] {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let mut builder =
            Session::builder(router.url(), "realm1").authenticator(pinned_cryptosign());
        if let Some(second) = second {
            builder = builder.authenticator(second);
        }
        let err = against(builder, router, move |mut peer| async move {
            let hello = peer.expect_hello().await;
            let extra = hello
                .details
                .get("authextra")
                .and_then(Value::as_dict)
                .unwrap();
            assert!(extra.contains_key("challenge"), "{extra:?}");
            peer.send(Message::Welcome {
                session: 1,
                details: welcome_as(authmethod, Dict::new()),
            })
            .await;
            expect_client_abort(&mut peer).await;
        })
        .await;
        let message = assert_refused(&err, AuthErrorKind::RouterNotAuthenticated);
        assert!(
            message.contains("without proving its identity"),
            "{message}"
        );
        assert!(message.contains("verify_router"), "{message}");
    }
}

#[tokio::test]
async fn cryptosign_with_a_router_key_joins_when_the_router_signs() {
    let router = ScriptedRouter::start(Serializer::Json).await;
    let url = router.url();
    let script = tokio::spawn(async move {
        let mut peer = router.accept().await;
        let hello = peer.expect_hello().await;
        let extra = hello
            .details
            .get("authextra")
            .and_then(Value::as_dict)
            .unwrap();
        let client_challenge = extra.get("challenge").and_then(Value::as_str).unwrap();
        let message = hex::decode(client_challenge).unwrap();
        let signature = SigningKey::from_bytes(&ROUTER_KEY).sign(&message);
        peer.send(Message::Challenge {
            method: "cryptosign".into(),
            extra: dict([
                ("challenge", Value::from("ab".repeat(32))),
                ("channel_binding", Value::Null),
                ("pubkey", Value::from(router_public_key())),
                (
                    "signature",
                    Value::from(format!(
                        "{}{client_challenge}",
                        hex::encode(signature.to_bytes())
                    )),
                ),
            ]),
        })
        .await;
        expect_message!(peer, Message::Authenticate { .. });
        peer.send(Message::Welcome {
            session: 1,
            details: welcome_as(Some("cryptosign"), Dict::new()),
        })
        .await;
        peer.expect_leave().await;
    });
    let session = bounded(
        "connect",
        Session::builder(url, "realm1")
            .authenticator(pinned_cryptosign())
            .connect(),
    )
    .await
    .unwrap();
    bounded("leave", session.leave()).await.unwrap();
    bounded("router script", script).await.unwrap();
}

#[tokio::test]
async fn cryptosign_with_a_router_key_refuses_a_welcome_for_another_method() {
    // The user asked for router authentication: a router that picks the ticket instead has not
    // given it.
    let router = ScriptedRouter::start(Serializer::Json).await;
    let builder = Session::builder(router.url(), "realm1")
        .authenticator(pinned_cryptosign())
        .authenticator(Ticket::new("device", "a-ticket"));
    let err = against(builder, router, |mut peer| async move {
        peer.expect_hello().await;
        peer.send(Message::Challenge {
            method: "ticket".into(),
            extra: Dict::new(),
        })
        .await;
        expect_message!(peer, Message::Authenticate { .. });
        peer.send(Message::Welcome {
            session: 1,
            details: welcome_as(Some("ticket"), Dict::new()),
        })
        .await;
        expect_client_abort(&mut peer).await;
    })
    .await;
    let message = assert_refused(&err, AuthErrorKind::RouterNotAuthenticated);
    assert!(message.contains("\"cryptosign\""), "{message}");
}

/// A SCRAM challenge extending the client's nonce, with this KDF and cost.
fn scram_challenge(
    hello: &wamp_testkit::scripted_router::Hello,
    kdf: &str,
    iterations: u64,
    memory: u64,
) -> Message {
    let extra = hello
        .details
        .get("authextra")
        .and_then(Value::as_dict)
        .unwrap();
    let client_nonce = extra.get("nonce").and_then(Value::as_str).unwrap();
    Message::Challenge {
        method: "scram".into(),
        extra: dict([
            (
                "nonce",
                Value::from(format!("{client_nonce}c2VydmVyLW5vbmNl")),
            ),
            ("salt", Value::from("X/j5+tT2xcqGNB2s9Mo+rg==")),
            ("kdf", Value::from(kdf)),
            ("iterations", Value::from(iterations)),
            ("memory", Value::from(memory)),
        ]),
    }
}

#[tokio::test]
async fn scram_alone_refuses_a_welcome_without_challenge() {
    for authmethod in [None, Some("anonymous"), Some("ticket"), Some("scram")] {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let builder = Session::builder(router.url(), "realm1")
            .authenticator(Scram::new("scram-user", "scram-secret-123"));
        let err = against(builder, router, move |mut peer| async move {
            peer.expect_hello().await;
            peer.send(Message::Welcome {
                session: 1,
                details: welcome_as(authmethod, Dict::new()),
            })
            .await;
            expect_client_abort(&mut peer).await;
        })
        .await;
        let message = assert_refused(&err, AuthErrorKind::RouterNotAuthenticated);
        assert!(!message.contains("scram-secret-123"), "{message}");
    }
}

#[tokio::test]
async fn scram_refuses_a_welcome_without_its_signature_after_a_challenge() {
    for authmethod in [None, Some("ticket"), Some("anonymous")] {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let builder = Session::builder(router.url(), "realm1")
            .authenticator(Scram::new("scram-user", "scram-secret-123"));
        let err = against(builder, router, move |mut peer| async move {
            let hello = peer.expect_hello().await;
            peer.send(scram_challenge(&hello, "argon2id-13", 16, 512))
                .await;
            expect_message!(peer, Message::Authenticate { .. });
            peer.send(Message::Welcome {
                session: 1,
                details: welcome_as(authmethod, Dict::new()),
            })
            .await;
            expect_client_abort(&mut peer).await;
        })
        .await;
        let message = assert_refused(&err, AuthErrorKind::RouterNotAuthenticated);
        assert!(
            message.contains("lacks the SCRAM server signature"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn scram_with_a_fallback_accepts_a_router_that_picks_the_fallback() {
    // Anonymous does not authenticate the router: offering it accepts a router that does not
    // prove itself.
    let router = ScriptedRouter::start(Serializer::Json).await;
    let url = router.url();
    let script = tokio::spawn(async move {
        let mut peer = router.accept().await;
        peer.welcome_with(1, welcome_as(Some("anonymous"), Dict::new()))
            .await;
        peer.expect_leave().await;
    });
    let session = bounded(
        "connect",
        Session::builder(url, "realm1")
            .authenticator(Scram::new("scram-user", "scram-secret-123"))
            .authenticator(Anonymous)
            .connect(),
    )
    .await
    .unwrap();
    assert_eq!(session.details().authmethod.as_deref(), Some("anonymous"));
    bounded("leave", session.leave()).await.unwrap();
    bounded("router script", script).await.unwrap();
}

// ===== 2. Key derivation costs

/// Connects with `scram` to a router that challenges with this KDF and cost and expects the
/// client to refuse it without answering; returns the error.
async fn refused_challenge(scram: Scram, kdf: &'static str, iterations: u64, memory: u64) -> Error {
    let router = ScriptedRouter::start(Serializer::Json).await;
    let builder = Session::builder(router.url(), "realm1").authenticator(scram);
    against(builder, router, move |mut peer| async move {
        let hello = peer.expect_hello().await;
        peer.send(scram_challenge(&hello, kdf, iterations, memory))
            .await;
        expect_client_abort(&mut peer).await;
    })
    .await
}

#[tokio::test]
async fn scram_refuses_key_derivations_above_the_limits_before_deriving() {
    let capture = Capture::install();
    let scram = || Scram::new("scram-user", "scram-secret-123");
    // 128 MiB of Argon2 memory; more passes than the default cost allows; too many PBKDF2
    // iterations.
    for (kdf, iterations, memory) in [
        ("argon2id-13", 1, 128 * 1024),
        ("argon2id-13", 128, 64 * 1024),
        ("pbkdf2", 3_000_000, 0),
    ] {
        let err = refused_challenge(scram(), kdf, iterations, memory).await;
        let message = assert_refused(&err, AuthErrorKind::KdfCostTooHigh);
        assert!(message.contains("KdfLimits"), "{message}");
    }
    // Limits of one's own apply instead of the defaults.
    let mut limits = KdfLimits::default();
    limits.argon2_max_memory_kib = 1024;
    let err = refused_challenge(scram().kdf_limits(limits), "argon2id-13", 8, 2048).await;
    assert_refused(&err, AuthErrorKind::KdfCostTooHigh);
    // Refused before anything was derived.
    assert!(
        capture.messages_containing(": started").is_empty(),
        "{:?}",
        capture.events()
    );
}

#[tokio::test]
async fn scram_refuses_key_derivations_below_the_limits() {
    // RFC 7677's 4,096 PBKDF2 iterations are below the default floor; a weak Argon2 cost too.
    let scram = || Scram::new("scram-user", "scram-secret-123");
    for (kdf, iterations, memory) in [
        ("pbkdf2", 4_096, 0),
        ("pbkdf2", 99_999, 0),
        ("argon2id-13", 1, 512),
    ] {
        let err = refused_challenge(scram(), kdf, iterations, memory).await;
        let message = assert_refused(&err, AuthErrorKind::KdfCostTooLow);
        assert!(message.contains("KdfLimits"), "{message}");
    }
}

#[tokio::test]
async fn a_pinned_kdf_refuses_the_other() {
    let argon2 = Scram::new("scram-user", "scram-secret-123").only_kdf(ScramKdf::Argon2id);
    let err = refused_challenge(argon2, "pbkdf2", 200_000, 0).await;
    let message = assert_refused(&err, AuthErrorKind::KdfNotAllowed);
    assert!(message.contains("only Argon2id"), "{message}");

    let pbkdf2 = Scram::new("scram-user", "scram-secret-123").only_kdf(ScramKdf::Pbkdf2);
    for kdf in ["argon2id-13", "argon2id13"] {
        let err = refused_challenge(pbkdf2.clone(), kdf, 16, 512).await;
        let message = assert_refused(&err, AuthErrorKind::KdfNotAllowed);
        assert!(message.contains("only PBKDF2"), "{message}");
    }
}

/// The cost of the first, expensive challenge (allowed by the default limits).
const EXPENSIVE: (u64, u64) = (4, 64 * 1024);
/// The cost of the second challenge.
const CHEAP: (u64, u64) = (16, 512);

#[tokio::test(flavor = "current_thread")]
async fn one_key_derivation_at_a_time_across_attempts() {
    let capture = Capture::install();
    let router = ScriptedRouter::start(Serializer::Json).await;
    let builder = Session::builder(router.url(), "realm1")
        .authenticator(Scram::new("scram-user", "scram-secret-123"))
        .join_timeout(LIMIT);

    let script = tokio::spawn(async move {
        // The first attempt: an expensive challenge, then nothing.
        let mut first = router.accept().await;
        let hello = first.expect_hello().await;
        first
            .send(scram_challenge(
                &hello,
                "argon2id-13",
                EXPENSIVE.0,
                EXPENSIVE.1,
            ))
            .await;
        // The second attempt: a cheap challenge, answered; then the router gives up.
        let mut second = router.accept().await;
        let hello = second.expect_hello().await;
        second
            .send(scram_challenge(&hello, "argon2id-13", CHEAP.0, CHEAP.1))
            .await;
        expect_message!(second, Message::Authenticate { .. });
        second
            .send(wamp_testkit::scripted_router::abort(
                "wamp.error.not_authorized",
                "no",
            ))
            .await;
        second.expect_closed().await;
        drop(first);
    });

    // The first attempt gives up (as on a join timeout) while its derivation runs.
    let first = tokio::spawn(builder.clone().connect());
    let expensive = format!("Argon2id, {} passes, {} KiB", EXPENSIVE.0, EXPENSIVE.1);
    bounded("the first derivation starts", capture.wait_for(&expensive)).await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());

    // The second waits for it before deriving its own key.
    let err = bounded("the second attempt", builder.connect())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Aborted(e) if e.uri == ErrorUri::NotAuthorized),
        "{err:?}"
    );
    bounded("router script", script).await.unwrap();
    // The first derivation runs to its end whatever happens.
    bounded(
        "the first derivation finishes",
        capture.wait_for(&format!("finished cost={expensive}")),
    )
    .await;

    let cheap = format!("Argon2id, {} passes, {} KiB", CHEAP.0, CHEAP.1);
    let derivations: Vec<String> = capture
        .events()
        .into_iter()
        .filter(|e| e.contains("deriving the SCRAM salted password"))
        .collect();
    let position = |what: &str, cost: &str| {
        derivations
            .iter()
            .position(|e| e.contains(what) && e.contains(cost))
            .unwrap_or_else(|| panic!("no `{what}` for {cost}: {derivations:#?}"))
    };
    // (Whether the second attempt logged that it waited depends on how long the first derivation
    // ran; the order of the two derivations does not.)
    assert!(
        position(": finished", &expensive) < position(": started", &cheap),
        "the second derivation started while the first ran: {derivations:#?}"
    );
}

// ===== 3. Secrets offered without TLS

/// Connects to `url`, whose port no socket can have: the warning is logged before the URL is
/// parsed and refused, so no connection is ever attempted. Returns the warnings logged.
async fn cleartext_warnings(
    url: &str,
    builder: impl FnOnce(SessionBuilder) -> SessionBuilder,
) -> Vec<String> {
    assert!(url.contains(&format!(":{NO_PORT}")), "{url}");
    let capture = Capture::install();
    let builder = builder(Session::builder(url, "realm1").join_timeout(Duration::from_millis(300)));
    let err = bounded("connect", builder.connect()).await.unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{url}: {err:?}");
    capture.warnings()
}

/// A remote host (TEST-NET-1, RFC 5737); never contacted, see [`cleartext_warnings`].
const REMOTE: &str = "192.0.2.1";

/// A port number beyond 65535: the URL is refused before any connection.
const NO_PORT: u32 = 99_999;

#[tokio::test(flavor = "current_thread")]
async fn ticket_or_wampcra_without_tls_to_a_remote_host_warns_once() {
    for url in [
        format!("ws://{REMOTE}:{NO_PORT}/ws"),
        format!("rs://{REMOTE}:{NO_PORT}"),
    ] {
        let warnings = cleartext_warnings(&url, |b| {
            b.ticket("alice", "ticket-secret-123")
                .wampcra("alice", "cra-secret-123")
        })
        .await;
        assert_eq!(warnings.len(), 1, "{url}: {warnings:#?}");
        let warning = &warnings[0];
        assert!(warning.contains("without TLS"), "{warning}");
        assert!(warning.contains(REMOTE), "{warning}");
        assert!(warning.contains("[\"ticket\", \"wampcra\"]"), "{warning}");
        assert!(!warning.contains("secret-123"), "{warning}");
    }
    let warnings = cleartext_warnings(&format!("ws://{REMOTE}:{NO_PORT}/ws"), |b| {
        b.authenticator(WampCra::new("alice", "cra-secret-123"))
    })
    .await;
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn no_cleartext_warning_with_tls_locally_or_without_exposed_secrets() {
    let ticket = |b: SessionBuilder| b.ticket("alice", "ticket-secret-123");
    for url in [
        format!("wss://{REMOTE}:{NO_PORT}/ws"),
        format!("rss://{REMOTE}:{NO_PORT}"),
    ] {
        assert_eq!(
            cleartext_warnings(&url, ticket).await,
            Vec::<String>::new(),
            "{url}"
        );
    }
    let warnings = cleartext_warnings(&format!("ws://{REMOTE}:{NO_PORT}/ws"), |b| {
        b.scram("alice", "secret").authenticator(Anonymous)
    })
    .await;
    assert_eq!(warnings, Vec::<String>::new());

    // A router on the local machine: the ticket is answered, nothing is warned.
    let capture = Capture::install();
    let router = ScriptedRouter::start(Serializer::Json).await;
    let url = router.url();
    let script = tokio::spawn(async move {
        let mut peer = router.accept().await;
        peer.expect_hello().await;
        peer.send(Message::Challenge {
            method: "ticket".into(),
            extra: Dict::new(),
        })
        .await;
        expect_message!(peer, Message::Authenticate { .. });
        peer.send(Message::Welcome {
            session: 1,
            details: welcome_as(Some("ticket"), Dict::new()),
        })
        .await;
        peer.expect_leave().await;
    });
    let session = bounded("connect", ticket(Session::builder(url, "realm1")).connect())
        .await
        .unwrap();
    bounded("leave", session.leave()).await.unwrap();
    bounded("router script", script).await.unwrap();
    assert_eq!(capture.warnings(), Vec::<String>::new());
}

// ===== Log capture

/// A subscriber recording every event as `LEVEL target: message field=value ...`, installed
/// as the default of the current thread (and of the threads the client hands it to).
#[derive(Clone, Default)]
struct Capture {
    events: Arc<Mutex<Vec<String>>>,
    spans: Arc<AtomicU64>,
}

struct CaptureGuard {
    capture: Capture,
    _guard: tracing::subscriber::DefaultGuard,
}

impl std::ops::Deref for CaptureGuard {
    type Target = Capture;
    fn deref(&self) -> &Capture {
        &self.capture
    }
}

impl Capture {
    fn install() -> CaptureGuard {
        let capture = Capture::default();
        let guard = tracing::subscriber::set_default(capture.clone());
        CaptureGuard {
            capture,
            _guard: guard,
        }
    }

    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    fn messages_containing(&self, text: &str) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|e| e.contains(text))
            .collect()
    }

    fn warnings(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|e| e.starts_with("WARN wampkit_client::auth"))
            .collect()
    }

    /// Waits until an event contains `text`.
    async fn wait_for(&self, text: &str) {
        while self.messages_containing(text).is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!(" {value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(self.spans.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let metadata = event.metadata();
        let mut fields = Fields(format!("{} {}:", metadata.level(), metadata.target()));
        event.record(&mut fields);
        self.events.lock().unwrap().push(fields.0);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

//! Authentication against routers that try to get around it: a WELCOME without the router's
//! proof of identity.
//!
//! Every router here is scripted (`support::scripted_router`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::future::Future;
use std::time::Duration;

use ed25519_dalek::{Signer as _, SigningKey};
use wamp_client::auth::{Anonymous, AuthErrorKind, CryptoSign, Scram, Ticket};
use wamp_client::wire::Message;
use wamp_client::{Dict, Error, ErrorUri, Serializer, Session, SessionBuilder, Value};

use support::scripted_router::{RouterPeer, ScriptedRouter, dict, expect_message, welcome_details};

/// The longest one test may take; a hang fails the test instead of CI.
const LIMIT: Duration = Duration::from_secs(60);

async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no result within {LIMIT:?}"))
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
    hello: &support::scripted_router::Hello,
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

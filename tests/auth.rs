//! Authentication end to end: every method against the router under test (WebSocket paths and
//! the authenticated RawSocket endpoint, every serializer), wrong credentials, role permissions,
//! and scripted routers for what Crossbar.io never does (foreign challenges, several rounds,
//! rogue SCRAM parameters).
//!
//! Credentials are Crossbar.io's throwaway test principals (scripts/crossbar/config.json).
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value as Json, json};
use testkit::e2e::{self, router};
use wamp_testkit::scripted_router::{Frame, RouterPeer, ScriptedRouter};
use wampkit::auth::{Anonymous, AuthErrorKind, CryptoSign, Scram, ScramKdf, Ticket, WampCra};
use wampkit::{Arguments, Error, ErrorUri, Invocation, Serializer, Session, SessionBuilder};

/// Every test gets this long; a hang fails the test instead of CI.
const LIMIT: Duration = Duration::from_secs(60);

const CS_PRIVATE_KEY: &str = "d2ddb103d432490f61893bd87fe72c0f3f6fc36f2412ccf99519bb873af7e61c";
const CS_PUBLIC_KEY: &str = "53d9e731fcf81e7b480a0c4f281fea226a6c58b8118d4c08975a90273c77ef3b";

async fn within<T>(what: &str, future: impl IntoFuture<Output = T>) -> T {
    e2e::within_for(LIMIT, what, future).await
}

/// The transports of the tests: a WebSocket path, or the authenticated RawSocket endpoint.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Ws(&'static str),
    RawSocket,
}

impl Endpoint {
    fn url(self) -> String {
        match self {
            Endpoint::Ws(path) => router().url(path),
            Endpoint::RawSocket => router().rawsocket_auth_url(),
        }
    }
}

fn builder(endpoint: Endpoint, serializer: Serializer) -> SessionBuilder {
    Session::builder(endpoint.url(), "realm1").serializer(serializer)
}

async fn join(what: &str, builder: SessionBuilder) -> Session {
    within(what, builder.connect())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

async fn refused(what: &str, builder: SessionBuilder) -> Error {
    match within(what, builder.connect()).await {
        Ok(session) => panic!("{what}: joined as {:?}", session.details()),
        Err(e) => e,
    }
}

/// Asserts this client refused the authentication with an error of `kind`, and returns the
/// error's text.
fn assert_client_refused(err: &Error, kind: AuthErrorKind) -> String {
    match err {
        Error::Authentication(auth) => assert_eq!(auth.kind(), kind, "{err}"),
        other => panic!("expected Error::Authentication({kind:?}), got {other:?}"),
    }
    err.to_string()
}

/// Asserts the join failed with ABORT `uri`, and returns the error's text.
fn assert_aborted(err: &Error, uri: ErrorUri) -> String {
    match err {
        Error::Aborted(wamp) => assert_eq!(wamp.uri, uri, "{err}"),
        other => panic!("expected Error::Aborted({uri}), got {other:?}"),
    }
    err.to_string()
}

fn assert_identity(session: &Session, authid: &str, authrole: &str, authmethod: &str) {
    let details = session.details();
    assert_eq!(details.authid.as_deref(), Some(authid), "{details:?}");
    assert_eq!(details.authrole.as_deref(), Some(authrole), "{details:?}");
    assert_eq!(
        details.authmethod.as_deref(),
        Some(authmethod),
        "{details:?}"
    );
    assert_eq!(
        details.authprovider.as_deref(),
        Some("static"),
        "{details:?}"
    );
}

/// Joins with every method on `endpoint` (one where they are all configured) and checks the
/// identity the router assigned.
async fn every_method(endpoint: Endpoint, serializer: Serializer) {
    let cases: Vec<(&str, SessionBuilder, &str, &str)> = vec![
        (
            "ticket",
            builder(endpoint, serializer).ticket("ticket-user", "ticket-secret-123"),
            "ticket-user",
            "ticket",
        ),
        (
            "wampcra",
            builder(endpoint, serializer).wampcra("cra-user", "cra-secret-123"),
            "cra-user",
            "wampcra",
        ),
        (
            "wampcra salted",
            builder(endpoint, serializer).wampcra("cra-salted-user", "cra-salted-secret"),
            "cra-salted-user",
            "wampcra",
        ),
        (
            "cryptosign",
            builder(endpoint, serializer).cryptosign(Some("cs-user"), CS_PRIVATE_KEY),
            "cs-user",
            "cryptosign",
        ),
        (
            "scram",
            builder(endpoint, serializer).scram("scram-user", "scram-secret-123"),
            "scram-user",
            "scram",
        ),
    ];
    for (what, builder, authid, authmethod) in cases {
        let session = join(what, builder).await;
        assert_eq!(session.serializer(), serializer);
        assert_identity(&session, authid, "user", authmethod);
        // The session works: a meta procedure answers.
        let count: u64 = within("call", session.call("wamp.session.count", ()))
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert!(count >= 1);
        within("leave", session.leave()).await.unwrap();
    }
}

macro_rules! per_serializer {
    ($($name:ident: $endpoint:expr;)*) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test]
                async fn json() { every_method($endpoint, Serializer::Json).await }
                #[tokio::test]
                async fn msgpack() { every_method($endpoint, Serializer::MsgPack).await }
                #[tokio::test]
                async fn cbor() { every_method($endpoint, Serializer::Cbor).await }
            }
        )*
    };
}

per_serializer! {
    every_method_on_websocket: Endpoint::Ws("auth");
    every_method_on_rawsocket: Endpoint::RawSocket;
}

#[tokio::test]
async fn each_single_method_path() {
    let session = join(
        "/ticket",
        builder(Endpoint::Ws("ticket"), Serializer::Json)
            .ticket("ticket-user", "ticket-secret-123")
            .authrole("user"),
    )
    .await;
    assert_identity(&session, "ticket-user", "user", "ticket");
    within("leave", session.leave()).await.unwrap();

    for (authid, secret) in [
        ("cra-user", "cra-secret-123"),
        ("cra-salted-user", "cra-salted-secret"),
    ] {
        let session = join(
            "/wampcra",
            builder(Endpoint::Ws("wampcra"), Serializer::MsgPack).wampcra(authid, secret),
        )
        .await;
        assert_identity(&session, authid, "user", "wampcra");
        within("leave", session.leave()).await.unwrap();
    }

    let session = join(
        "/scram",
        builder(Endpoint::Ws("scram"), Serializer::Cbor).scram("scram-user", "scram-secret-123"),
    )
    .await;
    assert_identity(&session, "scram-user", "user", "scram");
    // Crossbar.io sends its SCRAM server signature (checked by the client) in authextra.
    assert!(
        session
            .details()
            .authextra()
            .is_some_and(|extra| extra.contains_key("scram_server_signature")),
        "{:?}",
        session.details()
    );
    within("leave", session.leave()).await.unwrap();
}

#[tokio::test]
async fn cryptosign_without_authid_and_with_router_authentication() {
    // No authid: Crossbar.io finds the principal by the public key.
    let session = join(
        "cryptosign without authid",
        builder(Endpoint::Ws("cryptosign"), Serializer::Json).cryptosign(None, CS_PRIVATE_KEY),
    )
    .await;
    assert_identity(&session, "cs-user", "user", "cryptosign");
    within("leave", session.leave()).await.unwrap();

    // Router authentication: Crossbar.io signs the client's challenge with its node key.
    let authenticator = CryptoSign::from_hex(CS_PRIVATE_KEY)
        .unwrap()
        .authid("cs-user")
        .request_router_signature();
    assert_eq!(authenticator.public_key_hex(), CS_PUBLIC_KEY);
    let session = join(
        "cryptosign with router authentication",
        builder(Endpoint::Ws("cryptosign"), Serializer::MsgPack).authenticator(authenticator),
    )
    .await;
    assert_identity(&session, "cs-user", "user", "cryptosign");
    within("leave", session.leave()).await.unwrap();

    // Pinned to a key the router does not have: this client aborts.
    let pinned = CryptoSign::from_hex(CS_PRIVATE_KEY)
        .unwrap()
        .verify_router(CS_PUBLIC_KEY)
        .unwrap();
    let err = refused(
        "cryptosign with the wrong router key",
        builder(Endpoint::Ws("cryptosign"), Serializer::Cbor).authenticator(pinned),
    )
    .await;
    let text = assert_client_refused(&err, AuthErrorKind::RouterNotAuthenticated);
    assert!(text.contains("not the expected one"), "{text}");
    assert_eq!(
        err.uri().map(ErrorUri::as_str),
        Some("wamp.error.authentication_failed")
    );
}

#[tokio::test]
async fn several_methods_in_one_hello() {
    // /auth has no anonymous: the router skips it and takes the ticket.
    let session = join(
        "anonymous then ticket",
        builder(Endpoint::Ws("auth"), Serializer::Json)
            .authenticator(Anonymous)
            .ticket("ticket-user", "ticket-secret-123"),
    )
    .await;
    assert_identity(&session, "ticket-user", "user", "ticket");
    within("leave", session.leave()).await.unwrap();

    // The router takes the first offered method it has: SCRAM, not anonymous.
    let session = join(
        "scram then anonymous",
        builder(Endpoint::Ws("anyauth"), Serializer::MsgPack)
            .scram("scram-user", "scram-secret-123")
            .authenticator(Anonymous),
    )
    .await;
    assert_identity(&session, "scram-user", "user", "scram");
    within("leave", session.leave()).await.unwrap();

    // /cryptosign has only cryptosign: the ticket offered first is skipped.
    let session = join(
        "ticket then cryptosign",
        builder(Endpoint::Ws("cryptosign"), Serializer::Cbor)
            .authenticator(Ticket::new("cs-user", "not-used"))
            .authenticator(CryptoSign::from_hex(CS_PRIVATE_KEY).unwrap()),
    )
    .await;
    assert_identity(&session, "cs-user", "user", "cryptosign");
    within("leave", session.leave()).await.unwrap();
}

#[tokio::test]
async fn anonymous_on_anyauth() {
    let session = join(
        "anonymous",
        builder(Endpoint::Ws("anyauth"), Serializer::Json).authenticator(Anonymous),
    )
    .await;
    let details = session.details();
    assert_eq!(details.authmethod.as_deref(), Some("anonymous"));
    assert_eq!(details.authrole.as_deref(), Some("anonymous"));
    within("leave", session.leave()).await.unwrap();
}

#[tokio::test]
async fn wrong_credentials_are_typed_aborts() {
    let cases: Vec<(&str, SessionBuilder, ErrorUri)> = vec![
        (
            "wrong ticket",
            builder(Endpoint::Ws("ticket"), Serializer::Json).ticket("ticket-user", "bad-secret-9"),
            ErrorUri::NotAuthorized,
        ),
        (
            "unknown ticket authid",
            builder(Endpoint::Ws("ticket"), Serializer::MsgPack).ticket("nobody", "x"),
            ErrorUri::NotAuthorized,
        ),
        (
            "wrong wampcra secret",
            builder(Endpoint::Ws("wampcra"), Serializer::Cbor).wampcra("cra-user", "bad-secret-9"),
            ErrorUri::NotAuthorized,
        ),
        (
            "wrong salted wampcra secret",
            builder(Endpoint::Ws("wampcra"), Serializer::Json)
                .wampcra("cra-salted-user", "bad-secret-9"),
            ErrorUri::NotAuthorized,
        ),
        (
            "unknown wampcra authid",
            builder(Endpoint::Ws("wampcra"), Serializer::Json).wampcra("nobody", "x"),
            ErrorUri::NotAuthorized,
        ),
        (
            "unknown cryptosign key",
            builder(Endpoint::Ws("cryptosign"), Serializer::MsgPack)
                .cryptosign(None, &"11".repeat(32)),
            ErrorUri::NotAuthorized,
        ),
        (
            "wrong scram password",
            builder(Endpoint::Ws("scram"), Serializer::Cbor).scram("scram-user", "bad-secret-9"),
            ErrorUri::NotAuthorized,
        ),
        (
            "unknown scram authid",
            builder(Endpoint::Ws("scram"), Serializer::Json).scram("nobody", "x"),
            ErrorUri::NotAuthorized,
        ),
        (
            "method not offered on the endpoint",
            builder(Endpoint::Ws("ticket"), Serializer::Json).wampcra("cra-user", "cra-secret-123"),
            ErrorUri::NoAuthMethod,
        ),
        (
            "no method on an authenticated endpoint",
            builder(Endpoint::Ws("scram"), Serializer::Json),
            ErrorUri::NoAuthMethod,
        ),
        (
            "wrong ticket over rawsocket",
            builder(Endpoint::RawSocket, Serializer::MsgPack).ticket("ticket-user", "bad-secret-9"),
            ErrorUri::NotAuthorized,
        ),
    ];
    for (what, builder, uri) in cases {
        let err = refused(what, builder).await;
        let text = assert_aborted(&err, uri.clone());
        // The error says what to check, and never echoes a secret.
        assert!(
            text.contains("credentials") || text.contains("offer an authentication"),
            "{what}: {text}"
        );
        assert!(!text.contains("bad-secret-9"), "{what}: {text}");
    }
}

#[tokio::test]
async fn a_malformed_private_key_fails_the_connect() {
    let err = refused(
        "malformed key",
        builder(Endpoint::Ws("cryptosign"), Serializer::Json).cryptosign(None, "secret-not-hex"),
    )
    .await;
    let text = assert_client_refused(&err, AuthErrorKind::Other);
    assert!(text.contains("64 hex digits"), "{text}");
    assert!(!text.contains("secret-not-hex"), "{text}");
}

#[tokio::test]
async fn restricted_role_may_call_only_public_procedures() {
    // Both on /ticket: the embedded router serves each of Crossbar.io's authenticated paths
    // with a router of its own, so sessions on different paths would not meet there.
    let owner = join(
        "owner",
        builder(Endpoint::Ws("ticket"), Serializer::Json)
            .ticket("ticket-user", "ticket-secret-123"),
    )
    .await;
    let echo = |inv: Invocation| async move {
        let text: String = inv.args::<(String,)>()?.0;
        Ok(Arguments::single(text)?)
    };
    let _public = within(
        "register public",
        owner.register("com.example.public.auth_echo", echo),
    )
    .await
    .unwrap();
    let _private = within(
        "register private",
        owner.register("com.example.private.auth_echo", echo),
    )
    .await
    .unwrap();

    let restricted = join(
        "restricted",
        builder(Endpoint::Ws("ticket"), Serializer::MsgPack)
            .ticket("restricted-user", "restricted-secret"),
    )
    .await;
    assert_identity(&restricted, "restricted-user", "restricted", "ticket");
    let reply: String = within(
        "public call",
        restricted.call("com.example.public.auth_echo", ("hi",)),
    )
    .await
    .unwrap()
    .arg(0)
    .unwrap();
    assert_eq!(reply, "hi");

    let err = within(
        "private call",
        restricted.call("com.example.private.auth_echo", ("hi",)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::NotAuthorized), "{err:?}");
    let err = within(
        "register",
        restricted.register("com.example.public.mine", echo),
    )
    .await
    .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::NotAuthorized), "{err:?}");

    within("leave", restricted.leave()).await.unwrap();
    within("leave", owner.leave()).await.unwrap();
}

#[test]
fn debug_output_hides_every_secret() {
    let secrets = [
        "ticket-secret-123",
        "cra-secret-123",
        "scram-secret-123",
        CS_PRIVATE_KEY,
    ];
    let builder = Session::builder("ws://127.0.0.1:1/auth", "realm1")
        .ticket("ticket-user", secrets[0])
        .wampcra("cra-user", secrets[1])
        .scram("scram-user", secrets[2])
        .cryptosign(Some("cs-user"), secrets[3])
        .authenticator(Ticket::new("a", secrets[0]))
        .authenticator(WampCra::new("b", secrets[1]))
        .authenticator(Scram::new("c", secrets[2]).wamp_scram())
        .authenticator(CryptoSign::from_hex(secrets[3]).unwrap());
    let debug = format!("{builder:?} {:#?}", builder.clone());
    for secret in secrets {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    // Parts of the key are not printed either, only the public key.
    assert!(!debug.contains(&CS_PRIVATE_KEY[..16]), "{debug}");
    assert!(debug.contains(CS_PUBLIC_KEY), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
}

// ---------------------------------------------------------------------------------------------
// Scripted routers
// ---------------------------------------------------------------------------------------------

/// One in-memory connection of a scripted router, speaking JSON, seen as JSON values.
struct Script {
    peer: RouterPeer,
    /// Every message received, in order.
    received: Vec<Json>,
}

impl Script {
    async fn recv(&mut self) -> Option<Json> {
        let text = match self.peer.recv_frame().await? {
            Frame::Text(text) => text,
            Frame::Binary(bytes) => panic!("JSON travels as text, got {bytes:?}"),
        };
        let value: Json = serde_json::from_str(&text).unwrap();
        self.received.push(value.clone());
        Some(value)
    }

    async fn send(&mut self, message: Json) {
        let _ = self
            .peer
            .try_send_frame(Frame::Text(message.to_string()))
            .await;
    }

    /// Reads until the client closes the connection.
    async fn drain(&mut self) {
        while self.recv().await.is_some() {}
    }
}

fn welcome(authmethod: &str, authextra: Json) -> Json {
    json!([2, 4242, {
        "authid": "tester",
        "authrole": "user",
        "authmethod": authmethod,
        "authprovider": "static",
        "authextra": authextra,
        "roles": {"broker": {"features": {}}, "dealer": {"features": {}}}
    }])
}

/// An in-memory JSON router that runs `script` on the first connection and returns every
/// message it received.
async fn scripted<F, Fut>(script: F) -> (Arc<ScriptedRouter>, tokio::task::JoinHandle<Vec<Json>>)
where
    F: FnOnce(Script) -> Fut + Send + 'static,
    Fut: Future<Output = Script> + Send,
{
    let router = Arc::new(ScriptedRouter::in_memory(Serializer::Json));
    let accepting = Arc::clone(&router);
    let task = tokio::spawn(async move {
        let peer = accepting.accept().await;
        let script_state = script(Script {
            peer,
            received: Vec::new(),
        })
        .await;
        script_state.received
    });
    (router, task)
}

/// Joins `scripted` with `builder` (whose URL is only a name).
async fn join_scripted(what: &str, scripted: &ScriptedRouter, builder: SessionBuilder) -> Session {
    within(what, scripted.connect(builder))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Joins `scripted` with `builder`, which must fail.
async fn refused_by_scripted(
    what: &str,
    scripted: &ScriptedRouter,
    builder: SessionBuilder,
) -> Error {
    match within(what, scripted.connect(builder)).await {
        Ok(session) => panic!("{what}: joined as {:?}", session.details()),
        Err(e) => e,
    }
}

/// Asserts the client sent ABORT `wamp.error.authentication_failed` as its last message.
fn assert_client_aborted(received: &[Json]) {
    let last = received.last().expect("the client sent something");
    assert_eq!(last[0], 3, "{received:?}");
    assert_eq!(last[2], "wamp.error.authentication_failed", "{received:?}");
}

fn assert_client_error(err: &Error, expected: &str) {
    let Error::Authentication(auth) = err else {
        panic!("expected Error::Authentication, got {err:?}");
    };
    assert!(auth.message().contains(expected), "{err}");
    assert_eq!(err.uri(), Some(&ErrorUri::AuthenticationFailed));
}

#[tokio::test]
async fn a_challenge_for_a_method_not_offered_is_aborted() {
    let (scripted_router, router) = scripted(|mut s| async move {
        let hello = s.recv().await.unwrap();
        assert_eq!(hello[2]["authmethods"], json!(["ticket"]));
        s.send(json!([4, "wampcra", {"challenge": "{}"}])).await;
        s.drain().await;
        s
    })
    .await;
    let err = refused_by_scripted(
        "foreign challenge",
        &scripted_router,
        Session::builder(scripted_router.url(), "realm1")
            .ticket("ticket-user", "ticket-secret-123"),
    )
    .await;
    assert_client_error(&err, "offered only [\"ticket\"]");
    let received = within("router", router).await.unwrap();
    assert_client_aborted(&received);
    // The ticket was never sent.
    assert!(!format!("{received:?}").contains("ticket-secret-123"));
}

#[tokio::test]
async fn several_challenge_rounds() {
    // Two factors: a ticket, then WAMP-CRA.
    let (scripted_router, router) = scripted(|mut s| async move {
        let hello = s.recv().await.unwrap();
        assert_eq!(hello[2]["authmethods"], json!(["ticket", "wampcra"]));
        assert_eq!(hello[2]["authid"], "alice");
        assert_eq!(hello[2]["authrole"], "admin");
        assert_eq!(hello[2]["authextra"]["tenant"], "acme");
        s.send(json!([4, "ticket", {}])).await;
        let first = s.recv().await.unwrap();
        assert_eq!(first, json!([5, "ticket-secret-123", {}]));
        s.send(json!([4, "wampcra", {"challenge": "{\"nonce\": \"abc\"}"}]))
            .await;
        let second = s.recv().await.unwrap();
        assert_eq!(second[0], 5);
        s.send(welcome("wampcra", json!({}))).await;
        s.drain().await;
        s
    })
    .await;
    let session = join_scripted(
        "two rounds",
        &scripted_router,
        Session::builder(scripted_router.url(), "realm1")
            .ticket("alice", "ticket-secret-123")
            .wampcra("alice", "cra-secret-123")
            .authrole("admin")
            .authextra("tenant", "acme"),
    )
    .await;
    assert_eq!(session.details().authmethod.as_deref(), Some("wampcra"));
    drop(session);
    let received = within("router", router).await.unwrap();
    // HMAC-SHA256("cra-secret-123", '{"nonce": "abc"}'), computed with Python's hmac module.
    let expected = json!([5, "vB/8gj05DY6KZJ86odlRkP+TYhF134Wwh3vAEXaCotw=", {}]);
    assert_eq!(received[2], expected);
}

/// A SCRAM exchange where the router uses `nonce` as its nonce (with `{client}` replaced by the
/// client's) and `authextra` in its WELCOME.
async fn scram_script(
    nonce: &'static str,
    iterations: u64,
    authextra: Json,
) -> (Arc<ScriptedRouter>, tokio::task::JoinHandle<Vec<Json>>) {
    scripted(move |mut s| async move {
        let hello = s.recv().await.unwrap();
        let client_nonce = hello[2]["authextra"]["nonce"].as_str().unwrap().to_owned();
        s.send(json!([4, "scram", {
            "nonce": nonce.replace("{client}", &client_nonce),
            "salt": "X/j5+tT2xcqGNB2s9Mo+rg==",
            "kdf": "argon2id-13",
            "iterations": iterations,
            "memory": 512
        }]))
        .await;
        if let Some(message) = s.recv().await {
            if message[0] == 5 {
                s.send(welcome("scram", authextra)).await;
            }
        }
        s.drain().await;
        s
    })
    .await
}

#[tokio::test]
async fn rogue_scram_routers_are_aborted() {
    // A nonce that does not extend the client's.
    let (scripted_router, router) =
        scram_script("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 16, json!({})).await;
    let err = refused_by_scripted(
        "foreign nonce",
        &scripted_router,
        Session::builder(scripted_router.url(), "realm1").scram("scram-user", "scram-secret-123"),
    )
    .await;
    assert_client_error(&err, "does not extend");
    assert_client_aborted(&within("router", router).await.unwrap());

    // A KDF cost too low to be honest.
    let (scripted_router, router) = scram_script("{client}xyz", 1, json!({})).await;
    let err = refused_by_scripted(
        "weak kdf",
        &scripted_router,
        Session::builder(scripted_router.url(), "realm1").scram("scram-user", "scram-secret-123"),
    )
    .await;
    assert_client_error(&err, "weak Argon2 cost");
    assert_client_aborted(&within("router", router).await.unwrap());

    // A WELCOME with a wrong server signature.
    let forged = json!({"scram_server_signature": "gUg+Y4+8CIHa2Lfw9VtHNSnjOeSKoEvdSVPCpxeX8dc="});
    let (scripted_router, router) = scram_script("{client}xyz", 16, forged).await;
    let err = refused_by_scripted(
        "forged server signature",
        &scripted_router,
        Session::builder(scripted_router.url(), "realm1").scram("scram-user", "scram-secret-123"),
    )
    .await;
    assert_client_error(&err, "server signature is wrong");
    let received = within("router", router).await.unwrap();
    assert_eq!(received[1][0], 5, "{received:?}");
    assert_client_aborted(&received);

    // A WELCOME without a server signature.
    let (scripted_router, router) = scram_script("{client}xyz", 16, json!({})).await;
    let err = refused_by_scripted(
        "no server signature",
        &scripted_router,
        Session::builder(scripted_router.url(), "realm1").scram("scram-user", "scram-secret-123"),
    )
    .await;
    assert_client_error(&err, "lacks the SCRAM server signature");
    assert_client_aborted(&within("router", router).await.unwrap());
}

// ---------------------------------------------------------------------------------------------
// The command-line peer's authentication options
// ---------------------------------------------------------------------------------------------

/// Runs `examples/wamp.rs` (built by `cargo test` next to this test) with `args` and `env`.
fn wamp_cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let binary = e2e::example_binary("wamp").unwrap_or_else(|e| panic!("{e}"));
    let mut child = std::process::Command::new(binary)
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + LIMIT;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the CLI did not finish: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("wamp-auth-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn cli_authenticates_from_env_and_files() {
    let router = router();
    let count = ["call", "wamp.session.count"];

    let ticket_url = router.url("ticket");
    let mut args = vec![
        "--url",
        &ticket_url,
        "--authid",
        "ticket-user",
        "--ticket",
        "env:WAMP_TEST_TICKET",
    ];
    args.extend(count);
    let out = wamp_cli(&args, &[("WAMP_TEST_TICKET", "ticket-secret-123")]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("{\"args\":["));

    let secret = temp_file("scram", "scram-secret-123\n");
    let secret_source = format!("file:{}", secret.display());
    let scram_url = router.url("scram");
    let mut args = vec![
        "--url",
        &scram_url,
        "--serializer",
        "cbor",
        "--authmethod",
        "scram",
        "--authid",
        "scram-user",
        "--secret",
        &secret_source,
    ];
    args.extend(count);
    let out = wamp_cli(&args, &[]);
    assert!(out.status.success(), "{out:?}");

    let key = temp_file("key", &format!("{CS_PRIVATE_KEY}\n"));
    let key_source = format!("file:{}", key.display());
    let rawsocket_url = router.rawsocket_auth_url();
    let mut args = vec![
        "--url",
        &rawsocket_url,
        "--serializer",
        "msgpack",
        "--private-key",
        &key_source,
    ];
    args.extend(count);
    let out = wamp_cli(&args, &[]);
    assert!(out.status.success(), "{out:?}");

    // A wrong ticket: exit status 2, the router's reason, and no secret in the output.
    let mut args = vec![
        "--url",
        &ticket_url,
        "--authid",
        "ticket-user",
        "--ticket",
        "env:WAMP_TEST_TICKET",
    ];
    args.extend(count);
    let out = wamp_cli(&args, &[("WAMP_TEST_TICKET", "bad-secret-9")]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wamp.error.not_authorized"), "{stderr}");
    assert!(!stderr.contains("bad-secret-9"), "{stderr}");

    // A secret on the command line itself is refused, and not echoed.
    let mut args = vec![
        "--url",
        &ticket_url,
        "--authid",
        "ticket-user",
        "--ticket",
        "ticket-secret-123",
    ];
    args.extend(count);
    let out = wamp_cli(&args, &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("env:NAME or file:PATH"), "{stderr}");
    assert!(!stderr.contains("ticket-secret-123"), "{stderr}");

    // A malformed key: named by its source, never printed.
    let bad_key = temp_file("bad-key", "not-a-key-but-a-secret\n");
    let bad_source = format!("file:{}", bad_key.display());
    let cryptosign_url = router.url("cryptosign");
    let mut args = vec!["--url", &cryptosign_url, "--private-key", &bad_source];
    args.extend(count);
    let out = wamp_cli(&args, &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--private-key"), "{stderr}");
    assert!(!stderr.contains("not-a-key-but-a-secret"), "{stderr}");

    for path in [secret, key, bad_key] {
        let _ = std::fs::remove_file(path);
    }
}

/// A log sink for the test below.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn trace_logs_with_payloads_hide_secrets() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        // This crate's logs only: tungstenite logs every raw frame (the AUTHENTICATE with it) at
        // trace level under its own target.
        .with_env_filter("wampkit_client=trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing_subscriber::util::SubscriberInitExt::set_default(subscriber);

    for (path, builder) in [
        (
            "ticket",
            Session::builder(router().url("ticket"), "realm1")
                .ticket("ticket-user", "ticket-secret-123"),
        ),
        (
            "ticket",
            Session::builder(router().url("ticket"), "realm1")
                .ticket("ticket-user", "bad-secret-9"),
        ),
        (
            "wampcra",
            Session::builder(router().url("wampcra"), "realm1")
                .wampcra("cra-user", "cra-secret-123"),
        ),
    ] {
        if let Ok(session) = within(path, builder.trace_payloads().connect()).await {
            within("leave", session.leave()).await.unwrap();
        }
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("AUTHENTICATE"), "{text}");
    for secret in ["ticket-secret-123", "bad-secret-9", "cra-secret-123"] {
        assert!(!text.contains(secret), "{secret} logged:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Key derivation limits against Crossbar.io's parameters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn crossbar_scram_parameters_pass_the_default_limits_and_a_pinned_kdf() {
    // Crossbar.io's principal uses Argon2id (16 passes × 512 KiB), within the default limits.
    for serializer in [Serializer::Json, Serializer::Cbor] {
        let session = join(
            "scram pinned to Argon2id",
            builder(Endpoint::Ws("scram"), serializer).authenticator(
                Scram::new("scram-user", "scram-secret-123").only_kdf(ScramKdf::Argon2id),
            ),
        )
        .await;
        assert_identity(&session, "scram-user", "user", "scram");
        within("leave", session.leave()).await.unwrap();
    }

    // Pinned to the other function: this client refuses before deriving anything.
    let err = refused(
        "scram pinned to PBKDF2",
        builder(Endpoint::Ws("scram"), Serializer::Json)
            .authenticator(Scram::new("scram-user", "scram-secret-123").only_kdf(ScramKdf::Pbkdf2)),
    )
    .await;
    let text = assert_client_refused(&err, AuthErrorKind::KdfNotAllowed);
    assert!(text.contains("only PBKDF2"), "{text}");
    assert!(!text.contains("scram-secret-123"), "{text}");
}

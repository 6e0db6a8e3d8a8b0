//! End-to-end encrypted payloads (payload passthru mode) through the router under test, with
//! Autobahn|Python's cryptobox `KeyRing` on the other end, for every serializer: calls, results,
//! errors and events both ways; a subscriber without the key sees only ciphertext; a wrong key
//! is a typed error and the session stays up; typed services work unchanged; the specification's
//! `ppt_*` form between two Rust sessions.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::IntoFuture;
use std::time::Duration;

use base64::Engine as _;
use futures_util::StreamExt as _;
use serde_json::{Value as Json, json};
use testkit::RouterKind;
use testkit::e2e::{self, python_json, python_line, python_ready, python_run};
use wampkit::e2ee::{
    EncodedPayload, Key, KeyRing, PayloadCodec as _, PayloadCodecError, PayloadRole, WireForm,
    generate_key,
};
use wampkit::{Arguments, Dict, Error, Invocation, Serializer, Session, Value, WampError};

/// Every step gets this long: the tests wait on Python peers as well.
const LIMIT: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, future: impl IntoFuture<Output = T>) -> T {
    e2e::within_for(LIMIT, what, future).await
}

async fn connect(serializer: Serializer, keys: KeyRing) -> Session {
    let builder = Session::builder(e2e::router_url(), "realm1")
        .serializer(serializer)
        .payload_codec(keys);
    e2e::join(builder).await
}

/// A fresh key pair `(private, public)`, base64.
fn key_pair() -> (String, String) {
    let (private, public) = generate_key().unwrap();
    (private.to_string(), public)
}

/// Arguments whose types must survive encryption: the inner JSON carries bytes in the WAMP
/// binary convention.
fn tricky_args() -> Vec<Value> {
    vec![
        Value::from(-7),
        Value::from(2.5),
        Value::from("zwölf ✓ 日本"),
        Value::Bytes(vec![0, 1, 2, 254, 255]),
        Value::List(vec![Value::from(1), Value::Null, Value::Bool(true)]),
    ]
}

/// The same values in peer.py's JSON convention.
fn tricky_args_json() -> Json {
    json!([-7, 2.5, "zwölf ✓ 日本", {"$bytes": "AAEC/v8="}, [1, null, true]])
}

fn peer_args(serializer: Serializer, keys: &[String], command: &[&str]) -> Vec<String> {
    let mut args = vec!["--serializer".to_owned(), serializer.name().to_owned()];
    for key in keys {
        args.push("--key".into());
        args.push(key.clone());
    }
    args.extend(command.iter().map(|s| (*s).to_owned()));
    args
}

/// Rust calls a Python callee: the call, its result and its application error all travel
/// encrypted, with separate originator and responder keys.
async fn rust_calls_python(serializer: Serializer) {
    let ser = serializer.name();
    let prefix = format!("com.e2ee.py.{ser}");
    let (caller_private, caller_public) = key_pair();
    let (callee_private, callee_public) = key_pair();
    // Autobahn keys an ERROR by its error URI.
    let python_keys = [
        format!("com.e2ee.=responder:{callee_private}:{caller_public}"),
        format!("com.interop.error.=responder:{callee_private}:{caller_public}"),
    ];
    let _callee = python_ready(peer_args(
        serializer,
        &python_keys,
        &["callee", "--prefix", &prefix],
    ))
    .await;
    let key = || Key::originator(&caller_private, &callee_public).unwrap();
    let keys = KeyRing::new()
        .with_key("com.e2ee.", key())
        .with_key("com.interop.error.", key());
    let session = connect(serializer, keys).await;

    let kwargs = Dict::from([("blob".to_owned(), Value::Bytes(vec![9, 8, 7]))]);
    let echoed = within(
        "echo",
        session
            .call(format!("{prefix}.echo"), tricky_args())
            .kwargs(&kwargs),
    )
    .await
    .unwrap();
    assert_eq!(echoed.arguments().args, tricky_args());
    assert_eq!(echoed.arguments().kwargs, kwargs);
    assert!(
        echoed.details.get("enc_algo") == Some(&Value::from("cryptobox")),
        "the result travelled encoded: {:?}",
        echoed.details
    );

    let sum: i64 = within("add", session.call(format!("{prefix}.add"), (2, -5)))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(sum, -3);

    match within("fail", session.call(format!("{prefix}.fail"), ())).await {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, "com.interop.error.failed");
            assert_eq!(e.args::<(String, i64)>().unwrap(), ("it failed".into(), 42));
            assert_eq!(e.kwargs.get("reason"), Some(&Value::from("because")));
            assert_eq!(e.details.get("enc_algo"), Some(&Value::from("cryptobox")));
        }
        other => panic!("expected the Python error, got {other:?}"),
    }
}

async fn register_rust_procedures(session: &Session, prefix: &str) -> Vec<wampkit::Registration> {
    let echo = session.register(format!("{prefix}.echo"), |inv: Invocation| async move {
        Ok(inv.arguments())
    });
    let echo = within("register echo", echo).await.unwrap();
    let fail = session.register(format!("{prefix}.fail"), |_inv: Invocation| async move {
        Err(
            WampError::with_message("com.e2ee.error.rust", "rust says no")
                .with_args(("rust says no", -3))
                .with_kwargs(Dict::from([("bytes".to_owned(), Value::Bytes(vec![1, 2]))])),
        )
    });
    let fail = within("register fail", fail).await.unwrap();
    vec![echo, fail]
}

/// Python calls a Rust callee with one shared key (Autobahn's `KeyRing.set_key(uri, key)`):
/// arguments, the result and an application error travel encrypted. A Python caller with a
/// wrong key gets `wamp.error.encryption.decrypt_error`, and the Rust session carries on.
async fn python_calls_rust(serializer: Serializer) {
    let ser = serializer.name();
    let prefix = format!("com.e2ee.rs.{ser}");
    let (shared, _) = key_pair();
    let session = connect(
        serializer,
        KeyRing::new().with_key("com.e2ee.", Key::shared(&shared).unwrap()),
    )
    .await;
    let _registrations = register_rust_procedures(&session, &prefix).await;
    let python_key = [format!("com.e2ee.=shared:{shared}")];

    let echo = format!("{prefix}.echo");
    let echoed = python_json(peer_args(
        serializer,
        &python_key,
        &[
            "call",
            &echo,
            "--args",
            &tricky_args_json().to_string(),
            "--kwargs",
            r#"{"blob": {"$bytes": "CQgH"}}"#,
        ],
    ))
    .await;
    assert_eq!(echoed["args"], tricky_args_json());
    assert_eq!(echoed["kwargs"], json!({"blob": {"$bytes": "CQgH"}}));

    let fail = format!("{prefix}.fail");
    let failed = python_json(peer_args(serializer, &python_key, &["call", &fail])).await;
    assert_eq!(failed["error"], "com.e2ee.error.rust");
    assert_eq!(failed["args"], json!(["rust says no", -3]));
    assert_eq!(failed["kwargs"], json!({"bytes": {"$bytes": "AQI="}}));

    // A wrong key: the Rust callee cannot decrypt, answers with Autobahn's error URI, and its
    // handler never runs.
    let (wrong, _) = key_pair();
    let wrong_key = [format!("com.e2ee.=shared:{wrong}")];
    let refused = python_json(peer_args(
        serializer,
        &wrong_key,
        &["call", &echo, "--args", "[1]"],
    ))
    .await;
    assert_eq!(refused["error"], "wamp.error.encryption.decrypt_error");

    // The session is still up and serves the right key.
    let again = python_json(peer_args(
        serializer,
        &python_key,
        &["call", &echo, "--args", "[\"still here\"]"],
    ))
    .await;
    assert_eq!(again["args"], json!(["still here"]));
    assert!(!session.is_closed());
}

/// Events both ways, encrypted with a shared key; a Python subscriber without the key sees only
/// the ciphertext (which decrypts to the event with the key); a Rust subscriber with a wrong
/// key gets the event marked with a typed error.
async fn events_both_ways(serializer: Serializer) {
    let ser = serializer.name();
    let (shared, _) = key_pair();
    let keys = || KeyRing::new().with_key("com.e2ee.", Key::shared(&shared).unwrap());
    let session = connect(serializer, keys()).await;
    let python_key = [format!("com.e2ee.=shared:{shared}")];

    // Rust publishes; one Python subscriber has the key, one has none and prints the raw EVENT.
    let to_python = format!("com.e2ee.events.{ser}.to_python");
    let subscriber = python_ready(peer_args(
        serializer,
        &python_key,
        &["subscribe", &to_python],
    ))
    .await;
    let eavesdropper = python_ready(peer_args(
        serializer,
        &[],
        &["subscribe", &to_python, "--raw"],
    ))
    .await;
    within(
        "publish",
        session
            .publish(&to_python, tricky_args())
            .kwarg("secret", "attack at dawn")
            .acknowledge(),
    )
    .await
    .unwrap();
    let (_subscriber, event) = python_line(subscriber).await;
    assert_eq!(event["args"], tricky_args_json());
    assert_eq!(event["kwargs"], json!({"secret": "attack at dawn"}));

    let (_eavesdropper, raw) = python_line(eavesdropper).await;
    assert_eq!(raw["enc_algo"], "cryptobox", "{raw}");
    assert_eq!(raw["enc_serializer"], "json", "{raw}");
    assert_eq!(raw["args"], json!([]), "{raw}");
    assert_eq!(raw["kwargs"], json!({}), "{raw}");
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(raw["payload"]["$bytes"].as_str().expect("a binary payload"))
        .unwrap();
    assert!(!String::from_utf8_lossy(&ciphertext).contains("dawn"));
    // What the router forwarded is the box itself: it opens with the key.
    let opened = keys()
        .decode(
            PayloadRole::Responder,
            &to_python,
            &EncodedPayload {
                scheme: "wamp".into(),
                serializer: "json".into(),
                cipher: Some("xsalsa20poly1305".into()),
                key_id: None,
                bytes: ciphertext,
            },
        )
        .unwrap();
    assert_eq!(opened.uri.as_deref(), Some(to_python.as_str()));
    assert_eq!(opened.args, tricky_args());

    // Python publishes; a Rust subscriber with the key reads it, one with a wrong key gets a
    // typed error (and no arguments).
    let to_rust = format!("com.e2ee.events.{ser}.to_rust");
    let mut events = within("subscribe", session.subscribe(&to_rust))
        .await
        .unwrap();
    let (wrong, _) = key_pair();
    let wrong_session = connect(
        serializer,
        KeyRing::new().with_key("com.e2ee.", Key::shared(&wrong).unwrap()),
    )
    .await;
    let mut wrong_events = within("subscribe", wrong_session.subscribe(&to_rust))
        .await
        .unwrap();
    let published = python_run(peer_args(
        serializer,
        &python_key,
        &[
            "publish",
            &to_rust,
            "--args",
            &tricky_args_json().to_string(),
            "--kwargs",
            r#"{"n": -3}"#,
        ],
    ))
    .await;
    assert!(published.contains("published"), "{published}");
    let event = within("event", events.next()).await.expect("an event");
    assert_eq!(event.arguments().args, tricky_args());
    assert_eq!(event.kwarg::<i64>("n").unwrap(), -3);
    assert!(event.payload_error().is_none());

    let garbled = within("event", wrong_events.next())
        .await
        .expect("an event");
    assert!(
        matches!(garbled.payload_error(), Some(PayloadCodecError::Decrypt { uri }) if *uri == to_rust),
        "{garbled:?}"
    );
    assert!(garbled.arguments().is_empty());
    assert!(matches!(
        garbled.arg::<i64>(0),
        Err(Error::PayloadCodec(PayloadCodecError::Decrypt { .. }))
    ));
    assert!(!wrong_session.is_closed());

    // A subscriber that requires encryption refuses what a peer without the key publishes.
    let strict = connect(serializer, keys().require_encryption()).await;
    let mut strict_events = within("subscribe", strict.subscribe(&to_rust))
        .await
        .unwrap();
    let published = python_run(peer_args(
        serializer,
        &[],
        &["publish", &to_rust, "--args", "[\"forged\"]"],
    ))
    .await;
    assert!(published.contains("published"), "{published}");
    let forged = within("event", strict_events.next())
        .await
        .expect("an event");
    assert!(
        matches!(
            forged.payload_error(),
            Some(PayloadCodecError::Unencoded { .. })
        ),
        "{forged:?}"
    );
    assert!(forged.arg_count() == 0);
    // The lenient subscriber takes it, as Autobahn does.
    let plain = within("event", events.next()).await.expect("an event");
    assert_eq!(plain.arg::<String>(0).unwrap(), "forged");
}

/// The specification's wire form (`ppt_scheme`, `ppt_serializer`, `ppt_cipher` and one binary
/// argument) between two Rust sessions.
async fn passthru_form_between_rust_sessions(serializer: Serializer) {
    let ser = serializer.name();
    let (shared, _) = key_pair();
    let keys = || {
        KeyRing::new()
            .with_key("com.e2ee.", Key::shared(&shared).unwrap())
            .wire_form(WireForm::Passthru)
    };
    let callee = connect(serializer, keys()).await;
    let caller = connect(serializer, keys()).await;
    let prefix = format!("com.e2ee.ppt.{ser}");
    let _registrations = register_rust_procedures(&callee, &prefix).await;
    let seen = callee.register(format!("{prefix}.seen"), |inv: Invocation| async move {
        // What the callee's session read off the wire, before decoding.
        Ok(Arguments::single(inv.details.clone())?)
    });
    let _seen = within("register seen", seen).await.unwrap();

    let result = within("echo", caller.call(format!("{prefix}.echo"), tricky_args())).await;
    let seen = within("seen", caller.call(format!("{prefix}.seen"), ())).await;
    match RouterKind::current() {
        RouterKind::Embedded => {
            let result = result.unwrap();
            assert_eq!(result.arguments().args, tricky_args());
            assert_eq!(result.details.get("ppt_scheme"), Some(&Value::from("wamp")));
            let details: Dict = seen.unwrap().arg(0).unwrap();
            assert_eq!(details.get("ppt_scheme"), Some(&Value::from("wamp")));
            assert_eq!(details.get("ppt_serializer"), Some(&Value::from("json")));
            assert_eq!(
                details.get("ppt_cipher"),
                Some(&Value::from("xsalsa20poly1305"))
            );
        }
        RouterKind::Crossbar => {
            // Crossbar.io 26.x drops the ppt_* options: the callee gets the box as a plain
            // binary argument, which it echoes; the caller's RESULT carries no ppt_scheme.
            let result = result.unwrap();
            assert!(
                matches!(result.arguments().args.as_slice(), [Value::Bytes(_)]),
                "{result:?}"
            );
            assert!(!result.details.contains_key("ppt_scheme"));
            let details: Dict = seen.unwrap().arg(0).unwrap();
            assert!(!details.contains_key("ppt_scheme"), "{details:?}");
        }
    }
}

/// Progressive results, progressive input (where the router has it) and a pattern-based
/// registration, all encrypted, between two Rust sessions: each chunk is its own box, and the
/// callee of a prefix registration decrypts with the key of the procedure called.
async fn progressive_and_pattern_calls(serializer: Serializer) {
    let ser = serializer.name();
    let (shared, _) = key_pair();
    let keys = || KeyRing::new().with_key("com.e2ee.", Key::shared(&shared).unwrap());
    let callee = connect(serializer, keys()).await;
    let caller = connect(serializer, keys()).await;
    let prefix = format!("com.e2ee.prog.{ser}.");
    let registration = callee
        .register(&prefix, |mut inv: Invocation| async move {
            let mut total: i64 = inv.arg(0)?;
            if let Some(mut input) = inv.take_input() {
                while let Some(chunk) = input.next().await {
                    total += chunk.args.first().and_then(Value::as_i64).unwrap_or(0);
                }
            }
            if let Some(progress) = inv.progress() {
                for i in 0..total {
                    progress.send_value(i).map_err(|e| {
                        WampError::with_message("com.e2ee.error.progress", e.to_string())
                    })?;
                }
            }
            Ok(Arguments::single(inv.procedure.clone())?)
        })
        .match_policy(wampkit::MatchPolicy::Prefix);
    let _registration = within("register", registration).await.unwrap();

    let procedure = format!("{prefix}count");
    let mut results = caller.call(&procedure, (5,)).into_stream();
    let mut progress = Vec::new();
    let mut last = None;
    while let Some(result) = within("next result", results.next()).await {
        let result = result.unwrap();
        assert_eq!(
            result.details.get("enc_algo"),
            Some(&Value::from("cryptobox"))
        );
        if result.is_progress() {
            progress.push(result.arg::<i64>(0).unwrap());
        } else {
            last = Some(result.arg::<String>(0).unwrap());
        }
    }
    assert_eq!(progress, vec![0, 1, 2, 3, 4]);
    assert_eq!(last.as_deref(), Some(procedure.as_str()));

    let supports_input = caller
        .details()
        .router_supports("dealer", "progressive_call_invocations");
    if supports_input {
        let (mut input, mut results) = caller.call(&procedure, (1,)).into_duplex().unwrap();
        input.send((2,)).unwrap();
        input.finish((3,)).unwrap();
        // The encrypted chunks add up: 1 + 2 + 3 progressive results, then the final one.
        let mut progress = 0;
        let mut last = None;
        while let Some(result) = within("next result", results.next()).await {
            let result = result.unwrap();
            if result.is_progress() {
                progress += 1;
            } else {
                last = Some(result.arg::<String>(0).unwrap());
            }
        }
        assert_eq!(progress, 6);
        assert_eq!(last.as_deref(), Some(procedure.as_str()));
    }
}

testkit::per_serializer!(
    rust_calls_python,
    python_calls_rust,
    events_both_ways,
    passthru_form_between_rust_sessions,
    progressive_and_pattern_calls,
);

/// A `#[service]` on encrypted URIs: its procedures, its typed client and its event handler
/// work unchanged. An event it cannot decrypt reaches the service's error hook, whose event
/// says why.
mod typed {
    use super::*;
    use tokio::sync::mpsc;
    use wampkit::service;

    /// A vault: secrets in, secrets out.
    #[service(prefix = "com.e2ee.typed.vault")]
    pub trait Vault {
        /// Reverses a secret.
        async fn reverse(&self, secret: String) -> String;

        /// A secret was stored.
        #[wamp(event)]
        async fn stored(&self, name: String, size: u32);

        /// The vault was wiped: an event without arguments.
        #[wamp(event)]
        async fn wiped(&self);
    }

    struct Keeper(mpsc::UnboundedSender<(String, u32)>);

    impl Vault for Keeper {
        async fn reverse(&self, secret: String) -> String {
            secret.chars().rev().collect()
        }

        async fn stored(&self, name: String, size: u32) {
            let _ = self.0.send((name, size));
        }

        async fn wiped(&self) {
            let _ = self.0.send(("wiped".to_owned(), 0));
        }
    }

    #[tokio::test]
    async fn a_service_and_its_client_work_unchanged_over_encrypted_uris() {
        let (shared, _) = key_pair();
        let keys = || KeyRing::new().with_key("com.e2ee.typed.", Key::shared(&shared).unwrap());
        let service_session = connect(Serializer::Json, keys()).await;
        let client_session = connect(Serializer::Json, keys()).await;
        let (heard, mut events) = mpsc::unbounded_channel();
        let (problems, mut undecodable) = mpsc::unbounded_channel();
        let _registration = within(
            "register",
            VaultService::register_with_error_hook(
                &service_session,
                Keeper(heard),
                move |event, error| {
                    let _ = problems.send((event.payload_error().cloned(), error));
                },
            ),
        )
        .await
        .unwrap();

        let client = VaultClient::new(&client_session);
        let reversed = within("reverse", client.reverse("drowssap".into())).await;
        assert_eq!(reversed.unwrap(), "password");
        within("stored", client.stored("launch codes".into(), 12))
            .await
            .unwrap();
        let event = within("event", events.recv()).await;
        assert_eq!(event, Some(("launch codes".to_owned(), 12)));

        // A publisher with another key: the handler does not run, the hook hears why.
        let (other, _) = key_pair();
        let intruder = connect(
            Serializer::Json,
            KeyRing::new().with_key("com.e2ee.typed.", Key::shared(&other).unwrap()),
        )
        .await;
        within(
            "intruder",
            VaultClient::new(&intruder).stored("x".into(), 1),
        )
        .await
        .unwrap();
        let problem = within("hook", undecodable.recv()).await;
        assert!(
            matches!(
                &problem,
                Some((
                    Some(PayloadCodecError::Decrypt { .. }),
                    Error::PayloadCodec(PayloadCodecError::Decrypt { .. })
                ))
            ),
            "{problem:?}"
        );
        // Nor does a handler without parameters, which has nothing to decode.
        within("intruder", VaultClient::new(&intruder).wiped())
            .await
            .unwrap();
        let problem = within("hook", undecodable.recv()).await;
        assert!(
            matches!(
                &problem,
                Some((_, Error::PayloadCodec(PayloadCodecError::Decrypt { .. })))
            ),
            "{problem:?}"
        );
        // A `wiped` from a key holder still runs the handler.
        within("wiped", client.wiped()).await.unwrap();
        let event = within("event", events.recv()).await;
        assert_eq!(event, Some(("wiped".to_owned(), 0)));
        assert!(events.try_recv().is_err());
    }
}

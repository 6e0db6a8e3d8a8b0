//! Malformed HELLOs and AUTHENTICATEs: refused, never a panic.

use wampkit_client::{Dict, Value};

use super::crossbar::*;
use crate::auth::{Authentication, Denied, Step};

/// Every principal of Crossbar.io's test realm, plus a router key.
fn realm() -> Authentication {
    let (salt, iterations, keylen) = CRA_SALT;
    Authentication::new()
        .ticket(TICKET.0, TICKET.1, "user")
        .wampcra(CRA.0, CRA.1, "user")
        .wampcra_salted(CRA_SALTED.0, CRA_SALTED.1, salt, iterations, keylen, "user")
        .unwrap()
        .cryptosign(CS_USER, CS_PUBLIC_KEY, "user")
        .unwrap()
        .scram_with(
            SCRAM.0,
            SCRAM.1,
            "user",
            crate::ScramKdfParams::Argon2id {
                memory_kib: 512,
                iterations: 16,
            },
        )
        .unwrap()
        .router_key(CS_PRIVATE_KEY)
        .unwrap()
}

fn hello(methods: Value, authid: Option<Value>, authextra: Option<Value>) -> Dict {
    let mut details = Dict::new();
    details.insert("authmethods".into(), methods);
    if let Some(authid) = authid {
        details.insert("authid".into(), authid);
    }
    if let Some(authextra) = authextra {
        details.insert("authextra".into(), authextra);
    }
    details
}

fn dict(entries: &[(&str, Value)]) -> Value {
    Value::Dict(
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

fn garbage_values() -> Vec<Value> {
    vec![
        Value::Null,
        Value::Bool(true),
        Value::Int(-1),
        Value::UInt(u64::MAX),
        Value::Float(f64::NAN),
        Value::from(""),
        Value::from("zz"),
        Value::from("ab".repeat(10_000)),
        Value::from("a,b"),
        Value::from("\u{0}\u{7f}é"),
        Value::Bytes(vec![0; 64]),
        Value::List(vec![Value::from("scram")]),
        dict(&[("x", Value::Null)]),
    ]
}

const SIGNATURES: [&str; 7] = [
    "",
    "zz",
    "not base64 at all!",
    "AAAA",
    "00",
    "é",
    "ticket-secret-123 ",
];

#[tokio::test]
async fn malformed_hellos_are_refused() {
    let realm = realm();
    for methods in garbage_values() {
        let step = realm.hello("realm1", &hello(methods, None, None)).await;
        assert!(!matches!(step, Step::Welcome(_)), "{step:?}");
    }
    for name in ["ticket", "wampcra", "cryptosign", "scram", "wamp-scram"] {
        let methods = Value::List(vec![Value::from(name)]);
        // No authid and no authextra where one is needed.
        let step = realm
            .hello("realm1", &hello(methods.clone(), None, None))
            .await;
        assert!(matches!(step, Step::Deny(_)), "{name}: {step:?}");
        for value in garbage_values() {
            for authextra in [
                value.clone(),
                dict(&[("pubkey", value.clone())]),
                dict(&[("challenge", value.clone())]),
                dict(&[("nonce", value.clone())]),
                dict(&[
                    ("nonce", Value::from("AAAA")),
                    ("channel_binding", value.clone()),
                ]),
            ] {
                let details = hello(
                    methods.clone(),
                    Some(value.clone()),
                    Some(authextra.clone()),
                );
                if let Step::Welcome(identity) = realm.hello("realm1", &details).await {
                    panic!("{name}: welcomed {identity:?} for {details:?}");
                }
                let details = hello(methods.clone(), Some(Value::from("x")), Some(authextra));
                let step = realm.hello("realm1", &details).await;
                if let Step::Challenge { pending, .. } = step {
                    let denied = pending.authenticate("zz", &Dict::new()).await;
                    assert!(denied.is_err(), "{name}");
                }
            }
        }
    }
}

/// Garbage AUTHENTICATEs for every method and known principal.
#[tokio::test]
async fn garbage_answers_are_refused() {
    let realm = realm();
    let cases = [
        ("ticket", TICKET.0, dict(&[])),
        ("wampcra", CRA.0, dict(&[])),
        ("wampcra", CRA_SALTED.0, dict(&[])),
        (
            "cryptosign",
            CS_USER,
            dict(&[("pubkey", Value::from(CS_PUBLIC_KEY))]),
        ),
        (
            "cryptosign",
            CS_USER,
            dict(&[("challenge", Value::from("00".repeat(32)))]),
        ),
        ("scram", SCRAM.0, dict(&[("nonce", Value::from("AAAA"))])),
        (
            "wamp-scram",
            SCRAM.0,
            dict(&[("nonce", Value::from("AAAA"))]),
        ),
    ];
    let mut extras = vec![Dict::new()];
    for value in garbage_values() {
        extras.push(Dict::from([
            ("nonce".to_owned(), value.clone()),
            ("channel_binding".to_owned(), value.clone()),
            ("cbind_data".to_owned(), value),
        ]));
    }
    for (method, authid, authextra) in cases {
        for signature in SIGNATURES
            .iter()
            .map(|s| (*s).to_owned())
            .chain([("ab".repeat(48)), "A".repeat(100_000)])
        {
            for extra in &extras {
                let details = hello(
                    Value::List(vec![Value::from(method)]),
                    Some(Value::from(authid)),
                    Some(authextra.clone()),
                );
                let Step::Challenge { pending, .. } = realm.hello("realm1", &details).await else {
                    panic!("{method}: expected a challenge");
                };
                let result = pending.authenticate(&signature, extra).await;
                let Err(Denied { reason, .. }) = result else {
                    panic!("{method}: accepted {signature:?}");
                };
                assert_eq!(reason, "wamp.error.not_authorized");
            }
        }
    }
}

//! Python sessions authenticate with every method the router offers.

use serde_json::{Value as Json, json};
use wampkit::Serializer;
use wampkit::router::{Router, ScramKdfParams};

use crate::support::{REALM, Served, Transport, run_peer};

/// The realm that authenticates.
const SECURE_REALM: &str = "secure";

/// Crossbar.io's test principals (scripts/crossbar/config.json), throwaway credentials.
fn credentials() -> Json {
    json!({
        "ticket": {"authid": "ticket-user", "ticket": "ticket-secret-123"},
        "wampcra": {"authid": "cra-user", "secret": "cra-secret-123"},
        "wampcra_salted": {
            "authid": "cra-salted-user", "secret": "cra-salted-secret",
            "salt": "salt123", "iterations": 100, "keylen": 32
        },
        "cryptosign": {
            "authid": "cs-user",
            "privkey": "d2ddb103d432490f61893bd87fe72c0f3f6fc36f2412ccf99519bb873af7e61c",
            "pubkey": "53d9e731fcf81e7b480a0c4f281fea226a6c58b8118d4c08975a90273c77ef3b"
        },
        "scram_derived": {"authid": "scram-derived-user", "password": "derived-secret-456"},
        "scram": {
            "authid": "scram-user", "password": "scram-secret-123",
            "principal": {
                "kdf": "argon2id-13", "iterations": 16, "memory": 512,
                "salt": "5ff8f9fad4f6c5ca86341dacf4ca3eae",
                "stored-key": "02cb23c30751cd481d7f59cdb80499c6d9e6096756a7d9efa9f4fa9e9327864c",
                "server-key": "45a39bb0eb7239e01c8ece71a2e7e2cfef51df9a06e932cada1a8161eb186951"
            }
        }
    })
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn hex32(text: &str) -> [u8; 32] {
    hex_bytes(text).try_into().unwrap()
}

/// Every principal of `credentials`, with the role `user`: `scram` from its stored keys, as
/// Crossbar.io's configuration gives them (hex, as Crossbar.io reads them), `scram_derived`
/// from its password.
fn authentication() -> wampkit::router::Authentication {
    let c = credentials();
    let s = |v: &Json| v.as_str().unwrap().to_owned();
    let n = |v: &Json| u32::try_from(v.as_u64().unwrap()).unwrap();
    let (salted, scram) = (&c["wampcra_salted"], &c["scram"]["principal"]);
    let salt = hex_bytes(scram["salt"].as_str().unwrap());
    wampkit::router::Authentication::new()
        .ticket(s(&c["ticket"]["authid"]), s(&c["ticket"]["ticket"]), "user")
        .wampcra(
            s(&c["wampcra"]["authid"]),
            s(&c["wampcra"]["secret"]),
            "user",
        )
        .wampcra_salted(
            s(&salted["authid"]),
            s(&salted["secret"]),
            s(&salted["salt"]),
            n(&salted["iterations"]),
            n(&salted["keylen"]),
            "user",
        )
        .unwrap()
        .cryptosign(
            s(&c["cryptosign"]["authid"]),
            c["cryptosign"]["pubkey"].as_str().unwrap(),
            "user",
        )
        .unwrap()
        .principal(
            s(&c["scram"]["authid"]),
            wampkit::router::Credential::scram_keys(
                wampkit::auth::primitives::ScramKdfVariant::Argon2idBase64,
                salt,
                n(&scram["iterations"]),
                n(&scram["memory"]),
                hex32(scram["stored-key"].as_str().unwrap()),
                hex32(scram["server-key"].as_str().unwrap()),
                "user",
            ),
        )
        .scram_with(
            s(&c["scram_derived"]["authid"]),
            c["scram_derived"]["password"].as_str().unwrap(),
            "user",
            ScramKdfParams::Argon2id {
                memory_kib: 1024,
                iterations: 2,
            },
        )
        .unwrap()
}

async fn python_authenticates(transport: Transport, serializer: Serializer) {
    let router = Router::builder()
        .realm(REALM)
        .add_realm(wampkit::router::RealmConfig::new(SECURE_REALM).authentication(authentication()))
        .build();
    let served = Served::start_with(router).await;
    let out = run_peer(
        served.url(transport),
        serializer,
        &[
            "--realm",
            SECURE_REALM,
            "auth",
            "--credentials",
            &credentials().to_string(),
        ],
    )
    .await;
    let c = credentials();
    for (case, method, principal) in [
        ("ticket", "ticket", "ticket"),
        ("wampcra", "wampcra", "wampcra"),
        ("wampcra_salted", "wampcra", "wampcra_salted"),
        ("cryptosign", "cryptosign", "cryptosign"),
        ("scram", "scram", "scram"),
        ("scram_derived", "scram", "scram_derived"),
    ] {
        assert_eq!(
            out[case],
            json!({
                "authid": c[principal]["authid"],
                "authrole": "user",
                "authmethod": method,
                // wamp.session.count: this session.
                "call": {"args": [1], "kwargs": {}},
            }),
            "{case}: {out}"
        );
    }
    for case in [
        "ticket_wrong",
        "wampcra_wrong",
        "cryptosign_wrong",
        "scram_wrong",
        "ticket_unknown",
    ] {
        assert_eq!(
            out[case],
            json!({"error": "wamp.error.not_authorized"}),
            "{case}: {out}"
        );
    }
    served.stop().await;
}

matrix! { python_authenticates:
    python_authenticates_websocket_json => WebSocket, Json;
    python_authenticates_websocket_msgpack => WebSocket, MsgPack;
    python_authenticates_websocket_cbor => WebSocket, Cbor;
    python_authenticates_rawsocket_json => RawSocket, Json;
    python_authenticates_rawsocket_msgpack => RawSocket, MsgPack;
    python_authenticates_rawsocket_cbor => RawSocket, Cbor;
}

//! Every method: success, wrong secret, unknown authid, method not offered, store-backed
//! principals.

use wampkit_client::auth::primitives::ScramKdfVariant;
use wampkit_client::auth::{
    Anonymous, AuthErrorKind, CryptoSign, KdfLimits, Scram, Ticket, WampCra,
};
use wampkit_client::{Dict, Value};

use super::crossbar::*;
use super::{Joined, assert_identity, join, join_as};
use crate::auth::{
    AuthMethod, Authentication, Credential, CredentialStore, ScramKdfParams, Step, StoreFuture,
};

const NOT_AUTHORIZED: &str = "wamp.error.not_authorized";
const NO_AUTH_METHOD: &str = "wamp.error.no_auth_method";

/// Crossbar.io's test realm: every principal of its `/auth` endpoint.
fn crossbar_realm() -> Authentication {
    let (salt, iterations, keylen) = CRA_SALT;
    Authentication::new()
        .ticket(TICKET.0, TICKET.1, "user")
        .ticket("restricted-user", "restricted-secret", "restricted")
        .wampcra(CRA.0, CRA.1, "user")
        .wampcra_salted(CRA_SALTED.0, CRA_SALTED.1, salt, iterations, keylen, "user")
        .unwrap()
        .cryptosign(CS_USER, CS_PUBLIC_KEY, "user")
        .unwrap()
        .principal(
            SCRAM.0,
            Credential::scram_keys(
                ScramKdfVariant::Argon2idBase64,
                hex::decode(SCRAM_SALT).unwrap(),
                16,
                512,
                hex::decode(SCRAM_STORED_KEY).unwrap().try_into().unwrap(),
                hex::decode(SCRAM_SERVER_KEY).unwrap().try_into().unwrap(),
                "user",
            ),
        )
}

#[tokio::test]
async fn anonymous_by_default_and_nothing_when_new() {
    let identity = join(&Authentication::default(), &[]).await.identity();
    assert_eq!(identity.authrole, "anonymous");
    assert_eq!(identity.authmethod, "anonymous");
    assert_eq!(identity.authid.len(), 19);
    let identity = join_as(&Authentication::anonymous(), &[&Anonymous], Some("me"))
        .await
        .identity();
    assert_identity(&identity, "me", "anonymous", "anonymous", "static");

    join(&Authentication::new(), &[])
        .await
        .denied(NO_AUTH_METHOD);
    let guest = Authentication::new().anonymous_role("guest");
    assert_eq!(
        join(&guest, &[&Anonymous]).await.identity().authrole,
        "guest"
    );
    let closed = Authentication::default().no_anonymous();
    join(&closed, &[&Anonymous]).await.denied(NO_AUTH_METHOD);
}

#[tokio::test]
async fn ticket() {
    let realm = crossbar_realm();
    let identity = join(&realm, &[&Ticket::new(TICKET.0, TICKET.1)])
        .await
        .identity();
    assert_identity(&identity, TICKET.0, "user", "ticket", "static");
    let identity = join(
        &realm,
        &[&Ticket::new("restricted-user", "restricted-secret")],
    )
    .await
    .identity();
    assert_eq!(identity.authrole, "restricted");

    let wrong = join(&realm, &[&Ticket::new(TICKET.0, "nope")])
        .await
        .denied(NOT_AUTHORIZED);
    let unknown = join(&realm, &[&Ticket::new("nobody", TICKET.1)])
        .await
        .denied(NOT_AUTHORIZED);
    assert_eq!(wrong, unknown, "the answer must not tell which");
    // Another principal's ticket.
    join(&realm, &[&Ticket::new(TICKET.0, "restricted-secret")])
        .await
        .denied(NOT_AUTHORIZED);

    let cra_only = Authentication::new().wampcra(CRA.0, CRA.1, "user");
    join(&cra_only, &[&Ticket::new(TICKET.0, TICKET.1)])
        .await
        .denied(NO_AUTH_METHOD);
}

#[tokio::test]
async fn wampcra_plain_and_salted() {
    let realm = crossbar_realm();
    let identity = join(&realm, &[&WampCra::new(CRA.0, CRA.1)])
        .await
        .identity();
    assert_identity(&identity, CRA.0, "user", "wampcra", "static");
    let identity = join(&realm, &[&WampCra::new(CRA_SALTED.0, CRA_SALTED.1)])
        .await
        .identity();
    assert_identity(&identity, CRA_SALTED.0, "user", "wampcra", "static");

    let wrong = join(&realm, &[&WampCra::new(CRA.0, CRA_SALTED.1)])
        .await
        .denied(NOT_AUTHORIZED);
    let unknown = join(&realm, &[&WampCra::new("nobody", CRA.1)])
        .await
        .denied(NOT_AUTHORIZED);
    assert_eq!(wrong, unknown);
    join(&realm, &[&WampCra::new(CRA_SALTED.0, CRA.1)])
        .await
        .denied(NOT_AUTHORIZED);

    let ticket_only = Authentication::new().ticket(TICKET.0, TICKET.1, "user");
    join(&ticket_only, &[&WampCra::new(CRA.0, CRA.1)])
        .await
        .denied(NO_AUTH_METHOD);
}

#[tokio::test]
async fn wampcra_challenge_shape() {
    let mut details = Dict::new();
    details.insert(
        "authmethods".into(),
        Value::List(vec![Value::from("wampcra")]),
    );
    details.insert("authid".into(), Value::from(CRA_SALTED.0));
    let Step::Challenge { method, extra, .. } = crossbar_realm().hello("realm1", &details).await
    else {
        panic!("expected a challenge");
    };
    assert_eq!(method, "wampcra");
    assert_eq!(extra.get("salt"), Some(&Value::from("salt123")));
    assert_eq!(extra.get("iterations"), Some(&Value::UInt(100)));
    assert_eq!(extra.get("keylen"), Some(&Value::UInt(32)));
    let text = extra.get("challenge").and_then(Value::as_str).unwrap();
    let object: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(object["authid"], CRA_SALTED.0);
    assert_eq!(object["authmethod"], "wampcra");
    assert_eq!(object["nonce"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn cryptosign() {
    let realm = crossbar_realm();
    let key = CryptoSign::from_hex(CS_PRIVATE_KEY).unwrap();
    assert_eq!(key.public_key_hex(), CS_PUBLIC_KEY);

    let identity = join(&realm, &[&key.clone().authid(CS_USER)])
        .await
        .identity();
    assert_identity(&identity, CS_USER, "user", "cryptosign", "static");
    // No authid: the public key names the principal, as with Crossbar.io.
    let identity = join(&realm, &[&key]).await.identity();
    assert_identity(&identity, CS_USER, "user", "cryptosign", "static");

    let stranger = CryptoSign::from_bytes(&[5; 32]);
    let wrong = join(&realm, &[&stranger.clone().authid(CS_USER)])
        .await
        .denied(NOT_AUTHORIZED);
    let unknown = join(&realm, &[&key.clone().authid("nobody")])
        .await
        .denied(NOT_AUTHORIZED);
    let unknown_key = join(&realm, &[&stranger]).await.denied(NOT_AUTHORIZED);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, unknown_key);

    // A principal with two keys accepts either.
    let two = Authentication::new()
        .cryptosign("two", CS_PUBLIC_KEY, "user")
        .unwrap()
        .cryptosign("two", &stranger.public_key_hex(), "admin")
        .unwrap();
    let identity = join(&two, &[&stranger.clone().authid("two")])
        .await
        .identity();
    assert_eq!(identity.authrole, "admin");
    join(&two, &[&key.clone().authid("two")]).await.identity();
    // Without an authid, a key two principals share names neither.
    let shared = two.cryptosign("other", CS_PUBLIC_KEY, "user").unwrap();
    join(&shared, &[&key]).await.denied(NOT_AUTHORIZED);
    join(&shared, &[&stranger]).await.identity();

    join(&Authentication::default(), &[&key])
        .await
        .denied(NO_AUTH_METHOD);
}

#[tokio::test]
async fn cryptosign_router_authentication() {
    let router = CryptoSign::from_bytes(&[9; 32]);
    let client = CryptoSign::from_hex(CS_PRIVATE_KEY)
        .unwrap()
        .authid(CS_USER);

    // The client pins the router's key: the router signs the client's challenge.
    let realm = crossbar_realm()
        .router_key(&hex::encode([9u8; 32]))
        .unwrap();
    let pinned = client
        .clone()
        .verify_router(&router.public_key_hex())
        .unwrap();
    let identity = join(&realm, &[&pinned]).await.identity();
    assert_identity(&identity, CS_USER, "user", "cryptosign", "static");
    join(&realm, &[&client.clone().request_router_signature()])
        .await
        .identity();

    // Another router key, or none: the client refuses the router.
    let other = crossbar_realm()
        .router_key(&hex::encode([8u8; 32]))
        .unwrap();
    let Joined::ClientRefused(e) = join(&other, &[&pinned]).await else {
        panic!("the client must refuse a router with another key");
    };
    assert_eq!(e.kind(), AuthErrorKind::RouterNotAuthenticated);
    let Joined::ClientRefused(e) = join(&crossbar_realm(), &[&pinned]).await else {
        panic!("the client must refuse a router without a key");
    };
    assert_eq!(e.kind(), AuthErrorKind::RouterNotAuthenticated);

    assert!(crossbar_realm().router_key("not a key").is_err());
}

#[tokio::test]
async fn scram_crossbar_principal_both_dialects() {
    let realm = crossbar_realm();
    // Crossbar.io's principal has 16 × 512 KiB, within the client's default limits.
    let identity = join(&realm, &[&Scram::new(SCRAM.0, SCRAM.1)])
        .await
        .identity();
    assert_identity(&identity, SCRAM.0, "user", "scram", "static");
    assert!(identity.authextra.contains_key("scram_server_signature"));
    let identity = join(&realm, &[&Scram::new(SCRAM.0, SCRAM.1).wamp_scram()])
        .await
        .identity();
    assert_identity(&identity, SCRAM.0, "user", "wamp-scram", "static");
    let verifier = identity
        .authextra
        .get("verifier")
        .and_then(Value::as_str)
        .unwrap();
    assert!(verifier.starts_with("v="), "{verifier}");

    let wrong = join(&realm, &[&Scram::new(SCRAM.0, "nope")])
        .await
        .denied(NOT_AUTHORIZED);
    let unknown = join(&realm, &[&Scram::new("nobody", SCRAM.1)])
        .await
        .denied(NOT_AUTHORIZED);
    assert_eq!(wrong, unknown);
    join(&Authentication::default(), &[&Scram::new(SCRAM.0, SCRAM.1)])
        .await
        .denied(NO_AUTH_METHOD);
}

#[tokio::test]
async fn scram_unknown_authids_get_a_stable_challenge_of_the_same_shape() {
    let realm = crossbar_realm();
    let challenge = |authid: &'static str| {
        let realm = realm.clone();
        async move {
            let mut details = Dict::new();
            details.insert(
                "authmethods".into(),
                Value::List(vec![Value::from("scram")]),
            );
            details.insert("authid".into(), Value::from(authid));
            let mut authextra = Dict::new();
            authextra.insert("nonce".into(), Value::from("AAAAAAAAAAAAAAAAAAAAAAAA"));
            details.insert("authextra".into(), Value::Dict(authextra));
            match realm.hello("realm1", &details).await {
                Step::Challenge { extra, .. } => extra,
                other => panic!("expected a challenge, got {other:?}"),
            }
        }
    };
    let known = challenge(SCRAM.0).await;
    let unknown = challenge("nobody").await;
    assert_eq!(
        known.keys().collect::<Vec<_>>(),
        ["iterations", "kdf", "memory", "nonce", "salt"]
    );
    assert_eq!(
        known.keys().collect::<Vec<_>>(),
        unknown.keys().collect::<Vec<_>>()
    );
    let nonce = known.get("nonce").and_then(Value::as_str).unwrap();
    assert!(
        nonce.starts_with("AAAAAAAAAAAAAAAAAAAAAAAA") && nonce.len() == 48,
        "{nonce}"
    );
    assert_eq!(
        known.get("salt"),
        Some(&Value::from("X/j5+tT2xcqGNB2s9Mo+rg=="))
    );
    assert_eq!(unknown.get("salt"), challenge("nobody").await.get("salt"));
    assert_ne!(unknown.get("salt"), challenge("somebody").await.get("salt"));
}

#[tokio::test]
async fn scram_password_principals() {
    // Crossbar.io's cost, and PBKDF2 at the client's floor.
    let cheap = ScramKdfParams::Argon2id {
        memory_kib: 512,
        iterations: 16,
    };
    let pbkdf2 = ScramKdfParams::Pbkdf2 {
        iterations: KdfLimits::default().pbkdf2_min_iterations,
    };
    let realm = Authentication::new()
        .scram_with("argon", "argon-password", "user", cheap)
        .unwrap()
        .scram_with("pbkdf", "pbkdf-password", "admin", pbkdf2)
        .unwrap();
    for scram in [
        Scram::new("argon", "argon-password"),
        Scram::new("argon", "argon-password").wamp_scram(),
    ] {
        assert_eq!(join(&realm, &[&scram]).await.identity().authrole, "user");
    }
    let identity = join(&realm, &[&Scram::new("pbkdf", "pbkdf-password")])
        .await
        .identity();
    assert_identity(&identity, "pbkdf", "admin", "scram", "static");
    join(&realm, &[&Scram::new("argon", "pbkdf-password")])
        .await
        .denied(NOT_AUTHORIZED);
    let debug = format!("{realm:?}");
    assert!(!debug.contains("password"), "{debug}");
}

/// The default key derivation is one the client accepts with its default limits.
#[tokio::test]
async fn scram_default_cost_is_within_the_clients_default_limits() {
    let realm = Authentication::new()
        .scram("alice", "alice-password", "user")
        .unwrap();
    let identity = join(&realm, &[&Scram::new("alice", "alice-password")])
        .await
        .identity();
    assert_eq!(identity.authmethod, "scram");
}

#[tokio::test]
async fn preference_follows_the_clients_order() {
    // HELLO carries one authid for every offered method.
    let realm = Authentication::default()
        .ticket("both", "both-ticket", "user")
        .wampcra("both", "both-secret", "user");
    let cra = WampCra::new("both", "both-secret");
    let ticket = Ticket::new("both", "both-ticket");
    assert_eq!(
        join(&realm, &[&cra, &ticket]).await.identity().authmethod,
        "wampcra"
    );
    assert_eq!(
        join(&realm, &[&ticket, &cra]).await.identity().authmethod,
        "ticket"
    );
    // A method the realm does not offer is skipped.
    let ticket_only = Authentication::new().ticket("both", "both-ticket", "user");
    assert_eq!(
        join(&ticket_only, &[&cra, &ticket])
            .await
            .identity()
            .authmethod,
        "ticket"
    );
    assert_eq!(
        join(&realm, &[&Scram::new("both", "x"), &Anonymous])
            .await
            .identity()
            .authmethod,
        "anonymous"
    );
    // The first offered method decides, even if its authid is unknown.
    join(&realm, &[&Ticket::new("nobody", "x"), &Anonymous])
        .await
        .denied(NOT_AUTHORIZED);
}

/// Principals kept elsewhere.
struct Directory;

impl CredentialStore for Directory {
    fn name(&self) -> &str {
        "directory"
    }

    fn lookup<'a>(
        &'a self,
        realm: &'a str,
        authid: &'a str,
        method: AuthMethod,
    ) -> StoreFuture<'a, Option<Credential>> {
        Box::pin(async move {
            assert_eq!(realm, "realm1");
            match (authid, method) {
                ("dora", AuthMethod::Ticket) => Some(
                    Credential::ticket("dora-ticket", "staff")
                        .with_authextra(Dict::from([("team".into(), Value::from("blue"))])),
                ),
                ("dora", AuthMethod::WampCra) => Some(Credential::wampcra("dora-cra", "staff")),
                // A credential for another method counts as none.
                ("mixup", _) => Some(Credential::ticket("mixup", "staff")),
                _ => None,
            }
        })
    }

    fn lookup_public_key<'a>(
        &'a self,
        _realm: &'a str,
        public_key: &'a str,
    ) -> StoreFuture<'a, Option<(String, Credential)>> {
        Box::pin(async move {
            (public_key == CryptoSign::from_bytes(&[4; 32]).public_key_hex()).then(|| {
                let credential = Credential::cryptosign([public_key], "robot").unwrap();
                ("robot-1".to_owned(), credential)
            })
        })
    }
}

#[tokio::test]
async fn store_backed_principals() {
    let realm = Authentication::new()
        .ticket(TICKET.0, TICKET.1, "user")
        .store(Directory);
    let identity = join(&realm, &[&Ticket::new("dora", "dora-ticket")])
        .await
        .identity();
    assert_identity(&identity, "dora", "staff", "ticket", "directory");
    assert_eq!(identity.authextra.get("team"), Some(&Value::from("blue")));
    let identity = join(&realm, &[&WampCra::new("dora", "dora-cra")])
        .await
        .identity();
    assert_identity(&identity, "dora", "staff", "wampcra", "directory");
    // Static principals first.
    let identity = join(&realm, &[&Ticket::new(TICKET.0, TICKET.1)])
        .await
        .identity();
    assert_eq!(identity.authprovider, "static");

    join(&realm, &[&Ticket::new("dora", "wrong")])
        .await
        .denied(NOT_AUTHORIZED);
    join(&realm, &[&WampCra::new("mixup", "mixup")])
        .await
        .denied(NOT_AUTHORIZED);
    join(&realm, &[&Ticket::new("nobody", "x")])
        .await
        .denied(NOT_AUTHORIZED);

    let robot = CryptoSign::from_bytes(&[4; 32]);
    let identity = join(&realm, &[&robot]).await.identity();
    assert_identity(&identity, "robot-1", "robot", "cryptosign", "directory");
}

#[test]
fn settings_are_checked_and_secrets_hidden() {
    assert!(Credential::wampcra_salted("s", "salt", 1_000_000, 256, "user").is_ok());
    assert!(Credential::wampcra_salted("s", "salt", 1_000_001, 32, "user").is_err());
    assert!(Credential::wampcra_salted("s", "salt", 0, 32, "user").is_err());
    assert!(Credential::wampcra_salted("s", "salt", 100, 257, "user").is_err());
    assert!(Credential::wampcra_salted("s", "salt", 100, 0, "user").is_err());
    assert!(Credential::cryptosign(["abcd"], "user").is_err());
    assert!(Authentication::new().cryptosign("x", "zz", "user").is_err());
    let zero = ScramKdfParams::Pbkdf2 { iterations: 0 };
    assert!(Credential::scram_password("pw", zero, "user").is_err());

    let realm = crossbar_realm().router_key(CS_PRIVATE_KEY).unwrap();
    let debug = format!(
        "{realm:?} {:?}",
        Credential::ticket("hidden-ticket", "user")
    );
    for secret in [
        TICKET.1,
        CRA.1,
        CRA_SALTED.1,
        CS_PRIVATE_KEY,
        "hidden-ticket",
    ] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

/// The connection runs the handshake on spawned tasks.
#[test]
fn handshake_futures_are_send() {
    fn send<T: Send + 'static>(_: &T) {}
    fn send_borrowed<T: Send>(_: &T) {}
    let realm = crossbar_realm();
    let details = Dict::new();
    send_borrowed(&realm.hello("realm1", &details));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut hello = details.clone();
    hello.insert(
        "authmethods".into(),
        Value::List(vec![Value::from("ticket")]),
    );
    hello.insert("authid".into(), Value::from(TICKET.0));
    let Step::Challenge { pending, .. } = runtime.block_on(realm.hello("realm1", &hello)) else {
        panic!("expected a challenge");
    };
    send(&pending);
    send_borrowed(&pending.authenticate("x", &details));
}

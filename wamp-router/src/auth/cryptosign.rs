//! `cryptosign`: the client signs 32 random bytes with an Ed25519 key registered for its
//! principal; optionally the router signs the client's own challenge with its key first.

use std::fmt;

use wampkit_client::auth::primitives;
use wampkit_client::{Dict, Value};

use super::store::Secret;
use super::{AuthMethod, Denied, Found, Hello, Identity, PendingState, Step, random_bytes};

/// Waiting for a signature of `challenge` by one of `keys`.
pub(super) struct Pending {
    method: String,
    challenge: [u8; 32],
    /// The principal (none when unknown) and the keys it may sign with: the one the client
    /// announced if it is registered, else every registered one.
    found: Option<(Found, Vec<[u8; 32]>)>,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("cryptosign::Pending")
            .field("authid", &self.found.as_ref().map(|(p, _)| &p.authid))
            .finish_non_exhaustive()
    }
}

/// `[4, "cryptosign", {"challenge": hex, "channel_binding": null}]`, plus `pubkey` and
/// `signature` (the router's, over the client's `authextra.challenge`) when the client asks
/// and the router has a key, as Crossbar.io's.
pub(super) async fn hello(hello: Hello<'_>) -> Step {
    let pubkey = match hello.authextra.get("pubkey") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_str().and_then(primitives::cryptosign_public_key) {
            Some(key) => Some(key),
            None => {
                return Step::Deny(Denied::not_authorized_because(
                    "authextra.pubkey must be an Ed25519 public key in hex",
                ));
            }
        },
    };
    let client_challenge = match hello.authextra.get("challenge") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_str().and_then(decode_hex32) {
            Some(challenge) => Some(challenge),
            None => {
                return Step::Deny(Denied::not_authorized_because(
                    "authextra.challenge must be 32 bytes in hex",
                ));
            }
        },
    };
    let found = match (hello.authid, &pubkey) {
        (Some(authid), _) => {
            hello
                .auth
                .lookup(hello.realm, authid, AuthMethod::CryptoSign)
                .await
        }
        (None, Some(key)) => hello.auth.lookup_public_key(hello.realm, key).await,
        (None, None) => {
            return Step::Deny(Denied::not_authorized_because(
                "cryptosign authentication needs an authid or authextra.pubkey",
            ));
        }
    };
    let found = found.and_then(|found| {
        let Secret::CryptoSign(registered) = &found.credential.secret else {
            return None;
        };
        let keys = match pubkey {
            Some(key) => registered.iter().filter(|k| **k == key).copied().collect(),
            None => registered.clone(),
        };
        Some((found, keys))
    });

    let challenge = match random_bytes::<32>() {
        Ok(bytes) => bytes,
        Err(denied) => return Step::Deny(denied),
    };
    let mut extra = Dict::new();
    extra.insert("challenge".into(), Value::from(hex::encode(challenge)));
    extra.insert("channel_binding".into(), Value::Null);
    if let (Some(client_challenge), Some(router_key)) = (client_challenge, &hello.auth.router_key) {
        extra.insert("pubkey".into(), Value::from(router_key.public_key_hex()));
        extra.insert(
            "signature".into(),
            Value::from(primitives::cryptosign_sign(router_key, &client_challenge)),
        );
    }
    let pending = Pending {
        method: hello.method.to_owned(),
        challenge,
        found,
    };
    Step::challenge(hello.method, extra, PendingState::CryptoSign(pending))
}

impl Pending {
    pub(super) fn authenticate(self, signature: &str) -> Result<Identity, Denied> {
        let (found, keys) = self.found.ok_or_else(Denied::not_authorized)?;
        let signed = keys
            .iter()
            .any(|key| primitives::cryptosign_verify(key, signature, &self.challenge));
        if !signed {
            return Err(Denied::not_authorized());
        }
        Ok(found.identity(&self.method))
    }
}

/// Exactly 32 bytes of hex.
fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    Some(bytes)
}

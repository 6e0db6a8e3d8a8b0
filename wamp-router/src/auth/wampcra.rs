//! `wampcra`: the client signs the router's challenge text with HMAC-SHA256, keyed with the
//! secret or with a key derived from it (salted secrets).

use std::fmt;
use std::sync::Arc;

use subtle::ConstantTimeEq as _;
use tokio::sync::Semaphore;
use wampkit_client::auth::primitives;
use wampkit_client::{Dict, Value};
use zeroize::Zeroizing;

use super::store::Secret;
use super::{AuthMethod, Denied, Found, Hello, Identity, PendingState, Step, derive, random_bytes};

/// Waiting for the signature of `challenge` by `found` (none for an unknown authid).
pub(super) struct Pending {
    method: String,
    challenge: String,
    found: Option<Found>,
    derivations: Arc<Semaphore>,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("wampcra::Pending")
            .field("authid", &self.found.as_ref().map(|p| &p.authid))
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

/// `[4, "wampcra", {"challenge": text, (salt, iterations, keylen)}]`, the text a JSON object
/// as Crossbar.io's (authid, method, provider and a nonce; not the role, which would tell an
/// unauthenticated client the role of any authid it names).
pub(super) async fn hello(hello: Hello<'_>) -> Step {
    let Some(authid) = hello.authid else {
        return Step::Deny(Denied::not_authorized_because(
            "WAMP-CRA authentication needs an authid",
        ));
    };
    let found = hello
        .auth
        .lookup(hello.realm, authid, AuthMethod::WampCra)
        .await;
    let nonce = match random_bytes::<32>() {
        Ok(bytes) => hex::encode(bytes),
        Err(denied) => return Step::Deny(denied),
    };
    let provider = found.as_ref().map_or_else(
        || hello.auth.decoy_provider(AuthMethod::WampCra),
        |p| p.provider.clone(),
    );
    let challenge = serde_json::json!({
        "authid": authid,
        "authmethod": "wampcra",
        "authprovider": provider,
        "nonce": nonce,
    })
    .to_string();
    let mut extra = Dict::new();
    extra.insert("challenge".into(), Value::from(challenge.as_str()));
    if let Some(Secret::WampCra {
        salt: Some(salt), ..
    }) = found.as_ref().map(|p| &p.credential.secret)
    {
        extra.insert("salt".into(), Value::from(salt.salt.as_str()));
        extra.insert("iterations".into(), Value::UInt(u64::from(salt.iterations)));
        extra.insert("keylen".into(), Value::UInt(u64::from(salt.keylen)));
    }
    let pending = Pending {
        method: hello.method.to_owned(),
        challenge,
        found,
        derivations: Arc::clone(&hello.auth.derivations),
    };
    Step::challenge(hello.method, extra, PendingState::WampCra(pending))
}

impl Pending {
    pub(super) async fn authenticate(self, signature: &str) -> Result<Identity, Denied> {
        let found = self.found.ok_or_else(Denied::not_authorized)?;
        let Secret::WampCra { secret, salt } = &found.credential.secret else {
            return Err(Denied::not_authorized());
        };
        let key: Zeroizing<Vec<u8>> = match salt {
            None => Zeroizing::new(secret.as_bytes().to_vec()),
            Some(salt) => {
                let (secret, salt) = (secret.clone(), salt.clone());
                derive(self.derivations, move || {
                    primitives::wampcra_derive_key(
                        &secret,
                        &salt.salt,
                        salt.iterations,
                        salt.keylen,
                    )
                })
                .await?
            }
        };
        let expected = primitives::wampcra_sign(&key, &self.challenge)
            .map_err(|_| Denied::not_authorized())?;
        if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return Err(Denied::not_authorized());
        }
        Ok(found.identity(&self.method))
    }
}

//! `scram` / `wamp-scram`: SCRAM-SHA-256. The router keeps StoredKey and ServerKey, checks the
//! client's proof and proves itself with the server signature in WELCOME.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use wampkit_client::auth::primitives::{self, ScramKdfVariant};
use wampkit_client::{Dict, Value};

use super::store::{ScramKdfParams, Secret};
use super::{AuthMethod, Denied, Found, Hello, Identity, PendingState, Step, random_bytes};

/// The specification's name of the method, whose WELCOME carries `verifier` too.
const SPEC_METHOD: &str = "wamp-scram";
/// The longest client nonce accepted.
const MAX_CLIENT_NONCE: usize = 256;
/// Random bytes the router appends to the client's nonce (a multiple of 3: no base64 padding).
const SERVER_NONCE_BYTES: usize = 18;
/// Bytes of the made-up salt of an unknown authid, as long as a real one.
const DECOY_SALT_BYTES: usize = 16;

/// Waiting for the client proof over `auth_message`.
pub(super) struct Pending {
    method: String,
    server_nonce: String,
    auth_message: String,
    found: Option<Found>,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("scram::Pending")
            .field("authid", &self.found.as_ref().map(|p| &p.authid))
            .field("server_nonce", &self.server_nonce)
            .finish_non_exhaustive()
    }
}

/// `[4, method, {nonce, kdf, salt, iterations, memory}]` as Crossbar.io sends it (`wamp-scram`:
/// with `channel_binding: null`); an unknown authid gets a made-up salt (the same on every
/// attempt) and the default cost.
pub(super) async fn hello(hello: Hello<'_>) -> Step {
    let Some(authid) = hello.authid else {
        return Step::Deny(Denied::not_authorized_because(
            "SCRAM authentication needs an authid",
        ));
    };
    let Some(client_nonce) = hello.authextra.get("nonce").and_then(Value::as_str) else {
        return Step::Deny(Denied::not_authorized_because(
            "SCRAM authentication needs authextra.nonce",
        ));
    };
    if !valid_nonce(client_nonce) {
        return Step::Deny(Denied::not_authorized_because(
            "authextra.nonce must be printable ASCII without commas",
        ));
    }
    if !matches!(
        hello.authextra.get("channel_binding"),
        None | Some(Value::Null)
    ) {
        return Step::Deny(Denied::not_authorized_because(
            "SCRAM channel binding is not supported",
        ));
    }
    let found = hello
        .auth
        .lookup(hello.realm, authid, AuthMethod::Scram)
        .await
        .filter(|found| matches!(found.credential.secret, Secret::Scram(_)));
    let (kdf, salt, iterations, memory_kib) = match found.as_ref().map(|p| &p.credential.secret) {
        Some(Secret::Scram(scram)) => (
            scram.kdf,
            scram.salt.clone(),
            scram.iterations,
            scram.memory_kib,
        ),
        _ => match decoy(&hello.auth.decoy_key, authid) {
            Ok(decoy) => decoy,
            Err(denied) => return Step::Deny(denied),
        },
    };
    let server_nonce = match random_bytes::<SERVER_NONCE_BYTES>() {
        Ok(bytes) => format!("{client_nonce}{}", BASE64.encode(bytes)),
        Err(denied) => return Step::Deny(denied),
    };
    let salt = BASE64.encode(salt);
    let Ok(auth_message) = primitives::scram_auth_message(
        hello.method,
        authid,
        client_nonce,
        &server_nonce,
        &salt,
        iterations,
    ) else {
        return Step::Deny(Denied::not_authorized_because(
            "the SCRAM authid is not valid SASLprep",
        ));
    };
    let mut extra = Dict::new();
    extra.insert("nonce".into(), Value::from(server_nonce.as_str()));
    extra.insert("kdf".into(), Value::from(kdf.name()));
    extra.insert("salt".into(), Value::from(salt));
    extra.insert("iterations".into(), Value::UInt(u64::from(iterations)));
    // No `memory: null` for PBKDF2, and `channel_binding` only in the specification's
    // dialect: Autobahn|Python reads a null as a number and as the text `None`.
    if kdf != ScramKdfVariant::Pbkdf2 {
        extra.insert("memory".into(), Value::UInt(u64::from(memory_kib)));
    }
    if hello.method == SPEC_METHOD {
        extra.insert("channel_binding".into(), Value::Null);
    }
    let pending = Pending {
        method: hello.method.to_owned(),
        server_nonce,
        auth_message,
        found,
    };
    Step::challenge(hello.method, extra, PendingState::Scram(pending))
}

/// A SCRAM nonce: printable ASCII except `,` (RFC 5802), of a sane length.
fn valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce.len() <= MAX_CLIENT_NONCE
        && nonce.bytes().all(|b| b.is_ascii_graphic() && b != b',')
}

/// The KDF, salt and cost shown for an unknown authid: the default cost, and a salt that is
/// an HMAC-SHA256 of the authid under the realm's random decoy key.
fn decoy(key: &[u8; 32], authid: &str) -> Result<(ScramKdfVariant, Vec<u8>, u32, u32), Denied> {
    let mac =
        primitives::scram_server_signature(key, authid).map_err(|_| Denied::not_authorized())?;
    let salt = mac.get(..DECOY_SALT_BYTES).unwrap_or_default().to_vec();
    Ok(match ScramKdfParams::default() {
        ScramKdfParams::Argon2id {
            memory_kib,
            iterations,
        } => (
            ScramKdfVariant::Argon2idBase64,
            salt,
            iterations,
            memory_kib,
        ),
        ScramKdfParams::Pbkdf2 { iterations } => (ScramKdfVariant::Pbkdf2, salt, iterations, 0),
    })
}

impl Pending {
    pub(super) fn authenticate(self, signature: &str, extra: &Dict) -> Result<Identity, Denied> {
        match extra.get("nonce") {
            None | Some(Value::Null) => {}
            Some(nonce) if nonce.as_str() == Some(self.server_nonce.as_str()) => {}
            Some(_) => return Err(Denied::not_authorized()),
        }
        if !matches!(extra.get("channel_binding"), None | Some(Value::Null)) {
            return Err(Denied::not_authorized());
        }
        let found = self.found.ok_or_else(Denied::not_authorized)?;
        let Secret::Scram(scram) = &found.credential.secret else {
            return Err(Denied::not_authorized());
        };
        if !primitives::scram_verify_proof(&scram.stored_key, &self.auth_message, signature) {
            return Err(Denied::not_authorized());
        }
        let server_signature =
            primitives::scram_server_signature(&scram.server_key, &self.auth_message)
                .map_err(|_| Denied::not_authorized())?;
        let server_signature = BASE64.encode(server_signature.as_slice());
        let mut identity = found.identity(&self.method);
        if self.method == SPEC_METHOD {
            identity.authextra.insert(
                "verifier".into(),
                Value::from(format!("v={server_signature}")),
            );
        }
        identity.authextra.insert(
            "scram_server_signature".into(),
            Value::from(server_signature),
        );
        Ok(identity)
    }
}

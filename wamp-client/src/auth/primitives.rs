//! The cryptography of the authentication methods, for the other side of the exchange: a router
//! that checks what this client computes (and signs what it verifies) uses these same
//! functions, so both sides share one implementation.
//!
//! Nothing here talks to the network or logs; key derivations are CPU-heavy and belong on a
//! blocking thread.
//!
//! Each method's functions come with its feature: `wampcra_*` with `auth-wampcra`,
//! `cryptosign_*` with `auth-cryptosign`, `scram_*` with `auth-scram`.
//!
//! ```
//! use wampkit::auth::{CryptoSign, primitives};
//!
//! // Cryptosign: the client signs the router's 32 random bytes, the router checks the
//! // signature against the public key it has on record.
//! let client = CryptoSign::from_bytes(&[7; 32]);
//! let on_record = primitives::cryptosign_public_key(&client.public_key_hex()).unwrap();
//! let challenge = [42u8; 32];
//! let answer = primitives::cryptosign_sign(&client, &challenge);
//! assert!(primitives::cryptosign_verify(&on_record, &answer, &challenge));
//! assert!(!primitives::cryptosign_verify(&on_record, &answer, &[0; 32]));
//! ```

#[cfg(any(feature = "auth-wampcra", feature = "auth-scram"))]
use zeroize::Zeroizing;

#[cfg(any(feature = "auth-wampcra", feature = "auth-scram"))]
use super::AuthError;
#[cfg(feature = "auth-cryptosign")]
use super::CryptoSign;
#[cfg(feature = "auth-cryptosign")]
use super::cryptosign::{public_key_from_hex, verify_signed};
#[cfg(feature = "auth-scram")]
use super::scram::exchange::auth_message;
#[cfg(feature = "auth-scram")]
use super::scram::kdf::{hmac_sha256, keys, salted_password, verify_proof};

#[cfg(feature = "auth-scram")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-scram")))]
pub use super::scram::kdf::Kdf as ScramKdfVariant;

/// The salted WAMP-CRA key: the ASCII bytes of
/// `base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen))`, the secret and the salt taken
/// as UTF-8 bytes, as Autobahn|Python derives it.
///
/// Available with the `auth-wampcra` feature.
#[cfg(feature = "auth-wampcra")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-wampcra")))]
pub fn wampcra_derive_key(
    secret: &str,
    salt: &str,
    iterations: u32,
    keylen: u32,
) -> Zeroizing<Vec<u8>> {
    super::wampcra::derive_key(secret, salt, iterations, keylen)
}

/// The WAMP-CRA signature of a challenge text: `base64(HMAC-SHA256(key, challenge))`, where the
/// key is the secret's bytes or [`wampcra_derive_key`]'s result.
///
/// Available with the `auth-wampcra` feature.
#[cfg(feature = "auth-wampcra")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-wampcra")))]
pub fn wampcra_sign(key: &[u8], challenge: &str) -> Result<String, AuthError> {
    super::wampcra::sign(key, challenge)
}

/// Whether `text` (64 hex digits) is an Ed25519 public key; its 32 bytes if so.
///
/// Available with the `auth-cryptosign` feature.
#[cfg(feature = "auth-cryptosign")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-cryptosign")))]
pub fn cryptosign_public_key(text: &str) -> Option<[u8; 32]> {
    public_key_from_hex(text).map(|key| key.to_bytes())
}

/// Signs a 32-byte challenge with `key`'s private key: `hex(signature ‖ challenge)`, the form
/// of a client's AUTHENTICATE and of a router's signature over the client's challenge.
///
/// Available with the `auth-cryptosign` feature.
#[cfg(feature = "auth-cryptosign")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-cryptosign")))]
pub fn cryptosign_sign(key: &CryptoSign, challenge: &[u8; 32]) -> String {
    key.sign_challenge(challenge, None)
}

/// Whether `signed` is `hex(signature ‖ challenge)` with an Ed25519 signature over `challenge`
/// by `public_key` (checked strictly: no malleable or small-order forms).
///
/// Available with the `auth-cryptosign` feature.
#[cfg(feature = "auth-cryptosign")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-cryptosign")))]
pub fn cryptosign_verify(public_key: &[u8; 32], signed: &str, challenge: &[u8; 32]) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    verify_signed(&key, signed, challenge).is_ok()
}

/// SCRAM's SaltedPassword: the key derivation of `password` with `salt` (raw bytes) and the
/// cost, in the form `kdf` gives (see [`ScramKdfVariant`]). `memory_kib` is ignored by PBKDF2.
///
/// Available with the `auth-scram` feature.
#[cfg(feature = "auth-scram")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-scram")))]
pub fn scram_salted_password(
    kdf: ScramKdfVariant,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    memory_kib: u32,
) -> Result<Zeroizing<Vec<u8>>, AuthError> {
    salted_password(kdf, password, salt, iterations, memory_kib)
}

/// What a router stores of a SCRAM password: StoredKey = SHA256(HMAC(SaltedPassword,
/// "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key").
///
/// Available with the `auth-scram` feature.
#[derive(Clone)]
#[non_exhaustive]
#[cfg(feature = "auth-scram")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-scram")))]
pub struct ScramStoredKeys {
    /// StoredKey, which checks the client's proof.
    pub stored_key: Zeroizing<[u8; 32]>,
    /// ServerKey, which signs the router's proof.
    pub server_key: Zeroizing<[u8; 32]>,
}

#[cfg(feature = "auth-scram")]
impl std::fmt::Debug for ScramStoredKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScramStoredKeys(<redacted>)")
    }
}

/// The StoredKey and ServerKey of a SaltedPassword.
///
/// Available with the `auth-scram` feature.
#[cfg(feature = "auth-scram")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-scram")))]
pub fn scram_stored_keys(salted_password: &[u8]) -> Result<ScramStoredKeys, AuthError> {
    let (_, stored_key, server_key) = keys(salted_password)?;
    Ok(ScramStoredKeys {
        stored_key,
        server_key,
    })
}

/// SCRAM's AuthMessage as both sides build it, in the dialect of `method`: `wamp-scram` (the
/// specification's: `c=biws`, `,` and `=` escaped in the authid) or anything else (Crossbar.io's
/// `scram`). `salt` is the salt's text exactly as the CHALLENGE carries it. Fails when the
/// authid is not valid SASLprep.
///
/// Available with the `auth-scram` feature.
#[cfg(feature = "auth-scram")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-scram")))]
pub fn scram_auth_message(
    method: &str,
    authid: &str,
    client_nonce: &str,
    server_nonce: &str,
    salt: &str,
    iterations: u32,
) -> Result<String, AuthError> {
    let spec = method == super::scram::SPEC_METHOD;
    auth_message(spec, authid, client_nonce, server_nonce, salt, iterations)
}

/// Whether `proof` (the AUTHENTICATE signature, base64) proves knowledge of the password whose
/// StoredKey is `stored_key`, for this AuthMessage. Compared in constant time.
///
/// Available with the `auth-scram` feature.
#[cfg(feature = "auth-scram")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-scram")))]
pub fn scram_verify_proof(stored_key: &[u8; 32], auth_message: &str, proof: &str) -> bool {
    verify_proof(stored_key, auth_message, proof)
}

/// The router's ServerSignature = HMAC(ServerKey, AuthMessage), as raw bytes (WELCOME carries
/// it in base64).
///
/// Available with the `auth-scram` feature.
#[cfg(feature = "auth-scram")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-scram")))]
pub fn scram_server_signature(
    server_key: &[u8; 32],
    auth_message: &str,
) -> Result<Zeroizing<[u8; 32]>, AuthError> {
    hmac_sha256(server_key, auth_message.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known answer of the client's Crossbar.io-dialect test, checked from the router's
    /// side with the stored keys of Crossbar.io's test principal.
    #[cfg(feature = "auth-scram")]
    #[test]
    fn scram_router_side_checks_the_clients_known_answer() {
        let keys = scram_stored_keys(
            &scram_salted_password(
                ScramKdfVariant::Argon2idBase64,
                b"scram-secret-123",
                &hex::decode("5ff8f9fad4f6c5ca86341dacf4ca3eae").unwrap(),
                16,
                512,
            )
            .unwrap(),
        )
        .unwrap();
        let message = scram_auth_message(
            "scram",
            "scram-user",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAQEBAQEBAQEBAQEBAQEBAQ==",
            "X/j5+tT2xcqGNB2s9Mo+rg==",
            16,
        )
        .unwrap();
        let proof = "2zl9NCBwbt4BiRRwE91NzmC2Gb2KLdRqLwgdRATpvgw=";
        assert!(scram_verify_proof(&keys.stored_key, &message, proof));
        assert!(!scram_verify_proof(&keys.server_key, &message, proof));
        assert!(!scram_verify_proof(&keys.stored_key, &message, "AAAA"));
        assert!(!scram_verify_proof(
            &keys.stored_key,
            &message,
            "not base64!"
        ));
        use base64::Engine as _;
        let signature = scram_server_signature(&keys.server_key, &message).unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(signature.as_slice()),
            "gUg+Y4+8CIHa2Lfw9VtHNSnjOeSKoEvdSVPCpxeX8dc="
        );
        assert_eq!(ScramKdfVariant::Argon2idBase64.name(), "argon2id-13");
    }

    #[cfg(feature = "auth-cryptosign")]
    #[test]
    fn cryptosign_round_trip() {
        let key = CryptoSign::from_bytes(&[3; 32]);
        let public = cryptosign_public_key(&key.public_key_hex()).unwrap();
        let challenge = [7u8; 32];
        let signed = cryptosign_sign(&key, &challenge);
        assert!(cryptosign_verify(&public, &signed, &challenge));
        assert!(!cryptosign_verify(&public, &signed, &[8u8; 32]));
        assert!(!cryptosign_verify(&public, "zz", &challenge));
        assert!(!cryptosign_verify(&public, &signed[..100], &challenge));
        assert!(cryptosign_public_key("abcd").is_none());
    }
}

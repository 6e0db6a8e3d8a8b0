//! The key derivation: the KDFs a CHALLENGE may name, the cost limits the client accepts, and
//! the SCRAM keys of a salted password.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, STANDARD_NO_PAD as BASE64_NO_PAD};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::auth::{AuthError, AuthErrorKind};

/// The key derivation costs [`Scram`](super::Scram) accepts from a router.
///
/// The router picks the cost (it stores the salted password), so the limits guard both ways: a
/// cost too low may be a rogue router fishing for a hash it can crack cheaply; a cost too high
/// makes this client allocate memory and burn CPU on the router's say-so, on a blocking thread
/// that runs to the end even after the join gave up. The defaults:
///
/// | Field | Default | Why |
/// |---|---|---|
/// | `argon2_min_memory_kib` | 512 KiB | the memory cost of Autobahn\|Python's `derive_scram_credential` and of Crossbar.io's test principal |
/// | `argon2_min_cost` | 8,192 (KiB × passes) | e.g. 512 KiB × 16 passes (Crossbar.io's test principal), or 8 MiB × 1 |
/// | `argon2_max_memory_kib` | 65,536 (64 MiB) | fits RFC 9106's second recommended setting (64 MiB × 3 passes) and OWASP's (19 MiB × 2, 46 MiB × 1), 128 times Autobahn\|Python's 512 KiB |
/// | `argon2_max_cost` | 4,194,304 (KiB × passes) | twice Autobahn\|Python's default of 4,096 passes × 512 KiB; about 4 GiB of memory traffic, a few seconds of one core |
/// | `pbkdf2_min_iterations` | 100,000 | NIST SP 800-63B asks for at least 10,000, OWASP for 600,000 with HMAC-SHA256; RFC 7677's 4,096 is cheap to crack today |
/// | `pbkdf2_max_iterations` | 2,000,000 | over three times OWASP's recommendation; about a second of one core |
///
/// A router asking for more or less fails the join with [`AuthErrorKind::KdfCostTooHigh`] or
/// [`AuthErrorKind::KdfCostTooLow`] before anything is derived. Crossbar.io's test principals
/// (Argon2id, 16 passes × 512 KiB) pass. For a router whose credentials were made with other
/// costs (e.g. PBKDF2 with RFC 7677's 4,096 iterations), set the limits:
///
/// ```
/// use wampkit::auth::{KdfLimits, Scram};
///
/// let mut limits = KdfLimits::default();
/// limits.pbkdf2_min_iterations = 100_000;
/// let scram = Scram::new("alice", "secret").kdf_limits(limits);
/// # let _ = scram;
/// ```
///
/// Available with the `auth-scram` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KdfLimits {
    /// The least Argon2 memory cost accepted, in KiB.
    pub argon2_min_memory_kib: u32,
    /// The most Argon2 memory cost accepted, in KiB.
    pub argon2_max_memory_kib: u32,
    /// The least Argon2 total cost accepted: memory (KiB) × iterations.
    pub argon2_min_cost: u64,
    /// The most Argon2 total cost accepted: memory (KiB) × iterations.
    pub argon2_max_cost: u64,
    /// The fewest PBKDF2 iterations accepted.
    pub pbkdf2_min_iterations: u32,
    /// The most PBKDF2 iterations accepted.
    pub pbkdf2_max_iterations: u32,
}

impl Default for KdfLimits {
    fn default() -> Self {
        KdfLimits {
            argon2_min_memory_kib: 512,
            argon2_max_memory_kib: 64 * 1024,
            argon2_min_cost: 8_192,
            argon2_max_cost: 1 << 22,
            pbkdf2_min_iterations: 100_000,
            pbkdf2_max_iterations: 2_000_000,
        }
    }
}

/// A key derivation function family for [`Scram::only_kdf`](super::Scram::only_kdf).
///
/// Available with the `auth-scram` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScramKdf {
    /// Argon2id v1.3 (`argon2id13` in the specification, `argon2id-13` in Crossbar.io).
    Argon2id,
    /// PBKDF2-HMAC-SHA256 (`pbkdf2`).
    Pbkdf2,
}

impl fmt::Display for ScramKdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScramKdf::Argon2id => "Argon2id",
            ScramKdf::Pbkdf2 => "PBKDF2",
        })
    }
}

/// The key derivation function a SCRAM CHALLENGE names, with the form of the salted password
/// it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kdf {
    /// `argon2id13` (spec): the salted password is the raw hash.
    Argon2id,
    /// `argon2id-13` (Crossbar.io/Autobahn): the salted password is the hash's unpadded base64.
    Argon2idBase64,
    /// `pbkdf2`: PBKDF2-HMAC-SHA256.
    Pbkdf2,
}

impl Kdf {
    pub(crate) fn parse(name: &str) -> Result<Kdf, AuthError> {
        match name {
            "argon2id13" => Ok(Kdf::Argon2id),
            "argon2id-13" => Ok(Kdf::Argon2idBase64),
            "pbkdf2" => Ok(Kdf::Pbkdf2),
            other => Err(AuthError::new(format!(
                "the router's SCRAM challenge names the unknown key derivation function \
                 `{other}` (known: argon2id13, argon2id-13, pbkdf2)"
            ))),
        }
    }

    /// The name in a CHALLENGE's `kdf`: `argon2id13`, `argon2id-13` or `pbkdf2`.
    pub fn name(self) -> &'static str {
        match self {
            Kdf::Argon2id => "argon2id13",
            Kdf::Argon2idBase64 => "argon2id-13",
            Kdf::Pbkdf2 => "pbkdf2",
        }
    }

    pub(super) fn family(self) -> ScramKdf {
        match self {
            Kdf::Argon2id | Kdf::Argon2idBase64 => ScramKdf::Argon2id,
            Kdf::Pbkdf2 => ScramKdf::Pbkdf2,
        }
    }
}

/// SaltedPassword = KDF(password, salt, iterations, memory).
pub(crate) fn salted_password(
    kdf: Kdf,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    memory_kib: u32,
) -> Result<Zeroizing<Vec<u8>>, AuthError> {
    let mut hash = Zeroizing::new([0u8; 32]);
    match kdf {
        Kdf::Argon2id | Kdf::Argon2idBase64 => {
            let params = argon2::Params::new(memory_kib, iterations, 1, Some(32))
                .map_err(|e| AuthError::new(format!("invalid Argon2 parameters: {e}")))?;
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password_into(password, salt, hash.as_mut_slice())
                .map_err(|e| AuthError::new(format!("Argon2 failed: {e}")))?;
        }
        Kdf::Pbkdf2 => {
            pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, hash.as_mut_slice());
        }
    }
    Ok(match kdf {
        Kdf::Argon2idBase64 => Zeroizing::new(BASE64_NO_PAD.encode(hash.as_slice()).into_bytes()),
        Kdf::Argon2id | Kdf::Pbkdf2 => Zeroizing::new(hash.to_vec()),
    })
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Zeroizing<[u8; 32]>, AuthError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| AuthError::new("a SCRAM key cannot be used for HMAC-SHA256"))?;
    mac.update(data);
    Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
}

/// (ClientKey, StoredKey, ServerKey) of a salted password.
pub(crate) type ScramKeys = (
    Zeroizing<[u8; 32]>,
    Zeroizing<[u8; 32]>,
    Zeroizing<[u8; 32]>,
);

/// ClientKey = HMAC(SP, "Client Key"), StoredKey = SHA256(ClientKey), ServerKey = HMAC(SP,
/// "Server Key").
pub(crate) fn keys(salted_password: &[u8]) -> Result<ScramKeys, AuthError> {
    let client_key = hmac_sha256(salted_password, b"Client Key")?;
    let stored_key = Zeroizing::new(Sha256::digest(client_key.as_slice()).into());
    let server_key = hmac_sha256(salted_password, b"Server Key")?;
    Ok((client_key, stored_key, server_key))
}

/// Whether `proof` (base64) is the client proof of the user whose StoredKey is `stored_key`:
/// ClientKey = proof XOR HMAC(StoredKey, AuthMessage) must hash to StoredKey (compared in
/// constant time).
pub(crate) fn verify_proof(stored_key: &[u8; 32], auth_message: &str, proof: &str) -> bool {
    let Ok(proof) = BASE64.decode(proof) else {
        return false;
    };
    let Ok(proof) = <[u8; 32]>::try_from(proof.as_slice()) else {
        return false;
    };
    let Ok(client_signature) = hmac_sha256(stored_key, auth_message.as_bytes()) else {
        return false;
    };
    let mut client_key = Zeroizing::new([0u8; 32]);
    for ((out, p), s) in client_key
        .iter_mut()
        .zip(proof)
        .zip(client_signature.iter())
    {
        *out = p ^ s;
    }
    let recovered: [u8; 32] = Sha256::digest(client_key.as_slice()).into();
    recovered.ct_eq(stored_key).into()
}

/// Refuses KDF costs outside `limits`.
pub(super) fn check_cost(
    kdf: Kdf,
    iterations: u32,
    memory: u32,
    limits: &KdfLimits,
) -> Result<(), AuthError> {
    let too_low =
        |message: String| Err(AuthError::with_kind(AuthErrorKind::KdfCostTooLow, message));
    let too_high =
        |message: String| Err(AuthError::with_kind(AuthErrorKind::KdfCostTooHigh, message));
    match kdf {
        Kdf::Pbkdf2 => {
            if iterations < limits.pbkdf2_min_iterations {
                return too_low(format!(
                    "the router's SCRAM challenge asks for only {iterations} PBKDF2 iterations; \
                     this client requires at least {} (a router asking for less may be fishing \
                     for an easily cracked hash; if the credentials really use fewer, lower \
                     KdfLimits::pbkdf2_min_iterations)",
                    limits.pbkdf2_min_iterations
                ));
            }
            if iterations > limits.pbkdf2_max_iterations {
                return too_high(format!(
                    "the router's SCRAM challenge asks for {iterations} PBKDF2 iterations; this \
                     client allows at most {} (if the credentials really use more, raise \
                     KdfLimits::pbkdf2_max_iterations)",
                    limits.pbkdf2_max_iterations
                ));
            }
        }
        Kdf::Argon2id | Kdf::Argon2idBase64 => {
            let cost = u64::from(memory) * u64::from(iterations);
            if iterations == 0
                || memory < limits.argon2_min_memory_kib
                || cost < limits.argon2_min_cost
            {
                return too_low(format!(
                    "the router's SCRAM challenge asks for a weak Argon2 cost ({memory} KiB × \
                     {iterations} iterations); this client requires at least {} KiB and a \
                     product of at least {} (a router asking for less may be fishing for an \
                     easily cracked hash; if the credentials really use less, lower the \
                     KdfLimits)",
                    limits.argon2_min_memory_kib, limits.argon2_min_cost
                ));
            }
            if memory > limits.argon2_max_memory_kib || cost > limits.argon2_max_cost {
                return too_high(format!(
                    "the router's SCRAM challenge asks for an Argon2 cost of {memory} KiB × \
                     {iterations} iterations; this client allows at most {} KiB and a product \
                     of at most {} (if the credentials really use more, raise \
                     KdfLimits::argon2_max_memory_kib or argon2_max_cost)",
                    limits.argon2_max_memory_kib, limits.argon2_max_cost
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Crossbar.io's test principal (credentials.json): its stored-key and server-key were
    /// derived from `scram-secret-123` by Autobahn|Python; deriving them again proves the KDF,
    /// including Autobahn's base64 form of the Argon2 hash.
    #[test]
    fn argon2_keys_match_crossbars_test_principal() {
        let salt = hex::decode("5ff8f9fad4f6c5ca86341dacf4ca3eae").unwrap();
        let salted =
            salted_password(Kdf::Argon2idBase64, b"scram-secret-123", &salt, 16, 512).unwrap();
        let (_, stored_key, server_key) = keys(&salted).unwrap();
        assert_eq!(
            hex::encode(stored_key.as_slice()),
            "02cb23c30751cd481d7f59cdb80499c6d9e6096756a7d9efa9f4fa9e9327864c"
        );
        assert_eq!(
            hex::encode(server_key.as_slice()),
            "45a39bb0eb7239e01c8ece71a2e7e2cfef51df9a06e932cada1a8161eb186951"
        );
        // The spec's raw form differs.
        let raw = salted_password(Kdf::Argon2id, b"scram-secret-123", &salt, 16, 512).unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(keys(&raw).unwrap().1, stored_key);
    }
}

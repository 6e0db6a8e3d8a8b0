//! WAMP-SCRAM: SCRAM-SHA-256 (RFC 5802/7677) with Argon2id or PBKDF2, in the specification's
//! dialect (`wamp-scram`) and in Crossbar.io's and Autobahn|Python's (`scram`).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, STANDARD_NO_PAD as BASE64_NO_PAD};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::{
    AuthError, AuthErrorKind, AuthFuture, AuthResponse, AuthSession, Authenticator, Challenge,
    RouterProof, Secret, blocking, random_bytes,
};
use crate::session_details::SessionDetails;
use crate::value::{Dict, Value};

/// Crossbar.io's and Autobahn|Python's name of the method.
const CROSSBAR_METHOD: &str = "scram";
/// The specification's name of the method.
const SPEC_METHOD: &str = "wamp-scram";
/// Random bytes in the client nonce: at least the 16 the specification recommends, and a
/// multiple of 3 so that its base64 text has no padding. Crossbar.io builds its nonce as
/// `base64(client nonce bytes ‖ 16 random bytes)`, whose text starts with the client's nonce
/// text only then.
const CLIENT_NONCE_BYTES: usize = 18;
/// The shortest salt accepted (64 bits, RFC 2898's recommendation and Argon2's minimum).
const MIN_SALT_BYTES: usize = 8;

/// The `scram` / `wamp-scram` method: password authentication where neither the password nor
/// anything that lets a router replay it is sent, and the router proves it knows the user's
/// keys too.
///
/// HELLO carries the `authid` and a fresh client nonce. The router's CHALLENGE names the key
/// derivation function and its cost; the client derives the salted password, answers with the
/// SCRAM client proof, and checks the router's server signature in WELCOME (in constant time).
/// The client aborts when:
/// - the router's nonce does not start with the client's;
/// - the KDF cost is outside [`KdfLimits`] (too low: a rogue router fishing for a cheaply
///   crackable hash; too high: a router keeping the client busy), or the KDF is not the one
///   [`only_kdf`](Scram::only_kdf) allows;
/// - the WELCOME lacks the server signature or it does not verify;
/// - the router accepts the method without challenging, or (when every offered method can
///   authenticate the router) welcomes the client without the proof: see
///   [router authentication](super).
///
/// One key derivation runs at a time per [`SessionBuilder`](crate::SessionBuilder): it cannot
/// be stopped once started, so a new attempt (a reconnect, or `connect` again after a join
/// timeout) waits for the previous one to finish.
///
/// The dialect is detected from the CHALLENGE:
///
/// | | Specification | Crossbar.io / Autobahn\|Python |
/// |---|---|---|
/// | method | `wamp-scram` | `scram` (offered by default; see [`wamp_scram`](Scram::wamp_scram)) |
/// | Argon2 `kdf` | `argon2id13`; SaltedPassword = the 32-byte hash | `argon2id-13`; SaltedPassword = the ASCII of the hash's unpadded base64 |
/// | channel binding part of AuthMessage | `c=biws` | `c=` |
/// | authid in AuthMessage | SASLprep, then `,` and `=` escaped | SASLprep |
/// | password | SASLprep | as is (UTF-8) |
/// | server signature in WELCOME | `authextra.verifier` | `authextra.scram_server_signature` |
///
/// PBKDF2 (`kdf: "pbkdf2"`) is HMAC-SHA256 with the base64-decoded salt and a 32-byte output in
/// both dialects. Channel binding is not supported (`channel_binding` is always null).
///
/// ```no_run
/// # async fn demo() -> wamp_client::Result<()> {
/// use wamp_client::auth::Scram;
///
/// let session = wamp_client::Session::builder("ws://127.0.0.1:8080/scram", "realm1")
///     .authenticator(Scram::new("scram-user", "scram-secret-123"))
///     .connect()
///     .await?;
/// assert_eq!(session.details().authmethod.as_deref(), Some("scram"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Scram {
    authid: String,
    password: Secret,
    method: &'static str,
    limits: KdfLimits,
    only_kdf: Option<ScramKdf>,
}

/// The key derivation costs [`Scram`] accepts from a router.
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
/// use wamp_client::auth::{KdfLimits, Scram};
///
/// let mut limits = KdfLimits::default();
/// limits.pbkdf2_min_iterations = 100_000;
/// let scram = Scram::new("alice", "secret").kdf_limits(limits);
/// # let _ = scram;
/// ```
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

/// A key derivation function family for [`Scram::only_kdf`].
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

impl Scram {
    /// The password of `authid`. Offers the method as `scram` (Crossbar.io's name).
    pub fn new(authid: impl Into<String>, password: impl Into<String>) -> Self {
        Scram {
            authid: authid.into(),
            password: Secret::new(password),
            method: CROSSBAR_METHOD,
            limits: KdfLimits::default(),
            only_kdf: None,
        }
    }

    /// Offers the method as `wamp-scram`, the specification's name, for routers that follow it.
    /// (Crossbar.io aborts a HELLO that offers `wamp-scram`.)
    pub fn wamp_scram(mut self) -> Self {
        self.method = SPEC_METHOD;
        self
    }

    /// The key derivation costs to accept (default: [`KdfLimits::default`]).
    pub fn kdf_limits(mut self, limits: KdfLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Accepts only this key derivation function (default: either). Pin the one your
    /// credentials were made with, so that a router cannot switch to the other: e.g. from
    /// memory-hard Argon2id to PBKDF2, whose hashes are far cheaper to crack on GPUs. A
    /// challenge naming the other fails the join with [`AuthErrorKind::KdfNotAllowed`].
    ///
    /// ```
    /// use wamp_client::auth::{Scram, ScramKdf};
    ///
    /// let scram = Scram::new("alice", "secret").only_kdf(ScramKdf::Argon2id);
    /// # let _ = scram;
    /// ```
    pub fn only_kdf(mut self, kdf: ScramKdf) -> Self {
        self.only_kdf = Some(kdf);
        self
    }

    /// A session with the given client nonce (tests use fixed ones).
    fn session(&self, client_nonce: String) -> ScramSession {
        ScramSession {
            authenticator: self.clone(),
            client_nonce,
            server_signature: None,
            verified: false,
        }
    }
}

impl fmt::Debug for Scram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scram")
            .field("authid", &self.authid)
            .field("password", &self.password)
            .field("method", &self.method)
            .field("limits", &self.limits)
            .field("only_kdf", &self.only_kdf)
            .finish()
    }
}

impl Authenticator for Scram {
    fn method(&self) -> &str {
        self.method
    }

    fn start(&self) -> Result<Box<dyn AuthSession>, AuthError> {
        let nonce = BASE64.encode(random_bytes::<CLIENT_NONCE_BYTES>()?);
        Ok(Box::new(self.session(nonce)))
    }
}

/// The key derivation function named by the CHALLENGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kdf {
    /// `argon2id13` (spec): the salted password is the raw hash.
    Argon2id,
    /// `argon2id-13` (Crossbar.io/Autobahn): the salted password is the hash's unpadded base64.
    Argon2idBase64,
    /// `pbkdf2`: PBKDF2-HMAC-SHA256.
    Pbkdf2,
}

impl Kdf {
    fn parse(name: &str) -> Result<Kdf, AuthError> {
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

    fn family(self) -> ScramKdf {
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

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Zeroizing<[u8; 32]>, AuthError> {
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

/// One SCRAM authentication: the client nonce, then the expected server signature.
struct ScramSession {
    authenticator: Scram,
    client_nonce: String,
    /// ServerSignature = HMAC(ServerKey, AuthMessage), known once the challenge is answered.
    server_signature: Option<Zeroizing<[u8; 32]>>,
    /// Whether the WELCOME carried the right server signature.
    verified: bool,
}

/// What the client computes from one CHALLENGE.
struct Proof {
    client_proof: String,
    server_signature: Zeroizing<[u8; 32]>,
    server_nonce: String,
}

impl ScramSession {
    async fn answer(&self, challenge: &Challenge) -> Result<Proof, AuthError> {
        let spec = challenge.method == SPEC_METHOD;
        let limits = self.authenticator.limits;

        let server_nonce = challenge.required_str("nonce")?.to_owned();
        if server_nonce.len() <= self.client_nonce.len()
            || !server_nonce.starts_with(&self.client_nonce)
        {
            return Err(AuthError::new(
                "the router's SCRAM nonce does not extend this client's nonce; the router is \
                 not following the protocol (or is not the router it claims to be)",
            ));
        }
        let kdf = Kdf::parse(challenge.required_str("kdf")?)?;
        if let Some(only) = self.authenticator.only_kdf {
            if kdf.family() != only {
                return Err(AuthError::with_kind(
                    AuthErrorKind::KdfNotAllowed,
                    format!(
                        "the router's SCRAM challenge asks for {}, but this client accepts only \
                         {only} (Scram::only_kdf); if the credentials really use {}, change \
                         that setting, otherwise the router is not the one you expect",
                        kdf.family(),
                        kdf.family()
                    ),
                ));
            }
        }
        let iterations = challenge.u32_or("iterations", None)?;
        let memory = match kdf {
            Kdf::Argon2id | Kdf::Argon2idBase64 => challenge.u32_or("memory", None)?,
            Kdf::Pbkdf2 => 0,
        };
        check_cost(kdf, iterations, memory, &limits)?;
        let salt_text = challenge.required_str("salt")?.to_owned();
        let salt = BASE64
            .decode(&salt_text)
            .or_else(|_| BASE64_NO_PAD.decode(&salt_text))
            .map_err(|_| AuthError::new("the router's SCRAM salt is not base64"))?;
        if salt.len() < MIN_SALT_BYTES {
            return Err(AuthError::new(format!(
                "the router's SCRAM salt has {} bytes; this client requires at least \
                 {MIN_SALT_BYTES}",
                salt.len()
            )));
        }

        let authid = stringprep::saslprep(&self.authenticator.authid)
            .map_err(|e| AuthError::new(format!("the SCRAM authid is not valid SASLprep: {e}")))?;
        let authid = if spec {
            // `=` first, so that the `=` of `=2C` is not escaped again.
            authid.replace('=', "=3D").replace(',', "=2C")
        } else {
            authid.into_owned()
        };
        let channel_binding = if spec { "biws" } else { "" };
        let auth_message = format!(
            "n={authid},r={client_nonce},r={server_nonce},s={salt_text},i={iterations},\
             c={channel_binding},r={server_nonce}",
            client_nonce = self.client_nonce,
        );

        let password: Zeroizing<String> = if spec {
            let prepared = stringprep::saslprep(self.authenticator.password.expose())
                .map_err(|_| AuthError::new("the SCRAM password is not valid SASLprep"))?;
            Zeroizing::new(prepared.into_owned())
        } else {
            Zeroizing::new(self.authenticator.password.expose().to_owned())
        };
        let cost = match kdf {
            Kdf::Pbkdf2 => format!("PBKDF2, {iterations} iterations"),
            Kdf::Argon2id | Kdf::Argon2idBase64 => {
                format!("Argon2id, {iterations} passes, {memory} KiB")
            }
        };
        let salted = blocking("deriving the SCRAM salted password", cost, move || {
            salted_password(kdf, password.as_bytes(), &salt, iterations, memory)
        })
        .await?;

        let (client_key, stored_key, server_key) = keys(&salted)?;
        let client_signature = hmac_sha256(stored_key.as_slice(), auth_message.as_bytes())?;
        let mut proof = Zeroizing::new([0u8; 32]);
        for ((out, key), signature) in proof
            .iter_mut()
            .zip(client_key.iter())
            .zip(client_signature.iter())
        {
            *out = key ^ signature;
        }
        Ok(Proof {
            client_proof: BASE64.encode(proof.as_slice()),
            server_signature: hmac_sha256(server_key.as_slice(), auth_message.as_bytes())?,
            server_nonce,
        })
    }
}

/// Refuses KDF costs outside `limits`.
fn check_cost(kdf: Kdf, iterations: u32, memory: u32, limits: &KdfLimits) -> Result<(), AuthError> {
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

impl AuthSession for ScramSession {
    fn authid(&self) -> Option<String> {
        Some(self.authenticator.authid.clone())
    }

    fn authextra(&self) -> Dict {
        let mut extra = Dict::new();
        extra.insert("nonce".into(), Value::from(self.client_nonce.as_str()));
        extra
    }

    fn respond<'a>(
        &'a mut self,
        challenge: &'a Challenge,
    ) -> AuthFuture<'a, Result<AuthResponse, AuthError>> {
        Box::pin(async move {
            let proof = self.answer(challenge).await?;
            self.server_signature = Some(proof.server_signature);
            let mut extra = Dict::new();
            extra.insert("nonce".into(), Value::from(proof.server_nonce));
            extra.insert("channel_binding".into(), Value::Null);
            extra.insert("cbind_data".into(), Value::Null);
            Ok(AuthResponse::new(proof.client_proof).with_extra(extra))
        })
    }

    fn welcome(&mut self, details: &SessionDetails) -> Result<(), AuthError> {
        let not_proven = |why: &str| {
            Err(AuthError::with_kind(
                AuthErrorKind::RouterNotAuthenticated,
                format!(
                    "{why}; it has not proven that it knows the user's keys (check that the URL \
                     names the router you expect and that it is configured for SCRAM)"
                ),
            ))
        };
        let Some(expected) = &self.server_signature else {
            let method = details.authmethod.as_deref();
            if method == Some(CROSSBAR_METHOD) || method == Some(SPEC_METHOD) {
                return not_proven("the router accepted SCRAM authentication without challenging");
            }
            // The router accepted another method; whether that is acceptable is for the join
            // to decide (see `router_proof`).
            return Ok(());
        };
        let extra = details.authextra();
        let field = |key: &str| extra.and_then(|e| e.get(key)).and_then(Value::as_str);
        let Some(text) = field("verifier").or_else(|| field("scram_server_signature")) else {
            return not_proven(
                "the router's WELCOME lacks the SCRAM server signature (`verifier` or \
                 `scram_server_signature`)",
            );
        };
        let text = text.strip_prefix("v=").unwrap_or(text);
        let received = BASE64.decode(text).unwrap_or_default();
        if !bool::from(received.as_slice().ct_eq(expected.as_slice())) {
            return not_proven(
                "the router's SCRAM server signature is wrong: it does not know this user's keys \
                 (is it the router it claims to be?)",
            );
        }
        self.verified = true;
        Ok(())
    }

    fn router_proof(&self) -> RouterProof {
        RouterProof::Possible
    }

    fn router_proven(&self) -> bool {
        self.verified
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::value::Dict;

    fn challenge(method: &str, fields: &[(&str, Value)]) -> Challenge {
        let extra: Dict = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        Challenge::new(method, extra)
    }

    fn welcome(method: &str, authextra: &[(&str, &str)]) -> SessionDetails {
        let extra: Dict = authextra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        let mut details = Dict::new();
        details.insert("authmethod".into(), Value::from(method));
        details.insert("authextra".into(), Value::Dict(extra));
        SessionDetails::from_welcome(1, "realm1", details)
    }

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

    /// The RFC 7677 SCRAM-SHA-256 example, which the WAMP specification's example reuses:
    /// PBKDF2, 4096 iterations, `c=biws`, verifier with a `v=` prefix.
    #[tokio::test]
    async fn spec_dialect_matches_rfc_7677() {
        // RFC 7677's 4,096 iterations are below the default floor.
        let limits = KdfLimits {
            pbkdf2_min_iterations: 4_096,
            ..KdfLimits::default()
        };
        let scram = Scram::new("user", "pencil").wamp_scram().kdf_limits(limits);
        assert_eq!(scram.method(), "wamp-scram");
        let mut session = scram.session("rOprNGfwEbeRWgbNEkqO".to_owned());
        let server_nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let response = session
            .respond(&challenge(
                "wamp-scram",
                &[
                    ("nonce", Value::from(server_nonce)),
                    ("salt", Value::from("W22ZaJ0SNY7soEsUEjb6gQ==")),
                    ("kdf", Value::from("pbkdf2")),
                    ("iterations", Value::UInt(4096)),
                    ("memory", Value::Null),
                ],
            ))
            .await
            .unwrap();
        assert_eq!(
            response.signature(),
            "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            response.extra().get("nonce").and_then(Value::as_str),
            Some(server_nonce)
        );
        let good = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
        session
            .welcome(&welcome("wamp-scram", &[("verifier", good)]))
            .unwrap();
        let err = session
            .welcome(&welcome("wamp-scram", &[("verifier", "v=AAAA")]))
            .unwrap_err();
        assert!(err.message().contains("server signature is wrong"), "{err}");
    }

    /// Crossbar.io's dialect, with fixed nonces; the expected proof and server signature were
    /// computed independently in Python (argon2-cffi, hmac, hashlib) following Crossbar.io's
    /// server-side code.
    #[tokio::test]
    async fn crossbar_dialect_matches_a_known_answer() {
        let scram = Scram::new("scram-user", "scram-secret-123");
        assert_eq!(scram.method(), "scram");
        let client_nonce = BASE64.encode([0u8; 18]);
        assert_eq!(client_nonce, "AAAAAAAAAAAAAAAAAAAAAAAA");
        let mut session = scram.session(client_nonce);
        let response = session
            .respond(&challenge(
                "scram",
                &[
                    (
                        "nonce",
                        Value::from("AAAAAAAAAAAAAAAAAAAAAAAAAQEBAQEBAQEBAQEBAQEBAQ=="),
                    ),
                    ("salt", Value::from("X/j5+tT2xcqGNB2s9Mo+rg==")),
                    ("kdf", Value::from("argon2id-13")),
                    ("iterations", Value::UInt(16)),
                    ("memory", Value::UInt(512)),
                ],
            ))
            .await
            .unwrap();
        assert_eq!(
            response.signature(),
            "2zl9NCBwbt4BiRRwE91NzmC2Gb2KLdRqLwgdRATpvgw="
        );
        session
            .welcome(&welcome(
                "scram",
                &[(
                    "scram_server_signature",
                    "gUg+Y4+8CIHa2Lfw9VtHNSnjOeSKoEvdSVPCpxeX8dc=",
                )],
            ))
            .unwrap();
        let err = session.welcome(&welcome("scram", &[])).unwrap_err();
        assert!(
            err.message().contains("lacks the SCRAM server signature"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn refuses_rogue_challenges() {
        let scram = Scram::new("scram-user", "scram-secret-123");
        let base = |nonce: &str, kdf: &str, iterations: u64, memory: u64| {
            challenge(
                "scram",
                &[
                    ("nonce", Value::from(nonce)),
                    ("salt", Value::from("X/j5+tT2xcqGNB2s9Mo+rg==")),
                    ("kdf", Value::from(kdf)),
                    ("iterations", Value::UInt(iterations)),
                    ("memory", Value::UInt(memory)),
                ],
            )
        };
        let mut session = scram.session("AAAA".to_owned());
        let cases = [
            (base("BBBBCCCC", "argon2id-13", 16, 512), "does not extend"),
            (base("AAAA", "argon2id-13", 16, 512), "does not extend"),
            (base("AAAACCCC", "argon2id-13", 1, 512), "weak Argon2 cost"),
            (base("AAAACCCC", "argon2id-13", 1000, 8), "weak Argon2 cost"),
            (base("AAAACCCC", "argon2id13", 100_000, 1 << 20), "at most"),
            (base("AAAACCCC", "pbkdf2", 1000, 0), "only 1000 PBKDF2"),
            (base("AAAACCCC", "pbkdf2", 1 << 30, 0), "at most"),
            (
                base("AAAACCCC", "scrypt", 16, 512),
                "unknown key derivation",
            ),
        ];
        for (challenge, expected) in cases {
            let err = session.respond(&challenge).await.unwrap_err();
            assert!(err.message().contains(expected), "{expected}: {err}");
            assert!(!err.message().contains("scram-secret-123"));
        }
        // Accepted without a challenge: refused; another method accepted: fine.
        let mut fresh = scram.start().unwrap();
        assert!(fresh.welcome(&welcome("scram", &[])).is_err());
        assert!(fresh.welcome(&welcome("ticket", &[])).is_ok());
        assert!(!format!("{scram:?}").contains("scram-secret-123"));
    }

    #[test]
    fn client_nonces_are_fresh_base64_without_padding() {
        let scram = Scram::new("a", "b");
        let one = scram.start().unwrap().authextra();
        let two = scram.start().unwrap().authextra();
        let nonce = one.get("nonce").and_then(Value::as_str).unwrap();
        assert_eq!(nonce.len(), 24);
        assert!(!nonce.ends_with('='));
        assert_ne!(one.get("nonce"), two.get("nonce"));
    }
}

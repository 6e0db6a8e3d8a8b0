//! WAMP-CRA: HMAC-SHA256 of the router's challenge string, keyed with the secret (or with a key
//! derived from it by PBKDF2 when the router sends a salt).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{
    AuthError, AuthErrorKind, AuthFuture, AuthResponse, AuthSession, Authenticator, Challenge,
    Secret, blocking,
};

/// PBKDF2 iterations when a salted challenge does not say (Autobahn|Python's default).
const DEFAULT_ITERATIONS: u32 = 1000;
/// Derived key length when a salted challenge does not say (Autobahn|Python's default).
const DEFAULT_KEYLEN: u32 = 32;
/// The most PBKDF2 iterations this client runs for a salted challenge (about a second of CPU),
/// so a rogue router cannot keep it busy.
const MAX_ITERATIONS: u32 = 1_000_000;
/// The longest derived key this client computes for a salted challenge.
const MAX_KEYLEN: u32 = 256;

/// The `wampcra` method (WAMP Challenge-Response Authentication).
///
/// HELLO carries the `authid`; the router's CHALLENGE carries `challenge`, a JSON text; the
/// client answers with `base64(HMAC-SHA256(key, challenge))`, computed over the challenge text
/// exactly as received. The key is the secret itself, or, when the CHALLENGE has a `salt`
/// (Crossbar.io's salted secrets), the ASCII text of
/// `base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen))` with the salt, iterations
/// (default 1000, at most 1,000,000) and key length (default 32) taken from the CHALLENGE.
///
/// The secret never travels, but whoever sees a challenge and its answer can test guesses of it
/// offline: prefer TLS, or `Scram` or `CryptoSign`.
/// [`connect`](crate::SessionBuilder::connect) logs a warning when it is offered without TLS to
/// a host other than the local machine.
///
/// ```no_run
/// # async fn demo() -> wampkit::Result<()> {
/// use wampkit::auth::WampCra;
///
/// let session = wampkit::Session::builder("ws://127.0.0.1:8080/wampcra", "realm1")
///     .authenticator(WampCra::new("cra-user", "cra-secret-123"))
///     .connect()
///     .await?;
/// assert_eq!(session.details().authmethod.as_deref(), Some("wampcra"));
/// # Ok(()) }
/// ```
///
/// Available with the `auth-wampcra` feature.
#[derive(Clone)]
pub struct WampCra {
    authid: String,
    secret: Secret,
}

impl WampCra {
    /// The secret of `authid` (plain or salted: the router's CHALLENGE tells).
    pub fn new(authid: impl Into<String>, secret: impl Into<String>) -> Self {
        WampCra {
            authid: authid.into(),
            secret: Secret::new(secret),
        }
    }
}

impl fmt::Debug for WampCra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WampCra")
            .field("authid", &self.authid)
            .field("secret", &self.secret)
            .finish()
    }
}

impl Authenticator for WampCra {
    fn method(&self) -> &str {
        "wampcra"
    }

    fn start(&self) -> Result<Box<dyn AuthSession>, AuthError> {
        Ok(Box::new(self.clone()))
    }
}

impl AuthSession for WampCra {
    fn authid(&self) -> Option<String> {
        Some(self.authid.clone())
    }

    fn respond<'a>(
        &'a mut self,
        challenge: &'a Challenge,
    ) -> AuthFuture<'a, Result<AuthResponse, AuthError>> {
        Box::pin(async move {
            let text = challenge.required_str("challenge")?.to_owned();
            let key: Zeroizing<Vec<u8>> = match challenge.str("salt") {
                None => Zeroizing::new(self.secret.expose().as_bytes().to_vec()),
                Some(salt) => {
                    let iterations = challenge.u32_or("iterations", Some(DEFAULT_ITERATIONS))?;
                    let keylen = challenge.u32_or("keylen", Some(DEFAULT_KEYLEN))?;
                    if iterations == 0 || iterations > MAX_ITERATIONS {
                        let kind = if iterations == 0 {
                            AuthErrorKind::Other
                        } else {
                            AuthErrorKind::KdfCostTooHigh
                        };
                        return Err(AuthError::with_kind(
                            kind,
                            format!(
                                "the router asks for {iterations} PBKDF2 iterations to derive \
                                 the WAMP-CRA key; this client accepts 1 to {MAX_ITERATIONS}"
                            ),
                        ));
                    }
                    if keylen == 0 || keylen > MAX_KEYLEN {
                        return Err(AuthError::new(format!(
                            "the router asks for a {keylen}-byte WAMP-CRA key; this client \
                             accepts 1 to {MAX_KEYLEN}"
                        )));
                    }
                    let secret = self.secret.clone();
                    let salt = salt.to_owned();
                    let cost = format!("PBKDF2, {iterations} iterations");
                    blocking("deriving the WAMP-CRA key", cost, move || {
                        Ok(derive_key(secret.expose(), &salt, iterations, keylen))
                    })
                    .await?
                }
            };
            Ok(AuthResponse::new(sign(&key, &text)?))
        })
    }
}

/// The salted WAMP-CRA key: the ASCII bytes of
/// `base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen))`, with the secret and the salt
/// taken as UTF-8 bytes (the salt is not decoded).
pub(crate) fn derive_key(
    secret: &str,
    salt: &str,
    iterations: u32,
    keylen: u32,
) -> Zeroizing<Vec<u8>> {
    let mut derived = Zeroizing::new(vec![0u8; keylen as usize]);
    pbkdf2::pbkdf2_hmac::<Sha256>(secret.as_bytes(), salt.as_bytes(), iterations, &mut derived);
    Zeroizing::new(BASE64.encode(derived.as_slice()).into_bytes())
}

/// `base64(HMAC-SHA256(key, challenge))`.
pub(crate) fn sign(key: &[u8], challenge: &str) -> Result<String, AuthError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| AuthError::new("the WAMP-CRA key cannot be used for HMAC-SHA256"))?;
    mac.update(challenge.as_bytes());
    Ok(BASE64.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Dict, Value};

    /// A challenge string as Crossbar.io sends it (JSON text, signed as is).
    const CHALLENGE: &str = r#"{"authid": "cra-user", "authrole": "user", "authmethod": "wampcra", "authprovider": "static", "session": 3251278072152162, "nonce": "pPtcMfAOuSnAfiT0Ye2ymqjaSqCyNGAm", "timestamp": "2024-01-01T12:00:00.000Z"}"#;

    // The expected values below were computed independently with CPython's standard library:
    //   base64.b64encode(hmac.new(key, CHALLENGE.encode(), hashlib.sha256).digest())
    //   base64.b64encode(hashlib.pbkdf2_hmac('sha256', secret, salt, iterations, keylen))

    #[test]
    fn plain_signature_matches_a_known_answer() {
        assert_eq!(
            sign(b"cra-secret-123", CHALLENGE).unwrap(),
            "XXwvw0BEv5BPkgGckntP5NVkTLsRPsteVmIVgR1WY5A="
        );
    }

    #[test]
    fn salted_key_and_signature_match_known_answers() {
        let key = derive_key("cra-salted-secret", "salt123", 100, 32);
        assert_eq!(
            key.as_slice(),
            b"mneDFB0aPCSG7wsFfIil4MafBe4e4efUjzJV24w/ncs="
        );
        assert_eq!(
            sign(&key, CHALLENGE).unwrap(),
            "aCBqwznGw91hS5iH7pPZChWuKug4Bmuvjd6G3yHT7fo="
        );
        // Autobahn|Python's defaults (1000 iterations, 32 bytes).
        assert_eq!(
            derive_key("secret", "salt", 1000, 32).as_slice(),
            b"qN+JnzxPIE2WfgrWPAkph8EAVeuwF7PZ0ordIY1Peq0="
        );
    }

    fn challenge(salted: bool) -> Challenge {
        let mut extra = Dict::new();
        extra.insert("challenge".into(), Value::from(CHALLENGE));
        if salted {
            extra.insert("salt".into(), Value::from("salt123"));
            extra.insert("iterations".into(), Value::UInt(100));
            extra.insert("keylen".into(), Value::UInt(32));
        }
        Challenge::new("wampcra", extra)
    }

    #[tokio::test]
    async fn answers_plain_and_salted_challenges() {
        let mut plain = WampCra::new("cra-user", "cra-secret-123").start().unwrap();
        assert_eq!(plain.authid().as_deref(), Some("cra-user"));
        let response = plain.respond(&challenge(false)).await.unwrap();
        assert_eq!(
            response.signature(),
            "XXwvw0BEv5BPkgGckntP5NVkTLsRPsteVmIVgR1WY5A="
        );

        let mut salted = WampCra::new("cra-salted-user", "cra-salted-secret")
            .start()
            .unwrap();
        let response = salted.respond(&challenge(true)).await.unwrap();
        assert_eq!(
            response.signature(),
            "aCBqwznGw91hS5iH7pPZChWuKug4Bmuvjd6G3yHT7fo="
        );
    }

    #[tokio::test]
    async fn refuses_bad_challenges_without_leaking_the_secret() {
        let authenticator = WampCra::new("cra-user", "cra-secret-123");
        assert!(!format!("{authenticator:?}").contains("cra-secret-123"));
        let mut session = authenticator.start().unwrap();
        let err = session
            .respond(&Challenge::new("wampcra", Dict::new()))
            .await
            .unwrap_err();
        assert!(err.message().contains("`challenge`"), "{err}");

        let mut extra = challenge(true).extra;
        extra.insert("iterations".into(), Value::UInt(u64::from(u32::MAX)));
        let err = session
            .respond(&Challenge::new("wampcra", extra))
            .await
            .unwrap_err();
        assert!(err.message().contains("iterations"), "{err}");
        assert!(!err.message().contains("cra-secret-123"));
    }
}

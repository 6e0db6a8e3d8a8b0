//! One SCRAM exchange: the CHALLENGE read and answered with the client proof, then the
//! server signature in WELCOME checked.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, STANDARD_NO_PAD as BASE64_NO_PAD};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::kdf::{Kdf, check_cost, hmac_sha256, keys, salted_password};
use super::{CROSSBAR_METHOD, SPEC_METHOD, Scram};
use crate::auth::{
    AuthError, AuthErrorKind, AuthFuture, AuthResponse, AuthSession, Challenge, RouterProof,
    blocking,
};
use crate::session_details::SessionDetails;
use crate::value::{Dict, Value};

/// The shortest salt accepted (64 bits, RFC 2898's recommendation and Argon2's minimum).
const MIN_SALT_BYTES: usize = 8;

/// One SCRAM authentication: the client nonce, then the expected server signature.
pub(super) struct ScramSession {
    pub(super) authenticator: Scram,
    pub(super) client_nonce: String,
    /// ServerSignature = HMAC(ServerKey, AuthMessage), known once the challenge is answered.
    pub(super) server_signature: Option<Zeroizing<[u8; 32]>>,
    /// Whether the WELCOME carried the right server signature.
    pub(super) verified: bool,
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

        let auth_message = auth_message(
            spec,
            &self.authenticator.authid,
            &self.client_nonce,
            &server_nonce,
            &salt_text,
            iterations,
        )?;

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

/// AuthMessage = client-first-message-bare `,` server-first-message `,`
/// client-final-message-without-proof, in the specification's dialect (`spec`) or Crossbar.io's.
pub(crate) fn auth_message(
    spec: bool,
    authid: &str,
    client_nonce: &str,
    server_nonce: &str,
    salt_text: &str,
    iterations: u32,
) -> Result<String, AuthError> {
    let authid = stringprep::saslprep(authid)
        .map_err(|e| AuthError::new(format!("the SCRAM authid is not valid SASLprep: {e}")))?;
    let authid = if spec {
        // `=` first, so that the `=` of `=2C` is not escaped again.
        authid.replace('=', "=3D").replace(',', "=2C")
    } else {
        authid.into_owned()
    };
    let channel_binding = if spec { "biws" } else { "" };
    Ok(format!(
        "n={authid},r={client_nonce},r={server_nonce},s={salt_text},i={iterations},\
         c={channel_binding},r={server_nonce}"
    ))
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
    use super::*;
    use crate::auth::Authenticator as _;
    use crate::auth::scram::KdfLimits;

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
}

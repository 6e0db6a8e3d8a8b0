//! WAMP-SCRAM: SCRAM-SHA-256 (RFC 5802/7677) with Argon2id or PBKDF2, in the specification's
//! dialect (`wamp-scram`) and in Crossbar.io's and Autobahn|Python's (`scram`).

pub(super) mod exchange;
pub(super) mod kdf;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use self::exchange::ScramSession;
pub use self::kdf::{KdfLimits, ScramKdf};
use super::{AuthError, AuthSession, Authenticator, Secret, random_bytes};

/// Crossbar.io's and Autobahn|Python's name of the method.
const CROSSBAR_METHOD: &str = "scram";
/// The specification's name of the method.
pub(crate) const SPEC_METHOD: &str = "wamp-scram";
/// Random bytes in the client nonce: at least the 16 the specification recommends, and a
/// multiple of 3 so that its base64 text has no padding. Crossbar.io builds its nonce as
/// `base64(client nonce bytes ‖ 16 random bytes)`, whose text starts with the client's nonce
/// text only then.
const CLIENT_NONCE_BYTES: usize = 18;

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
/// # async fn demo() -> wampkit::Result<()> {
/// use wampkit::auth::Scram;
///
/// let session = wampkit::Session::builder("ws://127.0.0.1:8080/scram", "realm1")
///     .authenticator(Scram::new("scram-user", "scram-secret-123"))
///     .connect()
///     .await?;
/// assert_eq!(session.details().authmethod.as_deref(), Some("scram"));
/// # Ok(()) }
/// ```
///
/// Available with the `auth-scram` feature.
#[derive(Clone)]
pub struct Scram {
    authid: String,
    password: Secret,
    method: &'static str,
    limits: KdfLimits,
    only_kdf: Option<ScramKdf>,
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
    /// challenge naming the other fails the join with [`AuthErrorKind::KdfNotAllowed`](crate::auth::AuthErrorKind::KdfNotAllowed).
    ///
    /// ```
    /// use wampkit::auth::{Scram, ScramKdf};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

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

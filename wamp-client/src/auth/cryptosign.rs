//! WAMP-Cryptosign: Ed25519 signatures over the router's 32-byte challenge, optionally with
//! the router signing a challenge of the client's.

use std::fmt;
use std::sync::Arc;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use super::{
    AuthError, AuthErrorKind, AuthFuture, AuthResponse, AuthSession, Authenticator, Challenge,
    RouterProof, random_bytes,
};
use crate::value::{Dict, Value};

/// The `cryptosign` method: Ed25519 public-key authentication.
///
/// HELLO carries `authextra.pubkey` (the client's public key, hex) and optionally an `authid`
/// (Crossbar.io derives it from the key when absent). The router's CHALLENGE carries 32 random
/// bytes as hex; the client answers with `hex(signature ‖ challenge)`: the 64-byte Ed25519
/// signature followed by the 32 bytes it signed.
///
/// **Router authentication** ([`verify_router`](CryptoSign::verify_router),
/// [`request_router_signature`](CryptoSign::request_router_signature)): the client also sends 32
/// random bytes in `authextra.challenge`; the router must return its public key and its signature
/// over them in the CHALLENGE, or the client aborts. A router that answers HELLO with WELCOME
/// without such a CHALLENGE (or that welcomes the client under another offered method) is refused
/// too, with [`AuthErrorKind::RouterNotAuthenticated`].
///
/// Not supported: TLS channel binding (the TLS transport does not expose a `tls-unique` channel
/// id, the only binding Crossbar.io implements), and trustroots/certificates (EIP-712).
///
/// ```no_run
/// # async fn demo() -> wampkit::Result<()> {
/// use wampkit::auth::CryptoSign;
///
/// let key = std::env::var("WAMP_PRIVATE_KEY").unwrap_or_default();
/// let session = wampkit::Session::builder("wss://example.com/ws", "realm1")
///     .authenticator(CryptoSign::from_hex(&key)?.authid("cs-user"))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
///
/// Available with the `auth-cryptosign` feature.
#[derive(Clone)]
pub struct CryptoSign {
    key: Arc<SigningKey>,
    authid: Option<String>,
    router: RouterAuth,
}

/// Whether and how the router must authenticate itself.
#[derive(Debug, Clone, PartialEq)]
enum RouterAuth {
    /// No router authentication.
    Off,
    /// The router must sign the client's challenge with the key it presents.
    AnyKey,
    /// The router must sign the client's challenge with one of these keys.
    Keys(Vec<VerifyingKey>),
}

impl CryptoSign {
    /// A private key (the 32-byte Ed25519 seed) given as 64 hex digits, as Crossbar.io and
    /// Autobahn|Python store it.
    pub fn from_hex(private_key: &str) -> Result<Self, AuthError> {
        let bytes = decode_hex32(private_key.trim()).map_err(|what| {
            AuthError::new(format!(
                "the cryptosign private key must be 64 hex digits (32 bytes); it is {what}"
            ))
        })?;
        Ok(Self::from_bytes(&bytes))
    }

    /// A private key (the 32-byte Ed25519 seed).
    pub fn from_bytes(private_key: &[u8; 32]) -> Self {
        CryptoSign {
            key: Arc::new(SigningKey::from_bytes(private_key)),
            authid: None,
            router: RouterAuth::Off,
        }
    }

    /// Sends this `authid` in HELLO (optional: the router may derive it from the public key).
    pub fn authid(mut self, authid: impl Into<String>) -> Self {
        self.authid = Some(authid.into());
        self
    }

    /// The public key as 64 hex digits, as the router's configuration lists it.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }

    /// Requires the router to authenticate with this Ed25519 public key (64 hex digits). Can be
    /// called several times to accept any of several keys.
    pub fn verify_router(mut self, router_public_key: &str) -> Result<Self, AuthError> {
        let key = public_key_from_hex(router_public_key.trim()).ok_or_else(|| {
            AuthError::new(
                "the router's public key must be 64 hex digits encoding an Ed25519 point",
            )
        })?;
        match &mut self.router {
            RouterAuth::Keys(keys) => keys.push(key),
            other => *other = RouterAuth::Keys(vec![key]),
        }
        Ok(self)
    }

    /// Requires the router to sign a challenge of this client's, with whatever key it presents.
    /// This proves only that the router holds the key it presents; pin the key with
    /// [`verify_router`](CryptoSign::verify_router) to authenticate the router.
    pub fn request_router_signature(mut self) -> Self {
        if self.router == RouterAuth::Off {
            self.router = RouterAuth::AnyKey;
        }
        self
    }

    /// `hex(signature ‖ message)` where the message is the challenge, XOR'ed bytewise with the
    /// channel id when channel binding is active.
    pub(crate) fn sign_challenge(
        &self,
        challenge: &[u8; 32],
        channel_id: Option<&[u8; 32]>,
    ) -> String {
        let mut message = *challenge;
        if let Some(channel_id) = channel_id {
            for (byte, bound) in message.iter_mut().zip(channel_id) {
                *byte ^= bound;
            }
        }
        let signature = self.key.sign(&message);
        let mut out = hex::encode(signature.to_bytes());
        out.push_str(&hex::encode(message));
        out
    }
}

impl fmt::Debug for CryptoSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoSign")
            .field("authid", &self.authid)
            .field("public_key", &self.public_key_hex())
            .field("private_key", &format_args!("<redacted>"))
            .field("router_authentication", &self.router)
            .finish()
    }
}

impl Authenticator for CryptoSign {
    fn method(&self) -> &str {
        "cryptosign"
    }

    fn start(&self) -> Result<Box<dyn AuthSession>, AuthError> {
        let client_challenge = match self.router {
            RouterAuth::Off => None,
            _ => Some(random_bytes::<32>()?),
        };
        Ok(Box::new(CryptoSignSession {
            authenticator: self.clone(),
            client_challenge,
            router_verified: false,
        }))
    }
}

/// One cryptosign authentication: the client's challenge to the router, if any.
struct CryptoSignSession {
    authenticator: CryptoSign,
    client_challenge: Option<[u8; 32]>,
    /// Whether the router's signature over `client_challenge` verified.
    router_verified: bool,
}

impl CryptoSignSession {
    fn answer(&self, challenge: &Challenge) -> Result<AuthResponse, AuthError> {
        // This client never requests channel binding, so the router must not claim one.
        match challenge.extra.get("channel_binding") {
            None | Some(Value::Null) => {}
            Some(other) => {
                return Err(AuthError::new(format!(
                    "the router's cryptosign challenge uses channel binding {other:?}, which \
                     this client did not request"
                )));
            }
        }
        if let Some(client_challenge) = &self.client_challenge {
            self.check_router(challenge, client_challenge)?;
        }
        let bytes = decode_hex32(challenge.required_str("challenge")?).map_err(|what| {
            AuthError::new(format!(
                "the router's cryptosign `challenge` must be 64 hex digits; it is {what}"
            ))
        })?;
        Ok(AuthResponse::new(
            self.authenticator.sign_challenge(&bytes, None),
        ))
    }

    /// Verifies the router's signature over this client's challenge.
    fn check_router(
        &self,
        challenge: &Challenge,
        client_challenge: &[u8; 32],
    ) -> Result<(), AuthError> {
        let fail = |why: &str| {
            Err(AuthError::with_kind(
                AuthErrorKind::RouterNotAuthenticated,
                format!(
                    "the router failed cryptosign router authentication: {why} (check that the \
                     URL names the router you expect and the router key you gave)"
                ),
            ))
        };
        let Some(pubkey) = challenge.str("pubkey") else {
            return fail("its challenge has no `pubkey`");
        };
        let Some(router_key) = public_key_from_hex(pubkey) else {
            return fail("its `pubkey` is not an Ed25519 public key in hex");
        };
        if let RouterAuth::Keys(expected) = &self.authenticator.router {
            if !expected.contains(&router_key) {
                return fail(&format!(
                    "it presented the public key {pubkey}, which is not the expected one"
                ));
            }
        }
        let Some(signed) = challenge.str("signature") else {
            return fail("its challenge has no `signature`");
        };
        match verify_signed(&router_key, signed, client_challenge) {
            Ok(()) => Ok(()),
            Err(why) => fail(why),
        }
    }
}

/// Checks `hex(signature ‖ message)`: the message is `expected` and the Ed25519 signature over
/// it verifies with `key`. The error says what is wrong, as the rest of a sentence about the
/// signer.
pub(crate) fn verify_signed(
    key: &VerifyingKey,
    signed_hex: &str,
    expected: &[u8; 32],
) -> Result<(), &'static str> {
    let signed = hex::decode(signed_hex).map_err(|_| "its `signature` is not hex")?;
    let (Some(signature), Some(message)) = (signed.get(..64), signed.get(64..)) else {
        return Err("its `signature` is shorter than 96 bytes");
    };
    if message != expected.as_slice() {
        return Err("it signed something other than this client's challenge");
    }
    let signature = Signature::from_slice(signature).map_err(|_| "its `signature` is malformed")?;
    key.verify_strict(message, &signature)
        .map_err(|_| "its signature does not verify")
}

/// An Ed25519 public key given as 64 hex digits.
pub(crate) fn public_key_from_hex(text: &str) -> Option<VerifyingKey> {
    decode_hex32(text)
        .ok()
        .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
}

impl AuthSession for CryptoSignSession {
    fn authid(&self) -> Option<String> {
        self.authenticator.authid.clone()
    }

    fn authextra(&self) -> Dict {
        let mut extra = Dict::new();
        extra.insert(
            "pubkey".into(),
            Value::from(self.authenticator.public_key_hex()),
        );
        if let Some(challenge) = &self.client_challenge {
            extra.insert("challenge".into(), Value::from(hex::encode(challenge)));
        }
        extra
    }

    fn respond<'a>(
        &'a mut self,
        challenge: &'a Challenge,
    ) -> AuthFuture<'a, Result<AuthResponse, AuthError>> {
        let result = self.answer(challenge);
        if result.is_ok() && self.client_challenge.is_some() {
            self.router_verified = true;
        }
        Box::pin(async move { result })
    }

    fn router_proof(&self) -> RouterProof {
        match self.authenticator.router {
            RouterAuth::Off => RouterProof::None,
            RouterAuth::AnyKey | RouterAuth::Keys(_) => RouterProof::Required,
        }
    }

    fn router_proven(&self) -> bool {
        self.router_verified
    }
}

/// Decodes exactly 32 bytes of hex; the error says what the text is instead.
fn decode_hex32(text: &str) -> Result<[u8; 32], &'static str> {
    let bytes = Zeroizing::new(hex::decode(text).map_err(|_| "not hex")?);
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "not 32 bytes long")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes32(text: &str) -> [u8; 32] {
        decode_hex32(text).unwrap()
    }

    /// The six test vectors of the WAMP specification (authentication_cryptosign.md):
    /// (channel_id, private_key, challenge, signature).
    const VECTORS: [(Option<&str>, &str, &str, &str); 6] = [
        (
            None,
            "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ),
        (
            None,
            "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
            "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
            "d4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372190374886a70207b042294af5bd64ce725cd8dceb344e6d11c09d1aaaf4d660fb26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
        ),
        (
            None,
            "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
            "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
            "7beb282184baadd08f166f16dd683b39cab53816ed81e6955def951cb2ddad1ec184e206746fd82bda075af03711d3d5658fc84a76196b0fa8d1ebc92ef9f30bb05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
        ),
        (
            Some("62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff"),
            "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "9b6f41540c9b95b4b7b281c3042fa9c54cef43c842d62ea3fd6030fcb66e70b3e80d49d44c29d1635da9348d02ec93f3ed1ef227dfb59a07b580095c2b82f80f9d16ca518aa0c2b707f2b2a609edeca73bca8dd59817a633f35574ac6fd80d00",
        ),
        (
            Some("62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff"),
            "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
            "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
            "305aaa3ac25e98f651427688b3fc43fe7d8a68a7ec1d7d61c61517c519bd4a427c3015599d83ca28b4c652333920223844ef0725eb5dc2febfd6af7677b73f01d0852a29b460fc92ec943242ac638a053bbacc200512b18b30d15083cbdc9282",
        ),
        (
            Some("62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff"),
            "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
            "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
            "ee3c7644fd8070532bc1fde3d70d742267da545d8c8f03e63bda63f1ad4214f4d2c4bfdb4eb9526def42deeb7e31602a6ff99eba893e0a4ad4d45892ca75e608d2b75e24a189a7f78ca776ba36fc53f6c3e31c32f251f2c524f0a44202f2902d",
        ),
    ];

    #[test]
    fn spec_test_vectors() {
        for (i, (channel_id, private_key, challenge, expected)) in VECTORS.iter().enumerate() {
            let authenticator = CryptoSign::from_hex(private_key).unwrap();
            let channel_id = channel_id.map(bytes32);
            let signature = authenticator.sign_challenge(&bytes32(challenge), channel_id.as_ref());
            assert_eq!(&signature, expected, "test vector {}", i + 1);
        }
    }

    fn challenge_extra(challenge: &str) -> Dict {
        let mut extra = Dict::new();
        extra.insert("challenge".into(), Value::from(challenge));
        extra.insert("channel_binding".into(), Value::Null);
        extra
    }

    #[tokio::test]
    async fn answers_a_challenge_and_announces_the_public_key() {
        let (_, private_key, challenge, expected) = VECTORS[1];
        let authenticator = CryptoSign::from_hex(private_key).unwrap().authid("someone");
        let debug = format!("{authenticator:?}");
        assert!(!debug.contains(private_key), "{debug}");
        let mut session = authenticator.start().unwrap();
        assert_eq!(session.authid().as_deref(), Some("someone"));
        let extra = session.authextra();
        assert_eq!(
            extra.get("pubkey").and_then(Value::as_str),
            Some(authenticator.public_key_hex().as_str())
        );
        assert!(!extra.contains_key("challenge"));
        let response = session
            .respond(&Challenge::new("cryptosign", challenge_extra(challenge)))
            .await
            .unwrap();
        assert_eq!(response.signature(), expected);
    }

    #[test]
    fn crossbar_test_key_pair_matches() {
        let authenticator = CryptoSign::from_hex(
            "d2ddb103d432490f61893bd87fe72c0f3f6fc36f2412ccf99519bb873af7e61c",
        )
        .unwrap();
        assert_eq!(
            authenticator.public_key_hex(),
            "53d9e731fcf81e7b480a0c4f281fea226a6c58b8118d4c08975a90273c77ef3b"
        );
    }

    #[test]
    fn malformed_keys_are_refused_without_echoing_them() {
        let err = CryptoSign::from_hex("zz-not-a-key").unwrap_err();
        assert!(err.message().contains("not hex"), "{err}");
        assert!(!err.message().contains("zz-not-a-key"));
        let err = CryptoSign::from_hex("abcd").unwrap_err();
        assert!(err.message().contains("not 32 bytes"), "{err}");
        assert!(
            CryptoSign::from_bytes(&[7; 32])
                .verify_router("1234")
                .is_err()
        );
    }

    /// A router key pair and its answer to the client's challenge.
    fn router_answer(session: &dyn AuthSession, router: &SigningKey, tamper: bool) -> Challenge {
        let extra = session.authextra();
        let client_challenge = bytes32(extra.get("challenge").and_then(Value::as_str).unwrap());
        let mut message = client_challenge;
        if tamper {
            message[0] ^= 1;
        }
        let signature = router.sign(&message);
        let mut extra = challenge_extra(VECTORS[0].2);
        extra.insert(
            "pubkey".into(),
            Value::from(hex::encode(router.verifying_key().as_bytes())),
        );
        extra.insert(
            "signature".into(),
            Value::from(format!(
                "{}{}",
                hex::encode(signature.to_bytes()),
                hex::encode(message)
            )),
        );
        Challenge::new("cryptosign", extra)
    }

    #[tokio::test]
    async fn router_authentication() {
        let router = SigningKey::from_bytes(&[9; 32]);
        let router_hex = hex::encode(router.verifying_key().as_bytes());
        let client = CryptoSign::from_bytes(&[1; 32]);

        // Pinned to the router's key: accepted.
        let pinned = client.clone().verify_router(&router_hex).unwrap();
        let mut session = pinned.start().unwrap();
        let challenge = router_answer(session.as_ref(), &router, false);
        assert!(session.respond(&challenge).await.is_ok());

        // A signature over something else: refused.
        let mut session = pinned.start().unwrap();
        let challenge = router_answer(session.as_ref(), &router, true);
        let err = session.respond(&challenge).await.unwrap_err();
        assert!(err.message().contains("something other"), "{err}");

        // Another router key: refused.
        let other = SigningKey::from_bytes(&[8; 32]);
        let mut session = pinned.start().unwrap();
        let challenge = router_answer(session.as_ref(), &other, false);
        let err = session.respond(&challenge).await.unwrap_err();
        assert!(err.message().contains("not the expected one"), "{err}");

        // Any key, but a signature is required.
        let any = client.request_router_signature();
        let mut session = any.start().unwrap();
        let challenge = router_answer(session.as_ref(), &other, false);
        assert!(session.respond(&challenge).await.is_ok());
        let mut session = any.start().unwrap();
        let err = session
            .respond(&Challenge::new("cryptosign", challenge_extra(VECTORS[0].2)))
            .await
            .unwrap_err();
        assert!(err.message().contains("no `pubkey`"), "{err}");
    }

    #[tokio::test]
    async fn unrequested_channel_binding_is_refused() {
        let mut session = CryptoSign::from_bytes(&[1; 32]).start().unwrap();
        let mut extra = challenge_extra(VECTORS[0].2);
        extra.insert("channel_binding".into(), Value::from("tls-unique"));
        let err = session
            .respond(&Challenge::new("cryptosign", extra))
            .await
            .unwrap_err();
        assert!(err.message().contains("channel binding"), "{err}");
    }
}

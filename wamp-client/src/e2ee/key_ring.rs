//! [`KeyRing`]: Autobahn's `cryptobox` codec. A NaCl box per URI prefix, the inner data the JSON
//! object `{"uri", "args", "kwargs"}`, a random 24-byte nonce in front of the ciphertext.
//!
//! The cryptography is RustCrypto's `crypto_box` (X25519 key agreement, XSalsa20-Poly1305
//! authenticated encryption), byte for byte what PyNaCl's `Box` produces; nothing here is
//! cryptography of its own.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use crypto_box::aead::Aead as _;
use crypto_box::{Nonce, PublicKey, SalsaBox, SecretKey};
use serde::de::DeserializeSeed as _;
use zeroize::Zeroizing;

use super::envelope::{WAMP_SCHEME, XSALSA20POLY1305};
use super::{
    DecodedPayload, EncodedPayload, PayloadCodec, PayloadCodecError, PayloadRole, WireForm,
};
use crate::value::{Dict, JsonCompatible, Value, ValueSeed};

/// The nonce's length, in front of the ciphertext.
const NONCE_LEN: usize = 24;
/// An X25519 key's length.
const KEY_LEN: usize = 32;

/// The keys for one URI prefix: a box for each side that has its keys.
///
/// The originator (a caller or publisher) holds its private key and the responder's public key;
/// the responder (a callee or subscriber) holds its private key and the originator's public
/// key. Keys are base64 strings of 32 bytes, as Autobahn's `KeyRing.generate_key` prints them.
///
/// ```
/// use wampkit::e2ee::{Key, generate_key};
///
/// let (caller_private, caller_public) = generate_key().unwrap();
/// let (callee_private, callee_public) = generate_key().unwrap();
/// // The caller's side, and the callee's side of the same exchange.
/// let caller = Key::originator(&caller_private, &callee_public).unwrap();
/// let callee = Key::responder(&callee_private, &caller_public).unwrap();
/// // One private key for both sides, as Autobahn's `KeyRing.set_key(uri, private_key)`.
/// let shared = Key::shared(&caller_private).unwrap();
/// # let _ = (caller, callee, shared);
/// ```
#[derive(Clone)]
pub struct Key {
    // Shared: one box serves both sides of a shared key, and a cloned ring copies no key.
    originator: Option<Arc<SalsaBox>>,
    responder: Option<Arc<SalsaBox>>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which sides it serves; never the keys.
        f.debug_struct("Key")
            .field("originator", &self.originator.is_some())
            .field("responder", &self.responder.is_some())
            .finish()
    }
}

impl Key {
    /// The originator's side: its private key and the responder's public key.
    pub fn originator(
        private_key: &str,
        responder_public: &str,
    ) -> Result<Self, PayloadCodecError> {
        Ok(Key {
            originator: Some(make_box(private_key, responder_public)?),
            responder: None,
        })
    }

    /// The responder's side: its private key and the originator's public key.
    pub fn responder(
        private_key: &str,
        originator_public: &str,
    ) -> Result<Self, PayloadCodecError> {
        Ok(Key {
            originator: None,
            responder: Some(make_box(private_key, originator_public)?),
        })
    }

    /// Both sides from one private key (both ends hold it), as Autobahn's
    /// `KeyRing.set_key(uri, private_key)`.
    pub fn shared(private_key: &str) -> Result<Self, PayloadCodecError> {
        let secret = secret_key(private_key)?;
        let public = secret.public_key();
        let both = Arc::new(SalsaBox::new(&public, &secret));
        Ok(Key {
            originator: Some(Arc::clone(&both)),
            responder: Some(both),
        })
    }

    /// Adds the responder's side to an originator's key (a session that both calls and
    /// answers under the same prefix).
    pub fn with_responder(
        mut self,
        private_key: &str,
        originator_public: &str,
    ) -> Result<Self, PayloadCodecError> {
        self.responder = Some(make_box(private_key, originator_public)?);
        Ok(self)
    }

    /// Adds the originator's side to a responder's key.
    pub fn with_originator(
        mut self,
        private_key: &str,
        responder_public: &str,
    ) -> Result<Self, PayloadCodecError> {
        self.originator = Some(make_box(private_key, responder_public)?);
        Ok(self)
    }

    fn side(&self, role: PayloadRole) -> Option<&SalsaBox> {
        match role {
            PayloadRole::Originator => self.originator.as_deref(),
            PayloadRole::Responder => self.responder.as_deref(),
        }
    }
}

/// A new X25519 key pair, as base64 strings `(private, public)` (Autobahn's
/// `KeyRing.generate_key`). The private key is wiped from memory when dropped.
pub fn generate_key() -> Result<(Zeroizing<String>, String), PayloadCodecError> {
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|e| PayloadCodecError::InvalidKey {
        reason: format!("no randomness for a new key: {e}"),
    })?;
    let secret = SecretKey::from_bytes(*bytes);
    let engine = base64::engine::general_purpose::STANDARD;
    let private = Zeroizing::new(engine.encode(secret.to_bytes()));
    Ok((private, engine.encode(secret.public_key().as_bytes())))
}

fn key_bytes(text: &str, what: &str) -> Result<Zeroizing<[u8; KEY_LEN]>, PayloadCodecError> {
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| PayloadCodecError::InvalidKey {
                reason: format!("the {what} is not base64"),
            })?,
    );
    let bytes: [u8; KEY_LEN] =
        decoded
            .as_slice()
            .try_into()
            .map_err(|_| PayloadCodecError::InvalidKey {
                reason: format!("the {what} is not {KEY_LEN} bytes"),
            })?;
    Ok(Zeroizing::new(bytes))
}

fn secret_key(text: &str) -> Result<SecretKey, PayloadCodecError> {
    Ok(SecretKey::from_bytes(*key_bytes(text, "private key")?))
}

fn make_box(private_key: &str, public_key: &str) -> Result<Arc<SalsaBox>, PayloadCodecError> {
    let public = PublicKey::from_bytes(*key_bytes(public_key, "public key")?);
    Ok(Arc::new(SalsaBox::new(&public, &secret_key(private_key)?)))
}

/// Keys by URI prefix: the payload codec of Autobahn's `cryptobox`, interoperable with
/// Autobahn|Python's `KeyRing`.
///
/// The key of the longest prefix of a URI is used (a plain string prefix, as Autobahn matches;
/// the prefix `""` is the default key). A URI without a key travels in the clear. Payloads go
/// in [`WireForm::Autobahn`] unless [`wire_form`](Self::wire_form) says otherwise.
///
/// ```no_run
/// # async fn demo() -> wampkit::Result<()> {
/// use wampkit::Session;
/// use wampkit::e2ee::{Key, KeyRing};
///
/// // Both ends hold this key (base64, 32 bytes), e.g. from `wampkit::e2ee::generate_key`.
/// let secret = "oVrS1/PLdUhoGUEvIh6A/XuCPo63OpMRdbmwOJQ9MYA=";
/// let keys = KeyRing::new().with_key("com.example.private.", Key::shared(secret)?);
/// let session = Session::builder("ws://127.0.0.1:8080/ws", "realm1")
///     .payload_codec(keys)
///     .connect()
///     .await?;
/// // Encrypted end to end: the router sees only ciphertext.
/// let sum: i64 = session.call("com.example.private.add", (2, 3)).await?.arg(0)?;
/// // No key for this prefix: in the clear.
/// session.publish("com.example.public.news", ("hello",)).await?;
/// # let _ = sum; Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct KeyRing {
    /// By prefix, longest first.
    keys: Vec<(String, Key)>,
    wire_form: WireForm,
    /// Plain payloads are refused for URIs with a key.
    strict: bool,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.keys)
            .field("wire_form", &self.wire_form)
            .field("strict", &self.strict)
            .finish()
    }
}

impl KeyRing {
    /// An empty key ring.
    pub fn new() -> Self {
        KeyRing::default()
    }

    /// Sets the key of a URI prefix (`""`: every URI without a longer prefix), replacing the
    /// prefix's key if it had one.
    pub fn with_key(mut self, prefix: impl Into<String>, key: Key) -> Self {
        let prefix = prefix.into();
        self.keys.retain(|(p, _)| *p != prefix);
        self.keys.push((prefix, key));
        self.keys
            .sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        self
    }

    /// How encoded payloads travel (default: [`WireForm::Autobahn`]).
    pub fn wire_form(mut self, form: WireForm) -> Self {
        self.wire_form = form;
        self
    }

    /// Refuses plain results, invocations and events for every URI this side has a key for
    /// ([`PayloadCodecError::Unencoded`]): a peer without the key cannot pass a plain payload
    /// off as one from the key's holder. By default they are accepted, as Autobahn does.
    pub fn require_encryption(mut self) -> Self {
        self.strict = true;
        self
    }

    /// The box for `uri` on this side: the longest prefix's key decides, and a key without
    /// this side encodes nothing (as Autobahn's `KeyRing`).
    fn find(&self, role: PayloadRole, uri: &str) -> Option<&SalsaBox> {
        self.keys
            .iter()
            .find(|(prefix, _)| uri.starts_with(prefix.as_str()))
            .and_then(|(_, key)| key.side(role))
    }
}

impl PayloadCodec for KeyRing {
    fn encodes(&self, role: PayloadRole, uri: &str) -> bool {
        self.find(role, uri).is_some()
    }

    fn encode(
        &self,
        role: PayloadRole,
        uri: &str,
        args: &[Value],
        kwargs: &Dict,
    ) -> Result<Option<EncodedPayload>, PayloadCodecError> {
        let Some(cipher) = self.find(role, uri) else {
            return Ok(None);
        };
        let encode_error = |reason: String| PayloadCodecError::Encode {
            uri: uri.to_owned(),
            reason,
        };
        let mut inner = Dict::new();
        inner.insert("uri".into(), Value::from(uri));
        inner.insert("args".into(), Value::List(args.to_vec()));
        inner.insert("kwargs".into(), Value::Dict(kwargs.clone()));
        let plain = Zeroizing::new(
            serde_json::to_vec(&JsonCompatible(&Value::Dict(inner)))
                .map_err(|e| encode_error(e.to_string()))?,
        );
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| encode_error(format!("no randomness: {e}")))?;
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), plain.as_slice())
            .map_err(|_| encode_error("encryption failed".into()))?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(Some(EncodedPayload {
            scheme: WAMP_SCHEME.into(),
            serializer: "json".into(),
            cipher: Some(XSALSA20POLY1305.into()),
            key_id: None,
            bytes,
        }))
    }

    fn decode(
        &self,
        role: PayloadRole,
        uri: &str,
        payload: &EncodedPayload,
    ) -> Result<DecodedPayload, PayloadCodecError> {
        if payload.scheme != WAMP_SCHEME || payload.cipher.as_deref() != Some(XSALSA20POLY1305) {
            let scheme = match &payload.cipher {
                Some(cipher) => format!("{}/{cipher}", payload.scheme),
                None => payload.scheme.clone(),
            };
            return Err(PayloadCodecError::UnknownScheme { scheme });
        }
        if payload.serializer != "json" {
            return Err(PayloadCodecError::UnknownSerializer {
                serializer: payload.serializer.clone(),
            });
        }
        let cipher = self
            .find(role, uri)
            .ok_or_else(|| PayloadCodecError::NoKey {
                uri: uri.to_owned(),
            })?;
        let decrypt_error = || PayloadCodecError::Decrypt {
            uri: uri.to_owned(),
        };
        let (nonce, sealed) = payload
            .bytes
            .split_at_checked(NONCE_LEN)
            .ok_or_else(decrypt_error)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| decrypt_error())?;
        let plain = Zeroizing::new(
            cipher
                .decrypt(&Nonce::from(nonce), sealed)
                .map_err(|_| decrypt_error())?,
        );
        read_inner(&plain)
    }

    fn requires_encoding(&self, role: PayloadRole, uri: &str) -> bool {
        self.strict && self.encodes(role, uri)
    }

    fn wire_form(&self) -> WireForm {
        self.wire_form
    }
}

/// Reads the decrypted JSON object `{"uri", "args", "kwargs"}` (`null` or missing arguments
/// are none).
fn read_inner(plain: &[u8]) -> Result<DecodedPayload, PayloadCodecError> {
    let malformed = |reason: String| PayloadCodecError::Malformed { reason };
    let mut de = serde_json::Deserializer::from_slice(plain);
    let value = ValueSeed { json_binary: true }
        .deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value))
        .map_err(|e| malformed(format!("the decrypted data is not JSON: {e}")))?;
    let Value::Dict(mut inner) = value else {
        return Err(malformed("the decrypted data is not a JSON object".into()));
    };
    let uri = match inner.remove("uri") {
        None | Some(Value::Null) => None,
        Some(Value::String(uri)) => Some(uri),
        Some(_) => return Err(malformed("`uri` is not a string".into())),
    };
    let args = match inner.remove("args") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(args)) => args,
        Some(_) => return Err(malformed("`args` is not a list".into())),
    };
    let kwargs = match inner.remove("kwargs") {
        None | Some(Value::Null) => Dict::new(),
        Some(Value::Dict(kwargs)) => kwargs,
        Some(_) => return Err(malformed("`kwargs` is not an object".into())),
    };
    Ok(DecodedPayload { uri, args, kwargs })
}

#[cfg(test)]
#[path = "key_ring_tests.rs"]
mod tests;

//! End-to-end encrypted payloads: WAMP's payload passthru mode.
//!
//! The router forwards an opaque payload that only the two ends can read. A session with a
//! [`PayloadCodec`] ([`SessionBuilder::payload_codec`](crate::SessionBuilder::payload_codec))
//! encodes the arguments of its CALLs, PUBLISHes, YIELDs and ERRORs for every URI the codec
//! has a key for, and decodes the RESULTs, INVOCATIONs, EVENTs and ERRORs it receives in that
//! form before any handler, subscriber or caller sees them: [`Invocation`](crate::Invocation),
//! [`Event`](crate::Event) and [`CallResult`](crate::CallResult) hold the plain arguments, so
//! `#[service]` methods, typed callers and typed subscribers work unchanged.
//!
//! `KeyRing` (Cargo feature `e2ee`) is the codec of Autobahn's `cryptobox`: a NaCl box
//! (X25519 + XSalsa20-Poly1305) per URI prefix, interoperable with Autobahn|Python's
//! `autobahn.wamp.cryptobox.KeyRing`. Other codecs implement the trait.
//!
//! What cannot be decoded (no key, a wrong key, a tampered payload, an unknown scheme) is a
//! [`PayloadCodecError`]: a caller's call fails with
//! [`Error::PayloadCodec`](crate::Error::PayloadCodec), an invocation is answered with
//! `wamp.error.encryption.decrypt_error` and its handler never runs, and an event is delivered
//! without arguments, with [`Event::payload_error`](crate::Event::payload_error) set (its typed
//! accessors return the error). The session stays up.
//!
//! Routers announce the mode as the broker and dealer feature `payload_passthru_mode` (the
//! specification) or `payload_transparency` (Crossbar.io). A session refuses to send an
//! encoded CALL or PUBLISH to a router that announced neither, with
//! [`PayloadCodecError::RouterUnsupported`]; a session with a codec announces both names in
//! HELLO.
//!
//! As in Autobahn: a callee encodes its YIELD (and progressive results) only when the
//! invocation arrived encoded, an ERROR is keyed by its error URI (not the procedure), and a
//! plain payload is accepted on every URI unless the codec requires encoding
//! (`KeyRing::require_encryption`). The URI inside a decoded payload must be the message's:
//! a payload replayed onto another procedure or topic is refused
//! ([`PayloadCodecError::UriMismatch`]).
//!
//! With Crossbar.io use [`WireForm::Autobahn`] (the default): Crossbar.io 26.x forwards
//! `enc_*` payloads byte for byte, but drops the `ppt_*` options of [`WireForm::Passthru`], so
//! the receiver gets the ciphertext as one plain binary argument. The embedded router forwards
//! both.

mod envelope;
mod error;
#[cfg(feature = "e2ee")]
mod key_ring;

pub(crate) use envelope::{attach, take_encoded};
pub use error::PayloadCodecError;
#[cfg(feature = "e2ee")]
#[cfg_attr(docsrs, doc(cfg(feature = "e2ee")))]
pub use key_ring::{Key, KeyRing, generate_key};

use std::fmt;

use crate::value::{Dict, Value};

/// Which end of an exchange a session is, for the key it uses.
///
/// The originator is a caller or a publisher (it encodes CALL and PUBLISH and decodes RESULT
/// and ERROR); the responder is a callee or a subscriber (it decodes INVOCATION and EVENT and
/// encodes YIELD and ERROR). Autobahn's `KeyRing` keeps a key for each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadRole {
    /// A caller or publisher.
    Originator,
    /// A callee or subscriber.
    Responder,
}

/// How encoded payloads travel on the wire. Received payloads are read in either form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WireForm {
    /// Autobahn|Python's and Crossbar.io's: the options `enc_algo` (`"cryptobox"`),
    /// `enc_serializer` and `enc_key`, and the payload as one binary element in place of the
    /// arguments list (`[CALL, id, options, uri, payload]`).
    #[default]
    Autobahn,
    /// The specification's payload passthru mode: the options `ppt_scheme` (`"wamp"`),
    /// `ppt_serializer`, `ppt_cipher` and `ppt_keyid`, and an arguments list of exactly one
    /// binary element. Crossbar.io (26.x) does not forward these options.
    Passthru,
}

/// An encoded payload and what the receiver needs to decode it.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedPayload {
    /// The scheme: `"wamp"` for end-to-end encryption, `"mqtt"`, or a custom `x_...` one
    /// (Autobahn's `enc_algo` `"cryptobox"` reads as `"wamp"` with the cipher
    /// `"xsalsa20poly1305"`).
    pub scheme: String,
    /// The serializer of the data inside (`"json"`, `"msgpack"`, `"cbor"`).
    pub serializer: String,
    /// The cipher, if the payload is encrypted (`"xsalsa20poly1305"`).
    pub cipher: Option<String>,
    /// Which key encrypted it, if the scheme names keys.
    pub key_id: Option<String>,
    /// The payload itself.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for EncodedPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodedPayload")
            .field("scheme", &self.scheme)
            .field("serializer", &self.serializer)
            .field("cipher", &self.cipher)
            .field("key_id", &self.key_id)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// What decoding gives: the URI the sender bound into the payload (if the scheme carries one)
/// and the arguments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DecodedPayload {
    /// The URI inside the payload: the session checks it against the message's own.
    pub uri: Option<String>,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Dict,
}

/// Encodes and decodes application payloads for the payload passthru mode.
///
/// The session calls it for each message with arguments, with the URI the message concerns:
/// the procedure of a CALL, RESULT, INVOCATION and YIELD, the topic of a PUBLISH and EVENT,
/// the error URI of an ERROR (as Autobahn does). `KeyRing` implements it (feature `e2ee`).
///
/// A codec of a custom scheme (`x_...`); this one only wraps the arguments as JSON text, for a
/// router or peer that handles the payload as a whole:
///
/// ```
/// use wampkit::e2ee::{DecodedPayload, EncodedPayload, PayloadCodec, PayloadCodecError, PayloadRole};
/// use wampkit::{Dict, Session, Value};
///
/// #[derive(Debug)]
/// struct JsonText;
///
/// impl PayloadCodec for JsonText {
///     fn encodes(&self, _role: PayloadRole, uri: &str) -> bool {
///         uri.starts_with("com.example.opaque.")
///     }
///
///     fn encode(&self, role: PayloadRole, uri: &str, args: &[Value], _kwargs: &Dict)
///         -> Result<Option<EncodedPayload>, PayloadCodecError> {
///         if !self.encodes(role, uri) {
///             return Ok(None);
///         }
///         let bytes = Value::List(args.to_vec()).to_string().into_bytes();
///         Ok(Some(EncodedPayload {
///             scheme: "x_json_text".into(),
///             serializer: "json".into(),
///             cipher: None,
///             key_id: None,
///             bytes,
///         }))
///     }
///
///     fn decode(&self, _role: PayloadRole, _uri: &str, payload: &EncodedPayload)
///         -> Result<DecodedPayload, PayloadCodecError> {
///         let malformed = |e: serde_json::Error| PayloadCodecError::Malformed { reason: e.to_string() };
///         let args = serde_json::from_slice(&payload.bytes).map_err(malformed)?;
///         Ok(DecodedPayload { uri: None, args, kwargs: Dict::new() })
///     }
/// }
///
/// let encoded = JsonText
///     .encode(PayloadRole::Originator, "com.example.opaque.add", &[Value::from(2)], &Dict::new())?
///     .expect("a URI it encodes");
/// assert_eq!(encoded.bytes, b"[2]");
/// let builder = Session::builder("ws://127.0.0.1:8080/ws", "realm1").payload_codec(JsonText);
/// # let _ = builder;
/// # Ok::<(), PayloadCodecError>(())
/// ```
pub trait PayloadCodec: fmt::Debug + Send + Sync + 'static {
    /// Whether payloads for `uri` are encoded by `role`.
    fn encodes(&self, role: PayloadRole, uri: &str) -> bool;

    /// Encodes a payload for `uri`, or `Ok(None)` if it travels as plain arguments.
    fn encode(
        &self,
        role: PayloadRole,
        uri: &str,
        args: &[Value],
        kwargs: &Dict,
    ) -> Result<Option<EncodedPayload>, PayloadCodecError>;

    /// Decodes a payload received for `uri`.
    fn decode(
        &self,
        role: PayloadRole,
        uri: &str,
        payload: &EncodedPayload,
    ) -> Result<DecodedPayload, PayloadCodecError>;

    /// Whether a RESULT, INVOCATION or EVENT for `uri` must arrive encoded: a plain one is then
    /// refused with [`PayloadCodecError::Unencoded`] (default: never, as Autobahn accepts plain
    /// payloads on every URI). ERRORs are exempt: the router makes some of its own.
    fn requires_encoding(&self, role: PayloadRole, uri: &str) -> bool {
        let _ = (role, uri);
        false
    }

    /// How the payloads this codec encodes travel (default: [`WireForm::Autobahn`]).
    fn wire_form(&self) -> WireForm {
        WireForm::Autobahn
    }
}

/// Refuses an originator's CALL (`router_role` `dealer`) or PUBLISH (`broker`) to `uri` that
/// `codec` would encode, unless the router announced the passthru mode for that role, under the
/// specification's name or Crossbar.io's: sending it would be a protocol violation. `details`
/// are the router's (looked up only for a URI the codec encodes; `None` once the session is
/// gone).
pub(crate) fn check_route(
    codec: &dyn PayloadCodec,
    uri: &str,
    router_role: &'static str,
    details: impl FnOnce() -> Option<std::sync::Arc<crate::SessionDetails>>,
) -> Result<(), PayloadCodecError> {
    if !codec.encodes(PayloadRole::Originator, uri) {
        return Ok(());
    }
    let announced = details().is_some_and(|details| {
        ANNOUNCED_AS
            .iter()
            .any(|feature| details.router_supports(router_role, feature))
    });
    if announced {
        return Ok(());
    }
    Err(PayloadCodecError::RouterUnsupported {
        role: router_role,
        uri: uri.to_owned(),
    })
}

/// The feature's names in HELLO and WELCOME: the specification's, and Autobahn's and
/// Crossbar.io's.
pub(crate) const ANNOUNCED_AS: [&str; 2] = ["payload_passthru_mode", "payload_transparency"];

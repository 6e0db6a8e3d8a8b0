//! The wire layer: WAMP messages and the serializers that carry them. No I/O happens here.
//!
//! ```
//! use wampkit::wire::{Message, Payload, Serializer};
//! use wampkit::{Dict, Value};
//!
//! let call = Message::Call {
//!     request: 1,
//!     options: Dict::new(),
//!     procedure: "com.example.add".into(),
//!     payload: Payload::new(vec![Value::from(2), Value::from(-3)], Dict::new()),
//! };
//! // Each serializer whose Cargo feature is on (`json`, `msgpack`, `cbor`).
//! for serializer in Serializer::ALL.into_iter().filter(|s| s.is_available()) {
//!     let bytes = serializer.encode(&call).unwrap();
//!     assert_eq!(serializer.decode(&bytes).unwrap(), call);
//! }
//! assert_eq!(Serializer::Json.encode(&call).unwrap(), br#"[48,1,{},"com.example.add",[2,-3]]"#);
//! ```

#[cfg(feature = "cbor")]
mod cbor_shape;
#[cfg(feature = "cbor")]
mod cbor_value;
mod decode;
mod describe;
mod element;
#[cfg(all(test, feature = "json", feature = "msgpack", feature = "cbor"))]
mod element_tests;
mod encode;
mod fast_path;
#[cfg(feature = "json")]
mod json_fields;
#[cfg(feature = "json")]
mod json_shape;
#[cfg(any(feature = "json", feature = "msgpack"))]
mod like_value;
mod message;
#[cfg(feature = "msgpack")]
mod msgpack_shape;
mod outgoing;
mod raw_payload;
mod serializer;
#[cfg(all(test, any(feature = "json", feature = "msgpack", feature = "cbor")))]
mod shape_tests;
mod validate;

/// Whether `text` is UTF-8, for the binary serializers' payload checks. Most strings a session
/// receives (URIs, keys, short values) are ASCII, which is checked in a simpler loop than
/// `from_utf8`'s, whose set-up dominates for a few bytes.
#[cfg(any(feature = "msgpack", feature = "cbor"))]
fn is_utf8(text: &[u8]) -> bool {
    text.is_ascii() || std::str::from_utf8(text).is_ok()
}

pub use decode::{InvalidMessage, message_from_value};
pub(crate) use describe::describe;
pub use message::{Id, MAX_ID, Message, Payload, code, message_name};
pub(crate) use outgoing::{EncodedArgs, EncodedKwargs, KwargsPart};
pub use raw_payload::RawPayload;
pub use serializer::{EncodeError, Serializer, UnknownSerializer};

//! The three serializers: JSON, MessagePack and CBOR.

use std::fmt;
use std::str::FromStr;

use serde::de::DeserializeSeed;

use super::decode::{InvalidMessage, message_from_value};
use super::encode::WireMessage;
use super::message::Message;
use crate::value::{Value, ValueSeed};

/// The nesting of a received value that is refused, the message's own array included: 127
/// levels are accepted, as serde_json does for JSON. MessagePack's default (1024) and CBOR's
/// (256) can overflow a 2 MiB task stack on hostile input in a debug build.
#[cfg(any(feature = "msgpack", feature = "cbor"))]
const MAX_DEPTH: usize = 128;

/// A WAMP serializer.
///
/// Each one is compiled in by the Cargo feature of its [`name`](Self::name): `json` (a default
/// feature), `msgpack`, `cbor`. The variants exist in every build, so that code naming them
/// compiles whatever features another crate of the build turns on; one whose feature is off
/// ([`is_available`](Self::is_available)) fails to encode and decode, and a session offering it
/// fails to connect with [`Error::FeatureDisabled`](crate::Error::FeatureDisabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Serializer {
    /// JSON (`wamp.2.json`): text frames; bytes travel as `"\u0000" + base64`. Needs the
    /// `json` feature (on by default).
    Json,
    /// MessagePack (`wamp.2.msgpack`): binary frames. Needs the `msgpack` feature.
    MsgPack,
    /// CBOR (`wamp.2.cbor`): binary frames. Needs the `cbor` feature.
    Cbor,
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot encode {message} as {serializer}: {reason}")]
pub struct EncodeError {
    /// The message's name.
    pub message: &'static str,
    /// The serializer's name.
    pub serializer: &'static str,
    /// The encoder's explanation.
    pub reason: String,
}

impl Serializer {
    /// All serializers, in this client's default order of preference, whether compiled in or
    /// not (see [`is_available`](Self::is_available)).
    pub const ALL: [Serializer; 3] = [Serializer::Json, Serializer::MsgPack, Serializer::Cbor];

    /// The WebSocket subprotocol name, e.g. `wamp.2.json`.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Serializer::Json => "wamp.2.json",
            Serializer::MsgPack => "wamp.2.msgpack",
            Serializer::Cbor => "wamp.2.cbor",
        }
    }

    /// The serializer for a WebSocket subprotocol name, if it is one this client speaks.
    pub fn from_subprotocol(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.subprotocol() == name)
    }

    /// The short name: `json`, `msgpack` or `cbor`.
    pub fn name(self) -> &'static str {
        match self {
            Serializer::Json => "json",
            Serializer::MsgPack => "msgpack",
            Serializer::Cbor => "cbor",
        }
    }

    /// Whether this build has the serializer: its Cargo feature (`json`, `msgpack` or `cbor`,
    /// the serializer's [`name`](Self::name)) is on.
    pub const fn is_available(self) -> bool {
        match self {
            Serializer::Json => cfg!(feature = "json"),
            Serializer::MsgPack => cfg!(feature = "msgpack"),
            Serializer::Cbor => cfg!(feature = "cbor"),
        }
    }

    /// The error for using a serializer this build left out.
    pub(crate) fn disabled(self) -> crate::Error {
        crate::Error::FeatureDisabled {
            feature: self.name(),
            needed_for: format!("the {} serializer", self.name()),
        }
    }

    /// Whether the serializer produces binary (as opposed to text) frames.
    pub fn is_binary(self) -> bool {
        !matches!(self, Serializer::Json)
    }

    /// Encodes a message.
    pub fn encode(self, message: &Message) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(128);
        self.encode_into(message, &mut out)?;
        Ok(out)
    }

    /// Encodes a message, appending to `out`.
    pub fn encode_into(self, message: &Message, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_to(message, out)
    }

    /// Encodes a message into the free end of `buffer` and splits it off as one frame's bytes:
    /// no copy and, while earlier frames are released, no allocation per message. On error
    /// `buffer` is left as it was.
    pub fn encode_frame(
        self,
        message: &Message,
        buffer: &mut bytes::BytesMut,
    ) -> Result<bytes::Bytes, EncodeError> {
        /// Room kept ahead; reserving it reclaims the buffer once the frames cut from it are gone.
        const CHUNK: usize = 64 * 1024;
        buffer.clear();
        if buffer.capacity() < 1024 {
            buffer.reserve(CHUNK);
        }
        match self.encode_to(message, &mut FrameBuffer(buffer)) {
            Ok(()) => Ok(buffer.split().freeze()),
            Err(e) => {
                buffer.clear();
                Err(e)
            }
        }
    }

    /// Encodes `message` at the end of `out`; arguments already encoded in this serializer
    /// are appended as they are.
    fn encode_to(self, message: &Message, out: &mut impl Output) -> Result<(), EncodeError> {
        let spliced = super::encode::spliced(message, self);
        let wire = WireMessage {
            message,
            json: self == Serializer::Json,
            splice: spliced.is_some(),
        };
        let fail = |reason: String| EncodeError {
            message: message.name(),
            serializer: self.name(),
            reason,
        };
        self.serialize_into(&wire, &mut *out).map_err(fail)?;
        let Some(raw) = spliced else {
            return Ok(());
        };
        // As many elements as `WireMessage` counted: the list, and the dictionary if it has
        // entries.
        let args = raw
            .args_bytes()
            .ok_or_else(|| fail("the arguments lie beyond their buffer".into()))?;
        let kwargs = raw.kwargs_bytes().filter(|_| raw.kwarg_count() > 0);
        let parts = std::iter::once(args).chain(kwargs);
        if self == Serializer::Json {
            // The elements go before the closing bracket, each after a comma.
            if !out.pop_byte(b']') {
                return Err(fail("the message did not end in `]`".into()));
            }
            for part in parts {
                out.append(b",");
                out.append(part);
            }
            out.append(b"]");
        } else {
            // A definite-length array's header counted them; they follow the other elements.
            parts.for_each(|part| out.append(part));
        }
        Ok(())
    }

    /// Serializes `value` whole into `out`.
    fn serialize_into(
        self,
        value: &impl serde::Serialize,
        mut out: impl std::io::Write,
    ) -> Result<(), String> {
        match self {
            #[cfg(feature = "json")]
            Serializer::Json => serde_json::to_writer(&mut out, value).map_err(|e| e.to_string()),
            #[cfg(feature = "msgpack")]
            Serializer::MsgPack => value
                .serialize(&mut rmp_serde::Serializer::new(&mut out))
                .map_err(|e| e.to_string()),
            #[cfg(feature = "cbor")]
            Serializer::Cbor => ciborium::into_writer(value, &mut out).map_err(|e| e.to_string()),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (&mut out, value);
                Err(self.disabled().to_string())
            }
        }
    }

    /// Decodes one message. Malformed bytes, trailing data, wrong arity or field types all give an
    /// [`InvalidMessage`]; nothing panics. The arguments of a RESULT, EVENT or INVOCATION are
    /// checked and kept as [`Payload::Raw`](super::Payload::Raw), in a copy of the bytes; use
    /// [`decode_frame`](Self::decode_frame) to have them keep a received frame instead.
    pub fn decode(self, bytes: &[u8]) -> Result<Message, InvalidMessage> {
        if let Some(envelope) = super::fast_path::read_hot(self, bytes) {
            return Ok(envelope.into_message(self, || bytes::Bytes::copy_from_slice(bytes)));
        }
        message_from_value(self.decode_value(bytes)?)
    }

    /// [`decode`](Self::decode) of a received frame: the arguments of a RESULT, EVENT or
    /// INVOCATION are not decoded here but kept as a slice of `frame` (its buffer, not a copy)
    /// ([`Payload::Raw`](super::Payload::Raw)), decoded by whoever reads them.
    pub fn decode_frame(self, frame: bytes::Bytes) -> Result<Message, InvalidMessage> {
        if let Some(envelope) = super::fast_path::read_hot(self, &frame) {
            return Ok(envelope.into_message(self, || frame));
        }
        message_from_value(self.decode_value(&frame)?)
    }

    /// [`decode_frame`](Self::decode_frame), but a valid EVENT's fields are handed to `event`
    /// instead of made into a message (then `Ok(None)`): the session task queues them for the
    /// subscribers from there.
    pub(crate) fn decode_frame_or_event(
        self,
        frame: bytes::Bytes,
        event: impl FnOnce(super::Id, super::Id, crate::value::Dict, super::Payload),
    ) -> Result<Option<Message>, InvalidMessage> {
        if let Some(envelope) = super::fast_path::read_hot(self, &frame) {
            return Ok(envelope.into_event_or_message(self, || frame, event));
        }
        message_from_value(self.decode_value(&frame)?).map(Some)
    }

    /// The fast path of [`decode`](Self::decode) (see `fast_path`): a valid RESULT, EVENT or
    /// INVOCATION, or `None` for everything else.
    #[cfg(all(
        test,
        any(feature = "json", all(feature = "msgpack", feature = "cbor"))
    ))]
    pub(crate) fn decode_fast(self, bytes: &[u8]) -> Option<Message> {
        super::fast_path::read_hot(self, bytes)
            .map(|envelope| envelope.into_message(self, || bytes::Bytes::copy_from_slice(bytes)))
    }

    /// Decodes the bytes into a [`Value`] (the JSON binary convention applied), without interpreting
    /// it as a message.
    pub fn decode_value(self, bytes: &[u8]) -> Result<Value, InvalidMessage> {
        self.deserialize_whole(bytes, ValueSeed { json_binary: true })
            .map_err(|reason| InvalidMessage::Syntax {
                serializer: self.name(),
                reason: crate::error::clip(&reason).into_owned(),
            })
    }

    /// Deserializes all of `bytes` with `json_seed` for JSON or the seed's default (no binary
    /// convention) for the binary serializers. Trailing data is an error.
    fn deserialize_whole<S, T>(self, bytes: &[u8], json_seed: S) -> Result<T, String>
    where
        S: Default + for<'de> DeserializeSeed<'de, Value = T>,
    {
        match self {
            #[cfg(feature = "json")]
            Serializer::Json => {
                let mut de = serde_json::Deserializer::from_slice(bytes);
                let value = json_seed.deserialize(&mut de).map_err(|e| e.to_string())?;
                de.end().map_err(|e| e.to_string())?;
                Ok(value)
            }
            #[cfg(feature = "msgpack")]
            Serializer::MsgPack => {
                // Reading from the slice itself (not through `io::Read`) lets strings and binaries
                // be visited in place instead of being copied into a scratch buffer first.
                let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
                de.set_max_depth(MAX_DEPTH);
                let value = S::default()
                    .deserialize(&mut de)
                    .map_err(|e| e.to_string())?;
                // The reader does not tell how much is left: whatever still reads as a value is
                // trailing data; the end of the input fails to read a marker.
                match <serde::de::IgnoredAny as serde::Deserialize>::deserialize(&mut de) {
                    Err(rmp_serde::decode::Error::InvalidMarkerRead(e))
                        if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                    {
                        Ok(value)
                    }
                    _ => Err("trailing data after the message".into()),
                }
            }
            #[cfg(feature = "cbor")]
            Serializer::Cbor => {
                let mut reader = bytes;
                // ciborium counts the levels it allows, not the one it refuses. (Only this entry
                // point takes a limit; it zeroes a 4 KiB scratch buffer per message.)
                let DefaultSeeded(value, _) = ciborium::de::from_reader_with_recursion_limit::<
                    DefaultSeeded<S, T>,
                    _,
                >(&mut reader, MAX_DEPTH - 1)
                .map_err(|e| e.to_string())?;
                if reader.is_empty() {
                    Ok(value)
                } else {
                    Err(format!("{} bytes of trailing data", reader.len()))
                }
            }
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (bytes, json_seed);
                Err(self.disabled().to_string())
            }
        }
    }
}

/// Where a message is encoded: a `Vec` or the free end of a frame buffer.
trait Output: std::io::Write {
    fn append(&mut self, bytes: &[u8]);
    /// Removes the last byte if it is `byte`.
    fn pop_byte(&mut self, byte: u8) -> bool;
}

impl Output for Vec<u8> {
    fn append(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn pop_byte(&mut self, byte: u8) -> bool {
        let last = self.last() == Some(&byte);
        if last {
            self.pop();
        }
        last
    }
}

/// A frame buffer written through `io::Write`.
struct FrameBuffer<'a>(&'a mut bytes::BytesMut);

impl std::io::Write for FrameBuffer<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Output for FrameBuffer<'_> {
    fn append(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn pop_byte(&mut self, byte: u8) -> bool {
        let len = self.0.len();
        let last = len.checked_sub(1).and_then(|at| self.0.get(at));
        if last == Some(&byte) {
            self.0.truncate(len - 1);
            true
        } else {
            false
        }
    }
}

/// What a default seed `S` produces, as a `Deserialize` type: ciborium takes no seeds.
#[cfg(feature = "cbor")]
struct DefaultSeeded<S, T>(T, std::marker::PhantomData<fn() -> S>);

#[cfg(feature = "cbor")]
impl<'de, S, T> serde::Deserialize<'de> for DefaultSeeded<S, T>
where
    S: Default + DeserializeSeed<'de, Value = T>,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        S::default()
            .deserialize(deserializer)
            .map(|value| DefaultSeeded(value, std::marker::PhantomData))
    }
}

impl fmt::Display for Serializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error returned when parsing a [`Serializer`] from an unknown name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown serializer `{0}` (expected json, msgpack or cbor)")]
pub struct UnknownSerializer(pub String);

impl FromStr for Serializer {
    type Err = UnknownSerializer;

    /// Parses `json`, `msgpack` or `cbor` (or a full subprotocol name such as `wamp.2.cbor`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Serializer::Json),
            "msgpack" | "messagepack" => Ok(Serializer::MsgPack),
            "cbor" => Ok(Serializer::Cbor),
            other => Self::from_subprotocol(other).ok_or_else(|| UnknownSerializer(s.to_owned())),
        }
    }
}

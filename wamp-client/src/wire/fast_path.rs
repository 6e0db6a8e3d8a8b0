//! A fast path for the messages a session receives most: RESULT, EVENT and INVOCATION, and
//! PUBLISHED, the acknowledgement of each publication that asks for one.
//!
//! The general decoder ([`message_from_value`](super::decode::message_from_value)) builds the
//! whole message as a [`Value`] array, then validates it field by field.
//! For the three messages that carry the traffic, this module reads the envelope (type code,
//! ids, details) field by field instead, with the same checks, and does not decode the payload
//! at all: it checks that the arguments list and keyword dictionary are well-formed elements of
//! their kind (building nothing) and keeps them as [`RawPayload`], a shared slice of the frame,
//! decoded later by whoever reads them. MessagePack envelopes are read off their markers
//! (`msgpack_shape`), CBOR ones off their headers (`cbor_shape`), both without a serde pass;
//! JSON's punctuation and ids off the text, its payload elements off the text too when they
//! are plain JSON (`json_shape`), its details and the other elements with serde_json (see
//! `json_fields`).
//!
//! Anything it does not accept outright (another message type, a field of an unexpected type, a
//! transparent payload, trailing data, a decoding error, deep nesting) makes it give up, and the
//! message goes the general way, which also words every error. So the fast path changes how
//! much work a valid hot message costs, never what is accepted or how a rejection reads; the
//! tests below hold it to that.

// Each serializer's reader compiles with its feature only; with some left out, helpers that
// serve only those go unused.
#![cfg_attr(
    not(all(feature = "json", feature = "msgpack", feature = "cbor")),
    allow(dead_code, unused_imports, unused_variables, unreachable_code)
)]

use bytes::Bytes;
use serde::de::DeserializeSeed;

use super::Serializer;
use super::message::{Id, MAX_ID, Message, Payload, code};
use super::raw_payload::{Part, Places, RawPayload};
use super::validate::check_known_keys;
use crate::value::{Dict, Kind, Shape, Value, ValueSeed};

/// Reads the envelope of a hot message from `bytes`; `None` when it is not one the fast path
/// takes. [`Envelope::into_message`] then makes the message, its payload kept in the frame the
/// bytes are (so that a received frame's buffer is moved there, not shared and dropped).
pub(crate) fn read_hot(serializer: Serializer, bytes: &[u8]) -> Option<Envelope> {
    // One `read_whole` per serializer: each reader inlines whole into its own (see `Fields`).
    match serializer {
        #[cfg(feature = "json")]
        Serializer::Json => read_whole(super::json_fields::JsonFields::new(bytes)?),
        #[cfg(feature = "msgpack")]
        Serializer::MsgPack => read_whole(MsgPackFields::new(bytes)?),
        #[cfg(feature = "cbor")]
        Serializer::Cbor => read_whole(CborFields::new(bytes)?),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Reads a whole hot message with `fields`: its envelope, then nothing after it.
fn read_whole(mut fields: impl Fields) -> Option<Envelope> {
    let envelope = read_envelope(&mut fields)?;
    fields.at_end().then_some(envelope)
}

/// A hot message with its payload still as places in the frame.
pub(crate) struct Envelope {
    kind: HotKind,
    details: Dict,
    /// `None` for no arguments at all.
    payload: Option<Places>,
}

enum HotKind {
    Result { request: Id },
    Event { subscription: Id, publication: Id },
    Invocation { request: Id, registration: Id },
    Published { request: Id, publication: Id },
}

impl Envelope {
    /// An EVENT's fields handed to `event`, without making a message of them (`None`); any other
    /// hot message made as [`into_message`](Self::into_message) makes it.
    #[inline(always)]
    pub(crate) fn into_event_or_message(
        self,
        serializer: Serializer,
        frame: impl FnOnce() -> Bytes,
        event: impl FnOnce(Id, Id, Dict, Payload),
    ) -> Option<Message> {
        if let HotKind::Event {
            subscription,
            publication,
        } = self.kind
        {
            let payload = payload(self.payload, serializer, frame);
            event(subscription, publication, self.details, payload);
            return None;
        }
        Some(self.into_message(serializer, frame))
    }

    /// The message, its payload (if any) in `frame()`, the bytes the envelope was read from.
    pub(crate) fn into_message(
        self,
        serializer: Serializer,
        frame: impl FnOnce() -> Bytes,
    ) -> Message {
        let payload = payload(self.payload, serializer, frame);
        let details = self.details;
        match self.kind {
            HotKind::Result { request } => Message::Result {
                request,
                details,
                payload,
            },
            HotKind::Event {
                subscription,
                publication,
            } => Message::Event {
                subscription,
                publication,
                details,
                payload,
            },
            HotKind::Invocation {
                request,
                registration,
            } => Message::Invocation {
                request,
                registration,
                details,
                payload,
            },
            HotKind::Published {
                request,
                publication,
            } => Message::Published {
                request,
                publication,
            },
        }
    }
}

/// A hot message's payload: its places in `frame()`, or none.
#[inline(always)]
fn payload(
    places: Option<Places>,
    serializer: Serializer,
    frame: impl FnOnce() -> Bytes,
) -> Payload {
    match places {
        Some(places) => Payload::Raw(RawPayload::new(frame(), serializer, places)),
        None => Payload::Empty,
    }
}

/// Reads a hot message's fields in order, whatever the serializer. Every method returns `None`
/// to give up (a missing field, a wrong type, malformed data).
///
/// The binary serializers' readers are inlined into their `read_whole` (`part` and
/// `Places::new` forcibly): called, their `Option` results of a few words came back through memory, and
/// reading them back right after they were written stalled.
pub(super) trait Fields {
    /// The next element, an unsigned integer.
    fn uint(&mut self) -> Option<u64>;
    /// The next element, a dictionary (the details).
    fn dict(&mut self) -> Option<Dict>;
    /// The next element, checked to be of kind `kind`; `Some(None)` when there are no more
    /// elements.
    fn part(&mut self, kind: Kind) -> Option<Option<Part>>;
    /// Whether the message has been read whole, nothing left after the last element read.
    fn at_end(&mut self) -> bool;
}

fn read_envelope(fields: &mut impl Fields) -> Option<Envelope> {
    // An id in 1..=2^53, as the general decoder accepts it.
    let id = |n: Option<u64>| n.filter(|id| (1..=MAX_ID).contains(id));
    let kind = match fields.uint()? {
        code::RESULT => HotKind::Result {
            request: id(fields.uint())?,
        },
        code::EVENT => HotKind::Event {
            subscription: id(fields.uint())?,
            publication: id(fields.uint())?,
        },
        code::INVOCATION => HotKind::Invocation {
            request: id(fields.uint())?,
            registration: id(fields.uint())?,
        },
        // Two ids and nothing else (`read_whole` sees to that): no details, no payload.
        code::PUBLISHED => {
            let kind = HotKind::Published {
                request: id(fields.uint())?,
                publication: id(fields.uint())?,
            };
            return Some(Envelope {
                kind,
                details: Dict::new(),
                payload: None,
            });
        }
        _ => return None,
    };
    let details = fields.dict()?;
    // Transparent payloads (their markers in the details) go the general way.
    if !details.is_empty()
        && (check_known_keys(&details).is_err()
            || details.contains_key("enc_algo")
            || details.contains_key("ppt_scheme"))
    {
        return None;
    }
    let args = fields.part(Kind::List)?;
    let kwargs = match args {
        Some(_) => fields.part(Kind::Dict)?,
        None => None,
    };
    let empty = |part: &Option<Part>| part.as_ref().is_none_or(|part| part.len == 0);
    let payload = match args {
        Some(args) if !(args.len == 0 && empty(&kwargs)) => Some(Places::new(args, kwargs)?),
        _ => None,
    };
    Some(Envelope {
        kind,
        details,
        payload,
    })
}

/// The elements of a binary (MessagePack or CBOR) message after its array header: how many are
/// left and the bytes not read yet, which tell where each element read over them lies.
#[cfg(any(feature = "msgpack", feature = "cbor"))]
struct Elements<'a> {
    rest: &'a [u8],
    total: usize,
    remaining: usize,
}

#[cfg(any(feature = "msgpack", feature = "cbor"))]
impl Elements<'_> {
    /// Takes one element of the message, `None` when there is none left.
    #[inline]
    fn take(&mut self) -> Option<()> {
        self.remaining = self.remaining.checked_sub(1)?;
        Some(())
    }

    #[inline]
    fn at_end(&self) -> bool {
        self.remaining == 0 && self.rest.is_empty()
    }

    /// Takes the usual details, an empty map: the one byte `empty_map`.
    #[inline]
    fn empty_dict(&mut self, empty_map: u8) -> Option<Dict> {
        let (&first, rest) = self.rest.split_first()?;
        (first == empty_map).then(|| {
            self.rest = rest;
            Dict::new()
        })
    }

    /// The next element, checked by `check` (which reads it off the rest) to be of kind `kind`;
    /// `Some(None)` when there are no more elements.
    #[inline(always)]
    fn part(
        &mut self,
        kind: Kind,
        check: impl FnOnce(&mut &[u8]) -> Option<Shape>,
    ) -> Option<Option<Part>> {
        if self.take().is_none() {
            return Some(None);
        }
        let start = self.total - self.rest.len();
        let shape = check(&mut self.rest)?;
        let end = self.total - self.rest.len();
        (shape.kind == kind).then_some(Some(Part {
            bytes: start..end,
            len: shape.len,
        }))
    }
}

/// MessagePack: the array header and integers are read by `msgpack_shape`, dictionaries with rmp-serde
/// over the rest of the input, payload elements checked by `msgpack_shape`.
#[cfg(feature = "msgpack")]
struct MsgPackFields<'a>(Elements<'a>);

#[cfg(feature = "msgpack")]
impl<'a> MsgPackFields<'a> {
    #[inline]
    fn new(bytes: &'a [u8]) -> Option<Self> {
        let mut rest = bytes;
        let remaining = super::msgpack_shape::list_header(&mut rest)?;
        Some(MsgPackFields(Elements {
            rest,
            total: bytes.len(),
            remaining,
        }))
    }

    /// Details that are not the usual empty map (out of line: the rest inlines).
    fn full_dict(rest: &mut &[u8]) -> Option<Dict> {
        let mut de = rmp_serde::Deserializer::new(rest);
        de.set_max_depth(crate::value::CHECK_DEPTH);
        match (ValueSeed { json_binary: false })
            .deserialize(&mut de)
            .ok()?
        {
            Value::Dict(dict) => Some(dict),
            _ => None,
        }
    }
}

#[cfg(feature = "msgpack")]
impl Fields for MsgPackFields<'_> {
    #[inline]
    fn uint(&mut self) -> Option<u64> {
        self.0.take()?;
        super::msgpack_shape::uint(&mut self.0.rest)
    }

    #[inline]
    fn dict(&mut self) -> Option<Dict> {
        self.0.take()?;
        if let Some(empty) = self.0.empty_dict(0x80) {
            return Some(empty);
        }
        Self::full_dict(&mut self.0.rest)
    }

    #[inline(always)]
    fn part(&mut self, kind: Kind) -> Option<Option<Part>> {
        self.0.part(kind, super::msgpack_shape::shape)
    }

    #[inline]
    fn at_end(&mut self) -> bool {
        self.0.at_end()
    }
}

/// CBOR: headers and integers are read off the bytes (see `cbor_shape`),
/// dictionaries with ciborium over the rest of the input, payload elements checked by
/// `cbor_shape`.
#[cfg(feature = "cbor")]
struct CborFields<'a>(Elements<'a>);

#[cfg(feature = "cbor")]
impl<'a> CborFields<'a> {
    #[inline]
    fn new(bytes: &'a [u8]) -> Option<Self> {
        let mut rest = bytes;
        // An array of unknown length goes the general way.
        let remaining = super::cbor_shape::list_header(&mut rest)?;
        Some(CborFields(Elements {
            rest,
            total: bytes.len(),
            remaining,
        }))
    }

    /// Details that are not the usual empty map (out of line: the rest inlines).
    fn full_dict(rest: &mut &[u8]) -> Option<Dict> {
        // ciborium counts the levels it allows, not the one it refuses.
        match ciborium::de::from_reader_with_recursion_limit::<Value, _>(
            rest,
            crate::value::CHECK_DEPTH - 1,
        )
        .ok()?
        {
            Value::Dict(dict) => Some(dict),
            _ => None,
        }
    }
}

#[cfg(feature = "cbor")]
impl Fields for CborFields<'_> {
    #[inline]
    fn uint(&mut self) -> Option<u64> {
        self.0.take()?;
        super::cbor_shape::uint(&mut self.0.rest)
    }

    #[inline]
    fn dict(&mut self) -> Option<Dict> {
        self.0.take()?;
        if let Some(empty) = self.0.empty_dict(0xa0) {
            return Some(empty);
        }
        Self::full_dict(&mut self.0.rest)
    }

    #[inline(always)]
    fn part(&mut self, kind: Kind) -> Option<Option<Part>> {
        self.0.part(kind, super::cbor_shape::shape)
    }

    #[inline]
    fn at_end(&mut self) -> bool {
        self.0.at_end()
    }
}

// Compares the three serializers: needs them all.
#[cfg(test)]
#[cfg(all(feature = "msgpack", feature = "cbor"))]
mod tests {
    use super::*;
    use crate::wire::Serializer;
    use crate::wire::decode::message_from_value;

    fn encode_value(serializer: Serializer, value: &Value) -> Vec<u8> {
        match serializer {
            Serializer::Json => serde_json::to_vec(&crate::value::JsonCompatible(value)).unwrap(),
            Serializer::MsgPack => rmp_serde::to_vec(value).unwrap(),
            Serializer::Cbor => {
                let mut out = Vec::new();
                ciborium::into_writer(value, &mut out).unwrap();
                out
            }
        }
    }

    fn general(serializer: Serializer, bytes: &[u8]) -> Result<Message, String> {
        serializer
            .decode_value(bytes)
            .and_then(message_from_value)
            .map_err(|e| e.to_string())
    }

    /// Every candidate, in every serializer: the fast path either declines or agrees with the
    /// general decoder, and `Serializer::decode` (which tries the fast path first) always agrees.
    fn check_agreement(candidates: &[Value]) -> usize {
        let mut taken = 0;
        for serializer in [Serializer::Json, Serializer::MsgPack, Serializer::Cbor] {
            for candidate in candidates {
                let bytes = encode_value(serializer, candidate);
                let expected = general(serializer, &bytes);
                if let Some(fast) = serializer.decode_fast(&bytes) {
                    assert_eq!(Ok(&fast), expected.as_ref(), "{serializer:?} {candidate:?}");
                    taken += 1;
                }
                let decoded = serializer.decode(&bytes).map_err(|e| e.to_string());
                assert_eq!(decoded, expected, "{serializer:?} {candidate:?}");
                // The session task's way: the events the fast path takes go to the closure,
                // whole; everything else comes back as the message `decode` makes.
                let mut handed = None;
                let split = serializer
                    .decode_frame_or_event(
                        Bytes::copy_from_slice(&bytes),
                        |subscription, publication, details, payload| {
                            handed = Some(Message::Event {
                                subscription,
                                publication,
                                details,
                                payload,
                            });
                        },
                    )
                    .map_err(|e| e.to_string());
                let fast_event =
                    matches!(serializer.decode_fast(&bytes), Some(Message::Event { .. }));
                match split {
                    Ok(None) => {
                        assert!(fast_event, "{serializer:?} {candidate:?}");
                        assert_eq!(handed.ok_or_else(String::new), expected);
                    }
                    other => {
                        assert!(!fast_event && handed.is_none(), "{candidate:?}");
                        assert_eq!(other, expected.clone().map(Some));
                    }
                }
            }
        }
        taken
    }

    fn dict(pairs: &[(&str, Value)]) -> Value {
        Value::Dict(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn agrees_with_the_general_decoder() {
        let u = Value::UInt;
        let args = Value::List(vec![
            Value::Int(-3),
            Value::from("x"),
            Value::Bytes(vec![0, 1]),
        ]);
        let kwargs = dict(&[("k", Value::Float(2.5))]);
        let empty = dict(&[]);
        let ids = [
            u(1),
            u(MAX_ID),
            u(0),
            u(MAX_ID + 1),
            Value::Int(-1),
            Value::Float(5.0),
            Value::from("5"),
        ];
        let details = [
            empty.clone(),
            dict(&[("progress", Value::Bool(true))]),
            dict(&[("progress", Value::from("yes"))]),
            dict(&[("topic", Value::from("a.b"))]),
            dict(&[("publisher", Value::from("me"))]),
            dict(&[("enc_algo", Value::from("cryptobox"))]),
            dict(&[("ppt_scheme", Value::from("x"))]),
            Value::List(vec![]),
            Value::Null,
        ];
        let payloads: Vec<Vec<Value>> = vec![
            vec![],
            vec![args.clone()],
            vec![args.clone(), kwargs.clone()],
            vec![Value::List(vec![]), kwargs.clone()],
            vec![args.clone(), kwargs.clone(), u(1)],
            vec![kwargs.clone()],
            vec![args.clone(), args.clone()],
            vec![Value::Bytes(vec![1, 2, 3])],
            vec![Value::Null],
        ];
        let mut candidates = Vec::new();
        for type_code in [
            code::RESULT,
            code::EVENT,
            code::INVOCATION,
            code::PUBLISHED,
            99,
        ] {
            for id in &ids {
                for detail in &details {
                    for payload in &payloads {
                        let mut message = vec![u(type_code), id.clone()];
                        if type_code != code::RESULT {
                            message.push(u(7));
                        }
                        message.push(detail.clone());
                        message.extend(payload.iter().cloned());
                        candidates.push(Value::List(message));
                    }
                }
                // Too short.
                candidates.push(Value::List(vec![u(type_code), id.clone()]));
            }
        }
        // PUBLISHED: two ids, nothing more.
        for request in &ids {
            for publication in &ids {
                let published = vec![u(code::PUBLISHED), request.clone(), publication.clone()];
                candidates.push(Value::List(published.clone()));
                let mut longer = published;
                longer.push(empty.clone());
                candidates.push(Value::List(longer));
            }
        }
        candidates.push(Value::List(vec![]));
        candidates.push(Value::List(vec![Value::Float(50.0), u(1), empty.clone()]));
        candidates.push(Value::List(vec![Value::from("50"), u(1), empty.clone()]));
        candidates.push(dict(&[("50", u(1))]));
        candidates.push(u(50));
        let taken = check_agreement(&candidates);
        // Every valid hot message takes the fast path: 3 types x 2 valid ids x 3 valid details
        // x 4 valid payloads, and PUBLISHED with 2 x 2 valid ids, in 3 serializers.
        assert_eq!(taken, (3 * 2 * 3 * 4 + 2 * 2) * 3);
    }

    #[test]
    fn trailing_data_and_truncation_go_the_general_way() {
        for serializer in [Serializer::Json, Serializer::MsgPack, Serializer::Cbor] {
            let message = Value::List(vec![
                Value::UInt(code::RESULT),
                Value::UInt(3),
                Value::Dict(Dict::new()),
                Value::List(vec![Value::Int(-1)]),
            ]);
            let bytes = encode_value(serializer, &message);
            assert!(serializer.decode_fast(&bytes).is_some());
            let mut trailing = bytes.clone();
            trailing.extend_from_slice(&bytes);
            assert!(serializer.decode_fast(&trailing).is_none());
            assert!(serializer.decode(&trailing).is_err());
            for cut in 0..bytes.len() {
                let truncated = &bytes[..cut];
                assert!(serializer.decode_fast(truncated).is_none());
                assert!(serializer.decode(truncated).is_err());
            }
        }
    }
}

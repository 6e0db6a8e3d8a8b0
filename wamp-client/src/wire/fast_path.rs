//! A fast path for the messages a session receives most: RESULT, EVENT and INVOCATION.
//!
//! The general decoder ([`message_from_value`](super::decode::message_from_value)) builds the
//! whole message as a [`Value`] array, then validates it field by field. For the three messages
//! that carry the traffic, this module reads the fields straight off the serializer instead, with
//! the same checks. Anything it does not accept outright (another message type, a field of an
//! unexpected type, a transparent payload, trailing data, a decoding error) makes it give up, and
//! the message goes the general way, which also words every error. So the fast path changes how
//! much work a valid hot message costs, never what is accepted or how a rejection reads; the
//! tests below hold it to that.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, SeqAccess, Visitor};

use super::message::{Id, MAX_ID, Message, Payload, code};
use super::validate::check_known_keys;
use crate::value::{Dict, Value, ValueSeed};

/// Reads a hot message; `Ok(None)` when it is not one the fast path takes.
#[derive(Clone, Copy, Default)]
pub(crate) struct HotMessage {
    /// Whether the data is JSON (`"\u0000<base64>"` strings are bytes).
    pub(crate) json_binary: bool,
}

impl<'de> DeserializeSeed<'de> for HotMessage {
    type Value = Option<Message>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for HotMessage {
    type Value = Option<Message>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a WAMP message")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut fields = HotFields {
            seq: &mut seq,
            seed: ValueSeed {
                json_binary: self.json_binary,
            },
        };
        let Some(Value::UInt(type_code)) = fields.value()? else {
            return Ok(None);
        };
        let message = match type_code {
            code::RESULT => {
                let Some(request) = fields.id()? else {
                    return Ok(None);
                };
                let Some(details) = fields.details()? else {
                    return Ok(None);
                };
                let Some(payload) = fields.payload()? else {
                    return Ok(None);
                };
                Message::Result {
                    request,
                    details,
                    payload,
                }
            }
            code::EVENT => {
                let (Some(subscription), Some(publication)) = (fields.id()?, fields.id()?) else {
                    return Ok(None);
                };
                let Some(details) = fields.details()? else {
                    return Ok(None);
                };
                let Some(payload) = fields.payload()? else {
                    return Ok(None);
                };
                Message::Event {
                    subscription,
                    publication,
                    details,
                    payload,
                }
            }
            code::INVOCATION => {
                let (Some(request), Some(registration)) = (fields.id()?, fields.id()?) else {
                    return Ok(None);
                };
                let Some(details) = fields.details()? else {
                    return Ok(None);
                };
                let Some(payload) = fields.payload()? else {
                    return Ok(None);
                };
                Message::Invocation {
                    request,
                    registration,
                    details,
                    payload,
                }
            }
            _ => return Ok(None),
        };
        // More elements than the message has fields: the general way reports the arity.
        if fields.seq.next_element::<IgnoredAny>()?.is_some() {
            return Ok(None);
        }
        Ok(Some(message))
    }
}

/// The fields of a hot message, read one by one. `Ok(None)` means "not for the fast path".
struct HotFields<'a, A> {
    seq: &'a mut A,
    seed: ValueSeed,
}

impl<'de, A: SeqAccess<'de>> HotFields<'_, A> {
    fn value(&mut self) -> Result<Option<Value>, A::Error> {
        self.seq.next_element_seed(self.seed)
    }

    /// An id in 1..=2^53, as the general decoder accepts it.
    fn id(&mut self) -> Result<Option<Id>, A::Error> {
        Ok(self
            .value()?
            .and_then(|value| value.as_u64())
            .filter(|id| (1..=MAX_ID).contains(id)))
    }

    /// A details dict whose well-known keys have the right types, without a transparent
    /// payload's markers (those payloads go the general way).
    fn details(&mut self) -> Result<Option<Dict>, A::Error> {
        Ok(match self.value()? {
            Some(Value::Dict(details))
                if check_known_keys(&details).is_ok()
                    && !details.contains_key("enc_algo")
                    && !details.contains_key("ppt_scheme") =>
            {
                Some(details)
            }
            _ => None,
        })
    }

    /// The optional `Arguments|list` and `ArgumentsKw|dict`.
    fn payload(&mut self) -> Result<Option<Payload>, A::Error> {
        let args = match self.value()? {
            None => return Ok(Some(Payload::Empty)),
            Some(Value::List(args)) => args,
            Some(_) => return Ok(None),
        };
        let kwargs = match self.value()? {
            None => Dict::new(),
            Some(Value::Dict(kwargs)) => kwargs,
            Some(_) => return Ok(None),
        };
        Ok(Some(Payload::new(args, kwargs)))
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
        candidates.push(Value::List(vec![]));
        candidates.push(Value::List(vec![Value::Float(50.0), u(1), empty.clone()]));
        candidates.push(Value::List(vec![Value::from("50"), u(1), empty.clone()]));
        candidates.push(dict(&[("50", u(1))]));
        candidates.push(u(50));
        let taken = check_agreement(&candidates);
        // Every valid hot message takes the fast path: 3 types x 2 valid ids x 3 valid details
        // x 4 valid payloads, in 3 serializers.
        assert_eq!(taken, 3 * 2 * 3 * 4 * 3);
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

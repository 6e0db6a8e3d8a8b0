//! Deserialization of a [`Value`] from any format: the `Deserialize` impl and [`ValueSeed`].

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

use crate::value::{Dict, Value, decode_json_binary};

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ValueSeed { json_binary: false }.deserialize(deserializer)
    }
}

/// Deserializes a [`Value`], optionally applying the WAMP JSON binary convention.
///
/// With `json_binary` set, every string value (at any depth, but not dictionary keys) that
/// starts with `\u0000` followed by valid base64 becomes [`Value::Bytes`]; a string starting
/// with `\u0000` whose rest is not valid base64 stays a string.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ValueSeed {
    /// Whether to decode `"\u0000<base64>"` strings as bytes (for the JSON serializer).
    pub(crate) json_binary: bool,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor {
            json_binary: self.json_binary,
        })
    }
}

/// The visitor shared by `Value: Deserialize` and [`ValueSeed`].
struct ValueVisitor {
    json_binary: bool,
}

impl ValueVisitor {
    fn seed(&self) -> ValueSeed {
        ValueSeed {
            json_binary: self.json_binary,
        }
    }

    fn string(&self, s: String) -> Value {
        let decoded = if self.json_binary {
            decode_json_binary(&s)
        } else {
            None
        };
        if let Some(Ok(bytes)) = decoded {
            return Value::Bytes(bytes);
        }
        Value::String(s)
    }
}

fn int128<E: de::Error>(v: i128) -> Result<Value, E> {
    if let Ok(u) = u64::try_from(v) {
        Ok(Value::UInt(u))
    } else if let Ok(i) = i64::try_from(v) {
        Ok(Value::Int(i))
    } else {
        Err(E::custom(format_args!(
            "integer {v} does not fit in 64 bits"
        )))
    }
}

/// Upper bound for capacities taken from (untrusted) length hints.
const PREALLOCATE_MAX: usize = 4096;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any WAMP value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(match u64::try_from(v) {
            Ok(u) => Value::UInt(u),
            Err(_) => Value::Int(v),
        })
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        int128(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v)
            .map(Value::UInt)
            .map_err(|_| E::custom(format_args!("integer {v} does not fit in 64 bits")))
    }

    fn visit_f32<E: de::Error>(self, v: f32) -> Result<Value, E> {
        Ok(Value::Float(f64::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        let decoded = if self.json_binary {
            decode_json_binary(v)
        } else {
            None
        };
        match decoded {
            Some(Ok(bytes)) => Ok(Value::Bytes(bytes)),
            _ => Ok(Value::String(v.to_owned())),
        }
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(self.string(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.seed().deserialize(deserializer)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        self.seed().deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let seed = self.seed();
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(PREALLOCATE_MAX));
        while let Some(item) = seq.next_element_seed(seed)? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let seed = self.seed();
        let mut dict = Dict::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(seed)?;
            dict.insert(key, value);
        }
        Ok(Value::Dict(dict))
    }

    /// A CBOR tagged value (ciborium presents tags as enums): the tag is dropped and the
    /// tagged content kept.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let seed = self.seed();
        let (de::IgnoredAny, variant) = data.variant()?;
        variant.newtype_variant_seed(seed)
    }
}

/// Deserializes a dictionary key: a string, or an integer or boolean converted to its text.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string dictionary key")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(all(feature = "msgpack", feature = "cbor"))]
    use std::collections::BTreeMap;

    #[cfg(all(feature = "msgpack", feature = "cbor"))]
    use serde::Serialize;
    use serde::de::DeserializeSeed;

    use super::ValueSeed;
    use crate::value::Value;

    fn dict<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Dict(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    #[test]
    fn json_binary_seed() {
        let json = r#"{"\u0000key": ["\u0000AAEC", {"deep": "\u0000AAEC"}], "plain": "\u0000not base64!", "s": "AAEC"}"#;
        let mut de = serde_json::Deserializer::from_str(json);
        let v = ValueSeed { json_binary: true }
            .deserialize(&mut de)
            .unwrap();
        let bytes = Value::Bytes(vec![0, 1, 2]);
        assert_eq!(
            v,
            dict([
                (
                    "\0key",
                    Value::List(vec![bytes.clone(), dict([("deep", bytes.clone())])])
                ),
                ("plain", Value::from("\0not base64!")),
                ("s", Value::from("AAEC")),
            ])
        );

        // Without the convention, strings stay strings.
        let mut de = serde_json::Deserializer::from_str(r#"["\u0000AAEC"]"#);
        let v = ValueSeed { json_binary: false }
            .deserialize(&mut de)
            .unwrap();
        assert_eq!(v, Value::List(vec![Value::from("\0AAEC")]));
        let v: Value = serde_json::from_str(r#""\u0000AAEC""#).unwrap();
        assert_eq!(v, Value::from("\0AAEC"));

        // Top-level string, and an owned string (escaped JSON comes as an owned string).
        let mut de = serde_json::Deserializer::from_reader(r#""\u0000AAEC""#.as_bytes());
        let v = ValueSeed { json_binary: true }
            .deserialize(&mut de)
            .unwrap();
        assert_eq!(v, bytes);
        // An empty payload after the marker is empty bytes.
        let mut de = serde_json::Deserializer::from_str(r#""\u0000""#);
        let v = ValueSeed { json_binary: true }
            .deserialize(&mut de)
            .unwrap();
        assert_eq!(v, Value::Bytes(vec![]));
    }

    #[cfg(all(feature = "msgpack", feature = "cbor"))]
    #[test]
    fn msgpack_and_cbor() {
        // [-5, bin(1,2,3), {"k": -300}, 1.5, nil, true, u64::MAX, i64::MIN]
        #[derive(Serialize)]
        struct Raw<'a>(#[serde(with = "raw_bytes")] &'a [u8]);
        mod raw_bytes {
            pub(super) fn serialize<S: serde::Serializer>(
                b: &&[u8],
                s: S,
            ) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(b)
            }
        }
        let mut m = BTreeMap::new();
        m.insert("k", -300i32);
        let input = (
            -5i8,
            Raw(&[1, 2, 3]),
            m,
            1.5f32,
            None::<u8>,
            true,
            u64::MAX,
            i64::MIN,
        );
        let expected = Value::List(vec![
            Value::Int(-5),
            Value::Bytes(vec![1, 2, 3]),
            dict([("k", Value::Int(-300))]),
            Value::Float(1.5),
            Value::Null,
            Value::Bool(true),
            Value::UInt(u64::MAX),
            Value::Int(i64::MIN),
        ]);

        let msgpack = rmp_serde::to_vec(&input).unwrap();
        let v = ValueSeed { json_binary: true }
            .deserialize(&mut rmp_serde::Deserializer::new(msgpack.as_slice()))
            .unwrap();
        assert_eq!(v, expected);
        assert!(matches!(
            v.as_list().and_then(|l| l.first()),
            Some(Value::Int(-5))
        ));
        let v: Value = rmp_serde::from_slice(&msgpack).unwrap();
        assert_eq!(v, expected);

        let mut cbor = Vec::new();
        ciborium::into_writer(&input, &mut cbor).unwrap();
        let v: Value = ciborium::de::from_reader_with_recursion_limit(cbor.as_slice(), 64).unwrap();
        assert_eq!(v, expected);

        // Integer keys from MessagePack/CBOR peers become text keys.
        let mut int_keys = BTreeMap::new();
        int_keys.insert(1u8, "a");
        int_keys.insert(2u8, "b");
        let msgpack = rmp_serde::to_vec(&int_keys).unwrap();
        let v: Value = rmp_serde::from_slice(&msgpack).unwrap();
        assert_eq!(v, dict([("1", Value::from("a")), ("2", Value::from("b"))]));
        // Non-scalar keys are refused.
        let mut list_keys = BTreeMap::new();
        list_keys.insert(vec![1u8], 1u8);
        let mut cbor = Vec::new();
        ciborium::into_writer(&list_keys, &mut cbor).unwrap();
        assert!(ciborium::from_reader::<Value, _>(cbor.as_slice()).is_err());

        // A CBOR tag is dropped, its content kept.
        let tagged = ciborium::tag::Required::<String, 0>("2013-03-21T20:04:00Z".to_owned());
        let mut cbor = Vec::new();
        ciborium::into_writer(&tagged, &mut cbor).unwrap();
        let v: Value = ciborium::from_reader(cbor.as_slice()).unwrap();
        assert_eq!(v, Value::from("2013-03-21T20:04:00Z"));
        // A CBOR bignum that fits stays an integer, one that does not is an error.
        let big = [0xc2, 0x48, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let v: Value = ciborium::from_reader(big.as_slice()).unwrap();
        assert_eq!(v, Value::UInt(u64::MAX));
        let bigger = [0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(ciborium::from_reader::<Value, _>(bigger.as_slice()).is_err());

        // A MessagePack extension becomes [type, bytes].
        let ext = [0xd4, 0x05, 0x2a];
        let v: Value = rmp_serde::from_slice(&ext).unwrap();
        assert_eq!(
            v,
            Value::List(vec![Value::UInt(5), Value::Bytes(vec![0x2a])])
        );
    }

    #[cfg(all(feature = "msgpack", feature = "cbor"))]
    #[test]
    fn garbage_never_panics() {
        let deep_json = "[".repeat(100_000);
        assert!(serde_json::from_str::<Value>(&deep_json).is_err());
        // rmp-serde's default depth limit (1024) is too deep for a 2 MiB stack in debug builds,
        // so decoders must lower it.
        let deep_msgpack = vec![0x91u8; 100_000];
        let mut de = rmp_serde::Deserializer::new(deep_msgpack.as_slice());
        de.set_max_depth(128);
        assert!(
            ValueSeed { json_binary: false }
                .deserialize(&mut de)
                .is_err()
        );
        let deep_cbor = vec![0x81u8; 100_000];
        assert!(ciborium::from_reader::<Value, _>(deep_cbor.as_slice()).is_err());
        // Pseudo-random inputs through every format.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..2000usize {
            let bytes: Vec<u8> = (0..len % 64)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()[0]
                })
                .collect();
            let mut de = rmp_serde::Deserializer::new(bytes.as_slice());
            de.set_max_depth(128);
            let _ = ValueSeed { json_binary: false }.deserialize(&mut de);
            let _ = ciborium::from_reader::<Value, _>(bytes.as_slice());
            let _ = serde_json::from_slice::<Value>(&bytes);
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            let _ = ValueSeed { json_binary: true }.deserialize(&mut de);
        }
    }
}

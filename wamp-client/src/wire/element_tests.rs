//! Whatever a peer sends, an element reads into a type as it reads through a [`Value`]: the
//! direct way (serde_json's, rmp-serde's, serde's deserializers of one scalar) may only fail
//! where the [`Value`] way reads, never read something else. The data is generated as peers
//! may send it, with what a [`Value`] cannot hold itself (integer keys, bytes where a name is
//! expected), so it reaches where the formats' deserializers differ.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap, SerializeSeq};

use super::Serializer;
use super::element::{decode, decode_entry, decode_nth, to_value};
use crate::value::{Value, from_value};

/// Data as a peer may encode it.
#[derive(Clone, Debug)]
enum Sent {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    List(Vec<Sent>),
    /// A dictionary with text keys.
    Dict(Vec<(String, Sent)>),
    /// A dictionary with integer keys (MessagePack and CBOR; text keys in JSON).
    IntKeys(Vec<(i64, Sent)>),
    /// A MessagePack extension (type, data); `[type, data]` in JSON and CBOR.
    Ext(i8, Vec<u8>),
}

/// Bytes serialized as bytes.
struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Serialize for Sent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Sent::Nil => s.serialize_unit(),
            Sent::Bool(b) => s.serialize_bool(*b),
            Sent::Int(n) => s.serialize_i64(*n),
            Sent::Float(f) => s.serialize_f64(*f),
            Sent::Text(t) => s.serialize_str(t),
            Sent::Bytes(b) => s.serialize_bytes(b),
            Sent::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Sent::Dict(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            // rmp-serde's name for an extension.
            Sent::Ext(tag, data) => {
                s.serialize_newtype_struct("_ExtStruct", &(tag, RawBytes(data)))
            }
            Sent::IntKeys(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Names the types below know, so that generated data often fits them.
const NAMES: [&str; 6] = ["Dot", "Circle", "Pair", "x", "label", "radius"];

fn any_sent() -> impl Strategy<Value = Sent> {
    let name = prop_oneof![
        proptest::sample::select(&NAMES[..]).prop_map(str::to_owned),
        "[a-z]{0,3}",
    ];
    let leaf = prop_oneof![
        Just(Sent::Nil),
        any::<bool>().prop_map(Sent::Bool),
        prop_oneof![-3i64..4, any::<i64>()].prop_map(Sent::Int),
        prop_oneof![Just(1.5f64), -1e6f64..1e6].prop_map(Sent::Float),
        name.clone().prop_map(Sent::Text),
        prop_oneof![
            proptest::sample::select(&NAMES[..]).prop_map(|n| n.as_bytes().to_vec()),
            proptest::collection::vec(any::<u8>(), 0..4),
        ]
        .prop_map(Sent::Bytes),
        (any::<i8>(), proptest::collection::vec(any::<u8>(), 0..5))
            .prop_map(|(tag, data)| Sent::Ext(tag, data)),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Sent::List),
            proptest::collection::vec((name.clone(), inner.clone()), 0..3).prop_map(Sent::Dict),
            proptest::collection::vec((-1i64..4, inner), 0..3).prop_map(Sent::IntKeys),
        ]
    })
}

fn encode(serializer: Serializer, sent: &Sent) -> Vec<u8> {
    match serializer {
        Serializer::Json => serde_json::to_vec(sent).unwrap(),
        Serializer::MsgPack => rmp_serde::to_vec(sent).unwrap(),
        Serializer::Cbor => {
            let mut out = Vec::new();
            ciborium::into_writer(sent, &mut out).unwrap();
            out
        }
    }
}

#[derive(Debug, PartialEq, serde::Deserialize)]
enum Shape {
    Dot,
    Circle { radius: f64 },
    Pair(i64, i64),
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Point {
    x: i64,
    label: Option<String>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Wrapper(Shape);

fn text<T>(read: Result<T, crate::value::ValueError>) -> Result<T, String> {
    read.map_err(|e| e.to_string())
}

/// A byte buffer that takes bytes or a list of numbers, as `serde_bytes::ByteBuf` does.
#[derive(Debug, PartialEq)]
struct Buf(Vec<u8>);

impl<'de> serde::Deserialize<'de> for Buf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Buf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Buf, E> {
                Ok(Buf(v.to_vec()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Buf, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element()? {
                    out.push(b);
                }
                Ok(Buf(out))
            }
        }
        d.deserialize_byte_buf(Visit)
    }
}

/// `read` against the same read of the element made a [`Value`] first.
fn agrees<T: DeserializeOwned + PartialEq + Debug>(
    serializer: Serializer,
    bytes: &[u8],
    index: usize,
    key: &str,
) -> Result<(), TestCaseError> {
    let value = to_value(serializer, bytes).unwrap();
    prop_assert_eq!(
        text(decode::<T>(serializer, bytes)),
        text(from_value::<T>(value.clone())),
        "{} {}",
        serializer,
        std::any::type_name::<T>()
    );
    if let Value::List(items) = &value {
        let expected = match items.get(index) {
            Some(item) => from_value::<T>(item.clone()).map(Some),
            None => Ok(None),
        };
        prop_assert_eq!(
            text(decode_nth::<T>(serializer, bytes, index)),
            text(expected),
            "{} {} [{}]",
            serializer,
            std::any::type_name::<T>(),
            index
        );
    }
    if let Value::Dict(entries) = &value {
        let expected = entries.get(key).cloned().map(from_value::<T>).transpose();
        prop_assert_eq!(
            text(decode_entry::<T>(serializer, bytes, key)),
            text(expected),
            "{} {} [{:?}]",
            serializer,
            std::any::type_name::<T>(),
            key
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn elements_read_as_their_values_do(
        sent in any_sent(),
        index in 0usize..4,
        key in proptest::sample::select(&["x", "0", "1", "Dot", "label"][..]),
    ) {
        for serializer in [Serializer::Json, Serializer::MsgPack, Serializer::Cbor] {
            let bytes = encode(serializer, &sent);
            // What arrives is checked first, as a session does.
            prop_assume!(serializer.decode_value(&bytes).is_ok());
            agrees::<Shape>(serializer, &bytes, index, key)?;
            agrees::<Wrapper>(serializer, &bytes, index, key)?;
            agrees::<Point>(serializer, &bytes, index, key)?;
            agrees::<Option<Point>>(serializer, &bytes, index, key)?;
            agrees::<Vec<Shape>>(serializer, &bytes, index, key)?;
            agrees::<BTreeMap<String, Value>>(serializer, &bytes, index, key)?;
            agrees::<BTreeMap<u8, Option<i64>>>(serializer, &bytes, index, key)?;
            agrees::<(bool, String)>(serializer, &bytes, index, key)?;
            agrees::<Vec<u8>>(serializer, &bytes, index, key)?;
            agrees::<Buf>(serializer, &bytes, index, key)?;
            agrees::<(u8, u8)>(serializer, &bytes, index, key)?;
            agrees::<Vec<(String, Option<Shape>)>>(serializer, &bytes, index, key)?;
            agrees::<std::collections::HashMap<String, Vec<u8>>>(serializer, &bytes, index, key)?;
            agrees::<char>(serializer, &bytes, index, key)?;
            agrees::<i8>(serializer, &bytes, index, key)?;
            agrees::<bool>(serializer, &bytes, index, key)?;
            agrees::<String>(serializer, &bytes, index, key)?;
            agrees::<Option<i64>>(serializer, &bytes, index, key)?;
            agrees::<u8>(serializer, &bytes, index, key)?;
            agrees::<f32>(serializer, &bytes, index, key)?;
            agrees::<()>(serializer, &bytes, index, key)?;
            agrees::<Value>(serializer, &bytes, index, key)?;
        }
    }
}

/// The generator sends what it says: integer keys, bytes and extensions as such.
#[test]
fn sent_is_encoded_as_peers_encode_it() {
    let sent = Sent::List(vec![
        Sent::IntKeys(vec![(1, Sent::Nil)]),
        Sent::Bytes(vec![7]),
        Sent::Ext(5, vec![0x2a]),
    ]);
    assert_eq!(
        encode(Serializer::MsgPack, &sent),
        [0x93, 0x81, 0x01, 0xc0, 0xc4, 0x01, 0x07, 0xd4, 0x05, 0x2a]
    );
    let cbor = encode(Serializer::Cbor, &sent);
    assert_eq!(&cbor[..4], [0x83, 0xa1, 0x01, 0xf6]);
    assert_eq!(&cbor[4..6], [0x41, 0x07]);
}

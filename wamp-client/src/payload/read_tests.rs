//! A payload kept as received bytes reads exactly as the same payload held as values: same
//! results, same errors, in every serializer.
#![cfg(all(feature = "msgpack", feature = "cbor"))]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::redundant_closure
)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::de::DeserializeOwned;

use super::read;
use crate::value::{Dict, Value, ValueError};
use crate::wire::{Message, Payload, Serializer};

const SERIALIZERS: [Serializer; 3] = [Serializer::Json, Serializer::MsgPack, Serializer::Cbor];

/// The payload of a RESULT carrying `args` and `kwargs`, as `serializer` delivers it to a session:
/// kept as the frame's bytes.
fn received(serializer: Serializer, args: &[Value], kwargs: &Dict) -> Payload {
    let message = Message::Result {
        request: 7,
        details: Dict::new(),
        payload: Payload::new(args.to_vec(), kwargs.clone()),
    };
    let frame = bytes::Bytes::from(serializer.encode(&message).unwrap());
    match serializer.decode_frame(frame).unwrap() {
        Message::Result { payload, .. } => payload,
        other => panic!("decoded {other:?}"),
    }
}

fn dict(entries: &[(&str, Value)]) -> Dict {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Point {
    x: f64,
    y: f64,
    label: Option<String>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
enum Shape {
    Dot,
    Circle { radius: f64 },
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Blob {
    #[serde(with = "serde_bytes_like")]
    data: Vec<u8>,
}

/// Reads bytes the way `serde_bytes` does: as a byte buffer, not as a sequence.
mod serde_bytes_like {
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl serde::de::Visitor<'_> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
        }
        d.deserialize_byte_buf(Bytes)
    }
}

/// A newtype, which a scalar's `Value` fills through `visit_newtype_struct`.
#[derive(Debug, PartialEq, serde::Deserialize)]
struct Meters(f64);

/// Every reader of both payloads gives the same answer (value or error text).
fn same<T: DeserializeOwned + PartialEq + std::fmt::Debug>(
    what: &str,
    read: impl Fn(&Payload) -> Result<T, ValueError>,
    values: &Payload,
    raw: &Payload,
) {
    let expected = read(values).map_err(|e| e.to_string());
    let actual = read(raw).map_err(|e| e.to_string());
    assert_eq!(actual, expected, "{what}");
}

#[test]
fn raw_payloads_read_like_values() {
    let args = vec![
        Value::Int(-5),
        Value::Float(2.5),
        Value::from("zwölf"),
        Value::Bytes(vec![0, 1, 255]),
        Value::Dict(dict(&[
            ("x", Value::Float(1.0)),
            ("y", Value::Int(-2)),
            ("label", Value::Null),
        ])),
        Value::from("Dot"),
        Value::Dict(dict(&[(
            "Circle",
            Value::Dict(dict(&[("radius", Value::UInt(3))])),
        )])),
        Value::Dict(dict(&[("data", Value::Bytes(vec![9, 8]))])),
        Value::Null,
        Value::List(vec![Value::Bool(true), Value::from("")]),
    ];
    let kwargs = dict(&[
        ("n", Value::UInt(u64::MAX)),
        ("neg", Value::Int(i64::MIN)),
        ("s", Value::from("text")),
    ]);
    for serializer in SERIALIZERS {
        let values = Payload::new(args.clone(), kwargs.clone());
        let raw = received(serializer, &args, &kwargs);
        assert!(matches!(raw, Payload::Raw(_)), "{serializer}");
        assert_eq!(raw.clone().into_parts(), (args.clone(), kwargs.clone()));
        assert_eq!(read::arg_count(&raw), args.len());
        assert_eq!(read::kwarg_count(&raw), kwargs.len());
        assert_eq!(read::kwarg_names(&raw), vec!["n", "neg", "s"]);

        let at = |what: &str| format!("{serializer} {what}");
        same(&at("i64"), |p| read::arg::<i64>(p, 0), &values, &raw);
        same(&at("i8"), |p| read::arg::<i8>(p, 0), &values, &raw);
        same(&at("u64 of -5"), |p| read::arg::<u64>(p, 0), &values, &raw);
        same(&at("f64"), |p| read::arg::<f64>(p, 1), &values, &raw);
        same(&at("f64 of int"), |p| read::arg::<f64>(p, 0), &values, &raw);
        same(
            &at("i64 of float"),
            |p| read::arg::<i64>(p, 1),
            &values,
            &raw,
        );
        same(&at("String"), |p| read::arg::<String>(p, 2), &values, &raw);
        same(&at("i64 of str"), |p| read::arg::<i64>(p, 2), &values, &raw);
        same(&at("bytes"), |p| read::arg::<Vec<u8>>(p, 3), &values, &raw);
        same(&at("struct"), |p| read::arg::<Point>(p, 4), &values, &raw);
        same(
            &at("unit variant"),
            |p| read::arg::<Shape>(p, 5),
            &values,
            &raw,
        );
        same(
            &at("struct variant"),
            |p| read::arg::<Shape>(p, 6),
            &values,
            &raw,
        );
        same(
            &at("byte buffer"),
            |p| read::arg::<Blob>(p, 7),
            &values,
            &raw,
        );
        same(
            &at("Option"),
            |p| read::arg::<Option<i64>>(p, 8),
            &values,
            &raw,
        );
        same(
            &at("Option of a number"),
            |p| read::arg::<Option<i64>>(p, 0),
            &values,
            &raw,
        );
        same(&at("newtype"), |p| read::arg::<Meters>(p, 1), &values, &raw);
        same(&at("unit"), |p| read::arg::<()>(p, 8), &values, &raw);
        same(
            &at("bool of null"),
            |p| read::arg::<bool>(p, 8),
            &values,
            &raw,
        );
        same(
            &at("char of str"),
            |p| read::arg::<char>(p, 2),
            &values,
            &raw,
        );
        same(&at("missing"), |p| read::arg::<i64>(p, 10), &values, &raw);
        same(
            &at("missing Option"),
            |p| read::arg::<Option<i64>>(p, 99),
            &values,
            &raw,
        );
        same(&at("Value"), |p| read::arg::<Value>(p, 9), &values, &raw);
        same(&at("all"), |p| read::args::<Vec<Value>>(p), &values, &raw);
        same(&at("tuple"), |p| read::args::<(i64, f64)>(p), &values, &raw);
        same(&at("kwarg"), |p| read::kwarg::<u64>(p, "n"), &values, &raw);
        same(
            &at("kwarg i64"),
            |p| read::kwarg::<i64>(p, "neg"),
            &values,
            &raw,
        );
        same(
            &at("kwarg wrong"),
            |p| read::kwarg::<i64>(p, "n"),
            &values,
            &raw,
        );
        same(
            &at("kwarg missing"),
            |p| read::kwarg::<Option<i64>>(p, "x"),
            &values,
            &raw,
        );
        same(
            &at("kwarg missing, required"),
            |p| read::kwarg::<i64>(p, "x"),
            &values,
            &raw,
        );
        same(
            &at("kwargs"),
            |p| read::kwargs::<BTreeMap<String, Value>>(p),
            &values,
            &raw,
        );
        same(
            &at("result"),
            |p| read::result::<Vec<Value>>(p),
            &values,
            &raw,
        );
    }
}

/// Scalars read alone (`arg(n)`), in lists without bytes: JSON's then take its direct way (a
/// list holding bytes takes the `Value` way as a whole).
#[test]
fn scalars_read_like_values() {
    let args = vec![
        Value::Int(-5),
        Value::Float(2.5),
        Value::from("zwölf"),
        Value::from("Dot"),
        Value::Null,
        Value::Bool(true),
        Value::UInt(0),
        Value::UInt(u64::MAX),
        Value::Int(i64::MIN),
        Value::from("a\"b"),
        Value::from("x"),
        Value::UInt(300),
    ];
    for serializer in SERIALIZERS {
        let values = Payload::new(args.clone(), Dict::new());
        let raw = received(serializer, &args, &Dict::new());
        for index in 0..args.len() {
            let at = |what: &str| format!("{serializer} arg {index} as {what}");
            same(&at("i64"), |p| read::arg::<i64>(p, index), &values, &raw);
            same(&at("u64"), |p| read::arg::<u64>(p, index), &values, &raw);
            same(&at("u8"), |p| read::arg::<u8>(p, index), &values, &raw);
            same(&at("f64"), |p| read::arg::<f64>(p, index), &values, &raw);
            same(&at("bool"), |p| read::arg::<bool>(p, index), &values, &raw);
            same(
                &at("String"),
                |p| read::arg::<String>(p, index),
                &values,
                &raw,
            );
            same(&at("char"), |p| read::arg::<char>(p, index), &values, &raw);
            same(&at("unit"), |p| read::arg::<()>(p, index), &values, &raw);
            same(
                &at("Option"),
                |p| read::arg::<Option<i64>>(p, index),
                &values,
                &raw,
            );
            same(
                &at("newtype"),
                |p| read::arg::<Meters>(p, index),
                &values,
                &raw,
            );
            same(&at("enum"), |p| read::arg::<Shape>(p, index), &values, &raw);
            same(
                &at("Value"),
                |p| read::arg::<Value>(p, index),
                &values,
                &raw,
            );
        }
    }
}

#[test]
fn results_read_by_shape() {
    let cases: Vec<(Vec<Value>, Dict)> = vec![
        (vec![Value::Int(-1)], Dict::new()),
        (vec![Value::Int(-1), Value::from("x")], Dict::new()),
        (Vec::new(), dict(&[("x", Value::Float(1.5))])),
        (vec![Value::Int(3)], dict(&[("x", Value::Float(1.5))])),
    ];
    for serializer in SERIALIZERS {
        for (args, kwargs) in &cases {
            let values = Payload::new(args.clone(), kwargs.clone());
            let raw = received(serializer, args, kwargs);
            same("Value", |p| read::result::<Value>(p), &values, &raw);
            same("i64", |p| read::result::<i64>(p), &values, &raw);
            same(
                "(i64, String)",
                |p| read::result::<(i64, String)>(p),
                &values,
                &raw,
            );
        }
    }
}

/// Any value tree: what the serializers can carry (no floats that are not numbers: JSON has
/// none, and `NaN != NaN`; no strings starting with NUL: in JSON those are bytes).
pub(crate) fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| if n < 0 {
            Value::Int(n)
        } else {
            Value::UInt(n as u64)
        }),
        any::<u64>().prop_map(Value::UInt),
        (-1e9f64..1e9).prop_map(Value::Float),
        "([^\\x00].{0,11})?".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            proptest::collection::btree_map("[a-z]{0,6}", inner, 0..6).prop_map(Value::Dict),
        ]
    })
}

proptest! {
    #[test]
    fn any_payload_survives_the_raw_path(
        args in proptest::collection::vec(any_value(), 0..5),
        kwargs in proptest::collection::btree_map("[a-z]{1,6}", any_value(), 0..4),
        index in 0usize..6,
    ) {
        for serializer in SERIALIZERS {
            let values = Payload::new(args.clone(), kwargs.clone());
            let raw = received(serializer, &args, &kwargs);
            prop_assert_eq!(raw.clone().into_parts(), (args.clone(), kwargs.clone()));
            prop_assert_eq!(
                read::arg::<Value>(&raw, index).map_err(|e| e.to_string()),
                read::arg::<Value>(&values, index).map_err(|e| e.to_string())
            );
            prop_assert_eq!(
                read::args::<Vec<Value>>(&raw).map_err(|e| e.to_string()),
                read::args::<Vec<Value>>(&values).map_err(|e| e.to_string())
            );
            prop_assert_eq!(
                read::arg::<u64>(&raw, index).map_err(|e| e.to_string()),
                read::arg::<u64>(&values, index).map_err(|e| e.to_string())
            );
            for key in kwargs.keys().map(String::as_str).chain(["no-such-key"]) {
                prop_assert_eq!(
                    read::kwarg::<Value>(&raw, key).map_err(|e| e.to_string()),
                    read::kwarg::<Value>(&values, key).map_err(|e| e.to_string())
                );
            }
        }
    }

    /// Whatever the bytes, decoding a frame never panics, and a hot message it accepts has a
    /// payload that reads.
    #[test]
    fn any_frame_decodes_or_fails_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        for serializer in SERIALIZERS {
            let frame = bytes::Bytes::from(bytes.clone());
            if let Ok(Message::Result { payload, .. } | Message::Event { payload, .. }
                | Message::Invocation { payload, .. }) = serializer.decode_frame(frame)
            {
                let _ = payload.clone().into_parts();
                let _ = read::args::<Vec<Value>>(&payload);
            }
        }
    }
}

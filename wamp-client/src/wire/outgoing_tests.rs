//! Arguments encoded straight from the caller's type say exactly what the same arguments
//! converted into values say, in every serializer: same bytes on the wire, same errors.
#![cfg(all(feature = "json", feature = "msgpack", feature = "cbor"))]
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use serde::Serialize;

use super::{EncodedArgs, EncodedKwargs, KwargsPart};
use crate::payload::arguments::{keyword_values, positional_values};
use crate::value::{Dict, Value, ValueError, to_value};
use crate::wire::{Message, Payload, Serializer};

const SERIALIZERS: [Serializer; 3] = [Serializer::Json, Serializer::MsgPack, Serializer::Cbor];

fn call(payload: Payload) -> Message {
    Message::Call {
        request: 9,
        options: Dict::new(),
        procedure: "com.example.p".into(),
        payload,
    }
}

/// The CALL carrying `args` (and `kwargs`), encoded through values, and encoded straight.
fn both_ways(serializer: Serializer, args: &impl Serialize, kwargs: &Dict) -> (Vec<u8>, Vec<u8>) {
    let values = Payload::new(positional_values(args).unwrap(), kwargs.clone());
    let encoded = EncodedArgs::encode(serializer, args)
        .unwrap()
        .unwrap()
        .into_payload(KwargsPart::Values(kwargs))
        .unwrap();
    if !kwargs.is_empty() || !matches!(values, Payload::Empty) {
        assert!(matches!(encoded, Payload::Raw(_)), "{encoded:?}");
    }
    (
        serializer.encode(&call(values)).unwrap(),
        serializer.encode(&call(encoded)).unwrap(),
    )
}

#[derive(Serialize)]
enum Shape {
    Dot,
    Circle(f64),
    Line(i32, i32),
    Rect { h: u8, w: u8 },
}

/// Fields in key order: a dictionary of values is sorted, a struct written straight is not.
#[derive(Serialize)]
struct Sorted {
    a: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    b: Option<String>,
    c: Vec<Shape>,
    d: IpAddr,
}

#[test]
fn typed_arguments_encode_to_the_same_bytes_as_their_values() {
    let struct_ = Sorted {
        a: -5,
        b: None,
        c: vec![
            Shape::Dot,
            Shape::Circle(-0.5),
            Shape::Line(-1, 2),
            Shape::Rect { h: 1, w: 2 },
        ],
        d: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let mut int_keys = BTreeMap::new();
    int_keys.insert(-3i32, 'x');
    int_keys.insert(7, 'y');
    let mut bool_keys = HashMap::new();
    bool_keys.insert(true, ());
    let bytes = Value::Bytes(vec![0, 1, 255]);
    for serializer in SERIALIZERS {
        let kwargs = Dict::from([("k".to_owned(), bytes.clone())]);
        for kwargs in [Dict::new(), kwargs] {
            let cases = [
                both_ways(serializer, &(), &kwargs),
                both_ways(
                    serializer,
                    &(1u8, -1i8, u64::MAX, i64::MIN, 3i128, -3i128),
                    &kwargs,
                ),
                both_ways(serializer, &(0.25f32, f64::MAX, "text", 'c', ""), &kwargs),
                both_ways(serializer, &(f64::NAN, f64::INFINITY), &kwargs),
                both_ways(
                    serializer,
                    &(Some(1), None::<u8>, ((),), [2u16; 3]),
                    &kwargs,
                ),
                both_ways(
                    serializer,
                    &(&struct_, int_keys.clone(), bool_keys.clone()),
                    &kwargs,
                ),
                both_ways(
                    serializer,
                    &vec![bytes.clone(), Value::List(vec![])],
                    &kwargs,
                ),
                both_ways(serializer, &Vec::<u8>::new(), &kwargs),
                both_ways(serializer, &Value::Null, &kwargs),
                both_ways(
                    serializer,
                    &serde_json::json!([1, -2.5, {"z": [null]}]),
                    &kwargs,
                ),
            ];
            for (i, (values, encoded)) in cases.into_iter().enumerate() {
                assert_eq!(encoded, values, "{serializer} case {i}, kwargs {kwargs:?}");
            }
        }
    }
}

#[test]
fn nothing_positional_with_nothing_keyword_is_no_payload() {
    for serializer in SERIALIZERS {
        for args in [Value::Null, Value::List(vec![])] {
            let encoded = EncodedArgs::encode(serializer, &args).unwrap().unwrap();
            assert_eq!(
                encoded
                    .into_payload(KwargsPart::Values(&Dict::new()))
                    .unwrap(),
                Payload::Empty
            );
        }
    }
}

#[test]
fn what_is_not_a_sequence_is_left_to_the_values_path() {
    for serializer in SERIALIZERS {
        assert!(
            EncodedArgs::encode(serializer, &Shape::Dot)
                .unwrap()
                .is_none()
        );
        assert!(EncodedArgs::encode(serializer, &7).unwrap().is_none());
        assert!(
            EncodedArgs::encode(serializer, &Dict::new())
                .unwrap()
                .is_none()
        );
        assert!(
            EncodedArgs::encode(serializer, &Some(Some(-1)))
                .unwrap()
                .is_none()
        );
    }
}

#[test]
fn what_values_refuse_is_refused_with_the_same_error() {
    #[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
    struct Key(u8, u8);
    let mut struct_keys = BTreeMap::new();
    struct_keys.insert(Key(1, 2), 0);
    let wide: (i128,) = (i128::MAX,);
    let nested_wide = vec![vec![Shape::Circle(1.0)], vec![]];
    for serializer in SERIALIZERS {
        let refused = |args: &dyn erased::Args| {
            let direct = args.encode(serializer).unwrap_err();
            let values = args.values().unwrap_err();
            assert_eq!(direct, values, "{serializer}");
        };
        refused(&(struct_keys.clone(),));
        refused(&wide);
        refused(&(u128::MAX,));
        refused(&[(1u8, [i128::MIN])]);
        // Accepted by both.
        assert!(
            EncodedArgs::encode(serializer, &nested_wide)
                .unwrap()
                .is_some()
        );
    }
}

/// Object-safe access to the two paths, for a list of differently typed cases.
mod erased {
    use super::*;

    pub(super) trait Args {
        fn encode(&self, serializer: Serializer) -> Result<(), ValueError>;
        fn values(&self) -> Result<(), ValueError>;
    }

    pub(super) trait Indexed {
        fn failed_at(&self, serializer: Serializer) -> Option<usize>;
    }

    impl<T: Serialize> Indexed for T {
        fn failed_at(&self, serializer: Serializer) -> Option<usize> {
            EncodedArgs::encode(serializer, self).unwrap_err().index
        }
    }

    impl<T: Serialize> Args for T {
        fn encode(&self, serializer: Serializer) -> Result<(), ValueError> {
            EncodedArgs::encode(serializer, self)
                .map(drop)
                .map_err(|failure| failure.error)
        }

        fn values(&self) -> Result<(), ValueError> {
            to_value(self).map(drop)
        }
    }
}

#[test]
fn a_received_payload_is_spliced_into_a_message_of_its_serializer_as_it_came() {
    let args = vec![Value::from(-1), Value::Bytes(vec![9; 3]), Value::from("s")];
    let kwargs = Dict::from([("a".to_owned(), Value::from(1.5))]);
    for (args, kwargs) in [
        (args.clone(), kwargs.clone()),
        (args.clone(), Dict::new()),
        (vec![], kwargs.clone()),
    ] {
        for serializer in SERIALIZERS {
            let result = Message::Result {
                request: 3,
                details: Dict::new(),
                payload: Payload::new(args.clone(), kwargs.clone()),
            };
            let frame = bytes::Bytes::from(serializer.encode(&result).unwrap());
            let Message::Result { payload, .. } = serializer.decode_frame(frame).unwrap() else {
                panic!("not a RESULT");
            };
            assert!(matches!(payload, Payload::Raw(_)));
            let values = call(Payload::new(args.clone(), kwargs.clone()));
            let expected = serializer.encode(&values).unwrap();
            for target in SERIALIZERS {
                // Spliced into its own serializer, converted into the others.
                let spliced = target.encode(&call(payload.clone())).unwrap();
                assert_eq!(
                    spliced,
                    target.encode(&values).unwrap(),
                    "{serializer} → {target}"
                );
                let mut frame = bytes::BytesMut::new();
                let framed = target
                    .encode_frame(&call(payload.clone()), &mut frame)
                    .unwrap();
                assert_eq!(&framed[..], &spliced[..]);
            }
            assert_eq!(serializer.decode(&expected).unwrap(), values);
        }
    }
}

#[test]
fn a_received_empty_keyword_dictionary_is_left_off_as_its_count_says() {
    // `[50, 3, {}, [1], {}]`: the dictionary is there but empty.
    let frame = bytes::Bytes::from_static(br#"[50,3,{},[1],{}]"#);
    let Message::Result { payload, .. } = Serializer::Json.decode_frame(frame).unwrap() else {
        panic!("not a RESULT");
    };
    let spliced = Serializer::Json.encode(&call(payload)).unwrap();
    assert_eq!(spliced, br#"[48,9,{},"com.example.p",[1]]"#);
}

/// The CALL carrying `args` and keyword arguments `kwargs` (a struct or map), encoded through
/// values, and encoded straight.
fn both_ways_kwargs(
    serializer: Serializer,
    args: &impl Serialize,
    kwargs: &impl Serialize,
) -> (Vec<u8>, Vec<u8>) {
    let values = Payload::new(
        positional_values(args).unwrap(),
        keyword_values(kwargs).unwrap(),
    );
    let kwargs = EncodedKwargs::encode(serializer, kwargs).unwrap().unwrap();
    let encoded = EncodedArgs::encode(serializer, args)
        .unwrap()
        .unwrap()
        .into_payload(KwargsPart::Encoded(&kwargs))
        .unwrap();
    (
        serializer.encode(&call(values)).unwrap(),
        serializer.encode(&call(encoded)).unwrap(),
    )
}

#[test]
fn typed_keyword_arguments_encode_to_the_same_bytes_as_their_values() {
    let struct_ = Sorted {
        a: -5,
        b: Some("text".into()),
        c: vec![Shape::Line(-1, 2), Shape::Rect { h: 1, w: 2 }],
        d: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let skipped = Sorted {
        a: 0,
        b: None,
        c: vec![],
        d: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    let mut map = BTreeMap::new();
    map.insert("x".to_owned(), vec![u64::MAX]);
    map.insert("y".to_owned(), vec![]);
    let none: Option<Sorted> = None;
    for serializer in SERIALIZERS {
        let cases = [
            both_ways_kwargs(serializer, &(), &struct_),
            both_ways_kwargs(serializer, &(1, "two"), &skipped),
            both_ways_kwargs(serializer, &(-1,), &map),
            both_ways_kwargs(serializer, &(), &BTreeMap::<String, u8>::new()),
            both_ways_kwargs(serializer, &(1,), &none),
            both_ways_kwargs(serializer, &(), &()),
            both_ways_kwargs(serializer, &(), &serde_json::json!({"k": [1, -2.5]})),
            both_ways_kwargs(
                serializer,
                &(),
                &Dict::from([("b".to_owned(), Value::Bytes(vec![0, 255]))]),
            ),
        ];
        for (i, (values, encoded)) in cases.into_iter().enumerate() {
            assert_eq!(encoded, values, "{serializer} case {i}");
        }
    }
}

#[test]
fn keyword_arguments_in_declared_order_read_back_as_their_values() {
    // A dictionary of values is sorted; a struct written straight keeps its fields' order.
    #[derive(Serialize)]
    struct Unsorted {
        z: i8,
        a: &'static str,
    }
    for serializer in SERIALIZERS {
        let kwargs = EncodedKwargs::encode(serializer, &Unsorted { z: -1, a: "a" })
            .unwrap()
            .unwrap();
        assert_eq!(
            kwargs.to_dict().unwrap(),
            keyword_values(&Unsorted { z: -1, a: "a" }).unwrap()
        );
        let payload = EncodedArgs::encode(serializer, &())
            .unwrap()
            .unwrap()
            .into_payload(KwargsPart::Encoded(&kwargs))
            .unwrap();
        let Payload::Raw(raw) = &payload else {
            panic!("not encoded: {payload:?}");
        };
        assert_eq!((raw.arg_count(), raw.kwarg_count()), (0, 2));
        let (_, read) = raw.to_values().unwrap();
        assert_eq!(read.get("z"), Some(&Value::Int(-1)));
    }
}

#[test]
fn what_is_not_a_map_is_left_to_the_values_path_as_keyword_arguments() {
    for serializer in SERIALIZERS {
        assert!(
            EncodedKwargs::encode(serializer, &(1, 2))
                .unwrap()
                .is_none()
        );
        assert!(EncodedKwargs::encode(serializer, &7).unwrap().is_none());
        assert!(EncodedKwargs::encode(serializer, &"s").unwrap().is_none());
        assert!(
            EncodedKwargs::encode(serializer, &Shape::Dot)
                .unwrap()
                .is_none()
        );
        // Nothing: no keyword arguments.
        let none = EncodedKwargs::encode(serializer, &None::<Dict>)
            .unwrap()
            .unwrap();
        assert_eq!(none.to_dict().unwrap(), Dict::new());
    }
}

#[test]
fn keyword_arguments_values_refuse_are_refused_with_the_same_error() {
    #[derive(Serialize)]
    struct Wide {
        n: i128,
    }
    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    struct Key(u8, u8);
    let struct_keys = BTreeMap::from([(Key(1, 2), 0)]);
    for serializer in SERIALIZERS {
        let direct = EncodedKwargs::encode(serializer, &Wide { n: i128::MAX }).unwrap_err();
        assert_eq!(direct, to_value(&Wide { n: i128::MAX }).unwrap_err());
        let direct = EncodedKwargs::encode(serializer, &struct_keys).unwrap_err();
        assert_eq!(direct, to_value(&struct_keys).unwrap_err());
    }
}

#[test]
fn a_positional_argument_that_fails_is_named_by_its_index() {
    for serializer in SERIALIZERS {
        let index = |args: &dyn erased::Indexed| args.failed_at(serializer);
        assert_eq!(index(&(1, u128::MAX, 3)), Some(1));
        assert_eq!(index(&(u128::MAX,)), Some(0));
        // Inside an argument: that argument.
        assert_eq!(index(&("a", "b", vec![(u128::MAX,)])), Some(2));
        assert_eq!(index(&vec![[0i128], [i128::MAX]]), Some(1));
    }
}

proptest! {
    #[test]
    fn any_value_tree_encodes_straight_as_through_values(
        args in proptest::collection::vec(crate::payload::read_tests::any_value(), 0..5),
        kwargs in proptest::collection::btree_map(
            "[a-z]{1,6}", crate::payload::read_tests::any_value(), 0..4),
    ) {
        for serializer in SERIALIZERS {
            let (values, encoded) = both_ways(serializer, &args, &kwargs);
            prop_assert_eq!(encoded, values);
        }
    }
}

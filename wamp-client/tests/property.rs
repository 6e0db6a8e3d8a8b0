//! Property tests of the wire layer (proptest; runs in CI in a few seconds):
//!
//! - arbitrary WAMP messages (ids across their whole range, dicts, payloads with bytes, negative
//!   and huge integers, floats, unicode, nesting) survive a round trip through every serializer;
//! - arbitrary bytes, and random mutations of valid encodings, never panic the decoder, and
//!   whatever decodes encodes again to the same message.
//!
//! JSON cannot carry everything: it has no NaN or infinities (the encoder writes `null`) and its
//! binary convention reads a string starting with NUL as base64 bytes, so the JSON round trip
//! draws from values without those; MessagePack and CBOR get everything.
//!
//! A failure prints the minimal input proptest found; `PROPTEST_CASES=N` runs more cases.
// Needs all three serializers: compiled with those features only (`cargo test --workspace` has them).
#![cfg(all(feature = "msgpack", feature = "cbor"))]
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::panic::{AssertUnwindSafe, catch_unwind};

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use wampkit::wire::{MAX_ID, Message, Payload, code};
use wampkit::{Dict, Serializer, Value};

/// `prop_oneof!` for more arms than it takes (each arm boxed, all equally likely).
macro_rules! one_of {
    ($($arm:expr),+ $(,)?) => {
        proptest::strategy::Union::new(vec![$($arm.boxed()),+]).boxed()
    };
}

/// Cases per property: enough to cover every message type many times, small enough for CI.
const CASES: u32 = 512;

/// The Options/Details keys whose types the decoder checks (see `wire/validate.rs`): random keys
/// avoid them, and [`known_entry`] adds them with values of the right type.
const KNOWN_KEYS: &[&str] = &[
    "acknowledge",
    "exclude_me",
    "exclude",
    "exclude_authid",
    "exclude_authrole",
    "eligible",
    "eligible_authid",
    "eligible_authrole",
    "retain",
    "disclose_me",
    "match",
    "get_retained",
    "invoke",
    "disclose_caller",
    "forward_timeout",
    "publisher",
    "publisher_authid",
    "publisher_authrole",
    "topic",
    "retained",
    "x_acknowledged_delivery",
    "receive_progress",
    "progress",
    "timeout",
    "caller",
    "caller_authid",
    "caller_authrole",
    "procedure",
    "mode",
    "transaction_hash",
    "forward_for",
    "enc_algo",
    "enc_serializer",
    "ppt_scheme",
    "ppt_serializer",
    "ppt_cipher",
    "ppt_keyid",
];

/// What the values may hold: everything, or only what JSON carries.
#[derive(Debug, Clone, Copy)]
enum Range {
    All,
    Json,
}

fn text(range: Range) -> BoxedStrategy<String> {
    let strings = prop_oneof![
        3 => any::<String>(),
        // Unicode beyond the BMP, combining marks, escapes, right-to-left text.
        1 => "[a-zé😀\u{10FFFF}\u{0301}\u{202E}\"\\\\/\t\n\u{7f}]{0,12}",
        1 => Just(String::new()),
    ];
    match range {
        Range::All => strings.boxed(),
        Range::Json => strings
            .prop_filter("JSON reads a leading NUL as bytes", |s| {
                !s.starts_with('\0')
            })
            .boxed(),
    }
}

/// A non-empty string, for URI fields (the decoder checks only that they are non-empty).
fn uri(range: Range) -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z][a-z0-9_]{0,8}(\\.[a-z0-9_]{1,8}){0,4}",
        1 => text(range).prop_filter("a URI is not empty", |s| !s.is_empty()),
    ]
    .boxed()
}

fn id() -> BoxedStrategy<u64> {
    prop_oneof![
        Just(1u64),
        Just(MAX_ID),
        Just(MAX_ID - 1),
        1..=MAX_ID,
        1u64..1000,
    ]
    .boxed()
}

fn float(range: Range) -> BoxedStrategy<f64> {
    use proptest::num::f64 as f;
    let finite = prop_oneof![
        f::NORMAL | f::SUBNORMAL | f::ZERO | f::NEGATIVE | f::POSITIVE,
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(-0.0),
        Just(0.1),
        Just(9_007_199_254_740_993.0),
    ];
    match range {
        Range::All => prop_oneof![
            4 => finite,
            1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
        ]
        .boxed(),
        Range::Json => finite.boxed(),
    }
}

fn leaf(range: Range) -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<u64>().prop_map(Value::UInt),
        prop_oneof![Just(i64::MIN), Just(-1i64), Just(i64::MAX)].prop_map(Value::Int),
        prop_oneof![Just(0u64), Just(u64::MAX), Just(1u64 << 63)].prop_map(Value::UInt),
        float(range).prop_map(Value::Float),
        text(range).prop_map(Value::String),
        vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
    ]
    .boxed()
}

/// Any value, nested up to 5 levels.
fn value(range: Range) -> BoxedStrategy<Value> {
    leaf(range)
        .prop_recursive(5, 48, 6, move |inner| {
            prop_oneof![
                vec(inner.clone(), 0..6).prop_map(Value::List),
                btree_map(text(range), inner, 0..6).prop_map(Value::Dict),
            ]
        })
        .boxed()
}

/// A payload dict (keyword arguments, WELCOME details, ...): any keys, any values.
fn free_dict(range: Range) -> BoxedStrategy<Dict> {
    btree_map(text(range), value(range), 0..5).boxed()
}

/// A well-known Options/Details key with a value of the type the decoder wants.
fn known_entry(range: Range) -> BoxedStrategy<(String, Value)> {
    let ids = vec(id().prop_map(Value::UInt), 0..4).prop_map(Value::List);
    let strings = vec(text(range).prop_map(Value::String), 0..4).prop_map(Value::List);
    one_of![
        any::<bool>().prop_map(|b| ("acknowledge".to_owned(), Value::Bool(b))),
        any::<bool>().prop_map(|b| ("receive_progress".to_owned(), Value::Bool(b))),
        any::<u64>().prop_map(|n| ("timeout".to_owned(), Value::UInt(n))),
        id().prop_map(|n| ("publisher".to_owned(), Value::UInt(n))),
        id().prop_map(|n| ("caller".to_owned(), Value::UInt(n))),
        text(range).prop_map(|s| ("topic".to_owned(), Value::String(s))),
        ids.prop_map(|l| ("exclude".to_owned(), l)),
        strings.prop_map(|l| ("eligible_authid".to_owned(), l)),
        prop_oneof![Just("exact"), Just("prefix"), Just("wildcard")]
            .prop_map(|m| ("match".to_owned(), Value::from(m))),
        prop_oneof![Just("skip"), Just("kill"), Just("killnowait")]
            .prop_map(|m| ("mode".to_owned(), Value::from(m))),
        vec(free_dict(range).prop_map(Value::Dict), 0..3)
            .prop_map(|l| ("forward_for".to_owned(), Value::List(l))),
    ]
    .boxed()
}

/// An Options/Details dict the decoder checks: random unknown keys (kept as they are) and some
/// well-known keys with values of the right type.
fn checked_dict(range: Range) -> BoxedStrategy<Dict> {
    let unknown = btree_map(
        text(range).prop_filter("a well-known key", |k| !KNOWN_KEYS.contains(&k.as_str())),
        value(range),
        0..4,
    );
    (unknown, vec(known_entry(range), 0..3))
        .prop_map(|(mut dict, known)| {
            dict.extend(known);
            dict
        })
        .boxed()
}

/// Arguments and keyword arguments (built as the decoder builds them: both empty is no payload).
fn args_payload(range: Range) -> BoxedStrategy<Payload> {
    prop_oneof![
        1 => Just(Payload::Empty),
        4 => (vec(value(range), 0..5), free_dict(range))
            .prop_map(|(args, kwargs)| Payload::new(args, kwargs)),
    ]
    .boxed()
}

/// Options/Details and a payload; a transparent (binary) payload comes with the `ppt_scheme` or
/// `enc_algo` that allows it.
fn dict_and_payload(range: Range) -> BoxedStrategy<(Dict, Payload)> {
    prop_oneof![
        4 => (checked_dict(range), args_payload(range)),
        1 => (
            checked_dict(range),
            prop_oneof![
                Just(("ppt_scheme", Value::from("x_custom"))),
                Just(("enc_algo", Value::from("cryptobox"))),
            ],
            vec(any::<u8>(), 0..64),
        )
            .prop_map(|(mut dict, (key, scheme), bytes)| {
                dict.insert(key.to_owned(), scheme);
                (dict, Payload::Transparent(bytes))
            }),
    ]
    .boxed()
}

/// Any WAMP message, every type of the catalogue.
fn message(range: Range) -> BoxedStrategy<Message> {
    let r = range;
    one_of![
        (uri(r), free_dict(r)).prop_map(|(realm, details)| Message::Hello { realm, details }),
        (id(), free_dict(r)).prop_map(|(session, details)| Message::Welcome { session, details }),
        (free_dict(r), uri(r), args_payload(r)).prop_map(|(details, reason, payload)| {
            Message::Abort {
                details,
                reason,
                payload,
            }
        }),
        (text(r), free_dict(r)).prop_map(|(method, extra)| Message::Challenge { method, extra }),
        (text(r), free_dict(r))
            .prop_map(|(signature, extra)| Message::Authenticate { signature, extra }),
        (free_dict(r), uri(r)).prop_map(|(details, reason)| Message::Goodbye { details, reason }),
        (
            prop_oneof![
                Just(code::PUBLISH),
                Just(code::SUBSCRIBE),
                Just(code::UNSUBSCRIBE),
                Just(code::CALL),
                Just(code::REGISTER),
                Just(code::UNREGISTER),
                Just(code::INVOCATION),
            ],
            id(),
            dict_and_payload(r),
            uri(r),
        )
            .prop_map(|(request_type, request, (details, payload), error)| {
                Message::Error {
                    request_type,
                    request,
                    details,
                    error,
                    payload,
                }
            }),
        (id(), dict_and_payload(r), uri(r)).prop_map(|(request, (options, payload), topic)| {
            Message::Publish {
                request,
                options,
                topic,
                payload,
            }
        }),
        (id(), id()).prop_map(|(request, publication)| Message::Published {
            request,
            publication
        }),
        (id(), checked_dict(r), text(r)).prop_map(|(request, options, topic)| {
            Message::Subscribe {
                request,
                options,
                topic,
            }
        }),
        (id(), id()).prop_map(|(request, subscription)| Message::Subscribed {
            request,
            subscription
        }),
        (id(), id()).prop_map(|(request, subscription)| Message::Unsubscribe {
            request,
            subscription
        }),
        prop_oneof![
            id().prop_map(|request| Message::Unsubscribed {
                request,
                details: None
            }),
            free_dict(r).prop_map(|details| Message::Unsubscribed {
                request: 0,
                details: Some(details)
            }),
        ],
        (id(), id(), dict_and_payload(r)).prop_map(
            |(subscription, publication, (details, payload))| Message::Event {
                subscription,
                publication,
                details,
                payload,
            }
        ),
        (id(), dict_and_payload(r), uri(r)).prop_map(|(request, (options, payload), procedure)| {
            Message::Call {
                request,
                options,
                procedure,
                payload,
            }
        }),
        (id(), checked_dict(r)).prop_map(|(request, options)| Message::Cancel { request, options }),
        (id(), dict_and_payload(r)).prop_map(|(request, (details, payload))| Message::Result {
            request,
            details,
            payload,
        }),
        (id(), checked_dict(r), text(r)).prop_map(|(request, options, procedure)| {
            Message::Register {
                request,
                options,
                procedure,
            }
        }),
        (id(), id()).prop_map(|(request, registration)| Message::Registered {
            request,
            registration
        }),
        (id(), id()).prop_map(|(request, registration)| Message::Unregister {
            request,
            registration
        }),
        prop_oneof![
            id().prop_map(|request| Message::Unregistered {
                request,
                details: None
            }),
            free_dict(r).prop_map(|details| Message::Unregistered {
                request: 0,
                details: Some(details)
            }),
        ],
        (id(), id(), dict_and_payload(r)).prop_map(
            |(request, registration, (details, payload))| Message::Invocation {
                request,
                registration,
                details,
                payload,
            }
        ),
        (id(), checked_dict(r))
            .prop_map(|(request, options)| Message::Interrupt { request, options }),
        (id(), dict_and_payload(r)).prop_map(|(request, (options, payload))| Message::Yield {
            request,
            options,
            payload,
        }),
        id().prop_map(|publication| Message::EventReceived { publication }),
    ]
    .boxed()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Encodes and decodes `message` with `serializer`; it must come back unchanged.
fn assert_round_trip(serializer: Serializer, message: &Message) -> Result<(), TestCaseError> {
    let bytes = serializer
        .encode(message)
        .map_err(|e| TestCaseError::fail(format!("{serializer}: cannot encode: {e}")))?;
    let decoded = serializer.decode(&bytes).map_err(|e| {
        TestCaseError::fail(format!(
            "{serializer}: own encoding {} does not decode: {e}",
            hex(&bytes)
        ))
    })?;
    prop_assert_eq!(&decoded, message, "{} via {}", serializer, hex(&bytes));
    Ok(())
}

/// Decodes arbitrary bytes: no panic, and what decodes encodes again to the same message.
fn check_decode(serializer: Serializer, bytes: &[u8]) -> Result<(), TestCaseError> {
    let decoded = catch_unwind(AssertUnwindSafe(|| serializer.decode(bytes))).map_err(|_| {
        TestCaseError::fail(format!("{serializer}: decode panicked on {}", hex(bytes)))
    })?;
    if let Ok(message) = decoded {
        assert_round_trip(serializer, &message)
            .map_err(|e| TestCaseError::fail(format!("input {}: {e}", hex(bytes))))?;
    }
    Ok(())
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
    Truncate { keep: usize },
    Duplicate { from: usize, len: usize, at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        (at, any::<u8>()).prop_map(|(at, byte)| Edit::Set { at, byte }),
        (at, any::<u8>()).prop_map(|(at, byte)| Edit::Insert { at, byte }),
        at.prop_map(|at| Edit::Remove { at }),
        at.prop_map(|keep| Edit::Truncate { keep }),
        (at, 1usize..16, at).prop_map(|(from, len, at)| Edit::Duplicate { from, len, at }),
    ]
}

/// Applies `edits` to `bytes`; positions wrap around the current length.
fn mutate(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        let pick = |i: usize| if len == 0 { 0 } else { i % len };
        match *edit {
            Edit::Flip { at, bit } if len > 0 => bytes[pick(at)] ^= 1 << bit,
            Edit::Set { at, byte } if len > 0 => bytes[pick(at)] = byte,
            Edit::Insert { at, byte } => bytes.insert(at % (len + 1), byte),
            Edit::Remove { at } if len > 0 => {
                bytes.remove(pick(at));
            }
            Edit::Truncate { keep } => bytes.truncate(keep % (len + 1)),
            Edit::Duplicate { from, len: n, at } if len > 0 => {
                let start = pick(from);
                let end = (start + n).min(len);
                let chunk = bytes[start..end].to_vec();
                let at = at % (len + 1);
                bytes.splice(at..at, chunk);
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn messages_round_trip_through_msgpack_and_cbor(message in message(Range::All)) {
        assert_round_trip(Serializer::MsgPack, &message)?;
        assert_round_trip(Serializer::Cbor, &message)?;
    }

    #[test]
    fn json_compatible_messages_round_trip_through_every_serializer(
        message in message(Range::Json)
    ) {
        for serializer in Serializer::ALL {
            assert_round_trip(serializer, &message)?;
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(bytes in vec(any::<u8>(), 0..256)) {
        for serializer in Serializer::ALL {
            check_decode(serializer, &bytes)?;
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_json_decoder(
        text in prop_oneof![
            any::<String>(),
            "[\\[\\]{}\",:0-9a-z.eE+\\-\\\\u ]{0,64}",
        ]
    ) {
        check_decode(Serializer::Json, text.as_bytes())?;
    }

    #[test]
    fn mutated_encodings_never_panic_the_decoders(
        message in message(Range::All),
        edits in vec(edit(), 1..4),
    ) {
        for serializer in Serializer::ALL {
            let Ok(bytes) = serializer.encode(&message) else {
                continue;
            };
            check_decode(serializer, &mutate(bytes, &edits))?;
        }
    }

    /// Arbitrary values (not necessarily messages) as each serializer encodes them, mutated:
    /// wrong arity, wrong field types, unknown codes, deep nesting.
    #[test]
    fn arbitrary_arrays_never_panic_the_decoders(
        code in prop_oneof![
            prop_oneof![
                Just(1u64), Just(2), Just(3), Just(4), Just(6), Just(8), Just(17), Just(33),
                Just(35), Just(36), Just(50), Just(65), Just(67), Just(68), Just(69), Just(337),
            ],
            any::<u64>(),
        ],
        items in vec(value(Range::All), 0..7),
        edits in vec(edit(), 0..3),
    ) {
        let mut array = vec![Value::UInt(code)];
        array.extend(items);
        let array = Value::List(array);
        for serializer in Serializer::ALL {
            let bytes = match serializer {
                Serializer::MsgPack => rmp_serde::to_vec(&array).unwrap(),
                Serializer::Cbor => {
                    let mut out = Vec::new();
                    ciborium::into_writer(&array, &mut out).unwrap();
                    out
                }
                _ => array.to_string().into_bytes(),
            };
            check_decode(serializer, &mutate(bytes, &edits))?;
        }
    }
}

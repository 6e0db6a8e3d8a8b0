//! Malformed input never panics the wire layer, and every kind of malformation is reported as the
//! right [`InvalidMessage`], with all three serializers.
// Needs all three serializers: compiled with those features only (`cargo test --workspace` has them).
#![cfg(all(feature = "msgpack", feature = "cbor"))]
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use wamp_testkit::ARITY;

use serde_json::{Value as Json, json};
use wampkit::wire::{InvalidMessage, MAX_ID, Message, Payload, Serializer};
use wampkit::{Dict, Value};

/// Encodes an arbitrary value (not necessarily a valid message) the way `serializer` would.
fn encode_value(serializer: Serializer, value: &Value) -> Vec<u8> {
    match serializer {
        // `Display` renders JSON with bytes in the WAMP binary convention.
        Serializer::Json => value.to_string().into_bytes(),
        Serializer::MsgPack => rmp_serde::to_vec(value).unwrap(),
        Serializer::Cbor => {
            let mut out = Vec::new();
            ciborium::into_writer(value, &mut out).unwrap();
            out
        }
        other => panic!("serializer {other} is not covered by this test"),
    }
}

/// `wire` (JSON notation; `"\u0000" + base64` strings are bytes) encoded with `serializer`.
fn wire(serializer: Serializer, wire: &Json) -> Vec<u8> {
    encode_value(serializer, &Value::from(wire.clone()))
}

/// Decodes, turning a panic into a test failure that names the input.
fn decode(serializer: Serializer, bytes: &[u8]) -> Result<Message, InvalidMessage> {
    catch_unwind(AssertUnwindSafe(|| serializer.decode(bytes))).unwrap_or_else(|_| {
        panic!(
            "{serializer} decode panicked on {} bytes: {}",
            bytes.len(),
            hex(bytes)
        )
    })
}

fn decode_wire(serializer: Serializer, message: &Json) -> Result<Message, InvalidMessage> {
    decode(serializer, &wire(serializer, message))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Asserts that `message` is rejected with the error `check` accepts, for every serializer.
#[track_caller]
fn assert_rejected(message: &Json, what: &str, check: impl Fn(&InvalidMessage) -> bool) {
    for serializer in Serializer::ALL {
        match decode_wire(serializer, message) {
            Ok(decoded) => panic!("{serializer}: {message} was accepted as {decoded:?} ({what})"),
            Err(e) => assert!(
                check(&e),
                "{serializer}: {message} was rejected with the wrong error: {e:?} ({what})"
            ),
        }
    }
}

/// Asserts that `message` decodes with every serializer, to the same message, and round-trips.
#[track_caller]
fn assert_accepted(message: &Json) -> Message {
    let mut first: Option<Message> = None;
    for serializer in Serializer::ALL {
        let decoded = decode_wire(serializer, message)
            .unwrap_or_else(|e| panic!("{serializer}: {message} was rejected: {e}"));
        assert_round_trip(serializer, &decoded);
        if let Some(first) = &first {
            assert_eq!(
                &decoded, first,
                "{serializer} decodes {message} differently"
            );
        }
        first = Some(decoded);
    }
    first.unwrap()
}

/// Anything that decodes encodes again and decodes to the same message.
#[track_caller]
fn assert_round_trip(serializer: Serializer, message: &Message) {
    let bytes = serializer
        .encode(message)
        .unwrap_or_else(|e| panic!("{serializer}: cannot re-encode {message:?}: {e}"));
    let again = decode(serializer, &bytes)
        .unwrap_or_else(|e| panic!("{serializer}: re-encoded {message:?} does not decode: {e}"));
    assert_eq!(
        &again, message,
        "{serializer}: round trip changed the message"
    );
}

fn is_syntax(e: &InvalidMessage) -> bool {
    matches!(e, InvalidMessage::Syntax { .. })
}

fn is_not_a_message(e: &InvalidMessage) -> bool {
    matches!(e, InvalidMessage::NotAMessage(_))
}

fn is_field(e: &InvalidMessage, field_part: &str, problem_part: &str) -> bool {
    matches!(e, InvalidMessage::Field { field, problem, .. }
        if field.contains(field_part) && problem.contains(problem_part))
}

/// One valid message of every type, in every legal length, with a few interesting contents.
fn valid_messages() -> Vec<Json> {
    vec![
        json!([1, "realm1", {"roles": {"caller": {}, "subscriber": {}}}]),
        json!([2, 9_129_137_332_u64, {"roles": {"broker": {}, "dealer": {}}, "x_cb_node": "n1"}]),
        json!([3, {}, "wamp.error.no_such_realm"]),
        json!([3, {"message": "no"}, "wamp.error.no_such_realm", ["why"]]),
        json!([3, {}, "wamp.error.no_such_realm", [], {"k": [1, 2]}]),
        json!([4, "wampcra", {"challenge": "{\"nonce\": 1}"}]),
        json!([5, "gir1mSx+deCDUV7FgLvsQNTi6n3W/Z/WcZ/OT9RwdZY=", {}]),
        json!([6, {}, "wamp.close.normal"]),
        json!([8, 48, 1, {}, "com.myapp.error"]),
        json!([8, 68, 2, {}, "com.myapp.error", [1, -2, 3.5]]),
        json!([8, 32, 3, {}, "wamp.error.not_authorized", [], {"reason": null}]),
        json!([8, 48, 4, {"ppt_scheme": "mqtt"}, "com.myapp.error", "\u{0}AQID"]),
        json!([16, 1, {}, "com.myapp.topic"]),
        json!([16, 2, {"acknowledge": true, "exclude": [1, 2], "x_custom": 1}, "t", ["a"]]),
        json!([16, 3, {"exclude_me": false}, "t", ["a", "\u{0}/w=="], {"b": {"c": []}}]),
        json!([16, 4, {"enc_algo": "cryptobox", "enc_serializer": "cbor"}, "t", "\u{0}AQID"]),
        json!([17, 1, MAX_ID]),
        json!([32, 1, {"match": "prefix", "get_retained": true}, "com.myapp"]),
        json!([33, 1, 2]),
        json!([34, 1, 2]),
        json!([35, 1]),
        json!([35, 0, {"subscription": 5, "reason": "wamp.error.revoked"}]),
        json!([36, 1, 2, {}]),
        json!([36, 1, 2, {"publisher": 7, "topic": "t"}, [null, true, "s"]]),
        json!([36, 1, 2, {"retained": true}, [], {"k": -9_007_199_254_740_993_i64}]),
        json!([36, 1, 2, {"enc_algo": "cryptobox"}, "\u{0}AA=="]),
        json!([48, 1, {}, "com.myapp.add"]),
        json!([48, 2, {"timeout": 1000, "receive_progress": true}, "p", [2, -3]]),
        json!([48, 3, {}, "p", [], {"x": 1.5, "y": [{}]}]),
        json!([49, 1, {"mode": "kill"}]),
        json!([50, 1, {}]),
        json!([50, 2, {"progress": true}, ["partial"]]),
        json!([50, 3, {}, [], {"total": 3}]),
        json!([50, 4, {"ppt_scheme": "x", "ppt_serializer": "native"}, "\u{0}AQID"]),
        json!([64, 1, {"invoke": "roundrobin", "match": "wildcard"}, "com..add"]),
        json!([65, 1, 2]),
        json!([66, 1, 2]),
        json!([67, 1]),
        json!([67, 0, {"registration": 2, "reason": "wamp.error.revoked"}]),
        json!([68, 1, 2, {}]),
        json!([68, 1, 2, {"caller": 3, "procedure": "p", "receive_progress": true}, [1]]),
        json!([68, 1, 2, {}, [], {"a": "b"}]),
        json!([69, 1, {"mode": "killnowait"}]),
        json!([70, 1, {}]),
        json!([70, 2, {"progress": true}, [1]]),
        json!([70, 3, {}, [1], {"a": 1}]),
        json!([337, 1]),
    ]
}

/// The encodings of the JSON, MessagePack and CBOR serialization samples of the conformance vectors.
fn vector_encodings() -> Vec<(Serializer, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/conformance/wamp-testsuite/singlemessage"),
        &mut files,
    );
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let vector: Json = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        for sample in vector["samples"].as_array().unwrap() {
            let Some(serializers) = sample["serializers"].as_object() else {
                continue;
            };
            for (name, encodings) in serializers {
                let serializer = match name.as_str() {
                    "json" => Serializer::Json,
                    "msgpack" => Serializer::MsgPack,
                    "cbor" => Serializer::Cbor,
                    _ => continue,
                };
                for encoding in encodings.as_array().unwrap() {
                    let text = encoding["bytes_hex"].as_str().unwrap();
                    let bytes = (0..text.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                        .collect();
                    out.push((serializer, bytes));
                }
            }
        }
    }
    out
}

/// Every valid encoding this file knows: the vectors' and the valid messages in every serializer.
fn valid_encodings() -> Vec<(Serializer, Vec<u8>)> {
    let mut out = vector_encodings();
    assert_eq!(
        out.len(),
        59 + 35 + 35,
        "the conformance vectors were not all found"
    );
    for message in valid_messages() {
        for serializer in Serializer::ALL {
            out.push((serializer, wire(serializer, &message)));
        }
    }
    for (serializer, bytes) in &out {
        decode(*serializer, bytes).unwrap_or_else(|e| {
            panic!("{serializer}: valid encoding {} rejected: {e}", hex(bytes))
        });
    }
    out
}

/// Random inputs per serializer in each fuzz loop.
const FUZZ_CASES: usize = 20_000;

/// A small deterministic PRNG (xorshift64*), so that failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// A random value of bounded depth and size, biased towards what WAMP messages hold.
    fn value(&mut self, depth: usize) -> Value {
        let kinds = if depth == 0 { 9 } else { 11 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.next() & 1 == 1),
            2 => Value::UInt(self.below(5) as u64),
            3 => Value::UInt([0, 1, MAX_ID, MAX_ID + 1, u64::MAX, 48, 16, 36][self.below(8)]),
            4 => Value::Int(-(self.below(1000) as i64) - 1),
            5 => Value::Float([0.0, 1.0, -1.5, f64::NAN, 1e300][self.below(5)]),
            6 => Value::from(
                [
                    "",
                    "com.myapp.topic",
                    "wamp.error.x",
                    "exact",
                    "prefix",
                    "kill",
                    "cryptobox",
                    "\u{0}",
                    "zwölf",
                ][self.below(9)],
            ),
            7 => {
                let len = self.below(6);
                Value::Bytes(self.bytes(len))
            }
            8 => Value::from(["a", "b"][self.below(2)]),
            9 => Value::List((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
            _ => {
                const KEYS: &[&str] = &[
                    "acknowledge",
                    "exclude",
                    "match",
                    "timeout",
                    "enc_algo",
                    "ppt_scheme",
                    "publisher",
                    "forward_for",
                    "roles",
                    "x_cb_node",
                    "_custom",
                    "subscription",
                ];
                let mut dict = Dict::new();
                for _ in 0..self.below(4) {
                    dict.insert(
                        KEYS[self.below(KEYS.len())].to_owned(),
                        self.value(depth - 1),
                    );
                }
                Value::Dict(dict)
            }
        }
    }

    /// A random message-like array: a known (or random) type code followed by random elements,
    /// mostly as many as that type allows and mostly of the kinds its fields want.
    fn message(&mut self) -> Value {
        let (code, len) = if self.below(10) == 0 {
            (self.next() % 1024, self.below(8))
        } else {
            let (code, _, min, max) = ARITY[self.below(ARITY.len())];
            let len = if self.below(5) == 0 {
                self.below(8)
            } else {
                min + self.below(max - min + 1)
            };
            (code, len)
        };
        let mut items = vec![Value::UInt(code)];
        for _ in 1..len {
            let item = match self.below(4) {
                0 => Value::UInt(1 + self.below(3) as u64),
                1 => Value::Dict(Dict::new()),
                _ => self.value(3),
            };
            items.push(item);
        }
        Value::List(items)
    }

    /// Applies one to three random edits to `bytes`.
    fn mutate(&mut self, bytes: &mut Vec<u8>) {
        for _ in 0..=self.below(3) {
            let len = bytes.len();
            match self.below(7) {
                0 if len > 0 => {
                    let i = self.below(len);
                    bytes[i] ^= 1 << self.below(8);
                }
                1 if len > 0 => {
                    let i = self.below(len);
                    bytes[i] = self.next() as u8;
                }
                2 => {
                    let i = self.below(len + 1);
                    let b = self.next() as u8;
                    bytes.insert(i, b);
                }
                3 if len > 0 => {
                    let i = self.below(len);
                    bytes.remove(i);
                }
                4 => {
                    let keep = self.below(len + 1);
                    bytes.truncate(keep);
                }
                5 if len > 0 && len < 512 => {
                    let start = self.below(len);
                    let end = start + self.below(len - start) + 1;
                    let chunk = bytes[start..end].to_vec();
                    let at = self.below(len + 1);
                    bytes.splice(at..at, chunk);
                }
                6 if len > 1 => {
                    let (i, j) = (self.below(len), self.below(len));
                    bytes.swap(i, j);
                }
                _ => {}
            }
        }
    }
}

/// Decodes fuzzed input: it must not panic, and what it accepts must round-trip.
///
/// The round trip is compared modulo the known empty-arguments bug (see
/// [`empty_arguments_round_trip`]), so that the fuzzers keep looking for other problems.
fn fuzz_one(serializer: Serializer, bytes: &[u8]) -> bool {
    let decoded = decode(serializer, bytes);
    // `decode` takes a fast path for RESULT, EVENT and INVOCATION: it must agree, acceptance and
    // error alike, with the general path (a value tree, then structural validation).
    let general = serializer
        .decode_value(bytes)
        .and_then(wampkit::wire::message_from_value);
    assert_eq!(
        decoded,
        general,
        "{serializer}: decode and the general decoder disagree on {}",
        hex(bytes)
    );
    match decoded {
        Ok(message) => {
            let encoded = serializer
                .encode(&message)
                .unwrap_or_else(|e| panic!("{serializer}: cannot re-encode {message:?}: {e}"));
            let again = decode(serializer, &encoded).unwrap_or_else(|e| {
                panic!("{serializer}: re-encoded {message:?} does not decode: {e}")
            });
            assert_eq!(
                again,
                message,
                "{serializer}: round trip of {} changed the message",
                hex(bytes)
            );
            true
        }
        Err(_) => false,
    }
}

#[test]
fn valid_messages_decode_in_every_serializer() {
    for message in valid_messages() {
        assert_accepted(&message);
    }
    // Every message type is represented, in every legal length.
    let valid = valid_messages();
    for &(code, name, min, max) in ARITY {
        for len in min..=max {
            assert!(
                valid
                    .iter()
                    .any(|m| m[0] == json!(code) && m.as_array().unwrap().len() == len),
                "no valid {name} message of length {len} in valid_messages()"
            );
        }
    }
}

#[test]
fn empty_input() {
    for serializer in Serializer::ALL {
        let e = decode(serializer, b"").unwrap_err();
        assert!(is_syntax(&e), "{serializer}: {e:?}");
    }
}

#[test]
fn garbage_bytes() {
    let garbage: &[&[u8]] = &[
        b"\xff",
        b"\xff\xfe\xfd\xfc",
        b"\xc1",             // MessagePack: never used
        b"\x1c",             // CBOR: reserved additional information
        b"\xff\xff\xff\xff", // CBOR: lone breaks
        b"\xef\xbb\xbf[1]",  // JSON with a byte order mark
        b"[1,",
        b"]",
        b"{\"a\":",
        b"\x00\x00\x00\x00\x00",
        b"\x80\x80\x80",
        b"hello, world",
        b"\xdd\xff\xff\xff\xff", // MessagePack: array32 claiming 4 billion elements
        b"\xc6\xff\xff\xff\xff\x01", // MessagePack: bin32 claiming 4 GiB
        b"\x9b\xff\xff\xff\xff\xff\xff\xff\xff", // CBOR: array claiming 2^64-1 elements
        b"\x5b\x7f\xff\xff\xff\xff\xff\xff\xff\x00", // CBOR: bytes claiming 2^63-1 bytes
        b"\x7b\x7f\xff\xff\xff\xff\xff\xff\xff\x00", // CBOR: text claiming 2^63-1 bytes
        b"\x82\x01\xc2\x49\x01\x00\x00\x00\x00\x00\x00\x00\x00", // CBOR: bignum of 2^64
    ];
    for serializer in Serializer::ALL {
        for bytes in garbage {
            assert!(
                decode(serializer, bytes).is_err(),
                "{serializer} accepted garbage {}",
                hex(bytes)
            );
        }
    }
    // Invalid UTF-8 is not JSON.
    assert!(is_syntax(
        &decode(Serializer::Json, b"[1,\"\xff\",{}]").unwrap_err()
    ));
}

#[test]
fn truncated_encodings_are_syntax_errors() {
    for (serializer, bytes) in valid_encodings() {
        for len in 0..bytes.len() {
            let e = decode(serializer, &bytes[..len]).expect_err(&format!(
                "{serializer}: a {len}-byte prefix of {} was accepted",
                hex(&bytes)
            ));
            assert!(
                is_syntax(&e),
                "{serializer}: prefix of {}: {e:?}",
                hex(&bytes)
            );
        }
    }
}

#[test]
fn trailing_data_is_a_syntax_error() {
    for (serializer, bytes) in valid_encodings() {
        let tails: Vec<Vec<u8>> = match serializer {
            // Trailing whitespace is legal JSON; anything else is not.
            Serializer::Json => vec![b"x".to_vec(), b"[]".to_vec(), b" 0".to_vec(), b",".to_vec()],
            _ => vec![vec![0x00], vec![0x90], vec![0x80], vec![0xc0], vec![0xf6]],
        };
        for tail in tails.into_iter().chain([bytes.clone()]) {
            let mut input = bytes.clone();
            input.extend_from_slice(&tail);
            let e = decode(serializer, &input).expect_err(&format!(
                "{serializer}: {} with trailing {} was accepted",
                hex(&bytes),
                hex(&tail)
            ));
            assert!(is_syntax(&e), "{serializer}: {e:?}");
        }
        if serializer == Serializer::Json {
            let mut input = bytes.clone();
            input.extend_from_slice(b" \n\t");
            decode(serializer, &input).unwrap();
        }
    }
}

#[test]
fn non_array_is_not_a_message() {
    for value in [
        json!(1),
        json!(-1),
        json!(1.5),
        json!("x"),
        json!("\u{0}AQID"),
        json!(null),
        json!(true),
        json!({}),
        json!({"0": 48}),
    ] {
        assert_rejected(&value, "not an array", is_not_a_message);
    }
}

#[test]
fn empty_array_is_not_a_message() {
    assert_rejected(&json!([]), "empty array", |e| {
        is_not_a_message(e) && e.to_string().contains("empty")
    });
}

#[test]
fn non_integer_type_code_is_not_a_message() {
    for message in [
        json!(["HELLO", "realm1", {}]),
        json!(["1", "realm1", {}]),
        json!([1.0, "realm1", {}]),
        json!([-1, "realm1", {}]),
        json!([null, "realm1", {}]),
        json!([true, "realm1", {}]),
        json!([[1], "realm1", {}]),
        json!([{"type": 1}, "realm1", {}]),
        json!(["\u{0}AQ==", "realm1", {}]),
    ] {
        assert_rejected(&message, "non-integer code", is_not_a_message);
    }
}

#[test]
fn unknown_type_code() {
    for code in [0_u64, 7, 9, 37, 71, 999, 1 << 53, u64::MAX] {
        for message in [
            json!([code]),
            json!([code, 1, {}]),
            json!([code, 1, 2, 3, 4, 5, 6, 7]),
        ] {
            assert_rejected(
                &message,
                "unknown code",
                |e| matches!(e, InvalidMessage::UnknownType(c) if *c == code),
            );
        }
    }
}

#[test]
fn wrong_arity_for_every_message_type() {
    for &(code, name, min, max) in ARITY {
        for len in 1..=max + 2 {
            if (min..=max).contains(&len) {
                continue;
            }
            let mut items = vec![json!(code)];
            items.extend((1..len).map(|i| json!(i)));
            let message = Json::Array(items);
            assert_rejected(
                &message,
                "wrong arity",
                |e| matches!(e, InvalidMessage::Arity { message, got, .. } if *message == name && *got == len),
            );
        }
    }
}

/// Every id field: a message template and the index of the id in it.
fn id_fields() -> Vec<(Json, usize)> {
    vec![
        (json!([2, 0, {}]), 1),
        (json!([8, 48, 0, {}, "e"]), 2),
        (json!([16, 0, {}, "t"]), 1),
        (json!([17, 0, 1]), 1),
        (json!([17, 1, 0]), 2),
        (json!([32, 0, {}, "t"]), 1),
        (json!([33, 0, 1]), 1),
        (json!([33, 1, 0]), 2),
        (json!([34, 0, 1]), 1),
        (json!([34, 1, 0]), 2),
        (json!([35, 0]), 1),
        (json!([36, 0, 1, {}]), 1),
        (json!([36, 1, 0, {}]), 2),
        (json!([48, 0, {}, "p"]), 1),
        (json!([49, 0, {}]), 1),
        (json!([50, 0, {}]), 1),
        (json!([64, 0, {}, "p"]), 1),
        (json!([65, 0, 1]), 1),
        (json!([65, 1, 0]), 2),
        (json!([66, 0, 1]), 1),
        (json!([66, 1, 0]), 2),
        (json!([67, 0]), 1),
        (json!([68, 0, 1, {}]), 1),
        (json!([68, 1, 0, {}]), 2),
        (json!([69, 0, {}]), 1),
        (json!([70, 0, {}]), 1),
        (json!([337, 0]), 1),
    ]
}

#[test]
fn invalid_ids_are_rejected() {
    let bad = [
        json!(0),
        json!(MAX_ID + 1),
        json!(u64::MAX),
        json!(-1),
        json!(i64::MIN),
        json!(1.5),
        json!(1.0),
        json!("1"),
        json!(null),
        json!(true),
        json!([1]),
        json!({"id": 1}),
        json!("\u{0}AQ=="),
    ];
    for (template, at) in id_fields() {
        for id in &bad {
            let mut message = template.clone();
            message[at] = id.clone();
            assert_rejected(&message, "bad id", |e| is_field(e, "id", "must be an id"));
        }
        for id in [json!(1), json!(MAX_ID)] {
            let mut message = template.clone();
            message[at] = id;
            assert_accepted(&message);
        }
    }
}

#[test]
fn wrong_container_types_are_rejected() {
    let cases = [
        // Dicts where the arguments list belongs.
        (
            json!([48, 1, {}, "p", {"a": 1}]),
            "Arguments",
            "must be a list",
        ),
        (
            json!([16, 1, {}, "t", {"a": 1}, {"b": 2}]),
            "Arguments",
            "must be a list",
        ),
        (
            json!([36, 1, 2, {}, {"a": 1}]),
            "Arguments",
            "must be a list",
        ),
        (json!([50, 1, {}, {"a": 1}]), "Arguments", "must be a list"),
        (
            json!([68, 1, 2, {}, {"a": 1}]),
            "Arguments",
            "must be a list",
        ),
        (json!([70, 1, {}, {"a": 1}]), "Arguments", "must be a list"),
        (
            json!([3, {}, "wamp.error.x", {"a": 1}]),
            "Arguments",
            "must be a list",
        ),
        (
            json!([8, 48, 1, {}, "e", {"a": 1}]),
            "Arguments",
            "must be a list",
        ),
        (
            json!([48, 1, {}, "p", "text"]),
            "Arguments",
            "must be a list",
        ),
        (json!([48, 1, {}, "p", null]), "Arguments", "must be a list"),
        // A dict inside Options where a list belongs.
        (
            json!([16, 1, {"exclude": {"1": 1}}, "t"]),
            "exclude",
            "list",
        ),
        (
            json!([16, 1, {"forward_for": {"session": 1}}, "t"]),
            "forward_for",
            "list",
        ),
        // Lists (and others) where dicts belong.
        (json!([48, 1, [], "p"]), "Options", "must be a dict"),
        (
            json!([48, 1, {}, "p", [], []]),
            "ArgumentsKw",
            "must be a dict",
        ),
        (
            json!([48, 1, {}, "p", [], "k"]),
            "ArgumentsKw",
            "must be a dict",
        ),
        (json!([1, "realm1", []]), "Details", "must be a dict"),
        (json!([2, 1, null]), "Details", "must be a dict"),
        (json!([36, 1, 2, []]), "Details", "must be a dict"),
        (json!([4, "wampcra", []]), "Extra", "must be a dict"),
        (
            json!([6, [], "wamp.close.normal"]),
            "Details",
            "must be a dict",
        ),
        (json!([35, 0, []]), "Details", "must be a dict"),
        // Strings and URIs.
        (json!([1, "", {}]), "Realm", "non-empty"),
        (json!([1, 1, {}]), "Realm", "must be a string"),
        (json!([48, 1, {}, ["p"]]), "Procedure", "must be a string"),
        (json!([16, 1, {}, "\u{0}AQ=="]), "Topic", "must be a string"),
        (json!([5, {}, {}]), "Signature", "must be a string"),
        (json!([8, 48, 1, {}, ""]), "Error", "non-empty"),
        // A transparent (binary) payload needs enc_algo or ppt_scheme, and nothing after it.
        (
            json!([48, 1, {}, "p", "\u{0}AQID"]),
            "Arguments",
            "must be a list",
        ),
        (
            json!([3, {"enc_algo": "cryptobox"}, "r", "\u{0}AQID"]),
            "Arguments",
            "must be a list",
        ),
        (
            json!([48, 1, {"enc_algo": "cryptobox"}, "p", "\u{0}AQID", {}]),
            "ArgumentsKw",
            "absent",
        ),
    ];
    for (message, field, problem) in cases {
        assert_rejected(&message, "wrong type", |e| is_field(e, field, problem));
    }
}

/// Runs `f` on a thread with the stack a tokio worker gets (2 MiB), so that unbounded recursion
/// would overflow it rather than go unnoticed on a bigger main-thread stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn nested(serializer: Serializer, depth: usize, kind: &str) -> Vec<u8> {
    let (open, close): (&[u8], &[u8]) = match (serializer, kind) {
        (Serializer::Json, "list") => (b"[", b"]"),
        (Serializer::Json, "dict") => (b"{\"a\":", b"}"),
        (Serializer::MsgPack, "list") => (&[0x91], &[]),
        (Serializer::MsgPack, "dict") => (&[0x81, 0xa1, b'a'], &[]),
        (Serializer::Cbor, "list") => (&[0x81], &[]),
        (Serializer::Cbor, "dict") => (&[0xa1, 0x61, b'a'], &[]),
        (Serializer::Cbor, "tag") => (&[0xc6], &[]),
        _ => unreachable!(),
    };
    // One byte that is a complete scalar in all three formats (JSON 1, MessagePack 49, CBOR -18).
    let leaf: &[u8] = b"1";
    let mut out = Vec::new();
    for _ in 0..depth {
        out.extend_from_slice(open);
    }
    out.extend_from_slice(leaf);
    for _ in 0..depth {
        out.extend_from_slice(close);
    }
    out
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    on_small_stack(|| {
        for serializer in Serializer::ALL {
            let kinds: &[&str] = if serializer == Serializer::Cbor {
                &["list", "dict", "tag"]
            } else {
                &["list", "dict"]
            };
            for kind in kinds {
                let bytes = nested(serializer, 10_000, kind);
                let e = decode(serializer, &bytes).unwrap_err();
                assert!(is_syntax(&e), "{serializer} {kind}: {e:?}");
            }
            // Deeply nested arguments inside an otherwise valid CALL (the deep part is built
            // as bytes: building it as a value would recurse in the test itself).
            let bytes = match serializer {
                Serializer::Json => {
                    let mut s = String::from("[48,1,{},\"p\",");
                    s.push_str(&"[".repeat(10_001));
                    s.push('1');
                    s.push_str(&"]".repeat(10_002));
                    s.into_bytes()
                }
                _ => {
                    let mut s = match serializer {
                        Serializer::MsgPack => vec![0x95, 0x30, 0x01, 0x80, 0xa1, b'p'],
                        _ => vec![0x85, 0x18, 0x30, 0x01, 0xa0, 0x61, b'p'],
                    };
                    s.extend(nested(serializer, 10_001, "list"));
                    s
                }
            };
            let e = decode(serializer, &bytes).unwrap_err();
            assert!(is_syntax(&e), "{serializer} deep call: {e:?}");
            // Moderate nesting is still fine.
            let mut moderate = json!(1);
            for _ in 0..60 {
                moderate = json!([moderate]);
            }
            let message = json!([48, 1, {}, "p", [moderate]]);
            decode_wire(serializer, &message).unwrap();
        }
    });
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for serializer in Serializer::ALL {
        let prefixes: &[&[u8]] = match serializer {
            Serializer::Json => &[b"", b"[", b"[48,", b"[16,1,{", b"[36,1,2,{},"],
            Serializer::MsgPack => &[b"", b"\x93", b"\x95\x30\x01", b"\x96\x10", b"\xdc\x00\x05"],
            _ => &[b"", b"\x83", b"\x85\x18\x30\x01", b"\x9f", b"\x86\x10"],
        };
        let mut accepted = 0;
        for case in 0..FUZZ_CASES {
            let prefix = prefixes[case % prefixes.len()];
            let len = rng.below(64);
            let mut bytes = prefix.to_vec();
            bytes.extend(rng.bytes(len));
            accepted += usize::from(fuzz_one(serializer, &bytes));
        }
        println!("{serializer}: {accepted} of {FUZZ_CASES} random byte strings decoded");
    }
}

#[test]
fn random_messages_never_panic() {
    let mut rng = XorShift(0x0123_4567_89AB_CDEF);
    for serializer in Serializer::ALL {
        let mut accepted = 0;
        for _ in 0..FUZZ_CASES {
            let message = rng.message();
            let bytes = encode_value(serializer, &message);
            accepted += usize::from(fuzz_one(serializer, &bytes));
        }
        // The generator is biased towards valid shapes: some must get through.
        assert!(accepted > 0, "{serializer}: no random message decoded");
        println!("{serializer}: {accepted} of {FUZZ_CASES} random messages decoded");
    }
}

#[test]
fn random_mutations_of_valid_encodings_never_panic() {
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    let encodings = valid_encodings();
    let mut cases = 0;
    for (serializer, bytes) in &encodings {
        for _ in 0..150 {
            let mut mutated = bytes.clone();
            rng.mutate(&mut mutated);
            fuzz_one(*serializer, &mutated);
            cases += 1;
        }
    }
    assert!(cases >= 20_000, "only {cases} mutation cases");
}

#[test]
fn error_with_invalid_request_type_is_rejected() {
    for request_type in [
        0_u64, 1, 2, 3, 6, 8, 17, 33, 35, 36, 49, 50, 65, 67, 69, 70, 337, 999,
    ] {
        let message = json!([8, request_type, 1, {}, "com.myapp.error"]);
        assert_rejected(&message, "request type", |e| {
            is_field(e, "REQUEST.Type", "is not a request an ERROR can answer")
        });
    }
    for request_type in [json!(-48), json!(48.0), json!("48"), json!(null)] {
        let message = json!([8, request_type, 1, {}, "com.myapp.error"]);
        assert_rejected(&message, "request type", |e| {
            is_field(e, "REQUEST.Type", "non-negative integer")
        });
    }
    for request_type in [16_u64, 32, 34, 48, 64, 66, 68] {
        let message = assert_accepted(&json!([8, request_type, 1, {}, "com.myapp.error"]));
        assert!(matches!(message, Message::Error { request_type: t, .. } if t == request_type));
    }
}

#[test]
fn revocation_forms_of_unsubscribed_and_unregistered() {
    let message = assert_accepted(&json!([35, 0, {"subscription": 5}]));
    assert_eq!(
        message,
        Message::Unsubscribed {
            request: 0,
            details: Some(Dict::from([("subscription".to_owned(), Value::from(5))])),
        }
    );
    let message = assert_accepted(&json!([67, 0, {"registration": 7, "reason": "wamp.error.x"}]));
    assert!(matches!(
        message,
        Message::Unregistered { request: 0, details: Some(ref d) } if d.get("registration") == Some(&Value::from(7))
    ));
    let message = assert_accepted(&json!([35, 12]));
    assert_eq!(
        message,
        Message::Unsubscribed {
            request: 12,
            details: None
        }
    );
    for code in [35, 67] {
        // Request 0 without details is not a reply to any request.
        assert_rejected(&json!([code, 0]), "id 0", |e| {
            is_field(e, "Request", "must be an id")
        });
        // With details the request must be 0.
        assert_rejected(&json!([code, 5, {}]), "revocation", |e| {
            is_field(e, "Request", "must be 0")
        });
        assert_rejected(&json!([code, -1, {}]), "revocation", |e| {
            is_field(e, "Request", "non-negative integer")
        });
    }
}

#[test]
fn known_option_keys_with_wrong_types_are_rejected() {
    let cases = [
        (json!([16, 1, {"acknowledge": "yes"}, "t"]), "acknowledge"),
        (json!([16, 1, {"acknowledge": 1}, "t"]), "acknowledge"),
        (json!([16, 1, {"exclude_me": null}, "t"]), "exclude_me"),
        (json!([16, 1, {"exclude": [0]}, "t"]), "exclude"),
        (json!([16, 1, {"exclude": [1.5]}, "t"]), "exclude"),
        (json!([16, 1, {"eligible": [MAX_ID + 1]}, "t"]), "eligible"),
        (
            json!([16, 1, {"eligible_authid": "alice"}, "t"]),
            "eligible_authid",
        ),
        (
            json!([16, 1, {"exclude_authrole": [1]}, "t"]),
            "exclude_authrole",
        ),
        (json!([16, 1, {"forward_for": [1]}, "t"]), "forward_for"),
        (json!([16, 1, {"ppt_scheme": 1}, "t"]), "ppt_scheme"),
        (json!([32, 1, {"match": "regex"}, "t"]), "match"),
        (
            json!([32, 1, {"get_retained": "true"}, "t"]),
            "get_retained",
        ),
        (json!([48, 1, {"timeout": -1}, "p"]), "timeout"),
        (json!([48, 1, {"timeout": "10"}, "p"]), "timeout"),
        (json!([48, 1, {"timeout": 1.5}, "p"]), "timeout"),
        (
            json!([48, 1, {"receive_progress": 1}, "p"]),
            "receive_progress",
        ),
        (json!([48, 1, {"disclose_me": "true"}, "p"]), "disclose_me"),
        (json!([49, 1, {"mode": "hard"}]), "mode"),
        (json!([69, 1, {"mode": 1}]), "mode"),
        (json!([64, 1, {"invoke": "all"}, "p"]), "invoke"),
        (json!([64, 1, {"match": 1}, "p"]), "match"),
        (
            json!([64, 1, {"disclose_caller": 0}, "p"]),
            "disclose_caller",
        ),
        (json!([36, 1, 2, {"publisher": 0}]), "publisher"),
        (json!([36, 1, 2, {"publisher": "x"}]), "publisher"),
        (json!([36, 1, 2, {"retained": 1}]), "retained"),
        (json!([36, 1, 2, {"topic": ["t"]}]), "topic"),
        (json!([68, 1, 2, {"caller": -5}]), "caller"),
        (json!([68, 1, 2, {"procedure": 5}]), "procedure"),
        (
            json!([68, 1, 2, {"receive_progress": "yes"}]),
            "receive_progress",
        ),
        (json!([50, 1, {"progress": "true"}]), "progress"),
        (json!([70, 1, {"progress": 1}]), "progress"),
        (json!([8, 48, 1, {"enc_algo": "rot13"}, "e"]), "enc_algo"),
        (
            json!([8, 48, 1, {"enc_serializer": 5}, "e"]),
            "enc_serializer",
        ),
    ];
    for (message, key) in cases {
        assert_rejected(&message, key, |e| {
            matches!(e, InvalidMessage::Field { field, .. } if field.ends_with(&format!(".{key}")))
                && e.to_string().contains(key)
        });
    }
}

#[test]
fn unknown_option_keys_are_accepted_and_kept() {
    let extra = json!({
        "x_cb_node": "node1",
        "_custom": {"a": [1, "\u{0}AQ=="]},
        "x_foo": null,
        "custom_key": -5,
    });
    let mut templates = vec![
        (json!([2, 1, {}]), 2),
        (json!([3, {}, "wamp.error.x"]), 1),
        (json!([6, {}, "wamp.close.normal"]), 1),
        (json!([8, 48, 1, {}, "e"]), 3),
        (json!([16, 1, {}, "t"]), 2),
        (json!([32, 1, {}, "t"]), 2),
        (json!([36, 1, 2, {}]), 3),
        (json!([48, 1, {}, "p"]), 2),
        (json!([49, 1, {}]), 2),
        (json!([50, 1, {}]), 2),
        (json!([64, 1, {}, "p"]), 2),
        (json!([68, 1, 2, {}]), 3),
        (json!([69, 1, {}]), 2),
        (json!([70, 1, {}]), 2),
    ];
    // With a well-typed known key beside the unknown ones.
    templates.push((json!([16, 1, {"acknowledge": true}, "t"]), 2));
    for (template, at) in templates {
        let mut message = template.clone();
        for (key, value) in extra.as_object().unwrap() {
            message[at][key] = value.clone();
        }
        let decoded = assert_accepted(&message);
        let dict = match &decoded {
            Message::Welcome { details, .. }
            | Message::Abort { details, .. }
            | Message::Goodbye { details, .. }
            | Message::Error { details, .. }
            | Message::Event { details, .. }
            | Message::Result { details, .. }
            | Message::Invocation { details, .. } => details,
            Message::Publish { options, .. }
            | Message::Subscribe { options, .. }
            | Message::Call { options, .. }
            | Message::Cancel { options, .. }
            | Message::Register { options, .. }
            | Message::Interrupt { options, .. }
            | Message::Yield { options, .. } => options,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(dict.get("x_cb_node"), Some(&Value::from("node1")));
        assert_eq!(
            dict.get("_custom"),
            Some(&Value::from(json!({"a": [1, "\u{0}AQ=="]})))
        );
        assert_eq!(dict.get("x_foo"), Some(&Value::Null));
        assert_eq!(dict.get("custom_key"), Some(&Value::from(-5)));
    }
}

#[test]
fn transparent_payloads_decode_as_bytes() {
    let message = assert_accepted(&json!([16, 4, {"enc_algo": "cryptobox"}, "t", "\u{0}AQID"]));
    assert!(matches!(
        message,
        Message::Publish { payload: Payload::Transparent(ref b), .. } if b == &[1, 2, 3]
    ));
}

/// An explicitly empty arguments list decodes as `Payload::Args { args: [], kwargs: {} }`, which
/// the encoder leaves off the wire, so it comes back as `Payload::Empty`: not the same message.
#[test]
fn empty_arguments_round_trip() {
    for message in [
        json!([48, 1, {}, "p", []]),
        json!([48, 1, {}, "p", [], {}]),
        json!([50, 1, {}, []]),
        json!([36, 1, 2, {}, [], {}]),
    ] {
        assert_accepted(&message);
    }
}

/// JSON numbers must decode to the nearest `f64`, so that a float survives a round trip through
/// any correct JSON peer (Autobahn|Python, browsers) and through this client's own encoder.
#[test]
fn json_floats_decode_exactly() {
    for x in [
        -9.007_199_254_747_199e25_f64,
        8.248_338_285_090_229e55,
        1.008_639_816_124_825_7e149,
        6.022_140_76e23,
        1.602_176_634e-19,
        6.626_070_15e-34,
    ] {
        let text = format!("[50,1,{{}},[{x:e}]]");
        let message = Serializer::Json.decode(text.as_bytes()).unwrap();
        let Message::Result { payload, .. } = &message else {
            panic!("{message:?}");
        };
        let (args, _) = payload.clone().into_parts();
        let Value::Float(got) = args[0] else {
            panic!("{args:?}");
        };
        assert_eq!(got.to_bits(), x.to_bits(), "{text} decoded as {got:e}");
        // And the client's own JSON encoding of it comes back unchanged.
        let again = Serializer::Json
            .decode(&Serializer::Json.encode(&message).unwrap())
            .unwrap();
        assert_eq!(again, message);
    }
}

/// Every serializer accepts 127 levels of nesting (the message's own array included) and refuses
/// 128, for lists and dicts alike, with an error rather than a stack overflow on a 2 MiB stack:
/// CBOR used to allow 256.
#[test]
fn nesting_just_beyond_the_limit_is_refused_by_every_serializer() {
    on_small_stack(|| {
        for serializer in Serializer::ALL {
            for kind in ["list", "dict"] {
                let within = nested(serializer, 127, kind);
                let decoded = serializer.decode_value(&within);
                assert!(decoded.is_ok(), "{serializer} {kind} 127: {decoded:?}");
                for depth in [128, 129, 256, 257] {
                    let e = serializer
                        .decode_value(&nested(serializer, depth, kind))
                        .unwrap_err();
                    assert!(is_syntax(&e), "{serializer} {kind} {depth}: {e:?}");
                }
            }
            // Inside a CALL: the message's array and 127 levels of arguments (128) are refused.
            let mut call = match serializer {
                Serializer::Json => b"[48,1,{},\"p\",".to_vec(),
                Serializer::MsgPack => vec![0x95, 0x30, 0x01, 0x80, 0xa1, b'p'],
                _ => vec![0x85, 0x18, 0x30, 0x01, 0xa0, 0x61, b'p'],
            };
            call.extend(nested(serializer, 127, "list"));
            if serializer == Serializer::Json {
                call.push(b']');
            }
            let e = decode(serializer, &call).unwrap_err();
            assert!(is_syntax(&e), "{serializer} deep call: {e:?}");
        }
    });
}

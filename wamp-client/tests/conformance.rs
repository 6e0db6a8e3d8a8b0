//! The official WAMP conformance vectors (`tests/conformance/wamp-testsuite`, see its NOTICE.md):
//! every JSON, MessagePack and CBOR encoding of every serialization sample decodes to the expected
//! attributes and survives a round trip through all three serializers, and every validation sample
//! is accepted or rejected as the vector says.
//!
//! Run with `cargo test -p wampkit-client --test conformance -- --nocapture` to see the counts.
// Needs all three serializers: compiled with those features only (`cargo test --workspace` has them).
#![cfg(all(feature = "msgpack", feature = "cbor"))]
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};
use wampkit::wire::{Message, Payload, Serializer};
use wampkit::{Dict, Value};

/// The vectors, copied unchanged from the WAMP specification repository.
const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/conformance/wamp-testsuite"
);

// What the vectors hold, counted independently of this test (with a Python one-liner over the
// JSON files). If a file or sample is silently skipped, these no longer match and the test fails.
/// `singlemessage/**/*.json` files.
const EXPECTED_FILES: usize = 26;
/// Serialization samples (`serializers` + `expected_attributes`).
const EXPECTED_SERIALIZATION_SAMPLES: usize = 35;
/// Validation samples (`wmsg`, optional `expected_error`).
const EXPECTED_VALIDATION_SAMPLES: usize = 67;
/// Validation samples with an `expected_error`.
const EXPECTED_REJECTIONS: usize = 28;
/// Encodings per serializer, in the order of [`Serializer::ALL`] (json, msgpack, cbor).
const EXPECTED_ENCODINGS: [usize; 3] = [59, 35, 35];
/// Encodings of serializers this client does not speak (ubjson, flatbuffers), skipped on purpose.
const EXPECTED_SKIPPED_ENCODINGS: usize = 70 + 34;

/// Every `*.json` file below `dir`, recursively, in a stable order.
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            out.push(path);
        }
    }
}

fn hex_decode(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 2 != 0 {
        return Err(format!("odd-length hex string ({} digits)", text.len()));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("invalid hex digits at offset {i}"))
        })
        .collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn dict_json(dict: &Dict) -> Json {
    Json::from(&Value::Dict(dict.clone()))
}

/// Adds the `args`, `kwargs` and `payload` attributes. Empty arguments are `null`, as the vectors
/// write them; a transparent payload is its bytes in lower-case hex.
fn payload_attributes(attrs: &mut Map<String, Json>, payload: &Payload) {
    let (args, kwargs, transparent) = match payload {
        Payload::Args { .. } | Payload::Raw(_) => {
            // A received payload may be kept as its bytes: read its values.
            let (args, kwargs) = payload.clone().into_parts();
            let args = if args.is_empty() {
                Json::Null
            } else {
                Json::from(&Value::List(args))
            };
            let kwargs = if kwargs.is_empty() {
                Json::Null
            } else {
                dict_json(&kwargs)
            };
            (args, kwargs, Json::Null)
        }
        Payload::Transparent(bytes) => (Json::Null, Json::Null, Json::String(hex_encode(bytes))),
        Payload::Empty => (Json::Null, Json::Null, Json::Null),
    };
    attrs.insert("args".into(), args);
    attrs.insert("kwargs".into(), kwargs);
    attrs.insert("payload".into(), transparent);
}

/// A decoded message as the attributes the vectors' `expected_attributes` name.
fn attributes(message: &Message) -> Map<String, Json> {
    let mut a = Map::new();
    let mut put = |key: &str, value: Json| {
        a.insert(key.to_owned(), value);
    };
    put("message_type", Json::from(message.code()));
    match message {
        Message::Hello { realm, details } => {
            put("realm", Json::from(realm.as_str()));
            put("details", dict_json(details));
            // The HELLO/WELCOME vectors list only the roles out of the details.
            put("roles", details.get("roles").map_or(Json::Null, Json::from));
        }
        Message::Welcome { session, details } => {
            put("session_id", Json::from(*session));
            put("details", dict_json(details));
            put("roles", details.get("roles").map_or(Json::Null, Json::from));
        }
        Message::Abort {
            details,
            reason,
            payload,
        } => {
            put("details", dict_json(details));
            put("reason", Json::from(reason.as_str()));
            payload_attributes(&mut a, payload);
        }
        Message::Challenge { method, extra } => {
            put("method", Json::from(method.as_str()));
            put("extra", dict_json(extra));
        }
        Message::Authenticate { signature, extra } => {
            put("signature", Json::from(signature.as_str()));
            put("extra", dict_json(extra));
        }
        Message::Goodbye { details, reason } => {
            put("details", dict_json(details));
            put("reason", Json::from(reason.as_str()));
        }
        Message::Error {
            request_type,
            request,
            details,
            error,
            payload,
        } => {
            put("request_type", Json::from(*request_type));
            put("request_id", Json::from(*request));
            put("details", dict_json(details));
            put("error", Json::from(error.as_str()));
            payload_attributes(&mut a, payload);
        }
        Message::Publish {
            request,
            options,
            topic,
            payload,
        } => {
            put("request_id", Json::from(*request));
            put("options", dict_json(options));
            put("topic", Json::from(topic.as_str()));
            payload_attributes(&mut a, payload);
        }
        Message::Published {
            request,
            publication,
        } => {
            put("request_id", Json::from(*request));
            put("publication_id", Json::from(*publication));
        }
        Message::Subscribe {
            request,
            options,
            topic,
        } => {
            put("request_id", Json::from(*request));
            put("options", dict_json(options));
            put("topic", Json::from(topic.as_str()));
        }
        Message::Subscribed {
            request,
            subscription,
        }
        | Message::Unsubscribe {
            request,
            subscription,
        } => {
            put("request_id", Json::from(*request));
            put("subscription_id", Json::from(*subscription));
        }
        Message::Unsubscribed { request, details } | Message::Unregistered { request, details } => {
            put("request_id", Json::from(*request));
            put("details", details.as_ref().map_or(Json::Null, dict_json));
        }
        Message::Event {
            subscription,
            publication,
            details,
            payload,
        } => {
            // EVENT is the one message whose vectors say `subscription` / `publication`.
            put("subscription", Json::from(*subscription));
            put("publication", Json::from(*publication));
            put("details", dict_json(details));
            payload_attributes(&mut a, payload);
        }
        Message::Call {
            request,
            options,
            procedure,
            payload,
        } => {
            put("request_id", Json::from(*request));
            put("options", dict_json(options));
            put("procedure", Json::from(procedure.as_str()));
            payload_attributes(&mut a, payload);
        }
        Message::Cancel { request, options } | Message::Interrupt { request, options } => {
            put("request_id", Json::from(*request));
            put("options", dict_json(options));
        }
        Message::Result {
            request,
            details,
            payload,
        } => {
            put("request_id", Json::from(*request));
            put("details", dict_json(details));
            payload_attributes(&mut a, payload);
        }
        Message::Register {
            request,
            options,
            procedure,
        } => {
            put("request_id", Json::from(*request));
            put("options", dict_json(options));
            put("procedure", Json::from(procedure.as_str()));
        }
        Message::Registered {
            request,
            registration,
        }
        | Message::Unregister {
            request,
            registration,
        } => {
            put("request_id", Json::from(*request));
            put("registration_id", Json::from(*registration));
        }
        Message::Invocation {
            request,
            registration,
            details,
            payload,
        } => {
            put("request_id", Json::from(*request));
            put("registration_id", Json::from(*registration));
            put("details", dict_json(details));
            payload_attributes(&mut a, payload);
        }
        Message::Yield {
            request,
            options,
            payload,
        } => {
            put("request_id", Json::from(*request));
            put("options", dict_json(options));
            payload_attributes(&mut a, payload);
        }
        Message::EventReceived { publication } => {
            put("publication_id", Json::from(*publication));
        }
    }
    a
}

/// An attribute value made comparable.
///
/// - `args` / `kwargs`: `null`, `[]` and `{}` all mean "absent".
/// - `payload`: the transparent payload is the only binary value in any `expected_attributes`
///   (checked: no expected value holds a `"\u0000…"` string), given as hex; compared in lower case.
/// - Anything else goes through [`Value`] and back, which turns a string in the WAMP JSON binary
///   convention (`"\u0000" + base64`) into bytes and re-encodes it canonically, so that binary
///   expected values would compare fairly against decoded bytes.
fn normalize(key: &str, value: &Json) -> Json {
    match (key, value) {
        ("args" | "kwargs", Json::Array(a)) if a.is_empty() => Json::Null,
        ("args" | "kwargs", Json::Object(o)) if o.is_empty() => Json::Null,
        ("payload", Json::String(s)) => Json::String(s.to_ascii_lowercase()),
        _ => Json::from(&Value::from(value.clone())),
    }
}

/// Compares the expected attributes (only those listed) with the decoded message.
fn check_attributes(message: &Message, expected: &Map<String, Json>) -> Result<(), String> {
    let actual = attributes(message);
    let mut problems = Vec::new();
    for (key, want) in expected {
        match actual.get(key) {
            None => problems.push(format!(
                "attribute `{key}` is not produced for {}",
                message.name()
            )),
            Some(got) => {
                let (want, got) = (normalize(key, want), normalize(key, got));
                if want != got {
                    problems.push(format!("`{key}`: expected {want}, got {got}"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Whether any string anywhere in `value` is in the WAMP JSON binary convention.
fn holds_json_binary(value: &Json) -> bool {
    match value {
        Json::String(s) => s.starts_with('\0'),
        Json::Array(a) => a.iter().any(holds_json_binary),
        Json::Object(o) => o.values().any(holds_json_binary),
        _ => false,
    }
}

/// Where the Options/Details dict and the payload sit in the wire array of the messages that can
/// carry a transparent payload.
fn transparent_layout(code: u64) -> Option<(usize, usize)> {
    match code {
        8 => Some((3, 5)),       // ERROR
        16 | 48 => Some((2, 4)), // PUBLISH, CALL
        36 | 68 => Some((3, 4)), // EVENT, INVOCATION
        50 | 70 => Some((2, 3)), // RESULT, YIELD
        _ => None,
    }
}

/// The JSON text a peer would send for a validation sample's `wmsg`.
///
/// The vectors write a transparent payload (announced by `enc_algo`/`ppt_scheme` in the
/// Options/Details) as a hex string, just as `expected_attributes.payload` gives payload bytes in
/// hex: the intent is binary payload bytes. On the JSON wire a plain string is not binary (only a
/// `"\u0000" + base64` string is, by the WAMP binary convention), and a plain string where the
/// arguments list belongs is rightly rejected. So such a hex string is turned into those bytes,
/// encoded in the binary convention, before the message is serialized; nothing else is changed.
/// Returns the JSON text and, when a payload was converted, its bytes.
fn validation_wire_json(wmsg: &Json) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    let mut wmsg = wmsg.clone();
    let mut transparent = None;
    let layout = wmsg
        .get(0)
        .and_then(Json::as_u64)
        .and_then(transparent_layout);
    if let (Some((dict_at, payload_at)), Some(items)) = (layout, wmsg.as_array_mut()) {
        let marked = items
            .get(dict_at)
            .and_then(Json::as_object)
            .is_some_and(|d| d.contains_key("enc_algo") || d.contains_key("ppt_scheme"));
        if let (true, Some(Json::String(text))) = (marked, items.get(payload_at)) {
            let bytes = hex_decode(text)
                .map_err(|e| format!("transparent payload {text:?} is not hex: {e}"))?;
            items[payload_at] = Json::from(&Value::Bytes(bytes.clone()));
            transparent = Some(bytes);
        }
    }
    let text = serde_json::to_vec(&wmsg).map_err(|e| e.to_string())?;
    Ok((text, transparent))
}

#[derive(Default)]
struct Counts {
    files: usize,
    serialization_samples: usize,
    encodings: [usize; 3],
    skipped_encodings: usize,
    round_trips: usize,
    byte_exact: usize,
    validation_samples: usize,
    rejections: usize,
}

fn serializer_index(serializer: Serializer) -> usize {
    Serializer::ALL
        .iter()
        .position(|s| *s == serializer)
        .unwrap()
}

struct Run {
    counts: Counts,
    failures: Vec<String>,
}

impl Run {
    fn fail(&mut self, file: &str, description: &str, serializer: &str, reason: impl AsRef<str>) {
        self.failures.push(format!(
            "{file} | {description} | {serializer} | {}",
            reason.as_ref()
        ));
    }

    fn serialization_sample(&mut self, file: &str, sample: &Json) {
        let description = sample["description"].as_str().unwrap_or("?");
        let Some(expected) = sample["expected_attributes"].as_object() else {
            self.fail(file, description, "-", "no expected_attributes object");
            return;
        };
        if expected
            .iter()
            .any(|(key, value)| key != "payload" && holds_json_binary(value))
        {
            self.fail(
                file,
                description,
                "-",
                "an expected attribute holds binary: extend normalize() to compare it",
            );
        }
        let Some(serializers) = sample["serializers"].as_object() else {
            self.fail(file, description, "-", "no serializers object");
            return;
        };
        for (name, encodings) in serializers {
            let encodings = encodings.as_array().map_or(&[][..], Vec::as_slice);
            let serializer = match name.as_str() {
                "json" => Serializer::Json,
                "msgpack" => Serializer::MsgPack,
                "cbor" => Serializer::Cbor,
                // Serializers this client does not speak.
                "ubjson" | "flatbuffers" => {
                    self.counts.skipped_encodings += encodings.len();
                    continue;
                }
                other => {
                    self.fail(
                        file,
                        description,
                        other,
                        "unknown serializer in the vectors",
                    );
                    continue;
                }
            };
            for (n, encoding) in encodings.iter().enumerate() {
                let label = format!("{name}#{n}");
                self.counts.encodings[serializer_index(serializer)] += 1;
                let Some(hex) = encoding["bytes_hex"].as_str() else {
                    self.fail(file, description, &label, "no bytes_hex");
                    continue;
                };
                let bytes = match hex_decode(hex) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        self.fail(file, description, &label, format!("bad bytes_hex: {e}"));
                        continue;
                    }
                };
                if let Some(text) = encoding["bytes"].as_str() {
                    if text.as_bytes() != bytes.as_slice() {
                        self.fail(file, description, &label, "`bytes` and `bytes_hex` differ");
                    }
                }
                let message = match serializer.decode(&bytes) {
                    Ok(message) => message,
                    Err(e) => {
                        self.fail(file, description, &label, format!("decode failed: {e}"));
                        continue;
                    }
                };
                if let Err(e) = check_attributes(&message, expected) {
                    self.fail(file, description, &label, e);
                }
                self.round_trips(file, description, &label, serializer, &message, encodings);
            }
        }
    }

    /// Encodes the decoded message with every serializer and decodes it back.
    fn round_trips(
        &mut self,
        file: &str,
        description: &str,
        label: &str,
        source: Serializer,
        message: &Message,
        source_encodings: &[Json],
    ) {
        for target in Serializer::ALL {
            self.counts.round_trips += 1;
            let route = format!("{label} -> {target}");
            let encoded = match target.encode(message) {
                Ok(encoded) => encoded,
                Err(e) => {
                    self.fail(file, description, &route, format!("encode failed: {e}"));
                    continue;
                }
            };
            if target == source {
                // Informational: the vectors accept any of several encodings, and key order or
                // whitespace may legitimately differ, so a byte-for-byte match is not required.
                let exact = source_encodings
                    .iter()
                    .filter_map(|e| e["bytes_hex"].as_str())
                    .any(|hex| hex_decode(hex).is_ok_and(|b| b == encoded));
                self.counts.byte_exact += usize::from(exact);
            }
            match target.decode(&encoded) {
                Ok(again) if again == *message => {}
                Ok(again) => self.fail(
                    file,
                    description,
                    &route,
                    format!("round trip changed the message: {message:?} became {again:?}"),
                ),
                Err(e) => self.fail(
                    file,
                    description,
                    &route,
                    format!(
                        "re-decoding failed: {e} (bytes {})",
                        String::from_utf8_lossy(&encoded)
                    ),
                ),
            }
        }
    }

    fn validation_sample(&mut self, file: &str, sample: &Json) {
        self.counts.validation_samples += 1;
        let description = sample["description"].as_str().unwrap_or("?");
        let (text, transparent) = match validation_wire_json(&sample["wmsg"]) {
            Ok(prepared) => prepared,
            Err(e) => {
                self.fail(file, description, "json", e);
                return;
            }
        };
        let result = Serializer::Json.decode(&text);
        let shown = String::from_utf8_lossy(&text).replace('\0', "\\u0000");
        match (sample.get("expected_error"), result) {
            (Some(expected_error), result) => {
                self.counts.rejections += 1;
                let contains = expected_error["contains"].as_str().unwrap_or("");
                match result {
                    Ok(message) => self.fail(
                        file,
                        description,
                        "json",
                        format!("{shown} was accepted as {message:?}, expected an error containing {contains:?}"),
                    ),
                    Err(e) if e.to_string().contains(contains) => {}
                    Err(e) => self.fail(
                        file,
                        description,
                        "json",
                        format!("{shown} was rejected with `{e}`, which does not contain {contains:?}"),
                    ),
                }
            }
            (None, Err(e)) => self.fail(
                file,
                description,
                "json",
                format!("{shown} was rejected: {e}"),
            ),
            (None, Ok(message)) => {
                if let Some(bytes) = transparent {
                    let payload = match &message {
                        Message::Publish { payload, .. }
                        | Message::Event { payload, .. }
                        | Message::Call { payload, .. }
                        | Message::Invocation { payload, .. }
                        | Message::Result { payload, .. }
                        | Message::Yield { payload, .. }
                        | Message::Error { payload, .. } => Some(payload),
                        _ => None,
                    };
                    if payload != Some(&Payload::Transparent(bytes)) {
                        self.fail(
                            file,
                            description,
                            "json",
                            format!("transparent payload not decoded as such: {message:?}"),
                        );
                    }
                }
                // A message that decodes must also survive every serializer.
                for target in Serializer::ALL {
                    let back = target
                        .encode(&message)
                        .map_err(|e| e.to_string())
                        .and_then(|encoded| target.decode(&encoded).map_err(|e| e.to_string()));
                    if back.as_ref() != Ok(&message) {
                        self.fail(
                            file,
                            description,
                            &format!("json -> {target}"),
                            format!("round trip of {message:?} gave {back:?}"),
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn wamp_testsuite_singlemessage_vectors() {
    let root = Path::new(SUITE).join("singlemessage");
    let mut files = Vec::new();
    json_files(&root, &mut files);
    let mut run = Run {
        counts: Counts::default(),
        failures: Vec::new(),
    };
    for path in &files {
        run.counts.files += 1;
        let file = path
            .strip_prefix(SUITE)
            .unwrap_or(path)
            .display()
            .to_string();
        let vector: Json = match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_slice(&text).map_err(|e| e.to_string()))
        {
            Ok(vector) => vector,
            Err(e) => {
                run.fail(&file, "-", "-", format!("cannot read the vector file: {e}"));
                continue;
            }
        };
        let Some(samples) = vector["samples"].as_array() else {
            run.fail(&file, "-", "-", "no samples list");
            continue;
        };
        for sample in samples {
            if sample.get("wmsg").is_some() {
                run.validation_sample(&file, sample);
            } else if sample.get("serializers").is_some() {
                run.counts.serialization_samples += 1;
                run.serialization_sample(&file, sample);
            } else {
                let description = sample["description"].as_str().unwrap_or("?");
                run.fail(
                    &file,
                    description,
                    "-",
                    "neither a serialization nor a validation sample",
                );
            }
        }
    }

    let c = &run.counts;
    println!("conformance vectors: {SUITE}");
    println!("  files:                      {}", c.files);
    println!("  serialization samples:      {}", c.serialization_samples);
    println!("  decoded encodings, json:    {}", c.encodings[0]);
    println!("  decoded encodings, msgpack: {}", c.encodings[1]);
    println!("  decoded encodings, cbor:    {}", c.encodings[2]);
    println!(
        "  skipped encodings (ubjson, flatbuffers): {}",
        c.skipped_encodings
    );
    println!(
        "  round trips:                {} (each decoded encoding through json, msgpack and cbor)",
        c.round_trips
    );
    println!(
        "  re-encoded byte-for-byte as one of the vector's encodings (informational): {} of {}",
        c.byte_exact,
        c.encodings.iter().sum::<usize>()
    );
    println!(
        "  validation samples:         {} ({} to reject, {} to accept)",
        c.validation_samples,
        c.rejections,
        c.validation_samples - c.rejections
    );
    println!("  failures:                   {}", run.failures.len());

    assert!(
        run.failures.is_empty(),
        "{} conformance failures (file | description | serializer | reason):\n{}",
        run.failures.len(),
        run.failures.join("\n")
    );
    assert!(c.files > 0 && c.serialization_samples > 0 && c.validation_samples > 0);
    assert!(c.encodings.iter().all(|&n| n > 0) && c.round_trips > 0);
    assert_eq!(c.files, EXPECTED_FILES, "vector files");
    assert_eq!(
        c.serialization_samples, EXPECTED_SERIALIZATION_SAMPLES,
        "serialization samples"
    );
    assert_eq!(
        c.serialization_samples + c.validation_samples,
        102,
        "samples in all (NOTICE.md)"
    );
    assert_eq!(
        c.encodings, EXPECTED_ENCODINGS,
        "json/msgpack/cbor encodings"
    );
    assert_eq!(
        c.skipped_encodings, EXPECTED_SKIPPED_ENCODINGS,
        "skipped encodings"
    );
    assert_eq!(
        c.round_trips,
        3 * EXPECTED_ENCODINGS.iter().sum::<usize>(),
        "round trips"
    );
    assert_eq!(
        c.validation_samples, EXPECTED_VALIDATION_SAMPLES,
        "validation samples"
    );
    assert_eq!(
        c.rejections, EXPECTED_REJECTIONS,
        "validation samples to reject"
    );
}

/// The attribute mapping itself, on messages the vectors do not cover.
#[test]
fn attribute_mapping_covers_payload_forms() {
    let transparent = Message::Result {
        request: 1,
        details: Dict::from([("ppt_scheme".to_owned(), Value::from("x"))]),
        payload: Payload::Transparent(vec![0x00, 0xab, 0xff]),
    };
    let a = attributes(&transparent);
    assert_eq!(a["payload"], Json::from("00abff"));
    assert_eq!(a["args"], Json::Null);
    let kwargs_only = Message::Yield {
        request: 1,
        options: Dict::new(),
        payload: Payload::new(Vec::new(), Dict::from([("k".to_owned(), Value::from(1))])),
    };
    let a = attributes(&kwargs_only);
    assert_eq!(a["args"], Json::Null);
    assert_eq!(a["kwargs"], serde_json::json!({"k": 1}));
    // Binary inside arguments compares fairly with an expected value in the JSON convention.
    let expected = serde_json::json!({"args": ["\u{0}AKv/"]});
    let with_bytes = Message::Result {
        request: 1,
        details: Dict::new(),
        payload: Payload::new(vec![Value::Bytes(vec![0x00, 0xab, 0xff])], Dict::new()),
    };
    check_attributes(&with_bytes, expected.as_object().unwrap()).unwrap();
    assert!(
        check_attributes(
            &with_bytes,
            serde_json::json!({"args": ["AKv/"]}).as_object().unwrap()
        )
        .is_err()
    );
}

use super::*;
use crate::e2ee::{attach, take_encoded};

// Keys and a box made by PyNaCl (the library under Autobahn's cryptobox): the private keys are
// the bytes 0..32 and 32..64.
const A_PRIVATE: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const A_PUBLIC: &str = "j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=";
const B_PRIVATE: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const B_PUBLIC: &str = "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=";
/// `Box(a, b.public).encrypt(b'{"uri":"com.example.add","args":[2,3],"kwargs":{"x":"\u0000AQI="}}',
/// nonce=bytes(range(100, 124)))`: the nonce, then the ciphertext.
const PYNACL_BOX: &str = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7nK/Z3edtdUJIKB5ip9a7up6hHqbdIxSKlJ86KQZRwvohJmGklNq0fhiKbSsG9GDjlSVXx6g73HQN8S40fDgZyn3HH33rMflZUCPo1eB3NDe6ig==";

fn caller_ring() -> KeyRing {
    KeyRing::new().with_key(
        "com.example.",
        Key::originator(A_PRIVATE, B_PUBLIC).unwrap(),
    )
}

fn callee_ring() -> KeyRing {
    KeyRing::new().with_key("com.example.", Key::responder(B_PRIVATE, A_PUBLIC).unwrap())
}

fn encoded(bytes: Vec<u8>) -> EncodedPayload {
    EncodedPayload {
        scheme: "wamp".into(),
        serializer: "json".into(),
        cipher: Some("xsalsa20poly1305".into()),
        key_id: None,
        bytes,
    }
}

fn args() -> (Vec<Value>, Dict) {
    let mut kwargs = Dict::new();
    kwargs.insert("x".into(), Value::Bytes(vec![1, 2]));
    (vec![Value::from(2), Value::from(3)], kwargs)
}

#[test]
fn a_box_made_by_pynacl_decodes() {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(PYNACL_BOX)
        .unwrap();
    assert_eq!(&bytes[..24], &(100u8..124).collect::<Vec<_>>()[..]);
    let decoded = callee_ring()
        .decode(PayloadRole::Responder, "com.example.add", &encoded(bytes))
        .unwrap();
    let (args, kwargs) = args();
    assert_eq!(decoded.uri.as_deref(), Some("com.example.add"));
    assert_eq!((decoded.args, decoded.kwargs), (args, kwargs));
}

#[test]
fn originator_and_responder_keys_round_trip_both_ways() {
    let (args, kwargs) = args();
    let call = caller_ring()
        .encode(PayloadRole::Originator, "com.example.add", &args, &kwargs)
        .unwrap()
        .unwrap();
    let json = r#"{"args":[2,3],"kwargs":{"x":"\u0000AQI="},"uri":"com.example.add"}"#;
    assert_eq!(
        call.bytes.len(),
        24 + 16 + json.len(),
        "nonce, tag, the JSON text"
    );
    let decoded = callee_ring()
        .decode(PayloadRole::Responder, "com.example.add", &call)
        .unwrap();
    assert_eq!(
        (decoded.args, decoded.kwargs),
        (args.clone(), kwargs.clone())
    );

    // The answer goes back the other way, with the same pair of keys.
    let both = |private, public| Key::originator(private, public).unwrap();
    let callee = KeyRing::new().with_key(
        "com.example.",
        both(A_PRIVATE, B_PUBLIC)
            .with_responder(B_PRIVATE, A_PUBLIC)
            .unwrap(),
    );
    let result = callee
        .encode(
            PayloadRole::Responder,
            "com.example.add",
            &args,
            &Dict::new(),
        )
        .unwrap()
        .unwrap();
    let decoded = caller_ring()
        .decode(PayloadRole::Originator, "com.example.add", &result)
        .unwrap();
    assert_eq!(decoded.args, args);
    // The same key built from the other side.
    let key = Key::responder(B_PRIVATE, A_PUBLIC)
        .unwrap()
        .with_originator(A_PRIVATE, B_PUBLIC)
        .unwrap();
    assert_eq!(
        format!("{key:?}"),
        "Key { originator: true, responder: true }"
    );
}

#[test]
fn each_encoding_has_a_fresh_nonce() {
    let ring = caller_ring();
    let once = || {
        ring.encode(PayloadRole::Originator, "com.example.a", &[], &Dict::new())
            .unwrap()
            .unwrap()
            .bytes
    };
    let (first, second) = (once(), once());
    assert_ne!(first[..24], second[..24]);
    assert_ne!(first[24..], second[24..]);
}

#[test]
fn a_tampered_payload_or_a_wrong_key_does_not_decrypt() {
    let mut sealed = caller_ring()
        .encode(
            PayloadRole::Originator,
            "com.example.a",
            &[Value::from(1)],
            &Dict::new(),
        )
        .unwrap()
        .unwrap();
    let last = sealed.bytes.len() - 1;
    sealed.bytes[last] ^= 1;
    let tampered = callee_ring().decode(PayloadRole::Responder, "com.example.a", &sealed);
    assert!(matches!(tampered, Err(PayloadCodecError::Decrypt { uri }) if uri == "com.example.a"));

    sealed.bytes[last] ^= 1;
    let (other, _) = generate_key().unwrap();
    let wrong = KeyRing::new().with_key("", Key::responder(&other, A_PUBLIC).unwrap());
    let decoded = wrong.decode(PayloadRole::Responder, "com.example.a", &sealed);
    assert!(matches!(decoded, Err(PayloadCodecError::Decrypt { .. })));

    let short = encoded(vec![0; 10]);
    let decoded = callee_ring().decode(PayloadRole::Responder, "com.example.a", &short);
    assert!(matches!(decoded, Err(PayloadCodecError::Decrypt { .. })));
}

#[test]
fn unknown_schemes_serializers_and_uris_without_a_key_are_errors() {
    let ring = callee_ring();
    let mut mqtt = encoded(vec![0; 64]);
    mqtt.scheme = "mqtt".into();
    mqtt.cipher = None;
    assert_eq!(
        ring.decode(PayloadRole::Responder, "com.example.a", &mqtt),
        Err(PayloadCodecError::UnknownScheme {
            scheme: "mqtt".into()
        })
    );
    let mut cbor = encoded(vec![0; 64]);
    cbor.serializer = "cbor".into();
    assert!(matches!(
        ring.decode(PayloadRole::Responder, "com.example.a", &cbor),
        Err(PayloadCodecError::UnknownSerializer { .. })
    ));
    assert_eq!(
        ring.decode(PayloadRole::Responder, "org.other.a", &encoded(vec![0; 64])),
        Err(PayloadCodecError::NoKey {
            uri: "org.other.a".into()
        })
    );
}

#[test]
fn the_longest_prefix_decides_and_a_key_without_the_side_encodes_nothing() {
    let (default, _) = generate_key().unwrap();
    let (_, public) = generate_key().unwrap();
    let ring = KeyRing::new()
        .with_key("", Key::shared(&default).unwrap())
        .with_key(
            "com.example.secret.",
            Key::responder(B_PRIVATE, A_PUBLIC).unwrap(),
        )
        .with_key("com.example.", Key::originator(A_PRIVATE, &public).unwrap());
    let role = PayloadRole::Originator;
    assert!(ring.encodes(role, "org.other.topic"), "the default key");
    assert!(ring.encodes(role, "com.example.add"));
    // The longest prefix has a responder key only: no fallback to a shorter one.
    assert!(!ring.encodes(role, "com.example.secret.add"));
    assert!(ring.encodes(PayloadRole::Responder, "com.example.secret.add"));
    assert!(!ring.encodes(PayloadRole::Responder, "com.example.add"));
    assert!(
        ring.encode(role, "com.example.secret.add", &[], &Dict::new())
            .unwrap()
            .is_none()
    );
    // A later key for the same prefix replaces the earlier one.
    let replaced = ring.with_key("com.example.", Key::responder(B_PRIVATE, A_PUBLIC).unwrap());
    assert!(!replaced.encodes(role, "com.example.add"));
}

#[test]
fn both_wire_forms_carry_the_same_box() {
    let (args, kwargs) = args();
    for form in [WireForm::Autobahn, WireForm::Passthru] {
        let caller = caller_ring().wire_form(form);
        let sealed = caller
            .encode(PayloadRole::Originator, "com.example.add", &args, &kwargs)
            .unwrap()
            .unwrap();
        let mut options = Dict::new();
        let payload = attach(sealed, caller.wire_form, &mut options);
        let (mut received, rest) = payload.into_parts();
        let encoded = take_encoded(&options, &mut received, &rest)
            .unwrap()
            .unwrap();
        let decoded = callee_ring()
            .decode(PayloadRole::Responder, "com.example.add", &encoded)
            .unwrap();
        assert_eq!(
            (&decoded.args, &decoded.kwargs),
            (&args, &kwargs),
            "{form:?}"
        );
    }
}

#[test]
fn invalid_keys_are_refused() {
    assert!(matches!(
        Key::shared("not base64!"),
        Err(PayloadCodecError::InvalidKey { .. })
    ));
    assert!(matches!(
        Key::originator(A_PRIVATE, "AAEC"),
        Err(PayloadCodecError::InvalidKey { .. })
    ));
}

#[test]
fn debug_output_shows_no_key() {
    let ring = caller_ring().with_key("", Key::shared(B_PRIVATE).unwrap());
    let text = format!(
        "{ring:?} {:?}",
        Key::responder(B_PRIVATE, A_PUBLIC).unwrap()
    );
    for key in [A_PRIVATE, A_PUBLIC, B_PRIVATE, B_PUBLIC] {
        assert!(!text.contains(key), "{text}");
        assert!(!text.contains(&key[..8]), "{text}");
    }
    assert!(text.contains("com.example."), "{text}");
    // Nor the raw bytes in any notation.
    assert!(!text.contains("32, 33, 34"), "{text}");
}

#[test]
fn a_session_builder_shows_no_key() {
    let ring = KeyRing::new().with_key("com.example.", Key::shared(B_PRIVATE).unwrap());
    let builder = crate::Session::builder("ws://127.0.0.1:8080/ws", "realm1").payload_codec(ring);
    let text = format!("{builder:?}");
    assert!(
        text.contains("KeyRing") && text.contains("com.example."),
        "{text}"
    );
    for key in [A_PUBLIC, B_PRIVATE, B_PUBLIC] {
        assert!(!text.contains(&key[..8]), "{text}");
    }
}

#[test]
fn a_strict_ring_requires_encryption_where_it_has_a_key() {
    let lenient = callee_ring();
    assert!(!lenient.requires_encoding(PayloadRole::Responder, "com.example.a"));
    let strict = callee_ring().require_encryption();
    assert!(strict.requires_encoding(PayloadRole::Responder, "com.example.a"));
    assert!(!strict.requires_encoding(PayloadRole::Originator, "com.example.a"));
    assert!(!strict.requires_encoding(PayloadRole::Responder, "org.other.a"));
}

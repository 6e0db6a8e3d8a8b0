//! What the payload checks (`json_shape`, `msgpack_shape`, `cbor_shape`) are held to: agreeing
//! with the serde walk of [`Shape`] they stand in for, on any value and on any bytes.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::value::{Shape, Value};

/// What a check found, and how many bytes it read.
pub(super) type Found = Option<(Shape, usize)>;

/// Runs a check (or a walk) over `bytes`.
pub(super) fn found(bytes: &[u8], check: impl FnOnce(&mut &[u8]) -> Option<Shape>) -> Found {
    let mut rest = bytes;
    let shape = check(&mut rest)?;
    Some((shape, bytes.len() - rest.len()))
}

/// Any value a peer may send: every scalar, long and short strings, nested lists and maps.
pub(super) fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<u64>().prop_map(Value::UInt),
        any::<f64>().prop_map(Value::Float),
        ".{0,40}".prop_map(Value::String),
        ".{120,140}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(5, 64, 30, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..30).prop_map(Value::List),
            proptest::collection::btree_map(".{0,8}", inner, 0..30).prop_map(Value::Dict),
        ]
    })
}

/// An encoded value is accepted as the serde walk accepts it; cut short anywhere, it is
/// declined. (The JSON check declines some values outright, and holds to the rest alike.)
#[cfg(any(feature = "msgpack", feature = "cbor"))]
pub(super) fn agrees_on_a_value(
    bytes: &[u8],
    fast: fn(&[u8]) -> Found,
    serde: fn(&[u8]) -> Found,
) -> Result<(), TestCaseError> {
    let accepted = fast(bytes);
    prop_assert!(accepted.is_some());
    prop_assert_eq!(accepted, serde(bytes));
    for end in 0..bytes.len() {
        prop_assert_eq!(bytes.get(..end).and_then(fast), None);
    }
    Ok(())
}

/// Text from `bases` damaged at up to three places: one of `inserted` put in, or a byte taken
/// out.
#[cfg(feature = "json")]
pub(super) fn damaged(
    bases: Vec<&'static str>,
    inserted: Vec<u8>,
) -> impl Strategy<Value = Vec<u8>> {
    let base = prop::sample::select(bases).prop_map(|text| text.as_bytes().to_vec());
    let edit = (
        any::<prop::sample::Index>(),
        prop::option::of(prop::sample::select(inserted)),
    );
    (base, prop::collection::vec(edit, 0..4)).prop_map(|(mut text, edits)| {
        for (at, byte) in edits {
            let at = at.index(text.len() + 1);
            match byte {
                Some(byte) => text.insert(at, byte),
                None if at < text.len() => {
                    text.remove(at);
                }
                None => {}
            }
        }
        text
    })
}

/// Whatever the bytes, what the check accepts the serde walk accepts alike.
pub(super) fn accepts_no_more_than_the_serde_walk(
    bytes: &[u8],
    fast: fn(&[u8]) -> Found,
    serde: fn(&[u8]) -> Found,
) -> Result<(), TestCaseError> {
    if let Some(accepted) = fast(bytes) {
        prop_assert_eq!(Some(accepted), serde(bytes));
    }
    Ok(())
}

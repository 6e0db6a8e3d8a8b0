//! A CBOR payload element read into a [`Value`] from its headers (read as the payload check,
//! `cbor_shape`, reads them), for the elements that check accepted when their message arrived:
//! integers within 64 bits, floats, booleans, null, bytes, text, and definite-length lists and
//! dictionaries with text keys, at most [`CHECK_DEPTH`] levels deep.
//!
//! CBOR reads into the reader's type through a `Value` (see `element`); ciborium's deserializer
//! made that `Value` at a cost of its own (a scratch buffer set up per read, each header read
//! through two intermediate forms), most of what reading a CBOR argument cost. The `Value` made
//! here is the one ciborium's makes (the tests below hold it to that); anything else gives
//! `None`, and ciborium reads it as before.

use super::cbor_shape::{
    Header, MAJOR_ARRAY, MAJOR_BYTES, MAJOR_MAP, MAJOR_NEGATIVE, MAJOR_SIMPLE, MAJOR_TEXT,
    MAJOR_UNSIGNED, Simple, content, header, simple, text, text_key,
};
use crate::value::{CHECK_DEPTH, Dict, Value};

/// Lists are made with room for this many elements at most before they are read.
const PREALLOCATE_MAX: usize = 4096;

/// The element at the front of `bytes` (what follows it is not read); `None` when it is not one
/// this reader takes.
pub(crate) fn value(bytes: &[u8]) -> Option<Value> {
    element(&mut &bytes[..], 1)
}

fn element(rest: &mut &[u8], depth: usize) -> Option<Value> {
    if depth > CHECK_DEPTH {
        return None;
    }
    let Header {
        major,
        info,
        argument,
    } = header(rest)?;
    Some(match major {
        MAJOR_UNSIGNED => Value::UInt(argument),
        // -1 - argument; below `i64::MIN` it is refused, as ciborium refuses it for a `Value`.
        MAJOR_NEGATIVE => Value::Int(-1 - i64::try_from(argument).ok()?),
        MAJOR_BYTES => Value::Bytes(content(rest, argument)?.to_vec()),
        MAJOR_TEXT => Value::String(text(rest, argument)?.to_owned()),
        MAJOR_SIMPLE => match simple(info, argument)? {
            Simple::Bool(b) => Value::Bool(b),
            Simple::Null => Value::Null,
            Simple::Float(f) => Value::Float(f),
        },
        MAJOR_ARRAY => {
            let len = usize::try_from(argument).ok()?;
            let mut items = Vec::with_capacity(len.min(PREALLOCATE_MAX));
            for _ in 0..len {
                items.push(element(rest, depth + 1)?);
            }
            Value::List(items)
        }
        MAJOR_MAP => {
            let mut dict = Dict::new();
            for _ in 0..argument {
                let key = text_key(rest)?.to_owned();
                // Of repeated keys the last stays, as with ciborium.
                dict.insert(key, element(rest, depth + 1)?);
            }
            Value::Dict(dict)
        }
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The `Value` ciborium makes of the element at the front of `bytes`.
    fn ciborium_value(bytes: &[u8]) -> Option<Value> {
        let mut scratch = [0u8; 256];
        ciborium::de::from_reader_with_buffer(bytes, &mut scratch).ok()
    }

    fn encode(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(value, &mut out).unwrap();
        out
    }

    /// Debug output compares floats by their digits, NaN included.
    fn same(a: &Option<Value>, b: &Option<Value>) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn reads_every_kind_the_check_accepts_as_ciborium_does() {
        let values = [
            Value::UInt(0),
            Value::UInt(u64::MAX),
            Value::Int(-1),
            Value::Int(i64::MIN),
            Value::Float(1.5), // a half float on the wire
            Value::Float(0.1), // a double
            Value::Float(f64::from(0.25f32) + 1e-3),
            Value::Bool(true),
            Value::Null,
            Value::Bytes(vec![0, 255]),
            Value::String("héllo".into()),
            Value::List(vec![Value::UInt(1), Value::List(vec![])]),
            Value::Dict([("k".to_owned(), Value::Int(-7))].into_iter().collect()),
        ];
        for expected in values {
            let mut bytes = encode(&expected);
            bytes.push(0x01); // what follows the element is not read
            assert_eq!(value(&bytes), Some(expected), "{bytes:02x?}");
            assert!(same(&value(&bytes), &ciborium_value(&bytes)));
        }
    }

    #[test]
    fn declines_what_the_check_declines() {
        // Truncated input, and what the payload check is unsure of.
        let truncated: [&[u8]; 2] = [&[0x82, 0x01], &[]];
        for bytes in truncated
            .into_iter()
            .chain(crate::wire::cbor_shape::tests::UNSURE)
        {
            assert_eq!(value(bytes), None, "{bytes:02x?}");
        }
        let mut deeper = vec![0x81; CHECK_DEPTH];
        deeper.push(0x80);
        assert_eq!(value(&deeper), None);
    }

    proptest! {
        #[test]
        fn agrees_with_ciborium_on_any_value(sent in crate::wire::shape_tests::any_value()) {
            let bytes = encode(&sent);
            let read = value(&bytes);
            prop_assert!(read.is_some());
            prop_assert!(same(&read, &ciborium_value(&bytes)), "{:?}", read);
        }

        #[test]
        fn whatever_it_reads_ciborium_reads_alike(
            bytes in proptest::collection::vec(any::<u8>(), 0..48)
        ) {
            let read = value(&bytes);
            if read.is_some() {
                prop_assert!(same(&read, &ciborium_value(&bytes)));
            }
            // What the payload check accepts, this reads.
            if crate::wire::cbor_shape::shape(&mut &bytes[..]).is_some() {
                prop_assert!(read.is_some());
            }
        }
    }
}

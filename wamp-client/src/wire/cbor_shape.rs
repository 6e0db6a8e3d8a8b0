//! Checking a CBOR payload element from its headers (read with minicbor's decoder), the way
//! `msgpack_shape` checks MessagePack: what the serde walk of [`Shape`] does, without ciborium's
//! deserializer (which copies each string into a scratch buffer, and allocates for long ones).
//!
//! It only ever errs on the side of caution: whatever it accepts, the serde walk accepts with
//! the same shape and length read; what it is unsure of (tags, indefinite lengths, simple
//! values other than `false`, `true` and `null`, negative integers beyond 64 bits, text that is
//! not UTF-8, dictionary keys other than text, nesting beyond [`CHECK_DEPTH`]) it declines, and
//! the message goes the general way, where the full decoder judges it.

use minicbor::data::Type;
use minicbor::decode::Decoder;

use crate::value::{CHECK_DEPTH, Kind, Shape};

/// Checks the element at the front of `rest` and moves `rest` past it; `None` (with `rest` in
/// an unspecified place) when the element is malformed, truncated or not for this check.
pub(crate) fn shape(rest: &mut &[u8]) -> Option<Shape> {
    read(rest, |decoder| element(decoder, 1))
}

/// The number of elements of the list whose header is at the front of `rest`, moving `rest`
/// past the header; `None` for anything else (an indefinite length too).
pub(crate) fn list_header(rest: &mut &[u8]) -> Option<usize> {
    read(rest, |decoder| length(decoder.array()))
}

/// The number of entries of the dictionary whose header is at the front of `rest`, moving
/// `rest` past the header; `None` for anything else (an indefinite length too).
pub(crate) fn map_header(rest: &mut &[u8]) -> Option<usize> {
    read(rest, |decoder| length(decoder.map()))
}

/// The unsigned integer at the front of `rest`, moving `rest` past it; `None` for anything
/// else.
pub(crate) fn uint(rest: &mut &[u8]) -> Option<u64> {
    read(rest, |decoder| decoder.u64().ok())
}

/// The bytes of the text at the front of `rest` (a dictionary key), moving `rest` past it;
/// `None` for anything else or text that is not UTF-8.
pub(crate) fn text_key<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    read(rest, text)
}

/// Runs `read` over a decoder at the front of `rest`, then moves `rest` past what it read.
#[inline(always)]
fn read<'a, T>(rest: &mut &'a [u8], read: impl FnOnce(&mut Decoder<'a>) -> Option<T>) -> Option<T> {
    let mut decoder = Decoder::new(rest);
    let found = read(&mut decoder)?;
    *rest = rest.get(decoder.position()..)?;
    Some(found)
}

fn length(header: Result<Option<u64>, minicbor::decode::Error>) -> Option<usize> {
    usize::try_from(header.ok()??).ok()
}

// CBOR's major types (RFC 8949, section 3.1); tags (6) are declined here and in `cbor_value`.
pub(super) const MAJOR_UNSIGNED: u8 = 0;
pub(super) const MAJOR_NEGATIVE: u8 = 1;
pub(super) const MAJOR_BYTES: u8 = 2;
pub(super) const MAJOR_TEXT: u8 = 3;
pub(super) const MAJOR_ARRAY: u8 = 4;
pub(super) const MAJOR_MAP: u8 = 5;
pub(super) const MAJOR_SIMPLE: u8 = 7;

/// The major type of the element at the decoder's position (its initial byte's top three
/// bits). Dispatching on it, an element's header is read once, by the reader of its type,
/// which refuses what it does not take (indefinite lengths, integers out of range); minicbor's
/// `datatype` would read it a first time.
pub(super) fn major_type(decoder: &Decoder<'_>) -> Option<u8> {
    decoder
        .input()
        .get(decoder.position())
        .map(|initial| initial >> 5)
}

/// The element at the decoder's position, `depth` levels down (the top level is 1).
fn element(decoder: &mut Decoder<'_>, depth: usize) -> Option<Shape> {
    // Refused before descending, as the serde walk refuses it: the recursion stays bounded.
    if depth > CHECK_DEPTH {
        return None;
    }
    let other = Shape {
        kind: Kind::Other,
        len: 0,
    };
    match major_type(decoder)? {
        MAJOR_UNSIGNED => decoder.u64().ok().map(|_| other),
        // A negative integer beyond 64 bits the serde walk refuses, and so does `i64`.
        MAJOR_NEGATIVE => decoder.i64().ok().map(|_| other),
        MAJOR_BYTES => decoder.bytes().ok().map(|_| other),
        MAJOR_TEXT => text(decoder).map(|_| other),
        MAJOR_SIMPLE => match decoder.datatype().ok()? {
            // Skipped: only where they end matters here.
            Type::F16 | Type::F32 | Type::F64 | Type::Bool | Type::Null => {
                decoder.skip().ok().map(|()| other)
            }
            _ => None,
        },
        MAJOR_ARRAY => {
            let len = length(decoder.array())?;
            for _ in 0..len {
                element(decoder, depth + 1)?;
            }
            Some(Shape {
                kind: Kind::List,
                len,
            })
        }
        MAJOR_MAP => {
            let len = length(decoder.map())?;
            for _ in 0..len {
                text(decoder)?;
                element(decoder, depth + 1)?;
            }
            Some(Shape {
                kind: Kind::Dict,
                len,
            })
        }
        _ => None,
    }
}

/// The bytes of the definite-length text at the decoder's position, if they are UTF-8.
fn text<'a>(decoder: &mut Decoder<'a>) -> Option<&'a [u8]> {
    decoder.str().ok().map(str::as_bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::Value;
    use crate::wire::shape_tests::{Found, found};

    /// The serde walk this check stands in for (as the fast path ran it).
    fn serde_shape(bytes: &[u8]) -> Found {
        found(bytes, |rest| {
            let mut scratch = [0u8; 128];
            ciborium::de::from_reader_with_buffer(rest, &mut scratch).ok()
        })
    }

    fn fast_shape(bytes: &[u8]) -> Found {
        found(bytes, shape)
    }

    fn encode(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(value, &mut out).unwrap();
        out
    }

    /// What the check is unsure of: a tag, an indefinite-length list, `undefined`, an integer
    /// key, text that is not UTF-8, a negative integer beyond 64 bits (`cbor_value` declines
    /// them too).
    pub(in crate::wire) const UNSURE: [&[u8]; 6] = [
        &[0xc1, 0x01],
        &[0x9f, 0x01, 0xff],
        &[0xf7],
        &[0xa1, 0x01, 0x02],
        &[0x61, 0xff],
        &[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ];

    #[test]
    fn declines_what_it_is_unsure_of_and_bounds_nesting() {
        for bytes in UNSURE {
            assert_eq!(fast_shape(bytes), None, "{bytes:02x?}");
        }
        let mut deep = vec![0x81; CHECK_DEPTH - 1];
        deep.push(0x80);
        assert!(fast_shape(&deep).is_some());
        let mut deeper = vec![0x81; CHECK_DEPTH];
        deeper.push(0x80);
        assert_eq!(fast_shape(&deeper), None);
        assert_eq!(serde_shape(&deeper), None, "the serde walk refuses it too");
    }

    proptest! {
        #[test]
        fn agrees_with_the_serde_walk_on_any_value(
            value in crate::wire::shape_tests::any_value()
        ) {
            let bytes = encode(&value);
            crate::wire::shape_tests::agrees_on_a_value(&bytes, fast_shape, serde_shape)?;
        }

        #[test]
        fn never_accepts_more_than_the_serde_walk(
            bytes in proptest::collection::vec(any::<u8>(), 0..48)
        ) {
            crate::wire::shape_tests::accepts_no_more_than_the_serde_walk(
                &bytes, fast_shape, serde_shape,
            )?;
        }
    }
}

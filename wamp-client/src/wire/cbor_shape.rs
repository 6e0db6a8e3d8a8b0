//! Checking a CBOR payload element from its headers, the way `msgpack_shape` checks
//! MessagePack: what the serde walk of [`Shape`] does, without ciborium's deserializer (which
//! copies each string into a scratch buffer, and allocates for long ones).
//!
//! The headers are read here, off the bytes (RFC 8949, section 3: a major type and an argument
//! of 0, 1, 2, 4 or 8 bytes), for this check and for `cbor_value`: minicbor's decoder, which
//! read them before, took some 140 instructions per header through its `Result`s, more than the
//! rest of the check.
//!
//! It only ever errs on the side of caution: whatever it accepts, the serde walk accepts with
//! the same shape and length read; what it is unsure of (tags, indefinite lengths, simple
//! values other than `false`, `true` and `null`, negative integers beyond 64 bits, text that is
//! not UTF-8, dictionary keys other than text, nesting beyond [`CHECK_DEPTH`]) it declines, and
//! the message goes the general way, where the full decoder judges it.

use crate::value::{CHECK_DEPTH, Kind, Shape};

/// Checks the element at the front of `rest` and moves `rest` past it; `None` (with `rest` in
/// an unspecified place) when the element is malformed, truncated or not for this check.
pub(crate) fn shape(rest: &mut &[u8]) -> Option<Shape> {
    element(rest, 1)
}

/// The number of elements of the list whose header is at the front of `rest`, moving `rest`
/// past the header; `None` for anything else (an indefinite length too).
pub(crate) fn list_header(rest: &mut &[u8]) -> Option<usize> {
    length(rest, MAJOR_ARRAY)
}

/// The number of entries of the dictionary whose header is at the front of `rest`, moving
/// `rest` past the header; `None` for anything else (an indefinite length too).
pub(crate) fn map_header(rest: &mut &[u8]) -> Option<usize> {
    length(rest, MAJOR_MAP)
}

/// The unsigned integer at the front of `rest`, moving `rest` past it; `None` for anything
/// else.
pub(crate) fn uint(rest: &mut &[u8]) -> Option<u64> {
    argument_of(rest, MAJOR_UNSIGNED)
}

/// The text at the front of `rest` (a dictionary key), moving `rest` past it;
/// `None` for anything else or text that is not UTF-8.
pub(crate) fn text_key<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let len = argument_of(rest, MAJOR_TEXT)?;
    text(rest, len)
}

// CBOR's major types (RFC 8949, section 3.1); tags (6) are declined here and in `cbor_value`.
pub(super) const MAJOR_UNSIGNED: u8 = 0;
pub(super) const MAJOR_NEGATIVE: u8 = 1;
pub(super) const MAJOR_BYTES: u8 = 2;
pub(super) const MAJOR_TEXT: u8 = 3;
pub(super) const MAJOR_ARRAY: u8 = 4;
pub(super) const MAJOR_MAP: u8 = 5;
pub(super) const MAJOR_SIMPLE: u8 = 7;

// Major type 7's additional information (RFC 8949, section 3.3) that is read.
const FALSE: u8 = 20;
const TRUE: u8 = 21;
const NULL: u8 = 22;
const FLOAT16: u8 = 25;
const FLOAT32: u8 = 26;
const FLOAT64: u8 = 27;

/// An element's header: its major type, the additional information of its initial byte, and
/// its argument (a number, a length, or a float's bits; for an additional information below
/// 24 that number itself).
pub(super) struct Header {
    pub(super) major: u8,
    pub(super) info: u8,
    pub(super) argument: u64,
}

/// The header at the front of `rest`, moving `rest` past it. `None` when it is truncated, of
/// indefinite length or reserved (additional information 28 to 31).
#[inline(always)]
pub(super) fn header(rest: &mut &[u8]) -> Option<Header> {
    let (&initial, after) = rest.split_first()?;
    let info = initial & 0x1f;
    let (argument, after) = match info {
        0..=23 => (u64::from(info), after),
        24 => {
            let (&byte, after) = after.split_first()?;
            (u64::from(byte), after)
        }
        25 => {
            let (bytes, after) = after.split_first_chunk::<2>()?;
            (u64::from(u16::from_be_bytes(*bytes)), after)
        }
        26 => {
            let (bytes, after) = after.split_first_chunk::<4>()?;
            (u64::from(u32::from_be_bytes(*bytes)), after)
        }
        27 => {
            let (bytes, after) = after.split_first_chunk::<8>()?;
            (u64::from_be_bytes(*bytes), after)
        }
        _ => return None,
    };
    *rest = after;
    Some(Header {
        major: initial >> 5,
        info,
        argument,
    })
}

/// The argument of the header at the front of `rest` if it is of major type `major`, moving
/// `rest` past the header.
fn argument_of(rest: &mut &[u8], major: u8) -> Option<u64> {
    let header = header(rest)?;
    (header.major == major).then_some(header.argument)
}

/// The length of the list or dictionary (major type `major`) whose header is at the front of
/// `rest`, moving `rest` past the header.
fn length(rest: &mut &[u8], major: u8) -> Option<usize> {
    usize::try_from(argument_of(rest, major)?).ok()
}

/// The `len` bytes at the front of `rest` (a byte string's or text's, its header read),
/// moving `rest` past them.
pub(super) fn content<'a>(rest: &mut &'a [u8], len: u64) -> Option<&'a [u8]> {
    let (content, after) = rest.split_at_checked(usize::try_from(len).ok()?)?;
    *rest = after;
    Some(content)
}

/// The `len` bytes of text at the front of `rest` (its header read), if they are UTF-8.
pub(super) fn text<'a>(rest: &mut &'a [u8], len: u64) -> Option<&'a str> {
    std::str::from_utf8(content(rest, len)?).ok()
}

/// Moves `rest` past the `len` bytes of text at its front (its header read), if they are
/// UTF-8: the check's way, which needs no `&str` of them.
fn skip_text(rest: &mut &[u8], len: u64) -> Option<()> {
    super::is_utf8(content(rest, len)?).then_some(())
}

/// A major type 7 element this reader takes.
pub(super) enum Simple {
    Bool(bool),
    Null,
    Float(f64),
}

/// The major type 7 element of additional information `info` and argument `argument`; `None`
/// for `undefined` and the other simple values, which the check declines.
pub(super) fn simple(info: u8, argument: u64) -> Option<Simple> {
    // The argument holds as many bytes as the float has: the casts drop only zeros.
    #[allow(clippy::cast_possible_truncation)]
    Some(match info {
        FALSE => Simple::Bool(false),
        TRUE => Simple::Bool(true),
        NULL => Simple::Null,
        FLOAT16 => Simple::Float(half::f16::from_bits(argument as u16).to_f64()),
        FLOAT32 => Simple::Float(f64::from(f32::from_bits(argument as u32))),
        FLOAT64 => Simple::Float(f64::from_bits(argument)),
        _ => return None,
    })
}

/// The element at the front of `rest`, `depth` levels down (the top level is 1).
fn element(rest: &mut &[u8], depth: usize) -> Option<Shape> {
    // Refused before descending, as the serde walk refuses it: the recursion stays bounded.
    if depth > CHECK_DEPTH {
        return None;
    }
    let other = Shape {
        kind: Kind::Other,
        len: 0,
    };
    let Header {
        major,
        info,
        argument,
    } = header(rest)?;
    match major {
        MAJOR_UNSIGNED => Some(other),
        // A negative integer beyond 64 bits (-1 - argument below `i64::MIN`) the serde walk
        // refuses, and so does `i64`.
        MAJOR_NEGATIVE => i64::try_from(argument).ok().map(|_| other),
        MAJOR_BYTES => content(rest, argument).map(|_| other),
        MAJOR_TEXT => skip_text(rest, argument).map(|_| other),
        MAJOR_SIMPLE => simple(info, argument).map(|_| other),
        MAJOR_ARRAY => {
            let len = usize::try_from(argument).ok()?;
            for _ in 0..len {
                element(rest, depth + 1)?;
            }
            Some(Shape {
                kind: Kind::List,
                len,
            })
        }
        MAJOR_MAP => {
            let len = usize::try_from(argument).ok()?;
            for _ in 0..len {
                let key_len = argument_of(rest, MAJOR_TEXT)?;
                skip_text(rest, key_len)?;
                element(rest, depth + 1)?;
            }
            Some(Shape {
                kind: Kind::Dict,
                len,
            })
        }
        _ => None,
    }
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

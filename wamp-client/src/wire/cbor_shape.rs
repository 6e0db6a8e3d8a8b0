//! Checking a CBOR payload element from its headers (read with `ciborium-ll`), the way
//! `msgpack_shape` checks MessagePack: what the serde walk of [`Shape`] does, without ciborium's
//! deserializer (which copies each string into a scratch buffer, and allocates for long ones).
//!
//! It only ever errs on the side of caution: whatever it accepts, the serde walk accepts with
//! the same shape and length read; what it is unsure of (tags, indefinite lengths, simple
//! values other than `false`, `true` and `null`, negative integers beyond 64 bits, text that is
//! not UTF-8, dictionary keys other than text, nesting beyond [`CHECK_DEPTH`]) it declines, and
//! the message goes the general way, where the full decoder judges it.

use ciborium_ll::Header;

use crate::value::{CHECK_DEPTH, Kind, Shape};

/// Checks the element at the front of `rest` and moves `rest` past it; `None` (with `rest` in
/// an unspecified place) when the element is malformed, truncated or not for this check.
pub(crate) fn shape(rest: &mut &[u8]) -> Option<Shape> {
    element(rest, 1)
}

/// The number of elements of the list whose header is at the front of `rest`, moving `rest`
/// past the header; `None` for anything else.
pub(crate) fn list_header(rest: &mut &[u8]) -> Option<usize> {
    match header(rest)? {
        Header::Array(Some(len)) => Some(len),
        _ => None,
    }
}

/// The number of entries of the dictionary whose header is at the front of `rest`, moving
/// `rest` past the header; `None` for anything else.
pub(crate) fn map_header(rest: &mut &[u8]) -> Option<usize> {
    match header(rest)? {
        Header::Map(Some(len)) => Some(len),
        _ => None,
    }
}

/// The bytes of the text at the front of `rest` (a dictionary key), moving `rest` past it;
/// `None` for anything else or text that is not UTF-8.
pub(crate) fn text_key<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let Header::Text(Some(len)) = header(rest)? else {
        return None;
    };
    let key = rest.get(..len)?;
    text(rest, len)?;
    Some(key)
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
    match header(rest)? {
        Header::Positive(_) | Header::Float(_) => Some(other),
        // Beyond 64 bits the serde walk refuses it.
        Header::Negative(n) => i64::try_from(n).is_ok().then_some(other),
        Header::Simple(ciborium_ll::simple::FALSE | ciborium_ll::simple::TRUE)
        | Header::Simple(ciborium_ll::simple::NULL) => Some(other),
        Header::Bytes(Some(len)) => {
            *rest = rest.get(len..)?;
            Some(other)
        }
        Header::Text(Some(len)) => text(rest, len).map(|()| other),
        Header::Array(Some(len)) => {
            for _ in 0..len {
                element(rest, depth + 1)?;
            }
            Some(Shape {
                kind: Kind::List,
                len,
            })
        }
        Header::Map(Some(len)) => {
            for _ in 0..len {
                let Header::Text(Some(key)) = header(rest)? else {
                    return None;
                };
                text(rest, key)?;
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

fn header(rest: &mut &[u8]) -> Option<Header> {
    ciborium_ll::Decoder::from(rest).pull().ok()
}

/// The `len` bytes of a text, if they are UTF-8.
fn text(rest: &mut &[u8], len: usize) -> Option<()> {
    let (text, after) = rest.split_at_checked(len)?;
    super::is_utf8(text).then_some(())?;
    *rest = after;
    Some(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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

    #[test]
    fn declines_what_it_is_unsure_of_and_bounds_nesting() {
        // A tag, an indefinite-length list, `undefined`, an integer key, text that is not
        // UTF-8, a negative integer beyond 64 bits.
        for bytes in [
            &[0xc1, 0x01][..],
            &[0x9f, 0x01, 0xff],
            &[0xf7],
            &[0xa1, 0x01, 0x02],
            &[0x61, 0xff],
            &[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ] {
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

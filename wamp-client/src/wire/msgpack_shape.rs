//! Checking a MessagePack payload element from its bytes alone: what the serde walk of
//! [`Shape`] does, without a deserializer (rmp-serde's reader copies every string it reads into
//! a buffer of its own, an allocation per message).
//!
//! It only ever errs on the side of caution: whatever it accepts, the serde walk accepts with
//! the same shape and length read; what it is unsure of (extension types, strings that are not
//! UTF-8, dictionary keys other than strings, nesting beyond [`CHECK_DEPTH`]) it declines, and
//! the message goes the general way, where the full decoder judges it.

use crate::value::{CHECK_DEPTH, Kind, Shape};

/// Checks the element at the front of `rest` and moves `rest` past it; `None` (with `rest` in
/// an unspecified place) when the element is malformed, truncated or not for this check.
pub(crate) fn shape(rest: &mut &[u8]) -> Option<Shape> {
    // The top level (depth 1) is the only one whose kind and length are wanted: below it, the
    // walk only says whether an element is acceptable, an answer that fits in a register (a
    // `Shape` returned at every level came back through memory).
    let marker = byte(rest)?;
    let (kind, len) = match marker {
        0x90..=0x9f | 0xdc | 0xdd => {
            let len = list_len(rest, marker)?;
            items(rest, len, 2)?;
            (Kind::List, len)
        }
        0x80..=0x8f | 0xde | 0xdf => {
            let len = map_len(rest, marker)?;
            entries(rest, len, 2)?;
            (Kind::Dict, len)
        }
        _ => {
            element(rest, marker, 1)?;
            (Kind::Other, 0)
        }
    };
    Some(Shape { kind, len })
}

/// The length of the list at the front of `rest`, moving `rest` to its first element; `None`
/// when it is not a list.
pub(crate) fn list_header(rest: &mut &[u8]) -> Option<usize> {
    let marker = byte(rest)?;
    list_len(rest, marker)
}

/// The unsigned integer at the front of `rest` (a positive fixint or a `uint` of 8 to 64 bits),
/// moving `rest` past it; `None` for anything else.
pub(crate) fn uint(rest: &mut &[u8]) -> Option<u64> {
    let marker = byte(rest)?;
    let width = match marker {
        0x00..=0x7f => return Some(u64::from(marker)),
        0xcc..=0xcf => 1 << (marker - 0xcc),
        _ => return None,
    };
    big_endian(rest, width)
}

/// The `len` elements of a list, each `depth` levels down (the top level is 1).
fn items(rest: &mut &[u8], len: usize, depth: usize) -> Option<()> {
    // Refused before descending, as the serde walk refuses it: the recursion stays bounded.
    if len > 0 && depth > CHECK_DEPTH {
        return None;
    }
    for _ in 0..len {
        let marker = byte(rest)?;
        element(rest, marker, depth)?;
    }
    Some(())
}

/// The `len` entries of a dictionary (string keys only), their values `depth` levels down.
fn entries(rest: &mut &[u8], len: usize, depth: usize) -> Option<()> {
    if len > 0 && depth > CHECK_DEPTH {
        return None;
    }
    for _ in 0..len {
        let key = byte(rest)?;
        string(rest, key)?;
        let marker = byte(rest)?;
        element(rest, marker, depth)?;
    }
    Some(())
}

/// The rest of the element whose marker was `marker`, `depth` levels down (its list or
/// dictionary checks the depth). Inlined into the loops over elements: the scalars most
/// payloads are made of then cost no call.
#[inline(always)]
fn element(rest: &mut &[u8], marker: u8, depth: usize) -> Option<()> {
    match marker {
        // Positive and negative fixints, nil, false, true.
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => Some(()),
        // uint8 / int8, uint16 / int16, uint32 / int32 / float32, uint64 / int64 / float64.
        0xcc | 0xd0 => skip(rest, 1),
        0xcd | 0xd1 => skip(rest, 2),
        0xce | 0xd2 | 0xca => skip(rest, 4),
        0xcf | 0xd3 | 0xcb => skip(rest, 8),
        // Binary.
        0xc4..=0xc6 => {
            let len = length(rest, 1 << (marker - 0xc4))?;
            skip(rest, len)
        }
        // Strings (and dictionary keys, above): only UTF-8 ones.
        0xa0..=0xbf | 0xd9..=0xdb => string(rest, marker),
        0x90..=0x9f | 0xdc | 0xdd => {
            let len = list_len(rest, marker)?;
            items(rest, len, depth + 1)
        }
        0x80..=0x8f | 0xde | 0xdf => {
            let len = map_len(rest, marker)?;
            entries(rest, len, depth + 1)
        }
        // Extension types and the reserved marker: the general way.
        _ => None,
    }
}

/// The length of a dictionary whose marker was `marker` (one of a dictionary's markers).
fn map_len(rest: &mut &[u8], marker: u8) -> Option<usize> {
    match marker {
        0xde => length(rest, 2),
        0xdf => length(rest, 4),
        _ => Some(usize::from(marker & 0x0f)),
    }
}

/// The length of a list whose marker was `marker`; `None` for another marker.
fn list_len(rest: &mut &[u8], marker: u8) -> Option<usize> {
    match marker {
        0x90..=0x9f => Some(usize::from(marker & 0x0f)),
        0xdc => length(rest, 2),
        0xdd => length(rest, 4),
        _ => None,
    }
}

/// The rest of a string whose marker was `marker`; `None` for another marker or text that is
/// not UTF-8.
fn string(rest: &mut &[u8], marker: u8) -> Option<()> {
    let len = match marker {
        0xa0..=0xbf => usize::from(marker & 0x1f),
        0xd9 => length(rest, 1)?,
        0xda => length(rest, 2)?,
        0xdb => length(rest, 4)?,
        _ => return None,
    };
    let (text, after) = rest.split_at_checked(len)?;
    super::is_utf8(text).then_some(())?;
    *rest = after;
    Some(())
}

fn byte(rest: &mut &[u8]) -> Option<u8> {
    let (&first, after) = rest.split_first()?;
    *rest = after;
    Some(first)
}

fn skip(rest: &mut &[u8], len: usize) -> Option<()> {
    *rest = rest.get(len..)?;
    Some(())
}

/// A big-endian length of `width` bytes.
fn length(rest: &mut &[u8], width: usize) -> Option<usize> {
    usize::try_from(big_endian(rest, width)?).ok()
}

/// A big-endian unsigned integer of `width` bytes (at most 8).
fn big_endian(rest: &mut &[u8], width: usize) -> Option<u64> {
    let (bytes, after) = rest.split_at_checked(width)?;
    *rest = after;
    Some(bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::wire::shape_tests::{Found, found};

    /// The serde walk this check stands in for (as the fast path ran it).
    fn serde_shape(bytes: &[u8]) -> Found {
        found(bytes, |rest| {
            serde::Deserialize::deserialize(&mut rmp_serde::Deserializer::new(rest)).ok()
        })
    }

    fn fast_shape(bytes: &[u8]) -> Found {
        found(bytes, shape)
    }

    #[test]
    fn declines_what_it_is_unsure_of_and_bounds_nesting() {
        // An extension type, a string that is not UTF-8, an integer key, the reserved marker.
        for bytes in [
            &[0xd4, 0x01, 0x00][..],
            &[0xa1, 0xff],
            &[0x81, 0x01, 0x02],
            &[0xc1],
        ] {
            assert_eq!(fast_shape(bytes), None, "{bytes:02x?}");
        }
        let mut deep = vec![0x91; CHECK_DEPTH - 1];
        deep.push(0x90);
        assert!(fast_shape(&deep).is_some());
        let mut deeper = vec![0x91; CHECK_DEPTH];
        deeper.push(0x90);
        assert_eq!(fast_shape(&deeper), None);
        assert_eq!(serde_shape(&deeper), None, "the serde walk refuses it too");
    }

    #[test]
    fn uint_reads_every_unsigned_width_and_nothing_else() {
        for n in [
            0,
            0x7f,
            0x80,
            0xff,
            0x100,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            1 << 32,
            u64::MAX,
        ] {
            let mut bytes = rmp_serde::to_vec(&n).unwrap();
            bytes.push(0xc0);
            let mut rest = &bytes[..];
            assert_eq!(uint(&mut rest), Some(n), "{bytes:02x?}");
            assert_eq!(rest, [0xc0], "moved past the integer only");
        }
        // Signed markers (even for a non-negative value), a float, a string, truncated bytes.
        for bytes in [
            &[0xd0, 0x01][..],
            &[0xff],
            &[0xca, 0, 0, 0, 0],
            &[0xa1, b'1'],
            &[0xcd, 0x01],
        ] {
            assert_eq!(uint(&mut &bytes[..]), None, "{bytes:02x?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_serde_walk_on_any_value(
            value in crate::wire::shape_tests::any_value()
        ) {
            let bytes = rmp_serde::to_vec(&value).unwrap();
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

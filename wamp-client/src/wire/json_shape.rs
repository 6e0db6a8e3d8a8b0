//! Checking a JSON payload element from its text, the way `msgpack_shape` checks MessagePack:
//! what serde_json's walk of [`Shape`] does (see `json_fields`), for the plain JSON most
//! payloads are made of, without a deserializer (serde_json sets up a UTF-8 check for every
//! string, scans a short string's tail byte by byte through a slow path, and works out every
//! number's value: about 800 instructions for `[1,"bench"]`, a fifth of a JSON event).
//!
//! It only ever errs on the side of caution: whatever it accepts, the serde walk accepts with
//! the same shape and length read; what it is unsure of (`\u` escapes, numbers with an exponent
//! or more than [`MAX_DIGITS`] digits before or after the point, nesting beyond
//! [`CHECK_DEPTH`]) it declines, and serde_json checks the element as before.

use crate::value::{CHECK_DEPTH, Kind, Shape};

/// Digits a number may have before its point, and after it, for this check to take it: far
/// from where an `f64` overflows (10^308), so that it cannot be out of serde_json's range.
const MAX_DIGITS: usize = 300;

/// Checks the list or dictionary at the front of `rest` and moves `rest` just past it (not past
/// the whitespace after it); `None` (with `rest` in an unspecified place) when it is malformed,
/// truncated, not a list or dictionary, or not for this check.
pub(crate) fn shape(rest: &mut &[u8]) -> Option<Shape> {
    // The top level is depth 1: its elements are one level down.
    match byte(rest)? {
        b'[' => Some(Shape {
            kind: Kind::List,
            len: items(rest, 2)?,
        }),
        b'{' => Some(Shape {
            kind: Kind::Dict,
            len: entries(rest, 2)?,
        }),
        _ => None,
    }
}

/// Moves `rest` past the element of a list at its front (whitespace before it included), as an
/// element of a payload's arguments list (two levels down); `None` when it is not one this
/// check takes.
pub(crate) fn skip_element(rest: &mut &[u8]) -> Option<()> {
    skip_whitespace(rest);
    value(rest, 2)
}

/// The elements of a list after its `[`, each `depth` levels down, and its `]`: how many.
fn items(rest: &mut &[u8], depth: usize) -> Option<usize> {
    separated(rest, depth, b']', |rest| value(rest, depth))
}

/// The entries of a dictionary after its `{`, their values `depth` levels down, and its `}`:
/// how many.
fn entries(rest: &mut &[u8], depth: usize) -> Option<usize> {
    separated(rest, depth, b'}', |rest| {
        if byte(rest)? != b'"' {
            return None;
        }
        string(rest)?;
        skip_whitespace(rest);
        if byte(rest)? != b':' {
            return None;
        }
        skip_whitespace(rest);
        value(rest, depth)
    })
}

/// What `element` reads, as often as commas separate it, up to `close`, after an opening
/// bracket whose contents are `depth` levels down: how many.
#[inline(always)]
fn separated(
    rest: &mut &[u8],
    depth: usize,
    close: u8,
    element: impl Fn(&mut &[u8]) -> Option<()>,
) -> Option<usize> {
    skip_whitespace(rest);
    if eat(rest, close) {
        return Some(0);
    }
    // Refused before descending, as the serde walk refuses it: the recursion stays bounded.
    if depth > CHECK_DEPTH {
        return None;
    }
    let mut len = 0;
    loop {
        element(rest)?;
        len += 1;
        skip_whitespace(rest);
        match byte(rest)? {
            b',' => skip_whitespace(rest),
            next if next == close => return Some(len),
            _ => return None,
        }
    }
}

/// The value at the front of `rest` (no whitespace before it), `depth` levels down (its list
/// or dictionary checks the depth).
fn value(rest: &mut &[u8], depth: usize) -> Option<()> {
    match byte(rest)? {
        b'"' => string(rest),
        b'[' => items(rest, depth + 1).map(drop),
        b'{' => entries(rest, depth + 1).map(drop),
        b't' => literal(rest, b"rue"),
        b'f' => literal(rest, b"alse"),
        b'n' => literal(rest, b"ull"),
        first @ (b'-' | b'0'..=b'9') => number(rest, first),
        _ => None,
    }
}

/// The rest of a string after its opening quote, and the closing one. Control characters are
/// refused (as serde_json refuses them); `\u` escapes are declined; text that is not ASCII must
/// be UTF-8.
fn string(rest: &mut &[u8]) -> Option<()> {
    let text = *rest;
    // Noted on the way rather than found afterwards: a second pass over the text (`is_ascii`)
    // measured about 30 instructions more per short string.
    let mut ascii = true;
    loop {
        // Runs of plain printable ASCII, most of a string, are passed over in one tight loop.
        let plain = rest
            .iter()
            .position(|&b| matches!(b, b'"' | b'\\' | 0x00..=0x1f | 0x80..=0xff))?;
        *rest = rest.get(plain..)?;
        match byte(rest)? {
            b'"' => break,
            b'\\' => escape(rest)?,
            0x00..=0x1f => return None,
            0x80..=0xff => ascii = false,
            _ => {}
        }
    }
    // The content without its closing quote. Escapes are ASCII: checking it whole is checking
    // each run of text between them.
    let read = text.len().saturating_sub(rest.len());
    let content = text.get(..read.saturating_sub(1))?;
    (ascii || std::str::from_utf8(content).is_ok()).then_some(())
}

/// The rest of an escape after its backslash: one of JSON's single-letter escapes (`\u` is
/// declined).
fn escape(rest: &mut &[u8]) -> Option<()> {
    matches!(
        byte(rest)?,
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't'
    )
    .then_some(())
}

/// The rest of `true`, `false` or `null` after its first letter.
fn literal(rest: &mut &[u8], tail: &[u8]) -> Option<()> {
    *rest = rest.strip_prefix(tail)?;
    Some(())
}

/// The rest of a number whose first byte was `first` (a minus or a digit): an integer part
/// without leading zeros and an optional fraction, no exponent.
fn number(rest: &mut &[u8], first: u8) -> Option<()> {
    let first = if first == b'-' { byte(rest)? } else { first };
    match first {
        // A zero is the whole integer part: a digit after it is not JSON.
        b'0' => {
            if rest.first().is_some_and(u8::is_ascii_digit) {
                return None;
            }
        }
        b'1'..=b'9' => {
            if digits(rest) >= MAX_DIGITS {
                return None;
            }
        }
        _ => return None,
    }
    if eat(rest, b'.') {
        let fraction = digits(rest);
        if fraction == 0 || fraction > MAX_DIGITS {
            return None;
        }
    }
    // An exponent may take the number out of range (or to zero): serde_json judges it.
    (!matches!(rest.first(), Some(b'e' | b'E'))).then_some(())
}

/// Moves `rest` past the digits at its front: how many.
fn digits(rest: &mut &[u8]) -> usize {
    let mut count = 0;
    while let Some((b'0'..=b'9', after)) = rest.split_first() {
        *rest = after;
        count += 1;
    }
    count
}

fn skip_whitespace(rest: &mut &[u8]) {
    while let Some((b' ' | b'\n' | b'\t' | b'\r', after)) = rest.split_first() {
        *rest = after;
    }
}

fn byte(rest: &mut &[u8]) -> Option<u8> {
    let (&first, after) = rest.split_first()?;
    *rest = after;
    Some(first)
}

/// Moves `rest` past `expected` if it is the next byte.
fn eat(rest: &mut &[u8], expected: u8) -> bool {
    match rest.split_first() {
        Some((&first, after)) if first == expected => {
            *rest = after;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::JsonCompatible;
    use crate::wire::shape_tests::{Found, found};

    /// The serde walk this check stands in for (as `json_fields` runs it).
    fn serde_shape(bytes: &[u8]) -> Found {
        let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<Shape>();
        let shape = values.next()?.ok()?;
        Some((shape, values.byte_offset()))
    }

    fn fast_shape(bytes: &[u8]) -> Found {
        found(bytes, shape)
    }

    #[test]
    fn takes_plain_payloads_as_the_serde_walk_does() {
        for text in [
            r#"[1,"bench"]"#,
            r#"[]"#,
            r#"{}"#,
            " [ ] ",
            r#"[-0, 0.5, -12.25, 18446744073709551616, true, false, null]"#,
            r#"["", "a\"b\\c\/d\b\f\n\r\t", "é ü 😀"]"#,
            r#"{"a": [1, {"b": {}}], "a": null, "c": "d"}"#,
            "[[[[]]], {\"x\": [[]]}]\n",
        ] {
            let bytes = text.trim_start().as_bytes();
            let fast = fast_shape(bytes);
            assert!(fast.is_some(), "declined: {text}");
            assert_eq!(fast, serde_shape(bytes), "{text}");
        }
    }

    #[test]
    fn declines_what_it_is_unsure_of_and_what_is_not_json() {
        for text in [
            // Left to serde_json: escapes of code points, exponents, very long numbers.
            r#"["\u00e9"]"#,
            "[1e3]",
            "[1E-3]",
            &format!("[{}]", "9".repeat(MAX_DIGITS + 1)),
            &format!("[0.{}]", "1".repeat(MAX_DIGITS + 1)),
            // Not JSON.
            "[01]",
            "[-]",
            "[1.]",
            "[.5]",
            "[+1]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[tru]",
            "[nul]",
            "[\"a\tb\"]",
            "[\"\\x\"]",
            "{1: 2}",
            "{\"a\" 2}",
            "{\"a\": 2,}",
            "[\"a]",
            "[1",
            "1",
            "\"a\"",
        ] {
            assert_eq!(fast_shape(text.as_bytes()), None, "{text}");
        }
        // Text that is not UTF-8.
        assert_eq!(fast_shape(b"[\"\xff\"]"), None);
        assert_eq!(fast_shape(b"[\"\xc3\"]"), None);
    }

    #[test]
    fn bounds_nesting_as_the_serde_walk_does() {
        let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
        let deep = nested(CHECK_DEPTH);
        assert!(fast_shape(deep.as_bytes()).is_some());
        assert_eq!(fast_shape(deep.as_bytes()), serde_shape(deep.as_bytes()));
        let deeper = nested(CHECK_DEPTH + 1);
        assert_eq!(fast_shape(deeper.as_bytes()), None);
        assert_eq!(
            serde_shape(deeper.as_bytes()),
            None,
            "the serde walk refuses it too"
        );
    }

    #[test]
    fn skips_one_element_of_any_kind() {
        let text = br#" {"a": [1, "x"]} , 2]"#;
        let mut rest = &text[..];
        assert_eq!(skip_element(&mut rest), Some(()));
        assert_eq!(rest, b" , 2]");
    }

    /// Damaged JSON: a valid payload with a few bytes inserted or removed.
    fn damaged() -> impl Strategy<Value = Vec<u8>> {
        crate::wire::shape_tests::damaged(
            vec![
                r#"[1,"bench"]"#,
                r#"{"a": [-1.5, true, null], "b": {"c": "\n"}}"#,
                r#"[[], {}, "é", 0, -0.25]"#,
            ],
            b" \t,:[]{}\"0159-.eE\\u/tnx\x01\xc3\xff".to_vec(),
        )
    }

    /// Values whose JSON has no number with an exponent and no `\u` escape: integers, booleans,
    /// null, printable text (quotes and backslashes included) and non-ASCII text, nested.
    fn plain_value() -> impl Strategy<Value = crate::value::Value> {
        use crate::value::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<u64>().prop_map(Value::UInt),
            "[ -~éü😀]{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 12, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..12).prop_map(Value::List),
                proptest::collection::btree_map("[ -~é]{0,6}", inner, 0..12).prop_map(Value::Dict),
            ]
        })
    }

    proptest! {
        #[test]
        fn takes_plain_values_as_the_serde_walk_does(value in plain_value()) {
            let payload = crate::value::Value::List(vec![value]);
            let bytes = serde_json::to_vec(&JsonCompatible(&payload)).unwrap();
            let accepted = fast_shape(&bytes);
            prop_assert!(accepted.is_some(), "{}", String::from_utf8_lossy(&bytes));
            prop_assert_eq!(accepted, serde_shape(&bytes));
        }

        #[test]
        fn agrees_with_the_serde_walk_on_any_value(
            value in crate::wire::shape_tests::any_value()
        ) {
            let payload = crate::value::Value::List(vec![value]);
            let bytes = serde_json::to_vec(&JsonCompatible(&payload)).unwrap();
            if let Some(accepted) = fast_shape(&bytes) {
                prop_assert_eq!(Some(accepted), serde_shape(&bytes));
            }
            for end in 0..bytes.len() {
                prop_assert_eq!(bytes.get(..end).and_then(fast_shape), None);
            }
        }

        #[test]
        fn never_accepts_more_than_the_serde_walk(text in damaged()) {
            crate::wire::shape_tests::accepts_no_more_than_the_serde_walk(
                &text, fast_shape, serde_shape,
            )?;
        }

        #[test]
        fn never_accepts_more_than_the_serde_walk_on_any_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..48)
        ) {
            crate::wire::shape_tests::accepts_no_more_than_the_serde_walk(
                &bytes, fast_shape, serde_shape,
            )?;
        }
    }
}

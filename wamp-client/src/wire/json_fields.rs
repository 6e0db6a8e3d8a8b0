//! The fast path's reader of JSON messages: the message's own brackets, commas and small
//! unsigned integers (type code, ids) are read off the text here; details that are not `{}` are
//! read by serde_json; each payload element is checked off the text by `json_shape`, or, when
//! that check declines it (a `\u` escape, an exponent), by serde_json, at its place in the text.
//!
//! serde_json reads a payload element into a [`Shape`] (checked as a `Value` would be decoded,
//! counted, nothing built) and tells where it ended: one pass over the payload, where taking it
//! as a `RawValue` (for its place) and checking it afterwards made two, plus a UTF-8 check of
//! the raw text. Anything this reader does not take outright (a negative or fractional id, an
//! element that is not the expected kind, odd punctuation) makes the fast path give up, and
//! the general decoder judges the message.

use serde::de::{Deserialize, DeserializeSeed, Deserializer};

use super::fast_path::Fields;
use super::raw_payload::Part;
use crate::value::{Dict, Kind, Shape, Value, ValueSeed};

/// Reads a JSON message's elements in order (see [`Fields`]).
pub(super) struct JsonFields<'a> {
    text: &'a [u8],
    /// Where reading goes on.
    at: usize,
    /// Whether an element has been read (the next one then follows a comma).
    started: bool,
    /// Whether the message's closing bracket has been read.
    closed: bool,
}

impl<'a> JsonFields<'a> {
    /// The reader of `text`, which must open an array.
    pub(super) fn new(text: &'a [u8]) -> Option<Self> {
        let mut fields = JsonFields {
            text,
            at: 0,
            started: false,
            closed: false,
        };
        fields.skip_whitespace();
        fields.eat(b'[')?;
        Some(fields)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Moves to the next element: `Some(true)` at its first byte, `Some(false)` after the
    /// message's closing bracket, `None` on anything else.
    fn next_element(&mut self) -> Option<bool> {
        if self.closed {
            return Some(false);
        }
        self.skip_whitespace();
        if self.eat(b']').is_some() {
            self.closed = true;
            return Some(false);
        }
        if self.started {
            self.eat(b',')?;
            self.skip_whitespace();
        }
        self.started = true;
        // An element, not a bracket or comma where one should be.
        (!matches!(self.peek()?, b']' | b',')).then_some(true)
    }

    /// Moves past the element at the current place: off the text if it is plain JSON (see
    /// `json_shape`), else with serde_json.
    fn skip_element(&mut self) -> Option<()> {
        let text = self.text.get(self.at..)?;
        let mut rest = text;
        if super::json_shape::skip_element(&mut rest).is_some() {
            self.at += text.len() - rest.len();
            return Some(());
        }
        self.value::<serde::de::IgnoredAny>().map(drop)
    }

    /// Reads one value of type `T` with serde_json at the current place.
    fn value<T: Deserialize<'a>>(&mut self) -> Option<T> {
        let rest = self.text.get(self.at..)?;
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
        let value = values.next()?.ok()?;
        self.at += values.byte_offset();
        Some(value)
    }
}

/// The value of the decimal digits at the front of `text` and how many there are (none: 0, 0),
/// in one pass; `None` when the value does not fit in 64 bits.
pub(super) fn leading_digits(text: &[u8]) -> Option<(u64, usize)> {
    let mut number = 0u64;
    let mut len = 0;
    for &byte in text {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        number = number.checked_mul(10)?.checked_add(u64::from(digit))?;
        len += 1;
    }
    Some((number, len))
}

/// The text from element `index` of a JSON list on (its closing bracket included), reached
/// by reading over the elements before it; `Some(None)` when the list is shorter. `None` on
/// anything this reader does not take (the caller then reads the list whole).
///
/// The list was checked when its message arrived, so the elements after the one wanted need
/// not be read: a reader that decodes one value from this text stops after it.
pub(super) fn nth_element(list: &[u8], index: usize) -> Option<Option<&[u8]>> {
    let mut fields = JsonFields::new(list)?;
    for _ in 0..index {
        if !fields.next_element()? {
            return Some(None);
        }
        fields.skip_element()?;
    }
    if !fields.next_element()? {
        return Some(None);
    }
    fields.text.get(fields.at..).map(Some)
}

impl Fields for JsonFields<'_> {
    /// Whether the message has been read whole: its closing bracket, then only whitespace.
    fn at_end(&mut self) -> bool {
        if !self.closed {
            self.skip_whitespace();
            if self.eat(b']').is_none() {
                return false;
            }
        }
        self.skip_whitespace();
        self.at == self.text.len()
    }

    fn uint(&mut self) -> Option<u64> {
        if !self.next_element()? {
            return None;
        }
        let digits = self.text.get(self.at..)?;
        let (number, len) = leading_digits(digits)?;
        // No leading zero (not JSON), nothing a float or negative number would go on with.
        let leading_zero = len > 1 && digits.first() == Some(&b'0');
        if len == 0 || leading_zero || matches!(digits.get(len), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.at += len;
        Some(number)
    }

    fn dict(&mut self) -> Option<Dict> {
        if !self.next_element()? {
            return None;
        }
        // The usual details: `{}`.
        if self.text.get(self.at..self.at + 2) == Some(b"{}") {
            self.at += 2;
            return Some(Dict::new());
        }
        if self.peek()? != b'{' {
            return None;
        }
        self.value::<JsonDict>().map(|JsonDict(dict)| dict)
    }

    fn part(&mut self, kind: Kind) -> Option<Option<Part>> {
        if !self.next_element()? {
            return Some(None);
        }
        let opening = match kind {
            Kind::List => b'[',
            Kind::Dict => b'{',
            Kind::Other => return None,
        };
        if self.peek()? != opening {
            return None;
        }
        let start = self.at;
        // Plain JSON is checked off the text; what that check declines, serde_json checks.
        let text = self.text.get(start..)?;
        let mut rest = text;
        let shape = match super::json_shape::shape(&mut rest) {
            Some(shape) => {
                self.at += text.len() - rest.len();
                shape
            }
            None => self.value::<Shape>()?,
        };
        (shape.kind == kind).then_some(Some(Part {
            bytes: start..self.at,
            len: shape.len,
        }))
    }
}

/// A dictionary decoded as the general decoder decodes JSON details.
struct JsonDict(Dict);

impl<'de> Deserialize<'de> for JsonDict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match (ValueSeed { json_binary: true }).deserialize(deserializer)? {
            Value::Dict(dict) => Ok(JsonDict(dict)),
            _ => Err(serde::de::Error::custom("not a dictionary")),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::wire::Serializer;
    use crate::wire::decode::message_from_value;

    /// The fast path declines `text` or decodes it as the general decoder does, and decoding
    /// (fast path first) always agrees with the general decoder. Whether it was taken.
    fn agrees(text: &[u8]) -> bool {
        let shown = String::from_utf8_lossy(text);
        let general = Serializer::Json
            .decode_value(text)
            .and_then(message_from_value)
            .map_err(|e| e.to_string());
        let fast = Serializer::Json.decode_fast(text);
        if let Some(fast) = &fast {
            assert_eq!(Ok(fast), general.as_ref(), "{shown}");
        }
        let decoded = Serializer::Json.decode(text).map_err(|e| e.to_string());
        assert_eq!(decoded, general, "{shown}");
        fast.is_some()
    }

    const TAKEN: &[&str] = &[
        r#"[36,1,2,{},[1,"bench"]]"#,
        " [ 36 , 1 ,\n2,\t{ } , [ ] , {\"a\" : 1} ]\r\n",
        r#"[50,7,{"progress":true},[1.5,-2,"\u00e9\"x",null,[{}]],{"k":[{"a":[]}]}]"#,
        r#"[68,1,9007199254740992,{"caller":3,"x":{"y":[1,2]}},["\u0000AAE="]]"#,
        r#"[50,7,{}]"#,
        r#"[50,7,{},[]]"#,
    ];

    const DECLINED: &[&str] = &[
        "[36,01,2,{},[]]",
        "[36,1.0,2,{},[]]",
        "[36,1e0,2,{},[]]",
        "[36,-1,2,{},[]]",
        "[36,0,2,{},[]]",
        "[36,99999999999999999999,2,{},[]]",
        "[36,9007199254740993,2,{},[]]",
        "[36,1,2,{},[],]",
        "[36,1,2,{}[]]",
        "[36,1,2,{},[1]]x",
        "[36,1,2,{},[1]",
        "[,36,1,2,{}]",
        "[36,,1,2,{}]",
        "[36 1,2,{}]",
        "[36,1,2,{},{}]",
        "[36,1,2,{},[1],[2]]",
        "[36,1,2,{},[1],{},3]",
        "[36,1,2,[],[1]]",
        "[36,1,2,{},\"[1]\"]",
        "[36,1,2,{\"enc_algo\":\"x\"},[1]]",
        "[36,1,2,{},[1e400]]",
        "[36,1,2,{},[\"\\x\"]]",
        "{\"36\":1}",
        "36",
        "",
    ];

    #[test]
    fn hand_written_messages_are_taken_or_declined_as_the_general_decoder_judges() {
        for text in TAKEN {
            assert!(agrees(text.as_bytes()), "not taken: {text}");
        }
        for text in DECLINED {
            assert!(!agrees(text.as_bytes()), "taken: {text}");
        }
        // Whatever the general decoder makes of these, the fast path agrees.
        for text in [
            r#"[36,1,2,{},["\ud800"]]"#,
            r#"[36,1,2,{},["\udc00\ud800"]]"#,
            r#"[36,1,2,{},["\ud83d\ude00"]]"#,
            "[36,1,2,{},[\"\u{7f}\"]]",
            "[36,1,2,{},[\"tab\there\"]]",
            &format!("[36,1,2,{{}},{}{}]", "[".repeat(100), "]".repeat(100)),
            &format!("[36,1,2,{{}},{}{}]", "[".repeat(130), "]".repeat(130)),
        ] {
            agrees(text.as_bytes());
        }
    }

    /// A valid hot message damaged at a few places: inserted punctuation, digits, signs,
    /// whitespace, quotes, escapes, or removed bytes.
    fn damaged() -> impl Strategy<Value = Vec<u8>> {
        crate::wire::shape_tests::damaged(TAKEN.to_vec(), b" \n,[]{}\":0159-.eE\\ux".to_vec())
    }

    proptest! {
        #[test]
        fn damaged_messages_are_taken_only_as_the_general_decoder_takes_them(text in damaged()) {
            agrees(&text);
        }
    }
}

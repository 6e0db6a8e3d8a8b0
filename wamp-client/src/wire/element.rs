//! Decoding one element of a received message (an arguments list, a keyword dictionary) straight
//! from its bytes into the type the reader asks for, or into a [`Value`] when asked for one.
//!
//! The bytes were checked when the message arrived (see `fast_path`), so what fails here is the
//! reader's type not fitting the data, never malformed data. JSON and MessagePack decode into
//! the reader's type directly, and so do CBOR scalars (with serde's deserializers of one
//! value). A [`Value`] stays the reference: a JSON element holding a `"\u0000<base64>"` string
//! (the WAMP binary convention), every other CBOR element (ciborium reads only as a compact
//! format, and `Value` is read as a human-readable one; the `Value` is made from its headers,
//! see `cbor_value`), and any element the direct way fails on go through one. So a type reads
//! the same from every serializer, and an error is worded by [`from_value`], naming the place
//! inside the argument, at the cost of a second decode only when the first one failed.

// Each serializer's arms compile with its feature only; with some left out, helpers that serve
// only those go unused.
#![cfg_attr(
    not(all(feature = "json", feature = "msgpack", feature = "cbor")),
    allow(dead_code, unused_imports, unused_variables)
)]

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess};

use super::Serializer;
#[cfg(any(feature = "json", feature = "msgpack"))]
use super::like_value::LikeValue;
use crate::value::{Dict, Value, ValueError, ValueSeed, from_value};

/// Decodes a whole element as `T`.
pub(crate) fn decode<T: DeserializeOwned>(
    serializer: Serializer,
    bytes: &[u8],
) -> Result<T, ValueError> {
    let direct = match direct(serializer, bytes) {
        #[cfg(feature = "json")]
        Some(Direct::Json) => json_element_as(bytes),
        #[cfg(feature = "msgpack")]
        Some(Direct::MsgPack) => msgpack_element_as(bytes),
        None => None,
    };
    match direct {
        Some(value) => Ok(value),
        None => from_value(to_value(serializer, bytes)?),
    }
}

/// Decodes element `index` of a list element as `T`; `Ok(None)` when the list is shorter.
pub(crate) fn decode_nth<T: DeserializeOwned>(
    serializer: Serializer,
    list: &[u8],
    index: usize,
) -> Result<Option<T>, ValueError> {
    // JSON: element `index` is found once, and a scalar read before the list is looked at for
    // binary strings (it is not one).
    #[cfg(feature = "json")]
    let json_element = match serializer {
        Serializer::Json => match super::json_fields::nth_element(list, index) {
            Some(None) => return Ok(None),
            Some(Some(element)) => {
                if let Some(value) = json_scalar(element) {
                    return Ok(Some(value));
                }
                Some(element)
            }
            None => None,
        },
        _ => None,
    };
    let direct = match direct(serializer, list) {
        #[cfg(feature = "json")]
        Some(Direct::Json) => json_element.and_then(json_element_as).map(Some),
        #[cfg(feature = "msgpack")]
        Some(Direct::MsgPack) => msgpack_nth(list, index),
        None => None,
    };
    if let Some(found) = direct {
        return Ok(found);
    }
    #[cfg(feature = "cbor")]
    if let (Serializer::Cbor, Some(found)) = (serializer, cbor_nth(list, index)) {
        return found.map(cbor_element).transpose();
    }
    match to_value(serializer, list)? {
        Value::List(mut items) if index < items.len() => {
            from_value(items.swap_remove(index)).map(Some)
        }
        _ => Ok(None),
    }
}

/// The JSON element at the front of `element` (a whole element, or one found by reading over
/// the ones before it, see `json_fields::nth_element`) decoded alone: serde_json stops after the
/// value it reads, so the elements after it (and the list's end, checked when the message
/// arrived) are not read again. `None` when the direct way fails.
#[cfg(feature = "json")]
fn json_element_as<T: DeserializeOwned>(element: &[u8]) -> Option<T> {
    let mut de = serde_json::Deserializer::from_slice(element);
    T::deserialize(LikeValue::json(&mut de)).ok()
}

/// The JSON scalar at the front of `text` (an integer within 64 bits, a string without
/// escapes, `true`, `false`, `null`; checked when its message arrived) decoded as `T` with
/// serde's deserializer of one such value, which visits `T` as serde_json does (for what it
/// does not, such as an `Option`, `T` refuses); `None` for anything else (a fraction, an
/// exponent, an escape), or when `T` refuses it: serde_json then reads it.
#[cfg(feature = "json")]
fn json_scalar<T: DeserializeOwned>(text: &[u8]) -> Option<T> {
    use de::value::{
        BoolDeserializer, BorrowedStrDeserializer, Error, I64Deserializer, U64Deserializer,
        UnitDeserializer,
    };
    match *text.first()? {
        b'"' => {
            let rest = text.get(1..)?;
            let end = rest
                .iter()
                .position(|&b| matches!(b, b'"' | b'\\' | 0x00..=0x1f))?;
            if rest.get(end) != Some(&b'"') {
                return None;
            }
            let text = std::str::from_utf8(rest.get(..end)?).ok()?;
            T::deserialize(BorrowedStrDeserializer::<Error>::new(text)).ok()
        }
        b't' if text.starts_with(b"true") => {
            T::deserialize(BoolDeserializer::<Error>::new(true)).ok()
        }
        b'f' if text.starts_with(b"false") => {
            T::deserialize(BoolDeserializer::<Error>::new(false)).ok()
        }
        b'n' if text.starts_with(b"null") => T::deserialize(UnitDeserializer::<Error>::new()).ok(),
        b'-' => {
            // serde_json reads `-0` as the integer 0, and below -2^63 a float: left to it.
            let magnitude = json_integer(text.get(1..)?).filter(|&n| n > 0)?;
            let n = 0i64.checked_sub_unsigned(magnitude)?;
            T::deserialize(I64Deserializer::<Error>::new(n)).ok()
        }
        b'0'..=b'9' => T::deserialize(U64Deserializer::<Error>::new(json_integer(text)?)).ok(),
        _ => None,
    }
}

/// The integer of JSON digits at the front of `text`, if it fits in 64 bits and no fraction or
/// exponent follows.
#[cfg(feature = "json")]
fn json_integer(text: &[u8]) -> Option<u64> {
    let (n, digits) = super::json_fields::leading_digits(text)?;
    let fraction_or_exponent = matches!(text.get(digits), Some(b'.' | b'e' | b'E'));
    (digits > 0 && !fraction_or_exponent).then_some(n)
}

/// Element `index` of a MessagePack list, found by walking the markers of the elements before
/// it and decoded alone: the elements after it are not read at all. `None` when the direct way
/// fails (the `Value` way then judges).
#[cfg(feature = "msgpack")]
fn msgpack_nth<T: DeserializeOwned>(list: &[u8], index: usize) -> Option<Option<T>> {
    let mut rest = list;
    if index >= super::msgpack_shape::list_header(&mut rest)? {
        return Some(None);
    }
    for _ in 0..index {
        super::msgpack_shape::shape(&mut rest)?;
    }
    msgpack_element_as(rest).map(Some)
}

/// The MessagePack element at the front of `bytes` decoded alone with rmp-serde (which stops
/// after it); `None` when the direct way fails.
#[cfg(feature = "msgpack")]
#[inline]
fn msgpack_element_as<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes).with_human_readable();
    T::deserialize(LikeValue::msgpack(&mut de)).ok()
}

/// Element `index` of a CBOR list (the bytes from it on), found by walking the headers of the
/// elements before it, to be read alone (see [`cbor_element`]), not as part of the whole list's
/// `Value`. `None` when the walk is unsure (the whole list's `Value` then judges).
#[cfg(feature = "cbor")]
fn cbor_nth(list: &[u8], index: usize) -> Option<Option<&[u8]>> {
    let mut rest = list;
    if index >= super::cbor_shape::list_header(&mut rest)? {
        return Some(None);
    }
    for _ in 0..index {
        super::cbor_shape::shape(&mut rest)?;
    }
    Some(Some(rest))
}

/// Decodes the CBOR element at the front of `bytes` as `T`: a scalar straight from its header
/// (see [`cbor_scalar`]); anything else, and a scalar `T` does not take that way, through its
/// [`Value`] (ciborium reads only as a compact format, and `Value` is read as a human-readable
/// one), which words the error.
#[cfg(feature = "cbor")]
fn cbor_element<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ValueError> {
    match cbor_scalar(bytes) {
        Some(value) => Ok(value),
        None => from_value(to_value(Serializer::Cbor, bytes)?),
    }
}

/// The CBOR scalar at the front of `bytes` (an integer within 64 bits, a float, a boolean, null
/// or text) decoded as `T` with serde's deserializer of one such value, which visits `T` as the
/// scalar's [`Value`] does (for what it does not, such as an `Option`, `T` refuses, and the
/// `Value` way decodes it); `None` for anything else, or when `T` refuses it.
#[cfg(feature = "cbor")]
fn cbor_scalar<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    use super::cbor_shape::{
        Header, MAJOR_NEGATIVE, MAJOR_SIMPLE, MAJOR_TEXT, MAJOR_UNSIGNED, Simple, header, simple,
        text,
    };
    use de::value::{
        BoolDeserializer, Error, F64Deserializer, I64Deserializer, StrDeserializer,
        U64Deserializer, UnitDeserializer,
    };
    let mut rest = bytes;
    let Header {
        major,
        info,
        argument,
    } = header(&mut rest)?;
    match major {
        MAJOR_UNSIGNED => T::deserialize(U64Deserializer::<Error>::new(argument)).ok(),
        // -1 - argument, within 64 bits as the `Value` reader takes it.
        MAJOR_NEGATIVE => {
            let n = -1 - i64::try_from(argument).ok()?;
            T::deserialize(I64Deserializer::<Error>::new(n)).ok()
        }
        MAJOR_TEXT => {
            T::deserialize(StrDeserializer::<Error>::new(text(&mut rest, argument)?)).ok()
        }
        MAJOR_SIMPLE => match simple(info, argument)? {
            Simple::Bool(b) => T::deserialize(BoolDeserializer::<Error>::new(b)).ok(),
            Simple::Null => T::deserialize(UnitDeserializer::<Error>::new()).ok(),
            Simple::Float(f) => T::deserialize(F64Deserializer::<Error>::new(f)).ok(),
        },
        _ => None,
    }
}

/// The entry `key` of a CBOR dictionary (of repeated keys the last; the bytes from its value
/// on), found by walking the headers of the entries; as [`cbor_nth`] otherwise.
#[cfg(feature = "cbor")]
fn cbor_entry<'a>(dict: &'a [u8], key: &str) -> Option<Option<&'a [u8]>> {
    let mut rest = dict;
    let mut found = None;
    for _ in 0..super::cbor_shape::map_header(&mut rest)? {
        let matches = super::cbor_shape::text_key(&mut rest)? == key;
        if matches {
            found = Some(rest);
        }
        super::cbor_shape::shape(&mut rest)?;
    }
    Some(found)
}

/// Decodes the entry `key` of a dictionary element as `T`; `Ok(None)` when there is none. (Of
/// repeated keys the last counts, as in a [`Dict`].)
pub(crate) fn decode_entry<T: DeserializeOwned>(
    serializer: Serializer,
    dict: &[u8],
    key: &str,
) -> Result<Option<T>, ValueError> {
    let seed = || Entry::<T> {
        key,
        _type: std::marker::PhantomData,
    };
    let direct = match direct(serializer, dict) {
        #[cfg(feature = "json")]
        Some(Direct::Json) => {
            let mut de = serde_json::Deserializer::from_slice(dict);
            de::Deserializer::deserialize_map(LikeValue::json(&mut de), seed()).ok()
        }
        #[cfg(feature = "msgpack")]
        Some(Direct::MsgPack) => {
            let mut de = rmp_serde::Deserializer::from_read_ref(dict).with_human_readable();
            de::Deserializer::deserialize_map(LikeValue::msgpack(&mut de), seed()).ok()
        }
        None => None,
    };
    if let Some(found) = direct {
        return Ok(found);
    }
    #[cfg(feature = "cbor")]
    if let (Serializer::Cbor, Some(found)) = (serializer, cbor_entry(dict, key)) {
        return found.map(cbor_element).transpose();
    }
    match to_value(serializer, dict)? {
        Value::Dict(mut entries) => entries.remove(key).map(from_value).transpose(),
        _ => Ok(None),
    }
}

/// Decodes an element as a [`Value`] (the JSON binary convention applied).
pub(crate) fn to_value(serializer: Serializer, bytes: &[u8]) -> Result<Value, ValueError> {
    match serializer {
        #[cfg(feature = "json")]
        Serializer::Json => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            ValueSeed { json_binary: true }
                .deserialize(&mut de)
                .map_err(|e| ValueError::new(json_error(e)))
        }
        #[cfg(feature = "msgpack")]
        Serializer::MsgPack => {
            let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
            ValueSeed { json_binary: false }
                .deserialize(&mut de)
                .map_err(|e| ValueError::new(e.to_string()))
        }
        #[cfg(feature = "cbor")]
        Serializer::Cbor => {
            if let Some(value) = super::cbor_value::value(bytes) {
                return Ok(value);
            }
            // The element was checked for depth when it arrived: no recursion limit of 256
            // levels can be reached, so the small scratch buffer variant is safe.
            let mut scratch = [0u8; 256];
            ciborium::de::from_reader_with_buffer::<Value, _>(bytes, &mut scratch)
                .map_err(|e| ValueError::new(cbor_error(e)))
        }
        #[allow(unreachable_patterns)]
        _ => Err(ValueError::new(serializer.disabled().to_string())),
    }
}

/// Decodes a dictionary element as a [`Dict`].
pub(crate) fn to_dict(serializer: Serializer, bytes: &[u8]) -> Result<Dict, ValueError> {
    match to_value(serializer, bytes)? {
        Value::Dict(dict) => Ok(dict),
        other => Err(ValueError::new(format!(
            "expected a dictionary, found {}",
            other.kind()
        ))),
    }
}

/// Which decoder reads an element straight into the reader's type.
enum Direct {
    #[cfg(feature = "json")]
    Json,
    #[cfg(feature = "msgpack")]
    MsgPack,
}

fn direct(serializer: Serializer, bytes: &[u8]) -> Option<Direct> {
    match serializer {
        // A `\u0000` escape may start a binary string: that element takes the `Value` way,
        // which knows the convention. Any other JSON has no bytes to convert.
        #[cfg(feature = "json")]
        Serializer::Json if !bytes.windows(6).any(|w| w == b"\\u0000") => Some(Direct::Json),
        #[cfg(feature = "msgpack")]
        Serializer::MsgPack => Some(Direct::MsgPack),
        _ => None,
    }
}

/// serde_json's message without the position it appends: the element's own line and column
/// say nothing to the reader of a WAMP payload.
fn json_error(e: serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&suffix) {
        Some(message) => message.to_owned(),
        None => text,
    }
}

#[cfg(feature = "cbor")]
fn cbor_error(e: ciborium::de::Error<std::io::Error>) -> String {
    match e {
        ciborium::de::Error::Semantic(_, message) => message,
        ciborium::de::Error::Io(e) => e.to_string(),
        ciborium::de::Error::Syntax(offset) => format!("invalid CBOR at byte {offset}"),
        ciborium::de::Error::RecursionLimitExceeded => "nested too deeply".to_owned(),
    }
}

/// Reads the entry `key` of a map, skipping the others.
struct Entry<'k, T> {
    key: &'k str,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<'de, T: DeserializeOwned> de::Visitor<'de> for Entry<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a dictionary")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs(self.key))? {
            if matches {
                found = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether a dictionary key is `self.0`: keys that are numbers, booleans or characters compare
/// by their text, as a [`Dict`] keeps them.
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl de::Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string dictionary key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v.to_string() == self.0)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        Ok(v.to_string() == self.0)
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<bool, E> {
        Ok(v.to_string() == self.0)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        Ok(v.to_string() == self.0)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<bool, E> {
        Ok(v.to_string() == self.0)
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<bool, E> {
        Ok(v.to_string() == self.0)
    }
}

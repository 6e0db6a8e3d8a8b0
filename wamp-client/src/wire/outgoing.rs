//! Outgoing arguments encoded straight from the caller's type into the session's serializer, in
//! the caller's task: no [`Value`] tree in between, and the session task splices the bytes into
//! the message (see `encode`).
//!
//! [`to_value`](crate::value::to_value) gives every `Serialize` type its meaning as WAMP data
//! (non-negative integers unsigned, structs and maps as dictionaries with string keys, enums
//! externally tagged, 128-bit integers only within 64 bits, human-readable forms). [`WampData`]
//! writes the same data into the serializer it wraps, so that what the router receives does not
//! depend on which path encoded it; the tests hold the two paths to the same bytes.

use std::cell::{Cell, RefCell};

use bytes::Bytes;
use serde::ser::{self, Serialize, SerializeMap as _};

use super::raw_payload::{Part, Places, RawPayload};
use super::serializer::Serializer;
use crate::value::{Dict, Value, ValueError, map_key, to_value};

thread_local! {
    /// Where arguments are encoded before they are copied into an allocation of exactly their
    /// size, which becomes the payload's buffer as it is (one with room to spare would take a
    /// second allocation to share).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The capacity of the scratch buffer a thread keeps between encodings.
const SCRATCH_KEPT: usize = 64 * 1024;

/// Positional arguments encoded in one serializer, keyword arguments not yet added.
#[derive(Debug)]
pub(crate) struct EncodedArgs {
    serializer: Serializer,
    /// The arguments list (an empty list for none).
    bytes: Vec<u8>,
    count: usize,
}

/// What the top level of positional arguments serialized as.
enum Top {
    List,
    Null,
    Other,
}

impl EncodedArgs {
    /// Encodes `args`, which must serialize as a sequence (or as unit or `None`: no arguments).
    /// `Ok(None)` when they are something else, or this build cannot encode in `serializer`:
    /// converted into values instead, they fail with the explanation. An error for anything
    /// `to_value` refuses, with its message.
    pub(crate) fn encode(
        serializer: Serializer,
        args: &(impl Serialize + ?Sized),
    ) -> Result<Option<Self>, ValueError> {
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                scratch.clear();
                let encoded = Self::encode_into(serializer, args, &mut scratch);
                if scratch.capacity() > SCRATCH_KEPT {
                    *scratch = Vec::new();
                }
                encoded
            }
            // Encoding from within a `Serialize` implementation that is being encoded.
            Err(_) => Self::encode_into(serializer, args, &mut Vec::new()),
        })
    }

    /// [`encode`](Self::encode) in `buffer`, copied out into an allocation of their size.
    fn encode_into(
        serializer: Serializer,
        args: &(impl Serialize + ?Sized),
        buffer: &mut Vec<u8>,
    ) -> Result<Option<Self>, ValueError> {
        let count = Cell::new(0);
        let Some(result) = write(serializer, buffer, args, Some(&count)) else {
            return Ok(None);
        };
        result?;
        match top(serializer, buffer) {
            Top::List => {}
            Top::Null => {
                buffer.clear();
                write_empty_list(serializer, buffer);
            }
            Top::Other => return Ok(None),
        }
        Ok(Some(EncodedArgs {
            serializer,
            bytes: buffer.as_slice().to_vec(),
            count: count.get(),
        }))
    }

    /// The payload of these arguments and `kwargs` (encoded after them here): empty for
    /// neither.
    pub(crate) fn into_payload(mut self, kwargs: &Dict) -> Result<super::Payload, ValueError> {
        if self.count == 0 && kwargs.is_empty() {
            return Ok(super::Payload::Empty);
        }
        let args_end = self.bytes.len();
        let kwargs_part = if kwargs.is_empty() {
            None
        } else {
            if self.serializer == Serializer::Json {
                self.bytes.push(b',');
            }
            let start = self.bytes.len();
            match write(self.serializer, &mut self.bytes, kwargs, None) {
                Some(result) => result?,
                None => return Err(ValueError::new("serializer not available")),
            }
            Some(Part {
                bytes: start..self.bytes.len(),
                len: kwargs.len(),
            })
        };
        let args = Part {
            bytes: 0..args_end,
            len: self.count,
        };
        // Exactly their size again (see `SCRATCH`).
        self.bytes.shrink_to_fit();
        let (serializer, frame) = (self.serializer, Bytes::from(self.bytes));
        // Places are 32-bit: far beyond what a router takes (RawSocket allows 16 MiB at most).
        let places = Places::new(args, kwargs_part).ok_or_else(|| {
            ValueError::new("arguments of 4 GiB or more cannot be sent in one message")
        })?;
        Ok(super::Payload::Raw(RawPayload::new(
            frame, serializer, places,
        )))
    }
}

/// Writes `value` as WAMP data into `out` in `serializer`, counting the elements of a top-level
/// sequence into `count`. `None` if this build lacks the serializer.
fn write(
    serializer: Serializer,
    out: &mut Vec<u8>,
    value: &(impl Serialize + ?Sized),
    count: Option<&Cell<usize>>,
) -> Option<Result<(), ValueError>> {
    let error = Cell::new(None);
    let data = |json| Data {
        value,
        json,
        error: &error,
        count,
    };
    let result: Option<Result<(), String>> = match serializer {
        #[cfg(feature = "json")]
        Serializer::Json => {
            Some(serde_json::to_writer(&mut *out, &data(true)).map_err(|e| e.to_string()))
        }
        #[cfg(feature = "msgpack")]
        Serializer::MsgPack => Some(
            data(false)
                .serialize(&mut rmp_serde::Serializer::new(&mut *out))
                .map_err(|e| e.to_string()),
        ),
        #[cfg(feature = "cbor")]
        Serializer::Cbor => {
            Some(ciborium::into_writer(&data(false), &mut *out).map_err(|e| e.to_string()))
        }
        #[allow(unreachable_patterns)]
        _ => {
            let _ = (data, out);
            None
        }
    };
    Some(match (result?, error.take()) {
        (_, Some(e)) => Err(e),
        (Ok(()), None) => Ok(()),
        (Err(e), None) => Err(ValueError::new(e)),
    })
}

fn top(serializer: Serializer, bytes: &[u8]) -> Top {
    let first = bytes.first().copied().unwrap_or(0);
    match serializer {
        Serializer::Json if first == b'[' => Top::List,
        Serializer::Json if first == b'n' => Top::Null,
        Serializer::MsgPack if matches!(first, 0x90..=0x9f | 0xdc | 0xdd) => Top::List,
        Serializer::MsgPack if first == 0xc0 => Top::Null,
        Serializer::Cbor if matches!(first, 0x80..=0x9f) => Top::List,
        Serializer::Cbor if first == 0xf6 => Top::Null,
        _ => Top::Other,
    }
}

fn write_empty_list(serializer: Serializer, out: &mut Vec<u8>) {
    match serializer {
        Serializer::Json => out.extend_from_slice(b"[]"),
        Serializer::MsgPack => out.push(0x90),
        Serializer::Cbor => out.push(0x80),
    }
}

/// A value to write as WAMP data (see [`WampData`]).
struct Data<'a, T: ?Sized> {
    value: &'a T,
    json: bool,
    /// The first conversion error, with `to_value`'s message (the serializer gets its text).
    error: &'a Cell<Option<ValueError>>,
    /// Counts the elements of the value, if it is a sequence (the top level only).
    count: Option<&'a Cell<usize>>,
}

impl<'a, T: ?Sized> Data<'a, T> {
    /// A value inside another (elements, entries): nothing counted.
    fn nested(value: &'a T, json: bool, error: &'a Cell<Option<ValueError>>) -> Self {
        Data {
            value,
            json,
            error,
            count: None,
        }
    }
}

impl<T: Serialize + ?Sized> Serialize for Data<'_, T> {
    fn serialize<S: ser::Serializer>(&self, inner: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(WampData {
            inner,
            json: self.json,
            error: self.error,
            count: self.count,
        })
    }
}

/// A serializer that writes what it is given as WAMP data into `inner`, as [`to_value`] would
/// convert it: see the module docs.
struct WampData<'a, S> {
    inner: S,
    json: bool,
    error: &'a Cell<Option<ValueError>>,
    count: Option<&'a Cell<usize>>,
}

impl<'a, S: ser::Serializer> WampData<'a, S> {
    /// A nested value.
    fn data<'v, T: ?Sized>(&self, value: &'v T) -> Data<'v, T>
    where
        'a: 'v,
    {
        Data::nested(value, self.json, self.error)
    }

    fn fail(&self, e: ValueError) -> S::Error {
        record(self.error, e)
    }

    fn signed(self, n: i64) -> Result<S::Ok, S::Error> {
        match u64::try_from(n) {
            Ok(n) => self.inner.serialize_u64(n),
            Err(_) => self.inner.serialize_i64(n),
        }
    }

    /// `{variant: value}`.
    fn tagged<T: Serialize + ?Sized>(
        self,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let data = self.data(value);
        let mut map = self.inner.serialize_map(Some(1))?;
        map.serialize_entry(variant, &data)?;
        map.end()
    }
}

impl<'a, S: ser::Serializer> ser::Serializer for WampData<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;

    type SerializeSeq = Seq<'a, S::SerializeSeq>;
    type SerializeTuple = Seq<'a, S::SerializeSeq>;
    type SerializeTupleStruct = Seq<'a, S::SerializeSeq>;
    type SerializeTupleVariant = Variant<'a, S>;
    type SerializeMap = Map<'a, S::SerializeMap>;
    type SerializeStruct = Map<'a, S::SerializeMap>;
    type SerializeStructVariant = Variant<'a, S>;

    /// As `to_value`: types with a readable form (addresses, times) take it.
    fn is_human_readable(&self) -> bool {
        true
    }

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.inner.serialize_bool(v)
    }

    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.signed(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.signed(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.signed(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.signed(v)
    }

    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        if let Ok(n) = u64::try_from(v) {
            self.inner.serialize_u64(n)
        } else if let Ok(n) = i64::try_from(v) {
            self.inner.serialize_i64(n)
        } else {
            Err(self.fail(too_wide(v)))
        }
    }

    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u64(v)
    }

    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        match u64::try_from(v) {
            Ok(n) => self.inner.serialize_u64(n),
            Err(_) => Err(self.fail(too_wide(v))),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        if self.json && !v.is_finite() {
            // As `JsonCompatible`: JSON has no such numbers.
            self.inner.serialize_unit()
        } else {
            self.inner.serialize_f64(v)
        }
    }

    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.inner.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_str(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        if self.json {
            self.inner
                .serialize_str(&crate::value::encode_json_binary(v))
        } else {
            self.inner.serialize_bytes(v)
        }
    }

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.tagged(variant, value)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Ok(Seq {
            inner: self.inner.serialize_seq(len)?,
            json: self.json,
            error: self.error,
            count: self.count,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Ok(Variant {
            outer: self,
            variant,
            content: Value::List(Vec::new()),
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Ok(Map {
            inner: self.inner.serialize_map(len)?,
            json: self.json,
            error: self.error,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Ok(Variant {
            outer: self,
            variant,
            content: Value::Dict(Dict::new()),
        })
    }
}

/// Keeps the first conversion error for the caller; the serializer stops with its text.
fn record<E: ser::Error>(cell: &Cell<Option<ValueError>>, e: ValueError) -> E {
    let error = E::custom(&e);
    let first = cell.take();
    cell.set(first.or(Some(e)));
    error
}

fn too_wide(v: impl std::fmt::Display) -> ValueError {
    ValueError::new(format!("integer {v} does not fit in 64 bits"))
}

/// The elements of a sequence, tuple or tuple struct.
struct Seq<'a, C> {
    inner: C,
    json: bool,
    error: &'a Cell<Option<ValueError>>,
    count: Option<&'a Cell<usize>>,
}

impl<C: ser::SerializeSeq> Seq<'_, C> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        if let Some(count) = self.count {
            count.set(count.get() + 1);
        }
        self.inner
            .serialize_element(&Data::nested(value, self.json, self.error))
    }
}

/// The three sequence traits, alike but for the name of the method that adds an element.
macro_rules! seq_impls {
    ($($trait:ident::$method:ident),*) => {$(
        impl<C: ser::SerializeSeq> ser::$trait for Seq<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                self.element(value)
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    )*};
}

seq_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// The entries of a map or struct; keys as `to_value` makes them (strings).
struct Map<'a, C> {
    inner: C,
    json: bool,
    error: &'a Cell<Option<ValueError>>,
}

impl<C: ser::SerializeMap> ser::SerializeMap for Map<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        match map_key(key) {
            Ok(key) => self.inner.serialize_key(&key),
            Err(e) => Err(record(self.error, e)),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner
            .serialize_value(&Data::nested(value, self.json, self.error))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: ser::SerializeMap> ser::SerializeStruct for Map<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.inner
            .serialize_entry(key, &Data::nested(value, self.json, self.error))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

/// A tuple or struct variant, `{variant: content}`: gathered as values (they are rare), then
/// written.
struct Variant<'a, S> {
    outer: WampData<'a, S>,
    variant: &'static str,
    content: Value,
}

impl<S: ser::Serializer> Variant<'_, S> {
    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: Option<&'static str>,
        value: &T,
    ) -> Result<(), S::Error> {
        let value = match to_value(value) {
            Ok(value) => value,
            Err(e) => return Err(self.outer.fail(e)),
        };
        match (&mut self.content, key) {
            (Value::Dict(dict), Some(key)) => {
                dict.insert(key.to_owned(), value);
            }
            (Value::List(list), _) => list.push(value),
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<S::Ok, S::Error> {
        self.outer.tagged(self.variant, &self.content)
    }
}

impl<S: ser::Serializer> ser::SerializeTupleVariant for Variant<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.field(None, value)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.finish()
    }
}

impl<S: ser::Serializer> ser::SerializeStructVariant for Variant<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.field(Some(key), value)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.finish()
    }
}

#[cfg(test)]
#[path = "outgoing_tests.rs"]
mod tests;

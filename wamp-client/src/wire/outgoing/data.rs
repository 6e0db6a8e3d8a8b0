//! The serializer adapter that writes any `Serialize` value as WAMP data: what
//! [`to_value`] would make of it, written straight into the serializer it
//! wraps (see the parent module).

use std::cell::Cell;

use serde::ser::{self, Serialize, SerializeMap as _};

use crate::value::{Dict, Value, ValueError, map_key, to_value};

/// A value to write as WAMP data (see [`WampData`]).
pub(super) struct Data<'a, T: ?Sized> {
    value: &'a T,
    json: bool,
    /// The first conversion error, with `to_value`'s message (the serializer gets its text).
    error: &'a Cell<Option<ValueError>>,
    /// Counts the elements of the value, if it is a sequence (the top level only).
    count: Option<&'a Cell<usize>>,
}

impl<'a, T: ?Sized> Data<'a, T> {
    /// A value at the top level of arguments: its elements or entries counted into `count`.
    pub(super) fn new(
        value: &'a T,
        json: bool,
        error: &'a Cell<Option<ValueError>>,
        count: Option<&'a Cell<usize>>,
    ) -> Self {
        Data {
            value,
            json,
            error,
            count,
        }
    }

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
            count: self.count,
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
    /// Counts the entries (keyword arguments: the top level only).
    count: Option<&'a Cell<usize>>,
}

impl<C> Map<'_, C> {
    fn counted(&self) {
        if let Some(count) = self.count {
            count.set(count.get() + 1);
        }
    }
}

impl<C: ser::SerializeMap> ser::SerializeMap for Map<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.counted();
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
        self.counted();
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

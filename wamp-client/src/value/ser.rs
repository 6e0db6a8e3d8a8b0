//! Serialization of [`Value`], and conversion of any [`serde::Serialize`] into a [`Value`].

mod compound;
mod map_key;

use serde::ser::{self, Serialize};

use self::compound::{SerializeDict, SerializeList, SerializeStructVariant, SerializeTupleVariant};
use super::{Dict, Value, ValueError};

impl Serialize for Value {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(n) => serializer.serialize_i64(*n),
            Value::UInt(n) => serializer.serialize_u64(*n),
            Value::Float(x) => serializer.serialize_f64(*x),
            Value::String(s) => serializer.serialize_str(s),
            Value::Bytes(b) => serializer.serialize_bytes(b),
            Value::List(l) => {
                let mut seq = serializer.serialize_seq(Some(l.len()))?;
                for item in l {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Dict(d) => {
                let mut map = serializer.serialize_map(Some(d.len()))?;
                for (k, v) in d {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Converts any serializable value into a [`Value`].
///
/// Non-negative integers become [`Value::UInt`], negative ones [`Value::Int`]; byte slices
/// serialized with `serialize_bytes` become [`Value::Bytes`]; structs and maps become
/// [`Value::Dict`] (map keys must be strings, integers, booleans or chars — the latter three are
/// converted to text, as `serde_json` does); sequences and tuples become [`Value::List`];
/// `None` and `()` become [`Value::Null`]. Enums use the external tagging of `serde_json`:
/// a unit variant is its name as a string, other variants a one-entry dict `{variant: content}`.
///
/// # Errors
///
/// Fails if the value's `Serialize` implementation fails, if a map key is not a string,
/// integer, boolean or char, or if a 128-bit integer does not fit in 64 bits.
///
/// ```
/// use wampkit::{Value, to_value};
///
/// assert_eq!(to_value(&Some(-1i8)).unwrap(), Value::Int(-1));
/// assert_eq!(to_value(&[1u8, 2]).unwrap(), Value::List(vec![Value::UInt(1), Value::UInt(2)]));
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ValueError> {
    value.serialize(ValueSerializer)
}

/// A map key as [`to_value`] makes it: strings as they are, integers, booleans and chars as
/// text; anything else is an error.
pub(crate) fn map_key<T: Serialize + ?Sized>(key: &T) -> Result<String, ValueError> {
    key.serialize(map_key::MapKeySerializer)
}

fn signed(n: i64) -> Value {
    match u64::try_from(n) {
        Ok(u) => Value::UInt(u),
        Err(_) => Value::Int(n),
    }
}

/// Upper bound for capacities taken from length hints.
const PREALLOCATE_MAX: usize = 4096;

/// The serializer behind [`to_value`].
struct ValueSerializer;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ValueError;

    type SerializeSeq = SerializeList;
    type SerializeTuple = SerializeList;
    type SerializeTupleStruct = SerializeList;
    type SerializeTupleVariant = SerializeTupleVariant;
    type SerializeMap = SerializeDict;
    type SerializeStruct = SerializeDict;
    type SerializeStructVariant = SerializeStructVariant;

    fn serialize_bool(self, v: bool) -> Result<Value, ValueError> {
        Ok(Value::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<Value, ValueError> {
        Ok(signed(i64::from(v)))
    }

    fn serialize_i16(self, v: i16) -> Result<Value, ValueError> {
        Ok(signed(i64::from(v)))
    }

    fn serialize_i32(self, v: i32) -> Result<Value, ValueError> {
        Ok(signed(i64::from(v)))
    }

    fn serialize_i64(self, v: i64) -> Result<Value, ValueError> {
        Ok(signed(v))
    }

    fn serialize_i128(self, v: i128) -> Result<Value, ValueError> {
        if let Ok(u) = u64::try_from(v) {
            Ok(Value::UInt(u))
        } else if let Ok(i) = i64::try_from(v) {
            Ok(Value::Int(i))
        } else {
            Err(ValueError::new(format!(
                "integer {v} does not fit in 64 bits"
            )))
        }
    }

    fn serialize_u8(self, v: u8) -> Result<Value, ValueError> {
        Ok(Value::UInt(u64::from(v)))
    }

    fn serialize_u16(self, v: u16) -> Result<Value, ValueError> {
        Ok(Value::UInt(u64::from(v)))
    }

    fn serialize_u32(self, v: u32) -> Result<Value, ValueError> {
        Ok(Value::UInt(u64::from(v)))
    }

    fn serialize_u64(self, v: u64) -> Result<Value, ValueError> {
        Ok(Value::UInt(v))
    }

    fn serialize_u128(self, v: u128) -> Result<Value, ValueError> {
        u64::try_from(v)
            .map(Value::UInt)
            .map_err(|_| ValueError::new(format!("integer {v} does not fit in 64 bits")))
    }

    fn serialize_f32(self, v: f32) -> Result<Value, ValueError> {
        Ok(Value::Float(f64::from(v)))
    }

    fn serialize_f64(self, v: f64) -> Result<Value, ValueError> {
        Ok(Value::Float(v))
    }

    fn serialize_char(self, v: char) -> Result<Value, ValueError> {
        Ok(Value::String(v.to_string()))
    }

    fn serialize_str(self, v: &str) -> Result<Value, ValueError> {
        Ok(Value::String(v.to_owned()))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ValueError> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn serialize_none(self) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ValueError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
    ) -> Result<Value, ValueError> {
        Ok(Value::String(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        let mut dict = Dict::new();
        dict.insert(variant.to_owned(), value.serialize(ValueSerializer)?);
        Ok(Value::Dict(dict))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SerializeList, ValueError> {
        Ok(SerializeList {
            items: Vec::with_capacity(len.unwrap_or(0).min(PREALLOCATE_MAX)),
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<SerializeList, ValueError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SerializeList, ValueError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SerializeTupleVariant, ValueError> {
        Ok(SerializeTupleVariant {
            variant,
            items: Vec::with_capacity(len.min(PREALLOCATE_MAX)),
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<SerializeDict, ValueError> {
        Ok(SerializeDict {
            dict: Dict::new(),
            next_key: None,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<SerializeDict, ValueError> {
        self.serialize_map(None)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<SerializeStructVariant, ValueError> {
        Ok(SerializeStructVariant {
            variant,
            dict: Dict::new(),
        })
    }

    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<Value, ValueError> {
        Ok(Value::String(value.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;

    use super::to_value;
    use crate::value::{Dict, Value};

    fn dict<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Dict(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    #[derive(Serialize)]
    enum E {
        Unit,
        Newtype(i32),
        Tuple(u8, String),
        Struct { a: bool },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Newtype(i16);

    #[derive(Serialize)]
    struct TupleStruct(i8, f32);

    #[derive(Serialize)]
    #[allow(dead_code)]
    struct WithSkips {
        kept: u8,
        #[serde(skip)]
        skipped: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        maybe: Option<u8>,
        #[serde(rename = "Renamed")]
        renamed: (),
    }

    #[test]
    fn scalars() {
        assert_eq!(to_value(&()).unwrap(), Value::Null);
        assert_eq!(to_value(&true).unwrap(), Value::Bool(true));
        assert!(matches!(to_value(&-1i8).unwrap(), Value::Int(-1)));
        assert!(matches!(to_value(&5i64).unwrap(), Value::UInt(5)));
        assert!(matches!(to_value(&0i32).unwrap(), Value::UInt(0)));
        assert!(matches!(to_value(&7u16).unwrap(), Value::UInt(7)));
        assert!(matches!(to_value(&i64::MIN).unwrap(), Value::Int(i64::MIN)));
        assert!(matches!(
            to_value(&u64::MAX).unwrap(),
            Value::UInt(u64::MAX)
        ));
        assert!(matches!(to_value(&-5i128).unwrap(), Value::Int(-5)));
        assert!(matches!(
            to_value(&u128::from(u64::MAX)).unwrap(),
            Value::UInt(u64::MAX)
        ));
        assert!(to_value(&(u128::from(u64::MAX) + 1)).is_err());
        assert!(to_value(&(i128::from(i64::MIN) - 1)).is_err());
        assert_eq!(to_value(&1.5f32).unwrap(), Value::Float(1.5));
        assert_eq!(to_value(&-0.25f64).unwrap(), Value::Float(-0.25));
        assert_eq!(to_value(&'ß').unwrap(), Value::from("ß"));
        assert_eq!(to_value("zwölf ✓").unwrap(), Value::from("zwölf ✓"));
        assert_eq!(to_value(&None::<u8>).unwrap(), Value::Null);
        assert_eq!(to_value(&Some("x")).unwrap(), Value::from("x"));
        assert_eq!(to_value(&Unit).unwrap(), Value::Null);
        assert_eq!(to_value(&Newtype(-3)).unwrap(), Value::Int(-3));
    }

    #[test]
    fn bytes_and_lists() {
        struct Raw<'a>(&'a [u8]);
        impl Serialize for Raw<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        assert_eq!(
            to_value(&Raw(&[0, 1, 255])).unwrap(),
            Value::Bytes(vec![0, 1, 255])
        );
        // A plain `Vec<u8>` serializes as a sequence.
        assert_eq!(
            to_value(&vec![1u8, 2]).unwrap(),
            Value::List(vec![Value::UInt(1), Value::UInt(2)])
        );
        assert_eq!(
            to_value(&(1u8, "a", -2i64)).unwrap(),
            Value::List(vec![Value::UInt(1), Value::from("a"), Value::Int(-2)])
        );
        assert_eq!(
            to_value(&TupleStruct(-1, 0.5)).unwrap(),
            Value::List(vec![Value::Int(-1), Value::Float(0.5)])
        );
        assert_eq!(
            to_value(&vec![vec![1u8], vec![]]).unwrap(),
            Value::List(vec![Value::List(vec![Value::UInt(1)]), Value::List(vec![])])
        );
    }

    #[test]
    fn enums() {
        assert_eq!(to_value(&E::Unit).unwrap(), Value::from("Unit"));
        assert_eq!(
            to_value(&E::Newtype(-4)).unwrap(),
            dict([("Newtype", Value::Int(-4))])
        );
        assert_eq!(
            to_value(&E::Tuple(1, "x".into())).unwrap(),
            dict([("Tuple", Value::List(vec![Value::UInt(1), Value::from("x")]))])
        );
        assert_eq!(
            to_value(&E::Struct { a: false }).unwrap(),
            dict([("Struct", dict([("a", Value::Bool(false))]))])
        );
    }

    #[test]
    fn structs_and_maps() {
        let v = to_value(&WithSkips {
            kept: 1,
            skipped: 2,
            maybe: None,
            renamed: (),
        })
        .unwrap();
        assert_eq!(
            v,
            dict([("kept", Value::UInt(1)), ("Renamed", Value::Null)])
        );

        let mut m = HashMap::new();
        m.insert("a".to_owned(), vec![1.5f64]);
        assert_eq!(
            to_value(&m).unwrap(),
            dict([("a", Value::List(vec![Value::Float(1.5)]))])
        );

        let mut ints = BTreeMap::new();
        ints.insert(-1i32, "neg");
        ints.insert(2i32, "pos");
        assert_eq!(
            to_value(&ints).unwrap(),
            dict([("-1", Value::from("neg")), ("2", Value::from("pos"))])
        );

        let mut other = BTreeMap::new();
        other.insert(true, 1u8);
        other.insert(false, 0u8);
        assert_eq!(
            to_value(&other).unwrap(),
            dict([("false", Value::UInt(0)), ("true", Value::UInt(1))])
        );

        let mut chars = BTreeMap::new();
        chars.insert('c', ());
        assert_eq!(to_value(&chars).unwrap(), dict([("c", Value::Null)]));
    }

    #[test]
    fn value_serializes_to_itself() {
        let v = Value::List(vec![
            Value::Null,
            Value::Bool(true),
            Value::Int(-7),
            Value::UInt(u64::MAX),
            Value::Float(0.5),
            Value::from("ü"),
            Value::Bytes(vec![9, 8]),
            dict([("k", Value::Dict(Dict::new()))]),
        ]);
        assert_eq!(to_value(&v).unwrap(), v);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"[null,true,-7,18446744073709551615,0.5,"ü",[9,8],{"k":{}}]"#
        );
    }
}

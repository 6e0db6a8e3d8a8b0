//! Deserialization of [`Value`] from any format, and of any [`serde::de::DeserializeOwned`]
//! from a [`Value`].

mod access;
mod check;
mod seed;

use serde::de::{self, Deserializer, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;

use self::access::{DictAccess, EnumDeserializer, ListAccess};
#[cfg(any(feature = "json", feature = "msgpack", feature = "cbor"))]
pub(crate) use self::check::CHECK_DEPTH;
pub(crate) use self::check::{Kind, Shape};
pub(crate) use self::seed::ValueSeed;
use super::{Dict, Value, ValueError};

/// Converts a [`Value`] into any deserializable type.
///
/// The inverse of [`to_value`](super::to_value): integers convert to any integer type they fit
/// in and to floats; [`Value::Bytes`] converts to `Vec<u8>` (element by element) and to byte
/// buffers; a list of small integers converts to a byte buffer; dictionary keys that are
/// numbers or booleans in text form convert back to numeric or boolean map keys; enums are
/// read in the external tagging of `serde_json` (a variant name, or a one-entry dict
/// `{variant: content}`).
///
/// # Errors
///
/// Fails with a descriptive message if the value does not have the shape `T` expects,
/// e.g. `invalid type: string "x", expected i64`.
///
/// ```
/// use wampkit::{Value, from_value};
///
/// let n: u8 = from_value(Value::UInt(7)).unwrap();
/// assert_eq!(n, 7);
/// let bytes: Vec<u8> = from_value(Value::Bytes(vec![1, 2])).unwrap();
/// assert_eq!(bytes, [1, 2]);
/// assert!(from_value::<i64>(Value::from("x")).is_err());
/// ```
pub fn from_value<T: de::DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    T::deserialize(value)
}

/// How a value is described in "invalid type" errors.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Int(n) => Unexpected::Signed(*n),
        Value::UInt(n) => Unexpected::Unsigned(*n),
        Value::Float(x) => Unexpected::Float(*x),
        Value::String(s) => Unexpected::Str(s),
        Value::Bytes(b) => Unexpected::Bytes(b),
        Value::List(_) => Unexpected::Seq,
        Value::Dict(_) => Unexpected::Map,
    }
}

fn invalid_type(value: &Value, exp: &dyn de::Expected) -> ValueError {
    de::Error::invalid_type(unexpected(value), exp)
}

fn visit_list<'de, V: Visitor<'de>>(list: Vec<Value>, visitor: V) -> Result<V::Value, ValueError> {
    let len = list.len();
    let mut access = ListAccess {
        iter: list.into_iter(),
        index: 0,
    };
    let out = visitor.visit_seq(&mut access)?;
    if access.iter.len() == 0 {
        Ok(out)
    } else {
        let expected = format!("{} elements in sequence", access.index);
        Err(de::Error::invalid_length(len, &expected.as_str()))
    }
}

fn visit_dict<'de, V: Visitor<'de>>(dict: Dict, visitor: V) -> Result<V::Value, ValueError> {
    let len = dict.len();
    let mut access = DictAccess {
        iter: dict.into_iter(),
        value: None,
    };
    let out = visitor.visit_map(&mut access)?;
    let remaining = access.iter.len();
    if remaining == 0 {
        Ok(out)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in dict"))
    }
}

impl<'de> IntoDeserializer<'de, ValueError> for Value {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for Value {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(n) => visitor.visit_i64(n),
            Value::UInt(n) => visitor.visit_u64(n),
            Value::Float(x) => visitor.visit_f64(x),
            Value::String(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::List(l) => visit_list(l, visitor),
            Value::Dict(d) => visit_dict(d, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self {
            Value::String(variant) => visitor.visit_enum(EnumDeserializer {
                variant,
                content: None,
            }),
            Value::Dict(dict) => {
                let mut iter = dict.into_iter();
                match (iter.next(), iter.next()) {
                    (Some((variant, content)), None) => visitor.visit_enum(EnumDeserializer {
                        variant,
                        content: Some(content),
                    }),
                    _ => Err(de::Error::invalid_value(
                        Unexpected::Map,
                        &"a dict with a single key",
                    )),
                }
            }
            other => Err(invalid_type(
                &other,
                &"a string or a dict with a single key",
            )),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::String(s) => visitor.visit_string(s),
            Value::List(l) => {
                let bytes: Option<Vec<u8>> = l
                    .iter()
                    .map(|item| item.as_u64().and_then(|n| u8::try_from(n).ok()))
                    .collect();
                match bytes {
                    Some(bytes) => visitor.visit_byte_buf(bytes),
                    None => visit_list(l, visitor),
                }
            }
            other => Err(invalid_type(&other, &visitor)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::List(l) => visit_list(l, visitor),
            Value::Bytes(b) => {
                let mut seq = de::value::SeqDeserializer::new(b.into_iter());
                let out = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            other => Err(invalid_type(&other, &visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::List(l) if l.is_empty() => visitor.visit_unit(),
            other => Err(invalid_type(&other, &visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        drop(self);
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        map struct identifier
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::{Deserialize, Serialize};

    use super::from_value;
    use crate::value::{Value, to_value};

    fn dict<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Dict(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum E {
        Unit,
        Newtype(i32),
        Tuple(u8, String),
        Struct { a: bool, b: Option<i8> },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Inner {
        name: String,
        score: f64,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Everything {
        neg: i32,
        min: i64,
        max: u64,
        small: u8,
        float: f64,
        float32: f32,
        text: String,
        none: Option<String>,
        some: Option<Vec<i16>>,
        nested: Vec<Vec<Inner>>,
        map: HashMap<String, E>,
        int_keys: BTreeMap<i32, bool>,
        enums: Vec<E>,
        tuple: (u8, char, bool),
        unit: (),
        bytes: Vec<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
    }

    fn everything() -> Everything {
        let mut map = HashMap::new();
        map.insert("ü-key ✓".to_owned(), E::Newtype(-9));
        map.insert("u".to_owned(), E::Unit);
        let mut int_keys = BTreeMap::new();
        int_keys.insert(-3, true);
        int_keys.insert(40, false);
        Everything {
            neg: -42,
            min: i64::MIN,
            max: u64::MAX,
            small: 200,
            float: -1.25e-3,
            float32: 0.5,
            text: "zwölf 十二 🎉".to_owned(),
            none: None,
            some: Some(vec![-1, 0, 1]),
            nested: vec![
                vec![Inner {
                    name: "a".to_owned(),
                    score: 1.0,
                }],
                vec![],
            ],
            map,
            int_keys,
            enums: vec![
                E::Unit,
                E::Newtype(i32::MIN),
                E::Tuple(7, "seven".to_owned()),
                E::Struct {
                    a: true,
                    b: Some(-1),
                },
                E::Struct { a: false, b: None },
            ],
            tuple: (255, 'é', false),
            unit: (),
            bytes: vec![0, 1, 2, 255],
            skipped: None,
        }
    }

    #[test]
    fn round_trip_struct() {
        let original = everything();
        let v = to_value(&original).unwrap();
        assert!(matches!(v.get("neg"), Some(Value::Int(-42))));
        assert!(matches!(v.get("min"), Some(Value::Int(i64::MIN))));
        assert!(matches!(v.get("max"), Some(Value::UInt(u64::MAX))));
        assert_eq!(v.get("unit"), Some(&Value::Null));
        assert_eq!(
            v.get("tuple"),
            Some(&Value::List(vec![
                Value::UInt(255),
                Value::from("é"),
                Value::Bool(false)
            ]))
        );
        assert!(v.get("skipped").is_none());
        let back: Everything = from_value(v.clone()).unwrap();
        assert_eq!(back, original);

        // Through every wire format and back.
        let json = serde_json::to_vec(&v).unwrap();
        let from_json: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(from_value::<Everything>(from_json).unwrap(), original);

        #[cfg(feature = "msgpack")]
        {
            let msgpack = rmp_serde::to_vec_named(&v).unwrap();
            let from_msgpack: Value = rmp_serde::from_slice(&msgpack).unwrap();
            assert_eq!(from_msgpack, v);
            assert_eq!(from_value::<Everything>(from_msgpack).unwrap(), original);
        }

        #[cfg(feature = "cbor")]
        {
            let mut cbor = Vec::new();
            ciborium::into_writer(&v, &mut cbor).unwrap();
            let from_cbor: Value = ciborium::from_reader(cbor.as_slice()).unwrap();
            assert_eq!(from_cbor, v);
            assert_eq!(from_value::<Everything>(from_cbor).unwrap(), original);
        }
    }

    #[test]
    fn enums_all_kinds() {
        for e in [
            E::Unit,
            E::Newtype(3),
            E::Tuple(1, "x".to_owned()),
            E::Struct { a: true, b: None },
        ] {
            let v = to_value(&e).unwrap();
            assert_eq!(from_value::<E>(v).unwrap(), e);
        }
        // A unit variant may also arrive as `{"Unit": null}`.
        assert_eq!(
            from_value::<E>(dict([("Unit", Value::Null)])).unwrap(),
            E::Unit
        );
        let err = from_value::<E>(dict([("Nope", Value::Null)])).unwrap_err();
        assert!(err.to_string().contains("unknown variant `Nope`"), "{err}");
        let err = from_value::<E>(dict([("Unit", Value::Null), ("Newtype", Value::UInt(1))]))
            .unwrap_err();
        assert!(err.to_string().contains("single key"), "{err}");
        assert!(from_value::<E>(Value::UInt(1)).is_err());
        assert!(from_value::<E>(Value::from("Newtype")).is_err());
        assert!(from_value::<E>(dict([("Tuple", Value::UInt(1))])).is_err());
    }

    #[test]
    fn integers_and_floats() {
        assert_eq!(from_value::<u64>(Value::UInt(u64::MAX)).unwrap(), u64::MAX);
        assert_eq!(from_value::<i64>(Value::Int(i64::MIN)).unwrap(), i64::MIN);
        assert_eq!(from_value::<i8>(Value::UInt(5)).unwrap(), 5);
        assert_eq!(from_value::<i128>(Value::Int(-5)).unwrap(), -5);
        assert_eq!(from_value::<u128>(Value::UInt(5)).unwrap(), 5);
        assert_eq!(from_value::<f64>(Value::UInt(3)).unwrap(), 3.0);
        assert_eq!(from_value::<f64>(Value::Int(-3)).unwrap(), -3.0);
        assert_eq!(from_value::<f32>(Value::UInt(2)).unwrap(), 2.0);
        assert_eq!(from_value::<f32>(Value::Float(0.5)).unwrap(), 0.5);

        let err = from_value::<u8>(Value::UInt(256)).unwrap_err();
        assert!(err.to_string().contains("256"), "{err}");
        let err = from_value::<u64>(Value::Int(-1)).unwrap_err();
        assert!(err.to_string().contains("-1"), "{err}");
        let err = from_value::<i64>(Value::from("x")).unwrap_err();
        assert_eq!(err.to_string(), "invalid type: string \"x\", expected i64");
        let err = from_value::<String>(Value::UInt(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid type: integer `1`, expected a string"
        );
    }

    #[test]
    fn bytes() {
        // A plain `Vec<u8>` from Value::Bytes, element by element.
        assert_eq!(
            from_value::<Vec<u8>>(Value::Bytes(vec![0, 1, 255])).unwrap(),
            vec![0, 1, 255]
        );
        assert_eq!(
            from_value::<(u8, u8)>(Value::Bytes(vec![4, 5])).unwrap(),
            (4, 5)
        );
        assert!(from_value::<(u8, u8)>(Value::Bytes(vec![4, 5, 6])).is_err());
        assert!(
            from_value::<Vec<u8>>(Value::Bytes(vec![]))
                .unwrap()
                .is_empty()
        );

        // A byte-buffer visitor (what `serde_bytes::ByteBuf` does).
        #[derive(Debug, PartialEq)]
        struct Buf(Vec<u8>);
        impl<'de> Deserialize<'de> for Buf {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = Buf;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("bytes")
                    }
                    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Buf, E> {
                        Ok(Buf(v.to_vec()))
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Buf, E> {
                        Ok(Buf(v.as_bytes().to_vec()))
                    }
                }
                d.deserialize_byte_buf(V)
            }
        }
        impl Serialize for Buf {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
        assert_eq!(
            from_value::<Buf>(Value::Bytes(vec![1, 2])).unwrap(),
            Buf(vec![1, 2])
        );
        assert_eq!(
            to_value(&Buf(vec![1, 2])).unwrap(),
            Value::Bytes(vec![1, 2])
        );
        assert_eq!(
            from_value::<Buf>(Value::from("ab")).unwrap(),
            Buf(b"ab".to_vec())
        );
        assert_eq!(
            from_value::<Buf>(Value::List(vec![Value::UInt(3), Value::Int(4)])).unwrap(),
            Buf(vec![3, 4])
        );
        let err = from_value::<Buf>(Value::List(vec![Value::UInt(300)])).unwrap_err();
        assert!(err.to_string().contains("expected bytes"), "{err}");
        assert!(from_value::<Buf>(Value::Null).is_err());
    }

    #[test]
    fn units_options_and_misc() {
        from_value::<()>(Value::Null).unwrap();
        from_value::<()>(Value::List(vec![])).unwrap();
        assert!(from_value::<()>(Value::UInt(0)).is_err());
        assert_eq!(to_value(&()).unwrap(), Value::Null);
        assert_eq!(from_value::<Option<u8>>(Value::Null).unwrap(), None);
        assert_eq!(from_value::<Option<u8>>(Value::UInt(1)).unwrap(), Some(1));
        assert_eq!(
            from_value::<(i8, String)>(Value::List(vec![Value::Int(-1), Value::from("s")]))
                .unwrap(),
            (-1, "s".to_owned())
        );
        // Too many elements for the tuple.
        assert!(from_value::<(i8,)>(Value::List(vec![Value::Int(-1), Value::Int(-2)])).is_err());
        // Unknown struct fields are ignored.
        let inner: Inner = from_value(dict([
            ("name", Value::from("n")),
            ("score", Value::UInt(2)),
            ("extra", Value::List(vec![Value::Null])),
        ]))
        .unwrap();
        assert_eq!(
            inner,
            Inner {
                name: "n".to_owned(),
                score: 2.0
            }
        );
        let err = from_value::<Inner>(dict([("name", Value::from("n"))])).unwrap_err();
        assert!(err.to_string().contains("missing field `score`"), "{err}");
        // Value and serde_json::Value go through unchanged.
        let v = dict([("a", Value::Bytes(vec![1])), ("b", Value::Float(0.5))]);
        assert_eq!(from_value::<Value>(v.clone()).unwrap(), v);
        let j: serde_json::Value = from_value(dict([("k", Value::Int(-1))])).unwrap();
        assert_eq!(j, serde_json::json!({"k": -1}));
        // Keys that are not numbers stay an error for numeric maps.
        assert!(from_value::<HashMap<u8, u8>>(dict([("x", Value::UInt(1))])).is_err());
        let m: HashMap<bool, u8> = from_value(dict([("true", Value::UInt(1))])).unwrap();
        assert_eq!(m.get(&true), Some(&1));
    }
}

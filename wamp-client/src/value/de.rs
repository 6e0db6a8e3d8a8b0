//! Deserialization of [`Value`] from any format, and of any [`serde::de::DeserializeOwned`]
//! from a [`Value`].

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;

use super::ser::ValueError;
use super::{Dict, Value, decode_json_binary};

// ---------------------------------------------------------------------------------------------
// Any format -> Value
// ---------------------------------------------------------------------------------------------

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ValueSeed { json_binary: false }.deserialize(deserializer)
    }
}

/// Deserializes a [`Value`], optionally applying the WAMP JSON binary convention.
///
/// With `json_binary` set, every string value (at any depth, but not dictionary keys) that
/// starts with `\u0000` followed by valid base64 becomes [`Value::Bytes`]; a string starting
/// with `\u0000` whose rest is not valid base64 stays a string.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ValueSeed {
    /// Whether to decode `"\u0000<base64>"` strings as bytes (for the JSON serializer).
    pub(crate) json_binary: bool,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor {
            json_binary: self.json_binary,
        })
    }
}

/// The visitor shared by `Value: Deserialize` and [`ValueSeed`].
struct ValueVisitor {
    json_binary: bool,
}

impl ValueVisitor {
    fn seed(&self) -> ValueSeed {
        ValueSeed {
            json_binary: self.json_binary,
        }
    }

    fn string(&self, s: String) -> Value {
        let decoded = if self.json_binary {
            decode_json_binary(&s)
        } else {
            None
        };
        if let Some(Ok(bytes)) = decoded {
            return Value::Bytes(bytes);
        }
        Value::String(s)
    }
}

fn int128<E: de::Error>(v: i128) -> Result<Value, E> {
    if let Ok(u) = u64::try_from(v) {
        Ok(Value::UInt(u))
    } else if let Ok(i) = i64::try_from(v) {
        Ok(Value::Int(i))
    } else {
        Err(E::custom(format_args!(
            "integer {v} does not fit in 64 bits"
        )))
    }
}

/// Upper bound for capacities taken from (untrusted) length hints.
const PREALLOCATE_MAX: usize = 4096;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any WAMP value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(match u64::try_from(v) {
            Ok(u) => Value::UInt(u),
            Err(_) => Value::Int(v),
        })
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        int128(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v)
            .map(Value::UInt)
            .map_err(|_| E::custom(format_args!("integer {v} does not fit in 64 bits")))
    }

    fn visit_f32<E: de::Error>(self, v: f32) -> Result<Value, E> {
        Ok(Value::Float(f64::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        let decoded = if self.json_binary {
            decode_json_binary(v)
        } else {
            None
        };
        match decoded {
            Some(Ok(bytes)) => Ok(Value::Bytes(bytes)),
            _ => Ok(Value::String(v.to_owned())),
        }
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(self.string(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.seed().deserialize(deserializer)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        self.seed().deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let seed = self.seed();
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(PREALLOCATE_MAX));
        while let Some(item) = seq.next_element_seed(seed)? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let seed = self.seed();
        let mut dict = Dict::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(seed)?;
            dict.insert(key, value);
        }
        Ok(Value::Dict(dict))
    }

    /// A CBOR tagged value (ciborium presents tags as enums): the tag is dropped and the
    /// tagged content kept.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let seed = self.seed();
        let (de::IgnoredAny, variant) = data.variant()?;
        variant.newtype_variant_seed(seed)
    }
}

/// Deserializes a dictionary key: a string, or an integer or boolean converted to its text.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string dictionary key")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
}

// ---------------------------------------------------------------------------------------------
// Value -> any type
// ---------------------------------------------------------------------------------------------

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
/// use wamp_client::{Value, from_value};
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
    let mut seq = de::value::SeqDeserializer::new(list.into_iter());
    let out = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(out)
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

/// Gives the entries of a [`Value::Dict`] to a map visitor.
struct DictAccess {
    iter: std::collections::btree_map::IntoIter<String, Value>,
    /// The entry whose key was just read; its key names the field in error messages.
    value: Option<(String, Value)>,
}

impl<'de> MapAccess<'de> for DictAccess {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        match self.iter.next() {
            Some((key, value)) => {
                let result = seed.deserialize(MapKeyDeserializer(key.clone())).map(Some);
                self.value = Some((key, value));
                result
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ValueError> {
        match self.value.take() {
            Some((key, value)) => seed
                .deserialize(value)
                .map_err(|e| ValueError(format!("`{key}`: {e}"))),
            None => Err(de::Error::custom("dict value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Deserializes a dictionary key: a string, which also converts to numbers and booleans when
/// the target type asks for them (the inverse of what [`to_value`](super::to_value) does with
/// non-string keys).
struct MapKeyDeserializer(String);

macro_rules! parse_key {
    ($($method:ident => $visit:ident: $t:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            match self.0.parse::<$t>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => visitor.visit_string(self.0),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for MapKeyDeserializer {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_string(self.0)
    }

    parse_key! {
        deserialize_bool => visit_bool: bool,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_enum(EnumDeserializer {
            variant: self.0,
            content: None,
        })
    }

    forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct
        map struct identifier ignored_any
    }
}

/// An externally tagged enum: the variant name and, except for unit variants, its content.
struct EnumDeserializer {
    variant: String,
    content: Option<Value>,
}

impl<'de> EnumAccess<'de> for EnumDeserializer {
    type Error = ValueError;
    type Variant = VariantDeserializer;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDeserializer), ValueError> {
        let variant = seed.deserialize(self.variant.into_deserializer())?;
        Ok((
            variant,
            VariantDeserializer {
                content: self.content,
            },
        ))
    }
}

/// The content of an enum variant.
struct VariantDeserializer {
    content: Option<Value>,
}

impl<'de> VariantAccess<'de> for VariantDeserializer {
    type Error = ValueError;

    fn unit_variant(self) -> Result<(), ValueError> {
        match self.content {
            None => Ok(()),
            Some(content) => de::Deserialize::deserialize(content),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        match self.content {
            Some(content) => seed.deserialize(content),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.content {
            Some(Value::List(l)) => visit_list(l, visitor),
            Some(other) => Err(invalid_type(&other, &"tuple variant")),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.content {
            Some(Value::Dict(d)) => visit_dict(d, visitor),
            Some(Value::List(l)) => visit_list(l, visitor),
            Some(other) => Err(invalid_type(&other, &"struct variant")),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::de::DeserializeSeed;
    use serde::{Deserialize, Serialize};

    use super::super::{Value, to_value};
    use super::{ValueSeed, from_value};

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

        let msgpack = rmp_serde::to_vec_named(&v).unwrap();
        let from_msgpack: Value = rmp_serde::from_slice(&msgpack).unwrap();
        assert_eq!(from_msgpack, v);
        assert_eq!(from_value::<Everything>(from_msgpack).unwrap(), original);

        let mut cbor = Vec::new();
        ciborium::into_writer(&v, &mut cbor).unwrap();
        let from_cbor: Value = ciborium::from_reader(cbor.as_slice()).unwrap();
        assert_eq!(from_cbor, v);
        assert_eq!(from_value::<Everything>(from_cbor).unwrap(), original);
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

    #[test]
    fn json_binary_seed() {
        let json = r#"{"\u0000key": ["\u0000AAEC", {"deep": "\u0000AAEC"}], "plain": "\u0000not base64!", "s": "AAEC"}"#;
        let mut de = serde_json::Deserializer::from_str(json);
        let v = ValueSeed { json_binary: true }
            .deserialize(&mut de)
            .unwrap();
        let bytes = Value::Bytes(vec![0, 1, 2]);
        assert_eq!(
            v,
            dict([
                (
                    "\0key",
                    Value::List(vec![bytes.clone(), dict([("deep", bytes.clone())])])
                ),
                ("plain", Value::from("\0not base64!")),
                ("s", Value::from("AAEC")),
            ])
        );

        // Without the convention, strings stay strings.
        let mut de = serde_json::Deserializer::from_str(r#"["\u0000AAEC"]"#);
        let v = ValueSeed { json_binary: false }
            .deserialize(&mut de)
            .unwrap();
        assert_eq!(v, Value::List(vec![Value::from("\0AAEC")]));
        let v: Value = serde_json::from_str(r#""\u0000AAEC""#).unwrap();
        assert_eq!(v, Value::from("\0AAEC"));

        // Top-level string, and an owned string (escaped JSON comes as an owned string).
        let mut de = serde_json::Deserializer::from_reader(r#""\u0000AAEC""#.as_bytes());
        let v = ValueSeed { json_binary: true }
            .deserialize(&mut de)
            .unwrap();
        assert_eq!(v, bytes);
        // An empty payload after the marker is empty bytes.
        let mut de = serde_json::Deserializer::from_str(r#""\u0000""#);
        let v = ValueSeed { json_binary: true }
            .deserialize(&mut de)
            .unwrap();
        assert_eq!(v, Value::Bytes(vec![]));
    }

    #[test]
    fn msgpack_and_cbor() {
        // [-5, bin(1,2,3), {"k": -300}, 1.5, nil, true, u64::MAX, i64::MIN]
        #[derive(Serialize)]
        struct Raw<'a>(#[serde(with = "raw_bytes")] &'a [u8]);
        mod raw_bytes {
            pub(super) fn serialize<S: serde::Serializer>(
                b: &&[u8],
                s: S,
            ) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(b)
            }
        }
        let mut m = BTreeMap::new();
        m.insert("k", -300i32);
        let input = (
            -5i8,
            Raw(&[1, 2, 3]),
            m,
            1.5f32,
            None::<u8>,
            true,
            u64::MAX,
            i64::MIN,
        );
        let expected = Value::List(vec![
            Value::Int(-5),
            Value::Bytes(vec![1, 2, 3]),
            dict([("k", Value::Int(-300))]),
            Value::Float(1.5),
            Value::Null,
            Value::Bool(true),
            Value::UInt(u64::MAX),
            Value::Int(i64::MIN),
        ]);

        let msgpack = rmp_serde::to_vec(&input).unwrap();
        let v = ValueSeed { json_binary: true }
            .deserialize(&mut rmp_serde::Deserializer::new(msgpack.as_slice()))
            .unwrap();
        assert_eq!(v, expected);
        assert!(matches!(
            v.as_list().and_then(|l| l.first()),
            Some(Value::Int(-5))
        ));
        let v: Value = rmp_serde::from_slice(&msgpack).unwrap();
        assert_eq!(v, expected);

        let mut cbor = Vec::new();
        ciborium::into_writer(&input, &mut cbor).unwrap();
        let v: Value = ciborium::de::from_reader_with_recursion_limit(cbor.as_slice(), 64).unwrap();
        assert_eq!(v, expected);

        // Integer keys from MessagePack/CBOR peers become text keys.
        let mut int_keys = BTreeMap::new();
        int_keys.insert(1u8, "a");
        int_keys.insert(2u8, "b");
        let msgpack = rmp_serde::to_vec(&int_keys).unwrap();
        let v: Value = rmp_serde::from_slice(&msgpack).unwrap();
        assert_eq!(v, dict([("1", Value::from("a")), ("2", Value::from("b"))]));
        // Non-scalar keys are refused.
        let mut list_keys = BTreeMap::new();
        list_keys.insert(vec![1u8], 1u8);
        let mut cbor = Vec::new();
        ciborium::into_writer(&list_keys, &mut cbor).unwrap();
        assert!(ciborium::from_reader::<Value, _>(cbor.as_slice()).is_err());

        // A CBOR tag is dropped, its content kept.
        let tagged = ciborium::tag::Required::<String, 0>("2013-03-21T20:04:00Z".to_owned());
        let mut cbor = Vec::new();
        ciborium::into_writer(&tagged, &mut cbor).unwrap();
        let v: Value = ciborium::from_reader(cbor.as_slice()).unwrap();
        assert_eq!(v, Value::from("2013-03-21T20:04:00Z"));
        // A CBOR bignum that fits stays an integer, one that does not is an error.
        let big = [0xc2, 0x48, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let v: Value = ciborium::from_reader(big.as_slice()).unwrap();
        assert_eq!(v, Value::UInt(u64::MAX));
        let bigger = [0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(ciborium::from_reader::<Value, _>(bigger.as_slice()).is_err());

        // A MessagePack extension becomes [type, bytes].
        let ext = [0xd4, 0x05, 0x2a];
        let v: Value = rmp_serde::from_slice(&ext).unwrap();
        assert_eq!(
            v,
            Value::List(vec![Value::UInt(5), Value::Bytes(vec![0x2a])])
        );
    }

    #[test]
    fn garbage_never_panics() {
        let deep_json = "[".repeat(100_000);
        assert!(serde_json::from_str::<Value>(&deep_json).is_err());
        // rmp-serde's default depth limit (1024) is too deep for a 2 MiB stack in debug builds,
        // so decoders must lower it.
        let deep_msgpack = vec![0x91u8; 100_000];
        let mut de = rmp_serde::Deserializer::new(deep_msgpack.as_slice());
        de.set_max_depth(128);
        assert!(
            ValueSeed { json_binary: false }
                .deserialize(&mut de)
                .is_err()
        );
        let deep_cbor = vec![0x81u8; 100_000];
        assert!(ciborium::from_reader::<Value, _>(deep_cbor.as_slice()).is_err());
        // Pseudo-random inputs through every format.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..2000usize {
            let bytes: Vec<u8> = (0..len % 64)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()[0]
                })
                .collect();
            let mut de = rmp_serde::Deserializer::new(bytes.as_slice());
            de.set_max_depth(128);
            let _ = ValueSeed { json_binary: false }.deserialize(&mut de);
            let _ = ciborium::from_reader::<Value, _>(bytes.as_slice());
            let _ = serde_json::from_slice::<Value>(&bytes);
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            let _ = ValueSeed { json_binary: true }.deserialize(&mut de);
        }
    }
}

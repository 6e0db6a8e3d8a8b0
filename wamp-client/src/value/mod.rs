//! The dynamic [`Value`] type: any WAMP payload or details element.
//!
//! Typed code rarely needs it: payloads go in as any [`serde::Serialize`] and come out as any
//! [`serde::de::DeserializeOwned`]. `Value` is the escape hatch when the shape is not known in
//! advance, and the representation every serializer decodes into.
//!
//! ```
//! use wampkit::{Value, to_value, from_value};
//!
//! let v = to_value(&(-3i32, 2.5f64, "zwölf")).unwrap();
//! assert_eq!(v, Value::List(vec![Value::Int(-3), Value::Float(2.5), Value::from("zwölf")]));
//! let back: (i64, f64, String) = from_value(v).unwrap();
//! assert_eq!(back, (-3, 2.5, "zwölf".to_string()));
//! ```

mod de;
mod error;
mod ser;

use std::collections::BTreeMap;
use std::fmt;

#[cfg(any(feature = "json", feature = "msgpack", feature = "cbor"))]
pub(crate) use de::CHECK_DEPTH;
pub use de::from_value;
pub(crate) use de::{Kind, Shape, ValueSeed};
pub(crate) use error::with_article;
pub use error::{ArgumentRef, PayloadOf, ValueError};
pub(crate) use ser::map_key;
pub use ser::to_value;

/// A dictionary: string keys, [`Value`] values. Used for WAMP `Details`/`Options` and keyword arguments.
pub type Dict = BTreeMap<String, Value>;

/// A dynamically typed WAMP value.
///
/// Integers are kept exactly: non-negative integers decode as [`Value::UInt`], negative ones as
/// [`Value::Int`]. Equality compares integers by numeric value, so `Value::Int(5) == Value::UInt(5)`.
#[derive(Clone, Default)]
pub enum Value {
    /// `null` (JSON), `nil` (MessagePack), `null` (CBOR).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer (decoders use it for negative values only).
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A UTF-8 string.
    String(String),
    /// Binary data (MessagePack `bin`, CBOR byte string, or a JSON string in the WAMP binary convention).
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<Value>),
    /// A dictionary with string keys.
    Dict(Dict),
}

impl Value {
    /// The value as a `u64`, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(n) => Some(n),
            Value::Int(n) => u64::try_from(n).ok(),
            _ => None,
        }
    }

    /// The value as an `i64`, if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::UInt(n) => i64::try_from(n).ok(),
            Value::Int(n) => Some(n),
            _ => None,
        }
    }

    /// The value as an `f64`, if it is a number (integers are converted).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(f) => Some(f),
            Value::UInt(n) => Some(n as f64),
            Value::Int(n) => Some(n as f64),
            _ => None,
        }
    }

    /// The value as a `bool`, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a string slice, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as bytes, if it is binary.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a list, if it is one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The value as a dictionary, if it is one.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Whether the value is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Looks up `key` if the value is a dictionary.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_dict().and_then(|d| d.get(key))
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(_) | UInt(_), Int(_) | UInt(_)) => {
                // Compare exactly: an Int is equal to a UInt only when both are the same number.
                match (self.as_i64(), other.as_i64()) {
                    (Some(a), Some(b)) => a == b,
                    (None, None) => self.as_u64() == other.as_u64(),
                    _ => false,
                }
            }
            (Float(a), Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (String(a), String(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Dict(a), Dict(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::UInt(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => {
                f.write_str("b\"")?;
                for byte in b {
                    write!(f, "{}", std::ascii::escape_default(*byte))?;
                }
                f.write_str("\"")
            }
            Value::List(l) => f.debug_list().entries(l).finish(),
            Value::Dict(d) => f.debug_map().entries(d).finish(),
        }
    }
}

/// Renders the value as JSON text (bytes in the WAMP binary convention).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(&JsonCompatible(self)) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{self:?}"),
        }
    }
}

/// Serializes a [`Value`] for JSON: bytes become a string holding `\u0000` followed by base64
/// (the WAMP binary convention), non-finite floats become `null`.
pub(crate) struct JsonCompatible<'a>(pub(crate) &'a Value);

impl serde::Serialize for JsonCompatible<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Bytes(b) => serializer.serialize_str(&encode_json_binary(b)),
            Value::Float(x) if !x.is_finite() => serializer.serialize_unit(),
            Value::List(l) => {
                let mut seq = serializer.serialize_seq(Some(l.len()))?;
                for item in l {
                    seq.serialize_element(&JsonCompatible(item))?;
                }
                seq.end()
            }
            Value::Dict(d) => {
                let mut map = serializer.serialize_map(Some(d.len()))?;
                for (k, v) in d {
                    map.serialize_entry(k, &JsonCompatible(v))?;
                }
                map.end()
            }
            other => serde::Serialize::serialize(other, serializer),
        }
    }
}

/// Encodes bytes as a JSON string in the WAMP binary convention: `"\u0000" + base64`.
pub(crate) fn encode_json_binary(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let mut s = String::with_capacity(1 + bytes.len().div_ceil(3) * 4);
    s.push('\0');
    base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut s);
    s
}

/// Decodes a JSON string that starts with `\u0000` as bytes (the WAMP binary convention).
pub(crate) fn decode_json_binary(s: &str) -> Option<Result<Vec<u8>, base64::DecodeError>> {
    use base64::Engine as _;
    s.strip_prefix('\0')
        .map(|b64| base64::engine::general_purpose::STANDARD.decode(b64))
}

macro_rules! from_unsigned {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Self { Value::UInt(n as u64) }
        }
    )*};
}
macro_rules! from_signed {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Self {
                if n < 0 { Value::Int(n as i64) } else { Value::UInt(n as u64) }
            }
        }
    )*};
}
from_unsigned!(u8, u16, u32, u64, usize);
from_signed!(i8, i16, i32, i64, isize);

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}
impl From<f32> for Value {
    fn from(x: f32) -> Self {
        Value::Float(f64::from(x))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bytes(b)
    }
}
impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::List(l)
    }
}
impl From<Dict> for Value {
    fn from(d: Dict) -> Self {
        Value::Dict(d)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

impl From<serde_json::Value> for Value {
    /// Converts JSON, applying the WAMP binary convention to strings that start with `\u0000`.
    fn from(j: serde_json::Value) -> Self {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Value::UInt(u)
                } else if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => match decode_json_binary(&s) {
                Some(Ok(bytes)) => Value::Bytes(bytes),
                _ => Value::String(s),
            },
            serde_json::Value::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::Dict(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<&Value> for serde_json::Value {
    /// Converts to JSON, applying the WAMP binary convention to bytes.
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(n) => serde_json::Value::from(*n),
            Value::UInt(n) => serde_json::Value::from(*n),
            Value::Float(x) => serde_json::Number::from_f64(*x)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Bytes(b) => serde_json::Value::String(encode_json_binary(b)),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Into::into).collect()),
            Value::Dict(d) => {
                serde_json::Value::Object(d.iter().map(|(k, v)| (k.clone(), v.into())).collect())
            }
        }
    }
}

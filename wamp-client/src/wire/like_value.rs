//! [`LikeValue`]: a serde_json or rmp-serde deserializer that hands a type what a [`Value`]
//! would.
//!
//! A received argument is read straight from its bytes into the reader's type when the format's
//! own deserializer visits that type as a [`Value`] does, and through a [`Value`] otherwise (see
//! `element`). Three things the formats' deserializers do on their own would make the direct way
//! read differently, so this wrapper, at every level of the type, undoes them:
//!
//! - **Names come only from strings.** A [`Value`] keeps a dictionary's keys as strings and
//!   reads an enum's variant only from a string (or a one-key dictionary). rmp-serde reads an
//!   integer as the index of a struct's field or an enum's variant, and bytes as a name: `0` read
//!   as an enum is its first variant, `{0: 5}` read as a struct fills its first field. Here a
//!   name (what `deserialize_identifier` reads) that is not a string is refused, and the
//!   element is read through a [`Value`] instead, which words the error.
//! - **In JSON, strings stay strings.** JSON has no bytes: serde_json answers a type asking for
//!   bytes with the UTF-8 of a string. WAMP carries bytes in JSON as `"\u0000<base64>"` strings
//!   (decoded through a [`Value`] elsewhere), and a plain string is text, which a [`Value`] hands
//!   to a type as a string, and a type of bytes may refuse.
//! - **In MessagePack, bytes are a list only where a [`Value`] reads them as one.** rmp-serde
//!   hands bytes asked for as a struct, or as a variant's content, over as a list of numbers,
//!   and does not check that a tuple read from bytes read them all; a [`Value`] reads bytes as a
//!   list only for a sequence or a tuple, and all of them. Here a struct and a variant's content
//!   are read as what they are (`deserialize_any`), and a sequence must be read to its end.
//!
//! An element the wrapped way refuses is read the [`Value`] way: the direct way may read less
//! than a [`Value`] would, never something else. `element_tests` holds it to that on generated
//! data.
//!
//! [`Value`]: crate::Value

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

/// Wraps a deserializer (and everything it hands on) so that it reads as a
/// [`Value`](crate::Value) does.
/// `JSON`: the wrapped deserializer is serde_json's, whose bytes are a string's.
pub(crate) struct LikeValue<D, const JSON: bool>(D);

#[cfg(feature = "json")]
impl<D> LikeValue<D, true> {
    /// Wraps serde_json's deserializer.
    pub(crate) fn json(deserializer: D) -> Self {
        LikeValue(deserializer)
    }
}

#[cfg(feature = "msgpack")]
impl<D> LikeValue<D, false> {
    /// Wraps rmp-serde's deserializer.
    pub(crate) fn msgpack(deserializer: D) -> Self {
        LikeValue(deserializer)
    }
}

/// Wraps a visitor: what it is handed is wrapped in turn; in JSON, bytes (which only a string
/// can produce) are visited as that string.
struct Wrapped<V, const JSON: bool>(V);

/// Wraps the visitor of a name: only a string is visited, anything else refused.
struct Name<V>(V);

/// Wraps a seed, so that the element it reads is read through [`LikeValue`] too.
struct Seed<S, const JSON: bool>(S);

/// A seed that reads the element as what it is (`deserialize_any`), through [`LikeValue`]: a
/// variant's content, which rmp-serde would hand over as a sequence of numbers if it were bytes.
struct Any<V, const JSON: bool>(V);

macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method($($arg,)* Wrapped::<_, JSON>(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>, const JSON: bool> Deserializer<'de> for LikeValue<D, JSON> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_ignored_any();
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_identifier(Name(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if JSON {
            self.0
                .deserialize_struct(name, fields, Wrapped::<_, JSON>(visitor))
        } else {
            // rmp-serde hands bytes asked for as a struct over as a sequence of numbers.
            self.0.deserialize_any(Wrapped::<_, JSON>(visitor))
        }
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.0.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>, const JSON: bool> Visitor<'de> for Wrapped<V, JSON> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
    }

    // MessagePack's bytes are bytes: only JSON's are checked for text.
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        if JSON && let Ok(text) = std::str::from_utf8(v) {
            return self.0.visit_str(text);
        }
        self.0.visit_bytes(v)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        if JSON && let Ok(text) = std::str::from_utf8(v) {
            return self.0.visit_borrowed_str(text);
        }
        self.0.visit_borrowed_bytes(v)
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        if !JSON {
            return self.0.visit_byte_buf(v);
        }
        match String::from_utf8(v) {
            Ok(text) => self.0.visit_string(text),
            Err(e) => self.0.visit_byte_buf(e.into_bytes()),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(LikeValue::<_, JSON>(deserializer))
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<V::Value, D::Error> {
        self.0
            .visit_newtype_struct(LikeValue::<_, JSON>(deserializer))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let mut seq = LikeValue::<_, JSON>(seq);
        let read = self.0.visit_seq(&mut seq)?;
        // rmp-serde does not check that bytes read as a sequence were all read (serde_json and
        // rmp-serde's lists check it themselves).
        if !JSON && seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("more elements than the type reads"));
        }
        Ok(read)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(LikeValue::<_, JSON>(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(LikeValue::<_, JSON>(data))
    }
}

/// A name is a string: the visits of anything else keep `Visitor`'s defaults, which refuse it
/// (worded with the inner visitor's `expecting`).
impl<'de, V: Visitor<'de>> Visitor<'de> for Name<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.0.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.0.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.0.visit_string(v)
    }
}

impl<'de, S: DeserializeSeed<'de>, const JSON: bool> DeserializeSeed<'de> for Seed<S, JSON> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(LikeValue::<_, JSON>(deserializer))
    }
}

impl<'de, V: Visitor<'de>, const JSON: bool> DeserializeSeed<'de> for Any<V, JSON> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        LikeValue::<_, JSON>(deserializer).deserialize_any(self.0)
    }
}

impl<'de, A: SeqAccess<'de>, const JSON: bool> SeqAccess<'de> for LikeValue<A, JSON> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed::<_, JSON>(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>, const JSON: bool> MapAccess<'de> for LikeValue<A, JSON> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Seed::<_, JSON>(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Seed::<_, JSON>(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>, const JSON: bool> EnumAccess<'de> for LikeValue<A, JSON> {
    type Error = A::Error;
    type Variant = LikeValue<A::Variant, JSON>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        self.0
            .variant_seed(Seed::<_, JSON>(seed))
            .map(|(value, variant)| (value, LikeValue::<_, JSON>(variant)))
    }
}

impl<'de, A: de::VariantAccess<'de>, const JSON: bool> de::VariantAccess<'de>
    for LikeValue<A, JSON>
{
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Seed::<_, JSON>(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        if JSON {
            self.0.tuple_variant(len, Wrapped::<_, JSON>(visitor))
        } else {
            self.0.newtype_variant_seed(Any::<_, JSON>(visitor))
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        if JSON {
            self.0.struct_variant(fields, Wrapped::<_, JSON>(visitor))
        } else {
            self.0.newtype_variant_seed(Any::<_, JSON>(visitor))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(feature = "json")]
    mod json {
        use serde::Deserialize;

        use super::super::LikeValue;

        #[derive(Debug, PartialEq)]
        struct OnlyBytes(Vec<u8>);

        impl<'de> Deserialize<'de> for OnlyBytes {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = OnlyBytes;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("bytes")
                    }
                    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<OnlyBytes, E> {
                        Ok(OnlyBytes(v.to_vec()))
                    }
                }
                d.deserialize_byte_buf(V)
            }
        }

        #[derive(Debug, PartialEq, Deserialize)]
        struct Nested {
            inner: Vec<Option<OnlyBytes>>,
        }

        #[test]
        fn strings_stay_strings_at_every_level() {
            let mut de = serde_json::Deserializer::from_str(r#"{"inner": [null, "AAEC"]}"#);
            assert!(Nested::deserialize(LikeValue::json(&mut de)).is_err());
            // Without the wrapper, serde_json hands the string over as its bytes.
            let mut de = serde_json::Deserializer::from_str(r#"{"inner": [null, "AAEC"]}"#);
            assert_eq!(
                Nested::deserialize(&mut de).unwrap().inner[1],
                Some(OnlyBytes(b"AAEC".to_vec()))
            );
            // Everything else reads as before.
            let mut de = serde_json::Deserializer::from_str(r#"[1, -2.5, "x", {"a": [true]}]"#);
            let read: (
                u8,
                f64,
                String,
                std::collections::BTreeMap<String, Vec<bool>>,
            ) = Deserialize::deserialize(LikeValue::json(&mut de)).unwrap();
            assert_eq!(read.2, "x");
        }
    }

    #[cfg(feature = "msgpack")]
    mod msgpack {
        use serde::Deserialize;

        use super::super::LikeValue;

        #[derive(Debug, PartialEq, Deserialize)]
        struct Point {
            x: i64,
            y: i64,
        }

        #[derive(Debug, PartialEq, Deserialize)]
        enum Shape {
            Dot,
            Square(i64),
            Pair(u8, u8),
            Circle { radius: u8 },
        }

        #[derive(Debug, PartialEq, Deserialize)]
        struct Rgb {
            r: u8,
            g: u8,
        }

        /// Reads `bytes` (MessagePack) as `T` through the wrapper and without it.
        fn msgpack<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> (Option<T>, Option<T>) {
            let mut de = rmp_serde::Deserializer::from_read_ref(bytes).with_human_readable();
            let wrapped = T::deserialize(LikeValue::msgpack(&mut de)).ok();
            let mut de = rmp_serde::Deserializer::from_read_ref(bytes).with_human_readable();
            (wrapped, T::deserialize(&mut de).ok())
        }

        #[test]
        fn names_come_only_from_strings() {
            // Without the wrapper, rmp-serde reads an integer as a variant's or a field's index and
            // bytes as a variant's name; a `Value` reads none of them.
            let cases: [(&str, &[u8], Shape); 3] = [
                ("0", &[0x00], Shape::Dot),
                ("bin \"Dot\"", &[0xc4, 3, b'D', b'o', b't'], Shape::Dot),
                ("{1: 7}", &[0x81, 0x01, 0x07], Shape::Square(7)),
            ];
            for (what, bytes, unwrapped) in cases {
                assert_eq!(msgpack::<Shape>(bytes), (None, Some(unwrapped)), "{what}");
                let value: crate::Value = rmp_serde::from_slice(bytes).unwrap();
                assert!(crate::value::from_value::<Shape>(value).is_err(), "{what}");
            }
            let int_keys = [0x82, 0x00, 0x05, 0x01, 0x06]; // {0: 5, 1: 6}
            assert_eq!(
                msgpack::<Point>(&int_keys),
                (None, Some(Point { x: 5, y: 6 }))
            );
            // Names from strings, and everything else, read as before.
            let named = rmp_serde::to_vec_named(&serde_json::json!({"x": -1, "y": 2})).unwrap();
            let expected = Some(Point { x: -1, y: 2 });
            assert_eq!(
                msgpack::<Point>(&named),
                (expected, Some(Point { x: -1, y: 2 }))
            );
            let variant = rmp_serde::to_vec(&serde_json::json!({"Square": 3})).unwrap();
            assert_eq!(
                msgpack::<Shape>(&variant),
                (Some(Shape::Square(3)), Some(Shape::Square(3)))
            );
            assert_eq!(
                msgpack::<Shape>(&rmp_serde::to_vec("Dot").unwrap()),
                (Some(Shape::Dot), Some(Shape::Dot))
            );
            // A map's integer keys are no names: they read as integers.
            let map = msgpack::<std::collections::BTreeMap<u8, i64>>(&int_keys)
                .0
                .unwrap();
            assert_eq!(map.get(&1), Some(&6));
            // MessagePack's bytes stay bytes.
            let bin = [0xc4, 2, b'h', b'i'];
            let (wrapped, _) = msgpack::<crate::Value>(&bin);
            assert_eq!(wrapped, Some(crate::Value::Bytes(b"hi".to_vec())));
        }

        #[test]
        fn bytes_are_read_as_a_list_only_where_a_value_reads_them_so() {
            let from_value = |bytes: &[u8]| {
                let value: crate::Value = rmp_serde::from_slice(bytes).unwrap();
                value
            };
            // A struct, a tuple variant's and a struct variant's content: rmp-serde reads bytes
            // as a list of numbers; a `Value` does not.
            let rgb = [0xc4, 2, 1, 2];
            assert_eq!(msgpack::<Rgb>(&rgb), (None, Some(Rgb { r: 1, g: 2 })));
            assert!(crate::value::from_value::<Rgb>(from_value(&rgb)).is_err());
            let pair = [0x81, 0xa4, b'P', b'a', b'i', b'r', 0xc4, 2, 1, 2];
            assert_eq!(msgpack::<Shape>(&pair), (None, Some(Shape::Pair(1, 2))));
            assert!(crate::value::from_value::<Shape>(from_value(&pair)).is_err());
            let circle = [0x81, 0xa6, b'C', b'i', b'r', b'c', b'l', b'e', 0xc4, 1, 9];
            let unwrapped = Some(Shape::Circle { radius: 9 });
            assert_eq!(msgpack::<Shape>(&circle), (None, unwrapped));
            assert!(crate::value::from_value::<Shape>(from_value(&circle)).is_err());
            // A tuple reads bytes as a list, as a `Value` does, but all of them.
            let three = [0xc4, 3, 1, 2, 3];
            assert_eq!(msgpack::<(u8, u8)>(&three), (None, Some((1, 2))));
            assert!(crate::value::from_value::<(u8, u8)>(from_value(&three)).is_err());
            assert_eq!(msgpack::<(u8, u8)>(&rgb), (Some((1, 2)), Some((1, 2))));
            // From lists, as before.
            let list = [0x92, 1, 2];
            assert_eq!(msgpack::<Rgb>(&list).0, Some(Rgb { r: 1, g: 2 }));
            let pair = [0x81, 0xa4, b'P', b'a', b'i', b'r', 0x92, 1, 2];
            assert_eq!(msgpack::<Shape>(&pair).0, Some(Shape::Pair(1, 2)));
            let circle = [0x81, 0xa6, b'C', b'i', b'r', b'c', b'l', b'e', 0x81, 0xa6];
            let circle = [&circle[..], b"radius", &[9]].concat();
            assert_eq!(
                msgpack::<Shape>(&circle).0,
                Some(Shape::Circle { radius: 9 })
            );
        }
    }
}

//! Checking that received data would decode as a [`Value`](crate::value::Value), without
//! building one: [`Shape`] walks an element the way [`ValueSeed`](super::ValueSeed) does, accepts
//! exactly what it accepts (up to a nesting limit of its own), allocates nothing, and keeps the
//! element's outer kind and length.
//!
//! A received payload is checked this way when it arrives, so that a malformed one is still a
//! protocol violation of the message that carried it, and kept as bytes: whoever reads it later
//! decodes it straight into the type they ask for.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

/// The scalar visits shared by [`ShapeVisitor`] and [`Check`]: everything a [`Value`] holds is
/// accepted, except integers that do not fit in 64 bits (as `ValueSeed` refuses them).
///
/// [`Value`]: crate::value::Value
macro_rules! scalars {
    ($ty:ty, $ok:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$ty, E> {
            Ok($ok)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$ty, E> {
            Ok($ok)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$ty, E> {
            Ok($ok)
        }
        fn visit_i128<E: de::Error>(self, v: i128) -> Result<$ty, E> {
            if i64::try_from(v).is_ok() || u64::try_from(v).is_ok() {
                Ok($ok)
            } else {
                Err(E::custom(format_args!(
                    "integer {v} does not fit in 64 bits"
                )))
            }
        }
        fn visit_u128<E: de::Error>(self, v: u128) -> Result<$ty, E> {
            if u64::try_from(v).is_ok() {
                Ok($ok)
            } else {
                Err(E::custom(format_args!(
                    "integer {v} does not fit in 64 bits"
                )))
            }
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$ty, E> {
            Ok($ok)
        }
        fn visit_char<E: de::Error>(self, _: char) -> Result<$ty, E> {
            Ok($ok)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$ty, E> {
            Ok($ok)
        }
        fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<$ty, E> {
            Ok($ok)
        }
        fn visit_none<E: de::Error>(self) -> Result<$ty, E> {
            Ok($ok)
        }
        fn visit_unit<E: de::Error>(self) -> Result<$ty, E> {
            Ok($ok)
        }
    };
}

/// Levels of nesting a checked element may have, itself included. Deeper data is refused here;
/// callers treat a refusal as "not for this path" and let the general decoder judge, whose own
/// limits are higher. Bounding it here also bounds the recursion of every later decode of the
/// same bytes.
pub(crate) const CHECK_DEPTH: usize = 100;

/// The outer kind of a checked element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A list (an array).
    List,
    /// A dictionary (a map).
    Dict,
    /// Anything else.
    Other,
}

/// What a check of one element found: its outer kind and, for a list or dictionary, how many
/// elements or entries it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) kind: Kind,
    pub(crate) len: usize,
}

impl<'de> de::Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor)
    }
}

/// The top level: like [`Check`], but counting the elements or entries.
struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any WAMP value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut len = 0;
        while seq.next_element_seed(Check { depth: 2 })?.is_some() {
            len += 1;
        }
        Ok(Shape {
            kind: Kind::List,
            len,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut len = 0;
        while map.next_key_seed(KeyCheck)?.is_some() {
            map.next_value_seed(Check { depth: 2 })?;
            len += 1;
        }
        Ok(Shape {
            kind: Kind::Dict,
            len,
        })
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(self)
    }

    /// A CBOR tag: the tagged content counts, as [`ValueSeed`](super::ValueSeed) keeps it.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Shape, A::Error> {
        let (de::IgnoredAny, variant) = data.variant()?;
        de::VariantAccess::newtype_variant_seed(variant, ShapeSeed)
    }

    scalars!(
        Shape,
        Shape {
            kind: Kind::Other,
            len: 0
        }
    );
}

struct ShapeSeed;

impl<'de> DeserializeSeed<'de> for ShapeSeed {
    type Value = Shape;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(ShapeVisitor)
    }
}

/// One nested element, `depth` levels down.
#[derive(Clone, Copy)]
struct Check {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Check {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        // Refused before the deserializer descends: the stack stays bounded whatever the input.
        if self.depth > CHECK_DEPTH {
            return Err(de::Error::custom("nested too deeply"));
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any WAMP value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = Check {
            depth: self.depth + 1,
        };
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = Check {
            depth: self.depth + 1,
        };
        while map.next_key_seed(KeyCheck)?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let (de::IgnoredAny, variant) = data.variant()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }

    scalars!((), ());
}

/// A dictionary key, accepted as `ValueSeed` accepts keys: a string, or an integer, boolean or
/// character (kept as its text).
struct KeyCheck;

impl<'de> DeserializeSeed<'de> for KeyCheck {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Visitor<'_> for KeyCheck {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string dictionary key")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        Ok(())
    }

    fn visit_char<E: de::Error>(self, _: char) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde::de::DeserializeSeed;

    use super::*;
    use crate::value::ValueSeed;

    /// Both walks agree on what they accept, for JSON text (the easiest to write by hand).
    #[test]
    fn accepts_what_value_seed_accepts() {
        let cases = [
            "[1, -2, 2.5, \"x\", null, true, [], {}]",
            "{\"a\": [1, {\"b\": null}], \"1\": 2}",
            "[18446744073709551615]",
            "[18446744073709551616]",
            "[-9223372036854775809]",
            "[1, 2",
            "{\"a\" 1}",
            "\"\\u0000AAEC\"",
            "{1: 2}",
            "[[[[[]]]]]",
        ];
        for case in cases {
            let mut de = serde_json::Deserializer::from_str(case);
            let value = ValueSeed { json_binary: true }
                .deserialize(&mut de)
                .and_then(|v| de.end().map(|()| v));
            let mut de = serde_json::Deserializer::from_str(case);
            let shape =
                <Shape as de::Deserialize>::deserialize(&mut de).and_then(|s| de.end().map(|()| s));
            assert_eq!(value.is_ok(), shape.is_ok(), "{case}");
            if let (Ok(value), Ok(shape)) = (value, shape) {
                let (kind, len) = match value {
                    crate::Value::List(l) => (Kind::List, l.len()),
                    crate::Value::Dict(d) => (Kind::Dict, d.len()),
                    _ => (Kind::Other, 0),
                };
                assert_eq!(shape, Shape { kind, len }, "{case}");
            }
        }
    }

    #[test]
    fn refuses_deep_nesting_before_descending() {
        let deep = format!("{}{}", "[".repeat(CHECK_DEPTH), "]".repeat(CHECK_DEPTH));
        assert!(serde_json::from_str::<Shape>(&deep).is_ok());
        let deeper = format!(
            "{}{}",
            "[".repeat(CHECK_DEPTH + 1),
            "]".repeat(CHECK_DEPTH + 1)
        );
        assert!(serde_json::from_str::<Shape>(&deeper).is_err());
    }
}

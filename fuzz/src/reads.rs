//! [`reads_agree!`](crate::reads_agree): a received payload reads into a type straight from its
//! bytes as it reads through `Value`s. The session keeps a payload as the bytes of its frame and
//! each typed read decodes it with the format's own deserializer where that reads as a `Value`
//! does; the harness holds it to that on whatever the fuzzer sends.

use std::fmt::Debug;

/// Reads every argument of a received result, event or invocation (positional 0 to 3, all
/// positional, all keyword, keyword `k`, `x`, `0`) as each of a set of types, once straight
/// from the payload and once through its `Value`s (`arguments()`), and panics if they differ:
/// one read succeeding where the other fails, or the two reading different values.
#[macro_export]
macro_rules! reads_agree {
    ($received:expr) => {{
        let received = &$received;
        let values = ::wampkit::CallResult::new(received.arguments());
        $crate::reads_agree!(@types received, values,
            ::wampkit::Value, i64, u64, f64, String, Vec<u8>, Option<i64>, bool, char, (),
            (i64, String), Vec<$crate::reads::Shape>, $crate::reads::Shape,
            $crate::reads::Point, ::std::collections::BTreeMap<String, ::wampkit::Value>,
            ::std::collections::BTreeMap<u8, Option<f64>>, $crate::reads::Buf
        );
    }};
    (@types $raw:ident, $values:ident, $($t:ty),* $(,)?) => {{
        $(
            for index in 0..4 {
                $crate::reads::agree(
                    ::std::any::type_name::<$t>(), "arg",
                    $raw.arg::<$t>(index).ok(), $values.arg::<$t>(index).ok(),
                );
            }
            $crate::reads::agree(::std::any::type_name::<$t>(), "args", $raw.args::<$t>().ok(), $values.args::<$t>().ok());
            $crate::reads::agree(::std::any::type_name::<$t>(), "kwargs", $raw.kwargs::<$t>().ok(), $values.kwargs::<$t>().ok());
            for key in ["k", "x", "0"] {
                $crate::reads::agree(
                    ::std::any::type_name::<$t>(), "kwarg",
                    $raw.kwarg::<$t>(key).ok(), $values.kwarg::<$t>(key).ok(),
                );
            }
        )*
    }};
}

/// Panics when the read straight from the bytes and the read through `Value`s differ (compared
/// by their `Debug` text, so that a NaN equals a NaN).
pub fn agree<T: Debug>(ty: &str, read: &str, raw: Option<T>, values: Option<T>) {
    let (raw, values) = (format!("{raw:?}"), format!("{values:?}"));
    assert_eq!(
        raw, values,
        "{read} as {ty}: read straight from the payload (left) and through Values (right) differ"
    );
}

/// An enum of each kind of variant.
#[derive(Debug, serde::Deserialize)]
pub enum Shape {
    /// A unit variant.
    Dot,
    /// A newtype variant.
    Size(u8),
    /// A tuple variant.
    Pair(i64, i64),
    /// A struct variant.
    Circle {
        /// A field.
        radius: f64,
    },
}

/// A struct with an optional field.
#[derive(Debug, serde::Deserialize)]
pub struct Point {
    /// A required field.
    pub x: i64,
    /// An optional one.
    pub label: Option<String>,
}

/// A byte buffer that takes bytes or a list of numbers, as `serde_bytes::ByteBuf` does.
#[derive(Debug)]
pub struct Buf(pub Vec<u8>);

impl<'de> serde::Deserialize<'de> for Buf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Buf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Buf, E> {
                Ok(Buf(v.to_vec()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Buf, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element()? {
                    out.push(b);
                }
                Ok(Buf(out))
            }
        }
        d.deserialize_byte_buf(Visit)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use wampkit::Value;

    use super::*;

    /// The check fails when the two reads differ.
    #[test]
    #[should_panic(expected = "differ")]
    fn a_difference_panics() {
        agree("u8", "arg", Some(1u8), None);
    }

    #[test]
    fn equal_reads_pass() {
        agree("f64", "arg", Some(f64::NAN), Some(f64::NAN));
        let map: BTreeMap<String, Value> = BTreeMap::new();
        agree("map", "kwargs", Some(map.clone()), Some(map));
    }
}

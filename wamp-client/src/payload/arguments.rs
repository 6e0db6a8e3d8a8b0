//! Conversions between serde types and WAMP positional / keyword arguments.

use serde::Serialize;

use crate::error::Error;
use crate::value::{Dict, Value, ValueError, to_value, with_article};
use crate::wire::{EncodedArgs, EncodedKwargs, KwargsPart, Payload, Serializer};

/// Positional and keyword arguments, ready to send.
///
/// Most code never builds one by hand: request builders such as
/// [`Session::call`](crate::Session::call) take any `Serialize` value. Handlers return one.
///
/// ```
/// use wampkit::Arguments;
///
/// #[derive(serde::Serialize)]
/// struct Point { x: f64, y: f64 }
///
/// let args = Arguments::positional((1, "two", -3.5)).unwrap();
/// assert_eq!(args.args.len(), 3);
/// let kw = Arguments::keyword(Point { x: 1.0, y: -2.0 }).unwrap();
/// assert_eq!(kw.kwargs.len(), 2);
/// let one = Arguments::single(vec![1, 2, 3]).unwrap();
/// assert_eq!(one.args.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arguments {
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Dict,
}

impl Arguments {
    /// No arguments.
    pub fn new() -> Self {
        Arguments::default()
    }

    /// Positional arguments from anything that serializes to a sequence: a tuple, `Vec`, array or
    /// tuple struct. `()` gives no arguments. For a single value that is itself a sequence, use
    /// [`Arguments::single`] or a 1-tuple `(value,)`.
    pub fn positional(args: impl Serialize) -> Result<Self, ValueError> {
        Ok(Arguments {
            args: positional_values(&args)?,
            kwargs: Dict::new(),
        })
    }

    /// Keyword arguments from anything that serializes to a map: a struct or a map with string keys.
    pub fn keyword(kwargs: impl Serialize) -> Result<Self, ValueError> {
        Ok(Arguments {
            args: Vec::new(),
            kwargs: keyword_values(&kwargs)?,
        })
    }

    /// One positional argument holding `value`, whatever its shape.
    pub fn single(value: impl Serialize) -> Result<Self, ValueError> {
        Ok(Arguments {
            args: vec![to_value(&value)?],
            kwargs: Dict::new(),
        })
    }

    /// Adds one positional argument.
    pub fn with_arg(mut self, value: impl Serialize) -> Result<Self, ValueError> {
        self.args.push(to_value(&value)?);
        Ok(self)
    }

    /// Adds one keyword argument.
    pub fn with_kwarg(
        mut self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<Self, ValueError> {
        self.kwargs.insert(key.into(), to_value(&value)?);
        Ok(self)
    }

    /// Whether there are neither positional nor keyword arguments.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty() && self.kwargs.is_empty()
    }
}

impl From<(Vec<Value>, Dict)> for Arguments {
    fn from((args, kwargs): (Vec<Value>, Dict)) -> Self {
        Arguments { args, kwargs }
    }
}

/// What [`Session::call`](crate::Session::call), [`Session::publish`](crate::Session::publish)
/// and [`CallInput::send`](crate::rpc::CallInput::send) take as positional arguments: a tuple
/// (`()` for none, `(value,)` for one), `Vec`, `VecDeque`, array or slice of `Serialize` values,
/// or a dynamic [`Value`] / `serde_json::Value` list.
///
/// A struct or map is not positional arguments: pass it with `.kwargs(..)` (it arrives as
/// keyword arguments), or wrap it in a 1-tuple `(value,)` to send it as the single positional
/// argument. Passing one directly does not compile, instead of failing when the call is sent.
/// A type of your own that serializes to a sequence (a tuple struct) may implement this trait;
/// [`Arguments::positional`] checks the shape at run time instead, for values whose shape is only
/// known then.
///
/// ```compile_fail
/// # async fn demo(session: wampkit::Session) -> wampkit::Result<()> {
/// #[derive(serde::Serialize)]
/// struct Add { a: i64, b: i64 }
/// // error: `Add` cannot be passed as positional arguments
/// session.call("com.example.add", Add { a: 2, b: 3 }).await?;
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed as positional arguments",
    label = "not a tuple, Vec, array or slice",
    note = "pass a struct or map with `.kwargs(..)`, or wrap a single value in a 1-tuple: `(value,)`"
)]
pub trait PositionalArgs: Serialize {}

macro_rules! positional_tuples {
    ($(($($name:ident),*))*) => {
        $(impl<$($name: Serialize),*> PositionalArgs for ($($name,)*) {})*
    };
}

positional_tuples! {
    ()
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
    (A, B, C, D, E, F, G, H, I)
    (A, B, C, D, E, F, G, H, I, J)
    (A, B, C, D, E, F, G, H, I, J, K)
    (A, B, C, D, E, F, G, H, I, J, K, L)
    (A, B, C, D, E, F, G, H, I, J, K, L, M)
    (A, B, C, D, E, F, G, H, I, J, K, L, M, N)
    (A, B, C, D, E, F, G, H, I, J, K, L, M, N, O)
    (A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P)
}

impl<T: Serialize> PositionalArgs for Vec<T> {}
impl<T: Serialize> PositionalArgs for std::collections::VecDeque<T> {}
impl<T, const N: usize> PositionalArgs for [T; N] where [T; N]: Serialize {}
impl<T: Serialize> PositionalArgs for [T] {}
impl<T: PositionalArgs + ?Sized> PositionalArgs for &T {}
impl<T: PositionalArgs + ?Sized> PositionalArgs for Box<T> {}
/// Checked at run time: a [`Value::List`] (or `Null`, no arguments).
impl PositionalArgs for Value {}
/// Checked at run time: an array (or `null`, no arguments).
impl PositionalArgs for serde_json::Value {}

/// Converts a `Serialize` value that must be a sequence into positional arguments.
pub(crate) fn positional_values(args: &impl Serialize) -> Result<Vec<Value>, ValueError> {
    match to_value(args)? {
        Value::List(list) => Ok(list),
        Value::Null => Ok(Vec::new()),
        other => Err(ValueError::new(format!(
            "positional arguments must be a sequence (a tuple, Vec or array), not {}: \
             pass a struct or map with `.kwargs(..)`, or wrap a single value in a 1-tuple: \
             `(value,)`",
            with_article(other.kind())
        ))),
    }
}

/// Converts a `Serialize` value that must be a map into keyword arguments.
pub(crate) fn keyword_values(kwargs: &impl Serialize) -> Result<Dict, ValueError> {
    match to_value(kwargs)? {
        Value::Dict(dict) => Ok(dict),
        Value::Null => Ok(Dict::new()),
        other => Err(ValueError::new(format!(
            "keyword arguments must be a map or struct, not {}: pass positional arguments as a \
             tuple instead",
            with_article(other.kind())
        ))),
    }
}

/// Generates the typed payload accessors shared by results, invocations and events.
/// `$err` maps a [`ValueError`] into the error type the accessors return, `$of` names the
/// payload's owner in it (a [`PayloadOf`](crate::value::PayloadOf)). `unreadable` gives the error every accessor returns
/// for a payload that could not be read at all (an event whose encoded payload did not decode).
macro_rules! payload_accessors {
    ($ty:ty, $err_ty:ty, $err:expr, $of:expr) => {
        crate::payload::arguments::payload_accessors!(
            $ty, $err_ty, $err, $of, unreadable: |_: &$ty| -> Option<$err_ty> { None }
        );
    };
    ($ty:ty, $err_ty:ty, $err:expr, $of:expr, unreadable: $unreadable:expr) => {
        impl $ty {
            /// Deserializes all positional arguments into `T`: a tuple such as `(i64, String)`, a
            /// `Vec`, or a tuple struct.
            pub fn args<T: serde::de::DeserializeOwned>(&self) -> Result<T, $err_ty> {
                if let Some(e) = $unreadable(self) {
                    return Err(e);
                }
                crate::payload::read::args(&self.payload)
                    .map_err(|e| $err(e.of($of(self))))
            }

            /// Deserializes positional argument `index` into `T`.
            pub fn arg<T: serde::de::DeserializeOwned>(&self, index: usize) -> Result<T, $err_ty> {
                if let Some(e) = $unreadable(self) {
                    return Err(e);
                }
                crate::payload::read::arg(&self.payload, index)
                    .map_err(|e| $err(e.of($of(self))))
            }

            /// Deserializes all keyword arguments into `T`: a struct or a map.
            pub fn kwargs<T: serde::de::DeserializeOwned>(&self) -> Result<T, $err_ty> {
                if let Some(e) = $unreadable(self) {
                    return Err(e);
                }
                crate::payload::read::kwargs(&self.payload)
                    .map_err(|e| $err(e.of($of(self))))
            }

            /// Deserializes keyword argument `key` into `T`; a missing key reads as `null`, which
            /// `Option<T>` accepts.
            pub fn kwarg<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<T, $err_ty> {
                if let Some(e) = $unreadable(self) {
                    return Err(e);
                }
                crate::payload::read::kwarg(&self.payload, key)
                    .map_err(|e| $err(e.of($of(self))))
            }

            /// The number of positional arguments.
            pub fn arg_count(&self) -> usize {
                crate::payload::read::arg_count(&self.payload)
            }

            /// The number of keyword arguments.
            pub fn kwarg_count(&self) -> usize {
                crate::payload::read::kwarg_count(&self.payload)
            }

            /// The arguments as dynamic [`Value`](crate::Value)s, decoded on each call: for code
            /// that does not know their types in advance. Typed code reads them with
            /// [`arg`](Self::arg), [`args`](Self::args), [`kwarg`](Self::kwarg) and
            /// [`kwargs`](Self::kwargs), which decode straight into the type asked for.
            pub fn arguments(&self) -> crate::payload::Arguments {
                crate::payload::read::to_arguments(&self.payload)
            }
        }
    };
}
pub(crate) use payload_accessors;

/// Maps a payload conversion failure into the crate error.
pub(crate) fn payload_error(e: ValueError) -> Error {
    Error::Payload(e)
}

/// Arguments that a stub generated by [`service`](crate::service) prepared for its request:
/// given to the request with `stub_arguments`. Not for other code (see `crate::__private`).
#[doc(hidden)]
#[derive(Debug)]
pub struct StubArguments(pub(crate) PendingArguments);

/// The arguments of a request being built: conversion errors are kept until the request is sent,
/// so that builder methods can chain.
#[derive(Debug)]
pub(crate) struct PendingArguments {
    args: Result<Positional, ValueError>,
    kwargs: Result<Keyword, ValueError>,
}

/// Positional arguments, encoded already or as values.
#[derive(Debug)]
enum Positional {
    /// In the session's serializer (see [`EncodedArgs`]): no values built.
    Encoded(EncodedArgs),
    Values(Vec<Value>),
}

/// Keyword arguments, encoded already (in the positional arguments' serializer) or as values.
#[derive(Debug)]
enum Keyword {
    Encoded(EncodedKwargs),
    Values(Dict),
}

impl PendingArguments {
    /// Positional arguments from a sequence, encoded in `serializer` if there is one (the
    /// session's; see `Session::arguments_serializer`); no keyword arguments yet.
    pub(crate) fn positional(args: &impl Serialize, serializer: Option<Serializer>) -> Self {
        Self::with_positional(Self::encode_positional(args, serializer).map_err(|(_, e)| e))
    }

    /// Positional arguments `args` (or the error converting them), no keyword arguments yet.
    fn with_positional(args: Result<Positional, ValueError>) -> Self {
        PendingArguments {
            args,
            kwargs: Ok(Keyword::Values(Dict::new())),
        }
    }

    /// Prepared arguments, as values.
    pub(crate) fn prepared(arguments: Arguments) -> Self {
        PendingArguments {
            args: Ok(Positional::Values(arguments.args)),
            kwargs: Ok(Keyword::Values(arguments.kwargs)),
        }
    }

    /// [`positional`](Self::positional), but an argument that cannot be converted fails at once,
    /// with an error that names it: `names` are the arguments' names in order, `uri` the
    /// procedure or topic (for the stubs `#[service]` generates).
    pub(crate) fn positional_named(
        args: &impl Serialize,
        serializer: Option<Serializer>,
        uri: &str,
        names: &[&str],
    ) -> Result<Self, ValueError> {
        match Self::encode_positional(args, serializer) {
            Ok(args) => Ok(Self::with_positional(Ok(args))),
            Err((index, e)) => {
                // Values do not say which argument failed; the encoder of any serializer does
                // (it refuses what values refuse).
                let index = index.or_else(|| {
                    Serializer::ALL
                        .iter()
                        .find_map(|&serializer| EncodedArgs::encode(serializer, args).err()?.index)
                });
                Err(match index.and_then(|index| names.get(index)) {
                    Some(name) => ValueError::new(format!("`{uri}`, argument `{name}`: {e}")),
                    None => ValueError::new(format!("`{uri}`: {e}")),
                })
            }
        }
    }

    /// No positional arguments, and `kwargs` (a struct or map) as the keyword arguments,
    /// encoded in `serializer` if there is one; an error that names them (`name`) for `uri`
    /// fails at once (for the stubs `#[service]` generates).
    pub(crate) fn keyword_named(
        kwargs: &impl Serialize,
        serializer: Option<Serializer>,
        uri: &str,
        name: &str,
    ) -> Result<Self, ValueError> {
        let mut arguments = Self::positional(&(), serializer);
        arguments.set_kwargs(kwargs);
        match arguments.kwargs {
            Err(e) => Err(ValueError::new(format!(
                "`{uri}`, keyword arguments (`{name}`): {}",
                e.message()
            ))),
            Ok(_) => Ok(arguments),
        }
    }

    /// Encodes positional arguments in `serializer` if there is one, as values otherwise (and
    /// for what is not a sequence, which the values path explains). An error comes with the
    /// index of the argument that failed, when the encoder knows it.
    fn encode_positional(
        args: &impl Serialize,
        serializer: Option<Serializer>,
    ) -> Result<Positional, (Option<usize>, ValueError)> {
        match serializer.map(|serializer| EncodedArgs::encode(serializer, args)) {
            Some(Ok(Some(encoded))) => Ok(Positional::Encoded(encoded)),
            Some(Err(failure)) => Err((failure.index, failure.error)),
            // Not a sequence (the values path explains), or no serializer to encode in.
            Some(Ok(None)) | None => positional_values(args)
                .map(Positional::Values)
                .map_err(|e| (None, e)),
        }
    }

    /// Replaces the keyword arguments with a struct or map: encoded in the serializer of the
    /// positional arguments when they are encoded.
    pub(crate) fn set_kwargs(&mut self, kwargs: &impl Serialize) {
        let encoded = match &self.args {
            Ok(Positional::Encoded(args)) => EncodedKwargs::encode(args.serializer(), kwargs),
            _ => Ok(None),
        };
        self.kwargs = match encoded {
            Ok(Some(encoded)) => Ok(Keyword::Encoded(encoded)),
            // Not a map (the values path explains), or positional arguments as values.
            Ok(None) => keyword_values(kwargs).map(Keyword::Values),
            Err(e) => Err(e),
        };
    }

    /// Adds one keyword argument (encoded keyword arguments become values first).
    pub(crate) fn add_kwarg(&mut self, key: String, value: &impl Serialize) {
        let kwargs = match std::mem::replace(&mut self.kwargs, Ok(Keyword::Values(Dict::new()))) {
            Ok(Keyword::Encoded(encoded)) => encoded.to_dict(),
            Ok(Keyword::Values(dict)) => Ok(dict),
            Err(e) => Err(e),
        };
        self.kwargs = kwargs.and_then(|mut kwargs| {
            kwargs.insert(key, to_value(value)?);
            Ok(Keyword::Values(kwargs))
        });
    }

    /// Replaces both with prepared arguments.
    pub(crate) fn set(&mut self, arguments: Arguments) {
        *self = Self::prepared(arguments);
    }

    /// The payload, or the first conversion error.
    pub(crate) fn finish(self) -> Result<Payload, Error> {
        let kwargs = self.kwargs.map_err(payload_error)?;
        let payload = match (self.args.map_err(payload_error)?, kwargs) {
            (Positional::Encoded(args), Keyword::Values(kwargs)) => {
                args.into_payload(KwargsPart::Values(&kwargs))
            }
            (Positional::Encoded(args), Keyword::Encoded(kwargs)) => {
                args.into_payload(KwargsPart::Encoded(&kwargs))
            }
            (Positional::Values(args), Keyword::Values(kwargs)) => Ok(Payload::new(args, kwargs)),
            // Not made by the methods above (keyword arguments are encoded only after encoded
            // positional ones, and prepared arguments replace both); converted all the same.
            (Positional::Values(args), Keyword::Encoded(kwargs)) => {
                kwargs.to_dict().map(|kwargs| Payload::new(args, kwargs))
            }
        };
        payload.map_err(payload_error)
    }
}

#[cfg(all(test, feature = "msgpack"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use super::*;

    const MSGPACK: Option<Serializer> = Some(Serializer::MsgPack);

    #[test]
    fn a_request_with_a_serializer_sends_its_arguments_encoded_in_it() {
        let args = PendingArguments::positional(&(1, "two"), MSGPACK);
        let Payload::Raw(raw) = args.finish().unwrap() else {
            panic!("not encoded");
        };
        assert_eq!(
            (raw.serializer(), raw.arg_count(), raw.kwarg_count()),
            (Serializer::MsgPack, 2, 0)
        );

        // Keyword arguments go after them.
        let mut args = PendingArguments::positional(&(), MSGPACK);
        args.add_kwarg("k".into(), &-1);
        let Payload::Raw(raw) = args.finish().unwrap() else {
            panic!("not encoded");
        };
        assert_eq!((raw.arg_count(), raw.kwarg_count()), (0, 1));
        assert_eq!(raw.to_values().unwrap().1.get("k"), Some(&Value::Int(-1)));
    }

    #[test]
    fn keyword_arguments_from_a_struct_are_encoded_too() {
        #[derive(Serialize)]
        struct Options {
            limit: u32,
            label: &'static str,
        }
        let mut args = PendingArguments::positional(&(1,), MSGPACK);
        args.set_kwargs(&Options {
            limit: 3,
            label: "x",
        });
        assert!(matches!(args.kwargs, Ok(Keyword::Encoded(_))));
        let Payload::Raw(raw) = args.finish().unwrap() else {
            panic!("not encoded");
        };
        assert_eq!((raw.arg_count(), raw.kwarg_count()), (1, 2));
        assert_eq!(
            raw.to_values().unwrap().1.get("label"),
            Some(&Value::from("x"))
        );

        // One more keyword argument after them: all of them as values, then encoded.
        let mut args = PendingArguments::positional(&(), MSGPACK);
        args.set_kwargs(&Options {
            limit: 3,
            label: "x",
        });
        args.add_kwarg("extra".into(), &true);
        let Payload::Raw(raw) = args.finish().unwrap() else {
            panic!("not encoded");
        };
        let (_, kwargs) = raw.to_values().unwrap();
        assert_eq!(kwargs.len(), 3);
        assert_eq!(kwargs.get("limit"), Some(&Value::from(3)));

        // Not a map: the values path's error.
        let mut args = PendingArguments::positional(&(), MSGPACK);
        args.set_kwargs(&(1, 2));
        let error = args.finish().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("keyword arguments must be a map or struct"),
            "{error}"
        );
    }

    #[test]
    fn a_stub_names_the_argument_that_cannot_be_converted() {
        for serializer in [MSGPACK, None] {
            let error = PendingArguments::positional_named(
                &(1, u128::MAX),
                serializer,
                "com.example.add",
                &["a", "b"],
            )
            .unwrap_err();
            // Through values too (a session with a payload codec).
            assert!(
                error
                    .to_string()
                    .starts_with("`com.example.add`, argument `b`: integer"),
                "{error}"
            );
            let error = PendingArguments::keyword_named(
                &BTreeMap::from([("n", i128::MIN)]),
                serializer,
                "com.example.add",
                "options",
            )
            .unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("`com.example.add`, keyword arguments (`options`): integer"),
                "{error}"
            );
        }
    }

    #[test]
    fn values_go_as_values() {
        // No serializer (the session has a payload codec), or prepared arguments.
        let args = PendingArguments::positional(&(1,), None);
        assert!(matches!(args.finish().unwrap(), Payload::Args { .. }));
        let mut args = PendingArguments::positional(&(1,), MSGPACK);
        args.set(Arguments::positional((2,)).unwrap());
        assert!(matches!(args.finish().unwrap(), Payload::Args { .. }));
        assert_eq!(
            PendingArguments::positional(&(), MSGPACK).finish().unwrap(),
            Payload::Empty
        );
    }

    #[test]
    fn what_is_not_a_sequence_fails_as_it_did() {
        let error = PendingArguments::positional(&"text", MSGPACK)
            .finish()
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("positional arguments must be a sequence"),
            "{error}"
        );
        let error = PendingArguments::positional(&(u128::MAX,), MSGPACK)
            .finish()
            .unwrap_err();
        assert!(
            error.to_string().contains("does not fit in 64 bits"),
            "{error}"
        );
    }
}

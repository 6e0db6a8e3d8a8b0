//! Conversions between serde types and WAMP positional / keyword arguments.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::value::{Dict, Value, ValueError, from_value, to_value};

/// Positional and keyword arguments, ready to send.
///
/// Most code never builds one by hand: request builders such as
/// [`Session::call`](crate::Session::call) take any `Serialize` value. Handlers return one.
///
/// ```
/// use wamp_client::Arguments;
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

/// Converts a `Serialize` value that must be a sequence into positional arguments.
pub(crate) fn positional_values(args: &impl Serialize) -> Result<Vec<Value>, ValueError> {
    match to_value(args)? {
        Value::List(list) => Ok(list),
        Value::Null => Ok(Vec::new()),
        other => Err(ValueError::new(format!(
            "positional arguments must serialize to a sequence (a tuple, Vec or array), not a {}; \
             wrap a single value in a 1-tuple `(value,)`, or pass structs and maps as keyword arguments",
            other.kind()
        ))),
    }
}

/// Converts a `Serialize` value that must be a map into keyword arguments.
pub(crate) fn keyword_values(kwargs: &impl Serialize) -> Result<Dict, ValueError> {
    match to_value(kwargs)? {
        Value::Dict(dict) => Ok(dict),
        Value::Null => Ok(Dict::new()),
        other => Err(ValueError::new(format!(
            "keyword arguments must serialize to a map or struct, not a {}",
            other.kind()
        ))),
    }
}

/// Deserializes all positional arguments into `T` (a tuple, `Vec`, or tuple struct).
pub(crate) fn decode_args<T: DeserializeOwned>(args: &[Value]) -> Result<T, ValueError> {
    from_value(Value::List(args.to_vec()))
        .map_err(|e| ValueError::new(format!("positional arguments: {e}")))
}

/// Deserializes positional argument `index` into `T`.
pub(crate) fn decode_arg<T: DeserializeOwned>(
    args: &[Value],
    index: usize,
) -> Result<T, ValueError> {
    let value = args.get(index).cloned().ok_or_else(|| {
        ValueError::new(format!(
            "positional argument {index} is missing (got {} argument{})",
            args.len(),
            if args.len() == 1 { "" } else { "s" }
        ))
    })?;
    from_value(value).map_err(|e| ValueError::new(format!("positional argument {index}: {e}")))
}

/// Deserializes all keyword arguments into `T` (a struct or map).
pub(crate) fn decode_kwargs<T: DeserializeOwned>(kwargs: &Dict) -> Result<T, ValueError> {
    from_value(Value::Dict(kwargs.clone()))
        .map_err(|e| ValueError::new(format!("keyword arguments: {e}")))
}

/// Deserializes keyword argument `key` into `T` (a missing key deserializes from `null`, so
/// `Option<T>` accepts it).
pub(crate) fn decode_kwarg<T: DeserializeOwned>(kwargs: &Dict, key: &str) -> Result<T, ValueError> {
    let value = kwargs.get(key).cloned().unwrap_or(Value::Null);
    from_value(value).map_err(|e| ValueError::new(format!("keyword argument `{key}`: {e}")))
}

/// Generates the typed payload accessors shared by results, invocations and events.
/// `$err` maps a [`ValueError`] into the error type the accessors return.
macro_rules! payload_accessors {
    ($ty:ty, $err_ty:ty, $err:expr) => {
        impl $ty {
            /// Deserializes all positional arguments into `T`: a tuple such as `(i64, String)`, a
            /// `Vec`, or a tuple struct.
            pub fn args<T: serde::de::DeserializeOwned>(&self) -> Result<T, $err_ty> {
                crate::payload::arguments::decode_args(&self.args).map_err($err)
            }

            /// Deserializes positional argument `index` into `T`.
            pub fn arg<T: serde::de::DeserializeOwned>(&self, index: usize) -> Result<T, $err_ty> {
                crate::payload::arguments::decode_arg(&self.args, index).map_err($err)
            }

            /// Deserializes all keyword arguments into `T`: a struct or a map.
            pub fn kwargs<T: serde::de::DeserializeOwned>(&self) -> Result<T, $err_ty> {
                crate::payload::arguments::decode_kwargs(&self.kwargs).map_err($err)
            }

            /// Deserializes keyword argument `key` into `T`; a missing key reads as `null`, which
            /// `Option<T>` accepts.
            pub fn kwarg<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<T, $err_ty> {
                crate::payload::arguments::decode_kwarg(&self.kwargs, key).map_err($err)
            }
        }
    };
}
pub(crate) use payload_accessors;

/// Maps a payload conversion failure into the crate error.
pub(crate) fn payload_error(e: ValueError) -> Error {
    Error::Payload(e)
}

/// The arguments of a request being built: conversion errors are kept until the request is sent,
/// so that builder methods can chain.
#[derive(Debug)]
pub(crate) struct PendingArguments {
    args: Result<Vec<Value>, ValueError>,
    kwargs: Result<Dict, ValueError>,
}

impl PendingArguments {
    /// Positional arguments from a sequence; no keyword arguments yet.
    pub(crate) fn positional(args: &impl Serialize) -> Self {
        PendingArguments {
            args: positional_values(args),
            kwargs: Ok(Dict::new()),
        }
    }

    /// Replaces the keyword arguments with a struct or map.
    pub(crate) fn set_kwargs(&mut self, kwargs: &impl Serialize) {
        self.kwargs = keyword_values(kwargs);
    }

    /// Adds one keyword argument.
    pub(crate) fn add_kwarg(&mut self, key: String, value: &impl Serialize) {
        if let Ok(kwargs) = &mut self.kwargs {
            match to_value(value) {
                Ok(value) => {
                    kwargs.insert(key, value);
                }
                Err(e) => self.kwargs = Err(e),
            }
        }
    }

    /// Replaces both with prepared arguments.
    pub(crate) fn set(&mut self, arguments: Arguments) {
        self.args = Ok(arguments.args);
        self.kwargs = Ok(arguments.kwargs);
    }

    /// The arguments, or the first conversion error.
    pub(crate) fn finish(self) -> Result<(Vec<Value>, Dict), Error> {
        Ok((
            self.args.map_err(payload_error)?,
            self.kwargs.map_err(payload_error)?,
        ))
    }
}

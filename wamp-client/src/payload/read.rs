//! Reading a received payload into the types the reader asks for: straight from the received
//! bytes for a [`Payload::Raw`], from the values otherwise. Every error says which argument it
//! concerns; the caller adds whose payload it is.

use serde::de::DeserializeOwned;

use super::arguments::Arguments;
use crate::value::{ArgumentRef, Dict, Value, ValueError, from_value};
use crate::wire::{Payload, RawPayload};

/// A payload's parts, borrowed when it holds values.
enum Parts<'a> {
    Values(&'a [Value], &'a Dict),
    Raw(&'a RawPayload),
}

static NO_KWARGS: Dict = Dict::new();

/// Reads `payload` through `read`. A transparent payload reads as one positional bytes
/// argument, as [`Payload::into_parts`] has it.
fn with_parts<R>(payload: &Payload, read: impl FnOnce(Parts<'_>) -> R) -> R {
    match payload {
        Payload::Args { args, kwargs } => read(Parts::Values(args, kwargs)),
        Payload::Raw(raw) => read(Parts::Raw(raw)),
        Payload::Transparent(bytes) => {
            read(Parts::Values(&[Value::Bytes(bytes.clone())], &NO_KWARGS))
        }
        Payload::Empty => read(Parts::Values(&[], &NO_KWARGS)),
    }
}

/// Positional argument `index` as `T`, `None` when there are fewer; the error is the value's
/// own, not yet saying which argument it concerns.
pub(crate) fn arg_plain<T: DeserializeOwned>(
    payload: &Payload,
    index: usize,
) -> Result<Option<T>, ValueError> {
    with_parts(payload, |parts| match parts {
        Parts::Values(args, _) => args.get(index).cloned().map(from_value).transpose(),
        Parts::Raw(raw) => raw.arg(index),
    })
}

/// All positional arguments as `T` (a tuple, `Vec` or tuple struct); the error is the value's
/// own.
pub(crate) fn args_plain<T: DeserializeOwned>(payload: &Payload) -> Result<T, ValueError> {
    with_parts(payload, |parts| match parts {
        Parts::Values(args, _) => from_value(Value::List(args.to_vec())),
        Parts::Raw(raw) => raw
            .args()
            .unwrap_or_else(|| from_value(Value::List(Vec::new()))),
    })
}

/// Keyword argument `key` as `T`, `None` when there is none; the error is the value's own.
pub(crate) fn kwarg_plain<T: DeserializeOwned>(
    payload: &Payload,
    key: &str,
) -> Result<Option<T>, ValueError> {
    with_parts(payload, |parts| match parts {
        Parts::Values(_, kwargs) => kwargs.get(key).cloned().map(from_value).transpose(),
        Parts::Raw(raw) => raw.kwarg(key),
    })
}

/// All keyword arguments as `T` (a struct or map); the error is the value's own.
pub(crate) fn kwargs_plain<T: DeserializeOwned>(payload: &Payload) -> Result<T, ValueError> {
    with_parts(payload, |parts| match parts {
        Parts::Values(_, kwargs) => from_value(Value::Dict(kwargs.clone())),
        Parts::Raw(raw) => raw
            .kwargs()
            .unwrap_or_else(|| from_value(Value::Dict(Dict::new()))),
    })
}

/// All positional arguments as `T`.
pub(crate) fn args<T: DeserializeOwned>(payload: &Payload) -> Result<T, ValueError> {
    args_plain(payload).map_err(|e| e.at(ArgumentRef::Positional))
}

/// Positional argument `index` as `T`.
pub(crate) fn arg<T: DeserializeOwned>(payload: &Payload, index: usize) -> Result<T, ValueError> {
    match arg_plain(payload, index) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(missing(arg_count(payload), index)),
        Err(e) => Err(e.within(ArgumentRef::Index(index))),
    }
}

/// All keyword arguments as `T`.
pub(crate) fn kwargs<T: DeserializeOwned>(payload: &Payload) -> Result<T, ValueError> {
    kwargs_plain(payload).map_err(|e| e.at(ArgumentRef::Keywords))
}

/// Keyword argument `key` as `T`; a missing one reads as `null`, which `Option<T>` accepts.
pub(crate) fn kwarg<T: DeserializeOwned>(payload: &Payload, key: &str) -> Result<T, ValueError> {
    match kwarg_plain(payload, key) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => from_value(Value::Null),
        Err(e) => Err(e),
    }
    .map_err(|e| e.within(ArgumentRef::Key(key.to_owned())))
}

/// The payload as one value of type `T`, the way [`CallResult::result`](super::CallResult::result)
/// documents it: the single positional result, several as a sequence, the keyword results when
/// there are no positional ones, or nothing (`null`).
pub(crate) fn result<T: DeserializeOwned>(payload: &Payload) -> Result<T, ValueError> {
    match (arg_count(payload), kwarg_count(payload)) {
        (0, 0) => from_value(Value::Null),
        (0, _) => kwargs(payload),
        (1, _) => arg(payload, 0),
        _ => args(payload),
    }
}

/// The number of positional arguments.
pub(crate) fn arg_count(payload: &Payload) -> usize {
    match payload {
        Payload::Args { args, .. } => args.len(),
        Payload::Raw(raw) => raw.arg_count(),
        Payload::Transparent(_) => 1,
        Payload::Empty => 0,
    }
}

/// The number of keyword arguments.
pub(crate) fn kwarg_count(payload: &Payload) -> usize {
    match payload {
        Payload::Args { kwargs, .. } => kwargs.len(),
        Payload::Raw(raw) => raw.kwarg_count(),
        Payload::Transparent(_) | Payload::Empty => 0,
    }
}

/// The keyword arguments' names.
pub(crate) fn kwarg_names(payload: &Payload) -> Vec<String> {
    match payload {
        Payload::Args { kwargs, .. } => kwargs.keys().cloned().collect(),
        Payload::Raw(raw) if raw.kwarg_count() > 0 => raw.kwarg_names().unwrap_or_default(),
        Payload::Raw(_) | Payload::Transparent(_) | Payload::Empty => Vec::new(),
    }
}

/// The payload as values.
pub(crate) fn to_arguments(payload: &Payload) -> Arguments {
    Arguments::from(payload.clone().into_parts())
}

fn missing(count: usize, index: usize) -> ValueError {
    ValueError::new(format!(
        "missing (got {count} argument{})",
        if count == 1 { "" } else { "s" }
    ))
    .at(ArgumentRef::Index(index))
}

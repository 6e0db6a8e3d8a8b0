//! [`RawPayload`]: a received payload kept as the bytes of the frame it arrived in.

use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::Serializer;
use super::element;
use crate::value::{Dict, Value, ValueError};

/// The arguments of a received RESULT, EVENT or INVOCATION, kept as the bytes they arrived in.
///
/// The session reads only a message's envelope; the payload stays a shared slice of the
/// received frame (checked to be well-formed when it arrived) until its reader decodes it, on
/// the reader's own task, straight into the type asked for:
/// [`CallResult::result`](crate::CallResult::result), [`Event::arg`](crate::Event::arg),
/// a `#[service]` method's parameters and so on. Cloning it shares the frame.
#[derive(Clone)]
pub struct RawPayload {
    frame: Bytes,
    serializer: Serializer,
    args: Option<Part>,
    kwargs: Option<Part>,
}

/// Where one element (the arguments list or the keyword dictionary) lies in the frame, and how
/// many elements or entries it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) bytes: Range<usize>,
    pub(crate) len: usize,
}

impl RawPayload {
    /// A payload whose arguments list (and keyword dictionary) lie at the given places of
    /// `frame`; both were checked to be well-formed elements of that kind.
    pub(crate) fn new(
        frame: Bytes,
        serializer: Serializer,
        args: Part,
        kwargs: Option<Part>,
    ) -> Self {
        RawPayload {
            frame,
            serializer,
            args: Some(args),
            kwargs,
        }
    }

    /// The serializer the bytes are in.
    pub fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// The number of positional arguments.
    pub fn arg_count(&self) -> usize {
        self.args.as_ref().map_or(0, |part| part.len)
    }

    /// The number of keyword arguments.
    pub fn kwarg_count(&self) -> usize {
        self.kwargs.as_ref().map_or(0, |part| part.len)
    }

    /// The encoded arguments list, if there is one.
    pub(crate) fn args_bytes(&self) -> Option<&[u8]> {
        self.element(self.args.as_ref())
    }

    /// The encoded keyword dictionary, if there is one.
    pub(crate) fn kwargs_bytes(&self) -> Option<&[u8]> {
        self.element(self.kwargs.as_ref())
    }

    fn element(&self, part: Option<&Part>) -> Option<&[u8]> {
        part.and_then(|part| self.frame.get(part.bytes.clone()))
    }

    /// All positional arguments as `T` (`None`: there is no arguments list).
    pub(crate) fn args<T: DeserializeOwned>(&self) -> Option<Result<T, ValueError>> {
        self.args_bytes()
            .map(|bytes| element::decode(self.serializer, bytes))
    }

    /// Positional argument `index` as `T`; `Ok(None)` when there are fewer.
    pub(crate) fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<Option<T>, ValueError> {
        match self.args_bytes() {
            Some(bytes) if index < self.arg_count() => {
                element::decode_nth(self.serializer, bytes, index)
            }
            _ => Ok(None),
        }
    }

    /// All keyword arguments as `T` (`None`: there is no keyword dictionary).
    pub(crate) fn kwargs<T: DeserializeOwned>(&self) -> Option<Result<T, ValueError>> {
        self.kwargs_bytes()
            .map(|bytes| element::decode(self.serializer, bytes))
    }

    /// Keyword argument `key` as `T`; `Ok(None)` when there is none.
    pub(crate) fn kwarg<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ValueError> {
        match self.kwargs_bytes() {
            Some(bytes) => element::decode_entry(self.serializer, bytes, key),
            None => Ok(None),
        }
    }

    /// The keyword arguments' names.
    pub(crate) fn kwarg_names(&self) -> Result<Vec<String>, ValueError> {
        Ok(self.to_values()?.1.into_keys().collect())
    }

    /// The payload as [`Value`]s: positional and keyword arguments.
    pub fn to_values(&self) -> Result<(Vec<Value>, Dict), ValueError> {
        let args = match self.args_bytes() {
            Some(bytes) => match element::to_value(self.serializer, bytes)? {
                Value::List(args) => args,
                other => {
                    return Err(ValueError::new(format!(
                        "expected a list, found {}",
                        other.kind()
                    )));
                }
            },
            None => Vec::new(),
        };
        let kwargs = match self.kwargs_bytes() {
            Some(bytes) => element::to_dict(self.serializer, bytes)?,
            None => Dict::new(),
        };
        Ok((args, kwargs))
    }
}

impl fmt::Debug for RawPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_values() {
            Ok((args, kwargs)) => f
                .debug_struct("RawPayload")
                .field("serializer", &self.serializer)
                .field("args", &args)
                .field("kwargs", &kwargs)
                .finish(),
            Err(e) => f
                .debug_struct("RawPayload")
                .field("serializer", &self.serializer)
                .field("unreadable", &e)
                .finish(),
        }
    }
}

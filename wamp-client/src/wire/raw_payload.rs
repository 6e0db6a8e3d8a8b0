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
    places: Places,
}

/// Where the arguments list and the keyword dictionary lie in the frame, and their lengths: `u32`s, as every message a session accepts is far smaller, to keep
/// the payload (which results, events and invocations carry and move) small.
#[derive(Clone, Copy)]
pub(crate) struct Places {
    args_start: u32,
    args_end: u32,
    kwargs_start: u32,
    /// `kwargs_start` when there is no keyword dictionary.
    kwargs_end: u32,
    arg_count: u32,
    kwarg_count: u32,
}

impl Places {
    /// The places of an arguments list (and keyword dictionary, after it), both checked to be
    /// well-formed elements of that kind. `None` if they do not fit the compact form (beyond
    /// 4 GiB, or out of order).
    #[inline(always)]
    pub(crate) fn new(args: Part, kwargs: Option<Part>) -> Option<Self> {
        let u32_of = |n: usize| u32::try_from(n).ok();
        let kwargs = kwargs.unwrap_or(Part {
            bytes: args.bytes.end..args.bytes.end,
            len: 0,
        });
        let places = Places {
            args_start: u32_of(args.bytes.start)?,
            args_end: u32_of(args.bytes.end)?,
            kwargs_start: u32_of(kwargs.bytes.start)?,
            kwargs_end: u32_of(kwargs.bytes.end)?,
            arg_count: u32_of(args.len)?,
            kwarg_count: u32_of(kwargs.len)?,
        };
        let ordered = places.args_start <= places.args_end
            && places.args_end <= places.kwargs_start
            && places.kwargs_start <= places.kwargs_end;
        ordered.then_some(places)
    }
}

/// Where one element (the arguments list or the keyword dictionary) lies in the frame, and how
/// many elements or entries it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) bytes: Range<usize>,
    pub(crate) len: usize,
}

impl RawPayload {
    /// A payload whose arguments lie at `places` of `frame` (see [`Places::new`]).
    pub(crate) fn new(frame: Bytes, serializer: Serializer, places: Places) -> Self {
        RawPayload {
            frame,
            serializer,
            places,
        }
    }

    /// The serializer the bytes are in.
    pub fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// The number of positional arguments.
    pub fn arg_count(&self) -> usize {
        self.places.arg_count as usize
    }

    /// The number of keyword arguments.
    pub fn kwarg_count(&self) -> usize {
        self.places.kwarg_count as usize
    }

    /// The encoded arguments list.
    pub(crate) fn args_bytes(&self) -> Option<&[u8]> {
        self.frame
            .get(self.places.args_start as usize..self.places.args_end as usize)
    }

    /// The encoded keyword dictionary, if there is one.
    pub(crate) fn kwargs_bytes(&self) -> Option<&[u8]> {
        if self.places.kwargs_end == self.places.kwargs_start {
            return None;
        }
        self.frame
            .get(self.places.kwargs_start as usize..self.places.kwargs_end as usize)
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

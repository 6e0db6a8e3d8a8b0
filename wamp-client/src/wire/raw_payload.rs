//! [`RawPayload`]: a received payload kept as the bytes of the frame it arrived in.

use std::fmt;
use std::ops::Range;

use bytes::{Buf, Bytes};
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
    /// The received frame, viewed from the arguments list on.
    bytes: Bytes,
    serializer: Serializer,
    spans: Spans,
}

/// Where a payload begins in its frame (at the arguments list), and where its parts lie from
/// there.
#[derive(Clone, Copy)]
pub(crate) struct Places {
    start: u32,
    spans: Spans,
}

/// Where the arguments list and the keyword dictionary lie in a payload's bytes (which begin
/// with the arguments list), and their lengths: `u32`s, as every message a session accepts is
/// far smaller. Kept small with the payload (results, events and invocations carry and move
/// it): see the size test below.
#[derive(Clone, Copy)]
struct Spans {
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
        let start = args.bytes.start;
        // Relative to the start; `None` if before it.
        let at = |n: usize| u32::try_from(n.checked_sub(start)?).ok();
        let kwargs = kwargs.unwrap_or(Part {
            bytes: args.bytes.end..args.bytes.end,
            len: 0,
        });
        let spans = Spans {
            args_end: at(args.bytes.end)?,
            kwargs_start: at(kwargs.bytes.start)?,
            kwargs_end: at(kwargs.bytes.end)?,
            arg_count: u32::try_from(args.len).ok()?,
            kwarg_count: u32::try_from(kwargs.len).ok()?,
        };
        let ordered =
            spans.args_end <= spans.kwargs_start && spans.kwargs_start <= spans.kwargs_end;
        ordered.then_some(Places {
            start: u32::try_from(start).ok()?,
            spans,
        })
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
    pub(crate) fn new(mut frame: Bytes, serializer: Serializer, places: Places) -> Self {
        // Moves the view, not the bytes. (Never beyond the end: a wrong place reads nothing.)
        frame.advance((places.start as usize).min(frame.len()));
        RawPayload {
            bytes: frame,
            serializer,
            spans: places.spans,
        }
    }

    /// The serializer the bytes are in.
    pub fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// The number of positional arguments.
    pub fn arg_count(&self) -> usize {
        self.spans.arg_count as usize
    }

    /// The number of keyword arguments.
    pub fn kwarg_count(&self) -> usize {
        self.spans.kwarg_count as usize
    }

    /// The encoded arguments list.
    pub(crate) fn args_bytes(&self) -> Option<&[u8]> {
        self.bytes.get(..self.spans.args_end as usize)
    }

    /// The encoded keyword dictionary, if there is one.
    pub(crate) fn kwargs_bytes(&self) -> Option<&[u8]> {
        if self.spans.kwargs_end == self.spans.kwargs_start {
            return None;
        }
        self.bytes
            .get(self.spans.kwargs_start as usize..self.spans.kwargs_end as usize)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Payload;

    #[test]
    fn a_payload_takes_seven_words_and_the_message_enum_no_more() {
        // Results, events and invocations move their payload a few times on the way to their
        // reader; `event_queue` counts on these sizes for its copies (see its size test).
        assert_eq!(std::mem::size_of::<RawPayload>(), 56);
        assert_eq!(std::mem::size_of::<Payload>(), 56);
    }

    #[cfg(feature = "json")]
    #[test]
    fn a_payload_reads_its_parts_after_the_envelope_is_left_behind() {
        // [36, 5, 6, {}, [1, 2], {"a": 3}] in JSON: the list at 15..21, the dict at 23..31.
        let frame = Bytes::from_static(br#"[36, 5, 6, {}, [1, 2], {"a": 3}]"#);
        let places = Places::new(
            Part {
                bytes: 15..21,
                len: 2,
            },
            Some(Part {
                bytes: 23..31,
                len: 1,
            }),
        )
        .unwrap();
        let payload = RawPayload::new(frame, Serializer::Json, places);
        assert_eq!(payload.args_bytes(), Some(&b"[1, 2]"[..]));
        assert_eq!(payload.kwargs_bytes(), Some(&br#"{"a": 3}"#[..]));
        assert_eq!(payload.arg::<u64>(1).unwrap(), Some(2));
        assert_eq!(payload.kwarg::<u64>("a").unwrap(), Some(3));
        assert_eq!((payload.arg_count(), payload.kwarg_count()), (2, 1));
    }

    #[test]
    fn places_out_of_order_or_beyond_u32_are_refused() {
        let part = |bytes: Range<usize>| Part { bytes, len: 1 };
        assert!(Places::new(part(5..9), Some(part(4..6))).is_none());
        assert!(Places::new(part(Range { start: 5, end: 4 }), None).is_none());
        assert!(Places::new(part(0..(u32::MAX as usize + 1)), None).is_none());
        assert!(
            Places::new(part((u32::MAX as usize + 1)..(u32::MAX as usize + 2)), None).is_none()
        );
    }

    #[test]
    fn places_beyond_the_frame_read_nothing() {
        let places = Places::new(
            Part {
                bytes: 40..50,
                len: 1,
            },
            None,
        )
        .unwrap();
        let payload = RawPayload::new(Bytes::from_static(b"[1]"), Serializer::Json, places);
        assert_eq!(payload.args_bytes(), None);
        assert_eq!(payload.arg::<u64>(0).unwrap(), None);
    }
}

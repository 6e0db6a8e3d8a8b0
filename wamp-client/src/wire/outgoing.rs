//! Outgoing arguments encoded straight from the caller's type into the session's serializer, in
//! the caller's task: no [`Value`] tree in between, and the session task splices the bytes into
//! the message (see `encode`).
//!
//! [`to_value`](crate::value::to_value) gives every `Serialize` type its meaning as WAMP data
//! (non-negative integers unsigned, structs and maps as dictionaries with string keys, enums
//! externally tagged, 128-bit integers only within 64 bits, human-readable forms). `data::WampData`
//! writes the same data into the serializer it wraps, so that what the router receives does not
//! depend on which path encoded it; the tests hold the two paths to the same bytes.

use std::cell::{Cell, RefCell};

use bytes::Bytes;
use serde::Serialize;

use super::raw_payload::{Part, Places, RawPayload};
use super::serializer::Serializer;
use crate::value::{Dict, Value, ValueError};
use data::Data;

thread_local! {
    /// Where arguments are encoded before they are copied into an allocation of exactly their
    /// size, which becomes the payload's buffer as it is (one with room to spare would take a
    /// second allocation to share).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The capacity of the scratch buffer a thread keeps between encodings.
const SCRATCH_KEPT: usize = 64 * 1024;

/// Positional arguments encoded in one serializer, keyword arguments not yet added.
#[derive(Debug)]
pub(crate) struct EncodedArgs {
    serializer: Serializer,
    /// The arguments list (an empty list for none).
    bytes: Vec<u8>,
    count: usize,
}

/// Keyword arguments encoded in one serializer: a dictionary (none for no entries).
#[derive(Debug)]
pub(crate) struct EncodedKwargs {
    serializer: Serializer,
    /// The dictionary; empty for no keyword arguments.
    bytes: Vec<u8>,
    count: usize,
}

/// Keyword arguments to add after encoded positional ones.
pub(crate) enum KwargsPart<'a> {
    /// As values, encoded now.
    Values(&'a Dict),
    /// Encoded already, in the same serializer.
    Encoded(&'a EncodedKwargs),
}

/// Why arguments could not be encoded: `to_value`'s error, and for positional arguments the
/// index of the one that failed, when it was one of them (a stub names it).
#[derive(Debug)]
pub(crate) struct EncodeFailure {
    pub(crate) error: ValueError,
    pub(crate) index: Option<usize>,
}

/// What the top level of the encoded arguments serialized as.
#[derive(PartialEq)]
enum Top {
    List,
    Map,
    Null,
    Other,
}

impl EncodedArgs {
    /// Encodes `args`, which must serialize as a sequence (or as unit or `None`: no arguments).
    /// `Ok(None)` when they are something else, or this build cannot encode in `serializer`:
    /// converted into values instead, they fail with the explanation. An error for anything
    /// `to_value` refuses, with its message.
    pub(crate) fn encode(
        serializer: Serializer,
        args: &(impl Serialize + ?Sized),
    ) -> Result<Option<Self>, EncodeFailure> {
        let encoded = with_scratch(|scratch| encode_top(serializer, args, scratch, Top::List))?;
        Ok(encoded.and_then(|(top, bytes, count)| match top {
            Top::List => Some(EncodedArgs {
                serializer,
                bytes,
                count,
            }),
            Top::Null => {
                let mut bytes = Vec::new();
                write_empty_list(serializer, &mut bytes);
                Some(EncodedArgs {
                    serializer,
                    bytes,
                    count: 0,
                })
            }
            Top::Map | Top::Other => None,
        }))
    }

    /// The serializer these arguments are encoded in.
    pub(crate) fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// The payload of these arguments and `kwargs` (encoded after them here): empty for
    /// neither.
    pub(crate) fn into_payload(
        mut self,
        kwargs: KwargsPart<'_>,
    ) -> Result<super::Payload, ValueError> {
        let kwargs_len = match kwargs {
            KwargsPart::Values(dict) => dict.len(),
            KwargsPart::Encoded(encoded) => encoded.count,
        };
        if self.count == 0 && kwargs_len == 0 {
            return Ok(super::Payload::Empty);
        }
        let args_end = self.bytes.len();
        let kwargs_part = if kwargs_len == 0 {
            None
        } else {
            if self.serializer == Serializer::Json {
                self.bytes.push(b',');
            }
            let start = self.bytes.len();
            match kwargs {
                KwargsPart::Values(dict) => {
                    match write(self.serializer, &mut self.bytes, dict, None) {
                        Some(result) => result.map_err(|failure| failure.error)?,
                        None => return Err(ValueError::new("serializer not available")),
                    }
                }
                KwargsPart::Encoded(encoded) if encoded.serializer == self.serializer => {
                    self.bytes.extend_from_slice(&encoded.bytes);
                }
                KwargsPart::Encoded(_) => {
                    return Err(ValueError::new(
                        "keyword arguments encoded in another serializer",
                    ));
                }
            }
            Some(Part {
                bytes: start..self.bytes.len(),
                len: kwargs_len,
            })
        };
        let args = Part {
            bytes: 0..args_end,
            len: self.count,
        };
        // Exactly their size again (see `SCRATCH`).
        self.bytes.shrink_to_fit();
        let (serializer, frame) = (self.serializer, Bytes::from(self.bytes));
        // Places are 32-bit: far beyond what a router takes (RawSocket allows 16 MiB at most).
        let places = Places::new(args, kwargs_part).ok_or_else(|| {
            ValueError::new("arguments of 4 GiB or more cannot be sent in one message")
        })?;
        Ok(super::Payload::Raw(RawPayload::new(
            frame, serializer, places,
        )))
    }
}

impl EncodedKwargs {
    /// Encodes `kwargs`, which must serialize as a map or struct (or as unit or `None`: no
    /// keyword arguments). `Ok(None)` when they are something else, or this build cannot encode
    /// in `serializer`: converted into values instead, they fail with the explanation. An error
    /// for anything `to_value` refuses, with its message.
    pub(crate) fn encode(
        serializer: Serializer,
        kwargs: &(impl Serialize + ?Sized),
    ) -> Result<Option<Self>, ValueError> {
        let encoded = with_scratch(|scratch| encode_top(serializer, kwargs, scratch, Top::Map))
            .map_err(|failure| failure.error)?;
        Ok(encoded.and_then(|(top, bytes, count)| match top {
            Top::Map => Some(EncodedKwargs {
                serializer,
                bytes,
                count,
            }),
            Top::Null => Some(EncodedKwargs {
                serializer,
                bytes: Vec::new(),
                count: 0,
            }),
            Top::List | Top::Other => None,
        }))
    }

    /// The keyword arguments as values (when they are to go with arguments given as values).
    pub(crate) fn to_dict(&self) -> Result<Dict, ValueError> {
        if self.count == 0 {
            return Ok(Dict::new());
        }
        match self.serializer.decode_value(&self.bytes) {
            Ok(Value::Dict(dict)) => Ok(dict),
            Ok(other) => Err(ValueError::new(format!(
                "keyword arguments encoded as {}",
                crate::value::with_article(other.kind())
            ))),
            Err(e) => Err(ValueError::new(e.to_string())),
        }
    }
}

/// Runs `encode` with this thread's scratch buffer (a fresh one when it is in use: encoding
/// from within a `Serialize` implementation that is being encoded).
fn with_scratch<R>(encode: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            scratch.clear();
            let result = encode(&mut scratch);
            if scratch.capacity() > SCRATCH_KEPT {
                *scratch = Vec::new();
            }
            result
        }
        Err(_) => encode(&mut Vec::new()),
    })
}

/// Encodes `value` in `buffer`: what its top level is, and how many elements or entries that
/// has; the bytes copied out into an allocation of their size when the top level is `wanted`
/// (empty otherwise). `None` if this build lacks the serializer.
fn encode_top(
    serializer: Serializer,
    value: &(impl Serialize + ?Sized),
    buffer: &mut Vec<u8>,
    wanted: Top,
) -> Result<Option<(Top, Vec<u8>, usize)>, EncodeFailure> {
    let count = Cell::new(0);
    let Some(result) = write(serializer, buffer, value, Some(&count)) else {
        return Ok(None);
    };
    result?;
    let top = top(serializer, buffer);
    let bytes = if top == wanted {
        buffer.as_slice().to_vec()
    } else {
        Vec::new()
    };
    Ok(Some((top, bytes, count.get())))
}

/// Writes `value` as WAMP data into `out` in `serializer`, counting the elements or entries of
/// its top level into `count`. `None` if this build lacks the serializer.
fn write(
    serializer: Serializer,
    out: &mut Vec<u8>,
    value: &(impl Serialize + ?Sized),
    count: Option<&Cell<usize>>,
) -> Option<Result<(), EncodeFailure>> {
    let error = Cell::new(None);
    let data = |json| Data::new(value, json, &error, count);
    let result: Option<Result<(), String>> = match serializer {
        #[cfg(feature = "json")]
        Serializer::Json => {
            Some(serde_json::to_writer(&mut *out, &data(true)).map_err(|e| e.to_string()))
        }
        #[cfg(feature = "msgpack")]
        Serializer::MsgPack => Some(
            data(false)
                .serialize(&mut rmp_serde::Serializer::new(&mut *out))
                .map_err(|e| e.to_string()),
        ),
        #[cfg(feature = "cbor")]
        Serializer::Cbor => {
            Some(ciborium::into_writer(&data(false), &mut *out).map_err(|e| e.to_string()))
        }
        #[allow(unreachable_patterns)]
        _ => {
            let _ = (data, out);
            None
        }
    };
    let error = match (result?, error.take()) {
        (Ok(()), None) => return Some(Ok(())),
        (_, Some(e)) => e,
        (Err(e), None) => ValueError::new(e),
    };
    // The element being written when it failed: the count is raised as each one starts.
    let index = count.and_then(|count| count.get().checked_sub(1));
    Some(Err(EncodeFailure { error, index }))
}

fn top(serializer: Serializer, bytes: &[u8]) -> Top {
    let first = bytes.first().copied().unwrap_or(0);
    match serializer {
        Serializer::Json if first == b'[' => Top::List,
        Serializer::Json if first == b'{' => Top::Map,
        Serializer::Json if first == b'n' => Top::Null,
        Serializer::MsgPack if matches!(first, 0x90..=0x9f | 0xdc | 0xdd) => Top::List,
        Serializer::MsgPack if matches!(first, 0x80..=0x8f | 0xde | 0xdf) => Top::Map,
        Serializer::MsgPack if first == 0xc0 => Top::Null,
        Serializer::Cbor if matches!(first, 0x80..=0x9f) => Top::List,
        Serializer::Cbor if matches!(first, 0xa0..=0xbf) => Top::Map,
        Serializer::Cbor if first == 0xf6 => Top::Null,
        _ => Top::Other,
    }
}

fn write_empty_list(serializer: Serializer, out: &mut Vec<u8>) {
    match serializer {
        Serializer::Json => out.extend_from_slice(b"[]"),
        Serializer::MsgPack => out.push(0x90),
        Serializer::Cbor => out.push(0x80),
    }
}

mod data;

#[cfg(test)]
#[path = "outgoing_tests.rs"]
mod tests;

//! Encoding: a [`Message`] serializes as the WAMP array, straight into any serde serializer,
//! without building an intermediate value tree.

use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::message::{Message, Payload};
use crate::value::{Dict, JsonCompatible, Value};

/// A message ready for one serializer. `json` selects the WAMP binary convention for bytes.
pub(crate) struct WireMessage<'a> {
    pub(crate) message: &'a Message,
    pub(crate) json: bool,
    /// Whether the payload's elements are left out, counted in the array's length but appended
    /// by the caller: arguments already encoded in this serializer (see [`spliced`]).
    pub(crate) splice: bool,
}

/// The payload of `message` if it is already encoded in `serializer`: its bytes go into the
/// frame as they are, after the rest of the message.
pub(crate) fn spliced(
    message: &Message,
    serializer: super::Serializer,
) -> Option<&super::RawPayload> {
    match layout(message).1 {
        Some(Payload::Raw(raw)) if raw.serializer() == serializer => Some(raw),
        _ => None,
    }
}

/// The number of elements before the payload, and the payload, if the message has one.
fn layout(m: &Message) -> (usize, Option<&Payload>) {
    match m {
        Message::Hello { .. }
        | Message::Welcome { .. }
        | Message::Challenge { .. }
        | Message::Authenticate { .. }
        | Message::Goodbye { .. }
        | Message::Published { .. }
        | Message::Subscribed { .. }
        | Message::Unsubscribe { .. }
        | Message::Cancel { .. }
        | Message::Registered { .. }
        | Message::Unregister { .. }
        | Message::Interrupt { .. } => (3, None),
        Message::Subscribe { .. } | Message::Register { .. } => (4, None),
        Message::Unsubscribed { details, .. } | Message::Unregistered { details, .. } => {
            (if details.is_some() { 3 } else { 2 }, None)
        }
        Message::EventReceived { .. } => (2, None),
        Message::Abort { payload, .. }
        | Message::Result { payload, .. }
        | Message::Yield { payload, .. } => (3, Some(payload)),
        Message::Publish { payload, .. }
        | Message::Event { payload, .. }
        | Message::Call { payload, .. }
        | Message::Invocation { payload, .. } => (4, Some(payload)),
        Message::Error { payload, .. } => (5, Some(payload)),
    }
}

/// A value serialized for the target format.
struct Field<'a> {
    value: &'a Value,
    json: bool,
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.json {
            JsonCompatible(self.value).serialize(s)
        } else {
            self.value.serialize(s)
        }
    }
}

struct DictField<'a> {
    dict: &'a Dict,
    json: bool,
}

impl Serialize for DictField<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.dict.len()))?;
        for (k, v) in self.dict {
            map.serialize_entry(
                k,
                &Field {
                    value: v,
                    json: self.json,
                },
            )?;
        }
        map.end()
    }
}

struct ListField<'a> {
    list: &'a [Value],
    json: bool,
}

impl Serialize for ListField<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.list.len()))?;
        for v in self.list {
            seq.serialize_element(&Field {
                value: v,
                json: self.json,
            })?;
        }
        seq.end()
    }
}

struct BytesField<'a> {
    bytes: &'a [u8],
    json: bool,
}

impl Serialize for BytesField<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.json {
            s.serialize_str(&crate::value::encode_json_binary(self.bytes))
        } else {
            s.serialize_bytes(self.bytes)
        }
    }
}

/// How many array elements the payload adds.
fn payload_len(payload: &Payload) -> usize {
    match payload {
        Payload::Empty => 0,
        Payload::Transparent(_) => 1,
        Payload::Raw(raw) if raw.kwarg_count() > 0 => 2,
        Payload::Raw(_) => 1,
        Payload::Args { kwargs, .. } if !kwargs.is_empty() => 2,
        Payload::Args { args, .. } if !args.is_empty() => 1,
        Payload::Args { .. } => 0,
    }
}

impl Serialize for WireMessage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let json = self.json;
        let dict = |d| DictField { dict: d, json };
        let m = self.message;
        let (fixed, payload) = layout(m);
        let len = fixed + payload.map_or(0, payload_len);
        let mut seq = s.serialize_seq(Some(len))?;
        seq.serialize_element(&m.code())?;
        match m {
            Message::Hello { realm, details } => {
                seq.serialize_element(realm)?;
                seq.serialize_element(&dict(details))?;
            }
            Message::Welcome { session, details } => {
                seq.serialize_element(session)?;
                seq.serialize_element(&dict(details))?;
            }
            Message::Abort {
                details, reason, ..
            }
            | Message::Goodbye { details, reason } => {
                seq.serialize_element(&dict(details))?;
                seq.serialize_element(reason)?;
            }
            Message::Challenge { method, extra } => {
                seq.serialize_element(method)?;
                seq.serialize_element(&dict(extra))?;
            }
            Message::Authenticate { signature, extra } => {
                seq.serialize_element(signature)?;
                seq.serialize_element(&dict(extra))?;
            }
            Message::Error {
                request_type,
                request,
                details,
                error,
                ..
            } => {
                seq.serialize_element(request_type)?;
                seq.serialize_element(request)?;
                seq.serialize_element(&dict(details))?;
                seq.serialize_element(error)?;
            }
            Message::Publish {
                request,
                options,
                topic: uri,
                ..
            }
            | Message::Subscribe {
                request,
                options,
                topic: uri,
            }
            | Message::Call {
                request,
                options,
                procedure: uri,
                ..
            }
            | Message::Register {
                request,
                options,
                procedure: uri,
            } => {
                seq.serialize_element(request)?;
                seq.serialize_element(&dict(options))?;
                seq.serialize_element(uri)?;
            }
            Message::Published {
                request,
                publication: id,
            }
            | Message::Subscribed {
                request,
                subscription: id,
            }
            | Message::Unsubscribe {
                request,
                subscription: id,
            }
            | Message::Registered {
                request,
                registration: id,
            }
            | Message::Unregister {
                request,
                registration: id,
            } => {
                seq.serialize_element(request)?;
                seq.serialize_element(id)?;
            }
            Message::Unsubscribed { request, details }
            | Message::Unregistered { request, details } => {
                seq.serialize_element(request)?;
                if let Some(details) = details {
                    seq.serialize_element(&dict(details))?;
                }
            }
            Message::Event {
                subscription: first,
                publication: second,
                details,
                ..
            }
            | Message::Invocation {
                request: first,
                registration: second,
                details,
                ..
            } => {
                seq.serialize_element(first)?;
                seq.serialize_element(second)?;
                seq.serialize_element(&dict(details))?;
            }
            Message::Cancel {
                request,
                options: dict_field,
            }
            | Message::Interrupt {
                request,
                options: dict_field,
            }
            | Message::Result {
                request,
                details: dict_field,
                ..
            }
            | Message::Yield {
                request,
                options: dict_field,
                ..
            } => {
                seq.serialize_element(request)?;
                seq.serialize_element(&dict(dict_field))?;
            }
            Message::EventReceived { publication } => {
                seq.serialize_element(publication)?;
            }
        }
        if let Some(payload) = payload.filter(|_| !self.splice) {
            match payload {
                Payload::Empty => {}
                Payload::Transparent(bytes) => {
                    seq.serialize_element(&BytesField { bytes, json })?;
                }
                Payload::Raw(raw) => {
                    // Received bytes sent on: decoded into values, to be encoded in this
                    // message's serializer.
                    let (args, kwargs) = raw.to_values().map_err(serde::ser::Error::custom)?;
                    seq.serialize_element(&ListField { list: &args, json })?;
                    if raw.kwarg_count() > 0 {
                        seq.serialize_element(&DictField {
                            dict: &kwargs,
                            json,
                        })?;
                    }
                }
                Payload::Args { args, kwargs } => {
                    if !args.is_empty() || !kwargs.is_empty() {
                        seq.serialize_element(&ListField { list: args, json })?;
                    }
                    if !kwargs.is_empty() {
                        seq.serialize_element(&dict(kwargs))?;
                    }
                }
            }
        }
        seq.end()
    }
}

//! Structural validation: a decoded array of [`Value`]s becomes a [`Message`], or an
//! [`InvalidMessage`] that says exactly what is wrong. Nothing here can panic on peer input.

use super::message::{Id, MAX_ID, Message, Payload, code, message_name};
use super::validate::check_known_keys;
use crate::value::{Dict, Value};

/// Why bytes received from the peer are not a valid WAMP message.
///
/// A session answers any of these with `ABORT wamp.error.protocol_violation`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidMessage {
    /// The serializer could not decode the bytes at all.
    #[error("cannot decode {serializer} data: {reason}")]
    Syntax {
        /// The serializer's name (`json`, `msgpack`, `cbor`).
        serializer: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
    /// The data decoded, but is not a non-empty array starting with an integer type code.
    #[error("a WAMP message must be a non-empty array starting with an integer type code, got {0}")]
    NotAMessage(String),
    /// The type code is not one this client knows.
    #[error("unknown WAMP message type code {0}")]
    UnknownType(u64),
    /// The message has a number of elements its type does not allow.
    #[error("{message} message with {got} elements (expected {expected})")]
    Arity {
        /// The message's name.
        message: &'static str,
        /// The number of elements received (type code included).
        got: usize,
        /// The allowed lengths, e.g. `"4 to 6"`.
        expected: &'static str,
    },
    /// A field has the wrong type or an illegal value.
    #[error("{message} message: {field} {problem}")]
    Field {
        /// The message's name.
        message: &'static str,
        /// The field, e.g. `Request|id` or `Options.acknowledge`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Reads fields off a message array from left to right.
struct Fields {
    name: &'static str,
    items: std::vec::IntoIter<Value>,
}

impl Fields {
    fn field_error(&self, field: &str, problem: impl Into<String>) -> InvalidMessage {
        InvalidMessage::Field {
            message: self.name,
            field: field.to_owned(),
            problem: problem.into(),
        }
    }

    fn next(&mut self, field: &str) -> Result<Value, InvalidMessage> {
        self.items
            .next()
            .ok_or_else(|| self.field_error(field, "is missing"))
    }

    fn id(&mut self, field: &str) -> Result<Id, InvalidMessage> {
        let value = self.next(field)?;
        match value.as_u64() {
            Some(id @ 1..=MAX_ID) if !matches!(value, Value::Float(_)) => Ok(id),
            _ => Err(self.field_error(
                field,
                format!("must be an id in 1..=2^53, got {}", describe(&value)),
            )),
        }
    }

    fn integer(&mut self, field: &str) -> Result<u64, InvalidMessage> {
        let value = self.next(field)?;
        match value {
            Value::UInt(n) => Ok(n),
            other => Err(self.field_error(
                field,
                format!("must be a non-negative integer, got {}", describe(&other)),
            )),
        }
    }

    fn string(&mut self, field: &str) -> Result<String, InvalidMessage> {
        match self.next(field)? {
            Value::String(s) => Ok(s),
            other => {
                Err(self.field_error(field, format!("must be a string, got {}", describe(&other))))
            }
        }
    }

    fn uri(&mut self, field: &str) -> Result<String, InvalidMessage> {
        let s = self.string(field)?;
        if s.is_empty() {
            return Err(self.field_error(field, "must be a non-empty URI"));
        }
        Ok(s)
    }

    fn dict(&mut self, field: &str) -> Result<Dict, InvalidMessage> {
        match self.next(field)? {
            Value::Dict(d) => Ok(d),
            other => {
                Err(self.field_error(field, format!("must be a dict, got {}", describe(&other))))
            }
        }
    }

    /// A dict whose well-known keys are checked for their types.
    fn checked_dict(&mut self, field: &str) -> Result<Dict, InvalidMessage> {
        let dict = self.dict(field)?;
        check_known_keys(&dict)
            .map_err(|(key, problem)| self.field_error(&format!("{field}.{key}"), problem))?;
        Ok(dict)
    }

    /// The optional trailing `Arguments|list` and `ArgumentsKw|dict`. `transparent_allowed` says
    /// whether the options/details announced an encrypted or passthru payload (one binary element).
    fn payload(&mut self, transparent_allowed: bool) -> Result<Payload, InvalidMessage> {
        let Some(first) = self.items.next() else {
            return Ok(Payload::Empty);
        };
        let args = match first {
            Value::List(args) => args,
            Value::Bytes(bytes) if transparent_allowed => {
                if self.items.next().is_some() {
                    return Err(self
                        .field_error("ArgumentsKw", "must be absent after a transparent payload"));
                }
                return Ok(Payload::Transparent(bytes));
            }
            other => {
                return Err(self.field_error(
                    "Arguments",
                    format!("must be a list, got {}", describe(&other)),
                ));
            }
        };
        let kwargs = match self.items.next() {
            None => Dict::new(),
            Some(Value::Dict(kwargs)) => kwargs,
            Some(other) => {
                return Err(self.field_error(
                    "ArgumentsKw",
                    format!("must be a dict, got {}", describe(&other)),
                ));
            }
        };
        Ok(Payload::new(args, kwargs))
    }
}

/// The kind of a received value and the start of its text, for an error message.
pub(super) fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 40 {
        let mut end = 40;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{} {}…", value.kind(), text.get(..end).unwrap_or_default())
    } else {
        format!("{} {text}", value.kind())
    }
}

fn has_transparent_marker(dict: &Dict) -> bool {
    dict.contains_key("enc_algo") || dict.contains_key("ppt_scheme")
}

/// Checks the array length against the inclusive range `min..=max`.
fn check_arity(
    name: &'static str,
    len: usize,
    min: usize,
    max: usize,
    expected: &'static str,
) -> Result<(), InvalidMessage> {
    if (min..=max).contains(&len) {
        Ok(())
    } else {
        Err(InvalidMessage::Arity {
            message: name,
            got: len,
            expected,
        })
    }
}

/// Turns a decoded value into a message, validating arity and field types.
pub fn message_from_value(value: Value) -> Result<Message, InvalidMessage> {
    let items = match value {
        Value::List(items) => items,
        other => return Err(InvalidMessage::NotAMessage(describe(&other))),
    };
    let len = items.len();
    let mut iter = items.into_iter();
    let type_code = match iter.next() {
        Some(Value::UInt(n)) => n,
        Some(other) => return Err(InvalidMessage::NotAMessage(describe(&other))),
        None => return Err(InvalidMessage::NotAMessage("an empty array".into())),
    };
    let name = message_name(type_code);
    let mut f = Fields { name, items: iter };
    let arity = |min, max, expected| check_arity(name, len, min, max, expected);

    let message = match type_code {
        code::HELLO => {
            arity(3, 3, "3")?;
            Message::Hello {
                realm: f.uri("Realm|uri")?,
                details: f.dict("Details|dict")?,
            }
        }
        code::WELCOME => {
            arity(3, 3, "3")?;
            Message::Welcome {
                session: f.id("Session|id")?,
                details: f.dict("Details|dict")?,
            }
        }
        code::ABORT => {
            arity(3, 5, "3 to 5")?;
            Message::Abort {
                details: f.dict("Details|dict")?,
                reason: f.uri("Reason|uri")?,
                payload: f.payload(false)?,
            }
        }
        code::CHALLENGE => {
            arity(3, 3, "3")?;
            Message::Challenge {
                method: f.string("AuthMethod|string")?,
                extra: f.dict("Extra|dict")?,
            }
        }
        code::AUTHENTICATE => {
            arity(3, 3, "3")?;
            Message::Authenticate {
                signature: f.string("Signature|string")?,
                extra: f.dict("Extra|dict")?,
            }
        }
        code::GOODBYE => {
            arity(3, 3, "3")?;
            Message::Goodbye {
                details: f.dict("Details|dict")?,
                reason: f.uri("Reason|uri")?,
            }
        }
        code::ERROR => {
            arity(5, 7, "5 to 7")?;
            let request_type = f.integer("REQUEST.Type|int")?;
            if !matches!(
                request_type,
                code::PUBLISH
                    | code::SUBSCRIBE
                    | code::UNSUBSCRIBE
                    | code::CALL
                    | code::REGISTER
                    | code::UNREGISTER
                    | code::INVOCATION
            ) {
                return Err(f.field_error(
                    "REQUEST.Type|int",
                    format!("{request_type} is not a request an ERROR can answer"),
                ));
            }
            let request = f.id("REQUEST.Request|id")?;
            let details = f.checked_dict("Details|dict")?;
            let transparent = has_transparent_marker(&details);
            Message::Error {
                request_type,
                request,
                details,
                error: f.uri("Error|uri")?,
                payload: f.payload(transparent)?,
            }
        }
        code::PUBLISH => {
            arity(4, 6, "4 to 6")?;
            let request = f.id("Request|id")?;
            let options = f.checked_dict("Options|dict")?;
            let transparent = has_transparent_marker(&options);
            Message::Publish {
                request,
                options,
                topic: f.uri("Topic|uri")?,
                payload: f.payload(transparent)?,
            }
        }
        code::PUBLISHED => {
            arity(3, 3, "3")?;
            Message::Published {
                request: f.id("PUBLISH.Request|id")?,
                publication: f.id("Publication|id")?,
            }
        }
        code::SUBSCRIBE => {
            arity(4, 4, "4")?;
            Message::Subscribe {
                request: f.id("Request|id")?,
                options: f.checked_dict("Options|dict")?,
                topic: f.string("Topic|uri")?,
            }
        }
        code::SUBSCRIBED => {
            arity(3, 3, "3")?;
            Message::Subscribed {
                request: f.id("SUBSCRIBE.Request|id")?,
                subscription: f.id("Subscription|id")?,
            }
        }
        code::UNSUBSCRIBE => {
            arity(3, 3, "3")?;
            Message::Unsubscribe {
                request: f.id("Request|id")?,
                subscription: f.id("SUBSCRIBED.Subscription|id")?,
            }
        }
        code::UNSUBSCRIBED => {
            arity(2, 3, "2 or 3")?;
            let (request, details) = revocable_reply(&mut f, len, "UNSUBSCRIBE.Request|id")?;
            Message::Unsubscribed { request, details }
        }
        code::EVENT => {
            arity(4, 6, "4 to 6")?;
            let subscription = f.id("Subscription|id")?;
            let publication = f.id("Publication|id")?;
            let details = f.checked_dict("Details|dict")?;
            let transparent = has_transparent_marker(&details);
            Message::Event {
                subscription,
                publication,
                details,
                payload: f.payload(transparent)?,
            }
        }
        code::CALL => {
            arity(4, 6, "4 to 6")?;
            let request = f.id("Request|id")?;
            let options = f.checked_dict("Options|dict")?;
            let transparent = has_transparent_marker(&options);
            Message::Call {
                request,
                options,
                procedure: f.uri("Procedure|uri")?,
                payload: f.payload(transparent)?,
            }
        }
        code::CANCEL => {
            arity(3, 3, "3")?;
            Message::Cancel {
                request: f.id("CALL.Request|id")?,
                options: f.checked_dict("Options|dict")?,
            }
        }
        code::RESULT => {
            arity(3, 5, "3 to 5")?;
            let request = f.id("CALL.Request|id")?;
            let details = f.checked_dict("Details|dict")?;
            let transparent = has_transparent_marker(&details);
            Message::Result {
                request,
                details,
                payload: f.payload(transparent)?,
            }
        }
        code::REGISTER => {
            arity(4, 4, "4")?;
            Message::Register {
                request: f.id("Request|id")?,
                options: f.checked_dict("Options|dict")?,
                procedure: f.string("Procedure|uri")?,
            }
        }
        code::REGISTERED => {
            arity(3, 3, "3")?;
            Message::Registered {
                request: f.id("REGISTER.Request|id")?,
                registration: f.id("Registration|id")?,
            }
        }
        code::UNREGISTER => {
            arity(3, 3, "3")?;
            Message::Unregister {
                request: f.id("Request|id")?,
                registration: f.id("REGISTERED.Registration|id")?,
            }
        }
        code::UNREGISTERED => {
            arity(2, 3, "2 or 3")?;
            let (request, details) = revocable_reply(&mut f, len, "UNREGISTER.Request|id")?;
            Message::Unregistered { request, details }
        }
        code::INVOCATION => {
            arity(4, 6, "4 to 6")?;
            let request = f.id("Request|id")?;
            let registration = f.id("REGISTERED.Registration|id")?;
            let details = f.checked_dict("Details|dict")?;
            let transparent = has_transparent_marker(&details);
            Message::Invocation {
                request,
                registration,
                details,
                payload: f.payload(transparent)?,
            }
        }
        code::INTERRUPT => {
            arity(3, 3, "3")?;
            Message::Interrupt {
                request: f.id("INVOCATION.Request|id")?,
                options: f.checked_dict("Options|dict")?,
            }
        }
        code::YIELD => {
            arity(3, 5, "3 to 5")?;
            let request = f.id("INVOCATION.Request|id")?;
            let options = f.checked_dict("Options|dict")?;
            let transparent = has_transparent_marker(&options);
            Message::Yield {
                request,
                options,
                payload: f.payload(transparent)?,
            }
        }
        code::EVENT_RECEIVED => {
            arity(2, 2, "2")?;
            Message::EventReceived {
                publication: f.id("Publication|id")?,
            }
        }
        other => return Err(InvalidMessage::UnknownType(other)),
    };
    Ok(message)
}

/// UNSUBSCRIBED / UNREGISTERED: `[code, Request|id]` or the revocation form `[code, 0, Details|dict]`.
fn revocable_reply(
    f: &mut Fields,
    len: usize,
    field: &str,
) -> Result<(u64, Option<Dict>), InvalidMessage> {
    if len == 3 {
        let request = f.integer("Request|id")?;
        if request != 0 {
            return Err(f.field_error(
                "Request|id",
                "must be 0 in the revocation form (with Details)",
            ));
        }
        Ok((0, Some(f.dict("Details|dict")?)))
    } else {
        Ok((f.id(field)?, None))
    }
}

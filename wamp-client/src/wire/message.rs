//! The WAMP message catalogue: one variant per message, fields in wire order.

use super::raw_payload::RawPayload;
use crate::value::{Dict, Value};

/// A WAMP id: a session, publication, subscription, registration or request id, in `1..=2^53`.
pub type Id = u64;

/// The largest legal WAMP id, 2^53.
pub const MAX_ID: Id = 1 << 53;

/// The application payload that ends most messages.
#[derive(Debug, Clone, Default)]
pub enum Payload {
    /// Positional (`Arguments|list`) and keyword (`ArgumentsKw|dict`) arguments; either may be empty.
    /// Empty ones are left off the wire (an empty list is sent only when keyword arguments follow).
    Args {
        /// Positional arguments.
        args: Vec<Value>,
        /// Keyword arguments.
        kwargs: Dict,
    },
    /// Received arguments kept as the bytes they arrived in, decoded where they are read (see
    /// [`RawPayload`]). Never empty: a message without arguments has [`Payload::Empty`].
    Raw(RawPayload),
    /// A transparent (end-to-end encrypted or passthru) payload: one binary element in place of the
    /// arguments list. Only legal when the message's options or details carry `enc_algo` or `ppt_scheme`.
    Transparent(Vec<u8>),
    /// No payload at all.
    #[default]
    Empty,
}

impl Payload {
    /// Builds a payload from positional and keyword arguments ([`Payload::Empty`] when both are empty).
    pub fn new(args: Vec<Value>, kwargs: Dict) -> Self {
        if args.is_empty() && kwargs.is_empty() {
            Payload::Empty
        } else {
            Payload::Args { args, kwargs }
        }
    }

    /// Splits the payload into positional and keyword arguments. A transparent payload becomes one
    /// positional bytes argument, as the payload passthru mode defines it; a raw one is decoded
    /// (it was checked when it arrived, so this cannot fail short of a bug, which is logged and
    /// reads as no arguments).
    pub fn into_parts(self) -> (Vec<Value>, Dict) {
        match self {
            Payload::Args { args, kwargs } => (args, kwargs),
            Payload::Raw(raw) => raw.to_values().unwrap_or_else(|e| {
                tracing::error!("a received payload that was checked did not decode: {e}");
                (Vec::new(), Dict::new())
            }),
            Payload::Transparent(bytes) => (vec![Value::Bytes(bytes)], Dict::new()),
            Payload::Empty => (Vec::new(), Dict::new()),
        }
    }

    /// Whether the payload holds nothing.
    pub fn is_empty(&self) -> bool {
        match self {
            Payload::Args { args, kwargs } => args.is_empty() && kwargs.is_empty(),
            Payload::Raw(_) | Payload::Transparent(_) => false,
            Payload::Empty => true,
        }
    }
}

/// Payloads are equal when they hold the same arguments, whether as values or as received bytes.
impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Payload::Transparent(a), Payload::Transparent(b)) => a == b,
            (Payload::Transparent(_), _) | (_, Payload::Transparent(_)) => false,
            (Payload::Args { args, kwargs }, Payload::Args { args: a, kwargs: k }) => {
                args == a && kwargs == k
            }
            _ => self.clone().into_parts() == other.clone().into_parts(),
        }
    }
}

/// Message type codes.
pub mod code {
    /// HELLO
    pub const HELLO: u64 = 1;
    /// WELCOME
    pub const WELCOME: u64 = 2;
    /// ABORT
    pub const ABORT: u64 = 3;
    /// CHALLENGE
    pub const CHALLENGE: u64 = 4;
    /// AUTHENTICATE
    pub const AUTHENTICATE: u64 = 5;
    /// GOODBYE
    pub const GOODBYE: u64 = 6;
    /// ERROR
    pub const ERROR: u64 = 8;
    /// PUBLISH
    pub const PUBLISH: u64 = 16;
    /// PUBLISHED
    pub const PUBLISHED: u64 = 17;
    /// SUBSCRIBE
    pub const SUBSCRIBE: u64 = 32;
    /// SUBSCRIBED
    pub const SUBSCRIBED: u64 = 33;
    /// UNSUBSCRIBE
    pub const UNSUBSCRIBE: u64 = 34;
    /// UNSUBSCRIBED
    pub const UNSUBSCRIBED: u64 = 35;
    /// EVENT
    pub const EVENT: u64 = 36;
    /// CALL
    pub const CALL: u64 = 48;
    /// CANCEL
    pub const CANCEL: u64 = 49;
    /// RESULT
    pub const RESULT: u64 = 50;
    /// REGISTER
    pub const REGISTER: u64 = 64;
    /// REGISTERED
    pub const REGISTERED: u64 = 65;
    /// UNREGISTER
    pub const UNREGISTER: u64 = 66;
    /// UNREGISTERED
    pub const UNREGISTERED: u64 = 67;
    /// INVOCATION
    pub const INVOCATION: u64 = 68;
    /// INTERRUPT
    pub const INTERRUPT: u64 = 69;
    /// YIELD
    pub const YIELD: u64 = 70;
    /// EVENT_RECEIVED (Crossbar.io extension, acknowledged event delivery)
    pub const EVENT_RECEIVED: u64 = 337;
}

/// One WAMP message. Field names follow the specification.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // fields are named as in the specification's message catalogue
pub enum Message {
    /// `[HELLO, Realm|uri, Details|dict]`
    Hello { realm: String, details: Dict },
    /// `[WELCOME, Session|id, Details|dict]`
    Welcome { session: Id, details: Dict },
    /// `[ABORT, Details|dict, Reason|uri, Arguments?, ArgumentsKw?]`
    Abort {
        details: Dict,
        reason: String,
        payload: Payload,
    },
    /// `[CHALLENGE, AuthMethod|string, Extra|dict]`
    Challenge { method: String, extra: Dict },
    /// `[AUTHENTICATE, Signature|string, Extra|dict]`
    Authenticate { signature: String, extra: Dict },
    /// `[GOODBYE, Details|dict, Reason|uri]`
    Goodbye { details: Dict, reason: String },
    /// `[ERROR, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, Arguments?, ArgumentsKw?]`
    Error {
        request_type: u64,
        request: Id,
        details: Dict,
        error: String,
        payload: Payload,
    },
    /// `[PUBLISH, Request|id, Options|dict, Topic|uri, Arguments?, ArgumentsKw?]`
    Publish {
        request: Id,
        options: Dict,
        topic: String,
        payload: Payload,
    },
    /// `[PUBLISHED, PUBLISH.Request|id, Publication|id]`
    Published { request: Id, publication: Id },
    /// `[SUBSCRIBE, Request|id, Options|dict, Topic|uri]`
    Subscribe {
        request: Id,
        options: Dict,
        topic: String,
    },
    /// `[SUBSCRIBED, SUBSCRIBE.Request|id, Subscription|id]`
    Subscribed { request: Id, subscription: Id },
    /// `[UNSUBSCRIBE, Request|id, SUBSCRIBED.Subscription|id]`
    Unsubscribe { request: Id, subscription: Id },
    /// `[UNSUBSCRIBED, UNSUBSCRIBE.Request|id]`, or the revocation form `[UNSUBSCRIBED, 0, Details|dict]`
    /// (`request` is 0 and `details` is present).
    Unsubscribed { request: u64, details: Option<Dict> },
    /// `[EVENT, Subscription|id, Publication|id, Details|dict, Arguments?, ArgumentsKw?]`
    Event {
        subscription: Id,
        publication: Id,
        details: Dict,
        payload: Payload,
    },
    /// `[CALL, Request|id, Options|dict, Procedure|uri, Arguments?, ArgumentsKw?]`
    Call {
        request: Id,
        options: Dict,
        procedure: String,
        payload: Payload,
    },
    /// `[CANCEL, CALL.Request|id, Options|dict]`
    Cancel { request: Id, options: Dict },
    /// `[RESULT, CALL.Request|id, Details|dict, Arguments?, ArgumentsKw?]`
    Result {
        request: Id,
        details: Dict,
        payload: Payload,
    },
    /// `[REGISTER, Request|id, Options|dict, Procedure|uri]`
    Register {
        request: Id,
        options: Dict,
        procedure: String,
    },
    /// `[REGISTERED, REGISTER.Request|id, Registration|id]`
    Registered { request: Id, registration: Id },
    /// `[UNREGISTER, Request|id, REGISTERED.Registration|id]`
    Unregister { request: Id, registration: Id },
    /// `[UNREGISTERED, UNREGISTER.Request|id]`, or the revocation form `[UNREGISTERED, 0, Details|dict]`.
    Unregistered { request: u64, details: Option<Dict> },
    /// `[INVOCATION, Request|id, REGISTERED.Registration|id, Details|dict, Arguments?, ArgumentsKw?]`
    Invocation {
        request: Id,
        registration: Id,
        details: Dict,
        payload: Payload,
    },
    /// `[INTERRUPT, INVOCATION.Request|id, Options|dict]`
    Interrupt { request: Id, options: Dict },
    /// `[YIELD, INVOCATION.Request|id, Options|dict, Arguments?, ArgumentsKw?]`
    Yield {
        request: Id,
        options: Dict,
        payload: Payload,
    },
    /// `[EVENT_RECEIVED, Publication|id]` (Crossbar.io extension, code 337)
    EventReceived { publication: Id },
}

impl Message {
    /// The message's type code.
    pub fn code(&self) -> u64 {
        match self {
            Message::Hello { .. } => code::HELLO,
            Message::Welcome { .. } => code::WELCOME,
            Message::Abort { .. } => code::ABORT,
            Message::Challenge { .. } => code::CHALLENGE,
            Message::Authenticate { .. } => code::AUTHENTICATE,
            Message::Goodbye { .. } => code::GOODBYE,
            Message::Error { .. } => code::ERROR,
            Message::Publish { .. } => code::PUBLISH,
            Message::Published { .. } => code::PUBLISHED,
            Message::Subscribe { .. } => code::SUBSCRIBE,
            Message::Subscribed { .. } => code::SUBSCRIBED,
            Message::Unsubscribe { .. } => code::UNSUBSCRIBE,
            Message::Unsubscribed { .. } => code::UNSUBSCRIBED,
            Message::Event { .. } => code::EVENT,
            Message::Call { .. } => code::CALL,
            Message::Cancel { .. } => code::CANCEL,
            Message::Result { .. } => code::RESULT,
            Message::Register { .. } => code::REGISTER,
            Message::Registered { .. } => code::REGISTERED,
            Message::Unregister { .. } => code::UNREGISTER,
            Message::Unregistered { .. } => code::UNREGISTERED,
            Message::Invocation { .. } => code::INVOCATION,
            Message::Interrupt { .. } => code::INTERRUPT,
            Message::Yield { .. } => code::YIELD,
            Message::EventReceived { .. } => code::EVENT_RECEIVED,
        }
    }

    /// The message's name in upper case, as the specification writes it.
    pub fn name(&self) -> &'static str {
        message_name(self.code())
    }
}

/// The upper-case name of a message type code (`"UNKNOWN"` for codes outside the catalogue).
pub fn message_name(code: u64) -> &'static str {
    match code {
        code::HELLO => "HELLO",
        code::WELCOME => "WELCOME",
        code::ABORT => "ABORT",
        code::CHALLENGE => "CHALLENGE",
        code::AUTHENTICATE => "AUTHENTICATE",
        code::GOODBYE => "GOODBYE",
        code::ERROR => "ERROR",
        code::PUBLISH => "PUBLISH",
        code::PUBLISHED => "PUBLISHED",
        code::SUBSCRIBE => "SUBSCRIBE",
        code::SUBSCRIBED => "SUBSCRIBED",
        code::UNSUBSCRIBE => "UNSUBSCRIBE",
        code::UNSUBSCRIBED => "UNSUBSCRIBED",
        code::EVENT => "EVENT",
        code::CALL => "CALL",
        code::CANCEL => "CANCEL",
        code::RESULT => "RESULT",
        code::REGISTER => "REGISTER",
        code::REGISTERED => "REGISTERED",
        code::UNREGISTER => "UNREGISTER",
        code::UNREGISTERED => "UNREGISTERED",
        code::INVOCATION => "INVOCATION",
        code::INTERRUPT => "INTERRUPT",
        code::YIELD => "YIELD",
        code::EVENT_RECEIVED => "EVENT_RECEIVED",
        _ => "UNKNOWN",
    }
}

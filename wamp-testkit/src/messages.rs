//! Builders of the messages a router sends, and small helpers to read what a client sent.

use serde::Serialize;
use wampkit_client::wire::{Id, Message, Payload};
use wampkit_client::{Dict, Value};

/// The WELCOME details: broker and dealer roles with the usual features, and an anonymous identity.
pub fn welcome_details() -> Dict {
    fn role(features: &[&str]) -> Value {
        let features: Dict = features
            .iter()
            .map(|f| ((*f).to_owned(), Value::Bool(true)))
            .collect();
        Value::Dict(dict([("features", Value::Dict(features))]))
    }
    let roles = dict([
        (
            "broker",
            role(&[
                "publisher_identification",
                "publisher_exclusion",
                "pattern_based_subscription",
                "subscription_revocation",
            ]),
        ),
        (
            "dealer",
            role(&[
                "caller_identification",
                "pattern_based_registration",
                "registration_revocation",
                "call_canceling",
            ]),
        ),
    ]);
    dict([
        ("roles", Value::Dict(roles)),
        ("agent", Value::from("scripted-router")),
        ("authid", Value::from("scripted-client")),
        ("authrole", Value::from("anonymous")),
        ("authmethod", Value::from("anonymous")),
        ("authprovider", Value::from("static")),
    ])
}

/// A dict from key/value pairs.
pub fn dict<const N: usize>(pairs: [(&str, Value); N]) -> Dict {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

/// Positional arguments from a tuple, `Vec` or array of serializable values (`()` for none).
pub fn args(values: impl Serialize) -> Vec<Value> {
    match wampkit_client::to_value(&values).expect("arguments convert to values") {
        Value::List(list) => list,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// `[RESULT, request, {}, args]`.
pub fn result(request: Id, args: Vec<Value>) -> Message {
    Message::Result {
        request,
        details: Dict::new(),
        payload: Payload::new(args, Dict::new()),
    }
}

/// `[ERROR, request_type, request, {}, error, args]`.
pub fn error(request_type: u64, request: Id, error: &str, args: Vec<Value>) -> Message {
    Message::Error {
        request_type,
        request,
        details: Dict::new(),
        error: error.to_owned(),
        payload: Payload::new(args, Dict::new()),
    }
}

/// `[EVENT, subscription, publication, {}, args]`.
pub fn event(subscription: Id, publication: Id, args: Vec<Value>) -> Message {
    Message::Event {
        subscription,
        publication,
        details: Dict::new(),
        payload: Payload::new(args, Dict::new()),
    }
}

/// `[INVOCATION, request, registration, {}, args]`.
pub fn invocation(request: Id, registration: Id, args: Vec<Value>) -> Message {
    Message::Invocation {
        request,
        registration,
        details: Dict::new(),
        payload: Payload::new(args, Dict::new()),
    }
}

/// `[INTERRUPT, request, {"mode": mode}]`.
pub fn interrupt(request: Id, mode: &str) -> Message {
    Message::Interrupt {
        request,
        options: dict([("mode", Value::from(mode))]),
    }
}

/// `[UNSUBSCRIBED, 0, {"subscription": subscription}]`: the broker revokes a subscription.
pub fn revoke_subscription(subscription: Id) -> Message {
    Message::Unsubscribed {
        request: 0,
        details: Some(dict([("subscription", Value::from(subscription))])),
    }
}

/// `[GOODBYE, {"message": message}, reason]` (no `message` key for `None`).
pub fn goodbye(reason: &str, message: Option<&str>) -> Message {
    Message::Goodbye {
        details: message
            .map(|m| dict([("message", Value::from(m))]))
            .unwrap_or_default(),
        reason: reason.to_owned(),
    }
}

/// `[ABORT, {"message": message}, reason]`.
pub fn abort(reason: &str, message: &str) -> Message {
    Message::Abort {
        details: dict([("message", Value::from(message))]),
        reason: reason.to_owned(),
        payload: Payload::Empty,
    }
}

/// The request id of a message the client sends with one (CALL, PUBLISH, SUBSCRIBE, ...), with
/// the request type code.
pub fn request_of(message: &Message) -> Option<(u64, Id)> {
    let request = match message {
        Message::Call { request, .. }
        | Message::Publish { request, .. }
        | Message::Subscribe { request, .. }
        | Message::Unsubscribe { request, .. }
        | Message::Register { request, .. }
        | Message::Unregister { request, .. } => *request,
        _ => return None,
    };
    Some((message.code(), request))
}

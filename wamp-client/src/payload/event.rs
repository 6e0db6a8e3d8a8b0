//! An event received on a subscription.

use std::fmt;

use super::Topic;
use super::arguments::{payload_accessors, payload_error};
use crate::e2ee::PayloadCodecError;
use crate::error::Error;
use crate::session::Session;
use crate::value::{Dict, PayloadOf, Value};
use crate::wire::{Id, Payload};

/// An event received on a subscription.
#[derive(Clone)]
pub struct Event {
    /// The topic the event was published to: the concrete topic for pattern-based subscriptions.
    /// Reads as a `&str`; for an exact subscription it is shared with the subscription.
    pub topic: Topic,
    /// The subscription id.
    pub subscription: Id,
    /// The publication id; shared by the events one publication produces on several subscriptions.
    pub publication: Id,
    /// The EVENT `Details` dict.
    pub details: Dict,
    /// The arguments: read with [`arg`](Self::arg), [`args`](Self::args),
    /// [`kwarg`](Self::kwarg), [`kwargs`](Self::kwargs) or [`arguments`](Self::arguments).
    pub(crate) payload: Payload,
    pub(crate) session: Option<Session>,
    /// Why the event's end-to-end encoded payload could not be decoded (boxed: rare).
    pub(crate) payload_error: Option<Box<PayloadCodecError>>,
}

payload_accessors!(
    Event,
    Error,
    payload_error,
    |event: &Event| PayloadOf::Event {
        topic: event.topic.to_string(),
    },
    unreadable: |event: &Event| event.payload_error().cloned().map(Error::PayloadCodec)
);

impl Event {
    /// The publisher's session id, if the router disclosed it.
    pub fn publisher(&self) -> Option<Id> {
        self.details.get("publisher").and_then(Value::as_u64)
    }

    /// The publisher's authid, if the router disclosed it.
    pub fn publisher_authid(&self) -> Option<&str> {
        self.details.get("publisher_authid").and_then(Value::as_str)
    }

    /// The publisher's authrole, if the router disclosed it.
    pub fn publisher_authrole(&self) -> Option<&str> {
        self.details
            .get("publisher_authrole")
            .and_then(Value::as_str)
    }

    /// Whether this is a retained event (`Details.retained`): one published earlier with
    /// [`Publish::retain`](crate::pubsub::Publish::retain), sent because this subscription asked for it
    /// with [`Subscribe::get_retained`](crate::pubsub::Subscribe::get_retained).
    pub fn retained(&self) -> bool {
        self.details
            .get("retained")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Why the event's end-to-end encoded payload could not be decoded (no key, a wrong key, a
    /// tampered payload; see [`crate::e2ee`]), if so: the event then has no arguments, and
    /// [`args`](Self::args), [`arg`](Self::arg), [`kwargs`](Self::kwargs) and
    /// [`kwarg`](Self::kwarg) return this error.
    pub fn payload_error(&self) -> Option<&PayloadCodecError> {
        self.payload_error.as_deref()
    }

    /// The session the event arrived on, to call or publish from an event handler.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("topic", &self.topic)
            .field("subscription", &self.subscription)
            .field("publication", &self.publication)
            .field("payload", &self.payload)
            .field("details", &self.details)
            .field("payload_error", &self.payload_error)
            .finish()
    }
}

/// The context of one event, without its payload: topic, publication, publisher.
///
/// A subscriber method receives it by declaring a parameter of this type.
#[derive(Debug, Clone)]
pub struct EventDetails {
    /// The topic the event was published to: the concrete topic for pattern-based subscriptions.
    pub topic: Topic,
    /// The subscription id.
    pub subscription: Id,
    /// The publication id.
    pub publication: Id,
    /// The publisher's session id, if the router disclosed it.
    pub publisher: Option<Id>,
    /// The publisher's authid, if the router disclosed it.
    pub publisher_authid: Option<String>,
    /// The publisher's authrole, if the router disclosed it.
    pub publisher_authrole: Option<String>,
    /// The complete EVENT `Details` dict.
    pub details: Dict,
    session: Option<Session>,
}

impl EventDetails {
    /// The session the event arrived on, to call or publish from the handler.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
}

impl From<&Event> for EventDetails {
    fn from(event: &Event) -> Self {
        EventDetails {
            topic: event.topic.clone(),
            subscription: event.subscription,
            publication: event.publication,
            publisher: event.publisher(),
            publisher_authid: event.publisher_authid().map(str::to_owned),
            publisher_authrole: event
                .details
                .get("publisher_authrole")
                .and_then(Value::as_str)
                .map(str::to_owned),
            details: event.details.clone(),
            session: event.session().cloned(),
        }
    }
}

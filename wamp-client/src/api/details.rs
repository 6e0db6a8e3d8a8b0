//! What a handler may want to know about the call or event besides its payload.

use crate::api::register::Invocation;
use crate::api::subscribe::Event;
use crate::session::Session;
use crate::value::{Dict, Value};
use crate::wire::Id;

/// The context of one invocation, without its payload: who called, which procedure.
///
/// A service method receives it by declaring a parameter of this type.
#[derive(Debug, Clone)]
pub struct InvocationDetails {
    /// The procedure called: the concrete URI for pattern-based registrations.
    pub procedure: String,
    /// The registration id.
    pub registration: Id,
    /// The caller's session id, if the router disclosed it.
    pub caller: Option<Id>,
    /// The caller's authid, if the router disclosed it.
    pub caller_authid: Option<String>,
    /// The caller's authrole, if the router disclosed it.
    pub caller_authrole: Option<String>,
    /// The complete INVOCATION `Details` dict.
    pub details: Dict,
    session: Option<Session>,
    cancel: tokio_util::sync::CancellationToken,
}

impl InvocationDetails {
    /// Completes when the caller cancels the call; long-running methods should watch it.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Whether the caller has canceled the call.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The session the invocation arrived on, to call or publish from the handler.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
}

impl From<&Invocation> for InvocationDetails {
    fn from(inv: &Invocation) -> Self {
        InvocationDetails {
            procedure: inv.procedure.clone(),
            registration: inv.registration,
            caller: inv.caller(),
            caller_authid: inv.caller_authid().map(str::to_owned),
            caller_authrole: inv.caller_authrole().map(str::to_owned),
            details: inv.details.clone(),
            session: inv.session().cloned(),
            cancel: inv.cancellation().clone(),
        }
    }
}

/// The context of one event, without its payload: topic, publication, publisher.
///
/// A subscriber method receives it by declaring a parameter of this type.
#[derive(Debug, Clone)]
pub struct EventDetails {
    /// The topic the event was published to: the concrete topic for pattern-based subscriptions.
    pub topic: String,
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

//! Requests to the router: each goes out under a fresh id, and what waits for its answer is kept
//! in the table of the role that sent it. An answer is taken from that table, checked against
//! the request it answers.

use rustc_hash::FxHashMap as HashMap;

use super::callee::CalleeRequest;
use super::caller::PendingCall;
use super::publisher::Ack;
use super::subscriber::SubscriberRequest;
use super::{SessionTask, Step};
use crate::error::{CloseReason, Error};
use crate::wire::{Id, Message, code, message_name};

/// What waits for the answer to a request, on its way into its role's table.
pub(super) enum Pending {
    Call(PendingCall),
    Publish(Ack),
    Subscriber(SubscriberRequest),
    Callee(CalleeRequest),
}

/// An entry of a role's table of requests waiting for an answer.
pub(super) trait Awaiting: Sized {
    /// The type of the request it waits on an answer to.
    fn request_type(&self) -> u64;

    /// The role's table of such entries.
    fn table(task: &mut SessionTask) -> &mut HashMap<Id, Self>;
}

impl SessionTask {
    /// Sends a request under a fresh id and keeps what waits for its answer; returns the id.
    pub(super) async fn request(
        &mut self,
        build: impl FnOnce(Id) -> Message,
        pending: Option<Pending>,
    ) -> Result<Id, CloseReason> {
        let (id, message) = self.request_now(build, pending);
        self.send(message).await?;
        Ok(id)
    }

    /// A request under a fresh id, to send; what waits for its answer is kept.
    pub(super) fn request_now(
        &mut self,
        build: impl FnOnce(Id) -> Message,
        pending: Option<Pending>,
    ) -> (Id, Message) {
        let id = self.next_request_id();
        let message = build(id);
        match pending {
            Some(Pending::Call(call)) => drop(self.caller.pending.insert(id, call)),
            Some(Pending::Publish(ack)) => drop(self.publisher.pending.insert(id, ack)),
            Some(Pending::Subscriber(request)) => {
                drop(self.subscriber.pending.insert(id, request));
            }
            Some(Pending::Callee(request)) => drop(self.callee.pending.insert(id, request)),
            None => {}
        }
        (id, message)
    }

    fn next_request_id(&mut self) -> Id {
        let (caller, publisher) = (&self.caller.pending, &self.publisher.pending);
        let (subscriber, callee) = (&self.subscriber.pending, &self.callee.pending);
        self.request_ids.next(|id| {
            caller.contains_key(&id)
                || publisher.contains_key(&id)
                || subscriber.contains_key(&id)
                || callee.contains_key(&id)
        })
    }

    /// The type of the request `request` if it waits for an answer.
    fn pending_type(&self, request: Id) -> Option<u64> {
        if self.caller.pending.contains_key(&request) {
            return Some(code::CALL);
        }
        if self.publisher.pending.contains_key(&request) {
            return Some(code::PUBLISH);
        }
        self.subscriber
            .pending
            .get(&request)
            .map(Awaiting::request_type)
            .or_else(|| {
                self.callee
                    .pending
                    .get(&request)
                    .map(Awaiting::request_type)
            })
    }

    /// Takes the request `request` out of its role's table, checking that it is a
    /// `request_type`; `what` names the answer. `None` if it waits no longer (see
    /// `unexpected_answer`).
    pub(super) async fn take_answered<P: Awaiting>(
        &mut self,
        request: Id,
        request_type: u64,
        what: &str,
    ) -> Result<Option<P>, CloseReason> {
        match P::table(self).remove(&request) {
            Some(pending) if pending.request_type() == request_type => Ok(Some(pending)),
            Some(pending) => {
                let expected = message_name(pending.request_type());
                P::table(self).insert(request, pending);
                let reason = format!("{what} for request {request}, which is a {expected}");
                Err(self.protocol_violation(reason).await)
            }
            None => self.unexpected_answer(request, what).await.map(|()| None),
        }
    }

    /// An answer for a request no role's table holds under that type.
    ///
    /// An answer for an id this session issued but no longer waits on (a late answer after a
    /// cancel or an error; Crossbar sends those) is ignored. An answer for a request of another
    /// type, or for an id never issued, is a protocol violation.
    pub(super) async fn unexpected_answer(&mut self, request: Id, what: &str) -> Step {
        if let Some(request_type) = self.pending_type(request) {
            let expected = message_name(request_type);
            let reason = format!("{what} for request {request}, which is a {expected}");
            return Err(self.protocol_violation(reason).await);
        }
        if self.request_ids.was_issued(request) {
            tracing::debug!(request, "ignoring a late {what} for a finished request");
            return Ok(());
        }
        let reason = format!("{what} for request {request}, which was never sent");
        Err(self.protocol_violation(reason).await)
    }

    /// Fails every request waiting for an answer with `SessionClosed`.
    pub(super) fn fail_pending(&mut self, reason: &CloseReason) {
        let closed = || Error::SessionClosed(reason.clone());
        for (_, call) in self.caller.pending.drain() {
            call.fail(closed());
        }
        for (_, ack) in self.publisher.pending.drain() {
            let _ = ack.send(Err(closed()));
        }
        for (_, request) in self.subscriber.pending.drain() {
            request.fail(closed());
        }
        for (_, request) in self.callee.pending.drain() {
            request.fail(closed());
        }
    }
}

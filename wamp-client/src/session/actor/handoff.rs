//! What the session task hands to other tasks at the end of a batch of incoming messages:
//! results of finished calls, acknowledgements of publications, and wakes for subscribers whose
//! events were queued.
//!
//! Handing them over one by one, as each RESULT or EVENT is read, wakes the receiving task once
//! per message. On a multi-threaded runtime that task's thread then takes one message and
//! sleeps again: a thread switch per message, which cost two thirds of the throughput of a
//! subscription flood and a quarter of that of pipelined calls. Collected and handed over
//! together, each woken task finds the whole batch.
//!
//! The batch is handed over after each step of the session task, before it waits on a full
//! socket, and every [`EVENTS_PER_HANDOFF`] events, well within the events after which the
//! session task's cooperative budget runs out and it yields to the tasks it woke (a unit per
//! few events, see `inbound::EVENTS_PER_BUDGET_UNIT`).

use std::task::Waker;

use crate::error::Result;
use crate::payload::CallResult;
use tokio::sync::oneshot;

use crate::session::command::FinalReply;
use crate::wire::Id;

/// Events queued between two handoffs at most.
pub(super) const EVENTS_PER_HANDOFF: usize = 32;

/// The batch being collected.
#[derive(Default)]
pub(super) struct Handoff {
    /// Subscribers that were waiting when their events were queued.
    subscribers: Vec<Waker>,
    /// Final results of calls answered in this batch.
    results: Vec<(FinalReply, Box<Result<CallResult>>)>,
    /// Publications acknowledged in this batch, with their ids.
    acknowledgements: Vec<(oneshot::Sender<Result<Id>>, Id)>,
    /// Events queued since the last handoff.
    events: usize,
}

impl Handoff {
    /// Notes an event queued for a subscriber, and its waker if it was waiting for it.
    pub(super) fn event_queued(&mut self, waker: Option<Waker>) {
        self.subscribers.extend(waker);
    }

    /// Counts one EVENT delivered (to however many local subscribers); true once enough have
    /// been for a handoff.
    pub(super) fn event_delivered(&mut self) -> bool {
        self.events += 1;
        self.events >= EVENTS_PER_HANDOFF
    }

    /// Keeps a call's final result for the handoff.
    pub(super) fn call_finished(&mut self, reply: FinalReply, result: Result<CallResult>) {
        self.results.push((reply, Box::new(result)));
    }

    /// Keeps a publication's acknowledgement for the handoff.
    pub(super) fn publication_acknowledged(
        &mut self,
        reply: oneshot::Sender<Result<Id>>,
        publication: Id,
    ) {
        self.acknowledgements.push((reply, publication));
    }

    /// Hands everything collected over.
    pub(super) fn hand_over(&mut self) {
        self.events = 0;
        for waker in self.subscribers.drain(..) {
            waker.wake();
        }
        for (reply, result) in self.results.drain(..) {
            // A caller that gave up waiting has dropped its receiver: nothing to do.
            let _ = reply.send(result);
        }
        for (reply, publication) in self.acknowledgements.drain(..) {
            let _ = reply.send(Ok(publication));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_wait_for_the_handoff() {
        let mut handoff = Handoff::default();
        let (reply, mut rx) = oneshot::channel();
        handoff.call_finished(reply, Ok(CallResult::default()));
        assert!(rx.try_recv().is_err(), "delivered before the handoff");
        let (reply, mut ack) = oneshot::channel();
        handoff.publication_acknowledged(reply, 7);
        assert!(ack.try_recv().is_err(), "acknowledged before the handoff");
        handoff.hand_over();
        assert!(matches!(rx.try_recv().map(|r| *r), Ok(Ok(_))));
        assert!(matches!(ack.try_recv(), Ok(Ok(7))));
    }

    #[test]
    fn a_handoff_is_due_every_so_many_events() {
        let mut handoff = Handoff::default();
        let due: Vec<bool> = (0..EVENTS_PER_HANDOFF)
            .map(|_| handoff.event_delivered())
            .collect();
        assert_eq!(due.iter().filter(|&&d| d).count(), 1);
        assert_eq!(due.last(), Some(&true));
        handoff.hand_over();
        assert!(!handoff.event_delivered(), "the count starts over");
    }
}

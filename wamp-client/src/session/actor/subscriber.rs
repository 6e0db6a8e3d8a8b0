//! The subscriber: subscriptions (SUBSCRIBE, UNSUBSCRIBE and their answers, revocations by the
//! router) and the delivery of events to every local subscription a router subscription feeds.

use rustc_hash::FxHashMap as HashMap;
use tokio::sync::oneshot;

use super::requests::{Awaiting, Pending};
use super::subscriptions::SubscriptionEntry;
use super::{SessionTask, State, Step, revocation_reason};
use crate::e2ee::PayloadRole;
use crate::error::{Error, Result, WampError};
use crate::payload::{Event, Topic};
use crate::session::command::{Command, SubscribeRequest};
use crate::session::event_queue::{EventSender, QueueRef};
use crate::value::{Dict, Value};
use crate::wire::{Id, Message, Payload, code};

/// The subscriber's tables.
#[derive(Default)]
pub(super) struct Subscriber {
    /// SUBSCRIBEs and UNSUBSCRIBEs waiting for their answer, by request id.
    pub(super) pending: HashMap<Id, SubscriberRequest>,
    /// Router subscriptions, each with the local subscriptions it feeds.
    pub(super) subscriptions: HashMap<Id, SubscriptionEntry>,
    /// Router subscriptions with an UNSUBSCRIBE in flight, with that UNSUBSCRIBE's request id.
    pub(super) unsubscribing: HashMap<Id, Id>,
    /// Subscriptions to make again on a new connection, not sent yet (see `restore`).
    pub(super) restoring: Vec<SubscriptionEntry>,
}

/// A subscriber's request waiting for its answer. The rare ones are boxed, so that the table
/// stays small.
pub(super) enum SubscriberRequest {
    Subscribe(Box<SubscribeRequest>),
    /// A subscription being restored after a reconnect, with every local subscription it feeds.
    Resubscribe(Box<SubscriptionEntry>),
    Unsubscribe(Option<oneshot::Sender<Result<()>>>),
}

impl Awaiting for SubscriberRequest {
    fn request_type(&self) -> u64 {
        match self {
            SubscriberRequest::Subscribe(_) | SubscriberRequest::Resubscribe(_) => code::SUBSCRIBE,
            SubscriberRequest::Unsubscribe(_) => code::UNSUBSCRIBE,
        }
    }

    fn table(task: &mut SessionTask) -> &mut HashMap<Id, Self> {
        &mut task.subscriber.pending
    }
}

impl SubscriberRequest {
    /// Completes the request with an error.
    pub(super) fn fail(self, error: Error) {
        match self {
            SubscriberRequest::Subscribe(request) => drop(request.reply.send(Err(error))),
            SubscriberRequest::Resubscribe(entry) => {
                let reason = format!("could not be restored after reconnecting: {error}");
                tracing::warn!(topic = entry.topic(), %reason, "subscription lost");
                for sink in entry.sinks() {
                    sink.revoke(reason.clone());
                }
            }
            SubscriberRequest::Unsubscribe(reply) => {
                if let Some(reply) = reply {
                    let _ = reply.send(Err(error));
                }
            }
        }
    }
}

impl Subscriber {
    /// The connection is gone, and the router has forgotten the session: subscriptions in
    /// flight are made on the next connection (SUBSCRIBEs go to `waiting`), removals are done.
    pub(super) fn connection_lost(&mut self, waiting: &mut Vec<Command>) {
        for (_, request) in self.pending.drain() {
            match request {
                SubscriberRequest::Subscribe(request) => waiting.push(Command::Subscribe(request)),
                SubscriberRequest::Resubscribe(entry) => self.restoring.push(*entry),
                SubscriberRequest::Unsubscribe(reply) => {
                    if let Some(reply) = reply {
                        let _ = reply.send(Ok(()));
                    }
                }
            }
        }
        self.unsubscribing.clear();
    }
}

impl SessionTask {
    /// Sends SUBSCRIBE and remembers what waits for SUBSCRIBED.
    pub(super) async fn subscribe(&mut self, pending: Box<SubscribeRequest>) -> Step {
        let (topic, options) = (pending.events.topic().to_owned(), pending.options.clone());
        self.request(
            |request| Message::Subscribe {
                request,
                options,
                topic,
            },
            Some(Pending::Subscriber(SubscriberRequest::Subscribe(pending))),
        )
        .await?;
        Ok(())
    }

    /// Sends SUBSCRIBE for a subscription being restored after a reconnect.
    pub(super) async fn resubscribe(&mut self, entry: SubscriptionEntry) -> Step {
        let topic = entry.topic().to_owned();
        let options = entry.options().cloned().unwrap_or_default();
        let pending = SubscriberRequest::Resubscribe(Box::new(entry));
        self.request(
            |request| Message::Subscribe {
                request,
                options,
                topic,
            },
            Some(Pending::Subscriber(pending)),
        )
        .await?;
        Ok(())
    }

    /// Ends the local subscription `queue`. The router subscription is unsubscribed once no
    /// local subscription uses it; while the connection is down there is none to unsubscribe,
    /// and the subscription is not made again on the next one.
    pub(super) async fn unsubscribe(
        &mut self,
        queue: &QueueRef,
        reply: Option<oneshot::Sender<Result<()>>>,
    ) -> Step {
        let subscriber = &mut self.subscriber;
        if !subscriber.restoring.is_empty() {
            subscriber.restoring = std::mem::take(&mut subscriber.restoring)
                .into_iter()
                .filter_map(|entry| entry.without(queue))
                .collect();
        }
        self.waiting
            .retain(|c| !matches!(c, Command::Subscribe(r) if r.events.is(queue)));
        // The handle's id may be from before a reconnect: its queue knows the current one.
        let subscription = queue.subscription();
        let unused = match self.subscriber.subscriptions.remove(&subscription) {
            None => false,
            Some(entry) => match entry.without(queue) {
                // Other local subscriptions still use the router-side subscription.
                Some(rest) => {
                    self.subscriber.subscriptions.insert(subscription, rest);
                    false
                }
                None => true,
            },
        };
        if unused && matches!(self.state, State::Established) {
            return self.unsubscribe_router(subscription, reply).await;
        }
        if let Some(reply) = reply {
            let _ = reply.send(Ok(()));
        }
        Ok(())
    }

    /// Sends UNSUBSCRIBE for a router-side subscription no local subscription uses any more.
    async fn unsubscribe_router(
        &mut self,
        subscription: Id,
        reply: Option<oneshot::Sender<Result<()>>>,
    ) -> Step {
        let pending = SubscriberRequest::Unsubscribe(reply);
        let request = self
            .request(
                |request| Message::Unsubscribe {
                    request,
                    subscription,
                },
                Some(Pending::Subscriber(pending)),
            )
            .await?;
        self.subscriber.unsubscribing.insert(subscription, request);
        Ok(())
    }

    pub(super) async fn on_subscribed(&mut self, request: Id, subscription: Id) -> Step {
        let pending = self
            .take_answered::<SubscriberRequest>(request, code::SUBSCRIBE, "SUBSCRIBED")
            .await?;
        match pending {
            Some(SubscriberRequest::Resubscribe(restored)) => {
                self.resubscribed(*restored, subscription).await
            }
            Some(SubscriberRequest::Subscribe(pending)) => {
                self.subscribed(request, pending, subscription).await
            }
            Some(SubscriberRequest::Unsubscribe(_)) | None => Ok(()),
        }
    }

    async fn subscribed(
        &mut self,
        request: Id,
        pending: Box<SubscribeRequest>,
        subscription: Id,
    ) -> Step {
        if self
            .subscriber
            .unsubscribing
            .get(&subscription)
            .is_some_and(|&unsubscribe| request < unsubscribe)
        {
            // The router merged this SUBSCRIBE into a subscription that an UNSUBSCRIBE sent
            // after it is removing: subscribe again once that is done.
            return self.subscribe(pending).await;
        }
        let SubscribeRequest {
            options,
            events,
            reply,
        } = *pending;
        events.set_subscription(subscription);
        let queue = events.queue_ref();
        let subscriptions = &mut self.subscriber.subscriptions;
        let entry = match subscriptions.remove(&subscription) {
            // The router merged it into a subscription this session has already.
            Some(entry) => entry.with(events),
            None => SubscriptionEntry::new(events, options),
        };
        subscriptions.insert(subscription, entry);
        if reply.send(Ok(subscription)).is_err() {
            // The subscriber gave up waiting: undo.
            self.unsubscribe(&queue, None).await?;
        }
        Ok(())
    }

    /// Restored after a reconnect: every local subscription carries on, except those
    /// unsubscribed while this SUBSCRIBE was on its way (their UNSUBSCRIBE found no router id to
    /// send).
    async fn resubscribed(&mut self, restored: SubscriptionEntry, subscription: Id) -> Step {
        let Some(restored) = restored.retain(|sink| !sink.is_closed()) else {
            if self.subscriber.subscriptions.contains_key(&subscription) {
                return Ok(());
            }
            return self.unsubscribe_router(subscription, None).await;
        };
        for sink in restored.sinks() {
            sink.set_subscription(subscription);
        }
        let subscriptions = &mut self.subscriber.subscriptions;
        let entry = match subscriptions.remove(&subscription) {
            Some(entry) => entry.merge(restored),
            None => restored,
        };
        subscriptions.insert(subscription, entry);
        Ok(())
    }

    pub(super) async fn on_unsubscribed(&mut self, request: Id, details: Option<Dict>) -> Step {
        if request == 0 {
            self.subscription_revoked(details.as_ref());
            return Ok(());
        }
        self.subscriber
            .unsubscribing
            .retain(|_, unsubscribe| *unsubscribe != request);
        if let Some(SubscriberRequest::Unsubscribe(Some(reply))) = self
            .take_answered::<SubscriberRequest>(request, code::UNSUBSCRIBE, "UNSUBSCRIBED")
            .await?
        {
            let _ = reply.send(Ok(()));
        }
        Ok(())
    }

    /// UNSUBSCRIBED without a request: the router removed the subscription.
    fn subscription_revoked(&mut self, details: Option<&Dict>) {
        let revoked = details
            .and_then(|d| d.get("subscription"))
            .and_then(Value::as_u64);
        if let Some(entry) = revoked.and_then(|id| self.subscriber.subscriptions.remove(&id)) {
            let reason = revocation_reason(details);
            tracing::info!(topic = entry.topic(), %reason, "the router revoked a subscription");
            for sink in entry.sinks() {
                sink.revoke(reason.clone());
            }
            // Dropping the senders ends the subscriptions' streams.
            drop(entry);
        }
    }

    /// ERROR for a SUBSCRIBE or an UNSUBSCRIBE.
    pub(super) async fn on_subscriber_error(
        &mut self,
        request: Id,
        request_type: u64,
        error: WampError,
    ) -> Step {
        if request_type == code::UNSUBSCRIBE {
            self.subscriber
                .unsubscribing
                .retain(|_, unsubscribe| *unsubscribe != request);
        }
        if let Some(pending) = self
            .take_answered::<SubscriberRequest>(request, request_type, "ERROR")
            .await?
        {
            pending.fail(Error::Wamp(error));
        }
        Ok(())
    }

    pub(super) fn on_event(
        &mut self,
        subscription: Id,
        publication: Id,
        details: Dict,
        payload: Payload,
    ) {
        let Some(entry) = self.subscriber.subscriptions.get(&subscription) else {
            // Possible right after an unsubscribe: the router sent it before processing ours.
            tracing::debug!(
                subscription,
                "ignoring an EVENT for an unknown subscription"
            );
            return;
        };
        // A pattern-based subscription's events name their concrete topic; the others share
        // the subscribed topic with their queue (no copy per event).
        let concrete = details
            .get("topic")
            .and_then(Value::as_str)
            .map(Topic::from);
        let Some((last, rest)) = entry.sinks().split_last() else {
            return;
        };
        let topic_of = |sink: &EventSender| match &concrete {
            Some(topic) => topic.clone(),
            None => sink.topic_ref(),
        };
        let mut payload = payload;
        let payload_error = self
            .open_payload(
                PayloadRole::Responder,
                true,
                concrete.as_deref().unwrap_or_else(|| last.topic()),
                &details,
                &mut payload,
            )
            .err()
            .map(Box::new);
        let session = self
            .shared
            .upgrade()
            .map(crate::session::Session::from_shared);
        let event = Event {
            topic: topic_of(last),
            subscription,
            publication,
            details,
            payload,
            session,
            payload_error,
        };
        // Every local subscription sharing this router subscription gets every event. A
        // subscriber whose stream was dropped gets none (the queue sees to that) and is removed
        // when its Unsubscribe arrives.
        let size = self.frame_len;
        for sink in rest {
            let event = Event {
                topic: topic_of(sink),
                ..event.clone()
            };
            self.handoff.event_queued(sink.send(event, size));
        }
        self.handoff.event_queued(last.send(event, size));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::event_queue::channel;

    #[test]
    fn a_lost_connection_keeps_subscriptions_in_flight_and_completes_removals() {
        let mut subscriber = Subscriber::default();
        let (events, _events_rx) = channel("com.example.a".to_owned(), 4, usize::MAX);
        let (reply, _reply_rx) = oneshot::channel();
        let request = SubscribeRequest {
            options: Dict::new(),
            events,
            reply,
        };
        subscriber
            .pending
            .insert(1, SubscriberRequest::Subscribe(Box::new(request)));
        let (sink, _sink_rx) = channel("com.example.b".to_owned(), 4, usize::MAX);
        let entry = SubscriptionEntry::new(sink, Dict::new());
        subscriber
            .pending
            .insert(2, SubscriberRequest::Resubscribe(Box::new(entry)));
        let (unsubscribed, mut unsubscribed_rx) = oneshot::channel();
        subscriber
            .pending
            .insert(3, SubscriberRequest::Unsubscribe(Some(unsubscribed)));
        subscriber.unsubscribing.insert(7, 3);

        let mut waiting = Vec::new();
        subscriber.connection_lost(&mut waiting);

        assert!(subscriber.pending.is_empty() && subscriber.unsubscribing.is_empty());
        assert!(matches!(waiting.as_slice(), [Command::Subscribe(_)]));
        assert_eq!(subscriber.restoring.len(), 1);
        assert!(matches!(unsubscribed_rx.try_recv(), Ok(Ok(()))));
    }
}

//! The bounded queue between the session task and one [`Subscription`](crate::Subscription),
//! and the rest of what the two share about it (its topic, its revocation): one allocation per
//! subscription.
//!
//! The session task never waits on a subscriber: a subscriber that falls behind by more than
//! the queue's capacity (a number of events, and a byte budget on their encoded size) loses its
//! *oldest* events, which are counted
//! ([`Subscription::dropped`](crate::Subscription::dropped)) and logged once per burst. Memory
//! stays bounded whatever the subscriber does, and no other subscription, call or invocation
//! waits for it. (Backpressure instead would stop the whole connection for one slow consumer,
//! and deadlock a subscriber that itself waits on a call.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};

use crate::payload::{Event, Topic};
use crate::wire::Id;

/// Events a subscription buffers by default before dropping the oldest.
pub const DEFAULT_EVENT_BUFFER: usize = 10_000;

/// Bytes of unread events (their encoded size as received) a subscription buffers by default
/// before dropping the oldest: 16 MiB, the default largest message, so that 10,000 events of up
/// to 1.6 KiB each fit both bounds, while a flood of large events cannot hold 10,000 times the
/// message size.
pub const DEFAULT_EVENT_BUFFER_BYTES: usize = 16 * 1024 * 1024;

/// What the session task and a subscription's handle share: one allocation, in every
/// subscription, so kept small.
struct Shared {
    /// The queue and its bookkeeping behind one lock: each side takes it once per event anyway,
    /// and one lock takes less room than separate atomics, each padded to its own word.
    state: Mutex<State>,
    /// The subscribed topic (or pattern): the handle shows it, the session task subscribes with
    /// it again after a reconnect.
    topic: Box<str>,
    /// Why the router revoked the subscription, once it has (set before the sender is dropped).
    /// Behind a thin pointer: revocations are rare, and this is in every subscription.
    #[allow(clippy::box_collection)] // the box is what keeps the cell small
    revoked: OnceLock<Box<String>>,
    /// The router-side subscription that feeds the queue now (a reconnect changes it; 0 before
    /// the first SUBSCRIBED). Only the session task writes it; it reads it to find the
    /// subscription a handle unsubscribes from, and the handles show it as their id.
    subscription: AtomicU64,
}

struct State {
    /// Made on the first event and kept from then on: an idle subscription holds neither a
    /// buffer nor the deques' own fields (72 B against a pointer's 8, in every subscription).
    queue: Option<Box<Queued>>,
    /// At most this many bytes of events are queued (but always the newest event).
    byte_budget: u32,
    /// The receiver's waker while it waits; taken by whoever wakes it.
    waker: Option<Waker>,
    dropped: u64,
    /// At most this many events are queued (at least 1).
    capacity: u32,
    /// The sender is gone: the subscription has ended (after what is queued).
    closed: bool,
    /// The receiver is gone: nobody reads any more.
    abandoned: bool,
}

/// The queued events, oldest first, with their encoded sizes (counted against the byte
/// budget).
///
/// The sizes are kept in a deque of their own: each event is copied into the queue and out of
/// it, and an event (128 bytes, see the size test) is copied in a few register moves, where an
/// entry of an event and its size (136 bytes) took a call to `memcpy` each time.
#[derive(Default)]
struct Queued {
    events: VecDeque<Event>,
    sizes: VecDeque<u32>,
    /// The sum of `sizes`.
    bytes: u32,
}

impl Queued {
    fn push_back(&mut self, event: Event, size: u32) {
        self.events.push_back(event);
        self.sizes.push_back(size);
        self.bytes = self.bytes.saturating_add(size);
    }

    fn pop_front(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        let size = self.sizes.pop_front().unwrap_or(0);
        self.bytes = self.bytes.saturating_sub(size);
        Some(event)
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A queue of at most `capacity` events (at least 1; more than `u32::MAX` is taken as that) and
/// `byte_budget` bytes of them (but always the newest; more than `u32::MAX` is taken as that)
/// for a subscription to `topic`.
pub(crate) fn channel(
    topic: String,
    capacity: usize,
    byte_budget: usize,
) -> (EventSender, EventReceiver) {
    let capacity = u32::try_from(capacity).unwrap_or(u32::MAX).max(1);
    let byte_budget = u32::try_from(byte_budget).unwrap_or(u32::MAX);
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: None,
            byte_budget,
            waker: None,
            dropped: 0,
            capacity,
            closed: false,
            abandoned: false,
        }),
        topic: topic.into_boxed_str(),
        revoked: OnceLock::new(),
        subscription: AtomicU64::new(0),
    });
    (EventSender(Arc::clone(&shared)), EventReceiver(shared))
}

/// The session task's end.
pub(crate) struct EventSender(Arc<Shared>);

impl EventSender {
    /// Queues `event`, of `size` bytes as received, dropping the oldest queued ones while the
    /// queue is full (in events or bytes). An event for a receiver that is gone is dropped.
    ///
    /// Returns the receiver's waker if it was waiting for this event: the caller wakes it, and
    /// the session task does so once per batch of events rather than once per event. (On a
    /// multi-threaded runtime a wake per event makes the subscriber's thread take one event and
    /// sleep again, a thread switch per event.)
    #[must_use = "the returned waker must be woken"]
    pub(crate) fn send(&self, event: Event, size: usize) -> Option<Waker> {
        let size32 = u32::try_from(size).unwrap_or(u32::MAX);
        let (waker, dropped, capacity, byte_budget) = {
            let mut guard = self.0.state();
            let state = &mut *guard;
            if state.abandoned {
                return None;
            }
            // Grows only when a subscriber falls behind.
            let queue = state.queue.get_or_insert_with(Box::default);
            let before = state.dropped;
            while queue.events.len() >= state.capacity as usize
                || (!queue.events.is_empty()
                    && queue.bytes.saturating_add(size32) > state.byte_budget)
            {
                if queue.pop_front().is_none() {
                    break;
                }
                state.dropped += 1;
            }
            queue.push_back(event, size32);
            // Logged at 1, 2, 4, 8...: once per burst, not once per event.
            let log = (before..state.dropped).any(|n| (n + 1).is_power_of_two());
            let dropped = log.then_some(state.dropped);
            (
                state.waker.take(),
                dropped,
                state.capacity,
                state.byte_budget,
            )
        };
        if let Some(dropped) = dropped {
            tracing::warn!(
                dropped,
                capacity,
                byte_budget,
                "a subscriber is too slow: dropping its oldest events"
            );
        }
        waker
    }

    /// Whether the subscription handle is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.0.state().abandoned
    }

    /// The subscribed topic.
    pub(crate) fn topic(&self) -> &str {
        &self.0.topic
    }

    /// Records why the router revoked the subscription (the first reason stays); dropping the
    /// sender then ends the stream.
    pub(crate) fn revoke(&self, reason: String) {
        let _ = self.0.revoked.set(Box::new(reason));
    }

    /// Records the router-side subscription that feeds the queue now.
    pub(crate) fn set_subscription(&self, subscription: Id) {
        self.0.subscription.store(subscription, Ordering::Relaxed);
    }

    /// Whether this is the sender of the queue `queue` refers to.
    pub(crate) fn is(&self, queue: &QueueRef) -> bool {
        Arc::ptr_eq(&self.0, &queue.0)
    }

    /// A reference to this queue, to unsubscribe it.
    pub(crate) fn queue_ref(&self) -> QueueRef {
        QueueRef(Arc::clone(&self.0))
    }

    /// The subscribed topic, shared with this queue: an event's topic without a copy.
    pub(crate) fn topic_ref(&self) -> Topic {
        Topic::subscribed(QueueRef(self.0.clone()))
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.0.state();
            state.closed = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The subscription's end.
pub(crate) struct EventReceiver(Arc<Shared>);

impl EventReceiver {
    /// The next event; `None` once the sender is gone and the queue is empty.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut state = self.0.state();
        if let Some(event) = state.queue.as_mut().and_then(|queue| queue.pop_front()) {
            return Poll::Ready(Some(event));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        // Under the lock: an event or the close cannot slip in between the check and this.
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waker => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Waits for the next event.
    pub(crate) async fn recv(&self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// How many events were dropped because the queue was full (in events or bytes).
    pub(crate) fn dropped(&self) -> u64 {
        self.0.state().dropped
    }

    /// The subscribed topic.
    pub(crate) fn topic(&self) -> &str {
        &self.0.topic
    }

    /// The subscribed topic, shared with this queue.
    #[cfg(test)]
    pub(crate) fn topic_ref(&self) -> Topic {
        Topic::subscribed(QueueRef(self.0.clone()))
    }

    /// Why the router revoked the subscription, if it has.
    pub(crate) fn revoked(&self) -> Option<&str> {
        self.0.revoked.get().map(|reason| reason.as_str())
    }

    /// A reference to this queue, to see its revocation without reading its events, and to
    /// unsubscribe it.
    pub(crate) fn queue_ref(&self) -> QueueRef {
        QueueRef(Arc::clone(&self.0))
    }
}

/// A reference to a queue's shared state that neither sends nor receives: it names the local
/// subscription to the session task (which finds the router-side subscription through it,
/// whatever reconnects changed) and shows the revocation reason.
#[derive(Clone)]
pub(crate) struct QueueRef(Arc<Shared>);

impl QueueRef {
    /// The subscribed topic.
    pub(crate) fn topic(&self) -> &str {
        &self.0.topic
    }

    /// Why the router revoked the subscription, if it has.
    pub(crate) fn revoked(&self) -> Option<&str> {
        self.0.revoked.get().map(|reason| reason.as_str())
    }

    /// The router-side subscription that feeds the queue now (0 before the first SUBSCRIBED).
    pub(crate) fn subscription(&self) -> Id {
        self.0.subscription.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for QueueRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueRef")
            .field("topic", &self.0.topic)
            .finish_non_exhaustive()
    }
}

impl Drop for EventReceiver {
    fn drop(&mut self) {
        // Queued events share the topic with the queue (they hold this state): taking them here
        // is what frees it once both ends are gone. They are dropped after the lock is released.
        let _queue = {
            let mut state = self.0.state();
            state.abandoned = true;
            state.waker = None;
            state.queue.take()
        };
    }
}

impl std::fmt::Debug for EventReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (capacity, dropped) = {
            let state = self.0.state();
            (state.capacity, state.dropped)
        };
        f.debug_struct("EventReceiver")
            .field("topic", &self.0.topic)
            .field("capacity", &capacity)
            .field("dropped", &dropped)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Dict;
    use crate::wire::Payload;

    fn event(topic: Topic) -> Event {
        Event {
            topic,
            subscription: 1,
            publication: 1,
            details: Dict::new(),
            payload: Payload::Empty,
            session: None,
            payload_error: None,
        }
    }

    #[test]
    fn queued_events_sharing_the_topic_do_not_keep_the_queue_alive() {
        // Dropped unread, the receiver first or the sender first.
        for receiver_first in [true, false] {
            let (sender, receiver) = channel("com.example.a".to_owned(), 4, usize::MAX);
            let shared = Arc::downgrade(&receiver.0);
            for _ in 0..3 {
                let _ = sender.send(event(sender.topic_ref()), 10);
            }
            if receiver_first {
                drop(receiver);
                let _ = sender.send(event(sender.topic_ref()), 10);
                drop(sender);
            } else {
                drop(sender);
                drop(receiver);
            }
            assert!(
                shared.upgrade().is_none(),
                "receiver first: {receiver_first}"
            );
        }
    }

    #[test]
    fn an_event_kept_after_its_subscription_still_names_its_topic() {
        let (sender, receiver) = channel("com.example.a".to_owned(), 4, usize::MAX);
        let shared = Arc::downgrade(&receiver.0);
        let _ = sender.send(event(sender.topic_ref()), 10);
        let waker = futures_util::task::noop_waker();
        let Poll::Ready(Some(kept)) = receiver.poll_recv(&mut Context::from_waker(&waker)) else {
            panic!("the event was queued");
        };
        drop((sender, receiver));
        assert_eq!(kept.topic, "com.example.a");
        drop(kept);
        assert!(shared.upgrade().is_none());
    }

    /// The sizes the comment on `State::queue` quotes.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn an_idle_queue_takes_a_pointer_instead_of_a_deque() {
        assert_eq!(std::mem::size_of::<VecDeque<(Event, u32)>>(), 32);
        assert_eq!(
            std::mem::size_of::<Option<Box<VecDeque<(Event, u32)>>>>(),
            8
        );
    }
}

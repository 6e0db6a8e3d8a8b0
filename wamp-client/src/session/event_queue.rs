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
    /// At most this many events are queued (at least 1).
    capacity: u32,
    /// The sender is gone: the subscription has ended (after what is queued).
    closed: bool,
    /// The receiver is gone: nobody reads any more.
    abandoned: bool,
}

/// The queued events, oldest first, with their encoded sizes (counted against the byte
/// budget), and how many were dropped (only a queue that holds events drops any, so an idle
/// subscription does not keep the count).
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
    dropped: u64,
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

    /// Hands every queued event over to `hand` (empty), which gives its buffer in return.
    fn take_all(&mut self, hand: &mut VecDeque<Event>) {
        std::mem::swap(&mut self.events, hand);
        self.sizes.clear();
        self.bytes = 0;
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
            capacity,
            closed: false,
            abandoned: false,
        }),
        topic: topic.into_boxed_str(),
        revoked: OnceLock::new(),
        subscription: AtomicU64::new(0),
    });
    (
        EventSender(Arc::clone(&shared)),
        EventReceiver { shared, hand: None },
    )
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
            let before = queue.dropped;
            while queue.events.len() >= state.capacity as usize
                || (!queue.events.is_empty()
                    && queue.bytes.saturating_add(size32) > state.byte_budget)
            {
                if queue.pop_front().is_none() {
                    break;
                }
                queue.dropped += 1;
            }
            queue.push_back(event, size32);
            // Logged at 1, 2, 4, 8...: once per burst, not once per event.
            let log = (before..queue.dropped).any(|n| (n + 1).is_power_of_two());
            let dropped = log.then_some(queue.dropped);
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
pub(crate) struct EventReceiver {
    shared: Arc<Shared>,
    /// Events taken from the queue and not yet returned, oldest first: the receiver takes all
    /// that are queued at once, so that it takes the lock once per batch rather than once per
    /// event. Made on the first event (a pointer in every subscription handle, not a deque).
    #[allow(clippy::box_collection)] // the box is what keeps the handle small
    hand: Option<Box<VecDeque<Event>>>,
}

impl EventReceiver {
    /// The next event; `None` once the sender is gone and the queue is empty.
    ///
    /// Events taken in hand no longer count against the queue's bounds: they are the
    /// subscriber's, as a returned event is. (At most twice the bounds are held, half of it
    /// by a subscriber that is busy with the other half.)
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if let Some(event) = self.hand.as_mut().and_then(|hand| hand.pop_front()) {
            return Poll::Ready(Some(event));
        }
        let mut state = self.shared.state();
        if let Some(queue) = state
            .queue
            .as_mut()
            .filter(|queue| !queue.events.is_empty())
        {
            let hand = self.hand.get_or_insert_with(Box::default);
            queue.take_all(hand);
            drop(state);
            return Poll::Ready(hand.pop_front());
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
    pub(crate) async fn recv(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// How many events were dropped because the queue was full (in events or bytes).
    pub(crate) fn dropped(&self) -> u64 {
        self.shared
            .state()
            .queue
            .as_ref()
            .map_or(0, |queue| queue.dropped)
    }

    /// The subscribed topic.
    pub(crate) fn topic(&self) -> &str {
        &self.shared.topic
    }

    /// The subscribed topic, shared with this queue.
    #[cfg(test)]
    pub(crate) fn topic_ref(&self) -> Topic {
        Topic::subscribed(QueueRef(self.shared.clone()))
    }

    /// Why the router revoked the subscription, if it has.
    pub(crate) fn revoked(&self) -> Option<&str> {
        self.shared.revoked.get().map(|reason| reason.as_str())
    }

    /// A reference to this queue, to see its revocation without reading its events, and to
    /// unsubscribe it.
    pub(crate) fn queue_ref(&self) -> QueueRef {
        QueueRef(Arc::clone(&self.shared))
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
            let mut state = self.shared.state();
            state.abandoned = true;
            state.waker = None;
            state.queue.take()
        };
    }
}

impl std::fmt::Debug for EventReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (capacity, dropped) = {
            let state = self.shared.state();
            (
                state.capacity,
                state.queue.as_ref().map_or(0, |queue| queue.dropped),
            )
        };
        f.debug_struct("EventReceiver")
            .field("topic", &self.shared.topic)
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
            let shared = Arc::downgrade(&receiver.shared);
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
        let (sender, mut receiver) = channel("com.example.a".to_owned(), 4, usize::MAX);
        let shared = Arc::downgrade(&receiver.shared);
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

    fn publication(event: &Poll<Option<Event>>) -> Option<Id> {
        match event {
            Poll::Ready(Some(event)) => Some(event.publication),
            _ => None,
        }
    }

    #[test]
    fn events_in_hand_come_first_in_order_and_the_queue_bounds_the_rest() {
        let (sender, mut receiver) = channel("com.example.a".to_owned(), 3, usize::MAX);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let send = |publication: Id| {
            let _ = sender.send(
                Event {
                    publication,
                    ..event(sender.topic_ref())
                },
                10,
            );
        };
        for publication in 1..=3 {
            send(publication);
        }
        // Takes 1, 2 and 3 in hand, returns 1.
        assert_eq!(publication(&receiver.poll_recv(&mut cx)), Some(1));
        // The queue is empty again: it holds its own three, dropping the oldest beyond them;
        // the events in hand are the subscriber's and are not dropped.
        for publication in 4..=8 {
            send(publication);
        }
        assert_eq!(receiver.dropped(), 2);
        drop(sender);
        let rest: Vec<_> =
            std::iter::from_fn(|| publication(&receiver.poll_recv(&mut cx))).collect();
        assert_eq!(rest, [2, 3, 6, 7, 8]);
        assert!(matches!(receiver.poll_recv(&mut cx), Poll::Ready(None)));
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

    /// The shared state with the reference counts in front of it is 104 bytes: glibc's malloc
    /// serves it from its 112-byte chunks, where 8 more (the drop count, now in `Queued`) took
    /// a 128-byte one.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn the_shared_state_fits_a_112_byte_chunk() {
        assert_eq!(std::mem::size_of::<Shared>() + 2 * 8, 104);
    }
}

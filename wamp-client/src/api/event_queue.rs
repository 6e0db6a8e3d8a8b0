//! The bounded queue between the session task and one [`Subscription`](crate::Subscription).
//!
//! The session task never waits on a subscriber: a subscriber that falls behind by more than
//! the queue's capacity loses its *oldest* events, which are counted
//! ([`Subscription::dropped`](crate::Subscription::dropped)) and logged once per burst. Memory
//! stays bounded whatever the subscriber does, and no other subscription, call or invocation
//! waits for it. (Backpressure instead would stop the whole connection for one slow consumer,
//! and deadlock a subscriber that itself waits on a call.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use super::subscribe::Event;

/// Events a subscription buffers by default before dropping the oldest.
pub const DEFAULT_EVENT_BUFFER: usize = 10_000;

struct Shared {
    queue: Mutex<VecDeque<Event>>,
    capacity: usize,
    dropped: AtomicU64,
    /// The sender is gone: the subscription has ended (after what is queued).
    closed: AtomicBool,
    /// The receiver is gone: nobody reads any more.
    abandoned: AtomicBool,
    waker: AtomicWaker,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, VecDeque<Event>> {
        // A panic while holding this lock cannot leave the queue inconsistent.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A queue of at most `capacity` events (at least 1).
pub(crate) fn channel(capacity: usize) -> (EventSender, EventReceiver) {
    let capacity = capacity.max(1);
    let shared = Arc::new(Shared {
        // Grows only when a subscriber falls behind: an idle subscription holds no buffer.
        queue: Mutex::new(VecDeque::new()),
        capacity,
        dropped: AtomicU64::new(0),
        closed: AtomicBool::new(false),
        abandoned: AtomicBool::new(false),
        waker: AtomicWaker::new(),
    });
    (EventSender(Arc::clone(&shared)), EventReceiver(shared))
}

/// The session task's end.
pub(crate) struct EventSender(Arc<Shared>);

impl EventSender {
    /// Queues `event`, dropping the oldest queued one if the queue is full.
    pub(crate) fn send(&self, event: Event) {
        let overflow = {
            let mut queue = self.0.queue();
            let overflow = queue.len() >= self.0.capacity;
            if overflow {
                queue.pop_front();
            }
            queue.push_back(event);
            overflow
        };
        if overflow {
            let before = self.0.dropped.fetch_add(1, Ordering::Relaxed);
            if before == 0 || (before + 1).is_power_of_two() {
                tracing::warn!(
                    dropped = before + 1,
                    capacity = self.0.capacity,
                    "a subscriber is too slow: dropping its oldest events"
                );
            }
        }
        self.0.waker.wake();
    }

    /// Whether the subscription handle is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.0.abandoned.load(Ordering::Acquire)
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.waker.wake();
    }
}

/// The subscription's end.
pub(crate) struct EventReceiver(Arc<Shared>);

impl EventReceiver {
    /// The next event; `None` once the sender is gone and the queue is empty.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if let Some(event) = self.0.queue().pop_front() {
            return Poll::Ready(Some(event));
        }
        self.0.waker.register(cx.waker());
        // Check again: an event or the close may have come before the waker was registered.
        if let Some(event) = self.0.queue().pop_front() {
            return Poll::Ready(Some(event));
        }
        if self.0.closed.load(Ordering::Acquire) {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    /// Waits for the next event.
    pub(crate) async fn recv(&self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// How many events were dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for EventReceiver {
    fn drop(&mut self) {
        self.0.abandoned.store(true, Ordering::Release);
        self.0.queue().clear();
    }
}

impl std::fmt::Debug for EventReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventReceiver")
            .field("capacity", &self.0.capacity)
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

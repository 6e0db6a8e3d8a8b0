//! Subscribing to topics (the subscriber role).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::options::MatchPolicy;
use crate::payload::Event;
use crate::session::Session;
use crate::session::command::{Command, QueuedRequest, SubscribeRequest};
use crate::session::event_queue::{EventReceiver, QueueRef};
use crate::uri::UriUse;
use crate::value::{Dict, Value};
use crate::wire::Id;

/// A subscription being prepared. Created by [`Session::subscribe`]; `.await` sends it.
#[must_use = "a subscription is sent only when awaited"]
#[derive(Debug)]
pub struct Subscribe<'a> {
    session: &'a Session,
    topic: String,
    options: Dict,
    buffer: usize,
    buffer_bytes: usize,
}

impl Session {
    /// Subscribes to `topic`. `.await` the returned [`Subscribe`] to get a [`Subscription`], a
    /// [`Stream`] of [`Event`]s; dropping it unsubscribes.
    ///
    /// ```no_run
    /// # async fn demo(session: wampkit::Session) -> wampkit::Result<()> {
    /// use futures_util::StreamExt;
    ///
    /// let mut ticks = session.subscribe("com.example.tick").await?;
    /// while let Some(event) = ticks.next().await {
    ///     let n: i64 = event.arg(0)?;
    ///     println!("tick {n}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn subscribe(&self, topic: impl Into<String>) -> Subscribe<'_> {
        Subscribe {
            session: self,
            topic: topic.into(),
            options: Dict::new(),
            buffer: crate::session::event_queue::DEFAULT_EVENT_BUFFER,
            buffer_bytes: crate::session::event_queue::DEFAULT_EVENT_BUFFER_BYTES,
        }
    }
}

impl Subscribe<'_> {
    /// How published topics are matched against this subscription (default: exact).
    pub fn match_policy(self, policy: MatchPolicy) -> Self {
        if policy == MatchPolicy::Exact {
            return self;
        }
        self.option("match", policy.as_str())
    }

    /// Asks the router for the topic's retained event, if there is one (`get_retained`): it
    /// arrives right after the subscription is confirmed, with [`Event::retained`] set. The
    /// router must announce the broker feature `event_retention`. Crossbar.io keeps retained
    /// events per exact topic and sends none to prefix or wildcard subscriptions.
    pub fn get_retained(self) -> Self {
        self.option("get_retained", true)
    }

    /// How many unread events the subscription holds before it drops the oldest (default
    /// 10,000; see [`Subscription::dropped`]). The session never waits for a slow subscriber.
    ///
    /// The subscription takes the events queued for it in batches (all those queued when it
    /// finds none left in hand); a batch in hand is the subscriber's and no longer counts, so
    /// a subscriber busy with one may hold up to twice the bound.
    pub fn buffer(mut self, events: usize) -> Self {
        self.buffer = events.max(1);
        self
    }

    /// How many bytes of unread events (their size as received, encoded) the subscription
    /// holds before it drops the oldest (default 16 MiB; at most 4 GiB), alongside the count
    /// of [`buffer`](Subscribe::buffer): whichever is reached first drops the oldest events,
    /// counted in [`Subscription::dropped`]. The newest event is always kept, even one larger
    /// than the budget. Like the count, the budget bounds the events queued, not those the
    /// subscription has taken in hand.
    pub fn buffer_bytes(mut self, bytes: usize) -> Self {
        self.buffer_bytes = bytes;
        self
    }

    /// Sets a raw SUBSCRIBE option, for router-specific extensions.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }
}

impl IntoFuture for Subscribe<'_> {
    type Output = Result<Subscription>;
    type IntoFuture = SubscribeFuture;

    fn into_future(self) -> SubscribeFuture {
        let session = self.session.clone();
        let usage = match self.options.get("match").and_then(Value::as_str) {
            Some("wildcard") => UriUse::Wildcard { own: false },
            Some("prefix") => UriUse::Prefix { own: false },
            _ => UriUse::Reference,
        };
        #[allow(clippy::type_complexity)]
        let start = || -> Result<(
            oneshot::Receiver<Result<Id>>,
            EventReceiver,
            Option<QueuedRequest>,
        )> {
            session.uri_check().check(&self.topic, usage)?;
            // The queue's shared state holds the topic for both ends.
            let (events_tx, events) = crate::session::event_queue::channel(self.topic, self.buffer, self.buffer_bytes);
            let (reply, rx) = oneshot::channel();
            let queued = session.send_request(Command::Subscribe(Box::new(SubscribeRequest {
                options: self.options,
                events: events_tx,
                reply,
            })))?;
            Ok((rx, events, queued))
        };
        let (state, pending, queued) = match start() {
            Ok((rx, events, queued)) => (Ok(rx), Some(events), queued),
            Err(e) => (Err(Some(e)), None, None),
        };
        SubscribeFuture {
            state,
            pending,
            queued,
            session,
        }
    }
}

/// The future of an awaited [`Subscribe`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct SubscribeFuture {
    state: std::result::Result<oneshot::Receiver<Result<Id>>, Option<Error>>,
    pending: Option<EventReceiver>,
    /// The SUBSCRIBE, while it waits for room in the request queue.
    queued: Option<QueuedRequest>,
    session: Session,
}

impl Future for SubscribeFuture {
    type Output = Result<Subscription>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let closed = |session: &Session| Error::SessionClosed(session.close_reason());
        if let Err(e) = std::task::ready!(this.session.poll_outgoing(&mut this.queued, cx)) {
            return Poll::Ready(Err(e));
        }
        match &mut this.state {
            Ok(rx) => match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(Ok(_))) => match this.pending.take() {
                    Some(events) => Poll::Ready(Ok(Subscription {
                        events,
                        session: Some(this.session.clone()),
                    })),
                    None => Poll::Ready(Err(closed(&this.session))),
                },
                Poll::Ready(Ok(Err(e))) => Poll::Ready(Err(e)),
                Poll::Ready(Err(_)) => Poll::Ready(Err(closed(&this.session))),
                Poll::Pending => Poll::Pending,
            },
            Err(e) => Poll::Ready(Err(e.take().unwrap_or_else(|| closed(&this.session)))),
        }
    }
}

/// An active subscription: a [`Stream`] of [`Event`]s, in the order the router sent them.
///
/// The stream ends when the session closes or the router revokes the subscription. Dropping the
/// subscription unsubscribes (the router is told once no other local subscription shares the
/// same router-side subscription). Unread events wait in a bounded buffer
/// ([`Subscribe::buffer`]); a subscriber that falls further behind loses its oldest events,
/// counted by [`dropped`](Subscription::dropped). Read promptly, or use
/// [`handle`](Subscription::handle) to process events on a task of their own.
#[must_use = "dropping a Subscription unsubscribes at once: bind it to a named variable (`let _subscription = ...`), not `let _ = ...`, which drops it immediately"]
pub struct Subscription {
    /// The queue's shared state also holds the topic, the revocation reason and the router id.
    events: EventReceiver,
    /// Who unsubscribes when the handle goes: `None` once that is no longer the handle's job.
    session: Option<Session>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id())
            .field("topic", &self.topic())
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// The subscription id the router assigned (several local subscriptions may share it). A
    /// reconnected session subscribes again and gets a new one: this is always the current one.
    pub fn id(&self) -> Id {
        self.events.queue_ref().subscription()
    }

    /// The subscribed topic (or pattern).
    pub fn topic(&self) -> &str {
        self.events.topic()
    }

    /// If the router revoked the subscription (`subscription_revocation`), its reason; the
    /// stream has ended then.
    pub fn revoked(&self) -> Option<&str> {
        self.events.revoked()
    }

    /// How many events were dropped because this subscriber fell more than its buffer behind.
    pub fn dropped(&self) -> u64 {
        self.events.dropped()
    }

    /// Receives the next event; `None` once the subscription has ended.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Unsubscribes and waits for the router to confirm.
    pub async fn unsubscribe(mut self) -> Result<()> {
        // Taken, so that dropping the handle does not unsubscribe a second time.
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        let (reply, rx) = oneshot::channel();
        session.send(Command::Unsubscribe {
            queue: self.events.queue_ref(),
            reply: Some(reply),
        })?;
        rx.await
            .map_err(|_| Error::SessionClosed(session.close_reason()))?
    }

    /// Runs `handler` for every event, one at a time in arrival order, on a task of its own.
    /// Dropping the returned handle stops the task and unsubscribes.
    ///
    /// ```no_run
    /// # async fn demo(session: wampkit::Session) -> wampkit::Result<()> {
    /// let _ticks = session
    ///     .subscribe("com.example.tick")
    ///     .await?
    ///     .handle(|event| async move {
    ///         if let Ok(n) = event.arg::<i64>(0) {
    ///             println!("tick {n}");
    ///         }
    ///     });
    /// # Ok(()) }
    /// ```
    pub fn handle<F, Fut>(mut self, handler: F) -> HandlerTask
    where
        F: Fn(Event) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        // The handle, not the task, is responsible for unsubscribing from now on.
        let session = self.session.take();
        let queue = self.events.queue_ref();
        let task = tokio::spawn(async move {
            while let Some(event) = self.events.recv().await {
                handler(event).await;
            }
        });
        HandlerTask {
            session,
            queue,
            task,
        }
    }
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.send(Command::Unsubscribe {
                queue: self.events.queue_ref(),
                reply: None,
            });
        }
    }
}

/// A running handler task: a subscription whose events a handler processes on a task of its
/// own. Created by [`Subscription::handle`]. Dropping it stops the handler and unsubscribes.
#[must_use = "dropping a HandlerTask stops the handler and unsubscribes at once: bind it to a named variable (`let _handler = ...`), not `let _ = ...`, which drops it immediately"]
#[derive(Debug)]
pub struct HandlerTask {
    /// Who unsubscribes when the handle goes: `None` once that is done.
    session: Option<Session>,
    /// Names the subscription to unsubscribe, and holds the revocation reason and router id.
    queue: QueueRef,
    task: tokio::task::JoinHandle<()>,
}

impl HandlerTask {
    /// The subscription id the router assigned; after a reconnect, the new one.
    pub fn id(&self) -> Id {
        self.queue.subscription()
    }

    /// The subscribed topic (or pattern).
    pub fn topic(&self) -> &str {
        self.queue.topic()
    }

    /// Whether the handler task has ended (the session closed or the subscription was revoked).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// If the router revoked the subscription, its reason.
    pub fn revoked(&self) -> Option<&str> {
        self.queue.revoked()
    }

    /// Stops the handler and unsubscribes, waiting for the router to confirm.
    pub async fn unsubscribe(mut self) -> Result<()> {
        self.task.abort();
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        let (reply, rx) = oneshot::channel();
        session.send(Command::Unsubscribe {
            queue: self.queue.clone(),
            reply: Some(reply),
        })?;
        rx.await
            .map_err(|_| Error::SessionClosed(session.close_reason()))?
    }
}

impl Drop for HandlerTask {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(session) = self.session.take() {
            let _ = session.send(Command::Unsubscribe {
                queue: self.queue.clone(),
                reply: None,
            });
        }
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod size_tests {
    use super::Subscription;

    /// The handle is three pointers: the session, the queue, the events taken in hand. Its
    /// router id lives in the queue's shared state, where the session task updates it on a
    /// restore.
    #[test]
    fn a_subscription_handle_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Subscription>(), 24);
    }
}

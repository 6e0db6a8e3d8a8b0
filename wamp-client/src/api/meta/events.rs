//! Meta events as a stream of decoded records.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;

use crate::api::subscribe::Subscription;
use crate::error::{Error, Result};
use crate::payload::Event;
use crate::wire::Id;

/// A stream of decoded meta events, wrapping a [`Subscription`]. Created by [`Meta::on_join`](super::Meta::on_join)
/// and [`Meta::on_leave`](super::Meta::on_leave).
///
/// Each item is a decoded event, or [`Error::Payload`] if the router sent an event of another
/// shape (the stream goes on after it). Dropping the stream unsubscribes.
#[must_use = "dropping MetaEvents unsubscribes at once: bind it to a named variable (`let _events = ...`), not `let _ = ...`, which drops it immediately"]
pub struct MetaEvents<T> {
    subscription: Subscription,
    _event: PhantomData<fn() -> T>,
}

impl<T> MetaEvents<T> {
    pub(super) fn new(subscription: Subscription) -> Self {
        MetaEvents {
            subscription,
            _event: PhantomData,
        }
    }

    /// The subscription id the router assigned.
    pub fn id(&self) -> Id {
        self.subscription.id()
    }

    /// The underlying subscription, yielding raw [`Event`]s.
    pub fn into_subscription(self) -> Subscription {
        self.subscription
    }

    /// Unsubscribes and waits for the router to confirm.
    pub async fn unsubscribe(self) -> Result<()> {
        self.subscription.unsubscribe().await
    }
}

impl<T> fmt::Debug for MetaEvents<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaEvents")
            .field("subscription", &self.subscription)
            .finish()
    }
}

impl<T> Stream for MetaEvents<T>
where
    T: for<'e> TryFrom<&'e Event, Error = Error>,
{
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        Pin::new(&mut self.subscription)
            .poll_next(cx)
            .map(|event| event.map(|event| T::try_from(&event)))
    }
}

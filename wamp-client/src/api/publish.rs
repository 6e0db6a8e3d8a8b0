//! Publishing events (the publisher role).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::Serialize;
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::payload::arguments::{PendingArguments, StubArguments};
use crate::payload::{Arguments, PositionalArgs};
use crate::session::Session;
use crate::session::command::{Command, QueuedRequest, RequestExtra};
use crate::uri::UriUse;
use crate::value::{Dict, Value};
use crate::wire::Id;

/// A publication being prepared. Created by [`Session::publish`].
///
/// `.await` sends it without waiting for the router (fire and forget): it fails only if the
/// session is closed or the payload cannot be converted. Call
/// [`acknowledge`](Publish::acknowledge) to wait for the router's confirmation instead. If the
/// session's request queue is full
/// ([`max_queued_commands`](crate::SessionBuilder::max_queued_commands)), `.await` waits for
/// room: a publishing loop goes at the pace of the connection.
///
/// ```no_run
/// # async fn demo(session: wampkit::Session) -> wampkit::Result<()> {
/// session.publish("com.example.tick", (1, "one")).await?;
/// let publication = session.publish("com.example.tick", (2,)).kwarg("unit", "s").acknowledge().await?;
/// # Ok(()) }
/// ```
#[must_use = "a publication is sent only when awaited"]
#[derive(Debug)]
pub struct Publish<'a> {
    session: &'a Session,
    topic: String,
    arguments: PendingArguments,
    options: Dict,
}

impl Session {
    /// Publishes an event to `topic` with positional arguments `args` (a tuple, `Vec` or array;
    /// `()` for none, `(value,)` for one; see [`PositionalArgs`]). A struct goes with
    /// [`kwargs`](Publish::kwargs): subscribers receive its fields as keyword arguments (see
    /// [what a struct becomes on the wire](crate::rpc::Call#what-a-struct-becomes-on-the-wire)).
    ///
    /// The topic URI is checked before sending, by the session's
    /// [`uri_check`](crate::SessionBuilder::uri_check) (loosely by default; see [`crate::uri`]).
    pub fn publish(&self, topic: impl Into<String>, args: impl PositionalArgs) -> Publish<'_> {
        Publish {
            session: self,
            topic: topic.into(),
            arguments: PendingArguments::positional(&args, self.arguments_serializer()),
            options: Dict::new(),
        }
    }
}

impl<'a> Publish<'a> {
    /// Sets the keyword arguments from a struct or map: each field becomes one keyword argument.
    pub fn kwargs(mut self, kwargs: impl Serialize) -> Self {
        self.arguments.set_kwargs(&kwargs);
        self
    }

    /// Adds one keyword argument.
    pub fn kwarg(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        self.arguments.add_kwarg(key.into(), &value);
        self
    }

    /// Replaces positional and keyword arguments with prepared ones.
    pub fn arguments(mut self, arguments: Arguments) -> Self {
        self.arguments.set(arguments);
        self
    }

    /// Replaces positional and keyword arguments with those a `#[service]` stub prepared.
    #[doc(hidden)]
    pub fn stub_arguments(mut self, arguments: StubArguments) -> Self {
        self.arguments = arguments.0;
        self
    }

    /// Delivers the event to this session's own subscriptions too (`exclude_me` false; by
    /// default the publisher is excluded).
    pub fn include_me(self) -> Self {
        self.option("exclude_me", false)
    }

    /// Asks the router to disclose this publisher's identity to subscribers (`disclose_me`).
    pub fn disclose_me(self) -> Self {
        self.option("disclose_me", true)
    }

    /// Excludes the sessions with these ids from receiving the event (`exclude`; a blacklist).
    ///
    /// Replaces any list set before. The subscriber black- and whitelist options (`exclude*`
    /// and `eligible*`) all combine with AND: a subscriber receives the event only if it passes
    /// every condition present. Ids of sessions that are not (or no longer) joined are ignored.
    /// The router must announce the broker feature `subscriber_blackwhite_listing`.
    pub fn exclude(self, sessions: impl IntoIterator<Item = Id>) -> Self {
        self.option("exclude", id_list(sessions))
    }

    /// Excludes every session authenticated with one of these authids (`exclude_authid`).
    ///
    /// Replaces any list set before. Combines with the other `exclude*` and `eligible*`
    /// conditions with AND (see [`exclude`](Publish::exclude)).
    pub fn exclude_authid(self, authids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.option("exclude_authid", string_list(authids))
    }

    /// Excludes every session that has one of these authroles (`exclude_authrole`).
    ///
    /// Replaces any list set before. Combines with the other `exclude*` and `eligible*`
    /// conditions with AND (see [`exclude`](Publish::exclude)).
    pub fn exclude_authrole(self, authroles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.option("exclude_authrole", string_list(authroles))
    }

    /// Delivers the event only to the sessions with these ids (`eligible`; a whitelist).
    ///
    /// Replaces any list set before. Combines with the other `exclude*` and `eligible*`
    /// conditions with AND (see [`exclude`](Publish::exclude)): a session both eligible and
    /// excluded does not receive the event. Note that Crossbar.io ignores an empty list
    /// (everyone is eligible) instead of delivering to nobody.
    pub fn eligible(self, sessions: impl IntoIterator<Item = Id>) -> Self {
        self.option("eligible", id_list(sessions))
    }

    /// Delivers the event only to sessions authenticated with one of these authids
    /// (`eligible_authid`).
    ///
    /// Replaces any list set before. Combines with the other `exclude*` and `eligible*`
    /// conditions with AND (see [`exclude`](Publish::exclude)).
    pub fn eligible_authid(self, authids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.option("eligible_authid", string_list(authids))
    }

    /// Delivers the event only to sessions that have one of these authroles
    /// (`eligible_authrole`).
    ///
    /// Replaces any list set before. Combines with the other `exclude*` and `eligible*`
    /// conditions with AND (see [`exclude`](Publish::exclude)).
    pub fn eligible_authrole(self, authroles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.option("eligible_authrole", string_list(authroles))
    }

    /// Asks the router to keep this event as the topic's retained event (`retain`), to be sent
    /// to later subscribers that ask for it with
    /// [`Subscribe::get_retained`](crate::pubsub::Subscribe::get_retained).
    ///
    /// The event is also delivered to current subscribers as usual. A later retained
    /// publication replaces this one. The router must announce the broker feature
    /// `event_retention`.
    ///
    /// Crossbar.io (26.10) checks only the `exclude` and `eligible` session-id lists when it
    /// sends a retained event to a later subscriber (the authid and authrole lists are ignored
    /// then), and it needs both: after a retained publication with only one of them, it may
    /// never answer a later `get_retained` subscription to the topic.
    pub fn retain(self) -> Self {
        self.option("retain", true)
    }

    /// Sets a raw PUBLISH option, for router-specific extensions.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// Waits for the router to confirm the publication; the result is the publication id.
    pub fn acknowledge(self) -> AcknowledgedPublish<'a> {
        AcknowledgedPublish { publish: self }
    }

    /// Sends the PUBLISH, or leaves it waiting for room if the request queue is full.
    fn start(self, ack: Option<oneshot::Sender<Result<Id>>>) -> Result<Option<QueuedRequest>> {
        self.session.uri_check().check(&self.topic, UriUse::Own)?;
        self.session.check_payload_route(&self.topic, "broker")?;
        let payload = self.arguments.finish()?;
        let extra = RequestExtra {
            options: self.options,
            ..RequestExtra::default()
        };
        self.session.send_request(Command::Publish {
            topic: self.topic,
            payload,
            extra: extra.boxed_if_set(),
            ack,
        })
    }
}

/// A list option of session ids.
fn id_list(ids: impl IntoIterator<Item = Id>) -> Value {
    Value::List(ids.into_iter().map(Value::from).collect())
}

/// A list option of strings (authids or authroles).
fn string_list(items: impl IntoIterator<Item = impl Into<String>>) -> Value {
    Value::List(
        items
            .into_iter()
            .map(|item| Value::String(item.into()))
            .collect(),
    )
}

impl IntoFuture for Publish<'_> {
    type Output = Result<()>;
    type IntoFuture = PlainPublishFuture;

    fn into_future(self) -> Self::IntoFuture {
        let session = self.session.clone();
        let state = self.start(None).map_err(Some);
        PlainPublishFuture { state, session }
    }
}

/// The future of an awaited [`Publish`] (not acknowledged): ready once the publication is in
/// the session's request queue (at once unless the queue is full) or, having waited for room,
/// taken in by the session task.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct PlainPublishFuture {
    /// The publication while it waits for room, or why it failed.
    state: std::result::Result<Option<QueuedRequest>, Option<Error>>,
    session: Session,
}

impl Future for PlainPublishFuture {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match &mut this.state {
            Ok(queued) => this.session.poll_outgoing(queued, cx),
            Err(e) => Poll::Ready(Err(e
                .take()
                .unwrap_or_else(|| Error::SessionClosed(this.session.close_reason())))),
        }
    }
}

/// A publication that waits for the router's confirmation. Created by [`Publish::acknowledge`].
#[must_use = "a publication is sent only when awaited"]
#[derive(Debug)]
pub struct AcknowledgedPublish<'a> {
    publish: Publish<'a>,
}

impl IntoFuture for AcknowledgedPublish<'_> {
    type Output = Result<Id>;
    type IntoFuture = PublishFuture;

    fn into_future(self) -> PublishFuture {
        let session = self.publish.session.clone();
        let (reply, rx) = oneshot::channel();
        let (state, queued) = match self.publish.start(Some(reply)) {
            Ok(queued) => (Ok(rx), queued),
            Err(e) => (Err(Some(e)), None),
        };
        PublishFuture {
            state,
            queued,
            session,
        }
    }
}

/// The future of an awaited [`AcknowledgedPublish`]: resolves to the publication id.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct PublishFuture {
    state: std::result::Result<oneshot::Receiver<Result<Id>>, Option<Error>>,
    /// The PUBLISH, while it waits for room in the request queue.
    queued: Option<QueuedRequest>,
    session: Session,
}

impl Future for PublishFuture {
    type Output = Result<Id>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Err(e) = std::task::ready!(this.session.poll_outgoing(&mut this.queued, cx)) {
            return Poll::Ready(Err(e));
        }
        match &mut this.state {
            Ok(rx) => crate::session::reply::poll_reply(rx, cx).map(|result| {
                result.unwrap_or_else(|| Err(Error::SessionClosed(this.session.close_reason())))
            }),
            Err(e) => Poll::Ready(Err(e
                .take()
                .unwrap_or_else(|| Error::SessionClosed(this.session.close_reason())))),
        }
    }
}

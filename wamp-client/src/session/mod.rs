//! The session: a joined realm on an open connection.
//!
//! [`Session`] is a cheap handle (`Clone + Send + Sync`). One background task per session owns the
//! connection, the request ids and the tables of pending requests, registrations and
//! subscriptions; handles talk to it over a channel. Handlers never run on that task, so a callee
//! may call other procedures and a subscriber may publish on the same session.
//!
//! ```no_run
//! # async fn demo() -> wampkit::Result<()> {
//! use wampkit::{Arguments, Session};
//!
//! let session = Session::connect("ws://127.0.0.1:8080/ws", "realm1").await?;
//! let _registration = session
//!     .register("com.example.add", |inv: wampkit::Invocation| async move {
//!         let (a, b): (i64, i64) = inv.args()?;
//!         Ok(Arguments::single(a + b)?)
//!     })
//!     .await?;
//! let sum: i64 = session.call("com.example.add", (2, 3)).result().await?;
//! assert_eq!(sum, 5);
//! session.leave().await?;
//! # Ok(()) }
//! ```

mod actor;
mod auth_builder;
mod builder;
pub(crate) mod command;
mod connect_with;
mod diagnostics;
pub(crate) mod event_queue;
mod join;
mod keepalive_builder;
mod limits;
mod reconnect;
pub(crate) mod reply;
mod transport_builder;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

pub use crate::session_details::SessionDetails;
pub use crate::uri::UriCheck;
pub use builder::{SessionBuilder, TimeoutUnit};
pub use diagnostics::Diagnostics;
pub use limits::{
    DEFAULT_MAX_CONCURRENT_INVOCATIONS, DEFAULT_MAX_PROGRESS_BUFFER, DEFAULT_MAX_QUEUED_COMMANDS,
};
pub(crate) use limits::{Limits, clamp_bound};
pub use reconnect::{ReconnectPolicy, SessionState, SessionStates};

use self::command::{Admission, Command, Gate, QueuedRequest};
use crate::error::{CloseInitiator, CloseReason, Error, ErrorUri, Result};
use crate::options::CancelMode;
use crate::transport;
use crate::wire::{Id, Serializer};

/// State shared by every handle of one session.
pub(crate) struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    /// Bounds the requests in the command queue (see `command`).
    gate: Arc<Gate>,
    /// What the current join established; replaced when a reconnecting session rejoins.
    current: std::sync::RwLock<Current>,
    /// The current serializer's place in [`Serializer::ALL`], read without the lock by each
    /// request that encodes its arguments in the caller's task.
    serializer: AtomicU8,
    closed: watch::Receiver<Option<CloseReason>>,
    state: watch::Receiver<SessionState>,
    uri_check: UriCheck,
    next_local_id: AtomicU64,
    cancel_mode: CancelMode,
    router_timeout_unit: TimeoutUnit,
    /// Tells the session task that a handle wants to leave (or that the last one is gone), so
    /// that a write blocked on a router that stopped reading does not hold the leave up.
    leave_requested: Arc<tokio::sync::Notify>,
    limits: Limits,
    /// The end-to-end payload codec, to refuse an encoded request the router cannot carry
    /// before it is queued.
    payload_codec: Option<Arc<dyn crate::e2ee::PayloadCodec>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.leave_requested.notify_one();
    }
}

/// The session as the current join established it.
#[derive(Clone)]
pub(crate) struct Current {
    pub(crate) details: Arc<SessionDetails>,
    pub(crate) serializer: Serializer,
}

impl Shared {
    pub(crate) fn current(&self) -> Current {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn set_current(&self, current: Current) {
        self.serializer
            .store(serializer_index(current.serializer), Ordering::Relaxed);
        match self.current.write() {
            Ok(mut slot) => *slot = current,
            Err(poisoned) => *poisoned.into_inner() = current,
        }
    }
}

/// `serializer`'s place in [`Serializer::ALL`].
pub(crate) fn serializer_index(serializer: Serializer) -> u8 {
    let index = Serializer::ALL.iter().position(|s| *s == serializer);
    index.and_then(|i| u8::try_from(i).ok()).unwrap_or(0)
}

/// An open, joined connection: what connecting (or reconnecting) produces.
pub(crate) struct Joined {
    pub(crate) transport: Box<dyn transport::Transport>,
    pub(crate) serializer: Serializer,
    pub(crate) details: SessionDetails,
}

/// Opens and joins a new connection with the builder's settings (for reconnects).
pub(crate) type Connector = Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Joined>> + Send>>
        + Send
        + Sync,
>;

/// A WAMP session joined to a realm.
///
/// Cloning is cheap; all clones drive the same session. The session stays open until
/// [`leave`](Session::leave) is called, the router closes it, the connection breaks, or every
/// handle (sessions, registrations, subscriptions) is dropped.
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.shared.current();
        f.debug_struct("Session")
            .field("id", &current.details.session)
            .field("realm", &current.details.realm)
            .field("serializer", &current.serializer)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Session {
    /// Connects to the router at `url` (`ws://`, `wss://`, `rs://`, `rss://` or `unix://`) and
    /// joins `realm` anonymously, with the
    /// default settings. Use [`Session::builder`] for anything else.
    pub async fn connect(url: &str, realm: &str) -> Result<Session> {
        Session::builder(url, realm).connect().await
    }

    /// A builder to choose serializers, timeouts and other settings before connecting.
    pub fn builder(url: impl Into<String>, realm: impl Into<String>) -> SessionBuilder {
        SessionBuilder::new(url.into(), realm.into())
    }

    /// The session id the router assigned.
    pub fn id(&self) -> Id {
        self.shared.current().details.session
    }

    /// The WELCOME details: authid, authrole, router roles and features. A reconnected session
    /// has new ones (a new session id, among others).
    pub fn details(&self) -> Arc<SessionDetails> {
        self.shared.current().details
    }

    /// Where the session is: joined, disconnected, reconnecting or closed.
    pub fn state(&self) -> SessionState {
        self.shared.state.borrow().clone()
    }

    /// The session's states as a stream, starting with the current one: useful to log
    /// reconnects or to wait for the session to rejoin.
    pub fn states(&self) -> SessionStates {
        SessionStates::new(self.shared.state.clone())
    }

    /// The serializer agreed with the router.
    pub fn serializer(&self) -> Serializer {
        self.shared.current().serializer
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.borrow().is_some()
    }

    /// Waits until the session ends and says why: a router kill, a lost connection, or a leave.
    pub async fn closed(&self) -> CloseReason {
        let mut closed = self.shared.closed.clone();
        loop {
            if let Some(reason) = closed.borrow_and_update().clone() {
                return reason;
            }
            if closed.changed().await.is_err() {
                return self.close_reason();
            }
        }
    }

    /// Leaves the realm: sends GOODBYE (`wamp.close.close_realm`), waits for the router's GOODBYE
    /// (at most the builder's leave timeout), then closes the connection. Pending calls fail with
    /// [`Error::SessionClosed`]; running invocation handlers are aborted.
    pub async fn leave(&self) -> Result<CloseReason> {
        self.leave_with(ErrorUri::CloseRealm.as_str(), None).await
    }

    /// Leaves the realm with a specific reason URI and message.
    pub async fn leave_with(&self, reason: &str, message: Option<&str>) -> Result<CloseReason> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Leave {
            reason: reason.to_owned(),
            message: message.map(str::to_owned),
            reply,
        })?;
        // A session task stuck writing to a router that stopped reading would never get to it.
        self.shared.leave_requested.notify_one();
        rx.await
            .map_err(|_| Error::SessionClosed(self.close_reason()))
    }

    /// The sizes of the session task's tables: what is pending, running and subscribed. Useful to
    /// check that nothing accumulates (every request resolved, every handler finished).
    pub async fn diagnostics(&self) -> Result<Diagnostics> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Diagnostics { reply })?;
        rx.await
            .map_err(|_| Error::SessionClosed(self.close_reason()))
    }

    /// Hands a control command (not a request: see `Command::is_request`) to the session task.
    pub(crate) fn send(&self, command: Command) -> Result<()> {
        self.shared
            .commands
            .send(command)
            .map_err(|_| Error::SessionClosed(self.close_reason()))
    }

    /// Hands a request to the session task if the queue has room; otherwise it waits for room
    /// in the gate's room, under a new local id: poll it with [`Session::poll_outgoing`].
    pub(crate) fn send_request(&self, command: Command) -> Result<Option<QueuedRequest>> {
        let command = match self.shared.gate.admit(command) {
            Admission::Now(command) => return self.send(command).map(|()| None),
            Admission::Full(command) => command,
            Admission::Closed => return Err(Error::SessionClosed(self.close_reason())),
        };
        let key = self.next_local_id();
        self.wait_for_room(key, command)?;
        Ok(Some(QueuedRequest::new(Arc::clone(&self.shared.gate), key)))
    }

    /// [`Session::send_request`] for a call, which waits under its own key: `Ok(false)` if it
    /// waits for room (see [`Session::poll_queued`] and [`Session::withdraw`]).
    pub(crate) fn send_request_as(&self, key: u64, command: Command) -> Result<bool> {
        match self.shared.gate.admit(command) {
            Admission::Now(command) => self.send(command).map(|()| true),
            Admission::Full(command) => self.wait_for_room(key, command).map(|()| false),
            Admission::Closed => Err(Error::SessionClosed(self.close_reason())),
        }
    }

    fn wait_for_room(&self, key: u64, command: Command) -> Result<()> {
        self.shared
            .gate
            .wait(key, command)
            .map_err(|_| Error::SessionClosed(self.close_reason()))
    }

    /// Hands a request to the session task, or fails with [`Error::QueueFull`] if the queue has
    /// no room: for the requests that cannot wait.
    pub(crate) fn send_request_now(&self, command: Command) -> Result<()> {
        match self.shared.gate.admit(command) {
            Admission::Now(command) => self.send(command),
            Admission::Full(_) => Err(Error::QueueFull {
                limit: self.shared.limits.max_queued_commands,
            }),
            Admission::Closed => Err(Error::SessionClosed(self.close_reason())),
        }
    }

    /// `Ready(Ok)` once `queued`, if there is one, has been taken in by the session task.
    pub(crate) fn poll_outgoing(
        &self,
        queued: &mut Option<QueuedRequest>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        let Some(request) = queued else {
            return std::task::Poll::Ready(Ok(()));
        };
        let taken = std::task::ready!(request.poll_taken(cx));
        *queued = None;
        std::task::Poll::Ready(self.taken_or_closed(taken))
    }

    /// `Ready(Ok)` once the call waiting for room under `key` has been taken in by the session
    /// task.
    pub(crate) fn poll_queued(
        &self,
        key: u64,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        self.shared
            .gate
            .poll_taken(key, cx)
            .map(|taken| self.taken_or_closed(taken))
    }

    fn taken_or_closed(&self, taken: bool) -> Result<()> {
        if taken {
            Ok(())
        } else {
            Err(Error::SessionClosed(self.close_reason()))
        }
    }

    /// Withdraws the call waiting for room under `key`: `false` if the session task has taken
    /// it in already (then it has been or will be sent).
    pub(crate) fn withdraw(&self, key: u64) -> bool {
        self.shared.gate.withdraw(key)
    }

    /// Why the session closed (a generic reason if the task is gone without saying).
    pub(crate) fn close_reason(&self) -> CloseReason {
        self.shared.closed.borrow().clone().unwrap_or_else(|| {
            CloseReason::new(
                ErrorUri::SystemShutdown,
                Some("the session task has stopped".into()),
                CloseInitiator::Transport,
            )
        })
    }

    /// Refuses a CALL (`router_role` `dealer`) or PUBLISH (`broker`) to `uri` that the payload
    /// codec would encode, if the router did not announce the payload passthru mode: sending
    /// it would be a protocol violation.
    pub(crate) fn check_payload_route(&self, uri: &str, router_role: &'static str) -> Result<()> {
        let Some(codec) = &self.shared.payload_codec else {
            return Ok(());
        };
        let details = || Some(self.shared.current().details);
        Ok(crate::e2ee::check_route(
            &**codec,
            uri,
            router_role,
            details,
        )?)
    }

    /// The serializer a request encodes its arguments in, in the caller's task: the current
    /// one (should a reconnect change it, the session task converts them). `None` when the
    /// session has a payload codec, which takes the arguments as values.
    pub(crate) fn arguments_serializer(&self) -> Option<Serializer> {
        if self.shared.payload_codec.is_some() {
            return None;
        }
        let index = self.shared.serializer.load(Ordering::Relaxed);
        Serializer::ALL.get(usize::from(index)).copied()
    }

    pub(crate) fn uri_check(&self) -> UriCheck {
        self.shared.uri_check
    }

    pub(crate) fn default_cancel_mode(&self) -> CancelMode {
        self.shared.cancel_mode
    }

    /// The CALL `timeout` option value for `timeout`, in the unit the router reads.
    pub(crate) fn router_timeout_value(&self, timeout: Duration) -> crate::value::Value {
        let in_seconds = match self.shared.router_timeout_unit {
            TimeoutUnit::Seconds => true,
            TimeoutUnit::Milliseconds => false,
            TimeoutUnit::Auto => self.shared.current().details.router_is_crossbar(),
        };
        let value = if in_seconds {
            // Crossbar counts whole seconds; round up so a timeout is never shortened to zero.
            timeout.as_millis().div_ceil(1000)
        } else {
            timeout.as_millis().max(1)
        };
        crate::value::Value::UInt(u64::try_from(value).unwrap_or(u64::MAX))
    }

    pub(crate) fn limits(&self) -> Limits {
        self.shared.limits
    }

    pub(crate) fn next_local_id(&self) -> u64 {
        self.shared.next_local_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Session { shared }
    }
}

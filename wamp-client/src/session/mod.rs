//! The session: a joined realm on an open connection.
//!
//! [`Session`] is a cheap handle (`Clone + Send + Sync`). One background task per session owns the
//! connection, the request ids and the tables of pending requests, registrations and
//! subscriptions; handles talk to it over a channel. Handlers never run on that task, so a callee
//! may call other procedures and a subscriber may publish on the same session.
//!
//! ```no_run
//! # async fn demo() -> wamp_client::Result<()> {
//! use wamp_client::{Arguments, Session};
//!
//! let session = Session::connect("ws://127.0.0.1:8080/ws", "realm1").await?;
//! let _registration = session
//!     .register("com.example.add", |inv: wamp_client::Invocation| async move {
//!         let (a, b): (i64, i64) = inv.args()?;
//!         Ok(Arguments::single(a + b)?)
//!     })
//!     .await?;
//! let sum: i64 = session.call("com.example.add", (2, 3)).await?.arg(0)?;
//! assert_eq!(sum, 5);
//! session.leave().await?;
//! # Ok(()) }
//! ```

mod actor;
mod auth_builder;
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument as _;

pub use crate::session_details::SessionDetails;
pub use crate::uri::UriCheck;
pub use diagnostics::Diagnostics;
pub use limits::{
    DEFAULT_MAX_CONCURRENT_INVOCATIONS, DEFAULT_MAX_PROGRESS_BUFFER, DEFAULT_MAX_QUEUED_COMMANDS,
};
pub(crate) use limits::{Limits, clamp_bound};
pub use reconnect::{ReconnectPolicy, SessionState, SessionStates};

use self::command::{Command, CommandReceiver, QueuedRequest};
use crate::error::{CloseInitiator, CloseReason, Error, ErrorUri, Result};
use crate::options::CancelMode;
use crate::transport::{self, TransportOptions};
use crate::wire::{Id, Serializer};

/// State shared by every handle of one session.
pub(crate) struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    /// Permits for requests in the command queue (see `command`).
    gate: Arc<tokio::sync::Semaphore>,
    /// What the current join established; replaced when a reconnecting session rejoins.
    current: std::sync::RwLock<Current>,
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
        match self.current.write() {
            Ok(mut slot) => *slot = current,
            Err(poisoned) => *poisoned.into_inner() = current,
        }
    }
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
        SessionBuilder {
            url: url.into(),
            realm: realm.into(),
            serializers: Serializer::ALL.to_vec(),
            uri_check: UriCheck::default(),
            join_timeout: Duration::from_secs(15),
            leave_timeout: Duration::from_secs(5),
            trace_payloads: false,
            transport: TransportOptions::default(),
            auth: crate::auth::AuthConfig::default(),
            agent: concat!("wamp-client-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            cancel_mode: CancelMode::default(),
            router_timeout_unit: TimeoutUnit::default(),
            interrupt_grace: Duration::from_secs(2),
            reconnect: None,
            limits: Limits::default(),
        }
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

    /// Hands a request to the session task if the queue has room; otherwise gives it back,
    /// queued for room, to be sent with [`Session::poll_queued`].
    pub(crate) fn send_request(&self, command: Command) -> Result<Option<Box<QueuedRequest>>> {
        match self.shared.gate.try_acquire() {
            Ok(permit) => {
                // The session task returns it when it takes the request in.
                permit.forget();
                self.send(command).map(|()| None)
            }
            Err(tokio::sync::TryAcquireError::NoPermits) => Ok(Some(QueuedRequest::new(
                command,
                Arc::clone(&self.shared.gate),
            ))),
            Err(tokio::sync::TryAcquireError::Closed) => {
                Err(Error::SessionClosed(self.close_reason()))
            }
        }
    }

    /// Hands a request to the session task, or fails with [`Error::QueueFull`] if the queue has
    /// no room: for the requests that cannot wait.
    pub(crate) fn send_request_now(&self, command: Command) -> Result<()> {
        match self.send_request(command)? {
            None => Ok(()),
            Some(_) => Err(Error::QueueFull {
                limit: self.shared.limits.max_queued_commands,
            }),
        }
    }

    /// Sends `queued`, if there is one, once the queue has room; `Ready(Ok)` once nothing waits.
    pub(crate) fn poll_outgoing(
        &self,
        queued: &mut Option<Box<QueuedRequest>>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        let Some(request) = queued else {
            return std::task::Poll::Ready(Ok(()));
        };
        let sent = std::task::ready!(self.poll_queued(request, cx));
        *queued = None;
        std::task::Poll::Ready(sent)
    }

    /// Sends a queued request once the queue has room.
    pub(crate) fn poll_queued(
        &self,
        queued: &mut QueuedRequest,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        queued
            .poll_send(cx, |command| self.shared.commands.send(command).is_ok())
            .map(|sent| {
                if sent {
                    Ok(())
                } else {
                    Err(Error::SessionClosed(self.close_reason()))
                }
            })
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

/// Settings for a new session. Created by [`Session::builder`].
///
/// ```no_run
/// # async fn demo() -> wamp_client::Result<()> {
/// use std::time::Duration;
/// use wamp_client::{Serializer, Session};
///
/// let session = Session::builder("ws://127.0.0.1:8080/ws", "realm1")
///     .serializers([Serializer::MsgPack, Serializer::Json])
///     .join_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct SessionBuilder {
    url: String,
    realm: String,
    serializers: Vec<Serializer>,
    uri_check: UriCheck,
    join_timeout: Duration,
    leave_timeout: Duration,
    trace_payloads: bool,
    pub(super) transport: TransportOptions,
    pub(super) auth: crate::auth::AuthConfig,
    agent: String,
    cancel_mode: CancelMode,
    router_timeout_unit: TimeoutUnit,
    interrupt_grace: Duration,
    reconnect: Option<ReconnectPolicy>,
    limits: Limits,
}

impl fmt::Debug for SessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            // The URL may carry a password or a token.
            .field("url", &transport::redact_url(&self.url))
            .field("realm", &self.realm)
            .field("serializers", &self.serializers)
            .field("uri_check", &self.uri_check)
            .field("join_timeout", &self.join_timeout)
            .field("leave_timeout", &self.leave_timeout)
            .field("trace_payloads", &self.trace_payloads)
            .field("transport", &self.transport)
            .field("auth", &self.auth)
            .field("agent", &self.agent)
            .field("cancel_mode", &self.cancel_mode)
            .field("router_timeout_unit", &self.router_timeout_unit)
            .field("interrupt_grace", &self.interrupt_grace)
            .field("reconnect", &self.reconnect)
            .field("limits", &self.limits)
            .finish()
    }
}

/// The unit in which the router reads the CALL `timeout` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimeoutUnit {
    /// Seconds for Crossbar.io (recognised by its `x_cb_*` WELCOME details), milliseconds for
    /// every other router.
    #[default]
    Auto,
    /// Milliseconds, as the specification says.
    Milliseconds,
    /// Whole seconds, as Crossbar.io reads it.
    Seconds,
}

impl SessionBuilder {
    /// Reconnects automatically after a lost connection, following `policy`: the session
    /// rejoins and restores every registration and subscription with its original options and
    /// handlers (services registered through the macros included). Without it (the default), a
    /// lost connection closes the session.
    ///
    /// The session reconnects after the connection breaks or the router ends the session (other
    /// than by killing it); not after [`Session::leave`] or a protocol violation. Watch
    /// [`Session::states`] to follow it.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = Some(policy);
        self
    }

    /// How calls are canceled when their future is dropped or their deadline passes (default:
    /// [`CancelMode::KillNoWait`]).
    pub fn cancel_mode(mut self, mode: CancelMode) -> Self {
        self.cancel_mode = mode;
        self
    }

    /// The unit of the router-side call timeout (default: [`TimeoutUnit::Auto`]).
    pub fn router_timeout_unit(mut self, unit: TimeoutUnit) -> Self {
        self.router_timeout_unit = unit;
        self
    }

    /// How long an interrupted invocation handler may run on after the caller canceled (to
    /// notice [`Invocation::canceled`](crate::Invocation::canceled) and stop) before its task
    /// is aborted (default: 2 s).
    pub fn interrupt_grace(mut self, grace: Duration) -> Self {
        self.interrupt_grace = grace;
        self
    }

    /// How many invocation handlers may run at once on this session (default:
    /// [`DEFAULT_MAX_CONCURRENT_INVOCATIONS`], 4096: far more than a callee serves at once
    /// when it keeps up, while a flood of INVOCATIONs cannot spawn tasks without end).
    ///
    /// Beyond it, a new INVOCATION is answered at once with `wamp.error.unavailable` ("callee
    /// busy: N invocations running"), the error by which a callee asks the dealer to try another
    /// callee of a shared registration; nothing is queued, and the session task never waits.
    /// Handlers interrupted by the caller count until they have finished or been aborted.
    /// A value of 0 is taken as 1.
    pub fn max_concurrent_invocations(mut self, invocations: usize) -> Self {
        self.limits.max_concurrent_invocations = invocations.max(1);
        self
    }

    /// How many progressive results of one call may wait unread in its
    /// [`CallStream`](crate::rpc::CallStream), and how many input chunks of one progressive
    /// invocation may wait unread in its [`InvocationInput`](crate::rpc::InvocationInput) (default:
    /// [`DEFAULT_MAX_PROGRESS_BUFFER`], 1024). A call may set its own with
    /// [`Call::progress_buffer`](crate::rpc::Call::progress_buffer). A value of 0 is taken as 1.
    ///
    /// Progressive results are parts of one answer, so none is dropped: a call whose reader
    /// falls further behind fails with [`Error::ProgressOverflow`] (after the results already
    /// buffered) and is canceled at the router (CANCEL `killnowait`, if the dealer supports
    /// canceling). On the callee side, an invocation whose handler falls further behind its
    /// input is answered with `wamp.error.runtime_error`, gets no more chunks, and its handler
    /// is aborted. The session task never waits for a slow reader.
    pub fn max_progress_buffer(mut self, results: usize) -> Self {
        self.limits.max_progress_buffer = clamp_bound(results);
        self
    }

    /// How many requests (calls, publications, subscribes, registers, input chunks) may wait
    /// for the session task to take them in (default: [`DEFAULT_MAX_QUEUED_COMMANDS`], 4096).
    /// A value of 0 is taken as 1.
    ///
    /// Beyond it, awaiting a request waits for room: a loop that publishes or calls faster
    /// than the connection carries is slowed down to its pace instead of queuing without end.
    /// A request that cannot wait ([`Call::into_duplex`](crate::rpc::Call::into_duplex),
    /// [`CallInput::send`](crate::rpc::CallInput::send)) fails with [`Error::QueueFull`] instead.
    /// Cancellations, unsubscribes and unregisters (also those sent when a handle is dropped)
    /// and leaving are never held back: there is at most one of each per live handle.
    pub fn max_queued_commands(mut self, commands: usize) -> Self {
        self.limits.max_queued_commands = clamp_bound(commands);
        self
    }

    /// The serializers to offer, in order of preference (default: JSON, MessagePack, CBOR).
    pub fn serializers(mut self, serializers: impl IntoIterator<Item = Serializer>) -> Self {
        self.serializers = serializers.into_iter().collect();
        self
    }

    /// Offers exactly one serializer.
    pub fn serializer(self, serializer: Serializer) -> Self {
        self.serializers([serializer])
    }

    /// How strictly URIs are checked before sending (default: [`UriCheck::Loose`]).
    pub fn uri_check(mut self, check: UriCheck) -> Self {
        self.uri_check = check;
        self
    }

    /// The longest time connecting and joining may take (default: 15 s).
    pub fn join_timeout(mut self, timeout: Duration) -> Self {
        self.join_timeout = timeout;
        self
    }

    /// How long [`Session::leave`] waits for the router's GOODBYE (default: 5 s; `Duration::MAX`
    /// waits for ever). It bounds writing the GOODBYE too: a router that stopped reading cannot
    /// hold a leave up. (The other writes of a closing session, such as the ABORT of a protocol
    /// violation and the last flush, get 1 s.)
    pub fn leave_timeout(mut self, timeout: Duration) -> Self {
        self.leave_timeout = timeout;
        self
    }

    /// Includes message payloads in `trace`-level logs (by default they are elided).
    pub fn trace_payloads(mut self) -> Self {
        self.trace_payloads = true;
        self
    }

    /// The largest message accepted from the router, on every transport (default: 16 MiB).
    /// RawSocket announces it to the router rounded down to a power of two (at least 512 bytes),
    /// and a router such as Crossbar.io then withholds larger messages; keep it above the size of
    /// the router's WELCOME (about 1 KiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.transport.websocket.max_message_size = bytes;
        self
    }

    /// The `agent` string sent in HELLO (default: `wamp-client-rs/<version>`).
    pub fn agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = agent.into();
        self
    }

    /// Opens the connection, joins the realm, and starts the session task on the current Tokio
    /// runtime.
    pub async fn connect(self) -> Result<Session> {
        let timeout = self.join_timeout;
        let url = transport::redact_url(&self.url);
        let span = tracing::info_span!("wamp.session", url = %url, realm = %self.realm, session = tracing::field::Empty);
        match tokio::time::timeout(timeout, self.connect_inner(span.clone()))
            .instrument(span)
            .await
        {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                after: timeout,
                what: "connecting and joining the realm",
            }),
        }
    }

    /// Opens a connection and joins the realm: what connecting and every reconnect do.
    async fn open(&self) -> Result<Joined> {
        let connection = transport::connect(&self.url, &self.serializers, &self.transport).await?;
        tracing::debug!(serializer = %connection.serializer, "connected");
        let serializer = connection.serializer;
        let mut transport = connection.transport;
        let details = join::join(
            &mut transport,
            serializer,
            &self.realm,
            &self.agent,
            &self.auth,
            self.trace_payloads,
        )
        .await?;
        tracing::info!(
            session = details.session,
            authid = %crate::error::clip(details.authid.as_deref().unwrap_or("")),
            authrole = %crate::error::clip(details.authrole.as_deref().unwrap_or("")),
            "joined"
        );
        Ok(Joined {
            transport,
            serializer,
            details,
        })
    }

    async fn connect_inner(self, span: tracing::Span) -> Result<Session> {
        // Once per connect, not per reconnect: the URL and the methods do not change.
        crate::auth::warn_cleartext_secrets(&self.url, &self.auth);
        let joined = self.open().await?;
        span.record("session", joined.details.session);
        let connector = self.reconnect.clone().map(|policy| {
            let builder = self.clone();
            let connector: Connector = Arc::new(move || {
                let builder = builder.clone();
                Box::pin(async move {
                    let timeout = builder.join_timeout;
                    match tokio::time::timeout(timeout, builder.open()).await {
                        Ok(result) => result,
                        Err(_) => Err(Error::Timeout {
                            after: timeout,
                            what: "reconnecting and joining the realm",
                        }),
                    }
                })
            });
            (policy, connector)
        });

        let (commands, commands_rx) = mpsc::unbounded_channel();
        let gate = Arc::new(tokio::sync::Semaphore::new(self.limits.max_queued_commands));
        let commands_rx = CommandReceiver::new(commands_rx, Arc::clone(&gate));
        let (closed_tx, closed) = watch::channel(None);
        let (state_tx, state) = watch::channel(SessionState::Joined {
            session: joined.details.session,
        });
        let shared = Arc::new(Shared {
            commands,
            gate,
            current: std::sync::RwLock::new(Current {
                details: Arc::new(joined.details),
                serializer: joined.serializer,
            }),
            closed,
            state,
            uri_check: self.uri_check,
            next_local_id: AtomicU64::new(1),
            cancel_mode: self.cancel_mode,
            router_timeout_unit: self.router_timeout_unit,
            leave_requested: Arc::default(),
            limits: self.limits,
        });
        let task = actor::SessionTask::new(actor::TaskConfig {
            transport: joined.transport,
            serializer: joined.serializer,
            commands: commands_rx,
            closed: closed_tx,
            state: state_tx,
            shared: Arc::downgrade(&shared),
            leave_timeout: self.leave_timeout,
            interrupt_grace: self.interrupt_grace,
            trace_payloads: self.trace_payloads,
            reconnect: connector,
            leave_requested: Arc::clone(&shared.leave_requested),
            limits: self.limits,
        });
        tokio::spawn(task.run().instrument(span));
        Ok(Session { shared })
    }
}

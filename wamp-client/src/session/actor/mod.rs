//! The session task: the only owner of the connection and of the session's tables.
//!
//! It waits on three sources: messages from the router, commands from the handles, and results
//! of invocation handlers (which run on tasks of their own). After each wake-up it handles
//! everything already queued, then flushes the socket once, so a burst of messages costs one
//! write instead of one per message.
//!
//! The work is split by role. The caller, callee, subscriber and publisher each own their tables
//! (what they sent and wait on, what they hold) and handle their messages; `dispatch` takes the
//! handles' commands according to the session's state, `inbound` routes the router's messages to
//! the roles, `requests` numbers what goes out, `outbound` writes, `reconnect` and `restore`
//! carry the session over a lost connection, and `shutdown` ends it. `connection_waker` keeps the
//! task from asking the connection for frames on wake-ups the connection did not cause.

mod callee;
mod caller;
mod connection_waker;
mod dispatch;
mod handoff;
mod inbound;
mod invocations;
mod outbound;
mod passthru;
mod publisher;
mod reconnect;
mod request_ids;
mod requests;
mod restore;
mod shutdown;
mod subscriber;
mod subscriptions;

use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::time::Instant;

use self::callee::Callee;
use self::caller::Caller;
use self::connection_waker::ConnectionWaker;
use self::handoff::Handoff;
use self::publisher::Publisher;
use self::request_ids::RequestIds;
use self::subscriber::Subscriber;
use super::Shared;
use super::command::{Command, CommandReceiver, Outcome};
use crate::error::CloseReason;
use crate::transport::{Transport, TransportError};
use crate::value::{Dict, Value};
use crate::wire::Serializer;

/// Handles a received frame where the main loop takes one: most frames are handled without
/// waiting (`receive`); only the others set up the future of the handlers that wait, which is
/// large (an `async fn` around this would set it up, copying it, for every frame).
macro_rules! on_frame {
    ($task:expr, $frame:expr) => {
        match $task.receive($frame)? {
            inbound::Received::Done => {}
            inbound::Received::Event => {
                if $task.event_spends_budget() {
                    tokio::task::consume_budget().await;
                }
            }
            inbound::Received::Message(message) => $task.on_message(message).await?,
            inbound::Received::Violation(reason) => {
                return Err($task.protocol_violation(reason).await);
            }
        }
    };
}

/// Handles a command where the main loop takes one: calls and publications without waiting
/// (`take_command`) unless the socket is full; only other commands set up the large future of
/// `on_command`.
macro_rules! on_command {
    ($task:expr, $command:expr) => {
        match $command {
            Some(command) => match $task.take_command(command).await? {
                dispatch::CommandNow::Done => {}
                dispatch::CommandNow::Blocked(bytes) => $task.send_blocked(bytes).await?,
                dispatch::CommandNow::Later(command) => $task.on_command(Some(command)).await?,
            },
            None => $task.on_command(None).await?,
        }
    };
}

/// How many queued commands or messages are handled before the socket is flushed.
const BATCH: usize = 256;

/// While draining a burst of frames, the command and outcome channels are tried after every
/// this many frames (and whenever no frame is waiting).
const CHANNELS_EVERY: usize = 4;

pub(super) struct TaskConfig {
    pub(super) transport: Box<dyn Transport>,
    pub(super) serializer: Serializer,
    pub(super) commands: CommandReceiver,
    pub(super) closed: watch::Sender<Option<CloseReason>>,
    pub(super) shared: Weak<Shared>,
    pub(super) state: watch::Sender<super::SessionState>,
    pub(super) leave_timeout: Duration,
    pub(super) interrupt_grace: Duration,
    pub(super) trace_payloads: bool,
    pub(super) reconnect: Option<(super::ReconnectPolicy, super::Connector)>,
    /// Signalled by `Session::leave` (and when the last handle goes): see `outbound`.
    pub(super) leave_requested: Arc<Notify>,
    pub(super) limits: super::Limits,
    pub(super) payload_codec: Option<Arc<dyn crate::e2ee::PayloadCodec>>,
}

/// Where the session is in its life; the commands of the handles are taken accordingly.
enum State {
    Established,
    /// The connection was lost (`lost` says why) and a new one is being made.
    Reconnecting {
        lost: CloseReason,
    },
    /// GOODBYE sent; waiting for the router's GOODBYE until the deadline.
    ShuttingDown {
        deadline: Instant,
        reason: CloseReason,
        replies: Vec<oneshot::Sender<CloseReason>>,
    },
}

pub(super) struct SessionTask {
    transport: Box<dyn Transport>,
    /// What the connection is polled with: tells its wake-ups from the task's others.
    connection_waker: ConnectionWaker,
    serializer: Serializer,
    commands: CommandReceiver,
    commands_open: bool,
    outcomes_tx: mpsc::UnboundedSender<Outcome>,
    outcomes: mpsc::UnboundedReceiver<Outcome>,
    closed: watch::Sender<Option<CloseReason>>,
    /// The observable state (joined, disconnected, reconnecting, closed).
    session_state: watch::Sender<super::SessionState>,
    shared: Weak<Shared>,
    /// How to reconnect, if the session does.
    reconnect: Option<(super::ReconnectPolicy, super::Connector)>,
    /// Commands held while reconnecting (calls that wait for the session, registrations and
    /// subscriptions made meanwhile), replayed once rejoined.
    waiting: Vec<Command>,
    leave_timeout: Duration,
    interrupt_grace: Duration,
    trace_payloads: bool,
    state: State,
    /// Request ids: sequential from 1, wrapping after 2^53.
    request_ids: RequestIds,
    caller: Caller,
    callee: Callee,
    subscriber: Subscriber,
    publisher: Publisher,
    /// Whether something was written since the last flush.
    unflushed: bool,
    /// Once the session is closing (GOODBYE or ABORT sent, or ended): until when a write that
    /// blocks is waited for.
    write_deadline: Option<Instant>,
    /// Signalled when a handle asks to leave: a write blocked on a router that stopped reading
    /// is then given up (the Leave command waits behind it).
    leave_requested: Arc<Notify>,
    /// Call results and subscriber wakes collected in the current batch (see `handoff`).
    handoff: Handoff,
    /// Frames are encoded into this buffer's free end and split off (see `encode_frame`).
    encode_buffer: bytes::BytesMut,
    /// Bounds on what peers can queue (running invocations, unread progressive chunks).
    limits: super::Limits,
    /// The length of the frame being handled: an event's size for its queue's byte budget.
    frame_len: usize,
    /// Events delivered since the last one that spent cooperative budget.
    events_unbudgeted: u8,
    /// Encodes and decodes end-to-end payloads (see `passthru`).
    codec: Option<Arc<dyn crate::e2ee::PayloadCodec>>,
}

/// What the main loop woke up for.
enum Woken {
    Frame(Option<std::result::Result<Bytes, TransportError>>),
    Command(Option<Command>),
    Outcome(Outcome),
    LeaveTimedOut,
    RestoreDue,
}

/// `Err` carries why the session ends; the main loop stops on it.
type Step = std::result::Result<(), CloseReason>;

impl SessionTask {
    pub(super) fn new(config: TaskConfig) -> Self {
        let (outcomes_tx, outcomes) = mpsc::unbounded_channel();
        let router_supports_cancel = config
            .shared
            .upgrade()
            .is_some_and(|shared| supports_cancel(&shared.current().details));
        SessionTask {
            transport: config.transport,
            connection_waker: ConnectionWaker::new(),
            serializer: config.serializer,
            commands: config.commands,
            commands_open: true,
            outcomes_tx,
            outcomes,
            closed: config.closed,
            session_state: config.state,
            shared: config.shared,
            reconnect: config.reconnect,
            waiting: Vec::new(),
            leave_timeout: config.leave_timeout,
            interrupt_grace: config.interrupt_grace,
            trace_payloads: config.trace_payloads,
            state: State::Established,
            request_ids: RequestIds::default(),
            caller: Caller::new(router_supports_cancel),
            callee: Callee::default(),
            subscriber: Subscriber::default(),
            publisher: Publisher::default(),
            unflushed: false,
            write_deadline: None,
            leave_requested: config.leave_requested,
            encode_buffer: bytes::BytesMut::new(),
            handoff: Handoff::default(),
            limits: config.limits,
            frame_len: 0,
            events_unbudgeted: 0,
            codec: config.payload_codec,
        }
    }

    pub(super) async fn run(mut self) {
        loop {
            let reason = self.main_loop().await;
            if !self.should_reconnect(&reason) {
                self.shut_down(reason).await;
                return;
            }
            self.on_disconnect(&reason).await;
            match self.reconnect(reason).await {
                Ok(()) => self.restore().await,
                Err(reason) => {
                    self.shut_down(reason).await;
                    return;
                }
            }
        }
    }

    async fn main_loop(&mut self) -> CloseReason {
        loop {
            let step = self.step().await;
            self.handoff.hand_over();
            if let Err(exit) = step {
                return exit;
            }
            if let Err(exit) = self.flush().await {
                return exit;
            }
        }
    }

    /// Waits for the next event, handles it and whatever else is already queued.
    async fn step(&mut self) -> Step {
        let leave_deadline = match &self.state {
            State::ShuttingDown { deadline, .. } => Some(*deadline),
            State::Established | State::Reconnecting { .. } => None,
        };
        let leave_timer = sleep_until(leave_deadline);
        let restore_timer = sleep_until(self.callee.restore_retries.next_due());
        tokio::pin!(leave_timer, restore_timer);
        // The timers first, so that a router flooding the session cannot hold off the leave
        // deadline; both are idle futures unless set.
        let woken = std::future::poll_fn(|cx| {
            if leave_timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Woken::LeaveTimedOut);
            }
            if restore_timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Woken::RestoreDue);
            }
            if let Poll::Ready(frame) = self.poll_frame(cx) {
                return Poll::Ready(Woken::Frame(frame));
            }
            if self.commands_open {
                if let Poll::Ready(command) = self.commands.poll_recv(cx) {
                    return Poll::Ready(Woken::Command(command));
                }
            }
            match self.outcomes.poll_recv(cx) {
                Poll::Ready(Some(outcome)) => Poll::Ready(Woken::Outcome(outcome)),
                // The task holds a sender: the channel stays open.
                Poll::Ready(None) | Poll::Pending => Poll::Pending,
            }
        })
        .await;
        match woken {
            Woken::Frame(frame) => on_frame!(self, frame),
            Woken::Command(command) => on_command!(self, command),
            Woken::Outcome(outcome) => self.on_outcome(outcome).await?,
            Woken::LeaveTimedOut => return Err(self.leave_timed_out()),
            Woken::RestoreDue => self.retry_refused_restorations().await?,
        }
        // Drain what is already queued before flushing once.
        for round in 0..BATCH {
            let mut progressed = false;
            if let Poll::Ready(frame) =
                std::future::poll_fn(|cx| Poll::Ready(self.poll_frame(cx))).await
            {
                on_frame!(self, frame);
                progressed = true;
            }
            // While frames keep coming, the channels are looked at every few of them: a look
            // costs about as much as a small frame, and what waits there waits a few frames.
            if progressed && round % CHANNELS_EVERY != 0 {
                continue;
            }
            if self.commands_open {
                if let Ok(command) = self.commands.try_recv() {
                    on_command!(self, Some(command));
                    progressed = true;
                }
            }
            if let Ok(outcome) = self.outcomes.try_recv() {
                self.on_outcome(outcome).await?;
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        Ok(())
    }

    /// The connection's next frame, unless it answered that it has none and has not woken the
    /// task since (see `connection_waker`).
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Bytes, TransportError>>> {
        let transport = &mut self.transport;
        self.connection_waker
            .poll(cx, |cx| transport.poll_next_unpin(cx))
    }

    fn diagnostics(&self) -> super::Diagnostics {
        super::Diagnostics {
            pending_requests: self.caller.pending.len()
                + self.publisher.pending.len()
                + self.subscriber.pending.len()
                + self.callee.pending.len(),
            pending_calls: self.caller.keys.len(),
            running_invocations: self.callee.invocations.len(),
            subscriptions: self.subscriber.subscriptions.len(),
            registrations: self.callee.registrations.len(),
            restore_retries: self.callee.restore_retries.len(),
        }
    }
}

/// Whether the dealer announced call canceling (under either spelling).
fn supports_cancel(details: &super::SessionDetails) -> bool {
    details.router_supports("dealer", "call_canceling")
        || details.router_supports("dealer", "call_cancelling")
}

/// The reason of a revocation (`Details.reason`), or a generic one.
fn revocation_reason(details: Option<&Dict>) -> String {
    details
        .and_then(|d| d.get("reason"))
        .and_then(Value::as_str)
        .map_or_else(
            || "revoked by the router".to_owned(),
            |r| crate::error::clip(r).into_owned(),
        )
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

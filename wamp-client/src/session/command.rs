//! What the [`Session`](crate::Session) handles ask of the session task, and how it answers.
//!
//! Commands travel on one channel, so that they arrive in the order they were sent (a CANCEL
//! after its CALL, an UNSUBSCRIBE after its SUBSCRIBE). Requests (calls, publications,
//! subscribes, registers, input chunks) each hold a permit of the session's gate while they wait
//! in it, which bounds what a loop of requests can queue; control commands (cancels,
//! unsubscribes, unregisters, leaving) take none, so the synchronous paths that send them (a
//! handle's `Drop`) never wait and never lose one. There is at most one of those per live handle.

use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::PollSemaphore;

use crate::error::{CloseReason, Result};
use crate::options::CancelMode;
use crate::payload::{CallResult, Handler};
use crate::value::{Dict, Value};
use crate::wire::Id;

/// A request from a handle to the session task. Each carries the channel its answer goes back on.
pub(crate) enum Command {
    Call(CallRequest),
    /// Cancels the call `key` if it is still pending.
    Cancel {
        key: u64,
        mode: CancelMode,
    },
    /// A further chunk of a call with progressive invocations (same request id).
    CallChunk {
        key: u64,
        args: Vec<Value>,
        kwargs: Dict,
        /// The last chunk: sent without `progress`.
        last: bool,
    },
    Publish {
        topic: String,
        args: Vec<Value>,
        /// Options and keyword arguments; `None` for a plain publication.
        extra: Option<Box<RequestExtra>>,
        /// Present when the publication is acknowledged: PUBLISHED (or ERROR) answers it.
        ack: Option<oneshot::Sender<Result<Id>>>,
    },
    /// Boxed, like `Register`: they are rare, and the box travels on into the subscriber's table
    /// of pending requests.
    Subscribe(Box<SubscribeRequest>),
    Unsubscribe {
        /// The local subscription's event queue, which knows the router-side subscription.
        queue: super::event_queue::QueueRef,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    Register(Box<RegisterRequest>),
    Unregister {
        /// The registration's local key (see `Register::local`).
        local: u64,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    /// Reports the sizes of the session task's tables.
    Diagnostics {
        reply: oneshot::Sender<super::Diagnostics>,
    },
    Leave {
        reason: String,
        message: Option<String>,
        reply: oneshot::Sender<CloseReason>,
    },
}

impl Command {
    /// Whether the command held a permit of the gate while queued (see the module docs).
    pub(crate) fn is_request(&self) -> bool {
        matches!(
            self,
            Command::Call(_)
                | Command::Publish { .. }
                | Command::Subscribe(_)
                | Command::Register(_)
                | Command::CallChunk { last: false, .. }
        )
    }
}

/// Permits of requests taken in that are returned to the gate together (see `CommandReceiver`).
const PERMITS_RETURNED_TOGETHER: usize = 32;

/// The session task's end of the command channel: returns the permits of the requests it takes
/// in to the gate.
///
/// They are returned a few at a time (returning takes the semaphore's lock) and always before
/// the task waits for the next command, so a request never waits on a permit the task holds
/// while idle.
pub(crate) struct CommandReceiver {
    commands: mpsc::UnboundedReceiver<Command>,
    gate: Arc<Semaphore>,
    /// Permits of requests taken in and not returned yet.
    held: usize,
}

impl CommandReceiver {
    pub(crate) fn new(commands: mpsc::UnboundedReceiver<Command>, gate: Arc<Semaphore>) -> Self {
        CommandReceiver {
            commands,
            gate,
            held: 0,
        }
    }

    fn taken(&mut self, command: Command) -> Command {
        if command.is_request() {
            self.held += 1;
            if self.held >= PERMITS_RETURNED_TOGETHER {
                self.return_permits();
            }
        }
        command
    }

    fn return_permits(&mut self) {
        if self.held > 0 {
            self.gate.add_permits(std::mem::take(&mut self.held));
        }
    }

    pub(crate) async fn recv(&mut self) -> Option<Command> {
        self.return_permits();
        let command = self.commands.recv().await?;
        Some(self.taken(command))
    }

    pub(crate) fn try_recv(&mut self) -> Result<Command, mpsc::error::TryRecvError> {
        let command = self.commands.try_recv()?;
        Ok(self.taken(command))
    }

    /// Refuses further commands; requests waiting for room fail.
    pub(crate) fn close(&mut self) {
        self.commands.close();
        self.gate.close();
    }
}

impl Drop for CommandReceiver {
    fn drop(&mut self) {
        // Requests waiting for room would otherwise wait forever.
        self.gate.close();
    }
}

/// A request that found the queue full, waiting for room. Made only then, so boxed.
pub(crate) struct QueuedRequest {
    command: Option<Command>,
    gate: PollSemaphore,
}

impl std::fmt::Debug for QueuedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueuedRequest")
    }
}

impl QueuedRequest {
    pub(crate) fn new(command: Command, gate: Arc<Semaphore>) -> Box<Self> {
        Box::new(QueuedRequest {
            command: Some(command),
            gate: PollSemaphore::new(gate),
        })
    }

    /// Waits for room, then hands the request over with `send`. `Ready(false)` if the session
    /// has ended meanwhile.
    pub(crate) fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        send: impl FnOnce(Command) -> bool,
    ) -> Poll<bool> {
        match self.gate.poll_acquire(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(false),
            Poll::Ready(Some(permit)) => {
                // The session task returns it when it takes the request in.
                permit.forget();
                Poll::Ready(self.command.take().is_some_and(send))
            }
        }
    }
}

/// A CALL to send, then waiting for its result.
pub(crate) struct CallRequest {
    /// Identifies the call to later `Cancel` and `CallChunk` commands.
    pub(crate) key: u64,
    pub(crate) procedure: String,
    pub(crate) args: Vec<Value>,
    /// Options, keyword arguments and flags; `None` for a plain call.
    pub(crate) extra: Option<Box<RequestExtra>>,
    pub(crate) reply: CallReply,
}

impl CallRequest {
    /// Whether the call waits for a reconnecting session instead of failing at once.
    pub(crate) fn waits(&self) -> bool {
        self.extra.as_ref().is_some_and(|extra| extra.wait)
    }
}

/// The parts of a CALL or PUBLISH that are usually empty. Boxed, and only when one is set: every
/// call and publication waits in the command queue, so the queue's slot size is paid per request.
#[derive(Default)]
pub(crate) struct RequestExtra {
    pub(crate) options: Dict,
    pub(crate) kwargs: Dict,
    /// A call only: resend it after a reconnect if the connection drops while it is pending.
    pub(crate) idempotent: bool,
    /// A call only: if the session is reconnecting, wait for it instead of failing at once.
    pub(crate) wait: bool,
}

impl RequestExtra {
    /// `None` when nothing is set, the common case.
    pub(crate) fn boxed_if_set(self) -> Option<Box<Self>> {
        let set =
            !self.options.is_empty() || !self.kwargs.is_empty() || self.idempotent || self.wait;
        set.then(|| Box::new(self))
    }

    /// The parts of a possibly absent extra.
    pub(crate) fn unpack(extra: Option<Box<Self>>) -> Self {
        extra.map(|extra| *extra).unwrap_or_default()
    }
}

/// A SUBSCRIBE to send, then waiting for SUBSCRIBED.
pub(crate) struct SubscribeRequest {
    pub(crate) options: Dict,
    /// The subscription's end of its event queue, which also holds the topic, is where a
    /// revocation is recorded, and tells this local subscription from others the router may
    /// merge into one id.
    pub(crate) events: super::event_queue::EventSender,
    pub(crate) reply: oneshot::Sender<Result<Id>>,
}

/// A REGISTER to send, then waiting for REGISTERED.
pub(crate) struct RegisterRequest {
    /// Identifies the registration across reconnects (router ids change).
    pub(crate) local: u64,
    pub(crate) procedure: String,
    pub(crate) options: Dict,
    /// Set by the session task if the router revokes the registration.
    pub(crate) revoked: Revocation,
    /// Set by the session task at each REGISTERED.
    pub(crate) id: RouterId,
    pub(crate) handler: Arc<dyn Handler>,
    pub(crate) reply: oneshot::Sender<Result<Id>>,
}

/// Where the one final answer of a call goes.
pub(crate) type FinalReply = oneshot::Sender<Box<Result<CallResult>>>;

/// Where the answer to a call goes.
pub(crate) enum CallReply {
    /// One final result. Boxed, so that the channel a pending call holds stays small; the box
    /// is made only once the answer is there.
    Once(FinalReply),
    /// Progressive results, then the final one (or an error). Bounded: one slot more than the
    /// progress buffer, kept for the final outcome.
    Stream(mpsc::Sender<Result<CallResult>>),
}

/// Why the router revoked a registration, once it has. (A subscription records it in its event
/// queue's shared state.)
pub(crate) type Revocation = Arc<std::sync::OnceLock<String>>;

/// The router id of a registration now, shared with its handle (a reconnect changes it).
pub(crate) type RouterId = Arc<std::sync::atomic::AtomicU64>;

/// What invocation handlers report back to the session task, on one channel so that progressive
/// results stay in order before the final one.
pub(crate) enum Outcome {
    /// A progressive result (YIELD with `progress`).
    Progress {
        request: Id,
        args: Vec<Value>,
        kwargs: Dict,
    },
    /// The handler finished: the final YIELD or ERROR.
    Final {
        request: Id,
        result: std::result::Result<crate::payload::Arguments, crate::error::WampError>,
    },
    /// An interrupted handler had its grace period and did not finish: abort it.
    GraceExpired { request: Id },
}

#[cfg(all(test, target_pointer_width = "64"))]
mod size_tests {
    use super::Command;

    /// BENCHMARKS.md counts an 80 B slot per queued CALL or PUBLISH.
    #[test]
    fn command_slots_are_80_bytes() {
        assert_eq!(std::mem::size_of::<Command>(), 80);
    }
}

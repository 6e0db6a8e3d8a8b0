//! What the [`Session`](crate::Session) handles ask of the session task, and how it answers.
//!
//! Commands travel on one channel, so that they arrive in the order they were sent (a CANCEL
//! after its CALL, an UNSUBSCRIBE after its SUBSCRIBE). Requests (calls, publications,
//! subscribes, registers, input chunks) each hold a permit of the session's gate while they wait
//! in it, which bounds what a loop of requests can queue; control commands (cancels,
//! unsubscribes, unregisters, leaving) take none, so the synchronous paths that send them (a
//! handle's `Drop`) never wait and never lose one. There is at most one of those per live handle.
//! Requests beyond the bound wait in the gate's room (see [`Gate`]) and are taken in after the
//! channel: a future sends the CANCEL of its call only once the call has been taken in, and a
//! subscription's UNSUBSCRIBE exists only once its SUBSCRIBE was answered.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use futures_util::task::AtomicWaker;
use tokio::sync::{Semaphore, TryAcquireError, mpsc, oneshot};

use crate::error::{CloseReason, Result};
use crate::options::CancelMode;
use crate::payload::{CallResult, Handler};
use crate::value::{Dict, Value};
use crate::wire::{Id, Payload};

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
        payload: Payload,
        /// Options; `None` for a plain publication.
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

/// Slots the waiting room keeps once it is empty; a burst's larger buffer goes back to the
/// allocator.
const ROOM_SLOTS_KEPT: usize = 16;

/// The bound on the requests in the command channel, and the waiting room of those beyond it.
///
/// A request takes a permit and goes into the channel, or, when there is none (or requests
/// already wait), it waits in the room, in the order of its local id, until the session task,
/// having taken in everything in the channel, takes it in from there. The room is one buffer
/// shared by every waiting request, rather than an allocation and a semaphore waiter per
/// request: a burst of requests leaves no holes between the allocations that outlive it.
pub(crate) struct Gate {
    permits: Semaphore,
    room: Mutex<Room>,
    /// Whether requests wait in the room (then new requests queue behind them).
    occupied: AtomicBool,
    /// Wakes the session task when a request enters the room: its waker is registered with
    /// each wait for a command, without the lock a `Notify` waiter takes and gives back.
    entered: AtomicWaker,
}

#[derive(Default)]
struct Room {
    /// Sorted by key.
    slots: VecDeque<Waiting>,
    /// Set when the session task stops taking commands: what still waits fails.
    closed: bool,
}

/// A request in the waiting room.
struct Waiting {
    /// The local id the request waits under.
    key: u64,
    /// `None` once withdrawn (its future was dropped) or refused (the session closed).
    command: Option<Command>,
    /// The waiting future's, woken when the request is taken in.
    waker: Option<Waker>,
}

/// Whether a request got a permit of the gate (see [`Gate::admit`]).
pub(crate) enum Admission {
    /// It did: send it.
    Now(Command),
    /// The queue is full, or requests wait for room.
    Full(Command),
    /// The session task takes no more commands.
    Closed,
}

impl Gate {
    pub(crate) fn new(max_queued: usize) -> Self {
        Gate {
            permits: Semaphore::new(max_queued),
            room: Mutex::default(),
            occupied: AtomicBool::new(false),
            entered: AtomicWaker::new(),
        }
    }

    fn room(&self) -> MutexGuard<'_, Room> {
        self.room.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a permit for `command` if there is one and no request waits for room: no
    /// allocation, no lock.
    pub(crate) fn admit(&self, command: Command) -> Admission {
        if self.occupied.load(Ordering::Acquire) {
            return if self.permits.is_closed() {
                Admission::Closed
            } else {
                Admission::Full(command)
            };
        }
        match self.permits.try_acquire() {
            Ok(permit) => {
                // The session task returns it when it takes the request in.
                permit.forget();
                Admission::Now(command)
            }
            Err(TryAcquireError::NoPermits) => Admission::Full(command),
            Err(TryAcquireError::Closed) => Admission::Closed,
        }
    }

    /// Puts `command` in the waiting room under `key`, a local id not waiting already. Gives
    /// it back if the session task takes no more commands.
    pub(crate) fn wait(&self, key: u64, command: Command) -> std::result::Result<(), Command> {
        let mut room = self.room();
        if room.closed {
            return Err(command);
        }
        // Local ids are handed out in order, so this is the back but for a race between threads.
        let at = room.slots.partition_point(|slot| slot.key < key);
        room.slots.insert(
            at,
            Waiting {
                key,
                command: Some(command),
                waker: None,
            },
        );
        if !self.occupied.swap(true, Ordering::AcqRel) {
            self.entered.wake();
        }
        Ok(())
    }

    /// `Ready(true)` once the session task has taken in the request waiting under `key`,
    /// `Ready(false)` if the session closed first; registers the waker if neither.
    pub(crate) fn poll_taken(&self, key: u64, cx: &Context<'_>) -> Poll<bool> {
        let mut room = self.room();
        let closed = room.closed;
        let Ok(at) = room.slots.binary_search_by_key(&key, |slot| slot.key) else {
            return Poll::Ready(true);
        };
        if closed {
            return Poll::Ready(false);
        }
        if let Some(slot) = room.slots.get_mut(at) {
            match &mut slot.waker {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                waker => *waker = Some(cx.waker().clone()),
            }
        }
        Poll::Pending
    }

    /// Withdraws the request waiting under `key`, whose future is going away: `true` if it was
    /// still waiting (it is never sent), `false` if the session task has taken it in already.
    pub(crate) fn withdraw(&self, key: u64) -> bool {
        let mut room = self.room();
        let Ok(at) = room.slots.binary_search_by_key(&key, |slot| slot.key) else {
            return false;
        };
        // The slot goes when it reaches the front; the request is dropped outside the lock.
        let command = room.slots.get_mut(at).and_then(|slot| {
            slot.waker = None;
            slot.command.take()
        });
        drop(room);
        drop(command);
        true
    }

    /// The next request in the waiting room, now taken in; wakes its future.
    fn take_next(&self) -> Option<Command> {
        if !self.occupied.load(Ordering::Acquire) {
            return None;
        }
        let mut room = self.room();
        if room.closed {
            // What waited was refused; its futures still have to learn so (`poll_taken`).
            return None;
        }
        while let Some(slot) = room.slots.pop_front() {
            if let Some(command) = slot.command {
                if room.slots.is_empty() {
                    self.emptied(&mut room);
                }
                drop(room);
                if let Some(waker) = slot.waker {
                    waker.wake();
                }
                return Some(command);
            }
        }
        self.emptied(&mut room);
        None
    }

    fn emptied(&self, room: &mut Room) {
        room.slots.shrink_to(ROOM_SLOTS_KEPT);
        self.occupied.store(false, Ordering::Release);
    }

    /// Refuses further requests; those waiting in the room fail.
    fn close(&self) {
        self.permits.close();
        let mut room = self.room();
        room.closed = true;
        let refused: Vec<_> = room
            .slots
            .iter_mut()
            .map(|slot| (slot.command.take(), slot.waker.take()))
            .collect();
        drop(room);
        for (command, waker) in refused {
            drop(command);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// The session task's end of the command channel: returns the permits of the requests it takes
/// in to the gate, and takes in the requests waiting in the gate's room once the channel is
/// empty.
///
/// Permits are returned a few at a time (returning takes the semaphore's lock) and always
/// before the task waits for the next command, so a request never waits on a permit the task
/// holds while idle.
pub(crate) struct CommandReceiver {
    commands: mpsc::UnboundedReceiver<Command>,
    gate: Arc<Gate>,
    /// Permits of requests taken in and not returned yet.
    held: usize,
}

impl CommandReceiver {
    pub(crate) fn new(commands: mpsc::UnboundedReceiver<Command>, gate: Arc<Gate>) -> Self {
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
            self.gate
                .permits
                .add_permits(std::mem::take(&mut self.held));
        }
    }

    /// The next command (cancel-safe: a command is taken in only when returned).
    pub(crate) async fn recv(&mut self) -> Option<Command> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next command, or `Pending` with the task's waker registered with both the channel
    /// and the waiting room.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Command>> {
        self.return_permits();
        // The channel first without the coop budget, so that a budget exhausted mid-queue
        // cannot let the room overtake commands already in the channel.
        match self.commands.try_recv() {
            Ok(command) => return Poll::Ready(Some(self.taken(command))),
            Err(mpsc::error::TryRecvError::Disconnected) => return Poll::Ready(None),
            Err(mpsc::error::TryRecvError::Empty) => {}
        }
        // Register with the room before looking at it: a request entering the room after the
        // look wakes the task.
        self.gate.entered.register(cx.waker());
        match self.commands.poll_recv(cx) {
            Poll::Ready(command) => Poll::Ready(command.map(|c| self.taken(c))),
            Poll::Pending => match self.gate.take_next() {
                Some(command) => Poll::Ready(Some(command)),
                None => Poll::Pending,
            },
        }
    }

    /// The next command in the channel, else the next request waiting for room.
    pub(crate) fn try_recv(&mut self) -> Result<Command, mpsc::error::TryRecvError> {
        match self.commands.try_recv() {
            Ok(command) => Ok(self.taken(command)),
            Err(mpsc::error::TryRecvError::Empty) => self
                .gate
                .take_next()
                .ok_or(mpsc::error::TryRecvError::Empty),
            Err(disconnected) => Err(disconnected),
        }
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

/// A request (other than a call, whose future keeps the key in its cancel guard) waiting in
/// the gate's room. Withdraws it when dropped.
pub(crate) struct QueuedRequest {
    gate: Arc<Gate>,
    key: u64,
}

impl std::fmt::Debug for QueuedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("QueuedRequest").field(&self.key).finish()
    }
}

impl QueuedRequest {
    pub(crate) fn new(gate: Arc<Gate>, key: u64) -> Self {
        QueuedRequest { gate, key }
    }

    /// `Ready(true)` once the session task has taken the request in, `Ready(false)` if the
    /// session closed first.
    pub(crate) fn poll_taken(&self, cx: &Context<'_>) -> Poll<bool> {
        self.gate.poll_taken(self.key, cx)
    }
}

impl Drop for QueuedRequest {
    fn drop(&mut self) {
        self.gate.withdraw(self.key);
    }
}

/// A CALL to send, then waiting for its result.
pub(crate) struct CallRequest {
    /// Identifies the call to later `Cancel` and `CallChunk` commands.
    pub(crate) key: u64,
    pub(crate) procedure: String,
    pub(crate) payload: Payload,
    /// Options and flags; `None` for a plain call.
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
    /// A call only: resend it after a reconnect if the connection drops while it is pending.
    pub(crate) idempotent: bool,
    /// A call only: if the session is reconnecting, wait for it instead of failing at once.
    pub(crate) wait: bool,
}

impl RequestExtra {
    /// `None` when nothing is set, the common case.
    pub(crate) fn boxed_if_set(self) -> Option<Box<Self>> {
        let set = !self.options.is_empty() || self.idempotent || self.wait;
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

#[cfg(test)]
mod gate_tests {
    use super::*;

    /// A command that tells which one it is.
    fn numbered(key: u64) -> Command {
        Command::Cancel {
            key,
            mode: CancelMode::Skip,
        }
    }

    fn number(command: Option<Command>) -> Option<u64> {
        match command {
            Some(Command::Cancel { key, .. }) => Some(key),
            _ => None,
        }
    }

    #[test]
    fn the_room_is_taken_in_order_of_keys_without_the_withdrawn_and_refused_once_closed() {
        let waker = futures_util::task::noop_waker();
        let cx = Context::from_waker(&waker);
        let gate = Gate::new(1);
        assert!(matches!(gate.admit(numbered(1)), Admission::Now(_)));
        assert!(matches!(gate.admit(numbered(2)), Admission::Full(_)));
        for key in [3, 2, 4, 5] {
            assert!(gate.wait(key, numbered(key)).is_ok());
        }
        assert!(gate.withdraw(3), "still waiting");
        assert!(gate.poll_taken(2, &cx).is_pending());
        assert_eq!(number(gate.take_next()), Some(2));
        assert_eq!(gate.poll_taken(2, &cx), Poll::Ready(true));
        assert!(!gate.withdraw(2), "taken in already");
        assert_eq!(number(gate.take_next()), Some(4));
        // A permit is free again, but a request still waits: new ones queue behind it.
        gate.permits.add_permits(1);
        assert!(matches!(gate.admit(numbered(6)), Admission::Full(_)));
        gate.close();
        assert_eq!(gate.poll_taken(5, &cx), Poll::Ready(false));
        assert!(gate.take_next().is_none());
        assert!(matches!(gate.admit(numbered(7)), Admission::Closed));
        assert!(gate.wait(7, numbered(7)).is_err());
    }

    #[test]
    fn an_emptied_room_lets_requests_take_permits_again() {
        let gate = Gate::new(1);
        assert!(matches!(gate.admit(numbered(1)), Admission::Now(_)));
        assert!(gate.wait(2, numbered(2)).is_ok());
        assert!(gate.withdraw(2));
        gate.permits.add_permits(1);
        assert!(
            gate.take_next().is_none(),
            "only a withdrawn request waited"
        );
        assert!(matches!(gate.admit(numbered(3)), Admission::Now(_)));
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod size_tests {
    use super::Command;

    /// A queued CALL or PUBLISH carries its payload inline (arguments encoded in the caller's
    /// task: 56 bytes, a reference to them); the channel's slots are this size.
    #[test]
    fn command_slots_are_112_bytes() {
        assert_eq!(std::mem::size_of::<Command>(), 112);
        assert_eq!(std::mem::size_of::<crate::wire::Payload>(), 56);
    }
}

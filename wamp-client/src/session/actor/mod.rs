//! The session task: the only owner of the connection and of the session's tables.
//!
//! It waits on three sources: messages from the router, commands from the handles, and results
//! of invocation handlers (which run on tasks of their own). After each wake-up it handles
//! everything already queued, then flushes the socket once, so a burst of messages costs one
//! write instead of one per message.

mod callee;
mod caller;
mod handoff;
mod reconnect;
mod request_ids;
mod restore;
mod subscriptions;

use rustc_hash::FxHashMap as HashMap;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::time::Instant;

use self::callee::{FinishedInvocations, RegistrationEntry, RunningInvocation};
use self::caller::PendingCall;
use self::handoff::Handoff;
use self::request_ids::RequestIds;
use self::restore::RestoreRetries;
use self::subscriptions::SubscriptionEntry;
use super::Shared;
use super::command::{
    Command, CommandReceiver, Outcome, RegisterRequest, RequestExtra, SubscribeRequest,
};
use crate::api::event_queue::QueueRef;
use crate::error::{CloseInitiator, CloseReason, Error, ErrorUri, Result, WampError};
use crate::payload::{CallResult, Event};
use crate::transport::Transport;
use crate::value::{Dict, Value};
use crate::wire::{Id, Message, Payload, Serializer, code};

/// How many queued commands or messages are handled before the socket is flushed.
const BATCH: usize = 256;

/// How long the last writes may take once the session has ended (the ABORT of a protocol
/// violation, the final flush, closing the connection): a router that stopped reading must not
/// keep the session task alive.
const CLOSE_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

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
    /// Signalled by `Session::leave` (and when the last handle goes): see `write`.
    pub(super) leave_requested: Arc<Notify>,
    pub(super) limits: super::Limits,
}

/// A request sent to the router and waiting for its answer.
///
/// Calls and publications are the many; everything else is boxed so that an entry of the
/// pending table stays small (it is paid once per outstanding call).
enum Pending {
    Call(PendingCall),
    Publish(oneshot::Sender<Result<Id>>),
    Subscribe(Box<SubscribeRequest>),
    Unsubscribe(Option<oneshot::Sender<Result<()>>>),
    Register(Box<RegisterRequest>),
    /// A subscription being restored after a reconnect, with every local subscription it feeds.
    Resubscribe(Box<SubscriptionEntry>),
    /// A registration being restored after a reconnect.
    Reregister(Box<RegistrationEntry>),
    /// A restoring REGISTER whose registration was unregistered meanwhile: once REGISTERED
    /// tells its new id, it is unregistered.
    AbandonedReregister,
    Unregister(Option<oneshot::Sender<Result<()>>>),
}

impl Pending {
    /// The request message type this entry waits on an answer to.
    fn request_type(&self) -> u64 {
        match self {
            Pending::Call(_) => code::CALL,
            Pending::Publish(_) => code::PUBLISH,
            Pending::Subscribe(_) | Pending::Resubscribe(_) => code::SUBSCRIBE,
            Pending::Unsubscribe(_) => code::UNSUBSCRIBE,
            Pending::Register(_) | Pending::Reregister(_) | Pending::AbandonedReregister => {
                code::REGISTER
            }
            Pending::Unregister(_) => code::UNREGISTER,
        }
    }

    /// Completes the request with an error.
    fn fail(self, error: Error) {
        match self {
            Pending::Call(call) => call.fail(error),
            Pending::Publish(reply) => drop(reply.send(Err(error))),
            Pending::Subscribe(request) => drop(request.reply.send(Err(error))),
            Pending::Register(request) => drop(request.reply.send(Err(error))),
            Pending::Resubscribe(entry) => {
                let reason = format!("could not be restored after reconnecting: {error}");
                tracing::warn!(topic = entry.topic(), %reason, "subscription lost");
                for sink in entry.sinks() {
                    sink.revoke(reason.clone());
                }
            }
            Pending::Reregister(entry) => {
                let reason = format!("could not be restored after reconnecting: {error}");
                tracing::warn!(procedure = %entry.procedure, %reason, "registration lost");
                let _ = entry.revoked.set(reason);
            }
            Pending::Unsubscribe(reply) | Pending::Unregister(reply) => {
                if let Some(reply) = reply {
                    let _ = reply.send(Err(error));
                }
            }
            Pending::AbandonedReregister => {}
        }
    }
}

enum State {
    Established,
    /// GOODBYE sent; waiting for the router's GOODBYE until the deadline.
    ShuttingDown {
        deadline: Instant,
        reason: CloseReason,
        replies: Vec<oneshot::Sender<CloseReason>>,
    },
}

pub(super) struct SessionTask {
    transport: Box<dyn Transport>,
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
    /// Idempotent calls lost with the connection, sent again once rejoined.
    resend: Vec<PendingCall>,
    /// Restorations interrupted by another loss, to try again.
    restoring_subscriptions: Vec<SubscriptionEntry>,
    restoring_registrations: Vec<RegistrationEntry>,
    /// Restored registrations the router refused, to try again (see `restore`).
    restore_retries: RestoreRetries,
    leave_timeout: Duration,
    interrupt_grace: Duration,
    trace_payloads: bool,
    /// Whether the dealer announced `call_canceling` (CANCEL is sent only then).
    router_supports_cancel: bool,
    state: State,
    /// Request ids: sequential from 1, wrapping after 2^53.
    request_ids: RequestIds,
    pending: HashMap<Id, Pending>,
    subscriptions: HashMap<Id, SubscriptionEntry>,
    /// Router subscriptions with an UNSUBSCRIBE in flight, with that UNSUBSCRIBE's request id.
    unsubscribing: HashMap<Id, Id>,
    registrations: HashMap<Id, RegistrationEntry>,
    /// Router ids by local key: the handles keep local keys, which survive reconnects.
    registration_locals: HashMap<u64, Id>,
    invocations: HashMap<Id, RunningInvocation>,
    finished_invocations: FinishedInvocations,
    /// Pending calls by their handle-side key, for CANCEL and input chunks.
    call_keys: HashMap<u64, Id>,
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
            resend: Vec::new(),
            restoring_subscriptions: Vec::new(),
            restoring_registrations: Vec::new(),
            restore_retries: RestoreRetries::default(),
            leave_timeout: config.leave_timeout,
            interrupt_grace: config.interrupt_grace,
            trace_payloads: config.trace_payloads,
            router_supports_cancel,
            state: State::Established,
            request_ids: RequestIds::default(),
            pending: HashMap::default(),
            subscriptions: HashMap::default(),
            unsubscribing: HashMap::default(),
            registrations: HashMap::default(),
            registration_locals: HashMap::default(),
            invocations: HashMap::default(),
            finished_invocations: FinishedInvocations::default(),
            call_keys: HashMap::default(),
            unflushed: false,
            write_deadline: None,
            leave_requested: config.leave_requested,
            encode_buffer: bytes::BytesMut::new(),
            handoff: Handoff::default(),
            limits: config.limits,
            frame_len: 0,
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
        let deadline = match &self.state {
            State::ShuttingDown { deadline, .. } => Some(*deadline),
            State::Established => None,
        };
        tokio::select! {
            frame = self.transport.next() => self.on_frame(frame).await?,
            command = self.commands.recv(), if self.commands_open => self.on_command(command).await?,
            Some(outcome) = self.outcomes.recv() => self.on_outcome(outcome).await?,
            () = sleep_until(deadline) => return Err(self.leave_timed_out()),
            () = sleep_until(self.restore_retries.next_due()) => self.retry_refused_restorations().await?,
        }
        // Drain what is already queued before flushing once.
        for _ in 0..BATCH {
            let mut progressed = false;
            if let Some(Some(frame)) = self.transport.next().now_or_never() {
                self.on_frame(Some(frame)).await?;
                progressed = true;
            }
            if self.commands_open {
                if let Ok(command) = self.commands.try_recv() {
                    self.on_command(Some(command)).await?;
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

    // ===== sending

    async fn send(&mut self, message: Message) -> Step {
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!(
                direction = "tx",
                message = message.name(),
                "{}",
                describe(&message, self.trace_payloads)
            );
        }
        let bytes = match self
            .serializer
            .encode_frame(&message, &mut self.encode_buffer)
        {
            Ok(bytes) => bytes,
            Err(e) => {
                // Only values the user supplied can fail to encode (e.g. a non-finite float in
                // CBOR is fine, but a map key problem is not); the session itself stays healthy.
                tracing::warn!(error = %e, "dropping a message that cannot be encoded");
                return Ok(());
            }
        };
        let mut feed = std::pin::pin!(self.transport.feed(bytes));
        let fed = match std::future::poll_fn(|cx| Poll::Ready(feed.as_mut().poll(cx))).await {
            Poll::Ready(fed) => fed,
            Poll::Pending => {
                // The socket is full: nobody waits on it for what this batch already has.
                self.handoff.hand_over();
                let leave = self
                    .write_deadline
                    .is_none()
                    .then_some(&*self.leave_requested);
                match blocked_write(feed, self.write_deadline, leave).await {
                    Ok(fed) => fed,
                    Err(cut) => return Err(self.write_given_up(cut)),
                }
            }
        };
        if let Err(e) = fed {
            return Err(CloseReason::new(
                "wamp.close.system_shutdown",
                Some(format!("the connection failed: {e}")),
                CloseInitiator::Transport,
            ));
        }
        self.unflushed = true;
        Ok(())
    }

    async fn flush(&mut self) -> Step {
        if self.unflushed {
            self.unflushed = false;
            let leave = self
                .write_deadline
                .is_none()
                .then_some(&*self.leave_requested);
            let flushed =
                match blocked_write(self.transport.flush(), self.write_deadline, leave).await {
                    Ok(flushed) => flushed,
                    Err(cut) => return Err(self.write_given_up(cut)),
                };
            if let Err(e) = flushed {
                return Err(CloseReason::new(
                    "wamp.close.system_shutdown",
                    Some(format!("the connection failed: {e}")),
                    CloseInitiator::Transport,
                ));
            }
        }
        Ok(())
    }

    /// Why the session ends when a blocked write is given up.
    fn write_given_up(&mut self, cut: WriteCut) -> CloseReason {
        match cut {
            WriteCut::Deadline => {
                tracing::debug!("the router stopped reading; closing without waiting");
                self.leave_timed_out()
            }
            WriteCut::Leave => {
                tracing::warn!("leaving while the router does not read: closing without GOODBYE");
                CloseReason::new(
                    "wamp.close.close_realm",
                    Some("left while the router was not reading; closed without GOODBYE".into()),
                    CloseInitiator::Client,
                )
            }
        }
    }

    /// Bounds the writes from now on by `deadline` (or an earlier one already set).
    fn limit_writes(&mut self, deadline: Instant) {
        self.write_deadline = Some(self.write_deadline.map_or(deadline, |d| d.min(deadline)));
    }

    fn next_request_id(&mut self) -> Id {
        let pending = &self.pending;
        self.request_ids.next(|id| pending.contains_key(&id))
    }

    /// The request id issued last.
    fn last_request(&self) -> Id {
        self.request_ids.last()
    }

    /// Sends a request and remembers what waits for its answer.
    async fn request(
        &mut self,
        build: impl FnOnce(Id) -> Message,
        pending: Option<Pending>,
    ) -> Step {
        let id = self.next_request_id();
        let message = build(id);
        if let Some(pending) = pending {
            self.pending.insert(id, pending);
        }
        self.send(message).await
    }

    // ===== commands from the handles

    async fn on_command(&mut self, command: Option<Command>) -> Step {
        let Some(command) = command else {
            // Every handle is gone: nobody can use the session any more, so leave politely.
            self.commands_open = false;
            if matches!(self.state, State::Established) {
                self.begin_leave("wamp.close.close_realm".into(), None, None)
                    .await?;
            }
            return Ok(());
        };
        if let State::ShuttingDown {
            reason, replies, ..
        } = &mut self.state
        {
            let closed = Error::SessionClosed(reason.clone());
            match command {
                Command::Leave { reply, .. } => replies.push(reply),
                other => reject(other, closed),
            }
            return Ok(());
        }
        match command {
            Command::Call {
                key,
                procedure,
                args,
                extra,
                reply,
            } => {
                let RequestExtra {
                    options,
                    kwargs,
                    idempotent,
                    wait: _,
                } = RequestExtra::unpack(extra);
                self.call(key, idempotent, procedure, options, args, kwargs, reply)
                    .await
            }
            Command::Cancel { key, mode } => self.cancel(key, mode).await,
            Command::CallChunk {
                key,
                args,
                kwargs,
                last,
            } => self.call_chunk(key, args, kwargs, last).await,
            Command::Publish {
                topic,
                args,
                extra,
                ack,
            } => {
                let RequestExtra {
                    mut options,
                    kwargs,
                    ..
                } = RequestExtra::unpack(extra);
                if ack.is_some() {
                    options.insert("acknowledge".into(), Value::Bool(true));
                }
                self.request(
                    |request| Message::Publish {
                        request,
                        options,
                        topic,
                        payload: Payload::new(args, kwargs),
                    },
                    ack.map(Pending::Publish),
                )
                .await
            }
            Command::Subscribe(request) => self.subscribe(request).await,
            Command::Unsubscribe { queue, reply } => self.unsubscribe_local(&queue, reply).await,
            Command::Register(pending) => {
                let (procedure, options) = (pending.procedure.clone(), pending.options.clone());
                self.request(
                    |request| Message::Register {
                        request,
                        options,
                        procedure,
                    },
                    Some(Pending::Register(pending)),
                )
                .await
            }
            Command::Unregister { local, reply } => {
                let Some(registration) = self.registration_locals.remove(&local) else {
                    // Being restored after a reconnect (its REGISTER on its way), or already
                    // gone (revoked by the router, or unregistered before).
                    self.abandon_restoring_registration(local);
                    if let Some(reply) = reply {
                        let _ = reply.send(Ok(()));
                    }
                    return Ok(());
                };
                if self.registrations.remove(&registration).is_none() {
                    // Already gone (revoked by the router, or unregistered before).
                    if let Some(reply) = reply {
                        let _ = reply.send(Ok(()));
                    }
                    return Ok(());
                }
                self.unregister_router(registration, reply).await
            }
            Command::Leave {
                reason,
                message,
                reply,
            } => self.begin_leave(reason, message, Some(reply)).await,
            Command::Diagnostics { reply } => {
                let _ = reply.send(self.diagnostics());
                Ok(())
            }
        }
    }

    /// Sends SUBSCRIBE and remembers what waits for SUBSCRIBED.
    async fn subscribe(&mut self, pending: Box<SubscribeRequest>) -> Step {
        let (topic, options) = (pending.events.topic().to_owned(), pending.options.clone());
        self.request(
            |request| Message::Subscribe {
                request,
                options,
                topic,
            },
            Some(Pending::Subscribe(pending)),
        )
        .await
    }

    fn diagnostics(&self) -> super::Diagnostics {
        super::Diagnostics {
            pending_requests: self.pending.len(),
            pending_calls: self.call_keys.len(),
            running_invocations: self.invocations.len(),
            subscriptions: self.subscriptions.len(),
            registrations: self.registrations.len(),
            restore_retries: self.restore_retries.len(),
        }
    }

    async fn unsubscribe_local(
        &mut self,
        queue: &QueueRef,
        reply: Option<oneshot::Sender<Result<()>>>,
    ) -> Step {
        // The handle's id may be from before a reconnect: its queue knows the current one.
        let subscription = queue.subscription();
        let Some(entry) = self.subscriptions.remove(&subscription) else {
            if let Some(reply) = reply {
                let _ = reply.send(Ok(()));
            }
            return Ok(());
        };
        if let Some(rest) = entry.without(queue) {
            // Other local subscriptions still use the router-side subscription.
            self.subscriptions.insert(subscription, rest);
            if let Some(reply) = reply {
                let _ = reply.send(Ok(()));
            }
            return Ok(());
        }
        self.unsubscribe_router(subscription, reply).await
    }

    /// Forgets a registration being restored (its handler with it): one not sent yet is dropped;
    /// one whose REGISTER is on its way is unregistered once REGISTERED tells its new id. Rare:
    /// a scan of the pending requests is fine.
    fn abandon_restoring_registration(&mut self, local: u64) {
        // Not sent yet (a restore that failed partway, or a refusal to try again) ...
        let unsent = self.restoring_registrations.len();
        self.restoring_registrations
            .retain(|entry| entry.local != local);
        if self.restore_retries.remove(local) || self.restoring_registrations.len() != unsent {
            return;
        }
        // ... or on its way.
        for pending in self.pending.values_mut() {
            if matches!(pending, Pending::Reregister(entry) if entry.local == local) {
                *pending = Pending::AbandonedReregister;
                return;
            }
        }
    }

    /// Sends UNREGISTER for a registration, answering `reply` once UNREGISTERED arrives.
    async fn unregister_router(
        &mut self,
        registration: Id,
        reply: Option<oneshot::Sender<Result<()>>>,
    ) -> Step {
        self.request(
            |request| Message::Unregister {
                request,
                registration,
            },
            Some(Pending::Unregister(reply)),
        )
        .await
    }

    /// Sends UNSUBSCRIBE for a router-side subscription no local subscription uses any more.
    async fn unsubscribe_router(
        &mut self,
        subscription: Id,
        reply: Option<oneshot::Sender<Result<()>>>,
    ) -> Step {
        self.request(
            |request| Message::Unsubscribe {
                request,
                subscription,
            },
            Some(Pending::Unsubscribe(reply)),
        )
        .await?;
        self.unsubscribing.insert(subscription, self.last_request());
        Ok(())
    }

    async fn begin_leave(
        &mut self,
        reason: String,
        message: Option<String>,
        reply: Option<oneshot::Sender<CloseReason>>,
    ) -> Step {
        let mut details = Dict::new();
        if let Some(message) = &message {
            details.insert("message".into(), Value::from(message.as_str()));
        }
        let close = CloseReason::new(reason.clone(), message, CloseInitiator::Client);
        self.fail_pending(&close);
        // Nothing may follow GOODBYE, so running handlers could not answer anyway.
        self.abort_invocations();
        // The leave timeout bounds GOODBYE's write too (a router that stopped reading).
        let deadline = crate::deadline::deadline_after(self.leave_timeout);
        self.limit_writes(deadline);
        self.state = State::ShuttingDown {
            deadline,
            reason: close,
            replies: reply.into_iter().collect(),
        };
        self.send(Message::Goodbye { details, reason }).await
    }

    fn leave_timed_out(&mut self) -> CloseReason {
        tracing::debug!("no GOODBYE from the router in time; closing the connection");
        match &self.state {
            State::ShuttingDown { reason, .. } => reason.clone(),
            State::Established => {
                CloseReason::new("wamp.close.close_realm", None, CloseInitiator::Client)
            }
        }
    }

    // ===== messages from the router

    async fn on_frame(
        &mut self,
        frame: Option<std::result::Result<Bytes, crate::transport::TransportError>>,
    ) -> Step {
        let bytes = match frame {
            Some(Ok(bytes)) => bytes,
            Some(Err(e)) => {
                return Err(self.transport_lost(format!("the connection failed: {e}")));
            }
            None => return Err(self.transport_lost("the router closed the connection".into())),
        };
        self.frame_len = bytes.len();
        let message = match self.serializer.decode(&bytes) {
            Ok(message) => message,
            Err(e) => return Err(self.protocol_violation(e.to_string()).await),
        };
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!(
                direction = "rx",
                message = message.name(),
                "{}",
                describe(&message, self.trace_payloads)
            );
        }
        if let State::ShuttingDown { reason, .. } = &self.state {
            // While shutting down only the router's GOODBYE (or an ABORT) matters.
            return match message {
                Message::Goodbye { .. } | Message::Abort { .. } => Err(reason.clone()),
                _ => Ok(()),
            };
        }
        self.on_message(message).await
    }

    fn transport_lost(&self, message: String) -> CloseReason {
        CloseReason::new(
            "wamp.close.system_shutdown",
            Some(message),
            CloseInitiator::Transport,
        )
    }

    async fn on_message(&mut self, message: Message) -> Step {
        match message {
            Message::Result {
                request,
                details,
                payload,
            } => {
                let Some(pending) = self.take_pending(request, code::CALL, "RESULT").await? else {
                    return Ok(());
                };
                if let Pending::Call(call) = pending {
                    let (args, kwargs) = payload.into_parts();
                    let result = CallResult {
                        args,
                        kwargs,
                        details,
                    };
                    return self.on_call_result(request, call, result).await;
                }
                Ok(())
            }
            Message::Error {
                request_type,
                request,
                details,
                error,
                payload,
            } => {
                if request_type == code::INVOCATION {
                    let reason = "ERROR for an INVOCATION, which only a callee sends".to_owned();
                    return Err(self.protocol_violation(reason).await);
                }
                let Some(pending) = self.take_pending(request, request_type, "ERROR").await? else {
                    return Ok(());
                };
                let (args, kwargs) = payload.into_parts();
                let mut error = WampError {
                    uri: ErrorUri::from(error),
                    args,
                    kwargs,
                    details,
                };
                if let Pending::Call(call) = &pending {
                    self.call_finished(call);
                    error = Self::call_error(call, error);
                }
                if let Pending::Reregister(entry) = pending {
                    self.restore_refused(*entry, error);
                    return Ok(());
                }
                pending.fail(Error::Wamp(error));
                Ok(())
            }
            Message::Published {
                request,
                publication,
            } => {
                if let Some(Pending::Publish(reply)) = self
                    .take_pending(request, code::PUBLISH, "PUBLISHED")
                    .await?
                {
                    self.handoff.publication_acknowledged(reply, publication);
                }
                Ok(())
            }
            Message::Subscribed {
                request,
                subscription,
            } => {
                let pending = self
                    .take_pending(request, code::SUBSCRIBE, "SUBSCRIBED")
                    .await?;
                if let Some(Pending::Resubscribe(restored)) = pending {
                    // Restored after a reconnect: every local subscription carries on, except
                    // those unsubscribed while this SUBSCRIBE was on its way (their UNSUBSCRIBE
                    // found no router id to send).
                    let Some(restored) = restored.retain(|sink| !sink.is_closed()) else {
                        if self.subscriptions.contains_key(&subscription) {
                            return Ok(());
                        }
                        return self.unsubscribe_router(subscription, None).await;
                    };
                    for sink in restored.sinks() {
                        sink.set_subscription(subscription);
                    }
                    let entry = match self.subscriptions.remove(&subscription) {
                        Some(entry) => entry.merge(restored),
                        None => restored,
                    };
                    self.subscriptions.insert(subscription, entry);
                    return Ok(());
                }
                if let Some(Pending::Subscribe(pending)) = pending {
                    if self
                        .unsubscribing
                        .get(&subscription)
                        .is_some_and(|&unsubscribe| request < unsubscribe)
                    {
                        // The router merged this SUBSCRIBE into a subscription that an UNSUBSCRIBE
                        // sent after it is removing: subscribe again once that is done.
                        return self.subscribe(pending).await;
                    }
                    let SubscribeRequest {
                        options,
                        events,
                        reply,
                    } = *pending;
                    events.set_subscription(subscription);
                    let queue = events.queue_ref();
                    let entry = match self.subscriptions.remove(&subscription) {
                        // The router merged it into a subscription this session has already.
                        Some(entry) => entry.with(events),
                        None => SubscriptionEntry::new(events, options),
                    };
                    self.subscriptions.insert(subscription, entry);
                    if reply.send(Ok(subscription)).is_err() {
                        // The subscriber gave up waiting: undo.
                        self.unsubscribe_local(&queue, None).await?;
                    }
                }
                Ok(())
            }
            Message::Unsubscribed {
                request: 0,
                details,
            } => {
                // Revocation: the router removed the subscription.
                let revoked = details
                    .as_ref()
                    .and_then(|d| d.get("subscription"))
                    .and_then(Value::as_u64);
                if let Some(entry) = revoked.and_then(|id| self.subscriptions.remove(&id)) {
                    let reason = revocation_reason(details.as_ref());
                    tracing::info!(topic = entry.topic(), %reason, "the router revoked a subscription");
                    for sink in entry.sinks() {
                        sink.revoke(reason.clone());
                    }
                    // Dropping the senders ends the subscriptions' streams.
                    drop(entry);
                }
                Ok(())
            }
            Message::Unsubscribed { request, .. } => {
                if let Some(Pending::Unsubscribe(Some(reply))) = self
                    .take_pending(request, code::UNSUBSCRIBE, "UNSUBSCRIBED")
                    .await?
                {
                    let _ = reply.send(Ok(()));
                }
                Ok(())
            }
            Message::Registered {
                request,
                registration,
            } => {
                let pending = self
                    .take_pending(request, code::REGISTER, "REGISTERED")
                    .await?;
                if pending.is_some() && self.registrations.contains_key(&registration) {
                    // One session registers a procedure once: a second REGISTERED with the same id
                    // would overwrite the first entry (and dropping the old handle would then
                    // unregister the new one).
                    let reason = format!(
                        "REGISTERED for request {request} names registration {registration}, which this session holds already"
                    );
                    let close = self.protocol_violation(reason).await;
                    if let Some(pending) = pending {
                        pending.fail(Error::SessionClosed(close.clone()));
                    }
                    return Err(close);
                }
                if let Some(Pending::AbandonedReregister) = pending {
                    return self.unregister_router(registration, None).await;
                }
                if let Some(Pending::Reregister(entry)) = pending {
                    // Restored after a reconnect, under a new id.
                    entry.id.store(registration, Ordering::Relaxed);
                    self.restore_succeeded(entry.local);
                    self.registration_locals.insert(entry.local, registration);
                    self.registrations.insert(registration, *entry);
                    return Ok(());
                }
                if let Some(Pending::Register(pending)) = pending {
                    let RegisterRequest {
                        local,
                        procedure,
                        options,
                        handler,
                        revoked,
                        id,
                        reply,
                    } = *pending;
                    id.store(registration, Ordering::Relaxed);
                    self.registrations.insert(
                        registration,
                        RegistrationEntry {
                            local,
                            procedure,
                            options,
                            handler,
                            revoked,
                            id,
                        },
                    );
                    self.registration_locals.insert(local, registration);
                    if reply.send(Ok(registration)).is_err() {
                        self.registrations.remove(&registration);
                        self.registration_locals.remove(&local);
                        self.request(
                            |request| Message::Unregister {
                                request,
                                registration,
                            },
                            None,
                        )
                        .await?;
                    }
                }
                Ok(())
            }
            Message::Unregistered {
                request: 0,
                details,
            } => {
                let revoked = details
                    .as_ref()
                    .and_then(|d| d.get("registration"))
                    .and_then(Value::as_u64);
                if let Some(entry) = revoked.and_then(|id| self.registrations.remove(&id)) {
                    self.registration_locals.remove(&entry.local);
                    let reason = revocation_reason(details.as_ref());
                    tracing::info!(procedure = %entry.procedure, %reason, "the router revoked a registration");
                    let _ = entry.revoked.set(reason);
                }
                Ok(())
            }
            Message::Unregistered { request, .. } => {
                if let Some(Pending::Unregister(Some(reply))) = self
                    .take_pending(request, code::UNREGISTER, "UNREGISTERED")
                    .await?
                {
                    let _ = reply.send(Ok(()));
                }
                Ok(())
            }
            Message::Event {
                subscription,
                publication,
                details,
                payload,
            } => {
                self.on_event(subscription, publication, details, payload);
                if self.handoff.event_delivered() {
                    self.handoff.hand_over();
                }
                // A burst of events arrives faster than one socket read per event: spend the
                // task's cooperative budget so that, on a single-threaded runtime, subscribers
                // get to run (and drain their queues) between bursts instead of after them.
                tokio::task::consume_budget().await;
                Ok(())
            }
            Message::Invocation {
                request,
                registration,
                details,
                payload,
            } => {
                self.on_invocation(request, registration, details, payload)
                    .await
            }
            Message::Interrupt { request, options } => {
                self.on_interrupt(request, &options);
                Ok(())
            }
            Message::Goodbye { details, reason } => {
                // The router ends the session: acknowledge, then close.
                self.limit_writes(Instant::now() + CLOSE_WRITE_TIMEOUT);
                self.send(Message::Goodbye {
                    details: Dict::new(),
                    reason: ErrorUri::GoodbyeAndOut.as_str().to_owned(),
                })
                .await?;
                Err(CloseReason::from_router(&reason, &details))
            }
            Message::Abort {
                details, reason, ..
            } => Err(CloseReason::from_router(&reason, &details)),
            Message::EventReceived { .. } => Ok(()),
            other @ (Message::Welcome { .. } | Message::Challenge { .. }) => {
                let reason = format!(
                    "{} received after the session was established",
                    other.name()
                );
                Err(self.protocol_violation(reason).await)
            }
            other => {
                let reason = format!(
                    "{} is not a message a router sends to a client",
                    other.name()
                );
                Err(self.protocol_violation(reason).await)
            }
        }
    }

    /// Removes the pending request `request`, checking that it is of the expected type.
    ///
    /// An answer for an id this session issued but no longer waits on (a late answer after a
    /// cancel or an error; Crossbar sends those) is ignored. An answer for an id never issued is a
    /// protocol violation.
    async fn take_pending(
        &mut self,
        request: Id,
        request_type: u64,
        what: &str,
    ) -> std::result::Result<Option<Pending>, CloseReason> {
        if request_type == code::UNSUBSCRIBE {
            self.unsubscribing
                .retain(|_, unsubscribe| *unsubscribe != request);
        }
        match self.pending.remove(&request) {
            Some(pending) if pending.request_type() == request_type => Ok(Some(pending)),
            Some(pending) => {
                let expected = crate::wire::message_name(pending.request_type());
                self.pending.insert(request, pending);
                let reason = format!("{what} for request {request}, which is a {expected}");
                Err(self.protocol_violation(reason).await)
            }
            None if self.request_ids.was_issued(request) => {
                tracing::debug!(request, "ignoring a late {what} for a finished request");
                Ok(None)
            }
            None => {
                let reason = format!("{what} for request {request}, which was never sent");
                Err(self.protocol_violation(reason).await)
            }
        }
    }

    fn on_event(&mut self, subscription: Id, publication: Id, details: Dict, payload: Payload) {
        let Some(entry) = self.subscriptions.get(&subscription) else {
            // Possible right after an unsubscribe: the router sent it before processing ours.
            tracing::debug!(
                subscription,
                "ignoring an EVENT for an unknown subscription"
            );
            return;
        };
        let topic = details
            .get("topic")
            .and_then(Value::as_str)
            .unwrap_or_else(|| entry.topic())
            .to_owned();
        let (args, kwargs) = payload.into_parts();
        let session = self.shared.upgrade().map(super::Session::from_shared);
        let event = Event {
            topic,
            subscription,
            publication,
            args,
            kwargs,
            details,
            session,
        };
        // Every local subscription sharing this router subscription gets every event. A
        // subscriber whose stream was dropped gets none (the queue sees to that) and is removed
        // when its Unsubscribe arrives.
        let size = self.frame_len;
        if let Some((last, rest)) = entry.sinks().split_last() {
            for sink in rest {
                self.handoff.event_queued(sink.send(event.clone(), size));
            }
            self.handoff.event_queued(last.send(event, size));
        }
    }

    // ===== ending the session

    async fn protocol_violation(&mut self, reason: String) -> CloseReason {
        let reason = crate::error::clip(&reason).into_owned();
        tracing::warn!(%reason, "protocol violation; aborting the session");
        let mut details = Dict::new();
        details.insert("message".into(), Value::from(reason.as_str()));
        let close = CloseReason::new(
            ErrorUri::ProtocolViolation.as_str(),
            Some(reason),
            CloseInitiator::ProtocolViolation,
        );
        // Nobody waits on the ABORT's write.
        self.fail_pending(&close);
        self.limit_writes(Instant::now() + CLOSE_WRITE_TIMEOUT);
        let _ = self
            .send(Message::Abort {
                details,
                reason: ErrorUri::ProtocolViolation.as_str().to_owned(),
                payload: Payload::Empty,
            })
            .await;
        close
    }

    /// Fails every pending request with `SessionClosed`.
    fn fail_pending(&mut self, reason: &CloseReason) {
        for (_, pending) in self.pending.drain() {
            pending.fail(Error::SessionClosed(reason.clone()));
        }
    }

    /// Final cleanup: publish the close reason, fail everything still waiting, end every
    /// subscription stream, abort running handlers, close the connection.
    async fn shut_down(mut self, reason: CloseReason) {
        tracing::info!(reason = %reason, "session closed");
        self.closed.send_replace(Some(reason.clone()));
        self.session_state
            .send_replace(super::SessionState::Closed(reason.clone()));
        self.fail_pending(&reason);
        for command in std::mem::take(&mut self.waiting) {
            match command {
                Command::Leave { reply, .. } => drop(reply.send(reason.clone())),
                other => reject(other, Error::SessionClosed(reason.clone())),
            }
        }
        self.subscriptions.clear();
        self.registrations.clear();
        self.abort_invocations();
        if let State::ShuttingDown { replies, .. } =
            std::mem::replace(&mut self.state, State::Established)
        {
            for reply in replies {
                let _ = reply.send(reason.clone());
            }
        }
        // Refuse what handles queued meanwhile, so nobody waits on a dead session.
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Leave { reply, .. } => drop(reply.send(reason.clone())),
                other => reject(other, Error::SessionClosed(reason.clone())),
            }
        }
        // Everything waiting has its answer: now the socket, bounded.
        self.limit_writes(Instant::now() + CLOSE_WRITE_TIMEOUT);
        let _ = self.flush().await;
        let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, self.transport.close()).await;
    }
}

/// Answers a command that arrives after the session stopped taking requests.
fn reject(command: Command, error: Error) {
    match command {
        Command::Call { reply, .. } => reply.send(Err(error)),
        Command::Cancel { .. } | Command::CallChunk { .. } => {}
        Command::Publish { ack, .. } => {
            if let Some(ack) = ack {
                let _ = ack.send(Err(error));
            }
        }
        Command::Subscribe(request) => drop(request.reply.send(Err(error))),
        Command::Register(request) => drop(request.reply.send(Err(error))),
        Command::Unsubscribe { reply, .. } | Command::Unregister { reply, .. } => {
            if let Some(reply) = reply {
                let _ = reply.send(Err(error));
            }
        }
        Command::Leave { .. } | Command::Diagnostics { .. } => {}
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

fn error_message(request_type: u64, request: Id, error: WampError) -> Message {
    Message::Error {
        request_type,
        request,
        details: error.details,
        error: error.uri.as_str().to_owned(),
        payload: Payload::new(error.args, error.kwargs),
    }
}

/// Why a write that blocked was given up.
enum WriteCut {
    /// The close path's deadline passed.
    Deadline,
    /// A handle asked to leave (the session was not closing yet).
    Leave,
}

/// Waits for a write that did not complete at once (the socket is full: the router reads slowly
/// or not at all), until `deadline` or until `leave` is signalled.
async fn blocked_write<T>(
    write: impl Future<Output = T>,
    deadline: Option<Instant>,
    leave: Option<&Notify>,
) -> std::result::Result<T, WriteCut> {
    let mut write = std::pin::pin!(write);
    if let Poll::Ready(done) = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await
    {
        return Ok(done);
    }
    let leave = async {
        match leave {
            Some(leave) => leave.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        done = &mut write => Ok(done),
        () = sleep_until(deadline) => Err(WriteCut::Deadline),
        () = leave => Err(WriteCut::Leave),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// A one-line description of a message for trace logs, payloads elided unless asked for.
pub(super) fn describe(message: &Message, with_payload: bool) -> String {
    if with_payload {
        return format!("{message:?}");
    }
    let payload_size = |p: &Payload| match p {
        Payload::Args { args, kwargs } => format!("{} args, {} kwargs", args.len(), kwargs.len()),
        Payload::Transparent(b) => format!("{} transparent bytes", b.len()),
        Payload::Empty => "no payload".to_owned(),
    };
    match message {
        Message::Call {
            request,
            procedure,
            payload,
            ..
        } => {
            format!("CALL {request} {procedure} ({})", payload_size(payload))
        }
        Message::Result {
            request, payload, ..
        } => format!("RESULT {request} ({})", payload_size(payload)),
        Message::Invocation {
            request,
            registration,
            payload,
            ..
        } => {
            format!(
                "INVOCATION {request} reg {registration} ({})",
                payload_size(payload)
            )
        }
        Message::Yield {
            request, payload, ..
        } => format!("YIELD {request} ({})", payload_size(payload)),
        Message::Publish {
            request,
            topic,
            payload,
            ..
        } => {
            format!("PUBLISH {request} {topic} ({})", payload_size(payload))
        }
        Message::Event {
            subscription,
            publication,
            payload,
            ..
        } => {
            format!(
                "EVENT sub {subscription} pub {publication} ({})",
                payload_size(payload)
            )
        }
        Message::Error {
            request_type,
            request,
            error,
            payload,
            ..
        } => format!(
            "ERROR for {} {request}: {error} ({})",
            crate::wire::message_name(*request_type),
            payload_size(payload)
        ),
        Message::Abort { reason, .. } => format!("ABORT {reason}"),
        Message::Goodbye { reason, .. } => format!("GOODBYE {reason}"),
        Message::Hello { realm, .. } => format!("HELLO {realm}"),
        Message::Welcome { session, .. } => format!("WELCOME {session}"),
        Message::Authenticate { .. } => "AUTHENTICATE (signature elided)".to_owned(),
        other => format!("{other:?}"),
    }
}

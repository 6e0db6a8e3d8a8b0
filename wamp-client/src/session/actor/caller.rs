//! The caller: pending calls, their results (progressive ones included) and errors, which take
//! one delivery path, cancellation, and progressive invocations (further CALL chunks under the
//! same request id).

use rustc_hash::FxHashMap as HashMap;

use super::requests::{Awaiting, Pending};
use super::{SessionTask, Step};
use crate::e2ee::PayloadRole;
use crate::error::{CloseReason, Error, ErrorUri, Result, WampError};
use crate::options::CancelMode;
use crate::payload::CallResult;
use crate::session::command::{CallReply, CallRequest, Command, RequestExtra};
use crate::value::{Dict, Value};
use crate::wire::{Id, Message, Payload, code};

/// The caller's tables.
pub(super) struct Caller {
    /// Calls sent and waiting for their result, by request id.
    pub(super) pending: HashMap<Id, PendingCall>,
    /// Request ids of pending calls by their handle-side key, for CANCEL and input chunks.
    pub(super) keys: HashMap<u64, Id>,
    /// Idempotent calls lost with the connection, sent again once rejoined.
    pub(super) resend: Vec<PendingCall>,
    /// Whether the dealer announced `call_canceling` (CANCEL is sent only then).
    pub(super) router_supports_cancel: bool,
}

impl Caller {
    pub(super) fn new(router_supports_cancel: bool) -> Self {
        Caller {
            pending: HashMap::default(),
            keys: HashMap::default(),
            resend: Vec::new(),
            router_supports_cancel,
        }
    }

    /// Whether a RESULT for `request` with these details ends a pending call, so that it is
    /// handled without waiting (see `SessionTask::receive`); a progressive result or one for a
    /// request not pending takes the general way.
    pub(super) fn takes_now(&self, request: Id, details: &Dict) -> bool {
        details.get("progress").and_then(Value::as_bool) != Some(true)
            && self.pending.contains_key(&request)
    }

    /// The connection is gone: idempotent calls are kept to be sent again on the next one, the
    /// others fail with `Disconnected`.
    pub(super) fn connection_lost(&mut self, reason: &CloseReason) {
        for (_, call) in self.pending.drain() {
            // Its key maps to no request until it is sent again (ids start again at 1 on the
            // new session).
            self.keys.remove(&call.key);
            if call.is_idempotent() {
                self.resend.push(call);
            } else {
                call.fail(Error::Disconnected(reason.clone()));
            }
        }
    }
}

/// A call waiting for its result: one per outstanding call, so it is kept small (what only
/// some calls need is boxed in `retained`).
pub(super) struct PendingCall {
    /// The handle-side key, to find the call again for CANCEL and input chunks.
    pub(super) key: u64,
    pub(super) reply: CallReply,
    /// The call asked the dealer for a timeout.
    pub(super) router_timeout: bool,
    /// This client sent CANCEL for the call.
    pub(super) cancel_sent: bool,
    /// The procedure (and, for an idempotent call, the whole CALL), for the calls that may send
    /// another CALL: streaming ones (progressive invocations) and idempotent ones (resent after a
    /// reconnect).
    pub(super) retained: Option<Box<RetainedCall>>,
}

/// What a call keeps of its CALL message to send more of it later.
pub(super) struct RetainedCall {
    pub(super) procedure: String,
    /// For an idempotent call: what to send again after a reconnect.
    pub(super) resend: Option<Resend>,
}

/// The CALL of an idempotent call, kept to send it again after a reconnect.
pub(super) struct Resend {
    pub(super) options: Dict,
    /// Cheap to clone when encoded: a reference to the bytes.
    pub(super) payload: Payload,
}

impl PendingCall {
    /// Whether the call is sent again after a reconnect.
    pub(super) fn is_idempotent(&self) -> bool {
        self.retained.as_ref().is_some_and(|r| r.resend.is_some())
    }

    pub(super) fn fail(self, error: Error) {
        self.reply.send(Err(error));
    }

    /// The error the call ends with. Crossbar.io answers a dealer-side timeout with
    /// `wamp.error.canceled` rather than the specification's `wamp.error.timeout`; a call that
    /// asked for a router timeout and was not canceled by this client can only have been
    /// canceled by that timeout, so it is reported as `wamp.error.timeout`.
    fn error(&self, mut error: WampError) -> WampError {
        if self.router_timeout && !self.cancel_sent && error.uri == ErrorUri::Canceled {
            error.uri = ErrorUri::Timeout;
        }
        error
    }
}

impl Awaiting for PendingCall {
    fn request_type(&self) -> u64 {
        code::CALL
    }

    fn table(task: &mut SessionTask) -> &mut HashMap<Id, Self> {
        &mut task.caller.pending
    }
}

impl CallReply {
    /// Delivers a final outcome.
    pub(super) fn send(self, result: Result<CallResult>) {
        match self {
            CallReply::Once(reply) => {
                let _ = reply.send(Box::new(result));
            }
            CallReply::Stream(results) => {
                // The last slot is kept free for this (see `on_call_answer`); a reader that is
                // gone needs nothing.
                let _ = results.try_send(result);
            }
        }
    }
}

impl SessionTask {
    pub(super) async fn call(&mut self, request: CallRequest) -> Step {
        match self.prepare_call(request) {
            Some(message) => self.send(message).await,
            None => Ok(()),
        }
    }

    /// The CALL to send for `request`, now pending; `None` if the call failed here already.
    pub(super) fn prepare_call(&mut self, request: CallRequest) -> Option<Message> {
        let CallRequest {
            key,
            procedure,
            payload,
            extra,
            reply,
        } = request;
        let RequestExtra {
            options,
            idempotent,
            wait: _,
        } = RequestExtra::unpack(extra);
        // The procedure is kept too for a call whose answer may need decoding.
        let keeps_procedure = matches!(reply, CallReply::Stream(_)) || self.codec.is_some();
        let retained = (idempotent || keeps_procedure).then(|| {
            Box::new(RetainedCall {
                procedure: procedure.clone(),
                resend: idempotent.then(|| Resend {
                    options: options.clone(),
                    payload: payload.clone(),
                }),
            })
        });
        let mut options = options;
        let payload = match self.seal_call(&procedure, &mut options, payload) {
            Ok(payload) => payload,
            Err(error) => {
                reply.send(Err(error));
                return None;
            }
        };
        let pending = Pending::Call(PendingCall {
            key,
            reply,
            router_timeout: options.contains_key("timeout"),
            cancel_sent: false,
            retained,
        });
        let (request, message) = self.request_now(
            |request| Message::Call {
                request,
                options,
                procedure,
                payload,
            },
            Some(pending),
        );
        self.caller.keys.insert(key, request);
        Some(message)
    }

    /// Sends an idempotent call again under a new request id.
    pub(super) async fn resend_call(&mut self, call: PendingCall) -> Step {
        let Some((retained, Some(resend))) = call.retained.as_ref().map(|r| (r, &r.resend)) else {
            return Ok(());
        };
        let (mut options, procedure) = (resend.options.clone(), retained.procedure.clone());
        let payload = match self.seal_call(&procedure, &mut options, resend.payload.clone()) {
            Ok(payload) => payload,
            Err(error) => {
                call.fail(error);
                return Ok(());
            }
        };
        let key = call.key;
        let request = self
            .request(
                |request| Message::Call {
                    request,
                    options,
                    procedure,
                    payload,
                },
                Some(Pending::Call(call)),
            )
            .await?;
        self.caller.keys.insert(key, request);
        Ok(())
    }

    /// Sends CANCEL for the call `key` if it is still pending.
    ///
    /// With `kill` the call stays pending until the router answers (the callee may still produce
    /// the result). With `skip` and `killnowait` the specification has the dealer answer at once;
    /// the call is completed here right away, so a router that does not answer (Crossbar.io
    /// ignores `skip`) cannot leave it hanging. A late answer is then ignored like any other.
    pub(super) async fn cancel(&mut self, key: u64, mode: CancelMode) -> Step {
        let Some(&request) = self.caller.keys.get(&key) else {
            // Not sent on this connection: waiting to be sent (again) once the session has
            // rejoined, or already finished.
            self.cancel_unsent(key);
            return Ok(());
        };
        let supported = self.caller.router_supports_cancel;
        if supported {
            let mut options = Dict::new();
            options.insert("mode".into(), Value::from(mode.as_str()));
            self.send(Message::Cancel { request, options }).await?;
            if let Some(call) = self.caller.pending.get_mut(&request) {
                call.cancel_sent = true;
            }
        }
        if mode != CancelMode::Kill || !supported {
            if let Some(call) = self.caller.pending.remove(&request) {
                self.caller.keys.remove(&call.key);
                call.fail(Error::Wamp(canceled_by_caller()));
            }
        }
        Ok(())
    }

    /// Cancels a call that waits to be sent (or sent again) once the session has rejoined: it
    /// never goes out.
    fn cancel_unsent(&mut self, key: u64) {
        self.waiting
            .retain(|c| !matches!(c, Command::Call(r) if r.key == key));
        if let Some(position) = self.caller.resend.iter().position(|c| c.key == key) {
            let call = self.caller.resend.swap_remove(position);
            call.fail(Error::Wamp(canceled_by_caller()));
        }
    }

    /// Sends a further chunk of a call with progressive invocations.
    pub(super) async fn call_chunk(
        &mut self,
        key: u64,
        args: Vec<Value>,
        kwargs: Dict,
        last: bool,
    ) -> Step {
        let Some(&request) = self.caller.keys.get(&key) else {
            // The call has ended; the dealer would drop the chunk anyway.
            return Ok(());
        };
        let Some(call) = self.caller.pending.get(&request) else {
            return Ok(());
        };
        let Some(procedure) = call.retained.as_ref().map(|r| r.procedure.clone()) else {
            // Only streaming calls take input chunks, and they keep their procedure.
            return Ok(());
        };
        // Only the first CALL's options count; continuations carry just `progress`.
        let mut options = Dict::new();
        if !last {
            options.insert("progress".into(), Value::Bool(true));
        }
        let payload = match self.seal_call(&procedure, &mut options, Payload::new(args, kwargs)) {
            Ok(payload) => payload,
            Err(error) => {
                if let Some(call) = self.caller.pending.remove(&request) {
                    self.caller.keys.remove(&call.key);
                    call.fail(error);
                }
                return self.cancel_at_router(request).await;
            }
        };
        self.send(Message::Call {
            request,
            options,
            procedure,
            payload,
        })
        .await
    }

    /// A CALL's payload, encoded if the payload codec has a key for the procedure.
    fn seal_call(&self, procedure: &str, options: &mut Dict, payload: Payload) -> Result<Payload> {
        let role = PayloadRole::Originator;
        Ok(self.seal(role, "dealer", procedure, options, payload)?)
    }

    /// Decodes an encoded RESULT (keyed by the procedure) or ERROR (keyed by the error URI, as
    /// Autobahn does); one that cannot be decoded ends the call with the codec's error.
    fn open_answer(
        &self,
        call: &PendingCall,
        answer: std::result::Result<CallResult, WampError>,
    ) -> Result<CallResult> {
        let role = PayloadRole::Originator;
        match answer {
            Ok(mut result) => {
                let procedure = call.retained.as_ref().map_or("", |r| r.procedure.as_str());
                let (payload, details) = result.parts_mut();
                self.open_payload(role, true, procedure, details, payload)?;
                Ok(result)
            }
            Err(mut error) => {
                let WampError {
                    uri,
                    args,
                    kwargs,
                    details,
                } = &mut error;
                self.open(role, false, uri.as_str(), details, args, kwargs)?;
                Err(Error::Wamp(call.error(error)))
            }
        }
    }

    /// RESULT or ERROR for a call; `what` names the message. Progressive results go to a
    /// streaming caller and keep the call pending; a final answer ends it.
    pub(super) async fn on_call_answer(
        &mut self,
        request: Id,
        answer: std::result::Result<CallResult, WampError>,
        what: &str,
    ) -> Step {
        let Some(call) = self
            .take_answered::<PendingCall>(request, code::CALL, what)
            .await?
        else {
            return Ok(());
        };
        let progress = matches!(&answer, Ok(result) if result.is_progress());
        if !progress {
            self.finish_call(call, answer);
            return Ok(());
        }
        match self.open_answer(&call, answer) {
            Ok(result) => self.on_progress(request, call, result).await,
            Err(error) => {
                // More results would follow: the call ends here, and is canceled at the router.
                self.caller.keys.remove(&call.key);
                call.fail(error);
                self.cancel_at_router(request).await
            }
        }
    }

    /// The final RESULT or ERROR of the pending call `request` (see `Caller::takes_now`).
    pub(super) fn on_final_answer(
        &mut self,
        request: Id,
        answer: std::result::Result<CallResult, WampError>,
    ) {
        if let Some(call) = self.caller.pending.remove(&request) {
            self.finish_call(call, answer);
        }
    }

    /// Ends `call` with its final answer.
    fn finish_call(
        &mut self,
        call: PendingCall,
        answer: std::result::Result<CallResult, WampError>,
    ) {
        let outcome = self.open_answer(&call, answer);
        self.caller.keys.remove(&call.key);
        match call.reply {
            CallReply::Once(reply) => self.handoff.call_finished(reply, outcome),
            stream @ CallReply::Stream(_) => stream.send(outcome),
        }
    }

    async fn on_progress(&mut self, request: Id, call: PendingCall, result: CallResult) -> Step {
        match &call.reply {
            // Never wait for a slow reader: one slot stays free for the final outcome, and a
            // reader that falls further behind loses the call instead.
            CallReply::Stream(results) if results.capacity() <= 1 && !results.is_closed() => {
                return self.progress_overflow(request, call).await;
            }
            CallReply::Stream(results) => {
                let _ = results.try_send(Ok(result));
            }
            CallReply::Once(_) => {
                tracing::debug!(request, "ignoring a progressive result nobody asked for");
            }
        }
        // Pending until the final result, even if the caller stopped listening: its CANCEL must
        // still find the call.
        self.caller.pending.insert(request, call);
        Ok(())
    }

    /// A streaming call's reader fell more than the buffer behind: the call fails with
    /// `ProgressOverflow` and is canceled at the router, whose later answers are ignored.
    async fn progress_overflow(&mut self, request: Id, call: PendingCall) -> Step {
        self.caller.keys.remove(&call.key);
        let limit = match &call.reply {
            CallReply::Stream(results) => results.max_capacity().saturating_sub(1),
            CallReply::Once(_) => 0,
        };
        tracing::warn!(
            request,
            limit,
            "a call's progressive results are not read fast enough; canceling it"
        );
        call.fail(Error::ProgressOverflow { limit });
        self.cancel_at_router(request).await
    }

    /// Cancels a call this client has given up on (`killnowait`), if the dealer can cancel.
    async fn cancel_at_router(&mut self, request: Id) -> Step {
        if self.caller.router_supports_cancel {
            let mut options = Dict::new();
            options.insert("mode".into(), Value::from(CancelMode::KillNoWait.as_str()));
            self.send(Message::Cancel { request, options }).await?;
        }
        Ok(())
    }
}

fn canceled_by_caller() -> WampError {
    WampError::with_message(ErrorUri::Canceled, "the call was canceled by this caller")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CloseInitiator;
    use tokio::sync::oneshot;

    fn call(
        key: u64,
        idempotent: bool,
    ) -> (PendingCall, oneshot::Receiver<Box<Result<CallResult>>>) {
        let (reply, rx) = oneshot::channel();
        let retained = idempotent.then(|| {
            Box::new(RetainedCall {
                procedure: "com.example.p".into(),
                resend: Some(Resend {
                    options: Dict::new(),
                    payload: Payload::Empty,
                }),
            })
        });
        let call = PendingCall {
            key,
            reply: CallReply::Once(reply),
            router_timeout: false,
            cancel_sent: false,
            retained,
        };
        (call, rx)
    }

    #[test]
    fn a_lost_connection_keeps_idempotent_calls_and_fails_the_others() {
        let mut caller = Caller::new(true);
        let (plain, mut plain_rx) = call(1, false);
        let (idempotent, mut idempotent_rx) = call(2, true);
        caller.pending.insert(10, plain);
        caller.keys.insert(1, 10);
        caller.pending.insert(11, idempotent);
        caller.keys.insert(2, 11);

        let lost = CloseReason::new(ErrorUri::SystemShutdown, None, CloseInitiator::Transport);
        caller.connection_lost(&lost);

        assert!(caller.pending.is_empty() && caller.keys.is_empty());
        assert!(matches!(
            plain_rx.try_recv().map(|r| *r),
            Ok(Err(Error::Disconnected(_)))
        ));
        assert!(
            idempotent_rx.try_recv().is_err(),
            "answered before it was sent again"
        );
        assert_eq!(caller.resend.len(), 1);
        assert!(
            caller
                .resend
                .iter()
                .all(|c| c.key == 2 && c.is_idempotent())
        );
    }

    #[test]
    fn a_router_timeout_reported_as_canceled_is_a_timeout() {
        let (mut call, _rx) = call(1, false);
        call.router_timeout = true;
        let canceled = || WampError::with_message(ErrorUri::Canceled, "canceled");
        assert_eq!(call.error(canceled()).uri, ErrorUri::Timeout);
        // Canceled by this caller: it stays a cancellation.
        call.cancel_sent = true;
        assert_eq!(call.error(canceled()).uri, ErrorUri::Canceled);
    }
}

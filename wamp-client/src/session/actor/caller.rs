//! The caller side of the session task: pending calls, progressive results, cancellation and
//! progressive invocations (further CALL chunks under the same request id).

use super::{Pending, SessionTask, Step};
use crate::error::{Error, ErrorUri, Result, WampError};
use crate::options::CancelMode;
use crate::payload::CallResult;
use crate::session::command::CallReply;
use crate::value::{Dict, Value};
use crate::wire::{Id, Message, Payload};

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
    pub(super) args: Vec<Value>,
    pub(super) kwargs: Dict,
}

impl PendingCall {
    /// Whether the call is sent again after a reconnect.
    pub(super) fn is_idempotent(&self) -> bool {
        self.retained.as_ref().is_some_and(|r| r.resend.is_some())
    }

    pub(super) fn fail(self, error: Error) {
        self.reply.send(Err(error));
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
                // The last slot is kept free for this (see `on_call_result`); a reader that is
                // gone needs nothing.
                let _ = results.try_send(result);
            }
        }
    }
}

impl SessionTask {
    #[allow(clippy::too_many_arguments)] // the fields of one Command::Call
    pub(super) async fn call(
        &mut self,
        key: u64,
        idempotent: bool,
        procedure: String,
        options: Dict,
        args: Vec<Value>,
        kwargs: Dict,
        reply: CallReply,
    ) -> Step {
        let retained = (idempotent || matches!(reply, CallReply::Stream(_))).then(|| {
            Box::new(RetainedCall {
                procedure: procedure.clone(),
                resend: idempotent.then(|| Resend {
                    options: options.clone(),
                    args: args.clone(),
                    kwargs: kwargs.clone(),
                }),
            })
        });
        let pending = Pending::Call(PendingCall {
            key,
            reply,
            router_timeout: options.contains_key("timeout"),
            cancel_sent: false,
            retained,
        });
        self.request(
            |request| Message::Call {
                request,
                options,
                procedure,
                payload: Payload::new(args, kwargs),
            },
            Some(pending),
        )
        .await?;
        self.call_keys.insert(key, self.last_request());
        Ok(())
    }

    /// Sends CANCEL for the call `key` if it is still pending.
    ///
    /// With `kill` the call stays pending until the router answers (the callee may still produce
    /// the result). With `skip` and `killnowait` the specification has the dealer answer at once;
    /// the call is completed here right away, so a router that does not answer (Crossbar.io
    /// ignores `skip`) cannot leave it hanging. A late answer is then ignored like any other.
    pub(super) async fn cancel(&mut self, key: u64, mode: CancelMode) -> Step {
        let Some(&request) = self.call_keys.get(&key) else {
            // Not sent on this connection: waiting to be sent again after a restore that failed
            // partway, or already finished.
            self.cancel_unsent(key);
            return Ok(());
        };
        if self.router_supports_cancel {
            let mut options = Dict::new();
            options.insert("mode".into(), Value::from(mode.as_str()));
            self.send(Message::Cancel { request, options }).await?;
            if let Some(Pending::Call(call)) = self.pending.get_mut(&request) {
                call.cancel_sent = true;
            }
        }
        if mode != CancelMode::Kill || !self.router_supports_cancel {
            if let Some(Pending::Call(call)) = self.pending.remove(&request) {
                self.call_finished(&call);
                call.fail(Error::Wamp(WampError::with_message(
                    ErrorUri::Canceled,
                    "the call was canceled by this caller",
                )));
            }
        }
        Ok(())
    }

    /// Sends a further chunk of a call with progressive invocations.
    pub(super) async fn call_chunk(
        &mut self,
        key: u64,
        args: Vec<Value>,
        kwargs: Dict,
        last: bool,
    ) -> Step {
        let Some(&request) = self.call_keys.get(&key) else {
            // The call has ended; the dealer would drop the chunk anyway.
            return Ok(());
        };
        let Some(Pending::Call(call)) = self.pending.get(&request) else {
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
        self.send(Message::Call {
            request,
            options,
            procedure,
            payload: Payload::new(args, kwargs),
        })
        .await
    }

    /// RESULT: progressive results go to a streaming caller and keep the call pending.
    pub(super) async fn on_call_result(
        &mut self,
        request: Id,
        call: PendingCall,
        result: CallResult,
    ) -> Step {
        if result.is_progress() {
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
            // Pending until the final result, even if the caller stopped listening: its CANCEL
            // must still find the call.
            self.pending.insert(request, Pending::Call(call));
            return Ok(());
        }
        self.call_keys.remove(&call.key);
        match call.reply {
            CallReply::Once(reply) => self.handoff.call_finished(reply, Ok(result)),
            stream @ CallReply::Stream(_) => stream.send(Ok(result)),
        }
        Ok(())
    }

    /// A streaming call's reader fell more than the buffer behind: the call fails with
    /// `ProgressOverflow` and is canceled at the router, whose later answers are ignored.
    async fn progress_overflow(&mut self, request: Id, call: PendingCall) -> Step {
        self.call_finished(&call);
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
        if self.router_supports_cancel {
            let mut options = Dict::new();
            options.insert("mode".into(), Value::from(CancelMode::KillNoWait.as_str()));
            self.send(Message::Cancel { request, options }).await?;
        }
        Ok(())
    }

    /// The error a call ends with. Crossbar.io answers a dealer-side timeout with
    /// `wamp.error.canceled` rather than the specification's `wamp.error.timeout`; a call that
    /// asked for a router timeout and was not canceled by this client can only have been canceled
    /// by that timeout, so it is reported as `wamp.error.timeout`.
    pub(super) fn call_error(call: &PendingCall, mut error: WampError) -> WampError {
        if call.router_timeout && !call.cancel_sent && error.uri == ErrorUri::Canceled {
            error.uri = ErrorUri::Timeout;
        }
        error
    }

    /// Forgets a finished call's key.
    pub(super) fn call_finished(&mut self, call: &PendingCall) {
        self.call_keys.remove(&call.key);
    }
}

//! The caller side of the session task: pending calls, progressive results, cancellation and
//! progressive invocations (further CALL chunks under the same request id).

use super::{Pending, SessionTask, Step};
use crate::api::call::{CallResult, CancelMode};
use crate::error::{Error, Result};
use crate::session::command::CallReply;
use crate::value::{Dict, Value};
use crate::wire::{Id, Message, Payload};

/// A call waiting for its result.
pub(super) struct PendingCall {
    /// The handle-side key, to find the call again for CANCEL and input chunks.
    pub(super) key: u64,
    pub(super) procedure: String,
    pub(super) reply: CallReply,
}

impl PendingCall {
    pub(super) fn fail(self, error: Error) {
        self.reply.send(Err(error));
    }
}

impl CallReply {
    /// Delivers a final outcome.
    fn send(self, result: Result<CallResult>) {
        match self {
            CallReply::Once(reply) => {
                let _ = reply.send(result);
            }
            CallReply::Stream(results) => {
                let _ = results.send(result);
            }
        }
    }
}

impl SessionTask {
    pub(super) async fn call(
        &mut self,
        key: u64,
        procedure: String,
        options: Dict,
        args: Vec<Value>,
        kwargs: Dict,
        reply: CallReply,
    ) -> Step {
        let pending = Pending::Call(PendingCall {
            key,
            procedure: procedure.clone(),
            reply,
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
        self.call_keys.insert(key, self.last_request);
        Ok(())
    }

    /// Sends CANCEL for the call `key` if it is still pending. The entry stays until the router
    /// answers (ERROR `canceled`, or the result for `kill`), as the specification asks.
    pub(super) async fn cancel(&mut self, key: u64, mode: CancelMode) -> Step {
        let Some(&request) = self.call_keys.get(&key) else {
            return Ok(());
        };
        if !self.router_supports_cancel {
            // Without call_canceling at the dealer the result will still come; it is discarded.
            return Ok(());
        }
        let mut options = Dict::new();
        options.insert("mode".into(), Value::from(mode.as_str()));
        self.send(Message::Cancel { request, options }).await
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
        let procedure = call.procedure.clone();
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
    pub(super) fn on_call_result(&mut self, request: Id, call: PendingCall, result: CallResult) {
        if result.is_progress() {
            match &call.reply {
                CallReply::Stream(results) => {
                    let _ = results.send(Ok(result));
                }
                CallReply::Once(_) => {
                    tracing::debug!(request, "ignoring a progressive result nobody asked for");
                }
            }
            // Pending until the final result, even if the caller stopped listening: its CANCEL
            // must still find the call.
            self.pending.insert(request, Pending::Call(call));
            return;
        }
        self.call_keys.remove(&call.key);
        call.reply.send(Ok(result));
    }

    /// Forgets a finished call's key.
    pub(super) fn call_finished(&mut self, call: &PendingCall) {
        self.call_keys.remove(&call.key);
    }
}

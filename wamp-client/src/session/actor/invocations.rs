//! The callee's invocations: handlers running on their own tasks, their progressive results,
//! progressive invocations (input chunks), interrupts, and the YIELD or ERROR that answers each.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::callee::Callee;
use super::{SessionTask, State, Step};
use crate::e2ee::{PayloadCodecError, PayloadRole};
use crate::error::{ErrorUri, WampError};
use crate::payload::Arguments;
use crate::payload::{Invocation, InvocationInput, ProgressSender};
use crate::session::command::Outcome;
use crate::value::{Dict, Value};
use crate::wire::{Id, Message, Payload, code};

/// How many finished progressive invocations are remembered, to drop their late input chunks.
const FINISHED_MEMORY: usize = 64;

/// An invocation whose handler is running.
pub(super) struct RunningInvocation {
    /// The registration invoked: further input chunks must name the same.
    registration: Id,
    task: AbortHandle,
    cancel: CancellationToken,
    /// Further input chunks, for progressive invocations, until the last one arrived.
    input: Option<mpsc::Sender<Arguments>>,
    /// Whether the invocation is progressive (its late chunks must be dropped after it ends).
    progressive_input: bool,
    /// Whether the caller asked for progressive results.
    receive_progress: bool,
    /// The INTERRUPT mode, once interrupted.
    interrupted: Option<InterruptMode>,
    /// The procedure, if the invocation arrived end-to-end encoded: its input chunks are
    /// decoded, and its answers encoded, with the procedure's key.
    sealed: Option<Box<str>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum InterruptMode {
    /// The dealer waits for this callee's answer.
    Kill,
    /// The dealer has answered the caller already; no answer is expected.
    KillNoWait,
}

/// Ids of recently finished progressive invocations.
#[derive(Default)]
pub(super) struct FinishedInvocations(VecDeque<Id>);

impl FinishedInvocations {
    /// Forgets them all: the ids were the lost connection's, a new session reuses them.
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }

    fn remember(&mut self, request: Id) {
        if self.0.len() == FINISHED_MEMORY {
            self.0.pop_front();
        }
        self.0.push_back(request);
    }

    fn contains(&self, request: Id) -> bool {
        self.0.contains(&request)
    }
}

impl SessionTask {
    pub(super) async fn on_invocation(
        &mut self,
        request: Id,
        registration: Id,
        details: Dict,
        payload: Payload,
    ) -> Step {
        let progress_chunk = details.get("progress").and_then(Value::as_bool) == Some(true);
        // A further chunk of a progressive invocation that is already running.
        if let Some(running) = self.callee.invocations.get(&request) {
            if running.input.is_none() || running.registration != registration {
                // Not a chunk this invocation takes: the router reused the id of a running
                // invocation, and taking it as input would leave its caller waiting forever.
                let reason = format!(
                    "INVOCATION {request} for registration {registration} reuses the id of a running invocation that takes no further input"
                );
                return Err(self.protocol_violation(reason).await);
            }
            let (mut args, mut kwargs) = payload.into_parts();
            // The chunks of an invocation that arrived encoded are encoded too.
            let strict = running.sealed.is_some();
            let procedure = running.sealed.as_deref().unwrap_or_default();
            let role = PayloadRole::Responder;
            let opened = self.open(role, strict, procedure, &details, &mut args, &mut kwargs);
            if let Err(error) = opened {
                return self.stop_invocation(request, undecodable(&error)).await;
            }
            let Some(running) = self.callee.invocations.get_mut(&request) else {
                return Ok(());
            };
            if let Some(input) = &running.input {
                // Never wait for a slow handler: one that falls too far behind is stopped.
                if let Err(mpsc::error::TrySendError::Full(_)) =
                    input.try_send(Arguments { args, kwargs })
                {
                    return self.input_overflow(request).await;
                }
            }
            if !progress_chunk {
                // The last chunk: the input stream ends.
                running.input = None;
            }
            return Ok(());
        }
        if self.callee.finished_invocations.contains(request) {
            // Late chunks after the final answer are dropped, as the specification says.
            return Ok(());
        }
        if self.callee.invocations.len() >= self.limits.max_concurrent_invocations {
            // Answered at once rather than queued: a flood cannot grow tasks without end.
            let error = WampError::with_message(
                ErrorUri::Unavailable,
                format!(
                    "callee busy: {} invocations running (SessionBuilder::max_concurrent_invocations)",
                    self.callee.invocations.len()
                ),
            );
            return self
                .send(error_message(code::INVOCATION, request, error))
                .await;
        }
        let Some(entry) = self.callee.registrations.get(&registration) else {
            // Unregistered a moment ago; answer so the caller does not wait forever.
            let error = WampError::with_message(
                ErrorUri::NoSuchRegistration,
                format!("registration {registration} is gone"),
            );
            return self
                .send(error_message(code::INVOCATION, request, error))
                .await;
        };
        let procedure = details
            .get("procedure")
            .and_then(Value::as_str)
            .map_or_else(|| entry.procedure.clone(), str::to_owned);
        let receive_progress =
            details.get("receive_progress").and_then(Value::as_bool) == Some(true);
        let (input_tx, input) = if progress_chunk {
            let (tx, rx) = mpsc::channel(self.limits.max_progress_buffer);
            (Some(tx), Some(InvocationInput { chunks: rx }))
        } else {
            (None, None)
        };
        let cancel = CancellationToken::new();
        let mut payload = payload;
        let role = PayloadRole::Responder;
        let sealed = match self.open_payload(role, true, &procedure, &details, &mut payload) {
            Ok(sealed) => sealed.then(|| procedure.clone().into_boxed_str()),
            Err(error) => {
                // The handler never sees it; the caller learns why. Further input chunks of it
                // are dropped.
                if progress_chunk {
                    self.callee.finished_invocations.remember(request);
                }
                let answer = error_message(code::INVOCATION, request, undecodable(&error));
                return self.send(answer).await;
            }
        };
        let invocation = Invocation {
            procedure,
            registration,
            request,
            payload,
            details,
            session: self
                .shared
                .upgrade()
                .map(crate::session::Session::from_shared),
            cancel: cancel.clone(),
            progress: receive_progress.then(|| ProgressSender {
                request,
                outcomes: self.outcomes_tx.clone(),
            }),
            input,
        };
        let handler = std::sync::Arc::clone(&entry.handler);
        let outcomes = self.outcomes_tx.clone();
        let span =
            tracing::debug_span!("wamp.invocation", procedure = %invocation.procedure, request);
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move {
                // `call` itself runs inside the guard too: a closure handler may panic before it
                // returns its future (`let n: i64 = inv.arg(0).unwrap(); async move { .. }`).
                let guarded = async move { handler.call(invocation).await };
                let result = match AssertUnwindSafe(guarded).catch_unwind().await {
                    Ok(result) => result,
                    Err(panic) => {
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_owned())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "unknown panic".to_owned());
                        tracing::error!(panic = %what, "invocation handler panicked");
                        Err(WampError::with_message(
                            ErrorUri::RuntimeError,
                            format!("the callee's handler panicked: {what}"),
                        ))
                    }
                };
                let _ = outcomes.send(Outcome::Final { request, result });
            },
            span,
        ));
        self.callee.invocations.insert(
            request,
            RunningInvocation {
                registration,
                task: task.abort_handle(),
                cancel,
                input: input_tx,
                progressive_input: progress_chunk,
                receive_progress,
                interrupted: None,
                sealed,
            },
        );
        Ok(())
    }

    /// A progressive invocation's handler fell more than the buffer behind its input: it is
    /// answered with an error, gets no more chunks, and is aborted.
    async fn input_overflow(&mut self, request: Id) -> Step {
        tracing::warn!(
            request,
            "an invocation handler is too slow reading its input; stopping it"
        );
        let error = WampError::with_message(
            ErrorUri::RuntimeError,
            format!(
                "the callee's handler fell more than {} input chunks behind (SessionBuilder::max_progress_buffer); the invocation was stopped",
                self.limits.max_progress_buffer
            ),
        );
        self.stop_invocation(request, error).await
    }

    /// Stops a running invocation: its handler is aborted, gets no more input, and the caller
    /// is answered with `error`.
    async fn stop_invocation(&mut self, request: Id, error: WampError) -> Step {
        let Some(running) = self.callee.invocations.remove(&request) else {
            return Ok(());
        };
        running.cancel.cancel();
        running.task.abort();
        self.callee.finished_invocations.remember(request);
        if running.interrupted == Some(InterruptMode::KillNoWait) {
            return Ok(());
        }
        self.send(error_message(code::INVOCATION, request, error))
            .await
    }

    /// INTERRUPT: the caller canceled. The handler's cancellation fires; if it has not finished
    /// after the grace period, its task is aborted. For `kill` the dealer waits for an answer.
    pub(super) fn on_interrupt(&mut self, request: Id, options: &Dict) {
        let Some(running) = self.callee.invocations.get_mut(&request) else {
            // Already finished, or never known: nothing to do (not a protocol violation).
            return;
        };
        let mode = match options.get("mode").and_then(Value::as_str) {
            Some("killnowait") => InterruptMode::KillNoWait,
            _ => InterruptMode::Kill,
        };
        if running.interrupted.is_some() {
            return;
        }
        running.interrupted = Some(mode);
        running.cancel.cancel();
        let outcomes = self.outcomes_tx.clone();
        let grace = self.interrupt_grace;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let _ = outcomes.send(Outcome::GraceExpired { request });
        });
    }

    pub(super) async fn on_outcome(&mut self, outcome: Outcome) -> Step {
        if matches!(self.state, State::ShuttingDown { .. }) {
            // GOODBYE is sent: no YIELD or ERROR may follow it.
            return Ok(());
        }
        match outcome {
            Outcome::Progress {
                request,
                args,
                kwargs,
            } => {
                let Some(running) = self.callee.invocations.get(&request) else {
                    return Ok(());
                };
                if !running.receive_progress || running.interrupted.is_some() {
                    return Ok(());
                }
                let mut options = Dict::new();
                options.insert("progress".into(), Value::Bool(true));
                let sealed = running.sealed.as_deref();
                let message = self.answer(request, sealed, options, Ok((args, kwargs)));
                self.send(message).await
            }
            Outcome::Final { request, result } => {
                let Some(running) = self.callee.invocations.remove(&request) else {
                    return Ok(());
                };
                if running.progressive_input {
                    self.callee.finished_invocations.remember(request);
                }
                if running.interrupted == Some(InterruptMode::KillNoWait) {
                    // The dealer answered the caller already.
                    return Ok(());
                }
                let result = result.map(|Arguments { args, kwargs }| (args, kwargs));
                let message = self.answer(request, running.sealed.as_deref(), Dict::new(), result);
                self.send(message).await
            }
            Outcome::GraceExpired { request } => {
                let Some(running) = self.callee.invocations.remove(&request) else {
                    return Ok(());
                };
                tracing::debug!(
                    request,
                    "interrupted handler did not stop in time; aborting it"
                );
                running.task.abort();
                if running.progressive_input {
                    self.callee.finished_invocations.remember(request);
                }
                if running.interrupted == Some(InterruptMode::Kill) {
                    let error =
                        WampError::with_message(ErrorUri::Canceled, "the call was canceled");
                    self.send(error_message(code::INVOCATION, request, error))
                        .await?;
                }
                Ok(())
            }
        }
    }
}

impl Callee {
    /// Aborts every running handler (the session is ending, or its connection).
    pub(super) fn abort_invocations(&mut self) {
        for (_, running) in self.invocations.drain() {
            running.cancel.cancel();
            running.task.abort();
        }
    }
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

/// The error a callee answers an invocation with whose payload it cannot decode (Autobahn's
/// URIs: `wamp.error.encryption.decrypt_error`, `...trusted_uri_mismatch`).
fn undecodable(error: &PayloadCodecError) -> WampError {
    WampError::with_message(ErrorUri::from(error.error_uri()), error.to_string())
}

impl SessionTask {
    /// The YIELD or ERROR answering an invocation; for one that arrived encoded (`sealed` names
    /// its procedure), encoded too: a YIELD with the procedure's key, an ERROR with the error
    /// URI's (as Autobahn). What cannot be encoded is not sent in the clear: the caller gets a
    /// `wamp.error.runtime_error` without the payload instead.
    fn answer(
        &self,
        request: Id,
        sealed: Option<&str>,
        mut options: Dict,
        result: Result<(Vec<Value>, Dict), WampError>,
    ) -> Message {
        let role = PayloadRole::Responder;
        let sealed_result = match (sealed, result) {
            (None, Ok((args, kwargs))) => Ok(Message::Yield {
                request,
                options,
                payload: Payload::new(args, kwargs),
            }),
            (None, Err(error)) => Ok(error_message(code::INVOCATION, request, error)),
            (Some(procedure), Ok((args, kwargs))) => self
                .seal(
                    role,
                    "dealer",
                    procedure,
                    &mut options,
                    Payload::new(args, kwargs),
                )
                .map(|payload| Message::Yield {
                    request,
                    options,
                    payload,
                }),
            (Some(_), Err(mut error)) => {
                let (args, kwargs) = (
                    std::mem::take(&mut error.args),
                    std::mem::take(&mut error.kwargs),
                );
                let uri = error.uri.as_str().to_owned();
                self.seal(
                    role,
                    "dealer",
                    &uri,
                    &mut error.details,
                    Payload::new(args, kwargs),
                )
                .map(|payload| Message::Error {
                    request_type: code::INVOCATION,
                    request,
                    details: error.details,
                    error: uri,
                    payload,
                })
            }
        };
        sealed_result.unwrap_or_else(|error| {
            let error = WampError::with_message(
                ErrorUri::RuntimeError,
                format!("the callee could not encode its answer: {error}"),
            );
            error_message(code::INVOCATION, request, error)
        })
    }
}

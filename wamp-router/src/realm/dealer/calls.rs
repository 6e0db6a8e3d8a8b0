//! Calls on their way: CALL to INVOCATION, YIELD or ERROR back to RESULT or ERROR, and
//! cancellation, the router's deadline and progressive results and input in between.

use std::sync::Arc;
use std::time::Duration;

use wampkit_client::MatchPolicy;
use wampkit_client::rpc::{CancelMode, InvokePolicy};
use wampkit_client::uri::UriUse;
use wampkit_client::wire::{Id, Message, Payload, code};
use wampkit_client::{Dict, Value};

use super::flag;
use crate::authorize::Action;
use crate::realm::{Realm, State, Violation, error};

#[derive(Debug)]
pub(super) struct Pending {
    caller: Id,
    call: Id,
    callee: Id,
    registration: Id,
    /// The caller wants progressive results (and the callee can give them).
    receive_progress: bool,
    /// The caller is still sending progressive input.
    input_open: bool,
    /// The caller canceled with `kill`: its ERROR waits for the callee's answer.
    killing: bool,
    /// The router's deadline, aborted when the call ends.
    _timer: Option<Timer>,
}

/// Aborts the task of a call's deadline when the call ends first.
#[derive(Debug)]
struct Timer(tokio::task::AbortHandle);

impl Drop for Timer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Registrations and calls in flight.
impl Realm {
    pub(in crate::realm) fn call(
        self: &Arc<Self>,
        state: &mut State,
        session: Id,
        request: Id,
        options: Dict,
        procedure: String,
        payload: Payload,
    ) -> Result<(), Violation> {
        let progress = flag(&options, "progress");
        // A continuation of progressive input goes to the invocation it belongs to.
        if let Some(&invocation) = state.dealer.by_call.get(&(session, request)) {
            return state.continue_call(request, invocation, &options, payload);
        }
        let refuse = |state: &State, uri: &str, message: &str| {
            state.send(session, error(code::CALL, request, uri, message));
            Ok(())
        };
        let Some(caller) = state.sessions.get(&session) else {
            return Ok(());
        };
        if progress && !caller.features.caller_progressive_invocations {
            return Err("a progressive CALL from a caller that did not announce progressive_call_invocations".into());
        }
        if let Err(e) = self.config.uri_check.check(&procedure, UriUse::Reference) {
            return refuse(state, "wamp.error.invalid_uri", &e.to_string());
        }
        if !self.permits(state, session, Action::Call, &procedure) {
            return refuse(
                state,
                "wamp.error.not_authorized",
                "not allowed to call this procedure",
            );
        }
        if self.config.meta_api && procedure.starts_with("wamp.") {
            let reply = self.meta_call(state, session, request, &procedure, payload, &options);
            state.send(session, reply);
            return Ok(());
        }
        if caller.pending_calls >= self.max_pending_calls {
            return refuse(
                state,
                "wamp.error.unavailable",
                "too many calls of this session are waiting for results",
            );
        }
        let Some(registration_id) = state.dealer.patterns.best(&procedure) else {
            return refuse(
                state,
                "wamp.error.no_such_procedure",
                &format!("no callee registered {procedure}"),
            );
        };
        let Some(registration) = state.dealer.registrations.get_mut(&registration_id) else {
            return refuse(
                state,
                "wamp.error.no_such_procedure",
                &format!("no callee registered {procedure}"),
            );
        };
        let count = registration.callees.len();
        let index = match registration.invoke {
            InvokePolicy::Single | InvokePolicy::First => 0,
            InvokePolicy::Last => count.saturating_sub(1),
            InvokePolicy::Random => fastrand::usize(..count.max(1)),
            InvokePolicy::RoundRobin => {
                let index = registration.next % count.max(1);
                registration.next = index + 1;
                index
            }
        };
        let Some(&callee) = registration.callees.get(index) else {
            return refuse(
                state,
                "wamp.error.no_such_procedure",
                &format!("no callee registered {procedure}"),
            );
        };
        let pattern = registration.policy != MatchPolicy::Exact;
        let Some(callee_entry) = state.sessions.get(&callee.session) else {
            return refuse(state, "wamp.error.no_such_procedure", "the callee has left");
        };
        let features = callee_entry.features;
        if progress && !features.callee_progressive_invocations {
            return refuse(
                state,
                "wamp.error.feature_not_supported",
                "the callee does not take progressive input",
            );
        }
        let mut details = Dict::new();
        let receive_progress =
            flag(&options, "receive_progress") && features.callee_progressive_results;
        if receive_progress {
            details.insert("receive_progress".into(), Value::Bool(true));
        }
        if progress {
            details.insert("progress".into(), Value::Bool(true));
        }
        if pattern {
            details.insert("procedure".into(), Value::from(procedure.as_str()));
        }
        crate::realm::passthru::forward(&options, &mut details);
        if flag(&options, "disclose_me") || callee.disclose_caller || self.config.disclose_callers {
            if let Some(caller) = state.sessions.get(&session) {
                details.insert("caller".into(), Value::from(session));
                details.insert(
                    "caller_authid".into(),
                    Value::from(caller.identity.authid.as_str()),
                );
                details.insert(
                    "caller_authrole".into(),
                    Value::from(caller.identity.authrole.as_str()),
                );
            }
        }
        let timeout = options
            .get("timeout")
            .and_then(Value::as_u64)
            .filter(|&ms| ms > 0);
        // Sequential in the realm, so unique in each callee's scope; wraps within 2^53.
        let invocation = state.dealer.next_invocation % wampkit_client::wire::MAX_ID + 1;
        state.dealer.next_invocation = invocation;
        let timer = match timeout {
            Some(ms) if callee.forward_timeout => {
                details.insert("timeout".into(), Value::from(ms));
                None
            }
            Some(ms) => {
                let realm = Arc::downgrade(self);
                let task = tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    if let Some(realm) = realm.upgrade() {
                        realm.lock().time_out(invocation);
                    }
                });
                Some(Timer(task.abort_handle()))
            }
            None => None,
        };
        state.dealer.pending.insert(
            invocation,
            Pending {
                caller: session,
                call: request,
                callee: callee.session,
                registration: registration_id,
                receive_progress,
                input_open: progress,
                killing: false,
                _timer: timer,
            },
        );
        state.dealer.by_call.insert((session, request), invocation);
        if let Some(caller) = state.sessions.get_mut(&session) {
            caller.pending_calls += 1;
        }
        state.send(
            callee.session,
            Message::Invocation {
                request: invocation,
                registration: registration_id,
                details,
                payload,
            },
        );
        Ok(())
    }
}

impl State {
    /// A further CALL of a progressive call: more input for the same invocation.
    fn continue_call(
        &mut self,
        request: Id,
        invocation: Id,
        options: &Dict,
        payload: Payload,
    ) -> Result<(), Violation> {
        let progress = flag(options, "progress");
        let Some(pending) = self.dealer.pending.get_mut(&invocation) else {
            return Ok(());
        };
        if !pending.input_open {
            return Err(format!(
                "CALL request id {request} is in use by a call waiting for its result"
            ));
        }
        pending.input_open = progress;
        let (callee, registration) = (pending.callee, pending.registration);
        let mut details = Dict::new();
        if progress {
            details.insert("progress".into(), Value::Bool(true));
        }
        crate::realm::passthru::forward(options, &mut details);
        self.send(
            callee,
            Message::Invocation {
                request: invocation,
                registration,
                details,
                payload,
            },
        );
        Ok(())
    }

    /// Ends a pending call: forgets it and frees the caller's slot.
    fn finish(&mut self, invocation: Id) -> Option<Pending> {
        let pending = self.dealer.pending.remove(&invocation)?;
        self.dealer.by_call.remove(&(pending.caller, pending.call));
        if let Some(caller) = self.sessions.get_mut(&pending.caller) {
            caller.pending_calls = caller.pending_calls.saturating_sub(1);
        }
        Some(pending)
    }

    pub(in crate::realm) fn yield_result(
        &mut self,
        session: Id,
        request: Id,
        options: &Dict,
        payload: Payload,
    ) {
        let Some(pending) = self.dealer.pending.get(&request) else {
            // Answered already (canceled, timed out): the late answer is dropped.
            return;
        };
        if pending.callee != session {
            return;
        }
        if flag(options, "progress") {
            if pending.receive_progress {
                let mut details = Dict::new();
                details.insert("progress".into(), Value::Bool(true));
                crate::realm::passthru::forward(options, &mut details);
                let (caller, call) = (pending.caller, pending.call);
                self.send(
                    caller,
                    Message::Result {
                        request: call,
                        details,
                        payload,
                    },
                );
            }
            return;
        }
        if let Some(pending) = self.finish(request) {
            let mut details = Dict::new();
            crate::realm::passthru::forward(options, &mut details);
            self.send(
                pending.caller,
                Message::Result {
                    request: pending.call,
                    details,
                    payload,
                },
            );
        }
    }

    pub(in crate::realm) fn invocation_error(
        &mut self,
        session: Id,
        request: Id,
        details: Dict,
        uri: String,
        payload: Payload,
    ) {
        if self
            .dealer
            .pending
            .get(&request)
            .is_none_or(|p| p.callee != session)
        {
            return;
        }
        if let Some(pending) = self.finish(request) {
            self.send(
                pending.caller,
                Message::Error {
                    request_type: code::CALL,
                    request: pending.call,
                    details,
                    error: uri,
                    payload,
                },
            );
        }
    }

    pub(in crate::realm) fn cancel(&mut self, session: Id, request: Id, options: &Dict) {
        let Some(&invocation) = self.dealer.by_call.get(&(session, request)) else {
            return;
        };
        let Some(pending) = self.dealer.pending.get_mut(&invocation) else {
            return;
        };
        if pending.killing {
            return;
        }
        let callee = pending.callee;
        let callee_cancels = self
            .sessions
            .get(&callee)
            .is_some_and(|entry| entry.features.callee_cancel);
        let requested = options
            .get("mode")
            .and_then(Value::as_str)
            .and_then(|mode| mode.parse().ok())
            .unwrap_or(CancelMode::KillNoWait);
        // A callee that cannot hear INTERRUPT is left to finish; its answer is dropped.
        let mode = if callee_cancels {
            requested
        } else {
            CancelMode::Skip
        };
        if mode == CancelMode::Kill {
            // The caller's ERROR waits for the callee's answer.
            pending.killing = true;
            self.interrupt(callee, invocation, mode, "wamp.error.canceled");
            return;
        }
        if mode == CancelMode::KillNoWait {
            self.interrupt(callee, invocation, mode, "wamp.error.canceled");
        }
        if let Some(pending) = self.finish(invocation) {
            self.send(
                pending.caller,
                error(
                    code::CALL,
                    pending.call,
                    "wamp.error.canceled",
                    "the call was canceled",
                ),
            );
        }
    }

    /// The router's deadline of a call passed.
    fn time_out(&mut self, invocation: Id) {
        let Some(pending) = self.finish(invocation) else {
            return;
        };
        self.interrupt_if_heard(pending.callee, invocation, "wamp.error.timeout");
        self.send(
            pending.caller,
            error(
                code::CALL,
                pending.call,
                "wamp.error.timeout",
                "the call timed out",
            ),
        );
    }

    /// Ends the calls of a session that left and the calls to it: their callers get an error,
    /// their callees are interrupted.
    pub(super) fn forget_calls(&mut self, session: Id) {
        // Calls to it: their callers get an error. Calls of it: their callees are interrupted.
        let mut to_it = Vec::new();
        let mut of_it = Vec::new();
        for (&invocation, pending) in &self.dealer.pending {
            if pending.callee == session {
                to_it.push(invocation);
            } else if pending.caller == session {
                of_it.push(invocation);
            }
        }
        for invocation in to_it {
            if let Some(pending) = self.finish(invocation) {
                self.send(
                    pending.caller,
                    error(
                        code::CALL,
                        pending.call,
                        "wamp.error.canceled",
                        "the callee left",
                    ),
                );
            }
        }
        for invocation in of_it {
            if let Some(pending) = self.finish(invocation) {
                self.interrupt_if_heard(pending.callee, invocation, "wamp.error.canceled");
            }
        }
    }

    /// Interrupts an invocation (`killnowait`, with `reason`) at a callee that announced call
    /// canceling; others would not understand INTERRUPT and are left to finish.
    fn interrupt_if_heard(&self, callee: Id, invocation: Id, reason: &str) {
        if self
            .sessions
            .get(&callee)
            .is_some_and(|c| c.features.callee_cancel)
        {
            self.interrupt(callee, invocation, CancelMode::KillNoWait, reason);
        }
    }

    /// Sends INTERRUPT for an invocation with `mode` and `reason`.
    fn interrupt(&self, callee: Id, invocation: Id, mode: CancelMode, reason: &str) {
        let mut options = Dict::new();
        options.insert("mode".into(), Value::from(mode.as_str()));
        options.insert("reason".into(), Value::from(reason));
        self.send(
            callee,
            Message::Interrupt {
                request: invocation,
                options,
            },
        );
    }
}

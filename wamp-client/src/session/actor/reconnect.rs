//! Reconnecting: what happens to the session's tables when the connection is lost, the wait
//! and retry loop (which keeps answering handles meanwhile), and the restoration of every
//! registration and subscription once a new connection has joined.

use std::sync::Arc;

use tokio::time::Instant;

use super::{Pending, SessionTask, reject, supports_cancel};
use crate::error::{CloseInitiator, CloseReason, Error, ErrorUri};
use crate::session::command::{Command, RequestExtra};
use crate::session::{Current, SessionState};

impl SessionTask {
    /// Whether a session that ended for `reason` reconnects: only if a policy is set, and only
    /// after a lost connection or a router that ended the session other than by killing it.
    pub(super) fn should_reconnect(&self, reason: &CloseReason) -> bool {
        self.reconnect.is_some()
            && self.commands_open
            && match reason.initiator {
                CloseInitiator::Transport => true,
                CloseInitiator::Router => reason.uri != ErrorUri::Killed.as_str(),
                _ => false,
            }
    }

    /// The connection is gone: fail what cannot survive it, keep what will be restored.
    pub(super) async fn on_disconnect(&mut self, reason: &CloseReason) {
        tracing::warn!(%reason, "connection lost; reconnecting");
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            futures_util::SinkExt::close(&mut self.transport),
        )
        .await;
        self.session_state.send_replace(SessionState::Disconnected {
            reason: reason.clone(),
        });
        let disconnected = || Error::Disconnected(reason.clone());
        for (_, pending) in std::mem::take(&mut self.pending) {
            match pending {
                // Idempotent calls are sent again after the reconnect.
                // Its key maps to no request until then (ids start again at 1 on the new session).
                Pending::Call(call) if call.is_idempotent() => {
                    self.call_keys.remove(&call.key);
                    self.resend.push(call);
                }
                Pending::Call(call) => {
                    self.call_keys.remove(&call.key);
                    call.fail(disconnected());
                }
                // Subscriptions and registrations in flight are made on the new connection.
                Pending::Subscribe(request) => self.waiting.push(Command::Subscribe(request)),
                Pending::Register(request) => self.waiting.push(Command::Register(request)),
                Pending::Resubscribe(entry) => self.restoring_subscriptions.push(*entry),
                Pending::Reregister(entry) => self.restoring_registrations.push(*entry),
                // The router has forgotten the session: removals are done.
                Pending::AbandonedReregister => {}
                Pending::Unsubscribe(reply) | Pending::Unregister(reply) => {
                    if let Some(reply) = reply {
                        let _ = reply.send(Ok(()));
                    }
                }
                Pending::Publish(reply) => drop(reply.send(Err(disconnected()))),
            }
        }
        // Handlers of the lost connection cannot answer on the new one, and the router of the
        // new one numbers its invocations afresh.
        self.abort_invocations();
        self.finished_invocations.clear();
        // Refused restorations are tried again on the next connection, in a new window.
        let refused = self.restore_retries.take_all();
        self.restoring_registrations.extend(refused);
        self.unsubscribing.clear();
        self.unflushed = false;
        // The close path's deadline (a router GOODBYE was answered) was the old connection's.
        self.write_deadline = None;
    }

    /// Waits and retries until a new connection has joined. Handles keep being answered:
    /// requests fail fast with `Disconnected` (or wait, if they asked to), a leave ends it all.
    pub(super) async fn reconnect(&mut self, lost: CloseReason) -> Result<(), CloseReason> {
        let Some((policy, connector)) = self.reconnect.clone() else {
            return Err(lost);
        };
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            if policy.max_attempts.is_some_and(|max| attempt > max) {
                return Err(CloseReason::new(
                    lost.uri.clone(),
                    Some(format!(
                        "gave up reconnecting after {} attempts ({})",
                        attempt - 1,
                        lost.message.as_deref().unwrap_or("connection lost")
                    )),
                    CloseInitiator::Transport,
                ));
            }
            let delay = policy.delay(attempt);
            self.session_state
                .send_replace(SessionState::Reconnecting { attempt, delay });
            let deadline = crate::deadline::deadline_from(Instant::now(), delay);
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => break,
                    command = self.commands.recv() => self.while_disconnected(command, &lost)?,
                }
            }
            tracing::info!(attempt, "reconnecting");
            let mut connecting = connector();
            let joined = loop {
                tokio::select! {
                    result = &mut connecting => break result,
                    command = self.commands.recv() => self.while_disconnected(command, &lost)?,
                }
            };
            match joined {
                Ok(joined) => {
                    tracing::info!(session = joined.details.session, attempt, "rejoined");
                    self.transport = joined.transport;
                    self.serializer = joined.serializer;
                    self.router_supports_cancel = supports_cancel(&joined.details);
                    let session = joined.details.session;
                    if let Some(shared) = self.shared.upgrade() {
                        shared.set_current(Current {
                            details: Arc::new(joined.details),
                            serializer: joined.serializer,
                        });
                    }
                    // A new session numbers its requests from 1 again.
                    self.request_ids.reset();
                    self.session_state
                        .send_replace(SessionState::Joined { session });
                    return Ok(());
                }
                Err(error) if (policy.fatal)(&error) => {
                    tracing::error!(%error, "reconnecting failed for good");
                    return Err(CloseReason::new(
                        error
                            .uri()
                            .map_or("wamp.close.system_shutdown", |u| u.as_str())
                            .to_owned(),
                        Some(format!("reconnecting failed: {error}")),
                        CloseInitiator::Transport,
                    ));
                }
                Err(error) => tracing::warn!(%error, attempt, "reconnect attempt failed"),
            }
        }
    }

    /// Cancels a call that waits to be sent (or sent again) once the session has rejoined: it
    /// never goes out.
    pub(super) fn cancel_unsent(&mut self, key: u64) {
        self.waiting
            .retain(|c| !matches!(c, Command::Call { key: k, .. } if *k == key));
        if let Some(position) = self.resend.iter().position(|c| c.key == key) {
            let call = self.resend.swap_remove(position);
            call.fail(Error::Wamp(crate::error::WampError::with_message(
                ErrorUri::Canceled,
                "the call was canceled by this caller",
            )));
        }
    }

    /// Holds a request until the session has rejoined, as many as the request queue takes
    /// (`SessionBuilder::max_queued_commands`): a loop of waiting calls during a long outage
    /// must not grow memory without end. Beyond that the request fails with `QueueFull`.
    fn wait_for_session(&mut self, command: Command) {
        let limit = self.limits.max_queued_commands;
        if self.waiting.len() >= limit {
            reject(command, Error::QueueFull { limit });
        } else {
            self.waiting.push(command);
        }
    }

    /// A command that arrives while the connection is down.
    fn while_disconnected(
        &mut self,
        command: Option<Command>,
        lost: &CloseReason,
    ) -> Result<(), CloseReason> {
        let Some(command) = command else {
            // Every handle is gone: nobody needs the session any more.
            self.commands_open = false;
            return Err(CloseReason::new(
                "wamp.close.close_realm",
                None,
                CloseInitiator::Client,
            ));
        };
        let disconnected = || Error::Disconnected(lost.clone());
        match command {
            Command::Leave {
                reason,
                message,
                reply,
            } => {
                let reason = CloseReason::new(reason, message, CloseInitiator::Client);
                let _ = reply.send(reason.clone());
                return Err(reason);
            }
            Command::Call { ref extra, .. } if RequestExtra::waits(extra) => {
                self.wait_for_session(command)
            }
            Command::Subscribe(_) | Command::Register(_) => self.wait_for_session(command),
            Command::Cancel { key, .. } => self.cancel_unsent(key),
            Command::Unsubscribe { queue, reply } => {
                // Not restored, then.
                let subscription = queue.subscription();
                if let Some(entry) = self.subscriptions.remove(&subscription) {
                    if let Some(rest) = entry.without(&queue) {
                        self.subscriptions.insert(subscription, rest);
                    }
                }
                self.restoring_subscriptions = std::mem::take(&mut self.restoring_subscriptions)
                    .into_iter()
                    .filter_map(|entry| entry.without(&queue))
                    .collect();
                self.waiting
                    .retain(|c| !matches!(c, Command::Subscribe(r) if r.events.is(&queue)));
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(()));
                }
            }
            Command::Unregister { local, reply } => {
                if let Some(registration) = self.registration_locals.remove(&local) {
                    self.registrations.remove(&registration);
                }
                self.restoring_registrations
                    .retain(|entry| entry.local != local);
                self.waiting
                    .retain(|c| !matches!(c, Command::Register(r) if r.local == local));
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(()));
                }
            }
            Command::Diagnostics { reply } => {
                let _ = reply.send(self.diagnostics());
            }
            other
            @ (Command::Call { .. } | Command::Publish { .. } | Command::CallChunk { .. }) => {
                reject(other, disconnected());
            }
        }
        Ok(())
    }
}

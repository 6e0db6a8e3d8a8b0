//! Reconnecting: what happens to the session's tables when the connection is lost, and the wait
//! and retry loop (which keeps answering handles meanwhile) until a new connection has joined.
//! `restore` then makes every registration and subscription again.

use std::sync::Arc;

use tokio::time::Instant;

use super::{SessionTask, State, Step, supports_cancel};
use crate::error::{CloseInitiator, CloseReason, ErrorUri};
use crate::session::{Current, SessionState};

impl SessionTask {
    /// Whether a session that ended for `reason` reconnects: only if a policy is set, and only
    /// after a lost connection or a router that ended the session other than by killing it.
    pub(super) fn should_reconnect(&self, reason: &CloseReason) -> bool {
        self.reconnect.is_some()
            && self.commands_open
            // A session that was leaving is not made again.
            && !matches!(self.state, State::ShuttingDown { .. })
            && match reason.initiator {
                CloseInitiator::Transport => true,
                CloseInitiator::Router => reason.uri != ErrorUri::Killed,
                _ => false,
            }
    }

    /// The connection is gone: fail what cannot survive it, keep what will be restored.
    pub(super) async fn on_disconnect(&mut self, reason: &CloseReason) {
        tracing::warn!(%reason, "connection lost; reconnecting");
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            self.connection_waker
                .writing(futures_util::SinkExt::close(&mut self.transport)),
        )
        .await;
        self.session_state.send_replace(SessionState::Disconnected {
            reason: reason.clone(),
        });
        self.caller.connection_lost(reason);
        self.publisher.connection_lost(reason);
        self.subscriber.connection_lost(&mut self.waiting);
        self.callee.connection_lost(&mut self.waiting);
        self.unflushed = false;
        // The close path's deadline (a router GOODBYE was answered) was the old connection's.
        self.write_deadline = None;
    }

    /// Waits and retries until a new connection has joined. Handles keep being answered:
    /// requests fail fast with `Disconnected` (or wait, if they asked to), a leave ends it all.
    pub(super) async fn reconnect(&mut self, lost: CloseReason) -> Step {
        let Some((policy, connector)) = self.reconnect.clone() else {
            return Err(lost);
        };
        self.state = State::Reconnecting { lost: lost.clone() };
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
                    command = self.commands.recv() => self.on_command(command).await?,
                }
            }
            tracing::info!(attempt, "reconnecting");
            let mut connecting = connector();
            let joined = loop {
                tokio::select! {
                    result = &mut connecting => break result,
                    command = self.commands.recv() => self.on_command(command).await?,
                }
            };
            match joined {
                Ok(joined) => {
                    tracing::info!(session = joined.details.session, attempt, "rejoined");
                    self.transport = joined.transport;
                    self.connection_waker.reset();
                    self.serializer = joined.serializer;
                    self.caller.router_supports_cancel = supports_cancel(&joined.details);
                    let session = joined.details.session;
                    if let Some(shared) = self.shared.upgrade() {
                        shared.set_current(Current {
                            details: Arc::new(joined.details),
                            serializer: joined.serializer,
                        });
                    }
                    // A new session numbers its requests from 1 again.
                    self.request_ids.reset();
                    self.state = State::Established;
                    self.session_state
                        .send_replace(SessionState::Joined { session });
                    return Ok(());
                }
                Err(error) if (policy.fatal)(&error) => {
                    tracing::error!(%error, "reconnecting failed for good");
                    return Err(CloseReason::new(
                        error.uri().cloned().unwrap_or(ErrorUri::SystemShutdown),
                        Some(format!("reconnecting failed: {error}")),
                        CloseInitiator::Transport,
                    ));
                }
                Err(error) => tracing::warn!(%error, attempt, "reconnect attempt failed"),
            }
        }
    }
}

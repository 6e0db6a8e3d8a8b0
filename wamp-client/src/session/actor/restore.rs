//! Restoring a reconnected session: every registration and subscription is made again, idempotent
//! calls are sent again, then the commands that waited for the session.
//!
//! Two things can go wrong on the new connection, and neither may lose anything:
//! - it fails partway: whatever was not sent yet stays in the roles' restore lists (what was sent
//!   waits in the roles' tables of pending requests, which the next disconnect sorts out), so the
//!   next connection restores it all;
//! - the router refuses a registration with `procedure_already_exists`: after a short outage the
//!   router may not have noticed yet that the old session is gone, and that stale session still
//!   holds the procedure. REGISTER is tried again with backoff for the reconnect policy's
//!   `restore_retry` window before the registration is revoked.

use std::time::Duration;

use rustc_hash::FxHashMap as HashMap;
use tokio::time::Instant;

use super::callee::{RegistrationEntry, revoke_restored};
use super::{SessionTask, Step};
use crate::error::{Error, ErrorUri, WampError};

/// The first wait before REGISTER is tried again after a refusal; it doubles up to the next.
const RETRY_FIRST_DELAY: Duration = Duration::from_millis(100);
const RETRY_MAX_DELAY: Duration = Duration::from_secs(2);

/// Registrations whose restoring REGISTER the router refused, waiting to be tried again.
#[derive(Default)]
pub(super) struct RestoreRetries {
    /// Entries and when to try each again.
    due: Vec<(Instant, RegistrationEntry)>,
    /// By local key: until when refusals are retried, and how many there were.
    windows: HashMap<u64, (Instant, u32)>,
}

impl RestoreRetries {
    /// When the next retry is due, if any.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.due.iter().map(|(at, _)| *at).min()
    }

    /// How many registrations wait to be tried again.
    pub(super) fn len(&self) -> usize {
        self.due.len()
    }

    /// Forgets the registration `local` (its handle unregistered it). Whether it was here.
    pub(super) fn remove(&mut self, local: u64) -> bool {
        self.windows.remove(&local);
        let before = self.due.len();
        self.due.retain(|(_, entry)| entry.local != local);
        self.due.len() != before
    }

    /// Everything waiting, for the next connection (which starts a new retry window).
    pub(super) fn take_all(&mut self) -> Vec<RegistrationEntry> {
        self.windows.clear();
        std::mem::take(&mut self.due)
            .into_iter()
            .map(|(_, entry)| entry)
            .collect()
    }
}

impl SessionTask {
    /// On the new connection: register and subscribe everything again (with the original
    /// options and handlers), send idempotent calls again, then the commands that waited.
    pub(super) async fn restore(&mut self) {
        // Everything goes to the restore lists first, and is taken from them one by one.
        let registered = std::mem::take(&mut self.callee.registrations).into_values();
        self.callee.restoring.extend(registered);
        self.callee.locals.clear();
        let subscribed = std::mem::take(&mut self.subscriber.subscriptions).into_values();
        self.subscriber.restoring.extend(subscribed);
        let restored = (self.callee.restoring.len(), self.subscriber.restoring.len());
        match self.restore_all().await {
            // The new connection failed at once; the main loop sees it and reconnects again.
            Err(reason) => tracing::warn!(%reason, "the connection failed while restoring"),
            Ok(()) => tracing::info!(
                registrations = restored.0,
                subscriptions = restored.1,
                "restored registrations and subscriptions"
            ),
        }
    }

    /// Sends what the restore lists hold. On error, what was not sent yet is still in them.
    async fn restore_all(&mut self) -> Step {
        while let Some(entry) = self.callee.restoring.pop() {
            self.reregister(entry).await?;
        }
        while let Some(entry) = self.subscriber.restoring.pop() {
            // Local subscriptions dropped meanwhile, whose Unsubscribe is still on its way, are
            // not subscribed again.
            let Some(entry) = entry.retain(|sink| !sink.is_closed()) else {
                continue;
            };
            self.resubscribe(entry).await?;
        }
        while let Some(call) = self.caller.resend.pop() {
            self.resend_call(call).await?;
        }
        // The commands that waited go out in the order they were made.
        let mut waiting = std::mem::take(&mut self.waiting).into_iter();
        while let Some(command) = waiting.next() {
            if let Err(reason) = self.on_command(Some(command)).await {
                self.waiting.extend(waiting);
                return Err(reason);
            }
        }
        self.flush().await
    }

    /// The router refused a restoring REGISTER: try again later if a stale session of ours may
    /// explain it and the retry window is still open, otherwise revoke the registration.
    pub(super) fn restore_refused(&mut self, entry: RegistrationEntry, error: WampError) {
        let window = self
            .reconnect
            .as_ref()
            .map_or(Duration::ZERO, |(policy, _)| policy.restore_retry);
        let now = Instant::now();
        let retries = &mut self.callee.restore_retries;
        let (give_up, refusals) = retries
            .windows
            .entry(entry.local)
            .or_insert_with(|| (crate::deadline::deadline_from(now, window), 0));
        if error.uri != ErrorUri::ProcedureAlreadyExists || now >= *give_up {
            retries.windows.remove(&entry.local);
            revoke_restored(&entry, &Error::Wamp(error));
            return;
        }
        *refusals = refusals.saturating_add(1);
        let delay = RETRY_FIRST_DELAY
            .saturating_mul(1 << (*refusals - 1).min(16))
            .min(RETRY_MAX_DELAY);
        tracing::info!(
            procedure = %entry.procedure,
            refusals = *refusals,
            "the router still holds the procedure (for our previous session?); registering again in {delay:?}"
        );
        retries.due.push((now + delay, entry));
    }

    /// A restored registration is registered: its retry window closes.
    pub(super) fn restore_succeeded(&mut self, local: u64) {
        self.callee.restore_retries.windows.remove(&local);
    }

    /// Sends REGISTER again for every refused registration whose wait is over.
    pub(super) async fn retry_refused_restorations(&mut self) -> Step {
        let now = Instant::now();
        while let Some(position) = self
            .callee
            .restore_retries
            .due
            .iter()
            .position(|(at, _)| *at <= now)
        {
            let (_, entry) = self.callee.restore_retries.due.swap_remove(position);
            self.reregister(entry).await?;
        }
        Ok(())
    }
}

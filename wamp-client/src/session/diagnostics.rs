//! What the session task reports of its tables.

/// A snapshot of a session task's tables. See [`Session::diagnostics`](super::Session::diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Diagnostics {
    /// Requests sent and not answered yet (calls, acknowledged publications, subscribes, ...).
    pub pending_requests: usize,
    /// Of those, calls.
    pub pending_calls: usize,
    /// Invocation handlers still running.
    pub running_invocations: usize,
    /// Router-side subscriptions.
    pub subscriptions: usize,
    /// Registrations.
    pub registrations: usize,
    /// Registrations of a reconnected session that the router refused to restore for now (a
    /// stale session of ours may still hold them), waiting to be registered again. See
    /// [`ReconnectPolicy::restore_retry`](super::ReconnectPolicy::restore_retry).
    pub restore_retries: usize,
}

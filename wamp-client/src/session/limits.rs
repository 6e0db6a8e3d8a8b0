//! Bounds on the queues a peer (or a careless loop) could otherwise grow without end.

/// The bounds of one session. Set with the [`SessionBuilder`](super::SessionBuilder) methods of the same names, which document each default and what
/// happens beyond it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Invocation handlers running at once; more INVOCATIONs are answered with an error.
    pub(crate) max_concurrent_invocations: usize,
    /// Unread progressive results of one call, and unread input chunks of one progressive
    /// invocation.
    pub(crate) max_progress_buffer: usize,
    /// Requests queued from the handles that the session task has not taken in yet.
    pub(crate) max_queued_commands: usize,
}

/// Default of [`SessionBuilder::max_concurrent_invocations`](super::SessionBuilder::max_concurrent_invocations).
pub const DEFAULT_MAX_CONCURRENT_INVOCATIONS: usize = 4096;
/// Default of [`SessionBuilder::max_progress_buffer`](super::SessionBuilder::max_progress_buffer).
pub const DEFAULT_MAX_PROGRESS_BUFFER: usize = 1024;
/// Default of [`SessionBuilder::max_queued_commands`](super::SessionBuilder::max_queued_commands).
pub const DEFAULT_MAX_QUEUED_COMMANDS: usize = 4096;

/// A queue bound between 1 and what Tokio's channels and semaphores take.
pub(crate) fn clamp_bound(bound: usize) -> usize {
    bound.clamp(1, tokio::sync::Semaphore::MAX_PERMITS / 2)
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_concurrent_invocations: DEFAULT_MAX_CONCURRENT_INVOCATIONS,
            max_progress_buffer: DEFAULT_MAX_PROGRESS_BUFFER,
            max_queued_commands: DEFAULT_MAX_QUEUED_COMMANDS,
        }
    }
}

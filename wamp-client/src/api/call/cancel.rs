//! Canceling a call: when its future or stream is dropped, or from a handle.

use crate::options::CancelMode;
use crate::session::Session;
use crate::session::command::Command;

/// Cancels a call when dropped before the call completed.
#[derive(Debug)]
pub(super) struct CancelGuard {
    pub(super) session: Session,
    pub(super) key: u64,
    pub(super) mode: CancelMode,
    pub(super) armed: bool,
}

impl CancelGuard {
    pub(super) fn new(session: Session, key: u64, mode: CancelMode) -> Self {
        CancelGuard {
            session,
            key,
            mode,
            armed: true,
        }
    }

    pub(super) fn cancel(&mut self, mode: CancelMode) {
        if std::mem::replace(&mut self.armed, false) {
            let _ = self.session.send(Command::Cancel {
                key: self.key,
                mode,
            });
        }
    }

    pub(super) fn handle(&self) -> CancelHandle {
        CancelHandle {
            session: self.session.clone(),
            key: self.key,
        }
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        self.cancel(self.mode);
    }
}

/// Cancels a pending call from elsewhere, e.g. another task. Obtained from
/// [`CallFuture::cancel_handle`](super::CallFuture::cancel_handle) or [`CallStream::cancel_handle`](super::CallStream::cancel_handle).
#[derive(Debug, Clone)]
pub struct CancelHandle {
    pub(super) session: Session,
    pub(super) key: u64,
}

impl CancelHandle {
    /// Sends CANCEL with `mode` if the call is still pending; the call's future then resolves
    /// with the router's answer (normally `wamp.error.canceled`).
    pub fn cancel(&self, mode: CancelMode) {
        let _ = self.session.send(Command::Cancel {
            key: self.key,
            mode,
        });
    }
}

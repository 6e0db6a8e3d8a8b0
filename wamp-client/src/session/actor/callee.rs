//! The callee's registrations: REGISTER, UNREGISTER and their answers, and revocations by the
//! router. The invocations of its procedures are handled in `invocations`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustc_hash::FxHashMap as HashMap;
use tokio::sync::oneshot;

use super::invocations::{FinishedInvocations, RunningInvocation};
use super::requests::{Awaiting, Pending};
use super::restore::RestoreRetries;
use super::{SessionTask, State, Step, revocation_reason};
use crate::error::{Error, Result, WampError};
use crate::payload::Handler;
use crate::session::command::{Command, RegisterRequest, Revocation, RouterId};
use crate::value::{Dict, Value};
use crate::wire::{Id, Message, code};

/// The callee's tables.
#[derive(Default)]
pub(super) struct Callee {
    /// REGISTERs and UNREGISTERs waiting for their answer, by request id.
    pub(super) pending: HashMap<Id, CalleeRequest>,
    /// Registrations by router id.
    pub(super) registrations: HashMap<Id, RegistrationEntry>,
    /// Router ids by local key: the handles keep local keys, which survive reconnects.
    pub(super) locals: HashMap<u64, Id>,
    /// Registrations to make again on a new connection, not sent yet (see `restore`).
    pub(super) restoring: Vec<RegistrationEntry>,
    /// Restored registrations the router refused, to try again (see `restore`).
    pub(super) restore_retries: RestoreRetries,
    /// Invocations whose handlers are running, by request id.
    pub(super) invocations: HashMap<Id, RunningInvocation>,
    pub(super) finished_invocations: FinishedInvocations,
}

pub(super) struct RegistrationEntry {
    /// The handle's key, which survives reconnects (the router id does not).
    pub(super) local: u64,
    pub(super) procedure: String,
    /// The REGISTER options, to register the same way after a reconnect.
    pub(super) options: Dict,
    pub(super) handler: Arc<dyn Handler>,
    pub(super) revoked: Revocation,
    pub(super) id: RouterId,
}

/// A callee's request waiting for its answer. The rare ones are boxed, so that the table stays
/// small.
pub(super) enum CalleeRequest {
    Register(Box<RegisterRequest>),
    /// A registration being restored after a reconnect.
    Reregister(Box<RegistrationEntry>),
    /// A restoring REGISTER whose registration was unregistered meanwhile: once REGISTERED
    /// tells its new id, it is unregistered.
    AbandonedReregister,
    Unregister(Option<oneshot::Sender<Result<()>>>),
}

impl Awaiting for CalleeRequest {
    fn request_type(&self) -> u64 {
        match self {
            CalleeRequest::Register(_)
            | CalleeRequest::Reregister(_)
            | CalleeRequest::AbandonedReregister => code::REGISTER,
            CalleeRequest::Unregister(_) => code::UNREGISTER,
        }
    }

    fn table(task: &mut SessionTask) -> &mut HashMap<Id, Self> {
        &mut task.callee.pending
    }
}

impl CalleeRequest {
    /// Completes the request with an error.
    pub(super) fn fail(self, error: Error) {
        match self {
            CalleeRequest::Register(request) => drop(request.reply.send(Err(error))),
            CalleeRequest::Reregister(entry) => revoke_restored(&entry, &error),
            CalleeRequest::AbandonedReregister => {}
            CalleeRequest::Unregister(reply) => {
                if let Some(reply) = reply {
                    let _ = reply.send(Err(error));
                }
            }
        }
    }
}

/// A registration that could not be restored after a reconnect: its handle learns why.
pub(super) fn revoke_restored(entry: &RegistrationEntry, error: &Error) {
    let reason = format!("could not be restored after reconnecting: {error}");
    tracing::warn!(procedure = %entry.procedure, %reason, "registration lost");
    let _ = entry.revoked.set(reason);
}

impl Callee {
    /// The connection is gone, and the router has forgotten the session: registrations in
    /// flight are made on the next connection (REGISTERs go to `waiting`), removals are done,
    /// and running handlers are aborted (they cannot answer on the new connection, whose router
    /// numbers its invocations afresh).
    pub(super) fn connection_lost(&mut self, waiting: &mut Vec<Command>) {
        for (_, request) in self.pending.drain() {
            match request {
                CalleeRequest::Register(request) => waiting.push(Command::Register(request)),
                CalleeRequest::Reregister(entry) => self.restoring.push(*entry),
                CalleeRequest::AbandonedReregister => {}
                CalleeRequest::Unregister(reply) => {
                    if let Some(reply) = reply {
                        let _ = reply.send(Ok(()));
                    }
                }
            }
        }
        self.abort_invocations();
        self.finished_invocations.clear();
        // Refused restorations are tried again on the next connection, in a new window.
        let refused = self.restore_retries.take_all();
        self.restoring.extend(refused);
    }
}

impl SessionTask {
    /// Sends REGISTER and remembers what waits for REGISTERED.
    pub(super) async fn register(&mut self, pending: Box<RegisterRequest>) -> Step {
        let (procedure, options) = (pending.procedure.clone(), pending.options.clone());
        self.request(
            |request| Message::Register {
                request,
                options,
                procedure,
            },
            Some(Pending::Callee(CalleeRequest::Register(pending))),
        )
        .await?;
        Ok(())
    }

    /// Sends REGISTER for a registration being restored.
    pub(super) async fn reregister(&mut self, entry: RegistrationEntry) -> Step {
        let (procedure, options) = (entry.procedure.clone(), entry.options.clone());
        self.request(
            |request| Message::Register {
                request,
                options,
                procedure,
            },
            Some(Pending::Callee(CalleeRequest::Reregister(Box::new(entry)))),
        )
        .await?;
        Ok(())
    }

    /// Ends the registration `local`. While the connection is down there is no router
    /// registration to unregister, and the registration is not made again on the next one.
    pub(super) async fn unregister(
        &mut self,
        local: u64,
        reply: Option<oneshot::Sender<Result<()>>>,
    ) -> Step {
        self.waiting
            .retain(|c| !matches!(c, Command::Register(r) if r.local == local));
        match self.callee.locals.remove(&local) {
            // Being restored after a reconnect, or already gone (revoked by the router, or
            // unregistered before).
            None => self.abandon_restoring_registration(local),
            Some(registration) => {
                let held = self.callee.registrations.remove(&registration).is_some();
                if held && matches!(self.state, State::Established) {
                    return self.unregister_router(registration, reply).await;
                }
            }
        }
        if let Some(reply) = reply {
            let _ = reply.send(Ok(()));
        }
        Ok(())
    }

    /// Forgets a registration being restored (its handler with it): one not sent yet is dropped;
    /// one whose REGISTER is on its way is unregistered once REGISTERED tells its new id. Rare:
    /// a scan of the pending requests is fine.
    fn abandon_restoring_registration(&mut self, local: u64) {
        let callee = &mut self.callee;
        // Not sent yet (a restore that failed partway, or a refusal to try again) ...
        let unsent = callee.restoring.len();
        callee.restoring.retain(|entry| entry.local != local);
        if callee.restore_retries.remove(local) || callee.restoring.len() != unsent {
            return;
        }
        // ... or on its way.
        for pending in callee.pending.values_mut() {
            if matches!(pending, CalleeRequest::Reregister(entry) if entry.local == local) {
                *pending = CalleeRequest::AbandonedReregister;
                return;
            }
        }
    }

    /// Sends UNREGISTER for a registration, answering `reply` once UNREGISTERED arrives.
    async fn unregister_router(
        &mut self,
        registration: Id,
        reply: Option<oneshot::Sender<Result<()>>>,
    ) -> Step {
        self.request(
            |request| Message::Unregister {
                request,
                registration,
            },
            Some(Pending::Callee(CalleeRequest::Unregister(reply))),
        )
        .await?;
        Ok(())
    }

    pub(super) async fn on_registered(&mut self, request: Id, registration: Id) -> Step {
        let pending = self
            .take_answered::<CalleeRequest>(request, code::REGISTER, "REGISTERED")
            .await?;
        if pending.is_some() && self.callee.registrations.contains_key(&registration) {
            // One session registers a procedure once: a second REGISTERED with the same id
            // would overwrite the first entry (and dropping the old handle would then
            // unregister the new one).
            let reason = format!(
                "REGISTERED for request {request} names registration {registration}, which this session holds already"
            );
            let close = self.protocol_violation(reason).await;
            if let Some(pending) = pending {
                pending.fail(Error::SessionClosed(close.clone()));
            }
            return Err(close);
        }
        match pending {
            Some(CalleeRequest::AbandonedReregister) => {
                self.unregister_router(registration, None).await
            }
            Some(CalleeRequest::Reregister(entry)) => {
                // Restored after a reconnect, under a new id.
                entry.id.store(registration, Ordering::Relaxed);
                self.restore_succeeded(entry.local);
                self.callee.locals.insert(entry.local, registration);
                self.callee.registrations.insert(registration, *entry);
                Ok(())
            }
            Some(CalleeRequest::Register(pending)) => self.registered(*pending, registration).await,
            Some(CalleeRequest::Unregister(_)) | None => Ok(()),
        }
    }

    async fn registered(&mut self, pending: RegisterRequest, registration: Id) -> Step {
        let RegisterRequest {
            local,
            procedure,
            options,
            handler,
            revoked,
            id,
            reply,
        } = pending;
        id.store(registration, Ordering::Relaxed);
        let entry = RegistrationEntry {
            local,
            procedure,
            options,
            handler,
            revoked,
            id,
        };
        self.callee.registrations.insert(registration, entry);
        self.callee.locals.insert(local, registration);
        if reply.send(Ok(registration)).is_err() {
            // The registrant gave up waiting: undo.
            self.callee.registrations.remove(&registration);
            self.callee.locals.remove(&local);
            self.request(
                |request| Message::Unregister {
                    request,
                    registration,
                },
                None,
            )
            .await?;
        }
        Ok(())
    }

    pub(super) async fn on_unregistered(&mut self, request: Id, details: Option<Dict>) -> Step {
        if request == 0 {
            self.registration_revoked(details.as_ref());
            return Ok(());
        }
        if let Some(CalleeRequest::Unregister(Some(reply))) = self
            .take_answered::<CalleeRequest>(request, code::UNREGISTER, "UNREGISTERED")
            .await?
        {
            let _ = reply.send(Ok(()));
        }
        Ok(())
    }

    /// UNREGISTERED without a request: the router removed the registration.
    fn registration_revoked(&mut self, details: Option<&Dict>) {
        let revoked = details
            .and_then(|d| d.get("registration"))
            .and_then(Value::as_u64);
        if let Some(entry) = revoked.and_then(|id| self.callee.registrations.remove(&id)) {
            self.callee.locals.remove(&entry.local);
            let reason = revocation_reason(details);
            tracing::info!(procedure = %entry.procedure, %reason, "the router revoked a registration");
            let _ = entry.revoked.set(reason);
        }
    }

    /// ERROR for a REGISTER or an UNREGISTER.
    pub(super) async fn on_callee_error(
        &mut self,
        request: Id,
        request_type: u64,
        error: WampError,
    ) -> Step {
        match self
            .take_answered::<CalleeRequest>(request, request_type, "ERROR")
            .await?
        {
            Some(CalleeRequest::Reregister(entry)) => self.restore_refused(*entry, error),
            Some(pending) => pending.fail(Error::Wamp(error)),
            None => {}
        }
        Ok(())
    }
}

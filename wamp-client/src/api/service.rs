//! Everything a macro-generated service registers, held as one handle.

use crate::api::register::Registration;
use crate::api::subscribe::HandlerTask;
use crate::error::Result;

/// The registrations and subscriptions of one service, as `{Trait}Service::register` returns
/// them. Dropping it unregisters and unsubscribes everything;
/// [`unregister`](ServiceRegistration::unregister) does the same and waits for the router.
#[must_use = "dropping a ServiceRegistration unregisters the whole service at once: bind it to a named variable (`let _registration = ...`), not `let _ = ...`, which drops it immediately"]
#[derive(Debug, Default)]
pub struct ServiceRegistration {
    pub(crate) registrations: Vec<Registration>,
    pub(crate) subscriptions: Vec<HandlerTask>,
}

impl ServiceRegistration {
    /// The procedures registered, with their registration ids.
    pub fn registrations(&self) -> &[Registration] {
        &self.registrations
    }

    /// The topics subscribed, as handles of their handler tasks.
    pub fn subscriptions(&self) -> &[HandlerTask] {
        &self.subscriptions
    }

    /// The first procedure or topic of the service that is no longer served, with the reason:
    /// the router revoked it, or it could not be restored after a reconnect (see
    /// [`ReconnectPolicy::restore_retry`](crate::ReconnectPolicy::restore_retry)). `None` while
    /// everything is served.
    ///
    /// ```no_run
    /// # fn demo(service: &wampkit::ServiceRegistration) {
    /// if let Some((uri, reason)) = service.revoked() {
    ///     eprintln!("{uri} is no longer served: {reason}");
    /// }
    /// # }
    /// ```
    pub fn revoked(&self) -> Option<(&str, &str)> {
        let registrations = self
            .registrations
            .iter()
            .filter_map(|r| Some((r.procedure(), r.revoked()?)));
        let subscriptions = self
            .subscriptions
            .iter()
            .filter_map(|s| Some((s.topic(), s.revoked()?)));
        registrations.chain(subscriptions).next()
    }

    /// Unregisters every procedure and unsubscribes every topic, waiting for the router to
    /// confirm each. Returns the first error; everything else is still removed.
    pub async fn unregister(mut self) -> Result<()> {
        let mut first_error = None;
        for subscription in std::mem::take(&mut self.subscriptions) {
            if let Err(e) = subscription.unsubscribe().await {
                first_error.get_or_insert(e);
            }
        }
        for registration in std::mem::take(&mut self.registrations) {
            if let Err(e) = registration.unregister().await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

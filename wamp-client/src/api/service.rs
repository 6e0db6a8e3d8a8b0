//! Everything a macro-generated service registers, held as one handle.

use crate::api::register::Registration;
use crate::api::subscribe::SubscriptionHandle;
use crate::error::Result;

/// The registrations and subscriptions of one service, as `{Trait}Service::register` returns
/// them. Dropping it unregisters and unsubscribes everything;
/// [`unregister`](ServiceRegistration::unregister) does the same and waits for the router.
#[must_use = "dropping a ServiceRegistration unregisters the whole service at once"]
#[derive(Debug, Default)]
pub struct ServiceRegistration {
    pub(crate) registrations: Vec<Registration>,
    pub(crate) subscriptions: Vec<SubscriptionHandle>,
}

impl ServiceRegistration {
    /// The procedures registered, with their registration ids.
    pub fn registrations(&self) -> &[Registration] {
        &self.registrations
    }

    /// The topics subscribed, as handles of their handler tasks.
    pub fn subscriptions(&self) -> &[SubscriptionHandle] {
        &self.subscriptions
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

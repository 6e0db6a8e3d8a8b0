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

    /// Unregisters every procedure (waiting for the router to confirm each) and unsubscribes
    /// every topic. Stops at, and returns, the first error; the rest is still dropped.
    pub async fn unregister(mut self) -> Result<()> {
        self.subscriptions.clear();
        for registration in std::mem::take(&mut self.registrations) {
            registration.unregister().await?;
        }
        Ok(())
    }
}

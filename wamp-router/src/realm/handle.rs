//! [`RealmHandle`]: a router's realm seen and steered from the application (tests above all):
//! what is joined, registered and subscribed, and ending sessions or revoking registrations.

use std::sync::Arc;

use wampkit_client::wire::Id;
use wampkit_client::{MatchPolicy, rpc::InvokePolicy};

use super::Realm;

/// A handle to one realm of a router (see [`Router::realm`](crate::Router::realm)).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> wampkit::Result<()> {
/// let router = wampkit_router::Router::builder().realm("realm1").build();
/// let session = router.connect("realm1").await?;
/// let realm = router.realm("realm1").expect("the realm");
/// assert_eq!(realm.sessions().len(), 1);
/// assert!(realm.kill_session(session.id(), "wamp.close.killed"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RealmHandle {
    realm: Arc<Realm>,
}

impl std::fmt::Debug for RealmHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealmHandle")
            .field("name", &self.realm.config.name)
            .finish_non_exhaustive()
    }
}

/// A joined session, as the router sees it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionSnapshot {
    /// The session id.
    pub id: Id,
    /// The authenticated id.
    pub authid: String,
    /// The role.
    pub authrole: String,
    /// How it authenticated.
    pub authmethod: String,
    /// Registrations it is a callee of.
    pub registrations: usize,
    /// Subscriptions it is a subscriber of.
    pub subscriptions: usize,
    /// Events dropped because it read too slowly (see
    /// [`SlowConsumer`](crate::SlowConsumer)).
    pub dropped_events: u64,
}

/// A registration, as the router sees it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RegistrationSnapshot {
    /// The registration id.
    pub id: Id,
    /// The procedure URI or pattern.
    pub uri: String,
    /// How the URI matches.
    pub match_policy: MatchPolicy,
    /// How a callee is chosen.
    pub invoke: InvokePolicy,
    /// The callees' session ids, in the order they registered.
    pub callees: Vec<Id>,
}

/// A subscription, as the router sees it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SubscriptionSnapshot {
    /// The subscription id.
    pub id: Id,
    /// The topic URI or pattern.
    pub uri: String,
    /// How the URI matches.
    pub match_policy: MatchPolicy,
    /// The subscribers' session ids, sorted.
    pub subscribers: Vec<Id>,
}

impl RealmHandle {
    pub(crate) fn new(realm: Arc<Realm>) -> Self {
        RealmHandle { realm }
    }

    /// The realm's name.
    pub fn name(&self) -> &str {
        &self.realm.config.name
    }

    /// The joined sessions, by id.
    pub fn sessions(&self) -> Vec<SessionSnapshot> {
        let state = self.realm.lock();
        let mut sessions: Vec<SessionSnapshot> = state
            .sessions
            .values()
            .map(|s| SessionSnapshot {
                id: s.id,
                authid: s.identity.authid.clone(),
                authrole: s.identity.authrole.clone(),
                authmethod: s.identity.authmethod.clone(),
                registrations: s.registrations.len(),
                subscriptions: s.subscriptions.len(),
                dropped_events: s.outbox.dropped_events(),
            })
            .collect();
        sessions.sort_unstable_by_key(|s| s.id);
        sessions
    }

    /// The registrations, by id.
    pub fn registrations(&self) -> Vec<RegistrationSnapshot> {
        let state = self.realm.lock();
        let mut registrations: Vec<RegistrationSnapshot> = state
            .dealer
            .registrations
            .values()
            .map(|r| RegistrationSnapshot {
                id: r.id,
                uri: r.uri.clone(),
                match_policy: r.policy,
                invoke: r.invoke,
                callees: r.callees.iter().map(|c| c.session).collect(),
            })
            .collect();
        registrations.sort_unstable_by_key(|r| r.id);
        registrations
    }

    /// The subscriptions, by id.
    pub fn subscriptions(&self) -> Vec<SubscriptionSnapshot> {
        let state = self.realm.lock();
        let mut subscriptions: Vec<SubscriptionSnapshot> = state
            .broker
            .subscriptions
            .values()
            .map(|s| {
                let mut subscribers: Vec<Id> = s.subscribers.iter().copied().collect();
                subscribers.sort_unstable();
                SubscriptionSnapshot {
                    id: s.id,
                    uri: s.uri.clone(),
                    match_policy: s.policy,
                    subscribers,
                }
            })
            .collect();
        subscriptions.sort_unstable_by_key(|s| s.id);
        subscriptions
    }

    /// Ends a session: GOODBYE with `reason` (`wamp.close.killed`, say), then its connection
    /// closes. Whether the session was there.
    pub fn kill_session(&self, session: Id, reason: &str) -> bool {
        let meta = self.realm.config.meta_api;
        self.realm.lock().kill(session, reason, None, meta)
    }

    /// Revokes a registration: each callee gets UNREGISTERED with the registration id and
    /// `reason`, and calls no longer reach it. Whether it was there.
    pub fn revoke_registration(&self, registration: Id, reason: &str) -> bool {
        let meta = self.realm.config.meta_api;
        self.realm
            .lock()
            .revoke_registration(registration, reason, meta)
    }

    /// Revokes a subscription: each subscriber gets UNSUBSCRIBED with the subscription id and
    /// `reason`, and events no longer reach it. Whether it was there.
    pub fn revoke_subscription(&self, subscription: Id, reason: &str) -> bool {
        let meta = self.realm.config.meta_api;
        self.realm
            .lock()
            .revoke_subscription(subscription, reason, meta)
    }
}

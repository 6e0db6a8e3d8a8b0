//! A realm: its sessions, its dealer (RPC) and its broker (PubSub).

mod config;

use std::sync::Arc;

pub use config::RealmConfig;

use crate::builder::Settings;

/// A realm's routing state.
pub(crate) struct Realm {
    pub(crate) config: RealmConfig,
}

impl Realm {
    pub(crate) fn new(config: RealmConfig, _settings: &Settings) -> Realm {
        Realm { config }
    }
}

/// A handle to one realm of a router (see [`Router::realm`](crate::Router::realm)).
#[derive(Clone)]
pub struct RealmHandle {
    realm: Arc<Realm>,
}

impl std::fmt::Debug for RealmHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealmHandle")
            .field("name", &self.realm.config.name)
            .finish()
    }
}

impl RealmHandle {
    pub(crate) fn new(realm: Arc<Realm>) -> Self {
        RealmHandle { realm }
    }
}

/// A session as the router sees it.
#[derive(Debug, Clone)]
pub struct SessionSnapshot {
    /// The session id.
    pub id: wamp_client::Id,
    /// Events dropped because the session read too slowly.
    pub dropped_events: u64,
}

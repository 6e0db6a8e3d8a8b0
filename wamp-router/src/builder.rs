//! Building a [`Router`]: its realms and the limits every connection shares.

use std::sync::Arc;
use std::time::Duration;

use crate::listen::ListenSettings;
use crate::realm::RealmConfig;
use crate::router::Router;

/// What happens when a session reads more slowly than events arrive for it and its outbound
/// queue ([`RouterBuilder::outbound_queue`]) is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SlowConsumer {
    /// Events for that session are dropped and counted (see
    /// [`SessionSnapshot::dropped_events`](crate::SessionSnapshot::dropped_events)); RPC
    /// messages are never dropped: a session that cannot take one is closed.
    #[default]
    DropEvents,
    /// The session is closed at once, whatever the message.
    Close,
}

/// Settings shared by every connection.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) listen: ListenSettings,
    pub(crate) outbound_queue: usize,
    pub(crate) slow_consumer: SlowConsumer,
    pub(crate) hello_timeout: Duration,
    pub(crate) goodbye_timeout: Duration,
    pub(crate) max_pending_calls: usize,
}

/// Builds a [`Router`]: `Router::builder().realm("realm1").build()`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RouterBuilder {
    realms: Vec<RealmConfig>,
    settings: Settings,
}

/// The largest message accepted by default: 16 MiB, as Crossbar.io's default.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

impl Default for RouterBuilder {
    fn default() -> Self {
        RouterBuilder {
            realms: Vec::new(),
            settings: Settings {
                listen: ListenSettings {
                    tls: None,
                    max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
                },
                outbound_queue: 4096,
                slow_consumer: SlowConsumer::DropEvents,
                hello_timeout: Duration::from_secs(10),
                goodbye_timeout: Duration::from_secs(2),
                max_pending_calls: 65_536,
            },
        }
    }
}

impl RouterBuilder {
    /// Adds a realm named `name` that admits anonymous sessions and lets them do everything.
    pub fn realm(self, name: impl Into<String>) -> Self {
        self.add_realm(RealmConfig::new(name))
    }

    /// Adds a realm with its own settings (authentication, roles, disclosure); a realm of the
    /// same name added before is replaced.
    pub fn add_realm(mut self, realm: RealmConfig) -> Self {
        self.realms.retain(|r| r.name != realm.name);
        self.realms.push(realm);
        self
    }

    /// The TLS server configuration for `wss://` and `rss://` listeners.
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.settings.listen.tls = Some(config);
        self
    }

    /// The largest message accepted from a client, on every listener ([`DEFAULT_MAX_MESSAGE_SIZE`]
    /// by default). A larger one closes the connection.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.settings.listen.max_message_size = bytes.max(1024);
        self
    }

    /// How many messages may wait for each session to read them (4096 by default, at least 1).
    /// Beyond it, [`slow_consumer`](Self::slow_consumer) decides.
    pub fn outbound_queue(mut self, messages: usize) -> Self {
        self.settings.outbound_queue = messages.max(1);
        self
    }

    /// What happens to a session whose outbound queue is full ([`SlowConsumer::DropEvents`] by
    /// default).
    pub fn slow_consumer(mut self, policy: SlowConsumer) -> Self {
        self.settings.slow_consumer = policy;
        self
    }

    /// How long a new connection may take to send HELLO and finish authenticating (10 s by
    /// default).
    pub fn hello_timeout(mut self, timeout: Duration) -> Self {
        self.settings.hello_timeout = timeout;
        self
    }

    /// How long the router waits for a client's GOODBYE after sending its own, when it closes a
    /// session (2 s by default).
    pub fn goodbye_timeout(mut self, timeout: Duration) -> Self {
        self.settings.goodbye_timeout = timeout;
        self
    }

    /// How many calls one session may have waiting for results (65,536 by default); beyond it,
    /// calls are refused with `wamp.error.unavailable`.
    pub fn max_pending_calls(mut self, calls: usize) -> Self {
        self.settings.max_pending_calls = calls.max(1);
        self
    }

    /// Builds the router. It routes as soon as a session joins (in-process with
    /// [`Router::connect`], or through a [`Router::listen`]er).
    pub fn build(self) -> Router {
        Router::new(self.realms, self.settings)
    }
}

//! A realm: its sessions, its dealer (RPC) and its broker (PubSub), behind one lock that no
//! code holds across an await.

mod broker;
mod config;
mod dealer;
mod handle;
mod meta;
pub(crate) mod outbox;
mod passthru;
mod patterns;
pub(crate) mod session;

use std::sync::{Arc, Mutex, MutexGuard};

use rustc_hash::FxHashMap;
use wampkit_client::wire::{Id, Message, Payload, code};
use wampkit_client::{Dict, Value};

pub use config::RealmConfig;
pub use handle::{RealmHandle, RegistrationSnapshot, SessionSnapshot, SubscriptionSnapshot};

use self::broker::Broker;
use self::dealer::Dealer;
use self::outbox::Outbox;
use self::session::{ClientFeatures, SessionEntry};
use crate::auth::Identity;
use crate::authorize::{Action, Requester};
use crate::builder::Settings;

/// A realm's routing state.
pub(crate) struct Realm {
    pub(crate) config: RealmConfig,
    max_pending_calls: usize,
    state: Mutex<State>,
}

/// Everything the realm routes with.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) sessions: FxHashMap<Id, SessionEntry>,
    pub(crate) dealer: Dealer,
    pub(crate) broker: Broker,
}

/// A session about to join.
pub(crate) struct Joining {
    pub(crate) id: Id,
    pub(crate) identity: Identity,
    pub(crate) features: ClientFeatures,
    pub(crate) transport: Dict,
    pub(crate) outbox: Outbox,
}

/// What a message handler may not go on with: a protocol violation, ending the session.
pub(crate) type Violation = String;

impl Realm {
    pub(crate) fn new(config: RealmConfig, settings: &Settings) -> Realm {
        Realm {
            config,
            max_pending_calls: settings.max_pending_calls,
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked left the state as consistent as any other step does.
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The WELCOME for a session: who it is and exactly what this router implements.
    pub(crate) fn welcome(&self, session: Id, identity: &Identity) -> Message {
        let features = |names: &[&str]| {
            let features: Dict = names
                .iter()
                .map(|name| ((*name).to_owned(), Value::Bool(true)))
                .collect();
            let mut role = Dict::new();
            role.insert("features".into(), Value::Dict(features));
            Value::Dict(role)
        };
        let meta: &[&str] = if self.config.meta_api {
            &["session_meta_api"]
        } else {
            &[]
        };
        let mut dealer = vec![
            "call_canceling",
            "call_timeout",
            "caller_identification",
            "pattern_based_registration",
            "progressive_call_invocations",
            "progressive_call_results",
            "registration_revocation",
            "shared_registration",
        ];
        let mut broker = vec![
            "event_retention",
            "pattern_based_subscription",
            "publisher_exclusion",
            "publisher_identification",
            "subscriber_blackwhite_listing",
            "subscription_revocation",
        ];
        if self.config.meta_api {
            dealer.extend(["registration_meta_api", "testament_meta_api"]);
            broker.push("subscription_meta_api");
        }
        dealer.extend(meta);
        broker.extend(meta);
        dealer.extend(passthru::FEATURES);
        broker.extend(passthru::FEATURES);
        let mut roles = Dict::new();
        roles.insert("dealer".into(), features(&dealer));
        roles.insert("broker".into(), features(&broker));
        let mut details = Dict::new();
        details.insert("realm".into(), Value::from(self.config.name.as_str()));
        details.insert("authid".into(), Value::from(identity.authid.as_str()));
        details.insert("authrole".into(), Value::from(identity.authrole.as_str()));
        details.insert(
            "authmethod".into(),
            Value::from(identity.authmethod.as_str()),
        );
        details.insert(
            "authprovider".into(),
            Value::from(identity.authprovider.as_str()),
        );
        if !identity.authextra.is_empty() {
            details.insert("authextra".into(), Value::Dict(identity.authextra.clone()));
        }
        details.insert("roles".into(), Value::Dict(roles));
        details.insert(
            "agent".into(),
            Value::from(concat!("wamp-router-rs/", env!("CARGO_PKG_VERSION"))),
        );
        Message::Welcome { session, details }
    }

    /// Adds a session that was sent its WELCOME.
    pub(crate) fn join(&self, joining: Joining) {
        let mut state = self.lock();
        let entry = SessionEntry {
            id: joining.id,
            identity: joining.identity,
            features: joining.features,
            transport: joining.transport,
            outbox: joining.outbox,
            registrations: Default::default(),
            subscriptions: Default::default(),
            pending_calls: 0,
            testaments: Vec::new(),
        };
        let on_join = self.config.meta_api.then(|| entry.details());
        state.sessions.insert(joining.id, entry);
        if let Some(details) = on_join {
            state.publish_meta("wamp.session.on_join", vec![Value::Dict(details)]);
        }
    }

    /// Removes a session and everything it held: its registrations and subscriptions, its calls
    /// (their callees are interrupted) and the calls to it (their callers get an error); its
    /// testaments are published. Does nothing for a session already gone.
    pub(crate) fn leave(&self, session: Id) {
        self.lock().remove_session(session, self.config.meta_api);
    }

    /// Routes one message of a joined session.
    pub(crate) fn handle(self: &Arc<Self>, session: Id, message: Message) -> Result<(), Violation> {
        let mut state = self.lock();
        if !state.sessions.contains_key(&session) {
            // Ended by the realm a moment ago; its connection is closing.
            return Ok(());
        }
        match message {
            Message::Call {
                request,
                options,
                procedure,
                payload,
            } => self.call(&mut state, session, request, options, procedure, payload),
            Message::Cancel { request, options } => {
                state.cancel(session, request, &options);
                Ok(())
            }
            Message::Yield {
                request,
                options,
                payload,
            } => {
                state.yield_result(session, request, &options, payload);
                Ok(())
            }
            Message::Error {
                request_type: code::INVOCATION,
                request,
                details,
                error,
                payload,
            } => {
                state.invocation_error(session, request, details, error, payload);
                Ok(())
            }
            Message::Register {
                request,
                options,
                procedure,
            } => {
                self.register(&mut state, session, request, &options, procedure);
                Ok(())
            }
            Message::Unregister {
                request,
                registration,
            } => {
                state.unregister(session, request, registration, self.config.meta_api);
                Ok(())
            }
            Message::Publish {
                request,
                options,
                topic,
                payload,
            } => {
                self.publish(&mut state, session, request, options, topic, payload);
                Ok(())
            }
            Message::Subscribe {
                request,
                options,
                topic,
            } => {
                self.subscribe(&mut state, session, request, &options, topic);
                Ok(())
            }
            Message::Unsubscribe {
                request,
                subscription,
            } => {
                state.unsubscribe(session, request, subscription, self.config.meta_api);
                Ok(())
            }
            other => Err(format!("a client does not send {}", other.name())),
        }
    }

    /// Whether `session` may do `action` on `uri`.
    pub(crate) fn permits(&self, state: &State, session: Id, action: Action, uri: &str) -> bool {
        let Some(entry) = state.sessions.get(&session) else {
            return false;
        };
        let requester = Requester {
            session,
            realm: &self.config.name,
            identity: &entry.identity,
        };
        self.config.permits(requester, action, uri)
    }
}

impl State {
    /// Removes a session and everything it held (see [`Realm::leave`]).
    pub(crate) fn remove_session(&mut self, session: Id, meta: bool) {
        let Some(entry) = self.sessions.remove(&session) else {
            return;
        };
        self.dealer_forget(&entry, meta);
        self.broker_forget(&entry, meta);
        for testament in &entry.testaments {
            self.publish_testament(testament);
        }
        if meta {
            self.publish_meta(
                "wamp.session.on_leave",
                vec![
                    Value::from(session),
                    Value::from(entry.identity.authid.as_str()),
                    Value::from(entry.identity.authrole.as_str()),
                ],
            );
        }
    }

    /// Ends a session from the router's side: GOODBYE with `reason`, then its connection
    /// closes (after the client's answer, or the goodbye timeout).
    pub(crate) fn kill(
        &mut self,
        session: Id,
        reason: &str,
        message: Option<&str>,
        meta: bool,
    ) -> bool {
        let Some(entry) = self.sessions.get(&session) else {
            return false;
        };
        let mut details = Dict::new();
        if let Some(message) = message {
            details.insert("message".into(), Value::from(message));
        }
        entry.outbox.send(Message::Goodbye {
            details,
            reason: reason.to_owned(),
        });
        entry.outbox.close();
        self.remove_session(session, meta);
        true
    }

    /// Queues a message for a session, if it is still here.
    pub(crate) fn send(&self, session: Id, message: Message) {
        if let Some(entry) = self.sessions.get(&session) {
            entry.outbox.send(message);
        }
    }
}

/// An ERROR answering a request, with an explanation as its first argument.
pub(crate) fn error(request_type: u64, request: Id, uri: &str, message: &str) -> Message {
    Message::Error {
        request_type,
        request,
        details: Dict::new(),
        error: uri.to_owned(),
        payload: if message.is_empty() {
            Payload::Empty
        } else {
            Payload::Args {
                args: vec![Value::from(message)],
                kwargs: Dict::new(),
            }
        },
    }
}

/// The current time as the meta API gives it (RFC 3339, UTC, milliseconds, as Crossbar.io).
pub(crate) fn timestamp() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

//! A joined session as its realm keeps it: who it is, what its client announced, where its
//! messages go, and what it owns.

use rustc_hash::FxHashSet;
use wampkit_client::wire::Id;
use wampkit_client::{Dict, Value};

use super::outbox::Outbox;
use crate::auth::Identity;

/// The features of its client the router acts on, read from HELLO's roles.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ClientFeatures {
    /// The callee handles INTERRUPT (`call_canceling`, or the `call_cancelling` spelling).
    pub(crate) callee_cancel: bool,
    /// The callee may send progressive results.
    pub(crate) callee_progressive_results: bool,
    /// The callee takes progressive invocations.
    pub(crate) callee_progressive_invocations: bool,
    /// The caller may send progressive calls.
    pub(crate) caller_progressive_invocations: bool,
}

impl ClientFeatures {
    /// Reads the features from HELLO's `roles`.
    pub(crate) fn from_roles(roles: Option<&Dict>) -> Self {
        let feature = |role: &str, names: &[&str]| {
            roles
                .and_then(|roles| roles.get(role))
                .and_then(Value::as_dict)
                .and_then(|role| role.get("features"))
                .and_then(Value::as_dict)
                .is_some_and(|features| {
                    names
                        .iter()
                        .any(|name| features.get(*name).and_then(Value::as_bool) == Some(true))
                })
        };
        ClientFeatures {
            callee_cancel: feature("callee", &["call_canceling", "call_cancelling"]),
            callee_progressive_results: feature("callee", &["progressive_call_results"]),
            callee_progressive_invocations: feature("callee", &["progressive_call_invocations"]),
            caller_progressive_invocations: feature("caller", &["progressive_call_invocations"]),
        }
    }
}

/// When a testament is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestamentScope {
    Detached,
    Destroyed,
}

/// An event a session asked the router to publish when it goes.
#[derive(Debug, Clone)]
pub(crate) struct Testament {
    pub(crate) scope: TestamentScope,
    pub(crate) topic: String,
    pub(crate) args: Vec<Value>,
    pub(crate) kwargs: Dict,
    pub(crate) options: Dict,
}

/// A joined session.
#[derive(Debug)]
pub(crate) struct SessionEntry {
    pub(crate) id: Id,
    pub(crate) identity: Identity,
    pub(crate) features: ClientFeatures,
    /// The peer's transport, as `wamp.session.get` shows it.
    pub(crate) transport: Dict,
    pub(crate) outbox: Outbox,
    /// Registrations this session is a callee of.
    pub(crate) registrations: FxHashSet<Id>,
    /// Subscriptions this session is a subscriber of.
    pub(crate) subscriptions: FxHashSet<Id>,
    /// Calls of this session waiting for their results.
    pub(crate) pending_calls: usize,
    pub(crate) testaments: Vec<Testament>,
}

impl SessionEntry {
    /// The session's details as the session meta API gives them.
    pub(crate) fn details(&self) -> Dict {
        let mut details = Dict::new();
        details.insert("session".into(), Value::from(self.id));
        details.insert("authid".into(), Value::from(self.identity.authid.as_str()));
        details.insert(
            "authrole".into(),
            Value::from(self.identity.authrole.as_str()),
        );
        details.insert(
            "authmethod".into(),
            Value::from(self.identity.authmethod.as_str()),
        );
        details.insert(
            "authprovider".into(),
            Value::from(self.identity.authprovider.as_str()),
        );
        details.insert(
            "authextra".into(),
            Value::Dict(self.identity.authextra.clone()),
        );
        details.insert("transport".into(), Value::Dict(self.transport.clone()));
        details
    }
}

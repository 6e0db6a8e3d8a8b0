//! The dealer: registrations, and calls routed to their callees and back ([`calls`]).

mod calls;

use rustc_hash::FxHashMap;
use wampkit_client::MatchPolicy;
use wampkit_client::rpc::InvokePolicy;
use wampkit_client::uri::UriUse;
use wampkit_client::wire::{Id, Message, code};
use wampkit_client::{Dict, Value};

use self::calls::Pending;
use super::patterns::Patterns;
use super::session::SessionEntry;
use super::{Realm, State, error, timestamp};
use crate::authorize::Action;

#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) id: Id,
    pub(crate) uri: String,
    pub(crate) policy: MatchPolicy,
    pub(crate) invoke: InvokePolicy,
    pub(crate) created: String,
    pub(crate) callees: Vec<Callee>,
    /// The next callee for `roundrobin`.
    next: usize,
}

/// One callee of a registration and what it asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Callee {
    pub(crate) session: Id,
    disclose_caller: bool,
    forward_timeout: bool,
}

/// A call on its way: sent to a callee as an INVOCATION, not answered yet.
#[derive(Debug, Default)]
pub(crate) struct Dealer {
    pub(crate) registrations: FxHashMap<Id, Registration>,
    pub(crate) patterns: Patterns,
    /// By INVOCATION request id (unique in the realm, so in each callee's scope too).
    pending: FxHashMap<Id, Pending>,
    /// The invocation of each caller's CALL request.
    by_call: FxHashMap<(Id, Id), Id>,
    next_invocation: Id,
}

fn flag(options: &Dict, key: &str) -> bool {
    options.get(key).and_then(Value::as_bool) == Some(true)
}

/// The `match` option: `None` for an unknown policy.
pub(crate) fn match_policy(options: &Dict) -> Option<MatchPolicy> {
    option_or_default(options, "match")
}

/// The `invoke` option: `None` for an unknown policy.
fn invoke_policy(options: &Dict) -> Option<InvokePolicy> {
    option_or_default(options, "invoke")
}

/// An option read with the client's parser for it: its default when absent, `None` when it is
/// no value the parser knows.
fn option_or_default<T: std::str::FromStr + Default>(options: &Dict, key: &str) -> Option<T> {
    match options.get(key) {
        None => Some(T::default()),
        Some(value) => value.as_str().and_then(|text| text.parse().ok()),
    }
}

/// The details of a registration, as `wamp.registration.on_create` and `get` give them.
pub(crate) fn registration_details(registration: &Registration) -> Dict {
    let mut details = Dict::new();
    details.insert("id".into(), Value::from(registration.id));
    details.insert("created".into(), Value::from(registration.created.as_str()));
    details.insert("uri".into(), Value::from(registration.uri.as_str()));
    details.insert("match".into(), Value::from(registration.policy.as_str()));
    details.insert("invoke".into(), Value::from(registration.invoke.as_str()));
    details
}

impl Realm {
    pub(super) fn register(
        &self,
        state: &mut State,
        session: Id,
        request: Id,
        options: &Dict,
        procedure: String,
    ) {
        let refuse = |state: &State, uri: &str, message: &str| {
            state.send(session, error(code::REGISTER, request, uri, message));
        };
        let Some(policy) = match_policy(options) else {
            return refuse(state, "wamp.error.invalid_argument", "unknown match policy");
        };
        let Some(invoke) = invoke_policy(options) else {
            return refuse(
                state,
                "wamp.error.invalid_argument",
                "unknown invocation policy",
            );
        };
        let usage = match policy {
            MatchPolicy::Prefix => UriUse::Prefix { own: true },
            MatchPolicy::Wildcard => UriUse::Wildcard { own: true },
            _ => UriUse::Own,
        };
        if let Err(e) = self.config.uri_check.check(&procedure, usage) {
            return refuse(state, "wamp.error.invalid_uri", &e.to_string());
        }
        if !self.permits(state, session, Action::Register, &procedure) {
            return refuse(
                state,
                "wamp.error.not_authorized",
                "not allowed to register this procedure",
            );
        }
        let callee = Callee {
            session,
            disclose_caller: flag(options, "disclose_caller"),
            forward_timeout: flag(options, "forward_timeout"),
        };
        let meta = self.config.meta_api;
        let id = match state.dealer.patterns.get(&procedure, policy) {
            Some(id) => {
                let Some(registration) = state.dealer.registrations.get_mut(&id) else {
                    return;
                };
                if registration.invoke != invoke {
                    return refuse(
                        state,
                        "wamp.error.procedure_exists_with_different_invocation_policy",
                        "the procedure is registered with another invocation policy",
                    );
                }
                if invoke == InvokePolicy::Single
                    || registration.callees.iter().any(|c| c.session == session)
                {
                    return refuse(
                        state,
                        "wamp.error.procedure_already_exists",
                        "the procedure is registered already",
                    );
                }
                registration.callees.push(callee);
                id
            }
            None => {
                let id = crate::ids::random_id();
                let registration = Registration {
                    id,
                    uri: procedure.clone(),
                    policy,
                    invoke,
                    created: timestamp(),
                    callees: vec![callee],
                    next: 0,
                };
                let details = registration_details(&registration);
                state.dealer.registrations.insert(id, registration);
                state.dealer.patterns.insert(&procedure, policy, id);
                if meta {
                    state.publish_meta(
                        "wamp.registration.on_create",
                        vec![Value::from(session), Value::Dict(details)],
                    );
                }
                id
            }
        };
        if let Some(entry) = state.sessions.get_mut(&session) {
            entry.registrations.insert(id);
        }
        state.send(
            session,
            Message::Registered {
                request,
                registration: id,
            },
        );
        if meta {
            state.publish_meta(
                "wamp.registration.on_register",
                vec![Value::from(session), Value::from(id)],
            );
        }
    }
}

impl State {
    pub(super) fn unregister(&mut self, session: Id, request: Id, registration: Id, meta: bool) {
        let registered = self
            .sessions
            .get(&session)
            .is_some_and(|entry| entry.registrations.contains(&registration));
        if !registered {
            self.send(
                session,
                error(
                    code::UNREGISTER,
                    request,
                    "wamp.error.no_such_registration",
                    "no such registration of this session",
                ),
            );
            return;
        }
        self.remove_callee(session, registration, meta);
        self.send(
            session,
            Message::Unregistered {
                request,
                details: None,
            },
        );
    }

    /// Takes `session` off a registration, deleting the registration once it has no callee.
    pub(super) fn remove_callee(&mut self, session: Id, registration: Id, meta: bool) {
        if let Some(entry) = self.sessions.get_mut(&session) {
            entry.registrations.remove(&registration);
        }
        let Some(reg) = self.dealer.registrations.get_mut(&registration) else {
            return;
        };
        reg.callees.retain(|c| c.session != session);
        let deleted = reg.callees.is_empty();
        if deleted {
            let (uri, policy) = (reg.uri.clone(), reg.policy);
            self.dealer.registrations.remove(&registration);
            self.dealer.patterns.remove(&uri, policy);
        }
        if meta {
            self.publish_meta(
                "wamp.registration.on_unregister",
                vec![Value::from(session), Value::from(registration)],
            );
            if deleted {
                self.publish_meta(
                    "wamp.registration.on_delete",
                    vec![Value::from(session), Value::from(registration)],
                );
            }
        }
    }

    /// A registration revoked by the router: each callee is told (if it can hear it) and it is
    /// gone.
    pub(crate) fn revoke_registration(
        &mut self,
        registration: Id,
        reason: &str,
        meta: bool,
    ) -> bool {
        let Some(reg) = self.dealer.registrations.get(&registration) else {
            return false;
        };
        let callees: Vec<Id> = reg.callees.iter().map(|c| c.session).collect();
        for session in callees {
            let mut details = Dict::new();
            details.insert("registration".into(), Value::from(registration));
            details.insert("reason".into(), Value::from(reason));
            self.send(
                session,
                Message::Unregistered {
                    request: 0,
                    details: Some(details),
                },
            );
            self.remove_callee(session, registration, meta);
        }
        true
    }

    /// Forgets a leaving session's registrations and calls.
    pub(super) fn dealer_forget(&mut self, entry: &SessionEntry, meta: bool) {
        self.forget_calls(entry.id);
        for &registration in &entry.registrations {
            self.remove_callee(entry.id, registration, meta);
        }
    }
}

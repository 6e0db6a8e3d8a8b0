//! The broker: subscriptions, and publications delivered to their subscribers as events.

use bytes::{Bytes, BytesMut};
use rustc_hash::{FxHashMap, FxHashSet};
use wampkit_client::uri::UriUse;
use wampkit_client::wire::{Id, Message, Payload, code};
use wampkit_client::{Dict, MatchPolicy, Serializer, Value};

use super::dealer::match_policy;
use super::outbox::Outgoing;
use super::patterns::Patterns;
use super::session::{SessionEntry, Testament};
use super::{Realm, State, error, timestamp};
use crate::authorize::Action;

/// A subscription: one topic pattern and its subscribers.
#[derive(Debug)]
pub(crate) struct Subscription {
    pub(crate) id: Id,
    pub(crate) uri: String,
    pub(crate) policy: MatchPolicy,
    pub(crate) created: String,
    pub(crate) subscribers: FxHashSet<Id>,
}

/// The last event published with `retain` on a topic.
#[derive(Debug, Clone)]
struct Retained {
    publication: Id,
    payload: Payload,
    /// The details every event of it carries: the publisher's disclosure, when it was
    /// disclosed, and the payload passthru options.
    publisher: Dict,
    filter: Filter,
}

/// Who may receive an event (publisher exclusion, black- and white-listing).
#[derive(Debug, Clone, Default)]
struct Filter {
    exclude: Vec<Id>,
    exclude_authid: Vec<String>,
    exclude_authrole: Vec<String>,
    eligible: Option<Vec<Id>>,
    eligible_authid: Option<Vec<String>>,
    eligible_authrole: Option<Vec<String>>,
}

impl Filter {
    fn from_options(options: &Dict, publisher: Option<Id>) -> Filter {
        let ids = |key: &str| -> Option<Vec<Id>> {
            options
                .get(key)
                .and_then(Value::as_list)
                .map(|list| list.iter().filter_map(Value::as_u64).collect())
        };
        let texts = |key: &str| -> Option<Vec<String>> {
            options.get(key).and_then(Value::as_list).map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
        };
        let mut exclude = ids("exclude").unwrap_or_default();
        if let Some(publisher) = publisher {
            if options.get("exclude_me").and_then(Value::as_bool) != Some(false) {
                exclude.push(publisher);
            }
        }
        Filter {
            exclude,
            exclude_authid: texts("exclude_authid").unwrap_or_default(),
            exclude_authrole: texts("exclude_authrole").unwrap_or_default(),
            eligible: ids("eligible"),
            eligible_authid: texts("eligible_authid"),
            eligible_authrole: texts("eligible_authrole"),
        }
    }

    fn admits(&self, subscriber: &SessionEntry) -> bool {
        let authid = &subscriber.identity.authid;
        let authrole = &subscriber.identity.authrole;
        !self.exclude.contains(&subscriber.id)
            && !self.exclude_authid.contains(authid)
            && !self.exclude_authrole.contains(authrole)
            && self
                .eligible
                .as_ref()
                .is_none_or(|e| e.contains(&subscriber.id))
            && self
                .eligible_authid
                .as_ref()
                .is_none_or(|e| e.contains(authid))
            && self
                .eligible_authrole
                .as_ref()
                .is_none_or(|e| e.contains(authrole))
    }
}

/// Subscriptions and retained events.
#[derive(Debug, Default)]
pub(crate) struct Broker {
    pub(crate) subscriptions: FxHashMap<Id, Subscription>,
    pub(crate) patterns: Patterns,
    retained: FxHashMap<String, Retained>,
}

/// The details of a subscription, as `wamp.subscription.on_create` and `get` give them.
pub(crate) fn subscription_details(subscription: &Subscription) -> Dict {
    let mut details = Dict::new();
    details.insert("id".into(), Value::from(subscription.id));
    details.insert("created".into(), Value::from(subscription.created.as_str()));
    details.insert("uri".into(), Value::from(subscription.uri.as_str()));
    details.insert("match".into(), Value::from(subscription.policy.as_str()));
    details
}

impl Realm {
    pub(super) fn subscribe(
        &self,
        state: &mut State,
        session: Id,
        request: Id,
        options: &Dict,
        topic: String,
    ) {
        let refuse = |state: &State, uri: &str, message: &str| {
            state.send(session, error(code::SUBSCRIBE, request, uri, message));
        };
        let Some(policy) = match_policy(options) else {
            return refuse(state, "wamp.error.invalid_argument", "unknown match policy");
        };
        let usage = match policy {
            MatchPolicy::Prefix => UriUse::Prefix { own: false },
            MatchPolicy::Wildcard => UriUse::Wildcard { own: false },
            _ => UriUse::Reference,
        };
        if let Err(e) = self.config.uri_check.check(&topic, usage) {
            return refuse(state, "wamp.error.invalid_uri", &e.to_string());
        }
        if !self.permits(state, session, Action::Subscribe, &topic) {
            return refuse(
                state,
                "wamp.error.not_authorized",
                "not allowed to subscribe to this topic",
            );
        }
        let meta = self.config.meta_api;
        let id = match state.broker.patterns.get(&topic, policy) {
            Some(id) => id,
            None => {
                let id = crate::ids::random_id();
                let subscription = Subscription {
                    id,
                    uri: topic.clone(),
                    policy,
                    created: timestamp(),
                    subscribers: FxHashSet::default(),
                };
                let details = subscription_details(&subscription);
                state.broker.subscriptions.insert(id, subscription);
                state.broker.patterns.insert(&topic, policy, id);
                if meta {
                    state.publish_meta(
                        "wamp.subscription.on_create",
                        vec![Value::from(session), Value::Dict(details)],
                    );
                }
                id
            }
        };
        let new = state
            .broker
            .subscriptions
            .get_mut(&id)
            .is_some_and(|s| s.subscribers.insert(session));
        if let Some(entry) = state.sessions.get_mut(&session) {
            entry.subscriptions.insert(id);
        }
        state.send(
            session,
            Message::Subscribed {
                request,
                subscription: id,
            },
        );
        if new && meta {
            state.publish_meta(
                "wamp.subscription.on_subscribe",
                vec![Value::from(session), Value::from(id)],
            );
        }
        if options.get("get_retained").and_then(Value::as_bool) == Some(true) {
            state.send_retained(session, id, &topic, policy);
        }
    }

    pub(super) fn publish(
        &self,
        state: &mut State,
        session: Id,
        request: Id,
        options: Dict,
        topic: String,
        payload: Payload,
    ) {
        let acknowledge = options.get("acknowledge").and_then(Value::as_bool) == Some(true);
        let refuse = |state: &State, uri: &str, message: &str| {
            if acknowledge {
                state.send(session, error(code::PUBLISH, request, uri, message));
            }
        };
        if let Err(e) = self.config.uri_check.check(&topic, UriUse::Own) {
            return refuse(state, "wamp.error.invalid_uri", &e.to_string());
        }
        if !self.permits(state, session, Action::Publish, &topic) {
            return refuse(
                state,
                "wamp.error.not_authorized",
                "not allowed to publish to this topic",
            );
        }
        let mut publisher = Dict::new();
        let disclose = options.get("disclose_me").and_then(Value::as_bool) == Some(true)
            || self.config.disclose_publishers;
        if disclose {
            if let Some(entry) = state.sessions.get(&session) {
                publisher.insert("publisher".into(), Value::from(session));
                publisher.insert(
                    "publisher_authid".into(),
                    Value::from(entry.identity.authid.as_str()),
                );
                publisher.insert(
                    "publisher_authrole".into(),
                    Value::from(entry.identity.authrole.as_str()),
                );
            }
        }
        // Every event of the publication carries them, retained ones too.
        super::passthru::forward(&options, &mut publisher);
        let filter = Filter::from_options(&options, Some(session));
        let publication = crate::ids::random_id();
        if options.get("retain").and_then(Value::as_bool) == Some(true) {
            let retained = Retained {
                publication,
                payload: payload.clone(),
                publisher: publisher.clone(),
                filter: Filter::from_options(&options, None),
            };
            state.broker.retained.insert(topic.clone(), retained);
        }
        state.deliver(&topic, publication, &publisher, &filter, payload);
        if acknowledge {
            state.send(
                session,
                Message::Published {
                    request,
                    publication,
                },
            );
        }
    }
}

impl State {
    /// Delivers a publication to every matching subscription's admitted subscribers: one EVENT
    /// per subscription, encoded once per serializer when it has many subscribers.
    fn deliver(
        &self,
        topic: &str,
        publication: Id,
        publisher: &Dict,
        filter: &Filter,
        payload: Payload,
    ) {
        let mut matches = Vec::new();
        self.broker
            .patterns
            .all(topic, |id, policy| matches.push((id, policy)));
        let last = matches.len();
        let mut payload = Some(payload);
        for (index, (id, policy)) in matches.into_iter().enumerate() {
            let Some(subscription) = self.broker.subscriptions.get(&id) else {
                continue;
            };
            let mut details = publisher.clone();
            if policy != MatchPolicy::Exact {
                details.insert("topic".into(), Value::from(topic));
            }
            let payload = if index + 1 == last {
                payload.take().unwrap_or_default()
            } else {
                payload.clone().unwrap_or_default()
            };
            let event = Message::Event {
                subscription: id,
                publication,
                details,
                payload,
            };
            self.fan_out(subscription, filter, event);
        }
    }

    /// Sends one event to a subscription's admitted subscribers.
    fn fan_out(&self, subscription: &Subscription, filter: &Filter, event: Message) {
        let receivers: Vec<&SessionEntry> = subscription
            .subscribers
            .iter()
            .filter_map(|id| self.sessions.get(id))
            .filter(|entry| filter.admits(entry))
            .collect();
        if let [only] = receivers.as_slice() {
            only.outbox.send_event(Outgoing::Message(event));
            return;
        }
        let mut frames: [Option<Bytes>; 3] = [None, None, None];
        let mut buffer = BytesMut::new();
        for receiver in receivers {
            let serializer = receiver.outbox.serializer();
            let slot = Serializer::ALL
                .iter()
                .position(|&s| s == serializer)
                .and_then(|i| frames.get_mut(i));
            let Some(slot) = slot else {
                receiver.outbox.send_event(Outgoing::Message(event.clone()));
                continue;
            };
            if slot.is_none() {
                match serializer.encode_frame(&event, &mut buffer) {
                    Ok(frame) => *slot = Some(frame),
                    Err(e) => {
                        tracing::warn!(error = %e, "an event cannot be encoded");
                        continue;
                    }
                }
            }
            if let Some(frame) = slot {
                receiver.outbox.send_event(Outgoing::Frame(frame.clone()));
            }
        }
    }

    /// Sends the retained events a new subscription matches.
    fn send_retained(&self, session: Id, subscription: Id, pattern: &str, policy: MatchPolicy) {
        let Some(entry) = self.sessions.get(&session) else {
            return;
        };
        for (topic, retained) in &self.broker.retained {
            let matches = match policy {
                MatchPolicy::Prefix => topic.starts_with(pattern),
                MatchPolicy::Wildcard => super::patterns::wildcard_matches(pattern, topic),
                _ => topic == pattern,
            };
            if !matches || !retained.filter.admits(entry) {
                continue;
            }
            let mut details = retained.publisher.clone();
            details.insert("retained".into(), Value::Bool(true));
            if policy != MatchPolicy::Exact {
                details.insert("topic".into(), Value::from(topic.as_str()));
            }
            entry.outbox.send_event(Outgoing::Message(Message::Event {
                subscription,
                publication: retained.publication,
                details,
                payload: retained.payload.clone(),
            }));
        }
    }

    /// Publishes a meta event (no publisher, no filter).
    pub(crate) fn publish_meta(&self, topic: &str, args: Vec<Value>) {
        if self.broker.subscriptions.is_empty() {
            return;
        }
        let payload = Payload::new(args, Dict::new());
        self.deliver(
            topic,
            crate::ids::random_id(),
            &Dict::new(),
            &Filter::default(),
            payload,
        );
    }

    /// Publishes a leaving session's testament.
    pub(super) fn publish_testament(&mut self, testament: &Testament) {
        let filter = Filter::from_options(&testament.options, None);
        let payload = Payload::new(testament.args.clone(), testament.kwargs.clone());
        let publication = crate::ids::random_id();
        if testament.options.get("retain").and_then(Value::as_bool) == Some(true) {
            self.broker.retained.insert(
                testament.topic.clone(),
                Retained {
                    publication,
                    payload: payload.clone(),
                    publisher: Dict::new(),
                    filter: filter.clone(),
                },
            );
        }
        self.deliver(
            &testament.topic,
            publication,
            &Dict::new(),
            &filter,
            payload,
        );
    }

    pub(super) fn unsubscribe(&mut self, session: Id, request: Id, subscription: Id, meta: bool) {
        let subscribed = self
            .sessions
            .get(&session)
            .is_some_and(|entry| entry.subscriptions.contains(&subscription));
        if !subscribed {
            self.send(
                session,
                error(
                    code::UNSUBSCRIBE,
                    request,
                    "wamp.error.no_such_subscription",
                    "no such subscription of this session",
                ),
            );
            return;
        }
        self.remove_subscriber(session, subscription, meta);
        self.send(
            session,
            Message::Unsubscribed {
                request,
                details: None,
            },
        );
    }

    /// Takes `session` off a subscription, deleting the subscription once it has no subscriber.
    pub(super) fn remove_subscriber(&mut self, session: Id, subscription: Id, meta: bool) {
        if let Some(entry) = self.sessions.get_mut(&session) {
            entry.subscriptions.remove(&subscription);
        }
        let Some(sub) = self.broker.subscriptions.get_mut(&subscription) else {
            return;
        };
        sub.subscribers.remove(&session);
        let deleted = sub.subscribers.is_empty();
        if deleted {
            let (uri, policy) = (sub.uri.clone(), sub.policy);
            self.broker.subscriptions.remove(&subscription);
            self.broker.patterns.remove(&uri, policy);
        }
        if meta {
            self.publish_meta(
                "wamp.subscription.on_unsubscribe",
                vec![Value::from(session), Value::from(subscription)],
            );
            if deleted {
                self.publish_meta(
                    "wamp.subscription.on_delete",
                    vec![Value::from(session), Value::from(subscription)],
                );
            }
        }
    }

    /// A subscription revoked by the router: each subscriber is told and it is gone.
    pub(crate) fn revoke_subscription(
        &mut self,
        subscription: Id,
        reason: &str,
        meta: bool,
    ) -> bool {
        let Some(sub) = self.broker.subscriptions.get(&subscription) else {
            return false;
        };
        let subscribers: Vec<Id> = sub.subscribers.iter().copied().collect();
        for session in subscribers {
            let mut details = Dict::new();
            details.insert("subscription".into(), Value::from(subscription));
            details.insert("reason".into(), Value::from(reason));
            self.send(
                session,
                Message::Unsubscribed {
                    request: 0,
                    details: Some(details),
                },
            );
            self.remove_subscriber(session, subscription, meta);
        }
        true
    }

    /// Forgets a leaving session's subscriptions.
    pub(super) fn broker_forget(&mut self, entry: &SessionEntry, meta: bool) {
        for &subscription in &entry.subscriptions {
            self.remove_subscriber(entry.id, subscription, meta);
        }
    }
}

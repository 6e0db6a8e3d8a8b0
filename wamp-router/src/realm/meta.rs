//! The meta API's procedures: sessions, registrations and subscriptions of the realm, and
//! testaments. (Its events are published where things change, in the dealer and broker.)

use wampkit_client::uri::UriUse;
use wampkit_client::wire::{Id, Message, Payload, code};
use wampkit_client::{Dict, MatchPolicy, Value};

use super::broker::subscription_details;
use super::dealer::{match_policy, registration_details};
use super::patterns::Patterns;
use super::session::{Testament, TestamentScope};
use super::{Realm, State, error};

/// Testaments one session may leave: enough for any application, and a bound on what a
/// client can make the router keep.
const MAX_TESTAMENTS: usize = 256;

/// A meta procedure's answer: positional results, or an error URI and message.
type Answer = Result<Vec<Value>, (&'static str, String)>;

fn no_such(what: &'static str, uri: &'static str) -> (&'static str, String) {
    (uri, format!("no such {what}"))
}

fn id_arg(args: &[Value], what: &'static str) -> Result<Id, (&'static str, String)> {
    args.first().and_then(Value::as_u64).ok_or((
        "wamp.error.invalid_argument",
        format!("the first argument must be a {what} id"),
    ))
}

fn text_arg<'a>(args: &'a [Value], what: &'static str) -> Result<&'a str, (&'static str, String)> {
    args.first().and_then(Value::as_str).ok_or((
        "wamp.error.invalid_argument",
        format!("the first argument must be {what}"),
    ))
}

/// The ids of each match policy, as `wamp.registration.list` and `wamp.subscription.list` give
/// them.
fn lists(patterns: &Patterns) -> Value {
    let list = |policy| Value::List(patterns.ids(policy).into_iter().map(Value::from).collect());
    let mut dict = Dict::new();
    dict.insert("exact".into(), list(MatchPolicy::Exact));
    dict.insert("prefix".into(), list(MatchPolicy::Prefix));
    dict.insert("wildcard".into(), list(MatchPolicy::Wildcard));
    Value::Dict(dict)
}

/// The id holding exactly a pattern (`uri` and the `match` option of the second argument), as
/// `wamp.registration.lookup` and `wamp.subscription.lookup` give it.
fn lookup(patterns: &Patterns, args: &[Value], what: &'static str) -> Answer {
    let uri = text_arg(args, what)?;
    let policy = args
        .get(1)
        .and_then(Value::as_dict)
        .map_or(Some(MatchPolicy::Exact), match_policy)
        .ok_or((
            "wamp.error.invalid_argument",
            "unknown match policy".to_owned(),
        ))?;
    Ok(vec![optional_id(patterns.get(uri, policy))])
}

fn optional_id(id: Option<Id>) -> Value {
    id.map_or(Value::Null, Value::from)
}

impl Realm {
    /// Answers a CALL to a `wamp.` procedure.
    pub(super) fn meta_call(
        &self,
        state: &mut State,
        session: Id,
        request: Id,
        procedure: &str,
        payload: Payload,
        _options: &Dict,
    ) -> Message {
        let (args, kwargs) = payload.into_parts();
        let answer = self.meta_answer(state, session, procedure, &args, &kwargs);
        match answer {
            Ok(results) => Message::Result {
                request,
                details: Dict::new(),
                payload: Payload::new(results, Dict::new()),
            },
            Err((uri, message)) => error(code::CALL, request, uri, &message),
        }
    }

    fn meta_answer(
        &self,
        state: &mut State,
        session: Id,
        procedure: &str,
        args: &[Value],
        kwargs: &Dict,
    ) -> Answer {
        let meta = self.config.meta_api;
        let roles_filter = |args: &[Value]| -> Option<Vec<String>> {
            args.first().and_then(Value::as_list).map(|roles| {
                roles
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
        };
        let close_reason =
            |kwargs: &Dict| -> Result<(String, Option<String>), (&'static str, String)> {
                let reason = kwargs
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("wamp.close.killed");
                if self
                    .config
                    .uri_check
                    .check(reason, UriUse::Reference)
                    .is_err()
                {
                    return Err((
                        "wamp.error.invalid_uri",
                        format!("`{reason}` is no valid reason URI"),
                    ));
                }
                let message = kwargs
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Ok((reason.to_owned(), message))
            };
        match procedure {
            "wamp.session.count" | "wamp.session.list" => {
                let roles = roles_filter(args);
                let mut ids: Vec<Id> = state
                    .sessions
                    .values()
                    .filter(|s| {
                        roles
                            .as_ref()
                            .is_none_or(|r| r.contains(&s.identity.authrole))
                    })
                    .map(|s| s.id)
                    .collect();
                if procedure == "wamp.session.count" {
                    return Ok(vec![Value::from(ids.len() as u64)]);
                }
                ids.sort_unstable();
                Ok(vec![Value::List(
                    ids.into_iter().map(Value::from).collect(),
                )])
            }
            "wamp.session.get" => {
                let id = id_arg(args, "session")?;
                let entry = state
                    .sessions
                    .get(&id)
                    .ok_or_else(|| no_such("session", "wamp.error.no_such_session"))?;
                Ok(vec![Value::Dict(entry.details())])
            }
            "wamp.session.kill" => {
                let id = id_arg(args, "session")?;
                let (reason, message) = close_reason(kwargs)?;
                if id == session || !state.kill(id, &reason, message.as_deref(), meta) {
                    return Err(no_such("session", "wamp.error.no_such_session"));
                }
                Ok(Vec::new())
            }
            "wamp.session.kill_by_authid"
            | "wamp.session.kill_by_authrole"
            | "wamp.session.kill_all" => {
                let (reason, message) = close_reason(kwargs)?;
                let wanted = match procedure {
                    "wamp.session.kill_all" => None,
                    _ => Some(text_arg(args, "a string")?.to_owned()),
                };
                let mut victims: Vec<Id> = state
                    .sessions
                    .values()
                    .filter(|s| s.id != session)
                    .filter(|s| match (&wanted, procedure) {
                        (None, _) => true,
                        (Some(authid), "wamp.session.kill_by_authid") => {
                            &s.identity.authid == authid
                        }
                        (Some(authrole), _) => &s.identity.authrole == authrole,
                    })
                    .map(|s| s.id)
                    .collect();
                victims.sort_unstable();
                for &victim in &victims {
                    state.kill(victim, &reason, message.as_deref(), meta);
                }
                if procedure == "wamp.session.kill_by_authid" {
                    Ok(vec![Value::List(
                        victims.into_iter().map(Value::from).collect(),
                    )])
                } else {
                    Ok(vec![Value::from(victims.len() as u64)])
                }
            }
            "wamp.session.add_testament" => {
                let topic = text_arg(args, "a topic URI")?.to_owned();
                if self.config.uri_check.check(&topic, UriUse::Own).is_err() {
                    return Err((
                        "wamp.error.invalid_uri",
                        format!("`{topic}` is no valid topic"),
                    ));
                }
                let testament_args = args
                    .get(1)
                    .and_then(Value::as_list)
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default();
                let testament_kwargs = args
                    .get(2)
                    .and_then(Value::as_dict)
                    .cloned()
                    .unwrap_or_default();
                let scope = scope(kwargs)?;
                let options = kwargs
                    .get("publish_options")
                    .and_then(Value::as_dict)
                    .cloned()
                    .unwrap_or_default();
                if let Some(entry) = state.sessions.get_mut(&session) {
                    if entry.testaments.len() >= MAX_TESTAMENTS {
                        return Err((
                            "wamp.error.unavailable",
                            format!("a session may leave at most {MAX_TESTAMENTS} testaments"),
                        ));
                    }
                    entry.testaments.push(Testament {
                        scope,
                        topic,
                        args: testament_args,
                        kwargs: testament_kwargs,
                        options,
                    });
                }
                Ok(Vec::new())
            }
            "wamp.session.flush_testaments" => {
                let scope = scope(kwargs)?;
                let Some(entry) = state.sessions.get_mut(&session) else {
                    return Ok(vec![Value::from(0u64)]);
                };
                let before = entry.testaments.len();
                entry.testaments.retain(|t| t.scope != scope);
                Ok(vec![Value::from((before - entry.testaments.len()) as u64)])
            }
            "wamp.registration.list" => Ok(vec![lists(&state.dealer.patterns)]),
            "wamp.registration.lookup" => lookup(&state.dealer.patterns, args, "a procedure URI"),
            "wamp.registration.match" => {
                let uri = text_arg(args, "a procedure URI")?;
                Ok(vec![optional_id(state.dealer.patterns.best(uri))])
            }
            "wamp.registration.get"
            | "wamp.registration.list_callees"
            | "wamp.registration.count_callees" => {
                let id = id_arg(args, "registration")?;
                let registration =
                    state.dealer.registrations.get(&id).ok_or_else(|| {
                        no_such("registration", "wamp.error.no_such_registration")
                    })?;
                Ok(vec![match procedure {
                    "wamp.registration.get" => Value::Dict(registration_details(registration)),
                    "wamp.registration.list_callees" => Value::List(
                        registration
                            .callees
                            .iter()
                            .map(|c| Value::from(c.session))
                            .collect(),
                    ),
                    _ => Value::from(registration.callees.len() as u64),
                }])
            }
            "wamp.subscription.list" => Ok(vec![lists(&state.broker.patterns)]),
            "wamp.subscription.lookup" => lookup(&state.broker.patterns, args, "a topic URI"),
            "wamp.subscription.match" => {
                let uri = text_arg(args, "a topic URI")?;
                let mut ids = Vec::new();
                state.broker.patterns.all(uri, |id, _| ids.push(id));
                ids.sort_unstable();
                Ok(vec![if ids.is_empty() {
                    Value::Null
                } else {
                    Value::List(ids.into_iter().map(Value::from).collect())
                }])
            }
            "wamp.subscription.get"
            | "wamp.subscription.list_subscribers"
            | "wamp.subscription.count_subscribers" => {
                let id = id_arg(args, "subscription")?;
                let subscription =
                    state.broker.subscriptions.get(&id).ok_or_else(|| {
                        no_such("subscription", "wamp.error.no_such_subscription")
                    })?;
                Ok(vec![match procedure {
                    "wamp.subscription.get" => Value::Dict(subscription_details(subscription)),
                    "wamp.subscription.list_subscribers" => {
                        let mut ids: Vec<Id> = subscription.subscribers.iter().copied().collect();
                        ids.sort_unstable();
                        Value::List(ids.into_iter().map(Value::from).collect())
                    }
                    _ => Value::from(subscription.subscribers.len() as u64),
                }])
            }
            _ => Err((
                "wamp.error.no_such_procedure",
                format!("no meta procedure {procedure}"),
            )),
        }
    }
}

/// The `scope` of a testament: `destroyed` (the default) or `detached`.
fn scope(kwargs: &Dict) -> Result<TestamentScope, (&'static str, String)> {
    match kwargs.get("scope").map(Value::as_str) {
        None | Some(Some("destroyed")) => Ok(TestamentScope::Destroyed),
        Some(Some("detached")) => Ok(TestamentScope::Detached),
        Some(_) => Err((
            "wamp.error.invalid_argument",
            "scope must be `destroyed` or `detached`".to_owned(),
        )),
    }
}

//! What the meta procedures and meta events describe: sessions, registrations, subscriptions.

use super::{context, decode_dict};
use crate::error::{Error, Result};
use crate::payload::Event;
use crate::value::{Dict, Value};
use crate::wire::Id;

/// A session, as `wamp.session.get` describes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session id.
    pub session: Id,
    /// The authentication id.
    pub authid: Option<String>,
    /// The role.
    pub authrole: Option<String>,
    /// The authentication method, e.g. `anonymous` or `ticket`.
    pub authmethod: Option<String>,
    /// The authentication provider, e.g. `static`.
    pub authprovider: Option<String>,
    /// The transport details, if the router discloses them (Crossbar.io sends `null`).
    pub transport: Option<Value>,
    /// Everything the router sent, including keys not exposed above (Crossbar.io adds `realm`,
    /// `authextra`, `serializer`, `resumed`, ...).
    pub details: Dict,
}

/// A `wamp.session.on_join` meta event: a session joined the realm.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionJoin {
    /// The new session's id.
    pub session: Id,
    /// Its authentication id.
    pub authid: Option<String>,
    /// Its role.
    pub authrole: Option<String>,
    /// Its authentication method.
    pub authmethod: Option<String>,
    /// Its authentication provider.
    pub authprovider: Option<String>,
    /// Its transport details, if the router discloses them.
    pub transport: Option<Value>,
    /// The complete event dict, including keys not exposed above.
    pub details: Dict,
}

/// A `wamp.session.on_leave` meta event: a session left the realm (it said goodbye, was killed
/// or lost its connection).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionLeave {
    /// The id of the session that left.
    pub session: Id,
    /// Its authentication id, if the router sends it (the specification says it does;
    /// Crossbar.io sends only the session id).
    pub authid: Option<String>,
    /// Its role, if the router sends it (not Crossbar.io).
    pub authrole: Option<String>,
}

/// Registration or subscription ids by match policy, as `wamp.registration.list` and
/// `wamp.subscription.list` return them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MatchLists {
    /// Ids of exact-match registrations or subscriptions.
    pub exact: Vec<Id>,
    /// Ids of prefix-match registrations or subscriptions.
    pub prefix: Vec<Id>,
    /// Ids of wildcard registrations or subscriptions (Crossbar.io 26.10 always lists none
    /// for subscriptions).
    pub wildcard: Vec<Id>,
}

/// The registrations of the realm by match policy: the answer of `wamp.registration.list`.
pub type RegistrationList = MatchLists;

/// The subscriptions of the realm by match policy: the answer of `wamp.subscription.list`.
pub type SubscriptionList = MatchLists;

/// A registration, as `wamp.registration.get` describes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RegistrationInfo {
    /// The registration id.
    pub id: Id,
    /// When the registration was created (ISO 8601, UTC).
    pub created: String,
    /// The registered procedure URI (or pattern).
    pub uri: String,
    /// The match policy: `exact`, `prefix` or `wildcard`.
    pub match_policy: String,
    /// The invocation policy of shared registrations: `single`, `roundrobin`, `random`, `first`
    /// or `last`; `None` if the router did not say.
    pub invoke: Option<String>,
    /// Everything the router sent, including keys not exposed above.
    pub details: Dict,
}

/// A subscription, as `wamp.subscription.get` describes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SubscriptionInfo {
    /// The subscription id.
    pub id: Id,
    /// When the subscription was created (ISO 8601, UTC).
    pub created: String,
    /// The subscribed topic URI (or pattern).
    pub uri: String,
    /// The match policy: `exact`, `prefix` or `wildcard`.
    pub match_policy: String,
    /// Everything the router sent, including keys not exposed above.
    pub details: Dict,
}

impl TryFrom<&Event> for SessionJoin {
    type Error = Error;

    /// Decodes a `wamp.session.on_join` event: one dict argument.
    fn try_from(event: &Event) -> Result<Self> {
        let what = "wamp.session.on_join event";
        let details: Dict = event.arg(0).map_err(|e| context(what, e))?;
        let fields: SessionFields = decode_dict(what, &details)?;
        Ok(SessionJoin {
            session: fields.session,
            authid: fields.authid,
            authrole: fields.authrole,
            authmethod: fields.authmethod,
            authprovider: fields.authprovider,
            transport: transport(&details),
            details,
        })
    }
}

impl TryFrom<&Event> for SessionLeave {
    type Error = Error;

    /// Decodes a `wamp.session.on_leave` event: positional `(session, authid?, authrole?)`.
    fn try_from(event: &Event) -> Result<Self> {
        let what = "wamp.session.on_leave event";
        let text = |index: usize| -> Result<Option<String>> {
            if event.arg_count() > index {
                event.arg(index).map_err(|e| context(what, e))
            } else {
                Ok(None)
            }
        };
        Ok(SessionLeave {
            session: event.arg(0).map_err(|e| context(what, e))?,
            authid: text(1)?,
            authrole: text(2)?,
        })
    }
}

/// The fields of a session dict the typed structs expose.
#[derive(serde::Deserialize)]
pub(super) struct SessionFields {
    pub(super) session: Id,
    pub(super) authid: Option<String>,
    pub(super) authrole: Option<String>,
    pub(super) authmethod: Option<String>,
    pub(super) authprovider: Option<String>,
}

/// The fields of a registration or subscription dict the typed structs expose.
#[derive(serde::Deserialize)]
pub(super) struct ObservationFields {
    pub(super) id: Id,
    pub(super) created: String,
    pub(super) uri: String,
    #[serde(rename = "match")]
    pub(super) match_policy: String,
    pub(super) invoke: Option<String>,
}

/// The dict of `wamp.registration.list` and `wamp.subscription.list`; a missing policy is empty.
#[derive(serde::Deserialize)]
pub(super) struct ListFields {
    #[serde(default)]
    pub(super) exact: Vec<Id>,
    #[serde(default)]
    pub(super) prefix: Vec<Id>,
    #[serde(default)]
    pub(super) wildcard: Vec<Id>,
}

impl From<ListFields> for MatchLists {
    fn from(fields: ListFields) -> Self {
        MatchLists {
            exact: fields.exact,
            prefix: fields.prefix,
            wildcard: fields.wildcard,
        }
    }
}

pub(super) fn transport(details: &Dict) -> Option<Value> {
    details.get("transport").filter(|v| !v.is_null()).cloned()
}

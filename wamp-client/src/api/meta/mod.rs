//! Typed helpers for the router's meta API (`wamp.session.*`, `wamp.registration.*`,
//! `wamp.subscription.*`) and for testaments.
//!
//! [`Session::meta`] returns a [`Meta`] whose methods call the meta procedures through the
//! ordinary [`Session::call`] and decode their answers into typed results. A router answer of an
//! unexpected shape becomes [`Error::Payload`] naming the procedure, never a panic. Every method
//! first checks that the router announced the feature it needs in WELCOME
//! ([`Meta::supported`]); if not, it fails at once with `wamp.error.feature_not_supported`
//! without sending anything.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use wampkit::{Session, meta::TestamentOptions};
//!
//! # async fn demo() -> wampkit::Result<()> {
//! let session = Session::connect("ws://127.0.0.1:8080/ws", "realm1").await?;
//! let meta = session.meta();
//! assert!(meta.supported().session);
//!
//! // Who else is connected?
//! for id in meta.session_list(Some(&["backend"])).await? {
//!     let info = meta.session_get(id).await?;
//!     println!("{id}: {:?} as {:?}", info.authid, info.authrole);
//! }
//!
//! // Watch sessions join.
//! let mut joins = meta.on_join().await?;
//! if let Some(join) = joins.next().await {
//!     println!("joined: {}", join?.session);
//! }
//!
//! // Announce this session's departure, however it ends.
//! meta.add_testament("com.example.gone", (session.id(),), (), TestamentOptions::new())
//!     .await?;
//! # Ok(()) }
//! ```

use serde::de::DeserializeOwned;

use super::call::Call;
use crate::error::{Error, ErrorUri, Result, WampError};
use crate::options::MatchPolicy;
use crate::payload::CallResult;
use crate::session::{Session, SessionDetails};
use crate::value::{Dict, Value, ValueError, from_value};
use crate::wire::Id;

mod events;
mod records;
mod testament;

pub use events::MetaEvents;
pub use records::{
    MatchLists, RegistrationInfo, RegistrationList, SessionInfo, SessionJoin, SessionLeave,
    SubscriptionInfo, SubscriptionList,
};
pub use testament::{TestamentOptions, TestamentScope};

use records::{ListFields, ObservationFields, SessionFields, transport};

impl Session {
    /// The router's meta API for this session's realm: typed calls of the `wamp.session.*`,
    /// `wamp.registration.*` and `wamp.subscription.*` procedures, meta events and testaments.
    pub fn meta(&self) -> Meta<'_> {
        Meta { session: self }
    }
}

/// Typed access to the router's meta API. Created by [`Session::meta`].
///
/// Each method checks first that the router announced the needed feature (see
/// [`Meta::supported`]) and fails with `wamp.error.feature_not_supported` otherwise. The router's
/// permissions still apply: a role that may not call `wamp.session.kill` gets the router's
/// `wamp.error.not_authorized`.
#[derive(Debug, Clone, Copy)]
pub struct Meta<'a> {
    session: &'a Session,
}

/// Which meta API features the router announced in WELCOME.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MetaSupport {
    /// `session_meta_api` (announced on the broker and the dealer; either counts): the
    /// `wamp.session.*` procedures and the `on_join` / `on_leave` events.
    pub session: bool,
    /// `registration_meta_api` on the dealer: the `wamp.registration.*` procedures.
    pub registration: bool,
    /// `subscription_meta_api` on the broker: the `wamp.subscription.*` procedures.
    pub subscription: bool,
    /// `testament_meta_api` on the dealer: `wamp.session.add_testament` and
    /// `wamp.session.flush_testaments`.
    pub testament: bool,
}

/// A meta API feature a method needs.
#[derive(Debug, Clone, Copy)]
enum Feature {
    Session,
    Registration,
    Subscription,
    Testament,
}

impl Feature {
    fn name(self) -> &'static str {
        match self {
            Feature::Session => "session_meta_api",
            Feature::Registration => "registration_meta_api",
            Feature::Subscription => "subscription_meta_api",
            Feature::Testament => "testament_meta_api",
        }
    }

    fn roles(self) -> &'static [&'static str] {
        match self {
            Feature::Session => &["broker", "dealer"],
            Feature::Registration | Feature::Testament => &["dealer"],
            Feature::Subscription => &["broker"],
        }
    }

    fn announced(self, details: &SessionDetails) -> bool {
        self.roles()
            .iter()
            .any(|role| details.router_supports(role, self.name()))
    }
}

/// The close reason of killed sessions when the caller gives none: the specification's default,
/// sent explicitly because Crossbar.io's own default is `wamp.close.normal`.
const KILLED: ErrorUri = ErrorUri::Killed;

/// Prefixes a payload error with the procedure or event it came from.
fn context(what: &str, error: Error) -> Error {
    match error {
        Error::Payload(e) => Error::Payload(ValueError::new(format!(
            "unexpected answer from {what}: {e}"
        ))),
        other => other,
    }
}

fn decode_dict<T: DeserializeOwned>(what: &str, dict: &Dict) -> Result<T> {
    from_value(Value::Dict(dict.clone())).map_err(|e| context(what, Error::Payload(e)))
}

/// The first result, decoded.
fn single<T: DeserializeOwned>(what: &str, result: &CallResult) -> Result<T> {
    result.arg(0).map_err(|e| context(what, e))
}

/// The first result, `None` if it is missing or `null`.
fn optional<T: DeserializeOwned>(what: &str, result: &CallResult) -> Result<Option<T>> {
    if result.arg_count() == 0 {
        return Ok(None);
    }
    result.arg(0).map_err(|e| context(what, e))
}

/// A count, which some routers answer with the list of affected ids instead.
fn count_or_ids(what: &str, result: &CallResult) -> Result<u64> {
    match result.arg::<Value>(0) {
        Ok(Value::List(ids)) => Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX)),
        _ => single(what, result),
    }
}

impl<'a> Meta<'a> {
    /// Which meta API features the router announced in WELCOME. Methods needing a feature the
    /// router did not announce fail with `wamp.error.feature_not_supported`.
    pub fn supported(&self) -> MetaSupport {
        let details = self.session.details();
        MetaSupport {
            session: Feature::Session.announced(&details),
            registration: Feature::Registration.announced(&details),
            subscription: Feature::Subscription.announced(&details),
            testament: Feature::Testament.announced(&details),
        }
    }

    fn require(&self, feature: Feature, uri: &str) -> Result<()> {
        if feature.announced(&self.session.details()) {
            return Ok(());
        }
        Err(Error::Wamp(WampError::with_message(
            ErrorUri::FeatureNotSupported,
            format!(
                "the router did not announce the feature `{}` (on the {} role), so it does not \
                 offer `{uri}`",
                feature.name(),
                feature.roles().join(" or ")
            ),
        )))
    }

    /// Starts a call of `procedure` after checking `feature`.
    fn call(
        &self,
        feature: Feature,
        procedure: &str,
        args: impl crate::payload::PositionalArgs,
    ) -> Result<Call<'a>> {
        self.require(feature, procedure)?;
        Ok(self.session.call(procedure, args))
    }

    /// A call of a kill procedure with the `reason` (default [`KILLED`]) and optional `message`
    /// keyword arguments.
    async fn kill(
        &self,
        procedure: &str,
        args: impl crate::payload::PositionalArgs,
        reason: Option<&str>,
        message: Option<&str>,
    ) -> Result<CallResult> {
        let mut call = self
            .call(Feature::Session, procedure, args)?
            .kwarg("reason", reason.unwrap_or(KILLED.as_str()));
        if let Some(message) = message {
            call = call.kwarg("message", message);
        }
        call.await
    }

    // ----- sessions -----

    /// The number of sessions joined to the realm (`wamp.session.count`), counting only those
    /// with one of `filter_authroles` if given. The router's own internal sessions are not
    /// counted.
    pub async fn session_count(&self, filter_authroles: Option<&[&str]>) -> Result<u64> {
        const URI: &str = "wamp.session.count";
        let result = match filter_authroles {
            Some(roles) => self.call(Feature::Session, URI, (roles,))?.await?,
            None => self.call(Feature::Session, URI, ())?.await?,
        };
        single(URI, &result)
    }

    /// The ids of the sessions joined to the realm (`wamp.session.list`), only those with one
    /// of `filter_authroles` if given.
    pub async fn session_list(&self, filter_authroles: Option<&[&str]>) -> Result<Vec<Id>> {
        const URI: &str = "wamp.session.list";
        let result = match filter_authroles {
            Some(roles) => self.call(Feature::Session, URI, (roles,))?.await?,
            None => self.call(Feature::Session, URI, ())?.await?,
        };
        single(URI, &result)
    }

    /// Describes a session (`wamp.session.get`). An unknown id fails with
    /// `wamp.error.no_such_session`.
    pub async fn session_get(&self, session: Id) -> Result<SessionInfo> {
        const URI: &str = "wamp.session.get";
        let result = self.call(Feature::Session, URI, (session,))?.await?;
        let details: Dict = single(URI, &result)?;
        let fields: SessionFields = decode_dict(URI, &details)?;
        Ok(SessionInfo {
            session: fields.session,
            authid: fields.authid,
            authrole: fields.authrole,
            authmethod: fields.authmethod,
            authprovider: fields.authprovider,
            transport: transport(&details),
            details,
        })
    }

    /// Ends another session of the realm (`wamp.session.kill`). It is closed with `reason`
    /// (default `wamp.close.killed`, sent explicitly: Crossbar.io's own default is
    /// `wamp.close.normal`) and `message`. An unknown id fails with
    /// `wamp.error.no_such_session`, and so does this session's own id, without asking the
    /// router: the specification forbids killing oneself (Crossbar.io would do it). Use
    /// [`Session::leave_with`] instead.
    pub async fn kill_session(
        &self,
        session: Id,
        reason: Option<&str>,
        message: Option<&str>,
    ) -> Result<()> {
        const URI: &str = "wamp.session.kill";
        self.require(Feature::Session, URI)?;
        if session == self.session.id() {
            return Err(Error::Wamp(WampError::with_message(
                ErrorUri::NoSuchSession,
                "a session cannot kill itself; use Session::leave_with",
            )));
        }
        self.kill(URI, (session,), reason, message).await?;
        Ok(())
    }

    /// Ends every session with `authid` (`wamp.session.kill_by_authid`), closing them with
    /// `reason` (default `wamp.close.killed`) and `message`, and returns their ids.
    /// Whether this session is spared when it has that authid is up to the router (the
    /// specification says it is; Crossbar.io 26.10 kills it too).
    pub async fn kill_by_authid(
        &self,
        authid: &str,
        reason: Option<&str>,
        message: Option<&str>,
    ) -> Result<Vec<Id>> {
        const URI: &str = "wamp.session.kill_by_authid";
        let result = self.kill(URI, (authid,), reason, message).await?;
        single(URI, &result)
    }

    /// Ends every session with `authrole` (`wamp.session.kill_by_authrole`), closing them with
    /// `reason` (default `wamp.close.killed`) and `message`, and returns how many. Whether this session is spared when it has that role is up to the router
    /// (Crossbar.io 26.10 kills it too; it answers with the list of ids, which is counted).
    pub async fn kill_by_authrole(
        &self,
        authrole: &str,
        reason: Option<&str>,
        message: Option<&str>,
    ) -> Result<u64> {
        const URI: &str = "wamp.session.kill_by_authrole";
        let result = self.kill(URI, (authrole,), reason, message).await?;
        count_or_ids(URI, &result)
    }

    /// Ends every other session of the realm (`wamp.session.kill_all`), closing them with
    /// `reason` (default `wamp.close.killed`) and `message`, and returns how many.
    /// Crossbar.io 26.10 does not implement this procedure: it answers
    /// `wamp.error.no_such_procedure`.
    pub async fn kill_all(&self, reason: Option<&str>, message: Option<&str>) -> Result<u64> {
        const URI: &str = "wamp.session.kill_all";
        let result = self.kill(URI, (), reason, message).await?;
        count_or_ids(URI, &result)
    }

    // ----- session events -----

    /// Subscribes to `wamp.session.on_join`: one [`SessionJoin`] per session joining the realm.
    pub async fn on_join(&self) -> Result<MetaEvents<SessionJoin>> {
        const URI: &str = "wamp.session.on_join";
        self.require(Feature::Session, URI)?;
        Ok(MetaEvents::new(self.session.subscribe(URI).await?))
    }

    /// Subscribes to `wamp.session.on_leave`: one [`SessionLeave`] per session leaving the realm.
    pub async fn on_leave(&self) -> Result<MetaEvents<SessionLeave>> {
        const URI: &str = "wamp.session.on_leave";
        self.require(Feature::Session, URI)?;
        Ok(MetaEvents::new(self.session.subscribe(URI).await?))
    }

    // ----- registrations -----

    /// The ids of the realm's registrations by match policy (`wamp.registration.list`).
    pub async fn registration_list(&self) -> Result<RegistrationList> {
        const URI: &str = "wamp.registration.list";
        let result = self.call(Feature::Registration, URI, ())?.await?;
        Ok(single::<ListFields>(URI, &result)?.into())
    }

    /// The registration that a REGISTER of `procedure` with `match_policy` (default exact)
    /// would join (`wamp.registration.lookup`), if any.
    pub async fn registration_lookup(
        &self,
        procedure: &str,
        match_policy: Option<MatchPolicy>,
    ) -> Result<Option<Id>> {
        const URI: &str = "wamp.registration.lookup";
        let result = match match_policy {
            Some(policy) => {
                let mut options = Dict::new();
                options.insert("match".into(), Value::from(policy.as_str()));
                self.call(Feature::Registration, URI, (procedure, options))?
                    .await?
            }
            None => self.call(Feature::Registration, URI, (procedure,))?.await?,
        };
        optional(URI, &result)
    }

    /// The registration a call of `procedure` would be routed to (`wamp.registration.match`),
    /// if any.
    pub async fn registration_match(&self, procedure: &str) -> Result<Option<Id>> {
        const URI: &str = "wamp.registration.match";
        let result = self.call(Feature::Registration, URI, (procedure,))?.await?;
        optional(URI, &result)
    }

    /// Describes a registration (`wamp.registration.get`). An unknown id fails with
    /// `wamp.error.no_such_registration`.
    pub async fn registration_get(&self, registration: Id) -> Result<RegistrationInfo> {
        const URI: &str = "wamp.registration.get";
        let result = self
            .call(Feature::Registration, URI, (registration,))?
            .await?;
        let details: Dict = single(URI, &result)?;
        let fields: ObservationFields = decode_dict(URI, &details)?;
        Ok(RegistrationInfo {
            id: fields.id,
            created: fields.created,
            uri: fields.uri,
            match_policy: fields.match_policy,
            invoke: fields.invoke,
            details,
        })
    }

    /// The session ids of the callees of a registration (`wamp.registration.list_callees`).
    pub async fn registration_callees(&self, registration: Id) -> Result<Vec<Id>> {
        const URI: &str = "wamp.registration.list_callees";
        let result = self
            .call(Feature::Registration, URI, (registration,))?
            .await?;
        single(URI, &result)
    }

    /// The number of callees of a registration (`wamp.registration.count_callees`).
    pub async fn registration_callee_count(&self, registration: Id) -> Result<u64> {
        const URI: &str = "wamp.registration.count_callees";
        let result = self
            .call(Feature::Registration, URI, (registration,))?
            .await?;
        single(URI, &result)
    }

    // ----- subscriptions -----

    /// The ids of the realm's subscriptions by match policy (`wamp.subscription.list`).
    pub async fn subscription_list(&self) -> Result<SubscriptionList> {
        const URI: &str = "wamp.subscription.list";
        let result = self.call(Feature::Subscription, URI, ())?.await?;
        Ok(single::<ListFields>(URI, &result)?.into())
    }

    /// The subscription that a SUBSCRIBE to `topic` with `match_policy` (default exact) would
    /// join (`wamp.subscription.lookup`), if any.
    pub async fn subscription_lookup(
        &self,
        topic: &str,
        match_policy: Option<MatchPolicy>,
    ) -> Result<Option<Id>> {
        const URI: &str = "wamp.subscription.lookup";
        let result = match match_policy {
            Some(policy) => {
                let mut options = Dict::new();
                options.insert("match".into(), Value::from(policy.as_str()));
                self.call(Feature::Subscription, URI, (topic, options))?
                    .await?
            }
            None => self.call(Feature::Subscription, URI, (topic,))?.await?,
        };
        optional(URI, &result)
    }

    /// Every subscription a publication to `topic` would be delivered on
    /// (`wamp.subscription.match`); empty if none (the router answers `null`).
    pub async fn subscription_match(&self, topic: &str) -> Result<Vec<Id>> {
        const URI: &str = "wamp.subscription.match";
        let result = self.call(Feature::Subscription, URI, (topic,))?.await?;
        Ok(optional(URI, &result)?.unwrap_or_default())
    }

    /// Describes a subscription (`wamp.subscription.get`). An unknown id fails with
    /// `wamp.error.no_such_subscription`.
    pub async fn subscription_get(&self, subscription: Id) -> Result<SubscriptionInfo> {
        const URI: &str = "wamp.subscription.get";
        let result = self
            .call(Feature::Subscription, URI, (subscription,))?
            .await?;
        let details: Dict = single(URI, &result)?;
        let fields: ObservationFields = decode_dict(URI, &details)?;
        Ok(SubscriptionInfo {
            id: fields.id,
            created: fields.created,
            uri: fields.uri,
            match_policy: fields.match_policy,
            details,
        })
    }

    /// The session ids of the subscribers of a subscription
    /// (`wamp.subscription.list_subscribers`).
    pub async fn subscription_subscribers(&self, subscription: Id) -> Result<Vec<Id>> {
        const URI: &str = "wamp.subscription.list_subscribers";
        let result = self
            .call(Feature::Subscription, URI, (subscription,))?
            .await?;
        single(URI, &result)
    }

    /// The number of subscribers of a subscription (`wamp.subscription.count_subscribers`).
    pub async fn subscription_subscriber_count(&self, subscription: Id) -> Result<u64> {
        const URI: &str = "wamp.subscription.count_subscribers";
        let result = self
            .call(Feature::Subscription, URI, (subscription,))?
            .await?;
        single(URI, &result)
    }
}

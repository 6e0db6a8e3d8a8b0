//! The HELLO and WELCOME exchange: what this client announces, and what the router told it.

use crate::value::{Dict, Value};
use crate::wire::Id;

/// The session's identity and the router's capabilities, from the WELCOME message.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDetails {
    /// The session id the router assigned.
    pub session: Id,
    /// The realm joined.
    pub realm: String,
    /// The authentication id the router assigned (for anonymous sessions, a random one).
    pub authid: Option<String>,
    /// The role the router assigned.
    pub authrole: Option<String>,
    /// The authentication method used, e.g. `anonymous` or `ticket`.
    pub authmethod: Option<String>,
    /// The authentication provider, e.g. `static`.
    pub authprovider: Option<String>,
    /// The router's software, e.g. `crossbar-26.10.1`.
    pub router_agent: Option<String>,
    /// The complete WELCOME `Details` dict, for anything not exposed above.
    pub details: Dict,
}

impl SessionDetails {
    pub(crate) fn from_welcome(session: Id, realm: &str, details: Dict) -> Self {
        let text = |key: &str| details.get(key).and_then(Value::as_str).map(str::to_owned);
        SessionDetails {
            session,
            realm: text("realm").unwrap_or_else(|| realm.to_owned()),
            authid: text("authid"),
            authrole: text("authrole"),
            authmethod: text("authmethod"),
            authprovider: text("authprovider"),
            router_agent: text("agent"),
            details,
        }
    }

    /// The `authextra` dict the router sent, if any.
    pub fn authextra(&self) -> Option<&Dict> {
        self.details.get("authextra").and_then(Value::as_dict)
    }

    /// Whether the router is Crossbar.io, recognised by the `x_cb_*` keys it adds to WELCOME.
    pub fn router_is_crossbar(&self) -> bool {
        self.details.keys().any(|k| k.starts_with("x_cb_"))
            || self
                .authextra()
                .is_some_and(|extra| extra.keys().any(|k| k.starts_with("x_cb_")))
            || self
                .router_agent
                .as_deref()
                .is_some_and(|agent| agent.to_ascii_lowercase().contains("crossbar"))
    }

    /// Whether the router announced `role` (`broker` or `dealer`).
    pub fn router_has_role(&self, role: &str) -> bool {
        self.details
            .get("roles")
            .and_then(|roles| roles.get(role))
            .is_some()
    }

    /// Whether the router announced `feature` for `role`, e.g. `("dealer", "call_canceling")`.
    pub fn router_supports(&self, role: &str, feature: &str) -> bool {
        self.details
            .get("roles")
            .and_then(|roles| roles.get(role))
            .and_then(|r| r.get("features"))
            .and_then(|f| f.get(feature))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// The roles and features this client announces in HELLO: only what it implements. The payload
/// passthru mode is announced (under both its names) only by a session with a payload codec.
pub(crate) fn client_roles(payload_passthru: bool) -> Dict {
    let role = |features: &[&str]| -> Value {
        let passthru: &[&str] = if payload_passthru {
            &crate::e2ee::ANNOUNCED_AS
        } else {
            &[]
        };
        let features: Dict = features
            .iter()
            .chain(passthru)
            .map(|f| ((*f).to_owned(), Value::Bool(true)))
            .collect();
        let mut role = Dict::new();
        role.insert("features".to_owned(), Value::Dict(features));
        Value::Dict(role)
    };
    let mut roles = Dict::new();
    roles.insert(
        "caller".into(),
        role(&[
            "call_canceling",
            "call_timeout",
            "caller_identification",
            "progressive_call_results",
            "progressive_call_invocations",
        ]),
    );
    roles.insert(
        "callee".into(),
        role(&[
            "call_canceling",
            "caller_identification",
            "pattern_based_registration",
            "progressive_call_results",
            "progressive_call_invocations",
            "registration_revocation",
            "shared_registration",
        ]),
    );
    roles.insert(
        "publisher".into(),
        role(&[
            "publisher_exclusion",
            "publisher_identification",
            "subscriber_blackwhite_listing",
        ]),
    );
    roles.insert(
        "subscriber".into(),
        role(&[
            "pattern_based_subscription",
            "publisher_identification",
            "subscription_revocation",
        ]),
    );
    roles
}

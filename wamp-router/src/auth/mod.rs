//! Authentication of joining sessions: which methods a realm offers, the credentials it checks
//! them against, and the exchange of CHALLENGE and AUTHENTICATE.

use wamp_client::Dict;

/// Who a session is, once authenticated: what WELCOME announces and what authorization and the
/// meta API see.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The authenticated id (for anonymous sessions, a random one unless the client named one).
    pub authid: String,
    /// The role, which decides the session's permissions.
    pub authrole: String,
    /// The method that authenticated the session: `anonymous`, `ticket`, `wampcra`, `cryptosign`
    /// or `wamp-scram`.
    pub authmethod: String,
    /// Where the credentials came from: `static` or a credential store's name.
    pub authprovider: String,
    /// Extra information for WELCOME's `authextra`.
    pub authextra: Dict,
}

/// How a realm authenticates joining sessions. The default accepts anonymous sessions only, with
/// the role `anonymous`.
#[derive(Debug, Clone)]
pub struct Authentication {
    anonymous_role: Option<String>,
}

impl Default for Authentication {
    fn default() -> Self {
        Authentication {
            anonymous_role: Some("anonymous".into()),
        }
    }
}

impl Authentication {
    /// Anonymous sessions only, with the role `anonymous`.
    pub fn anonymous() -> Self {
        Self::default()
    }
}

/// Why a session was refused: the ABORT's reason URI and message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Denied {
    pub(crate) reason: String,
    pub(crate) message: String,
}

/// What to answer a HELLO with.
#[derive(Debug)]
pub(crate) enum Step {
    /// WELCOME at once.
    Welcome(Identity),
    /// CHALLENGE, then wait for AUTHENTICATE and give it to `pending`.
    Challenge {
        method: String,
        extra: Dict,
        pending: Pending,
    },
    /// ABORT.
    Deny(Denied),
}

/// An authentication waiting for the client's AUTHENTICATE.
#[derive(Debug)]
pub(crate) struct Pending {}

impl Authentication {
    /// The answer to a HELLO for `realm` with `details`.
    pub(crate) async fn hello(&self, _realm: &str, details: &Dict) -> Step {
        let methods = details.get("authmethods");
        let offered_anonymous = match methods {
            None => true,
            Some(wamp_client::Value::List(list)) => {
                list.is_empty() || list.iter().any(|m| m.as_str() == Some("anonymous"))
            }
            Some(_) => false,
        };
        match &self.anonymous_role {
            Some(role) if offered_anonymous => {
                let authid = details
                    .get("authid")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(crate::ids::anonymous_authid);
                Step::Welcome(Identity {
                    authid,
                    authrole: role.clone(),
                    authmethod: "anonymous".into(),
                    authprovider: "static".into(),
                    authextra: Dict::new(),
                })
            }
            _ => Step::Deny(Denied {
                reason: "wamp.error.no_auth_method".into(),
                message: "none of the offered authentication methods is accepted on this realm"
                    .into(),
            }),
        }
    }
}

impl Pending {
    /// Checks the client's AUTHENTICATE.
    pub(crate) async fn authenticate(
        self,
        _signature: &str,
        _extra: &Dict,
    ) -> Result<Identity, Denied> {
        Err(Denied {
            reason: "wamp.error.not_authorized".into(),
            message: "authentication failed".into(),
        })
    }
}

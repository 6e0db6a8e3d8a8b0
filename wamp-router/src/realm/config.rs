//! A realm's settings: authentication, authorization, disclosure and URI rules.

use std::fmt;
use std::sync::Arc;

use wampkit_client::session::UriCheck;

use crate::auth::Authentication;
use crate::authorize::{Action, Authorizer, Requester, Role};

/// One realm of a router and its settings.
///
/// ```
/// use wampkit_router::{Authentication, RealmConfig};
///
/// let realm = RealmConfig::new("realm1")
///     .authentication(Authentication::anonymous())
///     .disclose_callers()
///     .disclose_publishers();
/// # let _ = realm;
/// ```
#[derive(Clone)]
pub struct RealmConfig {
    pub(crate) name: String,
    pub(crate) authentication: Authentication,
    pub(crate) roles: Vec<Role>,
    pub(crate) authorizer: Option<Arc<dyn Authorizer>>,
    pub(crate) disclose_callers: bool,
    pub(crate) disclose_publishers: bool,
    pub(crate) uri_check: UriCheck,
    pub(crate) meta_api: bool,
}

impl fmt::Debug for RealmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RealmConfig")
            .field("name", &self.name)
            .field("authentication", &self.authentication)
            .field("roles", &self.roles)
            .field("authorizer", &self.authorizer.as_ref().map(|_| "…"))
            .field("disclose_callers", &self.disclose_callers)
            .field("disclose_publishers", &self.disclose_publishers)
            .field("uri_check", &self.uri_check)
            .field("meta_api", &self.meta_api)
            .finish()
    }
}

impl RealmConfig {
    /// A realm named `name` that admits anonymous sessions and lets every session do everything.
    pub fn new(name: impl Into<String>) -> Self {
        RealmConfig {
            name: name.into(),
            authentication: Authentication::default(),
            roles: Vec::new(),
            authorizer: None,
            disclose_callers: false,
            disclose_publishers: false,
            uri_check: UriCheck::Loose,
            meta_api: true,
        }
    }

    /// The realm's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How joining sessions authenticate (anonymous by default).
    pub fn authentication(mut self, authentication: Authentication) -> Self {
        self.authentication = authentication;
        self
    }

    /// Adds a role's permissions. Once any role is added, sessions whose role is not listed may
    /// do nothing.
    pub fn role(mut self, role: Role) -> Self {
        self.roles.retain(|r| r.name != role.name);
        self.roles.push(role);
        self
    }

    /// Decides every action with `authorizer` instead of the roles.
    pub fn authorizer(mut self, authorizer: impl Authorizer) -> Self {
        self.authorizer = Some(Arc::new(authorizer));
        self
    }

    /// Discloses every caller to its callee, whether or not the caller asked (`disclose_me`)
    /// or the registration did (`disclose_caller`), as Crossbar.io's role setting does.
    pub fn disclose_callers(mut self) -> Self {
        self.disclose_callers = true;
        self
    }

    /// Discloses every publisher to its subscribers, whether or not the publisher asked.
    pub fn disclose_publishers(mut self) -> Self {
        self.disclose_publishers = true;
        self
    }

    /// How strictly URIs are checked ([`UriCheck::Loose`] by default).
    pub fn uri_check(mut self, check: UriCheck) -> Self {
        self.uri_check = check;
        self
    }

    /// Turns the meta API off: no `wamp.session.*`, `wamp.registration.*` or
    /// `wamp.subscription.*` procedures or events, and WELCOME does not announce them.
    pub fn no_meta_api(mut self) -> Self {
        self.meta_api = false;
        self
    }

    /// Whether the session may do `action` on `uri`.
    pub(crate) fn permits(&self, requester: Requester<'_>, action: Action, uri: &str) -> bool {
        if let Some(authorizer) = &self.authorizer {
            return authorizer.authorize(requester, action, uri);
        }
        if self.roles.is_empty() {
            return true;
        }
        self.roles
            .iter()
            .find(|role| role.name == requester.identity.authrole)
            .is_some_and(|role| role.permits(action, uri))
    }
}

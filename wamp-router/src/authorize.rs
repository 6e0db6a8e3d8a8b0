//! Authorization: what each role may call, register, publish and subscribe to.
//!
//! A realm with no roles configured lets every session do everything. Once a role is
//! configured, sessions with an unlisted role may do nothing, and a listed role may do what one
//! of its rules allows: a URI prefix (`""` for every URI) and the actions it permits. An
//! [`Authorizer`] decides instead, when one is set.
//!
//! ```
//! use wampkit_router::{Action, RealmConfig, Role};
//!
//! let realm = RealmConfig::new("realm1")
//!     .role(Role::new("backend").allow("", Action::ALL))
//!     .role(Role::new("frontend").allow("com.example.public.", [Action::Call, Action::Subscribe]));
//! # let _ = realm;
//! ```

use std::fmt;

use crate::auth::Identity;

/// What a session asks to do with a URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// CALL a procedure.
    Call,
    /// REGISTER a procedure (or pattern).
    Register,
    /// PUBLISH to a topic.
    Publish,
    /// SUBSCRIBE to a topic (or pattern).
    Subscribe,
}

impl Action {
    /// All four actions.
    pub const ALL: [Action; 4] = [
        Action::Call,
        Action::Register,
        Action::Publish,
        Action::Subscribe,
    ];

    /// The action's name in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Call => "call",
            Action::Register => "register",
            Action::Publish => "publish",
            Action::Subscribe => "subscribe",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role's permissions: URI prefixes and the actions allowed under each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub(crate) name: String,
    rules: Vec<(String, Vec<Action>)>,
}

impl Role {
    /// A role that may do nothing until [`allow`](Self::allow)ed.
    pub fn new(name: impl Into<String>) -> Self {
        Role {
            name: name.into(),
            rules: Vec::new(),
        }
    }

    /// Allows `actions` on every URI that starts with `prefix` (`""` for all of them).
    pub fn allow(
        mut self,
        prefix: impl Into<String>,
        actions: impl IntoIterator<Item = Action>,
    ) -> Self {
        self.rules
            .push((prefix.into(), actions.into_iter().collect()));
        self
    }

    /// The role's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a rule allows `action` on `uri`.
    pub fn permits(&self, action: Action, uri: &str) -> bool {
        self.rules
            .iter()
            .any(|(prefix, actions)| uri.starts_with(prefix.as_str()) && actions.contains(&action))
    }
}

/// The session asking, for an [`Authorizer`].
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// The session id.
    pub session: wampkit_client::Id,
    /// The realm.
    pub realm: &'a str,
    /// Who the session is.
    pub identity: &'a Identity,
}

/// Decides every action itself, in place of the realm's roles. It runs on the router's
/// message path: it must answer at once (no I/O; precompute what it needs).
pub trait Authorizer: Send + Sync + 'static {
    /// Whether `requester` may do `action` on `uri`.
    fn authorize(&self, requester: Requester<'_>, action: Action, uri: &str) -> bool;
}

impl<F> Authorizer for F
where
    F: Fn(Requester<'_>, Action, &str) -> bool + Send + Sync + 'static,
{
    fn authorize(&self, requester: Requester<'_>, action: Action, uri: &str) -> bool {
        self(requester, action, uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_actions() {
        let role =
            Role::new("frontend").allow("com.example.public.", [Action::Call, Action::Subscribe]);
        assert!(role.permits(Action::Call, "com.example.public.add"));
        assert!(role.permits(Action::Subscribe, "com.example.public.news"));
        assert!(!role.permits(Action::Register, "com.example.public.add"));
        assert!(!role.permits(Action::Call, "com.example.private.add"));
        let all = Role::new("backend").allow("", Action::ALL);
        assert!(Action::ALL.iter().all(|&a| all.permits(a, "any.uri")));
        assert!(!Role::new("none").permits(Action::Call, "x"));
    }
}

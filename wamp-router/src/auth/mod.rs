//! Authentication of joining sessions: which methods a realm offers, the credentials it checks
//! them against, and the exchange of CHALLENGE and AUTHENTICATE.
//!
//! The method is the first of the client's HELLO `authmethods` (its order of preference) that
//! the realm offers; none → ABORT `wamp.error.no_auth_method`. A wrong secret, an unknown authid
//! or a malformed AUTHENTICATE → ABORT `wamp.error.not_authorized`, with the same message: an
//! unknown authid gets a challenge of the same shape as a known one, so the answer does not tell
//! which authids exist. The cryptography is `wampkit_client::auth::primitives`, the code the client
//! answers with.

mod cryptosign;
mod scram;
mod store;
mod ticket;
mod wampcra;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use tokio::sync::Semaphore;
use wampkit_client::auth::CryptoSign;
use wampkit_client::{Dict, Value};

pub use store::{
    AuthConfigError, AuthMethod, Credential, CredentialStore, ScramKdfParams, StoreFuture,
};

use store::StaticStore;

/// Who a session is, once authenticated: what WELCOME announces and what authorization and the
/// meta API see.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The authenticated id (for anonymous sessions, a random one unless the client named one).
    pub authid: String,
    /// The role, which decides the session's permissions.
    pub authrole: String,
    /// The method that authenticated the session: `anonymous`, `ticket`, `wampcra`, `cryptosign`,
    /// `scram` or `wamp-scram` (the name the client offered).
    pub authmethod: String,
    /// Where the credentials came from: `static` or a credential store's
    /// [`name`](CredentialStore::name).
    pub authprovider: String,
    /// Extra information for WELCOME's `authextra`: the credential's, plus the SCRAM server
    /// signature.
    pub authextra: Dict,
}

/// How a realm authenticates joining sessions: the methods it offers and the principals it
/// knows. The default accepts anonymous sessions only, with the role `anonymous`;
/// [`new`](Authentication::new) accepts nobody until methods are added.
///
/// ```
/// use wampkit_router::{Authentication, Credential, RealmConfig, ScramKdfParams};
///
/// let auth = Authentication::new()
///     .ticket("alice", "alice-ticket", "user")
///     .wampcra("bob", "bob-secret", "user")
///     .wampcra_salted("carol", "carol-secret", "salt123", 1000, 32, "user")?
///     .cryptosign(
///         "dave",
///         "53d9e731fcf81e7b480a0c4f281fea226a6c58b8118d4c08975a90273c77ef3b",
///         "user",
///     )?
///     .scram_with("erin", "erin-password", "user", ScramKdfParams::Pbkdf2 { iterations: 100_000 })?
///     .anonymous_role("guest");
/// let realm = RealmConfig::new("realm1").authentication(auth);
/// # let _ = realm;
/// # Ok::<(), wampkit_router::AuthConfigError>(())
/// ```
///
/// Secrets are kept as configured (tickets, WAMP-CRA secrets) or as derived keys only (SCRAM);
/// `Debug` shows none of them.
#[derive(Clone)]
pub struct Authentication {
    anonymous_role: Option<String>,
    principals: StaticStore,
    stores: Vec<Arc<dyn CredentialStore>>,
    router_key: Option<CryptoSign>,
    /// Bounds the salted WAMP-CRA key derivations running at once, so that a flood of HELLOs
    /// cannot occupy every blocking thread.
    derivations: Arc<Semaphore>,
    /// Keys the made-up SCRAM salts of unknown authids, so that they stay the same across
    /// attempts like a real principal's.
    decoy_key: [u8; 32],
}

/// Salted WAMP-CRA key derivations allowed to run at once per realm.
const CONCURRENT_DERIVATIONS: usize = 2;

impl Default for Authentication {
    fn default() -> Self {
        Self::new().anonymous_role("anonymous")
    }
}

impl fmt::Debug for Authentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authentication")
            .field("anonymous_role", &self.anonymous_role)
            .field("static_principals", &self.principals.len())
            .field(
                "stores",
                &self.stores.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field(
                "router_key",
                &self.router_key.as_ref().map(CryptoSign::public_key_hex),
            )
            .finish_non_exhaustive()
    }
}

impl Authentication {
    /// No method at all: every HELLO is refused until methods are added.
    pub fn new() -> Self {
        let mut decoy_key = [0u8; 32];
        // Without the system's generator the decoys are merely predictable, which reveals
        // nothing about real principals.
        let _ = getrandom::fill(&mut decoy_key);
        Authentication {
            anonymous_role: None,
            principals: StaticStore::default(),
            stores: Vec::new(),
            router_key: None,
            derivations: Arc::new(Semaphore::new(CONCURRENT_DERIVATIONS)),
            decoy_key,
        }
    }

    /// Anonymous sessions only, with the role `anonymous`.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Accepts anonymous sessions (HELLO without `authmethods`, or offering `anonymous`) with
    /// this role.
    pub fn anonymous_role(mut self, role: impl Into<String>) -> Self {
        self.anonymous_role = Some(role.into());
        self
    }

    /// Refuses anonymous sessions.
    pub fn no_anonymous(mut self) -> Self {
        self.anonymous_role = None;
        self
    }

    /// Adds `authid` with a ticket (`ticket` method). The ticket travels in clear text: offer
    /// it over TLS or on the local machine only.
    pub fn ticket(
        mut self,
        authid: impl Into<String>,
        ticket: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        self.principals
            .insert(authid.into(), Credential::ticket(ticket, role));
        self
    }

    /// Adds `authid` with a WAMP-CRA secret (`wampcra`, plain).
    pub fn wampcra(
        mut self,
        authid: impl Into<String>,
        secret: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        self.principals
            .insert(authid.into(), Credential::wampcra(secret, role));
        self
    }

    /// Adds `authid` with a salted WAMP-CRA secret: see [`Credential::wampcra_salted`].
    pub fn wampcra_salted(
        mut self,
        authid: impl Into<String>,
        secret: impl Into<String>,
        salt: impl Into<String>,
        iterations: u32,
        keylen: u32,
        role: impl Into<String>,
    ) -> Result<Self, AuthConfigError> {
        let credential = Credential::wampcra_salted(secret, salt, iterations, keylen, role)?;
        self.principals.insert(authid.into(), credential);
        Ok(self)
    }

    /// Adds an Ed25519 public key (64 hex digits) to `authid` (`cryptosign`); call again to
    /// give a principal several keys (the last role given wins). A client that names no
    /// authid is found by the public key it sends in HELLO's `authextra.pubkey`.
    pub fn cryptosign(
        mut self,
        authid: impl Into<String>,
        public_key_hex: &str,
        role: impl Into<String>,
    ) -> Result<Self, AuthConfigError> {
        let key = store::parse_public_key(public_key_hex)?;
        self.principals
            .add_public_key(authid.into(), key, role.into());
        Ok(self)
    }

    /// The router's Ed25519 private key (64 hex digits), with which it signs the challenge a
    /// cryptosign client sends in HELLO's `authextra.challenge` to authenticate the router
    /// (the CHALLENGE then carries `pubkey` and `signature`, as Crossbar.io's does). Without
    /// it, such clients refuse the router.
    pub fn router_key(mut self, private_key_hex: &str) -> Result<Self, AuthConfigError> {
        let key = CryptoSign::from_hex(private_key_hex).map_err(|_| {
            AuthConfigError::new("the router's private key must be 64 hex digits (32 bytes)")
        })?;
        self.router_key = Some(key);
        Ok(self)
    }

    /// Adds `authid` with a SCRAM password, with the default key derivation
    /// ([`ScramKdfParams::default`]): see [`scram_with`](Self::scram_with).
    pub fn scram(
        self,
        authid: impl Into<String>,
        password: &str,
        role: impl Into<String>,
    ) -> Result<Self, AuthConfigError> {
        self.scram_with(authid, password, role, ScramKdfParams::default())
    }

    /// Adds `authid` with a SCRAM password (`scram` or `wamp-scram`): the keys are derived now
    /// from a random salt and only they are kept (see [`Credential::scram_password`], which
    /// takes as long as one login).
    pub fn scram_with(
        mut self,
        authid: impl Into<String>,
        password: &str,
        role: impl Into<String>,
        kdf: ScramKdfParams,
    ) -> Result<Self, AuthConfigError> {
        let credential = Credential::scram_password(password, kdf, role)?;
        self.principals.insert(authid.into(), credential);
        Ok(self)
    }

    /// Adds `authid` with a ready-made credential (e.g. SCRAM keys from Crossbar.io's
    /// configuration: [`Credential::scram_keys`]).
    pub fn principal(mut self, authid: impl Into<String>, credential: Credential) -> Self {
        self.principals.insert(authid.into(), credential);
        self
    }

    /// Looks up credentials in `store` too (after the static principals and earlier stores),
    /// and offers the methods it [holds](CredentialStore::methods).
    pub fn store(mut self, store: impl CredentialStore) -> Self {
        self.stores.push(Arc::new(store));
        self
    }

    /// Whether the realm offers `method`.
    fn offers(&self, method: AuthMethod) -> bool {
        self.principals.offers(method) || self.stores.iter().any(|s| s.methods().contains(&method))
    }

    /// The credential of `authid` for `method`, and its provider.
    async fn lookup(&self, realm: &str, authid: &str, method: AuthMethod) -> Option<Found> {
        if let Some(credential) = self.principals.lookup(authid, method) {
            return Some(Found::new(authid, credential, "static"));
        }
        for store in &self.stores {
            if !store.methods().contains(&method) {
                continue;
            }
            if let Some(credential) = store.lookup(realm, authid, method).await {
                if credential.method() != method {
                    return None;
                }
                return Some(Found::new(authid, credential, store.name()));
            }
        }
        None
    }

    /// The cryptosign principal owning `key`, and its provider.
    async fn lookup_public_key(&self, realm: &str, key: &[u8; 32]) -> Option<Found> {
        if let Some((authid, credential)) = self.principals.lookup_public_key(key) {
            return Some(Found::new(&authid, credential, "static"));
        }
        let key_hex = hex::encode(key);
        for store in &self.stores {
            if !store.methods().contains(&AuthMethod::CryptoSign) {
                continue;
            }
            if let Some((authid, credential)) = store.lookup_public_key(realm, &key_hex).await {
                if credential.method() != AuthMethod::CryptoSign {
                    return None;
                }
                return Some(Found::new(&authid, credential, store.name()));
            }
        }
        None
    }

    /// The provider named in the challenge of an unknown authid: the first that offers it.
    fn decoy_provider(&self, method: AuthMethod) -> String {
        if self.principals.offers(method) {
            return "static".into();
        }
        self.stores
            .iter()
            .find(|s| s.methods().contains(&method))
            .map_or_else(|| "static".into(), |s| s.name().to_owned())
    }
}

/// A principal found for a HELLO.
#[derive(Clone)]
struct Found {
    authid: String,
    credential: Credential,
    provider: String,
}

impl Found {
    fn new(authid: &str, credential: Credential, provider: &str) -> Self {
        Found {
            authid: authid.to_owned(),
            credential,
            provider: provider.to_owned(),
        }
    }

    /// The identity of a session this principal authenticated with `method`.
    fn identity(self, method: &str) -> Identity {
        Identity {
            authid: self.authid,
            authrole: self.credential.role,
            authmethod: method.to_owned(),
            authprovider: self.provider,
            authextra: self.credential.authextra,
        }
    }
}

/// What a method needs to know of a HELLO.
struct Hello<'a> {
    auth: &'a Authentication,
    realm: &'a str,
    /// The method's name as the client offered it (`scram` or `wamp-scram` differ).
    method: &'a str,
    authid: Option<&'a str>,
    authextra: &'a Dict,
}

/// Why a session was refused: the ABORT's reason URI and message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Denied {
    pub(crate) reason: String,
    pub(crate) message: String,
}

impl Denied {
    /// `wamp.error.not_authorized`: the same message for a wrong secret, an unknown authid
    /// and a malformed answer.
    fn not_authorized() -> Self {
        Self::not_authorized_because("authentication failed")
    }

    /// `wamp.error.not_authorized` for a HELLO that cannot be answered (what is wrong with it
    /// reveals nothing about principals).
    fn not_authorized_because(message: &str) -> Self {
        Denied {
            reason: "wamp.error.not_authorized".into(),
            message: message.into(),
        }
    }

    fn no_auth_method() -> Self {
        Denied {
            reason: "wamp.error.no_auth_method".into(),
            message: "none of the offered authentication methods is accepted on this realm".into(),
        }
    }
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

impl Step {
    fn challenge(method: &str, extra: Dict, state: PendingState) -> Step {
        Step::Challenge {
            method: method.to_owned(),
            extra,
            pending: Pending {
                state: Box::new(state),
            },
        }
    }
}

/// An authentication waiting for the client's AUTHENTICATE.
#[derive(Debug)]
pub(crate) struct Pending {
    state: Box<PendingState>,
}

/// The state of each method between CHALLENGE and AUTHENTICATE.
#[derive(Debug)]
enum PendingState {
    Ticket(ticket::Pending),
    WampCra(wampcra::Pending),
    CryptoSign(cryptosign::Pending),
    Scram(scram::Pending),
}

impl Authentication {
    /// The answer to a HELLO for `realm` with `details`.
    // The entry point of the connection's opening handshake.
    pub(crate) async fn hello(&self, realm: &str, details: &Dict) -> Step {
        let requested: Vec<&str> = match details.get("authmethods") {
            None | Some(Value::Null) => vec!["anonymous"],
            Some(Value::List(list)) if list.is_empty() => vec!["anonymous"],
            Some(Value::List(list)) => list.iter().filter_map(Value::as_str).collect(),
            Some(_) => Vec::new(),
        };
        let authid = details.get("authid").and_then(Value::as_str);
        let empty = Dict::new();
        let authextra = details
            .get("authextra")
            .and_then(Value::as_dict)
            .unwrap_or(&empty);
        for name in requested {
            if name == "anonymous" {
                if let Some(role) = &self.anonymous_role {
                    return Step::Welcome(anonymous_identity(authid, role));
                }
                continue;
            }
            let Some(method) = AuthMethod::from_name(name) else {
                continue;
            };
            if !self.offers(method) {
                continue;
            }
            let hello = Hello {
                auth: self,
                realm,
                method: name,
                authid,
                authextra,
            };
            return match method {
                AuthMethod::Ticket => ticket::hello(hello).await,
                AuthMethod::WampCra => wampcra::hello(hello).await,
                AuthMethod::CryptoSign => cryptosign::hello(hello).await,
                AuthMethod::Scram => scram::hello(hello).await,
            };
        }
        Step::Deny(Denied::no_auth_method())
    }
}

/// An anonymous session's identity: the authid the client named, or a random one.
fn anonymous_identity(authid: Option<&str>, role: &str) -> Identity {
    Identity {
        authid: authid.map_or_else(crate::ids::anonymous_authid, str::to_owned),
        authrole: role.to_owned(),
        authmethod: "anonymous".into(),
        authprovider: "static".into(),
        authextra: Dict::new(),
    }
}

impl Pending {
    /// Checks the client's AUTHENTICATE.
    pub(crate) async fn authenticate(
        self,
        signature: &str,
        extra: &Dict,
    ) -> Result<Identity, Denied> {
        match *self.state {
            PendingState::Ticket(pending) => pending.authenticate(signature),
            PendingState::WampCra(pending) => pending.authenticate(signature).await,
            PendingState::CryptoSign(pending) => pending.authenticate(signature),
            PendingState::Scram(pending) => pending.authenticate(signature, extra),
        }
    }
}

/// `n` random bytes, or a refusal when the system's generator fails.
fn random_bytes<const N: usize>() -> Result<[u8; N], Denied> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|_| Denied::not_authorized_because("the router cannot make a challenge"))?;
    Ok(bytes)
}

/// Runs a key derivation on a blocking thread, a bounded number at a time.
async fn derive<T: Send + 'static>(
    slots: Arc<Semaphore>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Denied> {
    let permit = slots
        .acquire_owned()
        .await
        .map_err(|_| Denied::not_authorized())?;
    // The permit goes with the work: a derivation runs to the end even if the client leaves.
    tokio::task::spawn_blocking(move || {
        let result = work();
        drop(permit);
        result
    })
    .await
    .map_err(|_| Denied::not_authorized())
}

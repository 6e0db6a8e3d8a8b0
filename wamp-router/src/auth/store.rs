//! Credentials: what a realm checks each method against, the [`CredentialStore`] trait for
//! credentials kept elsewhere, and the built-in store of statically configured principals.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use wampkit_client::Dict;
use wampkit_client::auth::primitives::{self, ScramKdfVariant};
use zeroize::Zeroizing;

/// A boxed future returned by a [`CredentialStore`].
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An authentication method that checks credentials (all but `anonymous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `ticket`: the client sends a shared secret.
    Ticket,
    /// `wampcra`: HMAC-SHA256 challenge-response with a shared secret, plain or salted.
    WampCra,
    /// `cryptosign`: Ed25519 signatures with the client's registered public keys.
    CryptoSign,
    /// `scram` (Crossbar.io's name) or `wamp-scram` (the specification's): SCRAM-SHA-256 with
    /// stored keys derived from a password.
    Scram,
}

impl AuthMethod {
    /// Every method that checks credentials.
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::Ticket,
        AuthMethod::WampCra,
        AuthMethod::CryptoSign,
        AuthMethod::Scram,
    ];

    /// The method a HELLO's `authmethods` entry names, if any: both `scram` and `wamp-scram`
    /// name [`AuthMethod::Scram`].
    pub fn from_name(name: &str) -> Option<AuthMethod> {
        match name {
            "ticket" => Some(AuthMethod::Ticket),
            "wampcra" => Some(AuthMethod::WampCra),
            "cryptosign" => Some(AuthMethod::CryptoSign),
            "scram" | "wamp-scram" => Some(AuthMethod::Scram),
            _ => None,
        }
    }
}

/// Why an authentication setting cannot be used. The message names the setting and never
/// contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthConfigError(String);

impl AuthConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        AuthConfigError(message.into())
    }
}

/// The key derivation for SCRAM credentials made from a password: the router chooses it, the
/// client follows the CHALLENGE.
///
/// The default, Argon2id with 19 MiB and 2 passes (OWASP's recommendation), is within what
/// `wampkit_client::auth::KdfLimits::default()` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScramKdfParams {
    /// Argon2id v1.3 in Crossbar.io's form (`argon2id-13`), which Autobahn|Python and
    /// `wampkit` understand.
    Argon2id {
        /// Memory cost in KiB (at least 8).
        memory_kib: u32,
        /// Passes (at least 1).
        iterations: u32,
    },
    /// PBKDF2-HMAC-SHA256 (`pbkdf2`).
    Pbkdf2 {
        /// Iterations (at least 1).
        iterations: u32,
    },
}

impl Default for ScramKdfParams {
    fn default() -> Self {
        ScramKdfParams::Argon2id {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

/// A principal's credential for one method, with the role and WELCOME `authextra` it gets.
///
/// `Debug` shows no secret; secrets are zeroed when dropped.
///
/// ```
/// use wampkit_router::Credential;
///
/// let alice = Credential::ticket("alice-ticket", "user");
/// let bob = Credential::wampcra_salted("bob-secret", "salt123", 1000, 32, "user")?;
/// # let _ = (alice, bob);
/// # Ok::<(), wampkit_router::AuthConfigError>(())
/// ```
#[derive(Clone)]
pub struct Credential {
    pub(crate) role: String,
    pub(crate) authextra: Dict,
    pub(crate) secret: Secret,
}

/// The method-specific part of a [`Credential`].
#[derive(Clone)]
pub(crate) enum Secret {
    Ticket(Zeroizing<String>),
    WampCra {
        secret: Zeroizing<String>,
        salt: Option<CraSalt>,
    },
    CryptoSign(Vec<[u8; 32]>),
    Scram(ScramSecret),
}

/// The PBKDF2 parameters of a salted WAMP-CRA secret, sent in the CHALLENGE.
#[derive(Debug, Clone)]
pub(crate) struct CraSalt {
    pub(crate) salt: String,
    pub(crate) iterations: u32,
    pub(crate) keylen: u32,
}

/// What the router keeps of a SCRAM password.
#[derive(Clone)]
pub(crate) struct ScramSecret {
    pub(crate) kdf: ScramKdfVariant,
    pub(crate) salt: Vec<u8>,
    pub(crate) iterations: u32,
    pub(crate) memory_kib: u32,
    pub(crate) stored_key: Zeroizing<[u8; 32]>,
    pub(crate) server_key: Zeroizing<[u8; 32]>,
}

/// The most PBKDF2 iterations and the longest key a salted WAMP-CRA secret may use: what
/// `wampkit` accepts in a CHALLENGE.
const CRA_MAX_ITERATIONS: u32 = 1_000_000;
const CRA_MAX_KEYLEN: u32 = 256;
/// Random bytes in the salt of a SCRAM credential made from a password.
const SCRAM_SALT_BYTES: usize = 16;

impl Credential {
    fn new(secret: Secret, role: impl Into<String>) -> Self {
        Credential {
            role: role.into(),
            authextra: Dict::new(),
            secret,
        }
    }

    /// A `ticket` credential: the client must send exactly `ticket`.
    pub fn ticket(ticket: impl Into<String>, role: impl Into<String>) -> Self {
        Self::new(Secret::Ticket(Zeroizing::new(ticket.into())), role)
    }

    /// A plain `wampcra` credential: the secret keys the HMAC.
    pub fn wampcra(secret: impl Into<String>, role: impl Into<String>) -> Self {
        let secret = Zeroizing::new(secret.into());
        Self::new(Secret::WampCra { secret, salt: None }, role)
    }

    /// A salted `wampcra` credential: the CHALLENGE carries `salt`, `iterations` and `keylen`,
    /// and the HMAC key is derived from the secret with PBKDF2-HMAC-SHA256 as Autobahn|Python
    /// derives it. `iterations` must be 1 to 1,000,000 and `keylen` 1 to 256 (what clients
    /// accept).
    pub fn wampcra_salted(
        secret: impl Into<String>,
        salt: impl Into<String>,
        iterations: u32,
        keylen: u32,
        role: impl Into<String>,
    ) -> Result<Self, AuthConfigError> {
        if !(1..=CRA_MAX_ITERATIONS).contains(&iterations) {
            return Err(AuthConfigError::new(format!(
                "salted WAMP-CRA iterations must be 1 to {CRA_MAX_ITERATIONS}, not {iterations}"
            )));
        }
        if !(1..=CRA_MAX_KEYLEN).contains(&keylen) {
            return Err(AuthConfigError::new(format!(
                "salted WAMP-CRA key length must be 1 to {CRA_MAX_KEYLEN}, not {keylen}"
            )));
        }
        let salt = Some(CraSalt {
            salt: salt.into(),
            iterations,
            keylen,
        });
        let secret = Zeroizing::new(secret.into());
        Ok(Self::new(Secret::WampCra { secret, salt }, role))
    }

    /// A `cryptosign` credential: the Ed25519 public keys (64 hex digits each) the principal
    /// may sign with.
    pub fn cryptosign<I, S>(
        public_keys: I,
        role: impl Into<String>,
    ) -> Result<Self, AuthConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let keys = public_keys
            .into_iter()
            .map(|key| parse_public_key(key.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(Secret::CryptoSign(keys), role))
    }

    /// A SCRAM credential made from a password: derives a random salt's keys now, with the
    /// router's choice of key derivation, and keeps only the keys. This takes as long as one
    /// client's login: in async code, call it on a blocking thread. The password is used as is (Crossbar.io's dialect; clients of the
    /// specification's `wamp-scram` SASLprep it first, which changes only passwords with
    /// non-ASCII spaces, control characters or compatibility characters).
    pub fn scram_password(
        password: &str,
        kdf: ScramKdfParams,
        role: impl Into<String>,
    ) -> Result<Self, AuthConfigError> {
        let mut salt = [0u8; SCRAM_SALT_BYTES];
        getrandom::fill(&mut salt).map_err(|e| {
            AuthConfigError::new(format!("the system's random number generator failed: {e}"))
        })?;
        let (variant, iterations, memory_kib) = match kdf {
            ScramKdfParams::Argon2id {
                memory_kib,
                iterations,
            } => (ScramKdfVariant::Argon2idBase64, iterations, memory_kib),
            ScramKdfParams::Pbkdf2 { iterations } => (ScramKdfVariant::Pbkdf2, iterations, 0),
        };
        if iterations == 0 {
            return Err(AuthConfigError::new("SCRAM iterations must be at least 1"));
        }
        let salted = primitives::scram_salted_password(
            variant,
            password.as_bytes(),
            &salt,
            iterations,
            memory_kib,
        )
        .map_err(|e| AuthConfigError::new(format!("SCRAM key derivation: {e}")))?;
        let keys = primitives::scram_stored_keys(&salted)
            .map_err(|e| AuthConfigError::new(format!("SCRAM keys: {e}")))?;
        Ok(Self::new(
            Secret::Scram(ScramSecret {
                kdf: variant,
                salt: salt.to_vec(),
                iterations,
                memory_kib,
                stored_key: keys.stored_key,
                server_key: keys.server_key,
            }),
            role,
        ))
    }

    /// A SCRAM credential from stored keys, as Crossbar.io's configuration lists a principal:
    /// the KDF, the salt (raw bytes), the cost (`memory_kib` is ignored by PBKDF2), StoredKey
    /// and ServerKey. Derive them with `wampkit_client::auth::primitives` (or Autobahn|Python's
    /// `derive_scram_credential`).
    pub fn scram_keys(
        kdf: ScramKdfVariant,
        salt: Vec<u8>,
        iterations: u32,
        memory_kib: u32,
        stored_key: [u8; 32],
        server_key: [u8; 32],
        role: impl Into<String>,
    ) -> Self {
        Self::new(
            Secret::Scram(ScramSecret {
                kdf,
                salt,
                iterations,
                memory_kib,
                stored_key: Zeroizing::new(stored_key),
                server_key: Zeroizing::new(server_key),
            }),
            role,
        )
    }

    /// Entries for WELCOME's `authextra` when this credential authenticates a session.
    pub fn with_authextra(mut self, authextra: Dict) -> Self {
        self.authextra = authextra;
        self
    }

    /// The role a session authenticated with this credential gets.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// The method this credential is for.
    pub fn method(&self) -> AuthMethod {
        match self.secret {
            Secret::Ticket(_) => AuthMethod::Ticket,
            Secret::WampCra { .. } => AuthMethod::WampCra,
            Secret::CryptoSign(_) => AuthMethod::CryptoSign,
            Secret::Scram(_) => AuthMethod::Scram,
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Credential");
        debug
            .field("method", &self.method())
            .field("role", &self.role);
        match &self.secret {
            Secret::CryptoSign(keys) => {
                debug.field(
                    "public_keys",
                    &keys.iter().map(hex::encode).collect::<Vec<_>>(),
                );
            }
            Secret::Scram(scram) => {
                debug
                    .field("kdf", &scram.kdf.name())
                    .field("salt", &BASE64.encode(&scram.salt))
                    .field("iterations", &scram.iterations)
                    .field("memory_kib", &scram.memory_kib);
            }
            Secret::WampCra { salt, .. } => {
                debug.field("salt", salt);
            }
            Secret::Ticket(_) => {}
        }
        debug.finish_non_exhaustive()
    }
}

/// An Ed25519 public key in hex, or an error naming the setting.
pub(crate) fn parse_public_key(text: &str) -> Result<[u8; 32], AuthConfigError> {
    primitives::cryptosign_public_key(text.trim()).ok_or_else(|| {
        AuthConfigError::new(
            "a cryptosign public key must be 64 hex digits encoding an Ed25519 point",
        )
    })
}

/// Where a realm finds credentials beyond its static configuration: a database, a file, a
/// service. A realm asks its stores in the order they were added, after its static
/// principals; the first credential found decides.
///
/// A store that cannot answer (e.g. its database is down) returns `None`: the client is then
/// refused with `wamp.error.not_authorized`, as for an unknown authid.
///
/// ```
/// use std::collections::HashMap;
/// use wampkit_router::{AuthMethod, Authentication, Credential, CredentialStore, StoreFuture};
///
/// /// Tickets kept in memory, e.g. loaded from a file.
/// struct Tickets(HashMap<String, String>);
///
/// impl CredentialStore for Tickets {
///     fn name(&self) -> &str {
///         "tickets-file"
///     }
///     fn methods(&self) -> &[AuthMethod] {
///         &[AuthMethod::Ticket]
///     }
///     fn lookup<'a>(
///         &'a self,
///         _realm: &'a str,
///         authid: &'a str,
///         _method: AuthMethod,
///     ) -> StoreFuture<'a, Option<Credential>> {
///         let found = self.0.get(authid).map(|t| Credential::ticket(t.as_str(), "user"));
///         Box::pin(async move { found })
///     }
/// }
///
/// let tickets = Tickets(HashMap::from([("alice".into(), "s3cret".into())]));
/// let auth = Authentication::new().store(tickets);
/// # let _ = auth;
/// ```
pub trait CredentialStore: Send + Sync + 'static {
    /// The `authprovider` WELCOME announces for sessions this store authenticated (default
    /// `dynamic`).
    fn name(&self) -> &str {
        "dynamic"
    }

    /// The methods this store holds credentials for: the realm offers them (default: all of
    /// [`AuthMethod::ALL`]).
    fn methods(&self) -> &[AuthMethod] {
        &AuthMethod::ALL
    }

    /// The credential of `authid` for `method` on `realm`, if any. A credential for another
    /// method than `method` counts as none.
    fn lookup<'a>(
        &'a self,
        realm: &'a str,
        authid: &'a str,
        method: AuthMethod,
    ) -> StoreFuture<'a, Option<Credential>>;

    /// For `cryptosign` without an authid: the principal that owns `public_key` (64 lowercase
    /// hex digits), as its authid and credential. Default: none.
    fn lookup_public_key<'a>(
        &'a self,
        realm: &'a str,
        public_key: &'a str,
    ) -> StoreFuture<'a, Option<(String, Credential)>> {
        let _ = (realm, public_key);
        Box::pin(std::future::ready(None))
    }
}

/// The principals configured on an [`Authentication`](super::Authentication) itself.
#[derive(Clone, Default)]
pub(crate) struct StaticStore {
    principals: HashMap<(AuthMethod, String), Credential>,
}

impl StaticStore {
    pub(crate) fn insert(&mut self, authid: String, credential: Credential) {
        self.principals
            .insert((credential.method(), authid), credential);
    }

    /// Adds a public key to `authid`'s cryptosign credential, or creates it.
    pub(crate) fn add_public_key(&mut self, authid: String, key: [u8; 32], role: String) {
        let entry = self
            .principals
            .entry((AuthMethod::CryptoSign, authid))
            .or_insert_with(|| Credential::new(Secret::CryptoSign(Vec::new()), String::new()));
        entry.role = role;
        if let Secret::CryptoSign(keys) = &mut entry.secret {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }

    pub(crate) fn offers(&self, method: AuthMethod) -> bool {
        self.principals.keys().any(|(m, _)| *m == method)
    }

    pub(crate) fn lookup(&self, authid: &str, method: AuthMethod) -> Option<Credential> {
        self.principals.get(&(method, authid.to_owned())).cloned()
    }

    /// The one principal owning `key`; none when several do, as with Crossbar.io (the key
    /// cannot tell which is meant).
    pub(crate) fn lookup_public_key(&self, key: &[u8; 32]) -> Option<(String, Credential)> {
        let mut owners = self.principals.iter().filter(|((method, _), credential)| {
            *method == AuthMethod::CryptoSign
                && matches!(&credential.secret, Secret::CryptoSign(keys) if keys.contains(key))
        });
        let ((_, authid), credential) = owners.next()?;
        if owners.next().is_some() {
            return None;
        }
        Some((authid.clone(), credential.clone()))
    }

    pub(crate) fn len(&self) -> usize {
        self.principals.len()
    }
}

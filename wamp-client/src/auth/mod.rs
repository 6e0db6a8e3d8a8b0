//! Authentication: the methods a session offers in HELLO and how it answers CHALLENGEs.
//!
//! A [`SessionBuilder`](crate::SessionBuilder) offers one or more [`Authenticator`]s, in order of
//! preference. Joining then runs:
//!
//! 1. `HELLO` with `authmethods` (each authenticator's [`method`](Authenticator::method)),
//!    `authid`, `authrole` and the `authextra` the authenticators contribute;
//! 2. zero or more rounds of `CHALLENGE` → `AUTHENTICATE`: the CHALLENGE's method picks the
//!    authenticator; a CHALLENGE for a method that was not offered is answered with `ABORT`;
//! 3. `WELCOME`, which every authenticator may check (the SCRAM server signature) and which must
//!    carry the router's proof of identity where one is required (see below), or `ABORT`,
//!    which fails [`connect`](crate::SessionBuilder::connect) with [`Error::Aborted`](crate::Error::Aborted)
//!    carrying the router's reason (Crossbar.io: `wamp.error.not_authorized` for a wrong secret or
//!    an unknown authid, `wamp.error.no_auth_method` when the endpoint accepts none of the
//!    offered methods).
//!
//! When this client refuses to go on (the router failed *its* authentication, a CHALLENGE for a
//! method not offered, a key derivation outside the limits, an authenticator error) it sends
//! `ABORT` with `wamp.error.authentication_failed` and `connect` fails with
//! [`Error::Authentication`](crate::Error::Authentication) carrying an [`AuthError`] whose
//! [`kind`](AuthError::kind) says which.
//!
//! **Router authentication.** Some methods make the router prove that it knows the user's
//! credentials too ([`RouterProof`]): SCRAM (its server signature in WELCOME) and cryptosign
//! with `CryptoSign::verify_router` or `CryptoSign::request_router_signature` (its signature in
//! the CHALLENGE). A WELCOME that arrives without such a proof fails the join with
//! [`AuthErrorKind::RouterNotAuthenticated`] when
//! - an offered method *requires* it (cryptosign with router authentication), whichever method
//!   the router accepted; or
//! - every offered method can prove the router (e.g. SCRAM alone): a router that skips the
//!   CHALLENGE, or claims to have accepted some other method, is not believed.
//!
//! Offer a method that does not authenticate the router (e.g. [`Anonymous`] after `Scram`) to
//! accept a router that does not prove itself.
//!
//! **Clear text.** When [`Ticket`] or `WampCra` (or any authenticator whose method is `ticket`
//! or `wampcra`) is offered over a connection without TLS (`ws://`, `rs://`) to a host other
//! than the local machine, [`connect`](crate::SessionBuilder::connect) logs one warning (target
//! `wampkit_client::auth`): the ticket travels in clear text, and a WAMP-CRA challenge with its
//! answer lets whoever sees them test guesses of the secret offline. The local machine is
//! `localhost`, `*.localhost`, `127.0.0.0/8` and `::1` (as the URL names the host); `unix://`
//! is local too. SCRAM is not warned about: an eavesdropper can test guesses of the password
//! as well, but each guess costs a full key derivation.
//!
//! The built-in methods (the last three each with a Cargo feature of their own, so that a build
//! compiles only the cryptography it uses):
//!
//! | Type | `authmethod` | Cargo feature | Notes |
//! |---|---|---|---|
//! | [`Anonymous`] | `anonymous` | always | Crossbar.io's; no challenge. |
//! | [`Ticket`] | `ticket` | always | The ticket travels in clear text: use it over TLS only. |
//! | `WampCra` | `wampcra` | `auth-wampcra` | HMAC-SHA256 challenge-response; salted (PBKDF2) secrets are derived from the challenge's `salt`, `iterations` and `keylen`. |
//! | `CryptoSign` | `cryptosign` | `auth-cryptosign` | Ed25519; optional router authentication. |
//! | `Scram` | `scram` (Crossbar.io) or `wamp-scram` (spec) | `auth-scram` | SCRAM-SHA-256 with Argon2id or PBKDF2; verifies the router's signature. |
//!
//! Secrets (tickets, passwords, private keys, signatures) never appear in `Debug` output, this
//! crate's logs (even with [`trace_payloads`](crate::SessionBuilder::trace_payloads), AUTHENTICATE
//! is logged without its signature) or error messages, and are zeroed when dropped. Beware that
//! the WebSocket library logs every raw frame, AUTHENTICATE included, at `trace` level under its
//! own `tungstenite` targets: keep those below `trace` where secrets matter.
//!
//! A router checks these exchanges with the same code: `primitives` holds the methods'
//! cryptography (WAMP-CRA keys and signatures, Ed25519 signatures, SCRAM keys and proofs), each
//! function with its method's feature.
//!
//! Your own method, e.g. a ticket fetched when connecting, implements [`Authenticator`] (the
//! per-method settings, shared by every connection of a builder) and [`AuthSession`] (one
//! authentication on one connection):
//!
//! ```no_run
//! use wampkit::auth::{
//!     AuthError, AuthFuture, AuthResponse, AuthSession, Authenticator, Challenge,
//! };
//!
//! /// Fetches a short-lived token from somewhere each time it connects.
//! #[derive(Debug)]
//! struct TokenAuth;
//!
//! async fn fetch_token() -> Result<String, AuthError> {
//!     Ok("a-fresh-token".to_owned())
//! }
//!
//! struct TokenSession;
//!
//! impl Authenticator for TokenAuth {
//!     fn method(&self) -> &str {
//!         "ticket"
//!     }
//!     fn start(&self) -> Result<Box<dyn AuthSession>, AuthError> {
//!         Ok(Box::new(TokenSession))
//!     }
//! }
//!
//! impl AuthSession for TokenSession {
//!     fn authid(&self) -> Option<String> {
//!         Some("alice".to_owned())
//!     }
//!     fn respond<'a>(
//!         &'a mut self,
//!         _challenge: &'a Challenge,
//!     ) -> AuthFuture<'a, Result<AuthResponse, AuthError>> {
//!         Box::pin(async move { Ok(AuthResponse::new(fetch_token().await?)) })
//!     }
//! }
//!
//! # async fn demo() -> wampkit::Result<()> {
//! let session = wampkit::Session::builder("wss://example.com/ws", "realm1")
//!     .authenticator(TokenAuth)
//!     .connect()
//!     .await?;
//! # Ok(()) }
//! ```

mod cleartext;
#[cfg(feature = "auth-cryptosign")]
mod cryptosign;
#[cfg(any(
    feature = "auth-wampcra",
    feature = "auth-cryptosign",
    feature = "auth-scram"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "auth-wampcra",
        feature = "auth-cryptosign",
        feature = "auth-scram"
    )))
)]
pub mod primitives;
#[cfg(feature = "auth-scram")]
mod scram;
mod ticket;
#[cfg(feature = "auth-wampcra")]
mod wampcra;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use zeroize::Zeroizing;

pub(crate) use cleartext::warn_cleartext_secrets;
#[cfg(feature = "auth-cryptosign")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-cryptosign")))]
pub use cryptosign::CryptoSign;
#[cfg(feature = "auth-scram")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-scram")))]
pub use scram::{KdfLimits, Scram, ScramKdf};
pub use ticket::Ticket;
#[cfg(feature = "auth-wampcra")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth-wampcra")))]
pub use wampcra::WampCra;

use crate::error::ErrorUri;
use crate::session_details::SessionDetails;
use crate::value::{Dict, Value};

/// A boxed future borrowing from the authenticator, returned by [`AuthSession::respond`].
pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An authentication method offered in HELLO.
///
/// The authenticator holds the settings (credentials); [`start`](Authenticator::start) creates the
/// state of one authentication on one connection, so one
/// [`SessionBuilder`](crate::SessionBuilder) can connect many times. Implementations must not
/// print secrets in their `Debug` output.
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// The `authmethod` offered in HELLO and expected in the router's CHALLENGE, e.g. `"ticket"`.
    fn method(&self) -> &str;

    /// Starts one authentication, for one connection. Called when connecting, before HELLO is
    /// sent: a fresh nonce belongs here. An error stops the join before anything is sent.
    fn start(&self) -> Result<Box<dyn AuthSession>, AuthError>;
}

/// One authentication in progress on one connection: contributes to HELLO, answers CHALLENGEs
/// and checks the WELCOME.
pub trait AuthSession: Send {
    /// The `authid` to send in HELLO, if this method needs one. The builder's
    /// [`authid`](crate::SessionBuilder::authid) takes precedence; otherwise the first
    /// authenticator (in order of preference) that has one decides, as HELLO carries one
    /// `authid` for all methods.
    fn authid(&self) -> Option<String> {
        None
    }

    /// Entries for HELLO's `authextra`, e.g. SCRAM's client nonce or cryptosign's public key.
    fn authextra(&self) -> Dict {
        Dict::new()
    }

    /// Answers one CHALLENGE for this method (called once per round; several rounds are
    /// possible). An error makes the client send ABORT and fail the join with it.
    fn respond<'a>(
        &'a mut self,
        challenge: &'a Challenge,
    ) -> AuthFuture<'a, Result<AuthResponse, AuthError>>;

    /// Checks the router's WELCOME, e.g. its SCRAM server signature. Called for every offered
    /// method, whether or not it was challenged (`details.authmethod` says which method the
    /// router accepted). An error makes the client send ABORT and fail the join with it.
    fn welcome(&mut self, details: &SessionDetails) -> Result<(), AuthError> {
        let _ = details;
        Ok(())
    }

    /// Whether this method makes the router prove its identity (see the
    /// [module docs](crate::auth)). Default: [`RouterProof::None`].
    fn router_proof(&self) -> RouterProof {
        RouterProof::None
    }

    /// Whether the router has proven its identity through this method, asked once
    /// [`welcome`](AuthSession::welcome) has passed. Default: `false`.
    fn router_proven(&self) -> bool {
        false
    }
}

/// Whether a method makes the router prove its identity: that it knows the user's keys (SCRAM)
/// or holds an expected private key (cryptosign router authentication).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouterProof {
    /// The method never authenticates the router (ticket, WAMP-CRA, anonymous, cryptosign
    /// without router authentication).
    None,
    /// The router proves itself when it accepts this method (SCRAM). When every offered method
    /// is like this, a WELCOME without a proof is refused.
    Possible,
    /// The user requires the router to prove itself (cryptosign with router authentication): a
    /// WELCOME without a proof is refused, whichever method the router accepted.
    Required,
}

/// A CHALLENGE received from the router: `[4, AuthMethod, Extra]`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Challenge {
    /// The authentication method the router chose.
    pub method: String,
    /// Method-specific fields.
    pub extra: Dict,
}

impl Challenge {
    /// A challenge, as a router would send it (useful to test an [`AuthSession`]).
    pub fn new(method: impl Into<String>, extra: Dict) -> Self {
        Challenge {
            method: method.into(),
            extra,
        }
    }

    /// The string field `key` of `extra`.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.extra.get(key).and_then(Value::as_str)
    }

    /// The non-negative integer field `key` of `extra`.
    pub fn u64(&self, key: &str) -> Option<u64> {
        self.extra.get(key).and_then(Value::as_u64)
    }

    /// The string field `key` of `extra`, or an error naming it.
    #[cfg_attr(
        not(any(
            feature = "auth-wampcra",
            feature = "auth-cryptosign",
            feature = "auth-scram"
        )),
        allow(dead_code)
    )]
    pub(crate) fn required_str(&self, key: &str) -> Result<&str, AuthError> {
        self.str(key).ok_or_else(|| {
            AuthError::new(format!(
                "the router's `{}` challenge lacks the string field `{key}`",
                self.method
            ))
        })
    }

    /// The integer field `key` of `extra` if present (an error if it is not an integer in
    /// `u32`), else `default`.
    #[cfg_attr(
        not(any(feature = "auth-wampcra", feature = "auth-scram")),
        allow(dead_code)
    )]
    pub(crate) fn u32_or(&self, key: &str, default: Option<u32>) -> Result<u32, AuthError> {
        match self.extra.get(key) {
            None | Some(Value::Null) => default.ok_or_else(|| {
                AuthError::new(format!(
                    "the router's `{}` challenge lacks the integer field `{key}`",
                    self.method
                ))
            }),
            Some(value) => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    AuthError::new(format!(
                        "the router's `{}` challenge has an invalid `{key}`: {value:?}",
                        self.method
                    ))
                }),
        }
    }
}

/// The answer to a CHALLENGE: `[5, Signature, Extra]`. `Debug` does not show the signature.
#[derive(Clone)]
pub struct AuthResponse {
    signature: Secret,
    extra: Dict,
}

impl AuthResponse {
    /// An answer with this signature (ticket, HMAC, ...) and an empty `Extra`.
    pub fn new(signature: impl Into<String>) -> Self {
        AuthResponse {
            signature: Secret::new(signature),
            extra: Dict::new(),
        }
    }

    /// Sets the `Extra` dict of AUTHENTICATE.
    pub fn with_extra(mut self, extra: Dict) -> Self {
        self.extra = extra;
        self
    }

    /// The signature.
    pub fn signature(&self) -> &str {
        self.signature.expose()
    }

    /// The `Extra` dict.
    pub fn extra(&self) -> &Dict {
        &self.extra
    }

    pub(crate) fn into_parts(self) -> (Secret, Dict) {
        (self.signature, self.extra)
    }
}

impl fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthResponse")
            .field("signature", &self.signature)
            .field("extra", &self.extra)
            .finish()
    }
}

/// Why an authenticator gave up: a bad setting (e.g. a malformed private key), a CHALLENGE it
/// cannot answer, a router that failed its own authentication, or a key derivation this client's
/// limits refuse. [`kind`](AuthError::kind) tells these apart; the message says what went wrong
/// and what to check, and never contains a secret.
///
/// [`connect`](crate::SessionBuilder::connect) returns it as
/// [`Error::Authentication`](crate::Error::Authentication) after sending ABORT:
///
/// ```
/// use wampkit::Error;
/// use wampkit::auth::AuthErrorKind;
///
/// fn explain(err: &Error) -> &'static str {
///     match err {
///         Error::Authentication(e) if e.kind() == AuthErrorKind::RouterNotAuthenticated => {
///             "the router did not prove who it is: is it the router you meant to reach?"
///         }
///         Error::Authentication(_) => "this client refused the authentication",
///         Error::Aborted(_) => "the router refused the session",
///         _ => "something else",
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    kind: AuthErrorKind,
    message: String,
}

/// What kind of refusal an [`AuthError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// A setting that cannot be used, a CHALLENGE that cannot be answered, a router that does
    /// not follow the protocol, or anything else not listed below.
    Other,
    /// The router did not prove its identity although this client required it: it skipped the
    /// CHALLENGE, its WELCOME lacks the proof, or the proof is wrong (SCRAM server signature,
    /// cryptosign router signature). Either this is not the router you meant to reach, or it is
    /// not configured for the method you require.
    RouterNotAuthenticated,
    /// The router asked for a key derivation dearer than this client allows
    /// (SCRAM's `KdfLimits`, or WAMP-CRA's iteration limit).
    KdfCostTooHigh,
    /// The router asked for a key derivation cheaper than this client allows
    /// (SCRAM's `KdfLimits`): a router fishing for an easily cracked hash.
    KdfCostTooLow,
    /// The router asked for a key derivation function this client was told not to use
    /// (SCRAM's `Scram::only_kdf`).
    KdfNotAllowed,
}

impl AuthError {
    /// An error of kind [`AuthErrorKind::Other`], with a message saying what went wrong and
    /// what to check.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_kind(AuthErrorKind::Other, message)
    }

    /// An error of the given kind, e.g. [`AuthErrorKind::RouterNotAuthenticated`] for an
    /// authenticator of your own that checks the router.
    pub fn with_kind(kind: AuthErrorKind, message: impl Into<String>) -> Self {
        AuthError {
            kind,
            message: message.into(),
        }
    }

    /// What kind of refusal this is.
    pub fn kind(&self) -> AuthErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<AuthError> for crate::Error {
    /// The error [`connect`](crate::SessionBuilder::connect) returns when this client refuses
    /// to go on with an authentication: [`Error::Authentication`](crate::Error::Authentication).
    /// Lets `?` turn, e.g., a `CryptoSign::from_hex` error into a `wampkit_client::Error`.
    fn from(error: AuthError) -> Self {
        crate::Error::Authentication(error)
    }
}

/// The `anonymous` method (Crossbar.io's): no credentials, no challenge.
///
/// Offer it after other methods to fall back to an anonymous session where the router allows
/// one. A session without any authenticator sends no `authmethods`, which routers treat as
/// anonymous too.
///
/// ```no_run
/// # async fn demo() -> wampkit::Result<()> {
/// use wampkit::auth::Anonymous;
///
/// let session = wampkit::Session::builder("ws://127.0.0.1:8080/anyauth", "realm1")
///     .ticket("ticket-user", "ticket-secret-123")
///     .authenticator(Anonymous)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Anonymous;

impl Authenticator for Anonymous {
    fn method(&self) -> &str {
        "anonymous"
    }

    fn start(&self) -> Result<Box<dyn AuthSession>, AuthError> {
        Ok(Box::new(Anonymous))
    }
}

impl AuthSession for Anonymous {
    fn respond<'a>(
        &'a mut self,
        _challenge: &'a Challenge,
    ) -> AuthFuture<'a, Result<AuthResponse, AuthError>> {
        Box::pin(async { Ok(AuthResponse::new("")) })
    }
}

/// A secret string: zeroed on drop, `<redacted>` in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(Zeroizing<String>);

impl Secret {
    pub(crate) fn new(secret: impl Into<String>) -> Self {
        Secret(Zeroizing::new(secret.into()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The authentication settings of a [`SessionBuilder`](crate::SessionBuilder).
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthConfig {
    /// `HELLO.Details.authid`, overriding the authenticators'.
    pub(crate) authid: Option<String>,
    /// `HELLO.Details.authrole`.
    pub(crate) authrole: Option<String>,
    /// `HELLO.Details.authextra` entries set on the builder (the authenticators' come on top).
    pub(crate) authextra: Dict,
    /// The offered methods, in order of preference.
    pub(crate) authenticators: Vec<Arc<dyn Authenticator>>,
    /// A setting that could not be used (e.g. a malformed private key given to a builder
    /// convenience); reported by `connect`.
    pub(crate) error: Option<AuthError>,
    /// One key derivation at a time, across every connection of the builder.
    pub(crate) kdf_slot: KdfSlot,
}

/// The reason this client sends in ABORT when it refuses to go on with the authentication.
pub(crate) const CLIENT_ABORT_REASON: ErrorUri = ErrorUri::AuthenticationFailed;

/// The same, as a static for [`Error::uri`](crate::Error::uri) to borrow.
pub(crate) static CLIENT_ABORT_REASON_URI: ErrorUri = CLIENT_ABORT_REASON;

/// `n` random bytes from the operating system.
#[cfg_attr(
    not(any(feature = "auth-cryptosign", feature = "auth-scram")),
    allow(dead_code)
)]
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        AuthError::new(format!(
            "the operating system's random number generator failed: {e}"
        ))
    })?;
    Ok(bytes)
}

tokio::task_local! {
    /// The key derivation slot of the builder whose join runs on this task (see [`KdfSlot`]).
    static KDF_SLOT: KdfSlot;
}

/// One key derivation at a time per [`SessionBuilder`](crate::SessionBuilder) (shared by its
/// clones and reconnects). A key derivation runs on a blocking thread and cannot be stopped:
/// when the join it belongs to gives up (join timeout, lost connection), it runs on to the end.
/// A router that challenges, drops the connection and challenges again would otherwise pile up
/// derivations, each with up to SCRAM's `KdfLimits` of memory and CPU; with the slot, a new attempt
/// waits for the previous derivation to finish (within its join timeout).
#[derive(Debug, Clone)]
#[cfg_attr(
    not(any(feature = "auth-wampcra", feature = "auth-scram")),
    allow(dead_code)
)]
pub(crate) struct KdfSlot(Arc<tokio::sync::Semaphore>);

impl Default for KdfSlot {
    fn default() -> Self {
        KdfSlot(Arc::new(tokio::sync::Semaphore::new(1)))
    }
}

impl KdfSlot {
    /// Runs `join` with this slot governing the key derivations it starts.
    pub(crate) async fn scope<F: Future>(&self, join: F) -> F::Output {
        KDF_SLOT.scope(self.clone(), join).await
    }
}

/// Runs a CPU-heavy key derivation off the async runtime's worker threads, one at a time per
/// builder (see [`KdfSlot`]). `what` names it in errors and `debug` logs, `cost` describes its
/// parameters in the logs.
#[cfg(any(feature = "auth-wampcra", feature = "auth-scram"))]
pub(crate) async fn blocking<T: Send + 'static>(
    what: &'static str,
    cost: String,
    work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    let permit = match KDF_SLOT.try_with(|slot| Arc::clone(&slot.0)) {
        Ok(slot) => {
            if slot.available_permits() == 0 {
                tracing::debug!(
                    target: "wampkit_client::auth",
                    "{what}: waiting for the key derivation of an earlier attempt to finish"
                );
            }
            let permit = slot
                .acquire_owned()
                .await
                .map_err(|e| AuthError::new(format!("{what} failed: {e}")))?;
            Some(permit)
        }
        // Outside a join (an authenticator driven by hand): no slot to share.
        Err(_) => None,
    };
    // The blocking thread logs to the same subscriber and span as the join.
    let dispatch = tracing::dispatcher::get_default(tracing::Dispatch::clone);
    let span = tracing::Span::current();
    tracing::debug!(target: "wampkit_client::auth", %cost, "{what}: started");
    tokio::task::spawn_blocking(move || {
        let result = work();
        tracing::dispatcher::with_default(&dispatch, || {
            span.in_scope(|| {
                tracing::debug!(target: "wampkit_client::auth", %cost, "{what}: finished");
            });
        });
        // Released only now, even if the join gave up long ago.
        drop(permit);
        result
    })
    .await
    .map_err(|e| AuthError::new(format!("{what} failed: {e}")))?
}

//! Errors: one [`Error`] type for every fallible operation, with [`WampError`] carrying the
//! URI, arguments and keyword arguments of a WAMP `ERROR` or `ABORT`.
//!
//! ```
//! use wampkit::{Error, ErrorUri};
//!
//! fn explain(err: &Error) -> &'static str {
//!     match err {
//!         Error::Wamp(e) if e.uri == ErrorUri::NoSuchProcedure => "nobody registered it yet",
//!         Error::Wamp(e) if e.uri.as_str() == "com.example.error.overdrawn" => "not enough money",
//!         Error::SessionClosed(_) => "reconnect first",
//!         _ => "something else",
//!     }
//! }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

#[cfg(feature = "proxy")]
pub use crate::transport::ProxyError;
pub use crate::transport::TransportError;
use crate::value::{Dict, Value, ValueError};
use crate::wire::InvalidMessage;

/// How much of a text from the router a log line, an error or an ABORT message carries.
pub(crate) const ROUTER_TEXT_LIMIT: usize = 300;

/// Cuts a text from the router (a reason, a message, a value in a protocol violation) to
/// [`ROUTER_TEXT_LIMIT`] bytes at a character boundary, noting the original length: the router
/// may send up to the message size limit (16 MiB by default), which no log line, error or ABORT
/// should repeat.
pub(crate) fn clip(text: &str) -> Cow<'_, str> {
    if text.len() <= ROUTER_TEXT_LIMIT {
        return Cow::Borrowed(text);
    }
    let mut end = ROUTER_TEXT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = text.get(..end).unwrap_or_default();
    Cow::Owned(format!("{head}… ({} bytes)", text.len()))
}

/// Shorthand for `Result<T, wampkit_client::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a WAMP session.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection to the router could not be opened (TCP, TLS or WebSocket handshake, or no
    /// common serializer).
    #[error(transparent)]
    Connect(#[from] ConnectError),

    /// The router refused to open the session: it answered HELLO (or AUTHENTICATE) with ABORT.
    /// `uri` says why, e.g. [`ErrorUri::NoSuchRealm`] or [`ErrorUri::NotAuthorized`].
    #[error("the router refused the session: {0}")]
    Aborted(WampError),

    /// This client refused to go on with the authentication while joining, and sent ABORT
    /// `wamp.error.authentication_failed`: the router failed to prove its identity, asked for a
    /// key derivation outside this client's limits, sent a CHALLENGE for a method that was not
    /// offered, or an authenticator failed (e.g. a malformed private key).
    /// [`AuthError::kind`](crate::auth::AuthError::kind) tells these apart.
    #[error("this client aborted the authentication: {0}")]
    Authentication(crate::auth::AuthError),

    /// A WAMP `ERROR` answered the request: an application error raised by the callee, or a
    /// router error such as [`ErrorUri::NoSuchProcedure`].
    #[error(transparent)]
    Wamp(#[from] WampError),

    /// The session ended before the operation could complete, or the operation was started on a
    /// session that is already closed. Open a new session to continue.
    #[error("the session is closed: {0}")]
    SessionClosed(CloseReason),

    /// The connection is down and the session is reconnecting
    /// ([`SessionBuilder::reconnect`](crate::SessionBuilder::reconnect)): the request was not
    /// sent, or its answer was lost with the connection. Retry once the session has rejoined
    /// (see [`Session::states`](crate::Session::states)), or mark calls
    /// [`wait_for_session`](crate::rpc::Call::wait_for_session) or
    /// [`idempotent`](crate::rpc::Call::idempotent).
    #[error("the connection is down and the session is reconnecting ({0})")]
    Disconnected(CloseReason),

    /// The peer sent something WAMP does not allow. The session has been aborted with
    /// `wamp.error.protocol_violation`. Its [`source`](std::error::Error::source) is the
    /// [`InvalidMessage`] when the message could not be decoded at all.
    #[error(transparent)]
    ProtocolViolation(ProtocolViolation),

    /// Arguments could not be converted to WAMP values, or a received payload does not have the
    /// shape the caller asked for. The [`ValueError`] says whose payload it was (the procedure
    /// or topic, [`ValueError::payload_of`]) and which argument ([`ValueError::argument`]).
    #[error("payload conversion failed: {0}")]
    Payload(#[from] ValueError),

    /// An end-to-end encoded payload could not be encoded or decoded (see [`crate::e2ee`]); a
    /// call whose answer does not decrypt ends with it.
    #[error(transparent)]
    PayloadCodec(#[from] crate::e2ee::PayloadCodecError),

    /// A URI given to the client is not valid for this use.
    #[error("invalid URI `{uri}`: {reason}")]
    InvalidUri {
        /// The offending URI.
        uri: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// Two procedures (or two event handlers) of one `#[service]` would register URIs a
    /// router cannot tell apart: the same URI, or wildcard patterns that both match some URI
    /// (`com.example.user..rename` and `com.example..admin.rename`), so a call could reach
    /// either. Nothing of the service stays registered. Seen when registering because a URI
    /// depends on the prefix given at run time; the ones known when compiling are compile
    /// errors.
    #[error(
        "`{first}` and `{second}` of one service match the same URIs, so a call could reach either: give one of the methods another URI"
    )]
    OverlappingUris {
        /// The URI or pattern registered first.
        first: String,
        /// The one that overlaps it.
        second: String,
    },

    /// A message could not be encoded for the transport.
    #[error(transparent)]
    Encode(#[from] crate::wire::EncodeError),

    /// The operation did not complete in time.
    #[error("{}timed out after {after:?}: {what}", call_of(procedure.as_deref()))]
    Timeout {
        /// How long the operation was given.
        after: std::time::Duration,
        /// What did not complete, e.g. `"connecting and joining the realm"`.
        what: &'static str,
        /// The procedure, when a call timed out ([`Call::timeout`](crate::rpc::Call::timeout)).
        procedure: Option<String>,
    },

    /// A call's progressive results arrived faster than its [`CallStream`](crate::rpc::CallStream)
    /// was read: more than `limit` waited unread. The call was canceled at the router; the
    /// results buffered before this error were delivered.
    #[error(
        "more than {limit} progressive results of the call waited unread, so the call was canceled: read the CallStream faster, or raise the buffer with Call::progress_buffer or SessionBuilder::max_progress_buffer"
    )]
    ProgressOverflow {
        /// The buffer's size.
        limit: usize,
    },

    /// The session task has `limit` requests queued that it has not taken in yet, and this
    /// request cannot wait for room. Nothing was sent.
    #[error(
        "the session has {limit} requests queued that it has not sent yet: await earlier requests before sending more, or raise SessionBuilder::max_queued_commands"
    )]
    QueueFull {
        /// The queue's size.
        limit: usize,
    },

    /// The URL, serializer or method needs a Cargo feature of wampkit that this build left
    /// out, e.g. an `rs://` URL without the `rawsocket` feature. Nothing was sent.
    #[error(
        "{needed_for} needs the `{feature}` feature of wampkit: add `features = [\"{feature}\"]` to its entry in Cargo.toml"
    )]
    FeatureDisabled {
        /// The Cargo feature to enable, e.g. `"rawsocket"`.
        feature: &'static str,
        /// What needs it, e.g. ``"the `rs://` transport"``.
        needed_for: String,
    },
}

impl Error {
    /// The WAMP error URI, if the error is an `ERROR` reply or an `ABORT` (received, or sent by
    /// this client: `wamp.error.authentication_failed` for [`Error::Authentication`]).
    pub fn uri(&self) -> Option<&ErrorUri> {
        match self {
            Error::Wamp(e) | Error::Aborted(e) => Some(&e.uri),
            Error::Authentication(_) => Some(&crate::auth::CLIENT_ABORT_REASON_URI),
            _ => None,
        }
    }

    /// The WAMP error, if the error is an `ERROR` reply.
    pub fn as_wamp(&self) -> Option<&WampError> {
        match self {
            Error::Wamp(e) => Some(e),
            _ => None,
        }
    }
}

/// `the call of `{procedure}` `, the start of a call's timeout message.
fn call_of(procedure: Option<&str>) -> String {
    procedure.map_or_else(String::new, |procedure| {
        format!("the call of `{}` ", clip(procedure))
    })
}

/// Why the connection to the router could not be opened.
///
/// Its `Debug` shows the underlying error as text (`{:?}` is what
/// `fn main() -> Result<(), Box<dyn Error>>` prints): an HTTP answer where a WebSocket upgrade
/// was expected shows its status and the start of its body in `reason`, not the raw response.
#[derive(Clone)]
pub struct ConnectError {
    /// The router URL, with its password, query string and fragment masked
    /// (`ws://user:***@host/path?…`).
    pub url: String,
    /// What failed and what to check.
    pub reason: String,
    /// The underlying I/O or protocol error.
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot connect to {}: {}", self.url, self.reason)
    }
}

impl fmt::Debug for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The source's `Display`: its `Debug` may dump a response body as a list of bytes.
        let source = self.source.as_ref().map(|source| source.to_string());
        f.debug_struct("ConnectError")
            .field("url", &self.url)
            .field("reason", &self.reason)
            .field("source", &source)
            .finish()
    }
}

/// The body of an HTTP answer as text for an error: lossily decoded, whitespace collapsed,
/// clipped (see [`clip`]); `None` when empty.
pub(crate) fn http_body_text(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then(|| clip(&text).into_owned())
}

impl std::error::Error for ConnectError {
    // The error itself, not its `Arc`, so that `downcast_ref` finds it.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

impl ConnectError {
    pub(crate) fn new(url: &str, reason: impl Into<String>) -> Self {
        ConnectError {
            url: crate::transport::redact_url(url).into_owned(),
            reason: reason.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        url: &str,
        reason: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ConnectError {
            url: crate::transport::redact_url(url).into_owned(),
            reason: reason.into(),
            source: Some(Arc::new(source)),
        }
    }
}

/// What a peer sent that WAMP does not allow, inside [`Error::ProtocolViolation`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("protocol violation: {reason}")]
pub struct ProtocolViolation {
    reason: String,
    #[source]
    invalid: Option<InvalidMessage>,
}

impl ProtocolViolation {
    /// A violation described by `reason` (clipped, see [`clip`]).
    pub(crate) fn new(reason: &str) -> Self {
        ProtocolViolation {
            reason: clip(reason).into_owned(),
            invalid: None,
        }
    }

    /// What was wrong, for people.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The decoding error, when the message could not be decoded at all.
    pub fn invalid_message(&self) -> Option<&InvalidMessage> {
        self.invalid.as_ref()
    }
}

impl From<InvalidMessage> for ProtocolViolation {
    fn from(e: InvalidMessage) -> Self {
        ProtocolViolation {
            reason: clip(&e.to_string()).into_owned(),
            invalid: Some(e),
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseReason {
    /// The reason URI, e.g. [`ErrorUri::Normal`], [`ErrorUri::Killed`],
    /// [`ErrorUri::ProtocolViolation`]; a router's own reason is [`ErrorUri::Other`].
    pub uri: ErrorUri,
    /// The human-readable message, if the router sent one.
    pub message: Option<String>,
    /// Who ended the session.
    pub initiator: CloseInitiator,
}

/// Who ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseInitiator {
    /// This client called [`Session::leave`](crate::Session::leave) or dropped its last handle.
    Client,
    /// The router sent GOODBYE (e.g. the session was killed) or ABORT.
    Router,
    /// The connection broke without a WAMP goodbye.
    Transport,
    /// This client detected a protocol violation and aborted the session.
    ProtocolViolation,
}

impl CloseReason {
    pub(crate) fn new(
        uri: impl Into<ErrorUri>,
        message: Option<String>,
        initiator: CloseInitiator,
    ) -> Self {
        CloseReason {
            uri: uri.into(),
            message,
            initiator,
        }
    }
}

impl CloseReason {
    /// The reason of the router's GOODBYE or ABORT, with the `message` of its details, both
    /// clipped (see [`clip`]).
    pub(crate) fn from_router(reason: &str, details: &Dict) -> Self {
        let message = details
            .get("message")
            .and_then(Value::as_str)
            .map(|message| clip(message).into_owned());
        CloseReason::new(clip(reason).into_owned(), message, CloseInitiator::Router)
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match self.initiator {
            CloseInitiator::Client => "closed by this client",
            CloseInitiator::Router => "closed by the router",
            CloseInitiator::Transport => "connection lost",
            CloseInitiator::ProtocolViolation => "aborted after a protocol violation",
        };
        write!(f, "{who} ({})", self.uri)?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

/// A WAMP error: the URI of an `ERROR` or `ABORT` message with its payload.
///
/// Callees return it to answer a call with an error; callers receive it inside [`Error::Wamp`].
///
/// ```
/// use wampkit::{ErrorUri, WampError};
///
/// let err = WampError::new("com.example.error.overdrawn")
///     .with_args((-42,))
///     .with_kwargs(&serde_json::json!({"balance": -42.5}));
/// assert_eq!(err.uri, ErrorUri::Other("com.example.error.overdrawn".into()));
/// assert_eq!(err.args.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WampError {
    /// The error URI.
    pub uri: ErrorUri,
    /// Positional arguments; by convention the first is a human-readable message.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Dict,
    /// The `Details` dict of the message.
    pub details: Dict,
}

impl WampError {
    /// An error with the given URI and no payload.
    pub fn new(uri: impl Into<ErrorUri>) -> Self {
        WampError {
            uri: uri.into(),
            args: Vec::new(),
            kwargs: Dict::new(),
            details: Dict::new(),
        }
    }

    /// An error whose single positional argument is a message, as Autobahn sends them.
    pub fn with_message(uri: impl Into<ErrorUri>, message: impl Into<String>) -> Self {
        WampError {
            args: vec![Value::String(message.into())],
            ..WampError::new(uri)
        }
    }

    /// `wamp.error.invalid_argument` with a message, the answer to a payload of the wrong shape.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::with_message(ErrorUri::InvalidArgument, message)
    }

    /// Sets the positional arguments from anything that serializes to a sequence (a tuple, `Vec`,
    /// array). A value that cannot be converted becomes its error message.
    pub fn with_args(mut self, args: impl serde::Serialize) -> Self {
        self.args = match crate::value::to_value(&args) {
            Ok(Value::List(list)) => list,
            Ok(Value::Null) => Vec::new(),
            Ok(other) => vec![other],
            Err(e) => vec![Value::String(e.to_string())],
        };
        self
    }

    /// Sets the keyword arguments from anything that serializes to a map or struct.
    pub fn with_kwargs(mut self, kwargs: impl serde::Serialize) -> Self {
        if let Ok(Value::Dict(dict)) = crate::value::to_value(&kwargs) {
            self.kwargs = dict;
        }
        self
    }

    /// The first positional argument if it is a string: the conventional error message.
    pub fn message(&self) -> Option<&str> {
        self.args.first().and_then(Value::as_str)
    }

    /// Deserializes the positional arguments into `T` (e.g. a tuple).
    pub fn args<T: serde::de::DeserializeOwned>(&self) -> Result<T, ValueError> {
        crate::value::from_value(Value::List(self.args.clone()))
    }

    /// Deserializes the keyword arguments into `T` (e.g. a struct).
    pub fn kwargs<T: serde::de::DeserializeOwned>(&self) -> Result<T, ValueError> {
        crate::value::from_value(Value::Dict(self.kwargs.clone()))
    }
}

impl fmt::Display for WampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URI and payload come from the router or a callee: clipped.
        write!(f, "{}", clip(self.uri.as_str()))?;
        if let Some(message) = self.message() {
            write!(f, ": {}", clip(message))?;
            if self.args.len() > 1 {
                let rest = format!("{:?}", self.args.get(1..).unwrap_or_default());
                write!(f, " {}", clip(&rest))?;
            }
        } else if !self.args.is_empty() {
            write!(f, " {}", clip(&format!("{:?}", self.args)))?;
        }
        if !self.kwargs.is_empty() {
            write!(f, " {}", clip(&format!("{:?}", self.kwargs)))?;
        }
        if let Some(hint) = self.uri.hint() {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for WampError {}

macro_rules! error_uris {
    ($( $(#[$doc:meta])* $variant:ident => $uri:literal $(| $alias:literal)* , hint: $hint:expr ;)*) => {
        /// A WAMP error URI: the predefined `wamp.error.*` / `wamp.close.*` URIs as variants, any
        /// other (application) URI as [`ErrorUri::Other`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorUri {
            $( $(#[$doc])* $variant, )*
            /// Any other URI, typically an application error such as `com.example.error.overdrawn`.
            Other(String),
        }

        impl ErrorUri {
            /// The URI text.
            pub fn as_str(&self) -> &str {
                match self {
                    $( ErrorUri::$variant => $uri, )*
                    ErrorUri::Other(uri) => uri,
                }
            }

            /// Parses a URI, recognising the predefined ones (and their known alternative spellings).
            pub fn parse(uri: &str) -> ErrorUri {
                match uri {
                    $( $uri $(| $alias)* => ErrorUri::$variant, )*
                    other => ErrorUri::Other(other.to_owned()),
                }
            }

            /// What to check or do about this error, for the predefined URIs.
            pub fn hint(&self) -> Option<&'static str> {
                match self {
                    $( ErrorUri::$variant => $hint, )*
                    ErrorUri::Other(_) => None,
                }
            }
        }
    };
}

error_uris! {
    /// `wamp.error.invalid_uri`: a URI in the request is malformed.
    InvalidUri => "wamp.error.invalid_uri", hint: Some("check the URI syntax");
    /// `wamp.error.no_such_procedure`: nothing is registered under the called procedure.
    NoSuchProcedure => "wamp.error.no_such_procedure", hint: Some("is the callee connected to the same realm and registered yet?");
    /// `wamp.error.procedure_already_exists`: another session already registered this procedure.
    ProcedureAlreadyExists => "wamp.error.procedure_already_exists", hint: Some("use a shared registration (invoke policy) or another URI");
    /// `wamp.error.procedure_exists_with_different_invocation_policy` (Crossbar.io).
    ProcedureExistsWithDifferentInvocationPolicy => "wamp.error.procedure_exists_with_different_invocation_policy", hint: Some("register with the same invoke policy as the existing callees");
    /// `wamp.error.no_such_registration`: unknown registration id.
    NoSuchRegistration => "wamp.error.no_such_registration", hint: None;
    /// `wamp.error.no_such_subscription`: unknown subscription id.
    NoSuchSubscription => "wamp.error.no_such_subscription", hint: None;
    /// `wamp.error.no_such_session`: unknown session id (meta API).
    NoSuchSession => "wamp.error.no_such_session", hint: None;
    /// `wamp.error.invalid_argument`: the payload does not match what the callee expects.
    InvalidArgument => "wamp.error.invalid_argument", hint: Some("check the number, names and types of the arguments");
    /// `wamp.error.canceled` (also accepted as `wamp.error.cancelled`): the call was canceled.
    Canceled => "wamp.error.canceled" | "wamp.error.cancelled", hint: None;
    /// `wamp.error.timeout`: the call timed out at the router or callee.
    Timeout => "wamp.error.timeout", hint: None;
    /// `wamp.error.payload_size_exceeded`: a message is larger than the transport allows.
    PayloadSizeExceeded => "wamp.error.payload_size_exceeded", hint: Some("send less data per message");
    /// `wamp.error.protocol_violation`: a peer broke the protocol.
    ProtocolViolation => "wamp.error.protocol_violation", hint: None;
    /// `wamp.error.not_authorized`: the router's permissions deny this action (or the credentials).
    NotAuthorized => "wamp.error.not_authorized", hint: Some("check the role's permissions on the router and the credentials");
    /// `wamp.error.authorization_failed`: the router's authorizer itself failed.
    AuthorizationFailed => "wamp.error.authorization_failed", hint: None;
    /// `wamp.error.authorization_denied`.
    AuthorizationDenied => "wamp.error.authorization_denied", hint: Some("check the role's permissions on the router");
    /// `wamp.error.authentication_failed`: authentication could not be performed.
    AuthenticationFailed => "wamp.error.authentication_failed", hint: Some("check the credentials and the authentication method");
    /// `wamp.error.authentication_denied`: wrong credentials.
    AuthenticationDenied => "wamp.error.authentication_denied", hint: Some("check the credentials");
    /// `wamp.error.no_auth_method` / `wamp.error.no_matching_auth_method`: no offered method is accepted.
    NoAuthMethod => "wamp.error.no_auth_method" | "wamp.error.no_matching_auth_method", hint: Some("offer an authentication method the router's transport accepts");
    /// `wamp.error.no_such_realm`: the realm does not exist on the router.
    NoSuchRealm => "wamp.error.no_such_realm", hint: Some("check the realm name against the router configuration");
    /// `wamp.error.no_such_role`: the requested or assigned role does not exist.
    NoSuchRole => "wamp.error.no_such_role", hint: Some("check the authrole against the router configuration");
    /// `wamp.error.no_such_principal`: unknown authid.
    NoSuchPrincipal => "wamp.error.no_such_principal", hint: Some("check the authid");
    /// `wamp.error.option_not_allowed`.
    OptionNotAllowed => "wamp.error.option_not_allowed", hint: None;
    /// `wamp.error.option_disallowed.disclose_me` (also `wamp.error.disclose_me.not_allowed`).
    DiscloseMeNotAllowed => "wamp.error.option_disallowed.disclose_me" | "wamp.error.disclose_me.not_allowed", hint: None;
    /// `wamp.error.feature_not_supported`: the other peer lacks a feature the request needs.
    FeatureNotSupported => "wamp.error.feature_not_supported", hint: None;
    /// `wamp.error.unavailable`: the callee asks for the call to be rerouted.
    Unavailable => "wamp.error.unavailable", hint: None;
    /// `wamp.error.no_available_callee`: every callee answered `unavailable`.
    NoAvailableCallee => "wamp.error.no_available_callee", hint: None;
    /// `wamp.error.network_failure`.
    NetworkFailure => "wamp.error.network_failure", hint: None;
    /// `wamp.error.runtime_error`: the callee failed unexpectedly (this client sends it when a handler panics).
    RuntimeError => "wamp.error.runtime_error", hint: None;
    /// `wamp.close.system_shutdown`.
    SystemShutdown => "wamp.close.system_shutdown", hint: None;
    /// `wamp.close.close_realm`.
    CloseRealm => "wamp.close.close_realm", hint: None;
    /// `wamp.close.goodbye_and_out`.
    GoodbyeAndOut => "wamp.close.goodbye_and_out", hint: None;
    /// `wamp.close.killed`: the router killed the session.
    Killed => "wamp.close.killed", hint: None;
    /// `wamp.close.normal`.
    Normal => "wamp.close.normal", hint: None;
}

impl fmt::Display for ErrorUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ErrorUri {
    fn from(uri: &str) -> Self {
        ErrorUri::parse(uri)
    }
}

impl From<String> for ErrorUri {
    fn from(uri: String) -> Self {
        match ErrorUri::parse(&uri) {
            ErrorUri::Other(_) => ErrorUri::Other(uri),
            known => known,
        }
    }
}

impl PartialEq<str> for ErrorUri {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorUri {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<InvalidMessage> for Error {
    fn from(e: InvalidMessage) -> Self {
        Error::ProtocolViolation(e.into())
    }
}

impl From<ValueError> for WampError {
    /// A value the callee could not convert: answered as `wamp.error.runtime_error`. (Arguments
    /// of the wrong shape are reported as `wamp.error.invalid_argument` by the
    /// [`Invocation`](crate::Invocation) accessors.)
    fn from(e: ValueError) -> Self {
        WampError::with_message(
            ErrorUri::RuntimeError,
            format!("the callee could not convert a value: {e}"),
        )
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;

//! Typed application errors: a Rust error type that maps to and from WAMP error URIs.

use std::fmt;

use crate::error::{Error, WampError};

/// An error type whose values travel as WAMP errors.
///
/// Derive it with `#[derive(ApplicationError)]` on an enum whose variants carry
/// `#[wamp(uri = "...")]`: a callee returning `Err(variant)` answers with that URI (tuple fields
/// as positional arguments, named fields as keyword arguments), and a caller stub turns the URI
/// back into the variant. [`WampError`] itself implements it, for untyped errors.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a WAMP error",
    note = "derive it with `#[derive(wampkit::ApplicationError)]` and give each variant `#[wamp(uri = \"...\")]`, or use `wampkit::WampError`"
)]
pub trait ApplicationError: Sized + Send + 'static {
    /// The WAMP error this value is sent as.
    fn to_wamp_error(&self) -> WampError;

    /// The value a received WAMP error stands for, or `None` if its URI (or payload) is not one
    /// of this type's.
    fn from_wamp_error(error: &WampError) -> Option<Self>;
}

impl ApplicationError for WampError {
    fn to_wamp_error(&self) -> WampError {
        self.clone()
    }

    fn from_wamp_error(error: &WampError) -> Option<Self> {
        Some(error.clone())
    }
}

/// The error type of procedures that declare no application errors: it has no values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoError {}

impl ApplicationError for NoError {
    fn to_wamp_error(&self) -> WampError {
        match *self {}
    }

    fn from_wamp_error(_: &WampError) -> Option<Self> {
        None
    }
}

impl fmt::Display for NoError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl std::error::Error for NoError {}

/// The error of a typed call: one of the procedure's declared application errors, or anything
/// else that can go wrong.
///
/// ```
/// use wampkit::{CallError, Error, ErrorUri, WampError};
///
/// fn describe(err: &CallError<WampError>) -> String {
///     match err {
///         CallError::Application(e) => format!("the callee said {}", e.uri),
///         CallError::Other(Error::SessionClosed(reason)) => format!("closed: {reason}"),
///         CallError::Other(e) => e.to_string(),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub enum CallError<E = NoError> {
    /// The callee answered with one of the procedure's declared errors.
    Application(E),
    /// Any other failure: an undeclared WAMP error (such as `wamp.error.no_such_procedure`, in
    /// [`Error::Wamp`]), a closed session, a payload that does not convert.
    Other(Error),
}

impl<E> CallError<E> {
    /// The declared application error, if it is one.
    pub fn application(&self) -> Option<&E> {
        match self {
            CallError::Application(e) => Some(e),
            CallError::Other(_) => None,
        }
    }

    /// The undeclared WAMP error, if the failure is one (e.g. `wamp.error.no_such_procedure`).
    pub fn wamp(&self) -> Option<&WampError> {
        match self {
            CallError::Other(Error::Wamp(e)) => Some(e),
            _ => None,
        }
    }
}

impl<E: ApplicationError> From<Error> for CallError<E> {
    /// Recognises the declared application errors among WAMP errors.
    fn from(error: Error) -> Self {
        if let Error::Wamp(wamp) = &error {
            if let Some(application) = E::from_wamp_error(wamp) {
                return CallError::Application(application);
            }
        }
        CallError::Other(error)
    }
}

impl<E: ApplicationError> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Application(e) => write!(f, "application error {}", e.to_wamp_error()),
            CallError::Other(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: ApplicationError + fmt::Debug> std::error::Error for CallError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CallError::Application(_) => None,
            CallError::Other(e) => Some(e),
        }
    }
}

//! Support for the code that [`service`](crate::service) and
//! [`ApplicationError`](macro@crate::ApplicationError) generate.
//!
//! Generated code uses only public API, and this module is the part of it written for that code:
//! binding parameters the way a Python callee binds them, turning results and errors into
//! payloads, and registering a service's methods as one unit. Application code rarely needs it
//! directly. Keeping this logic in ordinary functions keeps the generated code small.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::app_error::{ApplicationError, CallError};
use crate::api::arguments::Arguments;
use crate::api::call::CallResult;
use crate::api::register::{Handler, Invocation};
use crate::api::service::ServiceRegistration;
use crate::api::subscribe::Event;
use crate::error::{Error, Result, WampError};
use crate::session::Session;
use crate::value::{Dict, Value, ValueError, from_value, to_value};

/// Reads typed parameters from positional and keyword arguments, the way a Python callee binds
/// them: parameter `i` is positional argument `i` if there is one, else the keyword argument of
/// the same name, else `null` (which an `Option` parameter accepts).
pub struct Params<'a> {
    args: &'a [Value],
    kwargs: &'a Dict,
}

impl<'a> Params<'a> {
    /// Parameters of an invocation.
    pub fn of_invocation(invocation: &'a Invocation) -> Self {
        Params {
            args: &invocation.args,
            kwargs: &invocation.kwargs,
        }
    }

    /// Parameters of an event.
    pub fn of_event(event: &'a Event) -> Self {
        Params {
            args: &event.args,
            kwargs: &event.kwargs,
        }
    }

    /// Rejects extra positional arguments, unknown keyword arguments, and parameters given both
    /// ways. `names` are the parameters in order.
    pub fn check(&self, names: &[&str]) -> std::result::Result<(), String> {
        if self.args.len() > names.len() {
            return Err(format!(
                "expected at most {} positional argument{} ({}), got {}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", "),
                self.args.len()
            ));
        }
        for key in self.kwargs.keys() {
            match names.iter().position(|name| name == key) {
                None => {
                    return Err(format!(
                        "unexpected keyword argument `{key}` (parameters: {})",
                        names.join(", ")
                    ));
                }
                Some(index) if index < self.args.len() => {
                    return Err(format!(
                        "argument `{key}` given both by position and by keyword"
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Rejects positional arguments, for a method taking one struct of keyword arguments.
    pub fn check_keyword_only(&self) -> std::result::Result<(), String> {
        if self.args.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "expected keyword arguments only, got {} positional argument{}",
                self.args.len(),
                if self.args.len() == 1 { "" } else { "s" }
            ))
        }
    }

    /// Parameter `index` named `name`.
    pub fn get<T: DeserializeOwned>(
        &self,
        index: usize,
        name: &str,
    ) -> std::result::Result<T, String> {
        let value = match self.args.get(index) {
            Some(value) => value.clone(),
            None => self.kwargs.get(name).cloned().unwrap_or(Value::Null),
        };
        let missing = value.is_null();
        from_value(value).map_err(|e| {
            if missing {
                format!("missing argument `{name}`")
            } else {
                format!("argument `{name}`: {e}")
            }
        })
    }

    /// All keyword arguments as one struct (a parameter marked `#[wamp(kwargs)]`).
    pub fn kwargs<T: DeserializeOwned>(&self, name: &str) -> std::result::Result<T, String> {
        from_value(Value::Dict(self.kwargs.clone()))
            .map_err(|e| format!("keyword arguments (`{name}`): {e}"))
    }
}

/// Turns a parameter problem into the answer a caller gets.
pub fn invalid_argument(procedure: &str, problem: String) -> WampError {
    WampError::invalid_argument(format!("{procedure}: {problem}"))
}

/// Answers with a value: one positional result (nothing for `()` and `None`).
pub fn respond_value<T: Serialize>(value: T) -> std::result::Result<Arguments, WampError> {
    match to_value(&value)? {
        Value::Null => Ok(Arguments::new()),
        value => Ok(Arguments {
            args: vec![value],
            kwargs: Dict::new(),
        }),
    }
}

/// Answers with a value or a declared application error.
pub fn respond_result<T: Serialize, E: ApplicationError>(
    result: std::result::Result<T, E>,
) -> std::result::Result<Arguments, WampError> {
    match result {
        Ok(value) => respond_value(value),
        Err(error) => Err(error.to_wamp_error()),
    }
}

/// Decodes a call result into the return type: no result reads as `null` (for `()` and
/// `Option`), one positional result as itself, several as a list (for tuples).
pub fn decode_result<T: DeserializeOwned, E: ApplicationError>(
    result: Result<CallResult>,
) -> std::result::Result<T, CallError<E>> {
    let result = result.map_err(CallError::from)?;
    let value = match result.args.len() {
        0 => Value::Null,
        1 => result.args.into_iter().next().unwrap_or(Value::Null),
        _ => Value::List(result.args),
    };
    from_value(value)
        .map_err(|e| CallError::Other(Error::Payload(ValueError::new(format!("result: {e}")))))
}

/// Adds a keyword argument for a caller or publisher stub.
pub fn insert_kwarg<T: Serialize>(
    kwargs: &mut Dict,
    name: &str,
    value: &T,
) -> std::result::Result<(), ValueError> {
    let value = to_value(value).map_err(|e| ValueError::new(format!("argument `{name}`: {e}")))?;
    kwargs.insert(name.to_owned(), value);
    Ok(())
}

/// Converts a struct into keyword arguments for a caller or publisher stub.
pub fn kwargs_of<T: Serialize>(value: &T) -> std::result::Result<Dict, ValueError> {
    crate::api::arguments::keyword_values(value)
}

/// Logs what an event handler could not process: events have no one to answer.
pub fn event_problem(topic: &str, problem: &str) {
    tracing::warn!(
        topic,
        problem,
        "dropping an event the subscriber cannot decode"
    );
}

/// Logs an error an event handler returned.
pub fn event_handler_failed<E: std::fmt::Debug>(topic: &str, error: E) {
    tracing::warn!(topic, error = ?error, "event handler failed");
}

/// Collects the registrations and subscriptions of a service being registered.
pub struct ServiceBuilder<'a> {
    session: &'a Session,
    registration: ServiceRegistration,
}

impl<'a> ServiceBuilder<'a> {
    /// Starts registering a service on `session`.
    pub fn new(session: &'a Session) -> Self {
        ServiceBuilder {
            session,
            registration: ServiceRegistration::default(),
        }
    }

    /// Registers one procedure.
    pub async fn procedure(
        &mut self,
        procedure: &str,
        options: &[(&str, Value)],
        handler: impl Handler,
    ) -> Result<()> {
        let mut register = self.session.register(procedure, handler);
        for (key, value) in options {
            register = register.option(*key, value.clone());
        }
        self.registration.registrations.push(register.await?);
        Ok(())
    }

    /// Subscribes one event handler.
    pub async fn topic<F, Fut>(
        &mut self,
        topic: &str,
        options: &[(&str, Value)],
        handler: F,
    ) -> Result<()>
    where
        F: Fn(Event) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut subscribe = self.session.subscribe(topic);
        for (key, value) in options {
            subscribe = subscribe.option(*key, value.clone());
        }
        let subscription = subscribe.await?;
        self.registration
            .subscriptions
            .push(subscription.handle(handler));
        Ok(())
    }

    /// The finished registration.
    pub fn finish(self) -> ServiceRegistration {
        self.registration
    }
}

/// Positional arguments from a tuple of parameters, for caller and publisher stubs.
pub fn positional<T: Serialize>(args: &T) -> std::result::Result<Vec<Value>, ValueError> {
    crate::api::arguments::positional_values(args)
}

/// One field of an application error as a value (a field that cannot be converted is sent as
/// its error message, so the error itself still goes out).
pub fn error_value<T: Serialize>(value: &T) -> Value {
    to_value(value).unwrap_or_else(|e| Value::String(e.to_string()))
}

/// Positional argument `index` of a received error, for `ApplicationError::from_wamp_error`.
pub fn error_arg<T: DeserializeOwned>(args: &[Value], index: usize) -> Option<T> {
    from_value(args.get(index).cloned().unwrap_or(Value::Null)).ok()
}

/// Keyword argument `key` of a received error, for `ApplicationError::from_wamp_error`.
pub fn error_kwarg<T: DeserializeOwned>(kwargs: &Dict, key: &str) -> Option<T> {
    from_value(kwargs.get(key).cloned().unwrap_or(Value::Null)).ok()
}

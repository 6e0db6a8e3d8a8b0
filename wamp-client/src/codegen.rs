//! Support for the code that the `service` attribute and the `ApplicationError` derive (the
//! `macros` feature) generate.
//!
//! Generated code uses only public API, and this module is the part of it written for that code:
//! binding parameters the way a Python callee binds them, turning results and errors into
//! payloads, and registering a service's methods as one unit. Application code rarely needs it
//! directly. Keeping this logic in ordinary functions keeps the generated code small.

use std::fmt::Display;
use std::future::Future;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::app_error::{ApplicationError, CallError};
use crate::api::service::ServiceRegistration;
use crate::error::{Error, Result, WampError};
use crate::payload::arguments::PendingArguments;
use crate::payload::{Arguments, CallResult, Event, Handler, Invocation, read};
use crate::session::Session;
use crate::uri::UriUse;
use crate::value::{Dict, Value, ValueError, from_value, to_value};
use crate::wire::Payload;

/// Reads typed parameters from positional and keyword arguments, the way a Python callee binds
/// them: parameter `i` is positional argument `i` if there is one, else the keyword argument of
/// the same name, else `null` (which an `Option` parameter accepts). Each parameter is decoded
/// straight from the received bytes into its type.
pub struct Params<'a> {
    payload: &'a Payload,
}

impl<'a> Params<'a> {
    /// Parameters of an invocation.
    pub fn of_invocation(invocation: &'a Invocation) -> Self {
        Params {
            payload: &invocation.payload,
        }
    }

    /// Parameters of an event.
    pub fn of_event(event: &'a Event) -> Self {
        Params {
            payload: &event.payload,
        }
    }

    fn arg_count(&self) -> usize {
        read::arg_count(self.payload)
    }

    /// Rejects extra positional arguments, unknown keyword arguments, and parameters given both
    /// ways. `names` are the parameters in order.
    pub fn check(&self, names: &[&str]) -> std::result::Result<(), String> {
        let arg_count = self.arg_count();
        if arg_count > names.len() {
            return Err(format!(
                "expected at most {} positional argument{} ({}), got {}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", "),
                arg_count
            ));
        }
        if read::kwarg_count(self.payload) == 0 {
            return Ok(());
        }
        for key in read::kwarg_names(self.payload) {
            match names.iter().position(|name| *name == key) {
                None => {
                    return Err(format!(
                        "unexpected keyword argument `{key}` (parameters: {})",
                        names.join(", ")
                    ));
                }
                Some(index) if index < arg_count => {
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
        let arg_count = self.arg_count();
        if arg_count == 0 {
            Ok(())
        } else {
            Err(format!(
                "expected keyword arguments only, got {} positional argument{}",
                arg_count,
                if arg_count == 1 { "" } else { "s" }
            ))
        }
    }

    /// Parameter `index` named `name`.
    pub fn get<T: DeserializeOwned>(
        &self,
        index: usize,
        name: &str,
    ) -> std::result::Result<T, String> {
        let found = if index < self.arg_count() {
            read::arg_plain::<T>(self.payload, index)
        } else {
            read::kwarg_plain::<T>(self.payload, name)
        };
        let decoded = match found {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => from_value(Value::Null),
            Err(e) => Err(e),
        };
        decoded.map_err(|e| {
            // A parameter that is absent or `null` and does not take `null` is missing. (Only
            // on this error path is the value looked at again.)
            let value = if index < self.arg_count() {
                read::arg_plain::<Value>(self.payload, index)
            } else {
                read::kwarg_plain::<Value>(self.payload, name)
            };
            if matches!(value, Ok(None | Some(Value::Null))) {
                format!("missing argument `{name}`")
            } else {
                format!("argument `{name}`: {e}")
            }
        })
    }

    /// All keyword arguments as one struct (a parameter marked `#[wamp(kwargs)]`).
    pub fn kwargs<T: DeserializeOwned>(&self, name: &str) -> std::result::Result<T, String> {
        read::kwargs_plain::<T>(self.payload)
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

/// Decodes the result of a call to `procedure` into the return type: no result reads as `null`
/// (for `()` and `Option`), one positional result as itself, several as a list (for tuples). A
/// result that does not fit names the procedure.
pub fn decode_result<T: DeserializeOwned, E: ApplicationError>(
    procedure: &str,
    result: Result<CallResult>,
) -> std::result::Result<T, CallError<E>> {
    let result = result.map_err(CallError::from)?;
    let payload = result.payload();
    let decoded = match read::arg_count(payload) {
        0 => from_value(Value::Null),
        1 => read::arg_plain(payload, 0)
            .and_then(|found| found.map_or_else(|| from_value(Value::Null), Ok)),
        _ => read::args_plain(payload),
    };
    decoded.map_err(|e| {
        CallError::Other(Error::Payload(ValueError::new(format!(
            "the result of `{procedure}`: {e}"
        ))))
    })
}

/// Converts argument `name` for a caller or publisher stub of `uri` (a procedure or a topic).
pub fn argument<T: Serialize>(
    uri: &str,
    name: &str,
    value: &T,
) -> std::result::Result<Value, ValueError> {
    to_value(value).map_err(|e| ValueError::new(format!("`{uri}`, argument `{name}`: {e}")))
}

pub use crate::payload::arguments::StubArguments;
/// For the tuple of a stub's arguments, which implements `Serialize`.
pub use serde;

/// The positional arguments of a caller or publisher stub of `uri` (`args`, a tuple of the
/// stub's parameters named `names`), encoded straight into the session's serializer: an
/// argument that cannot be converted fails here, named.
pub fn stub_positional<T: Serialize>(
    session: &Session,
    uri: &str,
    names: &[&str],
    args: &T,
) -> std::result::Result<StubArguments, ValueError> {
    PendingArguments::positional_named(args, session.arguments_serializer(), uri, names)
        .map(StubArguments)
}

/// The keyword arguments of a caller or publisher stub of `uri` from its struct parameter
/// `name`, encoded straight into the session's serializer.
pub fn stub_kwargs<T: Serialize>(
    session: &Session,
    uri: &str,
    name: &str,
    kwargs: &T,
) -> std::result::Result<StubArguments, ValueError> {
    PendingArguments::keyword_named(kwargs, session.arguments_serializer(), uri, name)
        .map(StubArguments)
}

/// Arguments a stub converted into values itself.
pub fn stub_prepared(arguments: Arguments) -> StubArguments {
    StubArguments(PendingArguments::prepared(arguments))
}

/// Writes one element of a stub's arguments tuple. Called with the parameter's type, spanned at
/// it, so that a type that is not `Serialize` is reported there.
pub fn stub_element<S: serde::ser::SerializeTuple, T: Serialize + ?Sized>(
    tuple: &mut S,
    value: &T,
) -> std::result::Result<(), S::Error> {
    tuple.serialize_element(value)
}

/// Adds keyword argument `name` for a caller or publisher stub of `uri`.
pub fn insert_kwarg<T: Serialize>(
    uri: &str,
    kwargs: &mut Dict,
    name: &str,
    value: &T,
) -> std::result::Result<(), ValueError> {
    let value = argument(uri, name, value)?;
    kwargs.insert(name.to_owned(), value);
    Ok(())
}

/// What a service registered with an error hook calls for each event a typed handler cannot
/// decode: the event as received, and an [`Error::Payload`] naming the topic and the problem.
pub type EventErrorHook = std::sync::Arc<dyn Fn(&Event, Error) + Send + Sync>;

/// Reports an event a typed handler cannot decode: events have no one to answer, so the problem
/// is logged and, if the service has one, given to its error hook.
pub fn event_problem(event: &Event, hook: Option<&EventErrorHook>, problem: &str) {
    let topic = event.topic.as_str();
    tracing::warn!(
        topic,
        problem,
        "dropping an event the subscriber cannot decode"
    );
    if let Some(hook) = hook {
        let error = ValueError::new(format!("an event on `{topic}`: {problem}"));
        hook(event, Error::Payload(error));
    }
}

/// Whether `event` arrived with an end-to-end encoded payload that could not be decoded (see
/// [`Event::payload_error`]): then no typed handler may run. The problem is logged and, if the
/// service has one, given to its error hook as [`Error::PayloadCodec`].
fn event_unreadable(event: &Event, hook: Option<&EventErrorHook>) -> bool {
    let Some(error) = event.payload_error() else {
        return false;
    };
    tracing::warn!(
        topic = event.topic.as_str(),
        problem = %error,
        "dropping an event whose payload cannot be decoded"
    );
    if let Some(hook) = hook {
        hook(event, Error::PayloadCodec(error.clone()));
    }
    true
}

/// Logs an error an event handler returned.
pub fn event_handler_failed<E: std::fmt::Debug>(topic: &str, error: E) {
    tracing::warn!(topic, error = ?error, "event handler failed");
}

/// Checks a prefix given at run time (`register_with_prefix`, `with_prefix`) with the session's
/// URI rule: a URI of non-empty components.
pub fn check_prefix(session: &Session, prefix: &str) -> Result<()> {
    session.uri_check().check(prefix, UriUse::Reference)
}

/// The URI `relative` under `prefix`.
pub fn join_uri(prefix: &str, relative: &str) -> String {
    let mut uri = String::with_capacity(prefix.len() + 1 + relative.len());
    uri.push_str(prefix);
    uri.push('.');
    uri.push_str(relative);
    uri
}

/// The type of a `{name}` parameter of a URI template: the caller formats it into the URI
/// (`Display`), the callee parses it back (`FromStr`, with an error that says what is wrong).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot fill a `{{name}}` URI component: it must implement `Display` and `FromStr` (with a `Display` error)",
    label = "formatted into the URI by callers, parsed from it by the service"
)]
pub trait UriParam: Display + Sized {
    /// Parses a URI component, or says why it is not one.
    fn parse_component(component: &str) -> std::result::Result<Self, String>;
}

impl<T> UriParam for T
where
    T: Display + FromStr,
    T::Err: Display,
{
    fn parse_component(component: &str) -> std::result::Result<Self, String> {
        component.parse().map_err(|e: T::Err| e.to_string())
    }
}

/// One component of a URI template, as a generated caller fills it in.
#[derive(Clone, Copy)]
pub enum UriPart<'a> {
    /// Written in the template.
    Literal(&'static str),
    /// A parameter's value, formatted with `Display`.
    Value(&'a dyn Display),
}

/// A parameter's value as a URI component. Generated code names the parameter's type here, so a
/// type that cannot fill a URI component is reported at it.
pub fn uri_value<T: UriParam>(value: &T) -> UriPart<'_> {
    UriPart::Value(value)
}

/// Fills a URI template: `prefix` (for a URI relative to the service's prefix), then `parts`,
/// dot-separated. A value must format as one component: not empty, without `.`, `#` or
/// whitespace, else the URI would name another procedure or topic than the one meant.
pub fn fill_uri(prefix: Option<&str>, parts: &[UriPart<'_>]) -> Result<String> {
    use std::fmt::Write as _;
    let mut uri = String::new();
    if let Some(prefix) = prefix {
        uri.push_str(prefix);
    }
    let mut bad_value = false;
    for part in parts {
        if !uri.is_empty() {
            uri.push('.');
        }
        match part {
            UriPart::Literal(text) => uri.push_str(text),
            UriPart::Value(value) => {
                let start = uri.len();
                // Writing into a String cannot fail; a Display impl that fails leaves a part.
                let _ = write!(uri, "{value}");
                let component = uri.get(start..).unwrap_or_default();
                bad_value |= component.is_empty()
                    || component
                        .chars()
                        .any(|c| c == '.' || c == '#' || c.is_whitespace());
            }
        }
    }
    if bad_value {
        return Err(Error::InvalidUri {
            uri,
            reason: "a value filled into a URI template must be one URI component: not empty, without `.`, `#` or whitespace",
        });
    }
    Ok(uri)
}

/// Parses the `{name}` component of `uri`, the concrete URI a pattern registration or
/// subscription received: the component `from_end` places before the last one (the router
/// matches wildcard patterns component by component, so the position is fixed from the end even
/// under a prefix chosen at run time).
pub fn uri_component<T: UriParam>(
    uri: &str,
    from_end: usize,
    name: &str,
) -> std::result::Result<T, String> {
    let Some(component) = uri.rsplit('.').nth(from_end) else {
        return Err(format!("`{uri}` has no component for `{{{name}}}`"));
    };
    T::parse_component(component)
        .map_err(|e| format!("URI component `{{{name}}}` (`{component}` in `{uri}`): {e}"))
}

/// Collects the registrations and subscriptions of a service being registered.
pub struct ServiceBuilder<'a> {
    session: &'a Session,
    registration: ServiceRegistration,
    event_error_hook: Option<EventErrorHook>,
    /// The URIs registered so far, whether each is a wildcard pattern, and whether it is a
    /// topic: two methods must not match the same URIs.
    uris: Vec<(String, bool, bool)>,
}

impl<'a> ServiceBuilder<'a> {
    /// Starts registering a service on `session`; `event_error_hook` hears of the events its
    /// handlers cannot decode.
    pub fn new(session: &'a Session, event_error_hook: Option<EventErrorHook>) -> Self {
        ServiceBuilder {
            session,
            registration: ServiceRegistration::default(),
            event_error_hook,
            uris: Vec::new(),
        }
    }

    /// Refuses `uri` if an earlier method of the same kind registered the same URI or, for
    /// procedures, an overlapping wildcard pattern.
    fn claim(&mut self, uri: &str, options: &[(&str, Value)], topic: bool) -> Result<()> {
        let wildcard = options
            .iter()
            .any(|(key, value)| *key == "match" && value.as_str() == Some("wildcard"));
        let clash = self
            .uris
            .iter()
            .find(|(other, other_wildcard, other_topic)| {
                *other_topic == topic
                    && (other == uri
                        || (!topic
                            && wildcard
                            && *other_wildcard
                            && crate::uri::wildcard_patterns_overlap(other, uri)))
            });
        if let Some((first, _, _)) = clash {
            return Err(Error::OverlappingUris {
                first: first.clone(),
                second: uri.to_owned(),
            });
        }
        self.uris.push((uri.to_owned(), wildcard, topic));
        Ok(())
    }

    /// The hook the service's event handlers report undecodable events to.
    pub fn event_error_hook(&self) -> Option<EventErrorHook> {
        self.event_error_hook.clone()
    }

    /// Registers one procedure.
    pub async fn procedure(
        &mut self,
        procedure: &str,
        options: &[(&str, Value)],
        handler: impl Handler,
    ) -> Result<()> {
        self.claim(procedure, options, false)?;
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
        self.claim(topic, options, true)?;
        let mut subscribe = self.session.subscribe(topic);
        for (key, value) in options {
            subscribe = subscribe.option(*key, value.clone());
        }
        let subscription = subscribe.await?;
        // An event whose encrypted payload did not decode runs no handler, not even one
        // without parameters: the hook hears of it instead.
        let hook = self.event_error_hook.clone();
        let guarded = move |event: Event| {
            let run = (!event_unreadable(&event, hook.as_ref())).then(|| handler(event));
            async move {
                if let Some(run) = run {
                    run.await;
                }
            }
        };
        self.registration
            .subscriptions
            .push(subscription.handle(guarded));
        Ok(())
    }

    /// The finished registration.
    pub fn finish(self) -> ServiceRegistration {
        self.registration
    }
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

pub use futures_util::Stream;

/// Serves a method returning a stream of values: every item but the last goes out as a
/// progressive result if the caller asked for progress, and the last item is the final result
/// (no result at all for an empty stream). A caller that did not ask for progress receives only
/// the last item.
pub async fn respond_stream<S, T>(
    stream: S,
    progress: Option<&crate::payload::ProgressSender>,
) -> std::result::Result<Arguments, WampError>
where
    S: Stream<Item = T> + Send,
    T: Serialize,
{
    use futures_util::StreamExt as _;
    let mut stream = std::pin::pin!(stream);
    let mut last: Option<T> = None;
    while let Some(item) = stream.next().await {
        if let Some(previous) = last.replace(item) {
            if let Some(progress) = progress {
                let arguments = respond_value(previous)?;
                if progress.send(arguments).is_err() {
                    break;
                }
            }
        }
    }
    match last {
        Some(value) => respond_value(value),
        None => Ok(Arguments::new()),
    }
}

/// Serves a method returning a stream of `Result`s: like [`respond_stream`], and an `Err` item
/// ends the call with that application error.
pub async fn respond_stream_result<S, T, E>(
    stream: S,
    progress: Option<&crate::payload::ProgressSender>,
) -> std::result::Result<Arguments, WampError>
where
    S: Stream<Item = std::result::Result<T, E>> + Send,
    T: Serialize,
    E: ApplicationError,
{
    use futures_util::StreamExt as _;
    let mut stream = std::pin::pin!(stream);
    let mut last: Option<T> = None;
    while let Some(item) = stream.next().await {
        let item = match item {
            Ok(item) => item,
            Err(error) => {
                // Everything produced before the error still reaches a progress-aware caller.
                if let (Some(previous), Some(progress)) = (last.take(), progress) {
                    let _ = progress.send(respond_value(previous)?);
                }
                return Err(error.to_wamp_error());
            }
        };
        if let Some(previous) = last.replace(item) {
            if let Some(progress) = progress {
                let arguments = respond_value(previous)?;
                if progress.send(arguments).is_err() {
                    break;
                }
            }
        }
    }
    match last {
        Some(value) => respond_value(value),
        None => Ok(Arguments::new()),
    }
}

/// The typed results of a progressive call made through a generated client: each progressive
/// result and the final one, decoded into `T`. An empty final result ends the stream without an
/// item. Dropping it cancels the call.
#[must_use = "streams do nothing unless polled"]
pub struct TypedCallStream<T, E> {
    procedure: String,
    inner: Option<crate::api::call::CallStream>,
    failed: Option<CallError<E>>,
    _types: std::marker::PhantomData<fn() -> T>,
}

impl<T, E> std::fmt::Debug for TypedCallStream<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedCallStream")
            .field("procedure", &self.procedure)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<T, E> TypedCallStream<T, E> {
    /// A stream over the results of `call`, a call to `procedure`.
    pub fn new(procedure: &str, call: crate::api::call::CallStream) -> Self {
        TypedCallStream {
            procedure: procedure.to_owned(),
            inner: Some(call),
            failed: None,
            _types: std::marker::PhantomData,
        }
    }

    /// A stream that yields `error` once (the call to `procedure` could not be sent).
    pub fn failed(procedure: &str, error: CallError<E>) -> Self {
        TypedCallStream {
            procedure: procedure.to_owned(),
            inner: None,
            failed: Some(error),
            _types: std::marker::PhantomData,
        }
    }
}

impl<T, E> Unpin for TypedCallStream<T, E> {}

impl<T: DeserializeOwned, E: ApplicationError> Stream for TypedCallStream<T, E> {
    type Item = std::result::Result<T, CallError<E>>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = self.get_mut();
        if let Some(error) = this.failed.take() {
            return Poll::Ready(Some(Err(error)));
        }
        let Some(inner) = &mut this.inner else {
            return Poll::Ready(None);
        };
        loop {
            return match std::pin::Pin::new(&mut *inner).poll_next(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => {
                    this.inner = None;
                    Poll::Ready(None)
                }
                Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(CallError::from(error)))),
                Poll::Ready(Some(Ok(result))) => {
                    if !result.is_progress() && result.arg_count() == 0 && result.kwarg_count() == 0
                    {
                        // An empty final result: the stream had no last item.
                        continue;
                    }
                    Poll::Ready(Some(decode_result(&this.procedure, Ok(result))))
                }
            };
        }
    }
}

//! [`ValueError`], the error of converting to and from a [`Value`](super::Value), and where in a
//! payload it happened.

use std::fmt;

use serde::ser;

/// The error of [`to_value`](super::to_value) and [`from_value`](super::from_value): a value could not be
/// converted to or from a [`Value`](super::Value).
///
/// The message describes the problem, e.g. `invalid type: string "x", expected i64`. When the
/// value was part of a WAMP payload, the error also says whose payload it was
/// ([`payload_of`](ValueError::payload_of): the procedure or topic) and which argument
/// ([`argument`](ValueError::argument)), and its `Display` starts with both:
///
/// ```
/// use wampkit::Error;
/// use wampkit::value::{ArgumentRef, PayloadOf};
///
/// fn describe(err: &Error) -> String {
///     match err {
///         Error::Payload(e) => match (e.payload_of(), e.argument()) {
///             (Some(PayloadOf::Result { procedure: Some(p) }), Some(ArgumentRef::Index(i))) => {
///                 format!("result {i} of {p} has the wrong type")
///             }
///             _ => e.to_string(),
///         },
///         other => other.to_string(),
///     }
/// }
/// # let _ = describe;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    message: String,
    /// Boxed: most errors carry none, and the error travels inside every `Result`.
    place: Option<Box<Place>>,
}

/// Whose payload and which argument.
#[derive(Debug, Clone, PartialEq, Default)]
struct Place {
    of: Option<PayloadOf>,
    argument: Option<ArgumentRef>,
}

/// Whose payload a [`ValueError`] concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadOf {
    /// The result of a call, as the caller reads it. `procedure` is known when the result was
    /// read with [`Call::result`](crate::rpc::Call::result); a [`CallResult`](crate::CallResult)
    /// awaited first does not keep its procedure (that would cost every pending call its URI).
    Result {
        /// The procedure called.
        procedure: Option<String>,
    },
    /// The arguments of an invocation, as the callee reads them.
    Arguments {
        /// The procedure called (the concrete URI for pattern-based registrations).
        procedure: String,
    },
    /// The payload of an event, as the subscriber reads it.
    Event {
        /// The topic the event was published to.
        topic: String,
    },
}

/// Which argument of a payload a [`ValueError`] concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgumentRef {
    /// All positional arguments, read together (e.g. into a tuple).
    Positional,
    /// One positional argument.
    Index(usize),
    /// All keyword arguments, read together (e.g. into a struct).
    Keywords,
    /// One keyword argument.
    Key(String),
}

impl ValueError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        ValueError {
            message: message.into(),
            place: None,
        }
    }

    /// The error message, without the payload and argument it concerns.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whose payload the value was part of: a call's result, an invocation's arguments or an
    /// event's payload, with the procedure or topic.
    pub fn payload_of(&self) -> Option<&PayloadOf> {
        self.place.as_ref().and_then(|place| place.of.as_ref())
    }

    /// Which argument of the payload could not be converted.
    pub fn argument(&self) -> Option<&ArgumentRef> {
        self.place
            .as_ref()
            .and_then(|place| place.argument.as_ref())
    }

    /// The procedure of a call result or invocation, if known.
    pub fn procedure(&self) -> Option<&str> {
        match self.payload_of()? {
            PayloadOf::Result { procedure } => procedure.as_deref(),
            PayloadOf::Arguments { procedure } => Some(procedure),
            PayloadOf::Event { .. } => None,
        }
    }

    /// The topic of an event.
    pub fn topic(&self) -> Option<&str> {
        match self.payload_of()? {
            PayloadOf::Event { topic } => Some(topic),
            _ => None,
        }
    }

    /// Notes which argument the error concerns, unless a list index or dict key already says.
    pub(crate) fn at(mut self, argument: ArgumentRef) -> Self {
        self.place
            .get_or_insert_with(Box::default)
            .argument
            .get_or_insert(argument);
        self
    }

    /// Notes that the error happened inside the list item or dict entry `argument`: an index or
    /// key noted deeper is folded into the message (`` `key`: [2]: invalid type ``).
    pub(crate) fn within(mut self, argument: ArgumentRef) -> Self {
        let place = self.place.get_or_insert_with(Box::default);
        if let Some(inner) = place.argument.replace(argument) {
            self.message = format!("{}{}", Label(&inner, false), self.message);
        }
        self
    }

    /// Notes whose payload the value was part of, unless already known.
    pub(crate) fn of(mut self, of: PayloadOf) -> Self {
        let place = self.place.get_or_insert_with(Box::default);
        if matches!(place.of, None | Some(PayloadOf::Result { procedure: None })) {
            place.of = Some(of);
        }
        self
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload_of() {
            Some(PayloadOf::Result {
                procedure: Some(procedure),
            }) => write!(f, "the result of `{procedure}`, ")?,
            Some(PayloadOf::Result { procedure: None }) => f.write_str("the call result, ")?,
            Some(PayloadOf::Arguments { procedure }) => {
                write!(f, "the arguments of `{procedure}`, ")?;
            }
            Some(PayloadOf::Event { topic }) => write!(f, "the event of `{topic}`, ")?,
            None => {}
        }
        match self.argument() {
            Some(argument) => write!(f, "{}", Label(argument, self.payload_of().is_some()))?,
            None if self.payload_of().is_some() => f.write_str("payload: ")?,
            None => {}
        }
        f.write_str(&self.message)
    }
}

/// How an argument leads a message: as a payload's argument (`positional argument 2: `), or as
/// a place inside a value (`[2]: `).
struct Label<'a>(&'a ArgumentRef, bool);

impl fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (ArgumentRef::Positional, _) => f.write_str("positional arguments: "),
            (ArgumentRef::Keywords, _) => f.write_str("keyword arguments: "),
            (ArgumentRef::Index(index), true) => write!(f, "positional argument {index}: "),
            (ArgumentRef::Key(key), true) => write!(f, "keyword argument `{key}`: "),
            (ArgumentRef::Index(index), false) => write!(f, "[{index}]: "),
            (ArgumentRef::Key(key), false) => write!(f, "`{key}`: "),
        }
    }
}

impl std::error::Error for ValueError {}

impl ser::Error for ValueError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ValueError::new(msg.to_string())
    }
}

impl serde::de::Error for ValueError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ValueError::new(msg.to_string())
    }
}

/// A [`Value::kind`](super::Value::kind) with its article, for messages: "an integer",
/// "a string", but "null" and "bytes" bare.
pub(crate) fn with_article(kind: &str) -> String {
    match kind {
        "null" | "bytes" => kind.to_owned(),
        _ if kind.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_take_the_right_article() {
        assert_eq!(with_article("integer"), "an integer");
        assert_eq!(with_article("string"), "a string");
        assert_eq!(with_article("dict"), "a dict");
        assert_eq!(with_article("null"), "null");
        assert_eq!(with_article("bytes"), "bytes");
    }

    #[test]
    fn the_place_leads_the_message() {
        let e = ValueError::new("invalid type: string \"x\", expected i64")
            .at(ArgumentRef::Index(1))
            .of(PayloadOf::Arguments {
                procedure: "com.example.add".into(),
            });
        assert_eq!(
            e.to_string(),
            "the arguments of `com.example.add`, positional argument 1: invalid type: string \"x\", expected i64"
        );
        assert_eq!(e.procedure(), Some("com.example.add"));
        assert_eq!(e.argument(), Some(&ArgumentRef::Index(1)));
        // A known procedure is not replaced by an unknown one.
        let e = e.of(PayloadOf::Result { procedure: None });
        assert_eq!(e.procedure(), Some("com.example.add"));
        assert_eq!(ValueError::new("plain").to_string(), "plain");
    }

    #[test]
    fn places_inside_a_value_fold_into_the_message() {
        let e = ValueError::new("invalid type")
            .within(ArgumentRef::Index(2))
            .within(ArgumentRef::Key("points".into()));
        assert_eq!(e.to_string(), "`points`: [2]: invalid type");
        let e = e.at(ArgumentRef::Keywords).of(PayloadOf::Event {
            topic: "com.example.news".into(),
        });
        assert_eq!(e.argument(), Some(&ArgumentRef::Key("points".into())));
        assert_eq!(
            e.to_string(),
            "the event of `com.example.news`, keyword argument `points`: [2]: invalid type"
        );
    }
}

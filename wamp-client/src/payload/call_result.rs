//! The result of a call.

use serde::de::DeserializeOwned;

use super::arguments::{payload_accessors, payload_error};
use crate::error::Error;
use crate::value::{ArgumentRef, Dict, PayloadOf, Value, ValueError, from_value};

/// The result of a call: positional and keyword results plus the RESULT details.
///
/// [`result`](CallResult::result) reads the usual single-value result; [`arg`](CallResult::arg),
/// [`args`](CallResult::args), [`kwarg`](CallResult::kwarg) and [`kwargs`](CallResult::kwargs)
/// read the payload part by part.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallResult {
    /// Positional results. A procedure returning one value puts it at index 0.
    pub args: Vec<Value>,
    /// Keyword results.
    pub kwargs: Dict,
    /// The RESULT `Details` dict.
    pub details: Dict,
}

payload_accessors!(CallResult, Error, payload_error, |_: &CallResult| {
    PayloadOf::Result { procedure: None }
});

impl CallResult {
    /// The result as one value of type `T`, read the way Autobahn hands a result to Python code:
    ///
    /// | the callee returned | `T` is read from | e.g. `T` |
    /// |---|---|---|
    /// | one positional result | that value | `i64`, `String`, a struct, a `Vec` |
    /// | several positional results | all of them, as a list | a tuple, a `Vec` |
    /// | keyword results only | the keyword results, as a map | a struct, a map |
    /// | nothing | `null` | `()`, an `Option` |
    ///
    /// Keyword results next to positional ones are not read here: use
    /// [`kwargs`](CallResult::kwargs) or [`kwarg`](CallResult::kwarg) for them.
    /// [`Call::result`](crate::rpc::Call::result) does this in the call's own expression, and its
    /// error names the procedure.
    ///
    /// ```
    /// use wampkit::{CallResult, Value};
    ///
    /// let single = CallResult { args: vec![Value::from(5)], ..CallResult::default() };
    /// assert_eq!(single.result::<i64>()?, 5);
    ///
    /// let pair = CallResult { args: vec![Value::from(5), Value::from("five")], ..CallResult::default() };
    /// assert_eq!(pair.result::<(i64, String)>()?, (5, "five".to_owned()));
    ///
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct Total { sum: i64 }
    /// let mut keywords = CallResult::default();
    /// keywords.kwargs.insert("sum".into(), Value::from(7));
    /// assert_eq!(keywords.result::<Total>()?, Total { sum: 7 });
    ///
    /// CallResult::default().result::<()>()?;
    /// # Ok::<(), wampkit::Error>(())
    /// ```
    pub fn result<T: DeserializeOwned>(&self) -> Result<T, Error> {
        // The keyword results are read only when there are no positional ones.
        let kwargs = if self.args.is_empty() {
            self.kwargs.clone()
        } else {
            Dict::new()
        };
        decode_result(self.args.clone(), kwargs)
            .map_err(|e| payload_error(e.of(PayloadOf::Result { procedure: None })))
    }

    /// [`result`](CallResult::result) of a result owned, its payload moved rather than copied;
    /// the error not yet saying whose result it is.
    pub(crate) fn into_result<T: DeserializeOwned>(self) -> Result<T, ValueError> {
        decode_result(self.args, self.kwargs)
    }

    /// Whether this is a progressive (intermediate) result; the final result is not.
    pub fn is_progress(&self) -> bool {
        self.details.get("progress").and_then(Value::as_bool) == Some(true)
    }
}

/// What [`CallResult::result`] reads: the single positional result, several as a sequence, the
/// keyword results when there are no positional ones, or nothing (`()`).
fn decode_result<T: DeserializeOwned>(mut args: Vec<Value>, kwargs: Dict) -> Result<T, ValueError> {
    match args.len() {
        0 if kwargs.is_empty() => from_value(Value::Null),
        0 => from_value(Value::Dict(kwargs)).map_err(|e| e.at(ArgumentRef::Keywords)),
        1 => from_value(args.pop().unwrap_or(Value::Null))
            .map_err(|e| e.within(ArgumentRef::Index(0))),
        _ => from_value(Value::List(args)).map_err(|e| e.at(ArgumentRef::Positional)),
    }
}

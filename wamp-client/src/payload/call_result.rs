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
        self.decode_result()
            .map_err(|e| payload_error(e.of(PayloadOf::Result { procedure: None })))
    }

    /// [`result`](CallResult::result), the error not yet saying whose result it is.
    pub(crate) fn decode_result<T: DeserializeOwned>(&self) -> Result<T, ValueError> {
        match self.args.as_slice() {
            [] if self.kwargs.is_empty() => from_value(Value::Null),
            [] => from_value(Value::Dict(self.kwargs.clone()))
                .map_err(|e| e.at(ArgumentRef::Keywords)),
            [single] => from_value(single.clone()).map_err(|e| e.within(ArgumentRef::Index(0))),
            several => {
                from_value(Value::List(several.to_vec())).map_err(|e| e.at(ArgumentRef::Positional))
            }
        }
    }

    /// Whether this is a progressive (intermediate) result; the final result is not.
    pub fn is_progress(&self) -> bool {
        self.details.get("progress").and_then(Value::as_bool) == Some(true)
    }
}

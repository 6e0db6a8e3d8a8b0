//! The result of a call.

use serde::de::DeserializeOwned;

use super::arguments::{Arguments, payload_accessors, payload_error};
use crate::error::Error;
use crate::value::{Dict, PayloadOf, Value, ValueError};
use crate::wire::Payload;

/// The result of a call: positional and keyword results plus the RESULT details.
///
/// [`result`](CallResult::result) reads the usual single-value result; [`arg`](CallResult::arg),
/// [`args`](CallResult::args), [`kwarg`](CallResult::kwarg) and [`kwargs`](CallResult::kwargs)
/// read the payload part by part, and [`arguments`](CallResult::arguments) as dynamic values.
/// A result received from the router keeps its payload as the bytes it arrived in, and each of
/// these decodes them straight into the type asked for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallResult {
    payload: Payload,
    /// The RESULT `Details` dict.
    pub details: Dict,
}

payload_accessors!(CallResult, Error, payload_error, |_: &CallResult| {
    PayloadOf::Result { procedure: None }
});

impl CallResult {
    /// A result holding `arguments` (and no details): for tests and for code that answers calls
    /// itself.
    ///
    /// ```
    /// use wampkit::{Arguments, CallResult};
    ///
    /// let result = CallResult::new(Arguments::positional((5, "five"))?);
    /// assert_eq!(result.arg_count(), 2);
    /// assert_eq!(result.arg::<String>(1)?, "five");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(arguments: Arguments) -> Self {
        CallResult {
            payload: Payload::new(arguments.args, arguments.kwargs),
            details: Dict::new(),
        }
    }

    /// A result of a received RESULT's parts.
    pub(crate) fn received(payload: Payload, details: Dict) -> Self {
        CallResult { payload, details }
    }

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
    /// use wampkit::{Arguments, CallResult};
    ///
    /// let single = CallResult::new(Arguments::positional((5,))?);
    /// assert_eq!(single.result::<i64>()?, 5);
    ///
    /// let pair = CallResult::new(Arguments::positional((5, "five"))?);
    /// assert_eq!(pair.result::<(i64, String)>()?, (5, "five".to_owned()));
    ///
    /// #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    /// struct Total { sum: i64 }
    /// let keywords = CallResult::new(Arguments::keyword(Total { sum: 7 })?);
    /// assert_eq!(keywords.result::<Total>()?, Total { sum: 7 });
    ///
    /// CallResult::default().result::<()>()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn result<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.read_result()
            .map_err(|e| payload_error(e.of(PayloadOf::Result { procedure: None })))
    }

    /// [`result`](CallResult::result), the error not yet saying whose result it is.
    pub(crate) fn read_result<T: DeserializeOwned>(&self) -> Result<T, ValueError> {
        super::read::result(&self.payload)
    }

    /// The payload, for the typed stubs that read it.
    pub(crate) fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The payload and details, for the session task to open an encoded payload in place.
    pub(crate) fn parts_mut(&mut self) -> (&mut Payload, &Dict) {
        (&mut self.payload, &self.details)
    }

    /// Whether this is a progressive (intermediate) result; the final result is not.
    pub fn is_progress(&self) -> bool {
        self.details.get("progress").and_then(Value::as_bool) == Some(true)
    }
}

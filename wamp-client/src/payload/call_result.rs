//! The result of a call.

use super::arguments::{payload_accessors, payload_error};
use crate::error::Error;
use crate::value::{Dict, Value};

/// The result of a call: positional and keyword results plus the RESULT details.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallResult {
    /// Positional results. A procedure returning one value puts it at index 0.
    pub args: Vec<Value>,
    /// Keyword results.
    pub kwargs: Dict,
    /// The RESULT `Details` dict.
    pub details: Dict,
}

payload_accessors!(CallResult, Error, payload_error);

impl CallResult {
    /// Whether this is a progressive (intermediate) result; the final result is not.
    pub fn is_progress(&self) -> bool {
        self.details.get("progress").and_then(Value::as_bool) == Some(true)
    }
}

//! [`ValueError`], the error of converting to and from a [`Value`](super::Value).

use serde::ser;

/// The error of [`to_value`](super::to_value) and [`from_value`](super::from_value): a value could not be
/// converted to or from a [`Value`](super::Value).
///
/// The message describes the problem, e.g. `invalid type: string "x", expected i64`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub(crate) String);

impl ValueError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        ValueError(message.into())
    }

    /// The error message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl ser::Error for ValueError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

impl serde::de::Error for ValueError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

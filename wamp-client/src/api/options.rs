//! Option values shared by several requests.

use std::fmt;
use std::str::FromStr;

/// How a subscription's topic or a registration's procedure is matched against published topics
/// or called procedures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum MatchPolicy {
    /// The URI must be equal (the default).
    #[default]
    Exact,
    /// The URI is a prefix: `com.example` matches `com.example.a.b`. A prefix may end with a dot
    /// (`com.example.`) to match only the URIs below it.
    Prefix,
    /// Empty components are wildcards: `com..update` matches `com.user.update`.
    Wildcard,
}

impl MatchPolicy {
    /// The option value: `exact`, `prefix` or `wildcard`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchPolicy::Exact => "exact",
            MatchPolicy::Prefix => "prefix",
            MatchPolicy::Wildcard => "wildcard",
        }
    }
}

impl fmt::Display for MatchPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MatchPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "exact" => Ok(MatchPolicy::Exact),
            "prefix" => Ok(MatchPolicy::Prefix),
            "wildcard" => Ok(MatchPolicy::Wildcard),
            other => Err(format!(
                "unknown match policy `{other}` (expected exact, prefix or wildcard)"
            )),
        }
    }
}

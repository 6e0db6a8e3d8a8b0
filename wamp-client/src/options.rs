//! Option values shared by several requests, and by the session task that sends them.

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

/// How a call is canceled (the CANCEL `mode`).
///
/// Dropping a pending call cancels it with the session's default mode,
/// [`CancelMode::KillNoWait`] unless [`SessionBuilder::cancel_mode`](crate::SessionBuilder::cancel_mode)
/// says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CancelMode {
    /// The router answers the caller at once and ignores the callee's later answer; the callee is
    /// not told.
    Skip,
    /// The callee is interrupted and the caller waits for its answer (which may still be a result).
    Kill,
    /// The callee is interrupted and the caller is answered at once.
    #[default]
    KillNoWait,
}

impl CancelMode {
    /// The option value: `skip`, `kill` or `killnowait`.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelMode::Skip => "skip",
            CancelMode::Kill => "kill",
            CancelMode::KillNoWait => "killnowait",
        }
    }
}

impl FromStr for CancelMode {
    type Err = String;

    /// Reads the option value, as a router reads CANCEL's `mode`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [CancelMode::Skip, CancelMode::Kill, CancelMode::KillNoWait]
            .into_iter()
            .find(|mode| mode.as_str() == s)
            .ok_or_else(|| format!("unknown cancel mode `{s}` (expected skip, kill or killnowait)"))
    }
}

/// How a shared registration's callees are chosen (the REGISTER `invoke` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum InvokePolicy {
    /// Only one callee may register (the default).
    #[default]
    Single,
    /// Callees take turns.
    RoundRobin,
    /// A callee chosen at random.
    Random,
    /// The callee that registered first.
    First,
    /// The callee that registered last.
    Last,
}

impl InvokePolicy {
    /// The option value, e.g. `roundrobin`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvokePolicy::Single => "single",
            InvokePolicy::RoundRobin => "roundrobin",
            InvokePolicy::Random => "random",
            InvokePolicy::First => "first",
            InvokePolicy::Last => "last",
        }
    }
}

impl FromStr for InvokePolicy {
    type Err = String;

    /// Reads the option value, as a router reads REGISTER's `invoke`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            InvokePolicy::Single,
            InvokePolicy::RoundRobin,
            InvokePolicy::Random,
            InvokePolicy::First,
            InvokePolicy::Last,
        ]
        .into_iter()
        .find(|policy| policy.as_str() == s)
        .ok_or_else(|| {
            format!("unknown invocation policy `{s}` (expected single, roundrobin, random, first or last)")
        })
    }
}

//! Testaments: events the router publishes for this session when it ends.

use std::fmt;

use serde::Serialize;

use super::{Feature, Meta, optional};
use crate::error::Result;
use crate::payload::arguments::{keyword_values, positional_values};
use crate::value::Dict;

/// When the router publishes a testament.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TestamentScope {
    /// When the session ends (the default).
    #[default]
    Destroyed,
    /// When the session is detached from its transport (for routers with session resumption;
    /// Crossbar.io publishes these when the session ends, too).
    Detached,
}

impl TestamentScope {
    /// The value the router expects: `destroyed` or `detached`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestamentScope::Destroyed => "destroyed",
            TestamentScope::Detached => "detached",
        }
    }
}

impl fmt::Display for TestamentScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options of [`Meta::add_testament`].
///
/// ```
/// use wampkit::{meta::TestamentOptions, meta::TestamentScope};
///
/// let options = TestamentOptions::new()
///     .scope(TestamentScope::Detached)
///     .publish_option("exclude_authrole", vec!["restricted"]);
/// assert_eq!(options.scope, TestamentScope::Detached);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct TestamentOptions {
    /// PUBLISH options for the testament's publication, e.g. `exclude_authrole`. The router
    /// drops `acknowledge` and `exclude_me`.
    pub publish_options: Dict,
    /// When the router publishes it.
    pub scope: TestamentScope,
}

impl TestamentOptions {
    /// Scope [`TestamentScope::Destroyed`], no publish options.
    pub fn new() -> Self {
        TestamentOptions::default()
    }

    /// Sets the scope.
    pub fn scope(mut self, scope: TestamentScope) -> Self {
        self.scope = scope;
        self
    }

    /// Adds one PUBLISH option. A value that cannot be converted is left out.
    pub fn publish_option(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        if let Ok(value) = crate::value::to_value(&value) {
            self.publish_options.insert(key.into(), value);
        }
        self
    }
}

impl Meta<'_> {
    /// Leaves a testament (`wamp.session.add_testament`): the router publishes `args` (a tuple,
    /// `Vec` or array; `()` for none) and `kwargs` (a struct or map; `()` for none) to `topic`
    /// when this session ends, however it ends, as if this session had published them.
    pub async fn add_testament(
        &self,
        topic: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: TestamentOptions,
    ) -> Result<()> {
        const URI: &str = "wamp.session.add_testament";
        let args = positional_values(&args)?;
        let kwargs = keyword_values(&kwargs)?;
        let mut call = self
            .call(Feature::Testament, URI, (topic, args, kwargs))?
            .kwarg("scope", options.scope.as_str());
        if !options.publish_options.is_empty() {
            call = call.kwarg("publish_options", options.publish_options);
        }
        call.await?;
        Ok(())
    }

    /// Removes this session's testaments of `scope` (`wamp.session.flush_testaments`) and
    /// returns how many there were, if the router says (Crossbar.io does).
    pub async fn flush_testaments(&self, scope: TestamentScope) -> Result<Option<u64>> {
        const URI: &str = "wamp.session.flush_testaments";
        let result = self
            .call(Feature::Testament, URI, ())?
            .kwarg("scope", scope.as_str())
            .await?;
        optional(URI, &result)
    }
}

//! URI patterns, as registrations and subscriptions use them: exact, prefix and wildcard, each
//! mapped to the id of the registration or subscription that holds it.

use rustc_hash::FxHashMap;
use wampkit_client::MatchPolicy;
use wampkit_client::wire::Id;

/// Patterns of one kind each, mapped to their ids.
#[derive(Debug, Default)]
pub(crate) struct Patterns {
    exact: FxHashMap<String, Id>,
    prefix: FxHashMap<String, Id>,
    wildcard: FxHashMap<String, Id>,
}

impl Patterns {
    fn map(&self, policy: MatchPolicy) -> &FxHashMap<String, Id> {
        match policy {
            MatchPolicy::Prefix => &self.prefix,
            MatchPolicy::Wildcard => &self.wildcard,
            _ => &self.exact,
        }
    }

    fn map_mut(&mut self, policy: MatchPolicy) -> &mut FxHashMap<String, Id> {
        match policy {
            MatchPolicy::Prefix => &mut self.prefix,
            MatchPolicy::Wildcard => &mut self.wildcard,
            _ => &mut self.exact,
        }
    }

    /// The id holding exactly this pattern.
    pub(crate) fn get(&self, uri: &str, policy: MatchPolicy) -> Option<Id> {
        self.map(policy).get(uri).copied()
    }

    pub(crate) fn insert(&mut self, uri: &str, policy: MatchPolicy, id: Id) {
        self.map_mut(policy).insert(uri.to_owned(), id);
    }

    pub(crate) fn remove(&mut self, uri: &str, policy: MatchPolicy) {
        self.map_mut(policy).remove(uri);
    }

    /// The one pattern that wins for `uri`, as the dealer chooses a registration: an exact
    /// match, else the longest prefix, else the most specific wildcard (see
    /// [`wildcard_rank`]).
    pub(crate) fn best(&self, uri: &str) -> Option<Id> {
        if let Some(&id) = self.exact.get(uri) {
            return Some(id);
        }
        let prefix = self
            .prefix
            .iter()
            .filter(|(prefix, _)| uri.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, &id)| id);
        if prefix.is_some() {
            return prefix;
        }
        self.wildcard
            .iter()
            .filter(|(pattern, _)| wildcard_matches(pattern, uri))
            .max_by(|(a, _), (b, _)| {
                wildcard_rank(a)
                    .cmp(&wildcard_rank(b))
                    .then_with(|| b.cmp(a))
            })
            .map(|(_, &id)| id)
    }

    /// Every pattern that matches `uri`, as the broker delivers an event: with the concrete
    /// topic for pattern matches.
    pub(crate) fn all(&self, uri: &str, mut found: impl FnMut(Id, MatchPolicy)) {
        if let Some(&id) = self.exact.get(uri) {
            found(id, MatchPolicy::Exact);
        }
        for (prefix, &id) in &self.prefix {
            if uri.starts_with(prefix.as_str()) {
                found(id, MatchPolicy::Prefix);
            }
        }
        for (pattern, &id) in &self.wildcard {
            if wildcard_matches(pattern, uri) {
                found(id, MatchPolicy::Wildcard);
            }
        }
    }

    /// The ids of each kind, for the meta API's `list`.
    pub(crate) fn ids(&self, policy: MatchPolicy) -> Vec<Id> {
        let mut ids: Vec<Id> = self.map(policy).values().copied().collect();
        ids.sort_unstable();
        ids
    }
}

/// Whether a wildcard pattern (empty components match any one component) matches `uri`.
pub(crate) fn wildcard_matches(pattern: &str, uri: &str) -> bool {
    let mut pattern = pattern.split('.');
    let mut uri = uri.split('.');
    loop {
        match (pattern.next(), uri.next()) {
            (None, None) => return true,
            (Some(p), Some(u)) if p.is_empty() || p == u => {}
            _ => return false,
        }
    }
}

/// How specific a wildcard pattern is: which of its components are given, from the first on.
/// A pattern that gives an earlier component wins (`a.b.` over `a..c`), then the one that
/// gives more.
fn wildcard_rank(pattern: &str) -> Vec<bool> {
    pattern.split('.').map(|c| !c.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_components() {
        assert!(wildcard_matches("com..add", "com.example.add"));
        assert!(wildcard_matches("com.example.add", "com.example.add"));
        assert!(!wildcard_matches("com..add", "com.example.sub"));
        assert!(!wildcard_matches("com..add", "com.example.x.add"));
        assert!(!wildcard_matches("com..", "com.example"));
        assert!(wildcard_matches("..", "a.b.c"));
    }

    #[test]
    fn exact_beats_prefix_beats_wildcard() {
        let mut patterns = Patterns::default();
        patterns.insert("com..add", MatchPolicy::Wildcard, 1);
        patterns.insert("com.example.", MatchPolicy::Prefix, 2);
        patterns.insert("com.", MatchPolicy::Prefix, 3);
        patterns.insert("com.example.add", MatchPolicy::Exact, 4);
        patterns.insert("com.example.", MatchPolicy::Wildcard, 5);
        assert_eq!(patterns.best("com.example.add"), Some(4));
        assert_eq!(patterns.best("com.example.sub"), Some(2));
        assert_eq!(patterns.best("com.other.add"), Some(3));
        patterns.remove("com.", MatchPolicy::Prefix);
        assert_eq!(patterns.best("com.other.add"), Some(1));
        assert_eq!(patterns.best("org.other.add"), None);
        let mut all = Vec::new();
        patterns.all("com.example.add", |id, _| all.push(id));
        all.sort_unstable();
        assert_eq!(all, [1, 2, 4, 5]);
    }

    #[test]
    fn the_more_specific_wildcard_wins() {
        let mut patterns = Patterns::default();
        patterns.insert("a..c", MatchPolicy::Wildcard, 1);
        patterns.insert("a.b.", MatchPolicy::Wildcard, 2);
        patterns.insert("..c", MatchPolicy::Wildcard, 3);
        assert_eq!(patterns.best("a.b.c"), Some(2));
        assert_eq!(patterns.best("a.x.c"), Some(1));
        assert_eq!(patterns.best("z.x.c"), Some(3));
    }
}

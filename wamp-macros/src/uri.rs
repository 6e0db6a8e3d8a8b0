//! Compile-time URI checks: the specification's strict rules.

/// Checks a URI against the strict rules (lower-case letters, digits and `_` in non-empty,
/// dot-separated components). Returns the problem, if any.
pub(crate) fn strict_uri_problem(uri: &str) -> Option<String> {
    if uri.is_empty() {
        return Some("a URI must not be empty".into());
    }
    for component in uri.split('.') {
        if component.is_empty() {
            return Some(format!(
                "`{uri}` has an empty component; URIs are dot-separated, non-empty components"
            ));
        }
        if let Some(bad) = component
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
        {
            return Some(format!(
                "`{uri}` contains `{bad}`; URI components may only contain lower-case letters, digits and `_`"
            ));
        }
    }
    None
}

/// Whether the URI is in the router's reserved `wamp.` namespace.
pub(crate) fn is_reserved(uri: &str) -> bool {
    uri == "wamp" || uri.starts_with("wamp.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_rules() {
        assert!(strict_uri_problem("com.example.calc.add").is_none());
        assert!(strict_uri_problem("com.example.add_2").is_none());
        assert!(strict_uri_problem("com.Example.add").is_some());
        assert!(strict_uri_problem("com..add").is_some());
        assert!(strict_uri_problem("com.example.").is_some());
        assert!(strict_uri_problem("com.ex-ample").is_some());
        assert!(strict_uri_problem("").is_some());
        assert!(is_reserved("wamp.session.count"));
        assert!(!is_reserved("wampish.x"));
    }
}

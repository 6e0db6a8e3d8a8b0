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
        if let Some(bad) = component.chars().find(|c| !is_uri_char(*c)) {
            return Some(format!(
                "`{uri}` contains `{bad}`; URI components may only contain lower-case letters, digits and `_`"
            ));
        }
    }
    None
}

/// Checks a wildcard pattern: like [`strict_uri_problem`], but empty components (the wildcards)
/// are allowed, as long as one component is not empty.
pub(crate) fn strict_pattern_problem(uri: &str) -> Option<String> {
    if uri.split('.').all(str::is_empty) {
        return Some(format!("`{uri}` has no non-empty component"));
    }
    for component in uri.split('.') {
        if let Some(bad) = component.chars().find(|c| !is_uri_char(*c)) {
            return Some(format!(
                "`{uri}` contains `{bad}`; URI components may only contain lower-case letters, digits and `_`"
            ));
        }
    }
    None
}

/// The problem with `uri`, followed by a valid spelling of it when there is an obvious one.
pub(crate) fn problem_with_suggestion(uri: &str) -> Option<String> {
    let problem = strict_uri_problem(uri)?;
    Some(match suggestion(uri) {
        Some(valid) => format!("{problem}; try `{valid}`"),
        None => problem,
    })
}

pub(crate) fn is_uri_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

/// A valid URI close to `uri`: components in snake case, other characters as `_`, empty
/// components dropped. `None` if there is no obvious one.
pub(crate) fn suggestion(uri: &str) -> Option<String> {
    let valid = uri
        .split('.')
        .filter(|component| !component.is_empty())
        .map(to_snake)
        .map(|component| {
            component
                .chars()
                .map(|c| if is_uri_char(c) { c } else { '_' })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(".");
    (valid != uri && strict_uri_problem(&valid).is_none()).then_some(valid)
}

/// `DivisionByZero` → `division_by_zero`, `addTwo` → `add_two`, `HTTPServer` → `http_server`.
pub(crate) fn to_snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let previous = i.checked_sub(1).and_then(|p| chars.get(p));
            let next = chars.get(i + 1);
            let starts_word = previous.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (previous.is_some_and(|p| p.is_uppercase())
                    && next.is_some_and(|n| n.is_lowercase()));
            if starts_word && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
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

    #[test]
    fn snake_case() {
        assert_eq!(to_snake("DivisionByZero"), "division_by_zero");
        assert_eq!(to_snake("addTwo"), "add_two");
        assert_eq!(to_snake("HTTPServer"), "http_server");
        assert_eq!(to_snake("add2Numbers"), "add2_numbers");
        assert_eq!(to_snake("already_snake"), "already_snake");
        assert_eq!(to_snake("Snake_Case"), "snake_case");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggestion("com.example.error.DivisionByZero").as_deref(),
            Some("com.example.error.division_by_zero")
        );
        assert_eq!(
            suggestion("com.example.breaking-news").as_deref(),
            Some("com.example.breaking_news")
        );
        assert_eq!(suggestion("com..add").as_deref(), Some("com.add"));
        assert_eq!(suggestion("com.example.add"), None);
        assert_eq!(suggestion("..."), None);
        assert!(
            problem_with_suggestion("com.Example").is_some_and(|p| p.ends_with("`com.example`"))
        );
    }
}

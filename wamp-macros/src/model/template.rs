//! A method's URI as written: complete or relative to the service prefix, literal or a template
//! whose `{name}` components are filled from (caller) and parsed into (callee) parameters.

use syn::Ident;

/// One dot-separated component of a method's URI.
#[derive(Clone)]
pub(crate) enum Component {
    /// Written as is.
    Literal(String),
    /// Empty: a wildcard of a pattern written with `match = "wildcard"`.
    Wildcard,
    /// `{name}`: the parameter `name`, a wildcard to the router.
    Param(Ident),
}

/// A method's URI.
#[derive(Clone)]
pub(crate) struct UriDef {
    /// Relative to the service prefix (`name`, or the method name), not a complete
    /// `uri`/`topic`.
    pub(crate) relative: bool,
    /// The components after the prefix, or all of them for a complete URI.
    pub(crate) components: Vec<Component>,
}

impl UriDef {
    /// The URI the router sees, after the prefix for a relative one: each `{name}` becomes an
    /// empty (wildcard) component.
    pub(crate) fn pattern(&self) -> String {
        self.components
            .iter()
            .map(|c| match c {
                Component::Literal(text) => text.as_str(),
                Component::Wildcard | Component::Param(_) => "",
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The complete pattern with `prefix` (the compile-time one), if it can be known.
    pub(crate) fn full_pattern(&self, prefix: Option<&str>) -> Option<String> {
        match (self.relative, prefix) {
            (false, _) => Some(self.pattern()),
            (true, Some(prefix)) => Some(format!("{prefix}.{}", self.pattern())),
            (true, None) => None,
        }
    }

    /// The URI as written, for messages and docs: `com.example.user.{id}.rename`.
    pub(crate) fn display(&self) -> String {
        self.components
            .iter()
            .map(|c| match c {
                Component::Literal(text) => text.clone(),
                Component::Wildcard => String::new(),
                Component::Param(ident) => format!("{{{ident}}}"),
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The parameters named in the URI.
    pub(crate) fn params(&self) -> impl Iterator<Item = &Ident> {
        self.components.iter().filter_map(|c| match c {
            Component::Param(ident) => Some(ident),
            _ => None,
        })
    }

    /// Whether the URI names parameters (and so is registered as a wildcard pattern).
    pub(crate) fn is_template(&self) -> bool {
        self.params().next().is_some()
    }

    /// Whether the URI has empty components no parameter fills: callers cannot name it.
    pub(crate) fn has_bare_wildcards(&self) -> bool {
        self.components
            .iter()
            .any(|c| matches!(c, Component::Wildcard))
    }
}

/// Splits `uri` into components, reading `{name}` components as parameters. A brace anywhere
/// else is an error, returned as its message.
pub(crate) fn parse(uri: &str, relative: bool) -> Result<UriDef, String> {
    let mut components = Vec::new();
    for text in uri.split('.') {
        if !text.contains(['{', '}']) {
            components.push(if text.is_empty() {
                Component::Wildcard
            } else {
                Component::Literal(text.to_owned())
            });
            continue;
        }
        let name = text
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .filter(|name| !name.contains(['{', '}']));
        let Some(name) = name else {
            return Err(format!(
                "`{text}` in `{uri}`: a template parameter must be a whole URI component, as in `com.example.user.{{id}}.rename`"
            ));
        };
        match syn::parse_str::<Ident>(name) {
            Ok(ident) => components.push(Component::Param(ident)),
            Err(_) => {
                return Err(format!(
                    "`{text}` in `{uri}`: braces hold the name of a parameter of the method, as in `{{id}}`"
                ));
            }
        }
    }
    Ok(UriDef {
        relative,
        components,
    })
}

/// Whether two wildcard patterns (empty components match anything) can match the same URI:
/// they have as many components, and each pair is equal or has a wildcard.
pub(crate) fn patterns_overlap(a: &str, b: &str) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (a.split('.').collect(), b.split('.').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x.is_empty() || y.is_empty() || x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let uri = parse("com.example.user.{id}.rename", false).unwrap();
        assert_eq!(uri.pattern(), "com.example.user..rename");
        assert_eq!(uri.display(), "com.example.user.{id}.rename");
        assert!(uri.is_template() && !uri.has_bare_wildcards());
        assert_eq!(uri.params().next().unwrap().to_string(), "id");
        let relative = parse("{room}.message", true).unwrap();
        assert_eq!(
            relative.full_pattern(Some("chat")).as_deref(),
            Some("chat..message")
        );
        assert_eq!(relative.full_pattern(None), None);
        assert!(parse("com..x", false).unwrap().has_bare_wildcards());
        assert!(parse("com.user{id}", false).is_err());
        assert!(parse("com.{id}x", false).is_err());
        assert!(parse("com.{}", false).is_err());
        assert!(parse("com.{a b}", false).is_err());
        assert!(parse("com.{{id}}", false).is_err());
    }

    #[test]
    fn overlaps() {
        assert!(patterns_overlap("a..c", "a..c"));
        assert!(patterns_overlap("a..c", "a.b."));
        assert!(patterns_overlap("a.b.c", "a..c"));
        assert!(!patterns_overlap("a..c", "a..d"));
        assert!(!patterns_overlap("a..c", "a..c.d"));
    }
}

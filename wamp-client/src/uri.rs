//! URI checks done locally before a request is sent, so mistakes surface as
//! [`Error::InvalidUri`] with a clear reason instead of a router error.
//! A router applies the same rules to what its clients send.
//!
//! Which rule a session applies is set with
//! [`SessionBuilder::uri_check`](crate::SessionBuilder::uri_check): [`UriCheck::Loose`] by
//! default, as the specification and Crossbar.io do: a URI is `.`-separated components, none
//! empty (except in patterns), none holding whitespace or `#`; the `wamp.` prefix is the
//! router's (it may be called and subscribed to, not registered or published to). Upper-case
//! letters, `-` and other characters pass. [`UriCheck::Strict`] allows only lower-case ASCII
//! letters, digits and `_` in components, as `#[service]` URIs are checked when compiling.
//!
//! ```
//! use wampkit::uri::{UriCheck, UriUse};
//!
//! assert!(UriCheck::Loose.check("com.example.add", UriUse::Own).is_ok());
//! assert!(UriCheck::Loose.check("wamp.session.count", UriUse::Own).is_err());
//! assert!(UriCheck::Loose.check("com..add", UriUse::Wildcard { own: true }).is_ok());
//! assert!(UriCheck::Strict.check("com.Example", UriUse::Reference).is_err());
//! ```

use crate::error::Error;

/// How strictly URIs are checked before they are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UriCheck {
    /// Components are non-empty and hold no whitespace, `.` or `#` (the specification's loose rule).
    #[default]
    Loose,
    /// Components hold only lower-case ASCII letters, digits and `_`.
    Strict,
}

/// What the URI is used for: it decides whether empty components (wildcards) and the reserved
/// `wamp.` prefix are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriUse {
    /// CALL, or SUBSCRIBE with exact matching: `wamp.` allowed (meta API).
    Reference,
    /// REGISTER or PUBLISH: `wamp.` is reserved for the router.
    Own,
    /// Prefix pattern: the last component may be empty (`com.example.` matches
    /// `com.example.x` but not `com.examples`), as Autobahn and Crossbar.io allow.
    Prefix {
        /// Whether `wamp.` is reserved, as for REGISTER (a SUBSCRIBE pattern may name it).
        own: bool,
    },
    /// Wildcard pattern: empty components allowed.
    Wildcard {
        /// Whether `wamp.` is reserved, as for REGISTER (a SUBSCRIBE pattern may name it).
        own: bool,
    },
}

impl UriCheck {
    fn component_ok(self, component: &str) -> bool {
        match self {
            // Every call checks its URI: take the byte loop for the usual ASCII ones.
            UriCheck::Loose if component.is_ascii() => component
                .bytes()
                .all(|b| !char::from(b).is_whitespace() && b != b'.' && b != b'#'),
            UriCheck::Loose => component
                .chars()
                .all(|c| !c.is_whitespace() && c != '.' && c != '#'),
            UriCheck::Strict => component
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        }
    }

    /// Checks `uri` for the given use.
    pub fn check(self, uri: &str, usage: UriUse) -> Result<(), Error> {
        let own = matches!(
            usage,
            UriUse::Own | UriUse::Prefix { own: true } | UriUse::Wildcard { own: true }
        );
        // Every call and publication checks its URI: the usual case (the loose rule, an exact
        // ASCII URI) takes one pass over the bytes; anything else, and every failure (for its
        // reason), the component walk below.
        if self == UriCheck::Loose
            && matches!(usage, UriUse::Reference | UriUse::Own)
            && loose_exact_ascii(uri)
            && !(own && (uri == "wamp" || uri.starts_with("wamp.")))
        {
            return Ok(());
        }
        self.check_components(uri, usage, own)
    }

    fn check_components(self, uri: &str, usage: UriUse, own: bool) -> Result<(), Error> {
        let fail = |reason| {
            Err(Error::InvalidUri {
                uri: uri.to_owned(),
                reason,
            })
        };
        if uri.is_empty() {
            return fail("a URI must not be empty");
        }
        let wildcard = matches!(usage, UriUse::Wildcard { .. });
        let checked = match usage {
            UriUse::Prefix { .. } => uri.strip_suffix('.').unwrap_or(uri),
            _ => uri,
        };
        for component in checked.split('.') {
            if component.is_empty() {
                if !wildcard {
                    return fail(
                        "empty URI components are only allowed in wildcard patterns (and last \
                         in a prefix pattern)",
                    );
                }
            } else if !self.component_ok(component) {
                return fail(match self {
                    UriCheck::Loose => {
                        "URI components must not contain whitespace or `#` (the loose rule, \
                         the default of SessionBuilder::uri_check)"
                    }
                    UriCheck::Strict => {
                        "URI components may only contain lower-case letters, digits and `_` \
                         (the strict rule, chosen with SessionBuilder::uri_check; \
                         UriCheck::Loose allows any character but whitespace, `.` and `#`)"
                    }
                });
            }
        }
        if own && (uri == "wamp" || uri.starts_with("wamp.")) {
            return fail("the `wamp.` prefix is reserved for the router");
        }
        Ok(())
    }
}

/// Whether `uri` is ASCII, not empty, and its `.`-separated components are all non-empty and
/// free of whitespace and `#`: the loose rule for an exact URI, in one pass.
fn loose_exact_ascii(uri: &str) -> bool {
    let mut component_empty = true;
    for b in uri.bytes() {
        if b == b'.' {
            if component_empty {
                return false;
            }
            component_empty = true;
        } else if !b.is_ascii() || char::from(b).is_whitespace() || b == b'#' {
            return false;
        } else {
            component_empty = false;
        }
    }
    !component_empty
}

/// Whether two wildcard patterns (empty components match any component) can match the same
/// URI: as many components, each pair equal or one of them empty.
pub(crate) fn wildcard_patterns_overlap(a: &str, b: &str) -> bool {
    a.split('.').count() == b.split('.').count()
        && a.split('.')
            .zip(b.split('.'))
            .all(|(x, y)| x.is_empty() || y.is_empty() || x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_wildcard_patterns() {
        assert!(wildcard_patterns_overlap(
            "com.example.user..rename",
            "com.example..admin.rename"
        ));
        assert!(wildcard_patterns_overlap("a..c", "a..c"));
        assert!(!wildcard_patterns_overlap("a..c", "a..d"));
        assert!(!wildcard_patterns_overlap("a..c", "a..c.d"));
    }

    proptest::proptest! {
        /// The one-pass check of exact ASCII URIs agrees with the component walk.
        #[test]
        fn the_one_pass_check_agrees_with_the_component_walk(
            uri in "[wamp.#é \t\x0b]{0,8}",
            own in proptest::bool::ANY,
        ) {
            let usage = if own { UriUse::Own } else { UriUse::Reference };
            proptest::prop_assert_eq!(
                UriCheck::Loose.check(&uri, usage).is_ok(),
                UriCheck::Loose.check_components(&uri, usage, own).is_ok()
            );
        }
    }

    #[test]
    fn loose_and_strict_rules() {
        let loose = UriCheck::Loose;
        assert!(loose.check("com.example.Add", UriUse::Own).is_ok());
        assert!(loose.check("com..add", UriUse::Own).is_err());
        assert!(
            loose
                .check("com..add", UriUse::Wildcard { own: true })
                .is_ok()
        );
        assert!(loose.check("com.ex ample", UriUse::Reference).is_err());
        assert!(loose.check("com.#", UriUse::Reference).is_err());
        assert!(loose.check("", UriUse::Reference).is_err());
        assert!(loose.check("wamp.session.count", UriUse::Reference).is_ok());
        assert!(loose.check("wamp.session.count", UriUse::Own).is_err());
        let strict = UriCheck::Strict;
        assert!(strict.check("com.example.Add", UriUse::Own).is_err());
        assert!(strict.check("com.example.add_2", UriUse::Own).is_ok());
    }

    #[test]
    fn a_prefix_pattern_may_end_with_a_dot() {
        for check in [UriCheck::Loose, UriCheck::Strict] {
            for own in [false, true] {
                let prefix = UriUse::Prefix { own };
                assert!(check.check("com.example.", prefix).is_ok());
                assert!(check.check("com.example", prefix).is_ok());
                assert!(check.check("com..example", prefix).is_err());
                assert!(check.check("com.example..", prefix).is_err());
                assert!(check.check(".", prefix).is_err());
                assert!(check.check("", prefix).is_err());
            }
            // Exact URIs still may not.
            for usage in [UriUse::Reference, UriUse::Own] {
                let refused = check.check("com.example.", usage);
                assert!(
                    matches!(&refused, Err(Error::InvalidUri { reason, .. })
                        if reason.contains("empty URI components")),
                    "{refused:?}"
                );
            }
        }
        assert!(
            UriCheck::Loose
                .check("wamp.session.", UriUse::Prefix { own: false })
                .is_ok()
        );
        assert!(
            UriCheck::Loose
                .check("wamp.", UriUse::Prefix { own: true })
                .is_err()
        );
    }
}

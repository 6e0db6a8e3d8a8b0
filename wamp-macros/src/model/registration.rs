//! What REGISTER / SUBSCRIBE carries for a method: its URI, match policy and options.

use proc_macro2::Span;
use syn::Ident;

use super::errors::{MethodErrors, Part};
use super::template::{self, Component, UriDef};
use super::{MethodDef, MethodKind, OptionLit, ParamDef, ParamKind, Pattern, Prefix};
use crate::attr;
use crate::uri;

/// The match policy and the REGISTER / SUBSCRIBE options the attributes ask for.
pub(super) fn method_options(
    errors: &mut MethodErrors,
    args: &attr::MethodArgs,
    is_event: bool,
    is_template: bool,
) -> (Pattern, Vec<(&'static str, OptionLit)>) {
    let mut options = Vec::new();
    let pattern = match args
        .match_policy
        .as_ref()
        .map(|m| (m.value.as_str(), m.span))
    {
        // A template is registered as the wildcard pattern of its URI.
        None if is_template => Pattern::Wildcard,
        None | Some(("exact", _)) => Pattern::Exact,
        Some(("prefix", _)) => Pattern::Prefix,
        Some(("wildcard", _)) => Pattern::Wildcard,
        Some((other, span)) => {
            errors.at(
                Part::Attrs,
                span,
                format!(
                    "unknown match policy `{other}`; expected \"exact\", \"prefix\" or \"wildcard\""
                ),
            );
            Pattern::Exact
        }
    };
    match pattern {
        Pattern::Exact => {}
        Pattern::Prefix => options.push(("match", OptionLit::Str("prefix".into()))),
        Pattern::Wildcard => options.push(("match", OptionLit::Str("wildcard".into()))),
    }
    if let Some(invoke) = &args.invoke {
        if is_event {
            errors.at(
                Part::Attrs,
                invoke.span,
                "`invoke` applies to procedures, not event handlers",
            );
        } else if !["single", "roundrobin", "random", "first", "last"]
            .contains(&invoke.value.as_str())
        {
            errors.at(
                Part::Attrs,
                invoke.span,
                format!(
                    "unknown invoke policy `{}`; expected \"single\", \"roundrobin\", \"random\", \"first\" or \"last\"",
                    invoke.value
                ),
            );
        } else {
            options.push(("invoke", OptionLit::Str(invoke.value.clone())));
        }
    }
    if let Some(span) = args.disclose_caller {
        if is_event {
            errors.at(
                Part::Attrs,
                span,
                "`disclose_caller` applies to procedures, not event handlers",
            );
        } else {
            options.push(("disclose_caller", OptionLit::Bool(true)));
        }
    }
    (pattern, options)
}

/// The method's URI, where it came from, and the part of the method that spelled it; records
/// what is wrong with it. A trait without a prefix leaves relative URIs to the prefix given at
/// run time.
pub(super) fn method_uri(
    errors: &mut MethodErrors,
    prefix: Option<&Prefix>,
    sig: &syn::Signature,
    args: &attr::MethodArgs,
    is_event: bool,
) -> (UriDef, Span, Part) {
    let name = &sig.ident;
    let explicit = if is_event {
        args.topic.as_ref()
    } else {
        args.uri.as_ref()
    };
    let match_policy = args.match_policy.as_ref().map(|m| m.value.as_str());
    if let Some(full) = explicit {
        if let Some(rename) = &args.name {
            errors.at(
                Part::Attrs,
                rename.span,
                "give either a full URI or a `name`, not both",
            );
        }
        let uri = match template::parse(&full.value, false) {
            Ok(uri) => uri,
            Err(problem) => {
                errors.at(Part::Attrs, full.span, format!("invalid URI: {problem}"));
                return (literal(&full.value, false), full.span, Part::Attrs);
            }
        };
        let problem = if uri.is_template() {
            template_problem(&full.value, &uri, match_policy)
        } else if match_policy == Some("wildcard") {
            uri::strict_pattern_problem(&full.value)
        } else {
            uri::problem_with_suggestion(&full.value)
        };
        if let Some(problem) = problem {
            errors.at(Part::Attrs, full.span, format!("invalid URI: {problem}"));
        } else if !is_event && uri::is_reserved(&uri.pattern()) {
            errors.at(Part::Attrs, full.span, reserved(&full.value));
        }
        return (uri, full.span, Part::Attrs);
    }

    let (component, span, part) = match &args.name {
        Some(rename) => (rename.value.clone(), rename.span, Part::Attrs),
        None => (name_of(name), name.span(), Part::Name),
    };
    let uri = match template::parse(&component, true) {
        Ok(uri) => uri,
        Err(problem) => {
            errors.at(part, span, format!("invalid URI: {problem}"));
            return (literal(&component, true), span, part);
        }
    };
    if uri.is_template() {
        if let Some(problem) = template_problem(&component, &uri, match_policy) {
            errors.at(part, span, format!("invalid URI: {problem}"));
        }
        return (uri, span, part);
    }
    // Without a prefix, or with an invalid one (reported at the prefix), only this method's
    // own component is checked.
    let full = prefix
        .filter(|p| p.valid)
        .map(|p| format!("{}.{component}", p.value));
    let checked = full.as_deref().unwrap_or(&component);
    if let Some(problem) = uri::strict_uri_problem(checked) {
        let hint = match (uri::suggestion(&component), &args.name) {
            (Some(valid), None) => format!(
                "; rename the method to `{valid}`, or set its URI component with `#[wamp(name = \"{valid}\")]`"
            ),
            (None, None) => {
                "; rename the method, or set its URI component with `#[wamp(name = \"...\")]`"
                    .to_owned()
            }
            (Some(valid), Some(_)) => format!("; try `name = \"{valid}\"`"),
            (None, Some(_)) => String::new(),
        };
        let what = if full.is_some() {
            "invalid URI"
        } else {
            "invalid URI component"
        };
        errors.at(part, span, format!("{what}: {problem}{hint}"));
    } else if let Some(full) = full.as_deref().filter(|_| !is_event) {
        if uri::is_reserved(full) {
            errors.at(part, span, reserved(full));
        }
    }
    (uri, span, part)
}

/// A URI taken as written, for a method whose URI is already reported as wrong.
fn literal(text: &str, relative: bool) -> UriDef {
    UriDef {
        relative,
        components: vec![Component::Literal(text.to_owned())],
    }
}

/// What is wrong with a template's literal components and match policy.
fn template_problem(text: &str, uri: &UriDef, match_policy: Option<&str>) -> Option<String> {
    if let Some(policy @ ("prefix" | "exact")) = match_policy {
        return Some(format!(
            "`{text}` is a template, which registers a wildcard pattern; it cannot use `match = \"{policy}\"`"
        ));
    }
    if uri.has_bare_wildcards() && match_policy != Some("wildcard") {
        return Some(format!(
            "`{text}` has an empty component; URIs are dot-separated, non-empty components (add `match = \"wildcard\"` for a pattern)"
        ));
    }
    uri.components.iter().find_map(|c| match c {
        Component::Literal(literal) => literal.chars().find(|c| !uri::is_uri_char(*c)).map(|bad| {
            format!(
                "`{text}` contains `{bad}`; URI components may only contain lower-case letters, digits and `_`"
            )
        }),
        _ => None,
    })
}

/// Marks the parameters a URI template names as URI components, and checks that each `{name}`
/// names one payload parameter of the method, once.
pub(super) fn bind_template_params(
    errors: &mut MethodErrors,
    method: &Ident,
    uri: &UriDef,
    (uri_span, uri_part): (Span, Part),
    params: &mut [ParamDef],
) {
    let mut seen: Vec<&Ident> = Vec::new();
    for name in uri.params() {
        if seen.contains(&name) {
            errors.at(
                uri_part,
                uri_span,
                format!(
                    "`{{{name}}}` appears twice in `{}`; each parameter fills one component",
                    uri.display()
                ),
            );
            continue;
        }
        seen.push(name);
        match params.iter_mut().find(|p| p.ident == *name) {
            Some(param) if param.kind == ParamKind::Value => param.kind = ParamKind::Uri,
            Some(param) => errors.spanned(
                uri_part,
                &param.ident,
                format!(
                    "`{{{name}}}` in the URI names `{name}`, which receives the {}; a URI component fills a plain parameter (`{name}: u64`)",
                    if param.kind == ParamKind::Details { "details" } else { "keyword arguments" }
                ),
            ),
            None => {
                let names: Vec<String> = params.iter().map(|p| p.ident.to_string()).collect();
                errors.at(
                    uri_part,
                    uri_span,
                    format!(
                        "`{{{name}}}` in `{}` names no parameter of `{method}`{}",
                        uri.display(),
                        if names.is_empty() {
                            "; add one: `{name}: u64`".replace("{name}", &name.to_string())
                        } else {
                            format!(" (parameters: {})", names.join(", "))
                        }
                    ),
                );
            }
        }
    }
}

/// Checks that no earlier method of the same kind registers the same URI, and that no two
/// procedures register wildcard patterns a call could match both of. Only URIs known at
/// compile time are compared here; registration compares the rest.
pub(super) fn check_unique_uri(
    errors: &mut MethodErrors,
    earlier: &[MethodDef],
    prefix: Option<&str>,
    (kind, pattern, name): (MethodKind, Pattern, &Ident),
    (uri, uri_span, uri_part): (&UriDef, Span, Part),
) {
    let is_event = kind == MethodKind::Event;
    // Relative URIs compare among themselves when the prefix is not known yet.
    let comparable = |other: &UriDef| match (other.full_pattern(prefix), uri.full_pattern(prefix)) {
        (Some(a), Some(b)) => Some((a, b)),
        _ if other.relative == uri.relative => Some((other.pattern(), uri.pattern())),
        _ => None,
    };
    for first in earlier.iter().filter(|m| m.kind == kind) {
        let Some((theirs, ours)) = comparable(&first.uri) else {
            continue;
        };
        if theirs == ours {
            let what = if uri.is_template() || first.uri.is_template() {
                format!("register the wildcard pattern `{ours}`")
            } else {
                format!("use the URI `{ours}`")
            };
            errors.at(
                uri_part,
                uri_span,
                format!(
                    "`{}` and `{name}` both {what}; give one of them another `{}`",
                    first.ident,
                    if is_event { "topic" } else { "name" }
                ),
            );
            return;
        }
        if !is_event
            && pattern == Pattern::Wildcard
            && first.pattern == Pattern::Wildcard
            && template::patterns_overlap(&theirs, &ours)
        {
            errors.at(
                uri_part,
                uri_span,
                format!(
                    "`{}` (`{}`) and `{name}` (`{}`) register overlapping wildcard patterns: a call to a URI both match could reach either; give one of them another URI",
                    first.ident,
                    first.uri.display(),
                    uri.display(),
                ),
            );
            return;
        }
    }
}

/// The error for a procedure URI in the router's namespace.
fn reserved(uri: &str) -> String {
    format!(
        "`{uri}` is in the `wamp.` namespace, which is reserved for the router: procedures cannot be registered there"
    )
}

/// The method name as a URI component (raw identifiers lose their `r#`).
fn name_of(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}

//! What REGISTER / SUBSCRIBE carries for a method: its URI, match policy and options.

use proc_macro2::Span;
use syn::Ident;

use super::errors::{MethodErrors, Part};
use super::{MethodDef, MethodKind, OptionLit, Pattern, Prefix};
use crate::attr;
use crate::uri;

/// The match policy and the REGISTER / SUBSCRIBE options the attributes ask for.
pub(super) fn method_options(
    errors: &mut MethodErrors,
    args: &attr::MethodArgs,
    is_event: bool,
) -> (Pattern, Vec<(&'static str, OptionLit)>) {
    let mut options = Vec::new();
    let pattern = match args
        .match_policy
        .as_ref()
        .map(|m| (m.value.as_str(), m.span))
    {
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
/// what is wrong with it.
pub(super) fn method_uri(
    errors: &mut MethodErrors,
    prefix: Option<&Prefix>,
    sig: &syn::Signature,
    args: &attr::MethodArgs,
    is_event: bool,
) -> (String, Span, Part) {
    let name = &sig.ident;
    let explicit = if is_event {
        args.topic.as_ref()
    } else {
        args.uri.as_ref()
    };
    if let Some(full) = explicit {
        if let Some(rename) = &args.name {
            errors.at(
                Part::Attrs,
                rename.span,
                "give either a full URI or a `name`, not both",
            );
        }
        let wildcard = args
            .match_policy
            .as_ref()
            .is_some_and(|m| m.value == "wildcard");
        let problem = if wildcard {
            uri::strict_pattern_problem(&full.value)
        } else {
            uri::problem_with_suggestion(&full.value)
        };
        if let Some(problem) = problem {
            errors.at(Part::Attrs, full.span, format!("invalid URI: {problem}"));
        } else if !is_event && uri::is_reserved(&full.value) {
            errors.at(Part::Attrs, full.span, reserved(&full.value));
        }
        return (full.value.clone(), full.span, Part::Attrs);
    }

    let (component, span, part) = match &args.name {
        Some(rename) => (rename.value.clone(), rename.span, Part::Attrs),
        None => (name_of(name), name.span(), Part::Name),
    };
    let Some(prefix) = prefix else {
        errors.spanned(
            Part::Name,
            name,
            format!(
                "`{name}` has no URI: give the trait a prefix (`#[service(prefix = \"com.example\")]`) or the method `#[wamp({} = \"com.example.{}\")]`",
                if is_event { "topic" } else { "uri" },
                name_of(name),
            ),
        );
        return (component, span, part);
    };
    let uri = format!("{}.{component}", prefix.value);
    // An invalid prefix was reported at the prefix: check only this method's own component.
    let checked = if prefix.valid { &uri } else { &component };
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
        let what = if prefix.valid {
            "invalid URI"
        } else {
            "invalid URI component"
        };
        errors.at(part, span, format!("{what}: {problem}{hint}"));
    } else if prefix.valid && !is_event && uri::is_reserved(&uri) {
        errors.at(part, span, reserved(&uri));
    }
    (uri, span, part)
}

/// Checks that no earlier method of the same kind uses the URI.
pub(super) fn check_unique_uri(
    errors: &mut MethodErrors,
    earlier: &[MethodDef],
    kind: MethodKind,
    name: &Ident,
    (uri, uri_span, uri_part): (&str, Span, Part),
) {
    let is_event = kind == MethodKind::Event;
    if let Some(first) = earlier.iter().find(|m| m.uri == uri && m.kind == kind) {
        errors.at(
            uri_part,
            uri_span,
            format!(
                "`{}` and `{name}` both use the URI `{uri}`; give one of them another `{}`",
                first.ident,
                if is_event { "topic" } else { "name" }
            ),
        );
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

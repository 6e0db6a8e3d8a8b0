//! Parsing of the macros' own attributes: `#[service(...)]` and the `#[wamp(...)]` helpers.
//!
//! Every key is checked: unknown or repeated keys are errors that list what is allowed, and a
//! value of the wrong kind is an error that shows the expected form.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Path};

use crate::ctxt::Ctxt;

/// A string option with the span of its literal, for errors about its value.
#[derive(Clone)]
pub(crate) struct SpannedStr {
    pub(crate) value: String,
    pub(crate) span: Span,
}

impl From<LitStr> for SpannedStr {
    fn from(lit: LitStr) -> Self {
        SpannedStr {
            value: lit.value(),
            span: lit.span(),
        }
    }
}

/// Arguments of `#[service(...)]`.
#[derive(Default)]
pub(crate) struct ServiceArgs {
    /// URI prefix for every method without an explicit `uri`/`topic`.
    pub(crate) prefix: Option<SpannedStr>,
    /// Path of the runtime crate, for users who renamed `wampkit`.
    pub(crate) crate_path: Option<Path>,
}

/// Arguments of `#[wamp(...)]` on a service method.
#[derive(Default)]
pub(crate) struct MethodArgs {
    /// Full URI of the procedure.
    pub(crate) uri: Option<SpannedStr>,
    /// Name appended to the service prefix instead of the method name.
    pub(crate) name: Option<SpannedStr>,
    /// The method handles events (a subscriber) rather than calls.
    pub(crate) event: Option<Span>,
    /// Full URI of the topic (implies `event`).
    pub(crate) topic: Option<SpannedStr>,
    /// The caller stub sends parameters as keyword arguments.
    pub(crate) kwargs: Option<Span>,
    /// `match = "exact" | "prefix" | "wildcard"`: pattern-based registration or subscription.
    pub(crate) match_policy: Option<SpannedStr>,
    /// `invoke = "single" | "roundrobin" | ...`: shared registration policy.
    pub(crate) invoke: Option<SpannedStr>,
    /// Ask the router to disclose callers to this procedure.
    pub(crate) disclose_caller: Option<Span>,
}

/// Arguments of `#[wamp(...)]` on a parameter.
#[derive(Default)]
pub(crate) struct ParamArgs {
    /// The parameter is a struct holding all keyword arguments.
    pub(crate) kwargs: Option<Span>,
    /// The parameter receives the invocation or event details.
    pub(crate) details: Option<Span>,
}

/// Arguments of `#[wamp(...)]` on an error enum.
#[derive(Default)]
pub(crate) struct EnumArgs {
    /// Path of the runtime crate, for users who renamed `wampkit`.
    pub(crate) crate_path: Option<Path>,
}

/// Arguments of `#[wamp(...)]` on an error enum variant.
#[derive(Default)]
pub(crate) struct VariantArgs {
    /// The error URI of the variant.
    pub(crate) uri: Option<SpannedStr>,
    /// A message sent as the first positional argument of a unit variant.
    pub(crate) message: Option<SpannedStr>,
}

fn set_once<T>(slot: &mut Option<T>, meta: &ParseNestedMeta, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!(
            "`{}` is given more than once",
            path_name(&meta.path)
        )));
    }
    *slot = Some(value);
    Ok(())
}

fn path_name(path: &Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// An unknown key: names it and lists the keys `allowed` there.
fn unknown(meta: &ParseNestedMeta, allowed: &[&str]) -> syn::Error {
    let name = path_name(&meta.path);
    match allowed {
        [only] => meta.error(format!("unknown argument `{name}`; expected {only}")),
        _ => meta.error(format!(
            "unknown argument `{name}`; expected one of: {}",
            allowed.join(", ")
        )),
    }
}

/// A flag (`kwargs`, `event`...): no value.
fn flag(meta: &ParseNestedMeta) -> syn::Result<Span> {
    if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
        let name = path_name(&meta.path);
        return Err(meta.error(format!("`{name}` takes no value: write `{name}` alone")));
    }
    Ok(syn::spanned::Spanned::span(&meta.path))
}

/// The string of `key = "..."`; anything else is an error showing `key = example`.
fn string(meta: &ParseNestedMeta, example: &str) -> syn::Result<LitStr> {
    let name = path_name(&meta.path);
    let expected = || format!("`{name}` takes a string: `{name} = {example}`");
    let Ok(value) = meta.value() else {
        return Err(meta.error(expected()));
    };
    let mut expr = value.parse::<Expr>()?;
    // A literal passed through a `macro_rules!` fragment arrives wrapped in an invisible group.
    while let Expr::Group(group) = expr {
        expr = *group.expr;
    }
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => Err(syn::Error::new_spanned(other, expected())),
    }
}

/// `crate = "..."`: the path of the runtime crate.
fn crate_path(meta: &ParseNestedMeta) -> syn::Result<Path> {
    let lit = string(meta, "\"::wampkit\"")?;
    lit.parse_with(Path::parse_mod_style)
        .map_err(|_| syn::Error::new(lit.span(), "`crate` must be a path such as `\"::wampkit\"`"))
}

/// Parses the arguments of the `#[service]` attribute itself.
pub(crate) fn parse_service_args(tokens: proc_macro2::TokenStream) -> syn::Result<ServiceArgs> {
    let mut args = ServiceArgs::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("prefix") {
            let lit = string(&meta, "\"com.example\"")?;
            set_once(&mut args.prefix, &meta, lit.into())
        } else if meta.path.is_ident("crate") {
            let path = crate_path(&meta)?;
            set_once(&mut args.crate_path, &meta, path)
        } else {
            Err(unknown(&meta, &["`prefix = \"...\"`", "`crate = \"...\"`"]))
        }
    });
    syn::parse::Parser::parse2(parser, tokens)?;
    Ok(args)
}

/// Whether an attribute is one of ours.
pub(crate) fn is_wamp(attr: &Attribute) -> bool {
    attr.path().is_ident("wamp")
}

/// Parses every `#[wamp(...)]` among `attrs` with `parse_key`, recording errors in `cx`.
fn parse_wamp_attrs(
    cx: &Ctxt,
    attrs: &[Attribute],
    mut parse_key: impl FnMut(&ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| is_wamp(a)) {
        if let Err(error) = attr.parse_nested_meta(|meta| parse_key(&meta)) {
            cx.syn_error(error);
        }
    }
}

/// Parses `#[wamp(...)]` on a service method.
pub(crate) fn method_args(cx: &Ctxt, attrs: &[Attribute]) -> MethodArgs {
    let mut args = MethodArgs::default();
    parse_wamp_attrs(cx, attrs, |meta| {
        if meta.path.is_ident("uri") {
            let lit = string(meta, "\"com.example.procedure\"")?;
            set_once(&mut args.uri, meta, lit.into())
        } else if meta.path.is_ident("name") {
            let lit = string(meta, "\"name\"")?;
            set_once(&mut args.name, meta, lit.into())
        } else if meta.path.is_ident("topic") {
            let lit = string(meta, "\"com.example.topic\"")?;
            set_once(&mut args.topic, meta, lit.into())
        } else if meta.path.is_ident("event") {
            let span = flag(meta)?;
            set_once(&mut args.event, meta, span)
        } else if meta.path.is_ident("kwargs") {
            let span = flag(meta)?;
            set_once(&mut args.kwargs, meta, span)
        } else if meta.path.is_ident("match") {
            let lit = string(meta, "\"prefix\"")?;
            set_once(&mut args.match_policy, meta, lit.into())
        } else if meta.path.is_ident("invoke") {
            let lit = string(meta, "\"roundrobin\"")?;
            set_once(&mut args.invoke, meta, lit.into())
        } else if meta.path.is_ident("disclose_caller") {
            let span = flag(meta)?;
            set_once(&mut args.disclose_caller, meta, span)
        } else {
            Err(unknown(
                meta,
                &[
                    "`uri = \"...\"`",
                    "`name = \"...\"`",
                    "`kwargs`",
                    "`event`",
                    "`topic = \"...\"`",
                    "`match = \"...\"`",
                    "`invoke = \"...\"`",
                    "`disclose_caller`",
                ],
            ))
        }
    });
    args
}

/// Parses `#[wamp(...)]` on a method parameter.
pub(crate) fn param_args(cx: &Ctxt, attrs: &[Attribute]) -> ParamArgs {
    let mut args = ParamArgs::default();
    parse_wamp_attrs(cx, attrs, |meta| {
        if meta.path.is_ident("kwargs") {
            let span = flag(meta)?;
            set_once(&mut args.kwargs, meta, span)
        } else if meta.path.is_ident("details") {
            let span = flag(meta)?;
            set_once(&mut args.details, meta, span)
        } else {
            Err(unknown(meta, &["`kwargs`", "`details`"]))
        }
    });
    args
}

/// Parses `#[wamp(...)]` on an error enum.
pub(crate) fn enum_args(cx: &Ctxt, attrs: &[Attribute]) -> EnumArgs {
    let mut args = EnumArgs::default();
    parse_wamp_attrs(cx, attrs, |meta| {
        if meta.path.is_ident("crate") {
            let path = crate_path(meta)?;
            set_once(&mut args.crate_path, meta, path)
        } else if meta.path.is_ident("prefix") || meta.path.is_ident("uri") {
            let error = unknown(meta, &["`crate = \"...\"`"]);
            Err(syn::Error::new(
                error.span(),
                format!(
                    "{error}; each variant takes its full error URI: `#[wamp(uri = \"com.example.error.name\")]`"
                ),
            ))
        } else {
            Err(unknown(meta, &["`crate = \"...\"`"]))
        }
    });
    args
}

/// Parses `#[wamp(...)]` on an error enum variant.
pub(crate) fn variant_args(cx: &Ctxt, attrs: &[Attribute]) -> VariantArgs {
    let mut args = VariantArgs::default();
    parse_wamp_attrs(cx, attrs, |meta| {
        if meta.path.is_ident("uri") {
            let lit = string(meta, "\"com.example.error.name\"")?;
            set_once(&mut args.uri, meta, lit.into())
        } else if meta.path.is_ident("message") {
            let lit = string(meta, "\"a human-readable message\"")?;
            set_once(&mut args.message, meta, lit.into())
        } else {
            Err(unknown(meta, &["`uri = \"...\"`", "`message = \"...\"`"]))
        }
    });
    args
}

//! The service model: what a `#[service]` trait declares, validated and ready to expand.
//!
//! Every problem is recorded, in source order: a method's errors are filed under the part of
//! the method they are about (attributes, qualifiers, name, parameters...) and reported part by
//! part, so the user reads them top to bottom.
//!
//! A method is checked in steps, one function each ([`method`]): attributes, qualifiers,
//! name, generics, receiver, then its [`params`], its [`output`], and what REGISTER or
//! SUBSCRIBE will carry ([`registration`]).

mod errors;
mod method;
mod output;
mod params;
mod registration;
pub(crate) mod template;

use syn::{Attribute, Ident, ItemTrait, TraitItem, Type, Visibility};

use crate::attr::{self, ServiceArgs};
use crate::ctxt::Ctxt;
use crate::uri;
pub(crate) use template::{Component, UriDef};

/// A service: the trait and its methods.
pub(crate) struct ServiceDef {
    /// The trait's attributes (docs), without ours.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    /// Supertraits the user wrote (kept; `Send + Sync + 'static` are added).
    pub(crate) supertraits: Vec<syn::TypeParamBound>,
    /// Path of the runtime crate (`::wampkit` unless renamed).
    pub(crate) krate: syn::Path,
    /// The prefix of `#[service(prefix = ...)]`, the default of relative URIs.
    pub(crate) prefix: Option<String>,
    pub(crate) methods: Vec<MethodDef>,
}

/// One method: a procedure (called) or an event handler (subscribed).
pub(crate) struct MethodDef {
    /// The method's attributes (docs), without ours.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) ident: Ident,
    pub(crate) kind: MethodKind,
    /// The procedure or topic URI, complete or relative to the prefix, maybe a template.
    pub(crate) uri: UriDef,
    pub(crate) params: Vec<ParamDef>,
    pub(crate) output: Output,
    /// The caller stub sends the parameters as keyword arguments.
    pub(crate) kwargs: bool,
    /// How the URI matches: exact, or a prefix / wildcard pattern.
    pub(crate) pattern: Pattern,
    /// REGISTER / SUBSCRIBE options from the attributes.
    pub(crate) options: Vec<(&'static str, OptionLit)>,
}

/// How a method's URI is matched.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    Exact,
    Prefix,
    Wildcard,
}

/// A REGISTER / SUBSCRIBE option value written in an attribute.
pub(crate) enum OptionLit {
    Str(String),
    Bool(bool),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum MethodKind {
    Procedure,
    Event,
}

pub(crate) struct ParamDef {
    pub(crate) ident: Ident,
    /// The type as the user wrote it: generated code that needs a bound on it names these
    /// tokens, so a missing `Serialize`/`Deserialize` is reported at the user's type.
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamKind {
    /// A payload value: positional argument `index`, or the keyword argument of its name.
    Value,
    /// A struct holding all keyword arguments.
    Kwargs,
    /// `InvocationDetails` / `EventDetails`: context, not payload.
    Details,
    /// A `{name}` component of the URI: formatted into it by the caller, parsed from it by the
    /// callee.
    Uri,
}

pub(crate) enum Output {
    /// No return value.
    Unit,
    /// A plain value.
    Value(Box<Type>),
    /// `Result<ok, err>`: `err` is the declared application error type.
    Result { ok: Box<Type>, err: Box<Type> },
    /// `impl Stream<Item = T>` or `impl Stream<Item = Result<T, E>>`: a progressive procedure.
    /// `ty` is the whole return type as written.
    Stream {
        ty: Box<Type>,
        item: Box<Type>,
        err: Option<Box<Type>>,
    },
}

impl MethodDef {
    /// The payload parameters (everything but details and URI components).
    pub(crate) fn payload_params(&self) -> impl Iterator<Item = &ParamDef> {
        self.params
            .iter()
            .filter(|p| !matches!(p.kind, ParamKind::Details | ParamKind::Uri))
    }

    /// The parameters a caller passes: payload and URI components, in the trait's order.
    pub(crate) fn caller_params(&self) -> impl Iterator<Item = &ParamDef> {
        self.params.iter().filter(|p| p.kind != ParamKind::Details)
    }
}

impl ServiceDef {
    /// Whether every URI is known without a run-time prefix: the trait has a prefix, or no
    /// method is relative to one. Only then do `new`, `register` and the URI lists exist.
    pub(crate) fn uris_known(&self) -> bool {
        self.prefix.is_some() || self.methods.iter().all(|m| !m.uri.relative)
    }
}

/// The `prefix` of `#[service]`. An invalid prefix is reported once, at the prefix; methods
/// then check only their own URI component.
struct Prefix {
    value: String,
    valid: bool,
}

impl ServiceDef {
    /// Builds the model from the trait, recording every problem in `cx`.
    pub(crate) fn from_item(cx: &Ctxt, args: ServiceArgs, item: &ItemTrait) -> ServiceDef {
        let prefix = args.prefix.as_ref().map(|p| {
            let problem = if p.value.contains(['{', '}']) {
                Some(format!(
                    "`{}` holds a template parameter; parameters go in a method's `uri`, `name` or `topic`, and a prefix chosen at run time is given to `register_with_prefix` / `with_prefix`",
                    p.value
                ))
            } else {
                uri::problem_with_suggestion(&p.value)
            };
            if let Some(problem) = &problem {
                cx.syn_error(syn::Error::new(
                    p.span,
                    format!("invalid prefix: {problem}"),
                ));
            }
            Prefix {
                value: p.value.clone(),
                valid: problem.is_none(),
            }
        });
        for wamp in item.attrs.iter().filter(|a| attr::is_wamp(a)) {
            cx.error_spanned_by(
                wamp,
                "`#[wamp(...)]` goes on methods and parameters; the trait takes its options in `#[service(prefix = \"...\", crate = \"...\")]`",
            );
        }
        if let Some(unsafety) = &item.unsafety {
            cx.error_spanned_by(unsafety, "a WAMP service trait cannot be `unsafe`");
        }
        if let Some(auto) = &item.auto_token {
            cx.error_spanned_by(auto, "a WAMP service trait cannot be an auto trait");
        }
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &item.generics,
                "a WAMP service trait cannot be generic: its procedures need concrete argument types",
            );
        }
        let krate = args
            .crate_path
            .unwrap_or_else(|| syn::parse_quote!(::wampkit));

        let mut methods = Vec::new();
        for trait_item in &item.items {
            match trait_item {
                TraitItem::Fn(method) => {
                    if let Some(method) = MethodDef::from_fn(cx, prefix.as_ref(), method, &methods)
                    {
                        methods.push(method);
                    }
                }
                other => cx.error_spanned_by(
                    other,
                    "a WAMP service trait may only contain methods (`async fn`)",
                ),
            }
        }
        ServiceDef {
            attrs: without_wamp(&item.attrs),
            vis: item.vis.clone(),
            ident: item.ident.clone(),
            supertraits: item.supertraits.iter().cloned().collect(),
            krate,
            prefix: prefix.filter(|p| p.valid).map(|p| p.value),
            methods,
        }
    }
}

/// `attrs` without ours.
fn without_wamp(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| !attr::is_wamp(a))
        .cloned()
        .collect()
}

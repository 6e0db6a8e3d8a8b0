//! The service model: what a `#[service]` trait declares, validated and ready to expand.

use proc_macro2::Span;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemTrait, Pat, PathArguments, ReturnType, TraitItem,
    TraitItemFn, Type, Visibility,
};

use crate::attr::{self, ServiceArgs};
use crate::ctxt::Ctxt;

/// A service: the trait and its methods.
pub(crate) struct ServiceDef {
    /// The trait's attributes (docs), without ours.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    /// Supertraits the user wrote (kept; `Send + Sync + 'static` are added).
    pub(crate) supertraits: Vec<syn::TypeParamBound>,
    /// Path of the runtime crate (`::wamp_client` unless renamed).
    pub(crate) krate: syn::Path,
    pub(crate) methods: Vec<MethodDef>,
}

/// One method: a procedure (called) or an event handler (subscribed).
pub(crate) struct MethodDef {
    /// The method's attributes (docs), without ours.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) ident: Ident,
    pub(crate) kind: MethodKind,
    /// The procedure or topic URI.
    pub(crate) uri: String,
    /// Where the URI came from (the attribute literal, or the method name).
    pub(crate) uri_span: Span,
    pub(crate) params: Vec<ParamDef>,
    pub(crate) output: Output,
    /// The caller stub sends the parameters as keyword arguments.
    pub(crate) kwargs: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum MethodKind {
    Procedure,
    Event,
}

pub(crate) struct ParamDef {
    pub(crate) ident: Ident,
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
}

pub(crate) enum Output {
    /// No return value.
    Unit,
    /// A plain value.
    Value(Box<Type>),
    /// `Result<ok, err>`: `err` is the declared application error type.
    Result { ok: Box<Type>, err: Box<Type> },
}

impl MethodDef {
    /// The payload parameters (everything but details).
    pub(crate) fn payload_params(&self) -> impl Iterator<Item = &ParamDef> {
        self.params.iter().filter(|p| p.kind != ParamKind::Details)
    }
}

impl ServiceDef {
    /// Builds the model from the trait, recording every problem in `cx`.
    pub(crate) fn from_item(cx: &Ctxt, args: ServiceArgs, item: &ItemTrait) -> ServiceDef {
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &item.generics,
                "a WAMP service trait cannot be generic: its procedures need concrete argument types",
            );
        }
        if let Some(unsafety) = &item.unsafety {
            cx.error_spanned_by(unsafety, "a WAMP service trait cannot be `unsafe`");
        }
        if let Some(auto) = &item.auto_token {
            cx.error_spanned_by(auto, "a WAMP service trait cannot be an auto trait");
        }
        let prefix = args.prefix.as_ref().map(|p| {
            if let Some(problem) = crate::uri::strict_uri_problem(&p.value) {
                cx.syn_error(syn::Error::new(
                    p.span,
                    format!("invalid prefix: {problem}"),
                ));
            }
            p.value.clone()
        });
        let krate = args
            .crate_path
            .unwrap_or_else(|| syn::parse_quote!(::wamp_client));

        let mut methods = Vec::new();
        for trait_item in &item.items {
            match trait_item {
                TraitItem::Fn(method) => {
                    if let Some(method) = MethodDef::from_fn(cx, prefix.as_deref(), method) {
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
            attrs: item
                .attrs
                .iter()
                .filter(|a| !attr::is_wamp(a))
                .cloned()
                .collect(),
            vis: item.vis.clone(),
            ident: item.ident.clone(),
            supertraits: item.supertraits.iter().cloned().collect(),
            krate,
            methods,
        }
    }
}

impl MethodDef {
    fn from_fn(cx: &Ctxt, prefix: Option<&str>, method: &TraitItemFn) -> Option<MethodDef> {
        let sig = &method.sig;
        let args = attr::method_args(cx, &method.attrs);
        let name = &sig.ident;
        let ok = std::cell::Cell::new(true);
        let fail = |tokens: &dyn quote::ToTokens, message: String| {
            cx.error_spanned_by(tokens, message);
            ok.set(false);
        };

        if sig.asyncness.is_none() {
            fail(
                &sig.fn_token,
                format!(
                    "`{name}` must be an `async fn`: WAMP procedures and event handlers are asynchronous"
                ),
            );
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            fail(
                &sig.generics,
                format!(
                    "`{name}` cannot be generic: its arguments are decoded into concrete types; use concrete types or `wamp_client::Value`"
                ),
            );
        }
        if let Some(default) = &method.default {
            fail(
                default,
                format!(
                    "`{name}` cannot have a default body in a WAMP service trait; implement it in the `impl`"
                ),
            );
        }
        if let Some(variadic) = &sig.variadic {
            fail(variadic, "variadic parameters are not supported".to_owned());
        }
        if let Some(constness) = &sig.constness {
            fail(constness, format!("`{name}` cannot be `const`"));
        }
        if let Some(unsafety) = &sig.unsafety {
            fail(unsafety, format!("`{name}` cannot be `unsafe`"));
        }
        if matches!(
            name.to_string().as_str(),
            "new" | "session" | "register" | "register_arc"
        ) {
            fail(
                name,
                format!(
                    "`{name}` is reserved: the generated client and service types have a method of that name; give the Rust method another name and set the URI with `#[wamp(name = \"{name}\")]`"
                ),
            );
        }

        // The receiver must be `&self`: the service is shared by concurrent invocations.
        let mut inputs = sig.inputs.iter();
        match inputs.next() {
            Some(FnArg::Receiver(receiver))
                if receiver.reference.is_some() && receiver.mutability.is_none() => {}
            Some(FnArg::Receiver(receiver)) => fail(
                receiver,
                format!(
                    "`{name}` must take `&self`: one service value serves concurrent invocations, so it cannot be taken by value or by `&mut`; keep mutable state behind a `Mutex`"
                ),
            ),
            _ => fail(
                &sig.ident,
                format!("`{name}` must take `&self` as its first parameter"),
            ),
        }

        let is_event = args.event.is_some() || args.topic.is_some();
        let kind = if is_event {
            MethodKind::Event
        } else {
            MethodKind::Procedure
        };
        if let (Some(uri), true) = (&args.uri, is_event) {
            cx.syn_error(syn::Error::new(
                uri.span,
                "an event handler takes `topic = \"...\"`, not `uri`",
            ));
            ok.set(false);
        }
        if let (Some(span), true) = (args.kwargs, is_event) {
            cx.syn_error(syn::Error::new(span, "`kwargs` applies to procedures; an event handler reads keyword arguments by parameter name anyway"));
            ok.set(false);
        }

        let mut params = Vec::new();
        for input in inputs {
            let FnArg::Typed(pat_type) = input else {
                continue;
            };
            let param_args = attr::param_args(cx, &pat_type.attrs);
            let ident = match &*pat_type.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    pat.ident.clone()
                }
                other => {
                    fail(other, "parameters must be plain names (`value: Type`): the name is also the keyword argument's name".to_owned());
                    continue;
                }
            };
            let ty = (*pat_type.ty).clone();
            match &ty {
                Type::Reference(reference) => {
                    fail(
                        reference,
                        format!(
                            "parameter `{ident}` cannot be a reference: arguments are decoded into owned values (use `String` for `&str`, `Vec<T>` for `&[T]`)"
                        ),
                    );
                    continue;
                }
                Type::ImplTrait(impl_trait) => {
                    fail(
                        impl_trait,
                        format!("parameter `{ident}` cannot be `impl Trait`: use a concrete type"),
                    );
                    continue;
                }
                _ => {}
            }
            let details_type =
                last_segment_is(&ty, "InvocationDetails") || last_segment_is(&ty, "EventDetails");
            let param_kind = if param_args.details.is_some() || details_type {
                ParamKind::Details
            } else if param_args.kwargs.is_some() {
                ParamKind::Kwargs
            } else {
                ParamKind::Value
            };
            if param_kind == ParamKind::Details {
                let wanted = if is_event {
                    "EventDetails"
                } else {
                    "InvocationDetails"
                };
                if details_type && !last_segment_is(&ty, wanted) {
                    fail(
                        &ty,
                        format!(
                            "parameter `{ident}`: {} receive `{wanted}`",
                            if is_event {
                                "event handlers"
                            } else {
                                "procedures"
                            }
                        ),
                    );
                }
                if params
                    .iter()
                    .any(|p: &ParamDef| p.kind == ParamKind::Details)
                {
                    fail(&ident, "only one details parameter is allowed".to_owned());
                }
            }
            params.push(ParamDef {
                ident,
                ty,
                kind: param_kind,
            });
        }
        let kwargs_struct = params
            .iter()
            .filter(|p| p.kind == ParamKind::Kwargs)
            .count();
        let values = params.iter().filter(|p| p.kind == ParamKind::Value).count();
        if kwargs_struct > 1 || (kwargs_struct == 1 && values > 0) {
            if let Some(param) = params.iter().find(|p| p.kind == ParamKind::Kwargs) {
                fail(
                    &param.ident,
                    "a `#[wamp(kwargs)]` parameter holds all keyword arguments, so it must be the only payload parameter".to_owned(),
                );
            }
        }

        let output = match &sig.output {
            ReturnType::Default => Output::Unit,
            ReturnType::Type(_, ty) => match result_types(ty) {
                Some((ok_ty, err_ty)) => Output::Result {
                    ok: Box::new(ok_ty),
                    err: Box::new(err_ty),
                },
                None if is_unit(ty) => Output::Unit,
                None => Output::Value(ty.clone()),
            },
        };
        if is_event {
            let unit_ok = match &output {
                Output::Unit => true,
                Output::Result { ok, .. } => is_unit(ok),
                Output::Value(_) => false,
            };
            if !unit_ok {
                fail(
                    &sig.output,
                    format!(
                        "event handler `{name}` must return `()` or `Result<(), E>`: nobody receives an event handler's result"
                    ),
                );
            }
        }

        // The URI: explicit, or the prefix plus the method's (or `name`'s) name.
        let explicit = if is_event {
            args.topic.clone()
        } else {
            args.uri.clone()
        };
        let (uri, uri_span) = match (explicit, &args.name) {
            (Some(uri), None) => (uri.value, uri.span),
            (Some(uri), Some(name)) => {
                cx.syn_error(syn::Error::new(
                    name.span,
                    "give either a full URI or a `name`, not both",
                ));
                ok.set(false);
                (uri.value, uri.span)
            }
            (None, rename) => {
                let last = rename.as_ref().map_or_else(
                    || (name_of(&sig.ident), sig.ident.span()),
                    |n| (n.value.clone(), n.span),
                );
                match prefix {
                    Some(prefix) => (format!("{prefix}.{}", last.0), last.1),
                    None => {
                        fail(
                            &sig.ident,
                            format!(
                                "`{name}` has no URI: give the trait a prefix (`#[service(prefix = \"com.example\")]`) or the method `#[wamp({} = \"com.example.{name}\")]`",
                                if is_event { "topic" } else { "uri" }
                            ),
                        );
                        (last.0, last.1)
                    }
                }
            }
        };
        if let Some(problem) = crate::uri::strict_uri_problem(&uri) {
            cx.syn_error(syn::Error::new(uri_span, format!("invalid URI: {problem}")));
            ok.set(false);
        } else if !is_event && crate::uri::is_reserved(&uri) {
            cx.syn_error(syn::Error::new(
                uri_span,
                format!("`{uri}` is in the `wamp.` namespace, which is reserved for the router: procedures cannot be registered there"),
            ));
            ok.set(false);
        }

        ok.get().then(|| MethodDef {
            attrs: method
                .attrs
                .iter()
                .filter(|a| !attr::is_wamp(a))
                .cloned()
                .collect(),
            ident: sig.ident.clone(),
            kind,
            uri,
            uri_span,
            params,
            output,
            kwargs: args.kwargs.is_some(),
        })
    }
}

/// The method name as a URI component (raw identifiers lose their `r#`).
fn name_of(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}

fn last_segment_is(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == name),
        _ => false,
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

/// `Result<T, E>` → `(T, E)`.
fn result_types(ty: &Type) -> Option<(Type, Type)> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(generics) = &last.arguments else {
        return None;
    };
    let mut types = generics.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    });
    let ok = types.next()?;
    let err = types.next()?;
    Some((ok, err))
}

/// Reports methods that share a URI.
pub(crate) fn check_duplicates(cx: &Ctxt, service: &ServiceDef) {
    for (i, method) in service.methods.iter().enumerate() {
        if let Some(first) = service
            .methods
            .iter()
            .take(i)
            .find(|m| m.uri == method.uri && m.kind == method.kind)
        {
            cx.syn_error(syn::Error::new(
                method.uri_span,
                format!(
                    "`{}` and `{}` both use the URI `{}`; give one of them another `{}`",
                    first.ident,
                    method.ident,
                    method.uri,
                    if method.kind == MethodKind::Event {
                        "topic"
                    } else {
                        "name"
                    }
                ),
            ));
        }
    }
}

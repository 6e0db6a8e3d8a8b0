//! The service model: what a `#[service]` trait declares, validated and ready to expand.
//!
//! Every problem is recorded, in source order: a method's errors are filed under the part of
//! the method they are about (attributes, qualifiers, name, parameters...) and reported part by
//! part, so the user reads them top to bottom.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemTrait, Pat, PathArguments, ReturnType, TraitItem,
    TraitItemFn, Type, Visibility,
};

use crate::attr::{self, ServiceArgs};
use crate::ctxt::Ctxt;
use crate::uri;

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
    /// The payload parameters (everything but details).
    pub(crate) fn payload_params(&self) -> impl Iterator<Item = &ParamDef> {
        self.params.iter().filter(|p| p.kind != ParamKind::Details)
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
            let problem = uri::problem_with_suggestion(&p.value);
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
            .unwrap_or_else(|| syn::parse_quote!(::wamp_client));

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
            methods,
        }
    }
}

/// The parts of a method, in source order: each error is filed under the part it points at.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Attrs,
    Qualifiers,
    Name,
    Generics,
    Receiver,
    Param(usize),
    Variadic,
    Output,
    Body,
}

/// The errors of one method, reported in source order.
#[derive(Default)]
struct MethodErrors {
    errors: Vec<(Part, syn::Error)>,
}

impl MethodErrors {
    fn spanned(&mut self, part: Part, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.errors
            .push((part, syn::Error::new_spanned(tokens, message)));
    }

    fn at(&mut self, part: Part, span: Span, message: impl std::fmt::Display) {
        self.errors.push((part, syn::Error::new(span, message)));
    }

    /// The errors an attribute parser recorded in `cx`.
    fn extend(&mut self, part: Part, cx: Ctxt) {
        self.errors
            .extend(cx.into_errors().into_iter().map(|error| (part, error)));
    }

    fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Moves the errors into `cx`, part by part (the sort is stable).
    fn report(mut self, cx: &Ctxt) {
        self.errors.sort_by_key(|(part, _)| *part);
        for (_, error) in self.errors {
            cx.syn_error(error);
        }
    }
}

impl MethodDef {
    fn from_fn(
        cx: &Ctxt,
        prefix: Option<&Prefix>,
        method: &TraitItemFn,
        earlier: &[MethodDef],
    ) -> Option<MethodDef> {
        let sig = &method.sig;
        let name = &sig.ident;
        let mut errors = MethodErrors::default();

        // Attributes.
        let args = {
            let attr_cx = Ctxt::default();
            let args = attr::method_args(&attr_cx, &method.attrs);
            errors.extend(Part::Attrs, attr_cx);
            args
        };
        let is_event = args.event.is_some() || args.topic.is_some();
        let kind = if is_event {
            MethodKind::Event
        } else {
            MethodKind::Procedure
        };
        if let (Some(uri), true) = (&args.uri, is_event) {
            errors.at(
                Part::Attrs,
                uri.span,
                "an event handler takes `topic = \"...\"`, not `uri`",
            );
        }
        if let (Some(span), true) = (args.kwargs, is_event) {
            errors.at(
                Part::Attrs,
                span,
                "`kwargs` applies to procedures; an event handler reads keyword arguments by parameter name anyway",
            );
        }

        // Qualifiers, in source order: `const async unsafe extern fn`.
        if let Some(constness) = &sig.constness {
            errors.spanned(
                Part::Qualifiers,
                constness,
                format!("`{name}` cannot be `const`"),
            );
        }
        if let Some(unsafety) = &sig.unsafety {
            errors.spanned(
                Part::Qualifiers,
                unsafety,
                format!("`{name}` cannot be `unsafe`"),
            );
        }
        if let Some(abi) = &sig.abi {
            errors.spanned(
                Part::Qualifiers,
                abi,
                format!("`{name}` cannot be `extern`"),
            );
        }
        let stream_output = match &sig.output {
            ReturnType::Type(_, ty) => stream_item(ty),
            ReturnType::Default => None,
        };
        if sig.asyncness.is_some() && stream_output.is_some() {
            errors.spanned(
                Part::Qualifiers,
                sig.fn_token,
                format!(
                    "`{name}` returns a stream, so it must be a plain `fn` (not `async fn`): `fn {name}(&self, ...) -> impl Stream<Item = T> + Send`"
                ),
            );
        }
        if sig.asyncness.is_none() && stream_output.is_none() {
            errors.spanned(
                Part::Qualifiers,
                sig.fn_token,
                format!(
                    "`{name}` must be an `async fn`: WAMP procedures and event handlers are asynchronous"
                ),
            );
        }

        // Name.
        if matches!(
            name.to_string().as_str(),
            "new" | "session" | "register" | "register_arc"
        ) {
            errors.spanned(
                Part::Name,
                name,
                format!(
                    "`{name}` is reserved: the generated client and service types have a method of that name; give the Rust method another name and set the URI with `#[wamp(name = \"{name}\")]`"
                ),
            );
        }

        // Generics.
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            errors.spanned(
                Part::Generics,
                &sig.generics,
                format!(
                    "`{name}` cannot be generic: its arguments are decoded into concrete types; use concrete types or `wamp_client::Value`"
                ),
            );
        }

        // The receiver must be `&self`: the service is shared by concurrent invocations.
        let mut inputs = sig.inputs.iter().peekable();
        match inputs.peek() {
            Some(FnArg::Receiver(receiver)) => {
                if !is_shared_self(receiver) {
                    errors.spanned(
                        Part::Receiver,
                        receiver,
                        format!(
                            "`{name}` must take `&self`: one service value serves concurrent invocations, so it cannot be taken by value or by `&mut`; keep mutable state behind a `Mutex`"
                        ),
                    );
                }
                inputs.next();
            }
            _ => errors.spanned(
                Part::Receiver,
                name,
                format!("`{name}` must take `&self` as its first parameter"),
            ),
        }

        // Parameters.
        let mut params: Vec<(usize, ParamDef)> = Vec::new();
        for (position, input) in inputs.enumerate() {
            let part = Part::Param(position);
            let FnArg::Typed(pat_type) = input else {
                continue;
            };
            let param_args = {
                let attr_cx = Ctxt::default();
                let args = attr::param_args(&attr_cx, &pat_type.attrs);
                errors.extend(part, attr_cx);
                args
            };
            let ident = match &*pat_type.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    pat.ident.clone()
                }
                other => {
                    errors.spanned(
                        part,
                        other,
                        "parameters must be plain names (`value: Type`): the name is also the keyword argument's name",
                    );
                    continue;
                }
            };
            let ty = (*pat_type.ty).clone();
            match &ty {
                Type::Reference(reference) => {
                    errors.spanned(
                        part,
                        reference,
                        format!(
                            "parameter `{ident}` cannot be a reference: arguments are decoded into owned values (use `String` for `&str`, `Vec<T>` for `&[T]`)"
                        ),
                    );
                    continue;
                }
                Type::ImplTrait(impl_trait) => {
                    errors.spanned(
                        part,
                        impl_trait,
                        format!("parameter `{ident}` cannot be `impl Trait`: use a concrete type"),
                    );
                    continue;
                }
                _ => {}
            }
            let details_type =
                last_segment_is(&ty, "InvocationDetails") || last_segment_is(&ty, "EventDetails");
            let is_details = param_args.details.is_some() || details_type;
            if let (Some(kwargs), true) = (param_args.kwargs, is_details) {
                errors.at(
                    part,
                    kwargs,
                    format!(
                        "parameter `{ident}` receives the details, not keyword arguments: remove `kwargs`"
                    ),
                );
            }
            let param_kind = if is_details {
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
                    errors.spanned(
                        part,
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
                if params.iter().any(|(_, p)| p.kind == ParamKind::Details) {
                    errors.spanned(part, &ident, "only one details parameter is allowed");
                }
            }
            if param_kind == ParamKind::Kwargs && not_a_map(&ty) {
                errors.spanned(
                    part,
                    &ty,
                    format!(
                        "`#[wamp(kwargs)]` parameter `{ident}` receives all keyword arguments, so it must be a struct or a map with string keys; to receive only the keyword argument `{ident}`, remove `#[wamp(kwargs)]`"
                    ),
                );
            }
            params.push((
                position,
                ParamDef {
                    ident,
                    ty,
                    kind: param_kind,
                },
            ));
        }
        let kwargs_structs = params
            .iter()
            .filter(|(_, p)| p.kind == ParamKind::Kwargs)
            .count();
        let values = params
            .iter()
            .filter(|(_, p)| p.kind == ParamKind::Value)
            .count();
        if kwargs_structs > 1 || (kwargs_structs == 1 && values > 0) {
            if let Some((position, param)) =
                params.iter().find(|(_, p)| p.kind == ParamKind::Kwargs)
            {
                errors.spanned(
                    Part::Param(*position),
                    &param.ident,
                    "a `#[wamp(kwargs)]` parameter holds all keyword arguments, so it must be the only payload parameter",
                );
            }
        }
        let params: Vec<ParamDef> = params.into_iter().map(|(_, p)| p).collect();
        if let Some(variadic) = &sig.variadic {
            errors.spanned(
                Part::Variadic,
                variadic,
                "variadic parameters are not supported",
            );
        }

        // Output.
        let output = match &sig.output {
            ReturnType::Type(_, ty) if stream_output.is_some() => {
                let item = stream_output.clone().unwrap_or_else(|| (**ty).clone());
                if is_event {
                    errors.spanned(
                        Part::Output,
                        ty,
                        "an event handler cannot return a stream: nobody receives its result",
                    );
                }
                match result_shape(&item) {
                    ResultShape::Full { ok, err } => Output::Stream {
                        ty: ty.clone(),
                        item: ok,
                        err: Some(err),
                    },
                    _ => Output::Stream {
                        ty: ty.clone(),
                        item: Box::new(item),
                        err: None,
                    },
                }
            }
            ReturnType::Default => Output::Unit,
            ReturnType::Type(_, ty) => match result_shape(ty) {
                ResultShape::Full { ok, err } => Output::Result { ok, err },
                ResultShape::MissingError => {
                    errors.spanned(
                        Part::Output,
                        ty,
                        if is_event {
                            "an event handler returning `Result` must name its error type: `Result<(), E>`"
                        } else {
                            "a procedure returning `Result` must name its error type: `Result<T, E>` with `E: ApplicationError` (derive it) or `wamp_client::WampError`"
                        },
                    );
                    Output::Value(ty.clone())
                }
                ResultShape::Other if is_unit(ty) => Output::Unit,
                ResultShape::Other => Output::Value(ty.clone()),
            },
        };
        if is_event {
            let unit_ok = match &output {
                Output::Unit | Output::Stream { .. } => true,
                Output::Result { ok, .. } => is_unit(ok),
                // `Result<()>` without an error type: already reported.
                Output::Value(ty) => matches!(result_shape(ty), ResultShape::MissingError),
            };
            if !unit_ok {
                errors.spanned(
                    Part::Output,
                    &sig.output,
                    format!(
                        "event handler `{name}` must return `()` or `Result<(), E>`: nobody receives an event handler's result"
                    ),
                );
            }
        }

        // The URI: explicit, or the prefix plus the method's (or `name`'s) name.
        let (uri, uri_span, uri_part) = method_uri(&mut errors, prefix, sig, &args, is_event);
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

        // Body.
        if let Some(default) = &method.default {
            errors.spanned(
                Part::Body,
                default,
                format!(
                    "`{name}` cannot have a default body in a WAMP service trait; implement it in the `impl`"
                ),
            );
        }

        let (pattern, options) = method_options(&mut errors, &args, is_event);

        let ok = errors.is_empty();
        errors.report(cx);
        ok.then(|| MethodDef {
            attrs: without_wamp(&method.attrs),
            ident: sig.ident.clone(),
            kind,
            uri,
            params,
            output,
            kwargs: args.kwargs.is_some(),
            pattern,
            options,
        })
    }
}

/// The match policy and the REGISTER / SUBSCRIBE options the attributes ask for.
fn method_options(
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

/// `impl ... Stream<Item = X> ...` → `X`.
fn stream_item(ty: &Type) -> Option<Type> {
    let Type::ImplTrait(impl_trait) = ty else {
        return None;
    };
    impl_trait.bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        if last.ident != "Stream" {
            return None;
        }
        let PathArguments::AngleBracketed(generics) = &last.arguments else {
            return None;
        };
        generics.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Item" => Some(assoc.ty.clone()),
            _ => None,
        })
    })
}

/// The method's URI, where it came from, and the part of the method that spelled it; records
/// what is wrong with it.
fn method_uri(
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

fn reserved(uri: &str) -> String {
    format!(
        "`{uri}` is in the `wamp.` namespace, which is reserved for the router: procedures cannot be registered there"
    )
}

/// `attrs` without ours.
fn without_wamp(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| !attr::is_wamp(a))
        .cloned()
        .collect()
}

/// `&self`, `&'a self` or `self: &Self`.
fn is_shared_self(receiver: &syn::Receiver) -> bool {
    if receiver.colon_token.is_none() {
        return receiver.reference.is_some() && receiver.mutability.is_none();
    }
    matches!(
        &*receiver.ty,
        Type::Reference(reference)
            if reference.mutability.is_none()
                && matches!(&*reference.elem, Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self"))
    )
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

/// Whether the type, as spelled, obviously cannot hold all keyword arguments (a map): scalars,
/// strings, sequences, tuples, and `Option`s or boxes of those.
fn not_a_map(ty: &Type) -> bool {
    const SCALARS: &[&str] = &[
        "bool", "char", "str", "String", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16",
        "u32", "u64", "u128", "usize", "f32", "f64",
    ];
    const SEQUENCES: &[&str] = &[
        "Vec",
        "VecDeque",
        "LinkedList",
        "HashSet",
        "BTreeSet",
        "BinaryHeap",
    ];
    const WRAPPERS: &[&str] = &["Option", "Box", "Rc", "Arc"];
    match ty {
        Type::Array(_) | Type::Slice(_) | Type::Tuple(_) => true,
        Type::Paren(paren) => not_a_map(&paren.elem),
        Type::Group(group) => not_a_map(&group.elem),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            match &last.arguments {
                PathArguments::None => SCALARS.contains(&name.as_str()),
                PathArguments::AngleBracketed(generics) => {
                    if SEQUENCES.contains(&name.as_str()) {
                        return true;
                    }
                    let mut types = generics.args.iter().filter_map(|arg| match arg {
                        GenericArgument::Type(ty) => Some(ty),
                        _ => None,
                    });
                    WRAPPERS.contains(&name.as_str()) && types.next().is_some_and(not_a_map)
                }
                PathArguments::Parenthesized(_) => false,
            }
        }
        _ => false,
    }
}

/// How a return type relates to `Result`.
enum ResultShape {
    /// `Result<T, E>`.
    Full { ok: Box<Type>, err: Box<Type> },
    /// `Result<T>`: an alias with a fixed error type the macro cannot see.
    MissingError,
    /// Anything else.
    Other,
}

fn result_shape(ty: &Type) -> ResultShape {
    let Type::Path(path) = ty else {
        return ResultShape::Other;
    };
    let Some(last) = path.path.segments.last() else {
        return ResultShape::Other;
    };
    if last.ident != "Result" {
        return ResultShape::Other;
    }
    let PathArguments::AngleBracketed(generics) = &last.arguments else {
        return ResultShape::Other;
    };
    let mut types = generics.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(ok), Some(err)) => ResultShape::Full {
            ok: Box::new(ok),
            err: Box::new(err),
        },
        (Some(_), None) => ResultShape::MissingError,
        _ => ResultShape::Other,
    }
}

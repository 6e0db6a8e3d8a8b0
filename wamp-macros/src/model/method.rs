//! One method of a service trait, checked step by step: attributes, qualifiers, name,
//! generics, receiver, parameters, return type, URI and body.

use syn::{Attribute, FnArg, Ident, Signature, TraitItemFn, Type};

use super::errors::{MethodErrors, Part};
use super::output::{analyse_output, check_event_output, stream_output};
use super::params::{check_variadic, classify_params};
use super::registration::{bind_template_params, check_unique_uri, method_options, method_uri};
use super::{MethodDef, MethodKind, Prefix, without_wamp};
use crate::attr;
use crate::ctxt::Ctxt;

impl MethodDef {
    /// Checks one trait method and builds its model, or `None` if anything is wrong: every
    /// problem is then in `cx`, ordered by the part of the method it points at. `earlier` are
    /// the methods before it, whose URIs it must not reuse.
    pub(super) fn from_fn(
        cx: &Ctxt,
        prefix: Option<&Prefix>,
        method: &TraitItemFn,
        earlier: &[MethodDef],
    ) -> Option<MethodDef> {
        let sig = &method.sig;
        let mut errors = MethodErrors::default();

        let (args, kind) = read_method_attrs(&mut errors, &method.attrs);
        let is_event = kind == MethodKind::Event;
        let stream_output = stream_output(sig);
        check_qualifiers(&mut errors, sig, stream_output.is_some());
        check_name(&mut errors, &sig.ident);
        check_generics(&mut errors, sig);
        let has_receiver = check_receiver(&mut errors, sig);
        // The URI: explicit, or the prefix plus the method's (or `name`'s) name.
        let (uri, uri_span, uri_part) = method_uri(&mut errors, prefix, sig, &args, is_event);
        let uri_params: Vec<&syn::Ident> = uri.params().collect();
        let mut params = classify_params(
            &mut errors,
            sig.inputs.iter().skip(usize::from(has_receiver)),
            is_event,
            &uri_params,
        );
        bind_template_params(
            &mut errors,
            &sig.ident,
            &uri,
            (uri_span, uri_part),
            &mut params,
        );
        check_variadic(&mut errors, sig);
        let output = analyse_output(&mut errors, sig, stream_output, is_event);
        if is_event {
            check_event_output(&mut errors, sig, &output);
        }
        check_body(&mut errors, method);
        let (pattern, options) = method_options(&mut errors, &args, is_event, uri.is_template());
        check_unique_uri(
            &mut errors,
            earlier,
            prefix.filter(|p| p.valid).map(|p| p.value.as_str()),
            (kind, pattern, &sig.ident),
            (&uri, uri_span, uri_part),
        );

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

/// Reads the method's `#[wamp(...)]`, which also tells a procedure from an event handler
/// (`event` or `topic`), and checks that an event handler has no procedure-only `uri` or
/// `kwargs`.
fn read_method_attrs(
    errors: &mut MethodErrors,
    attrs: &[Attribute],
) -> (attr::MethodArgs, MethodKind) {
    let args = {
        let attr_cx = Ctxt::default();
        let args = attr::method_args(&attr_cx, attrs);
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
    (args, kind)
}

/// Checks the qualifiers, in source order (`const async unsafe extern fn`): none of `const`,
/// `unsafe` or `extern`; `async fn`, except for a method returning a stream, which is a plain
/// `fn`.
fn check_qualifiers(errors: &mut MethodErrors, sig: &Signature, returns_stream: bool) {
    let name = &sig.ident;
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
    if sig.asyncness.is_some() && returns_stream {
        errors.spanned(
            Part::Qualifiers,
            sig.fn_token,
            format!(
                "`{name}` returns a stream, so it must be a plain `fn` (not `async fn`): `fn {name}(&self, ...) -> impl Stream<Item = T> + Send`"
            ),
        );
    }
    if sig.asyncness.is_none() && !returns_stream {
        errors.spanned(
            Part::Qualifiers,
            sig.fn_token,
            format!(
                "`{name}` must be an `async fn`: WAMP procedures and event handlers are asynchronous"
            ),
        );
    }
}

/// Refuses the names of the generated types' own methods.
fn check_name(errors: &mut MethodErrors, name: &Ident) {
    if matches!(
        name.to_string().as_str(),
        "new"
            | "session"
            | "with_timeout"
            | "acknowledge"
            | "exclude_me"
            | "register"
            | "register_arc"
            | "register_with_error_hook"
            | "register_with_prefix"
            | "register_arc_with_prefix"
            | "with_prefix"
            | "prefix"
    ) {
        errors.spanned(
            Part::Name,
            name,
            format!(
                "`{name}` is reserved: the generated client and service types have a method of that name; give the Rust method another name and set the URI with `#[wamp(name = \"{name}\")]`"
            ),
        );
    }
}

/// Refuses generic methods: arguments are decoded into concrete types.
fn check_generics(errors: &mut MethodErrors, sig: &Signature) {
    let name = &sig.ident;
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(
            Part::Generics,
            &sig.generics,
            format!(
                "`{name}` cannot be generic: its arguments are decoded into concrete types; use concrete types or `wampkit::Value`"
            ),
        );
    }
}

/// Checks that the receiver is `&self`: the service is shared by concurrent invocations.
/// Returns whether the first parameter is a receiver (of any form).
fn check_receiver(errors: &mut MethodErrors, sig: &Signature) -> bool {
    let name = &sig.ident;
    match sig.inputs.first() {
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
            true
        }
        _ => {
            errors.spanned(
                Part::Receiver,
                name,
                format!("`{name}` must take `&self` as its first parameter"),
            );
            false
        }
    }
}

/// Refuses a default body: the trait declares, the `impl` implements.
fn check_body(errors: &mut MethodErrors, method: &TraitItemFn) {
    let name = &method.sig.ident;
    if let Some(default) = &method.default {
        errors.spanned(
            Part::Body,
            default,
            format!(
                "`{name}` cannot have a default body in a WAMP service trait; implement it in the `impl`"
            ),
        );
    }
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

//! The parameters after `&self`: each one's name and type, and whether it is a payload value,
//! the struct of all keyword arguments, or the details.

use syn::{FnArg, GenericArgument, Ident, Pat, PatType, PathArguments, Signature, Type};

use super::errors::{MethodErrors, Part};
use super::{ParamDef, ParamKind};
use crate::attr;
use crate::ctxt::Ctxt;

/// Classifies the parameters after the receiver (see [`classify_param`]) and checks that a
/// `#[wamp(kwargs)]` parameter, which holds all keyword arguments, is the only payload
/// parameter. Parameters with errors are left out.
pub(super) fn classify_params<'a>(
    errors: &mut MethodErrors,
    inputs: impl Iterator<Item = &'a FnArg>,
    is_event: bool,
    uri_params: &[&Ident],
) -> Vec<ParamDef> {
    let mut params: Vec<(usize, ParamDef)> = Vec::new();
    for (position, input) in inputs.enumerate() {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let has_details = params.iter().any(|(_, p)| p.kind == ParamKind::Details);
        if let Some(param) = classify_param(
            errors,
            Part::Param(position),
            pat_type,
            is_event,
            has_details,
        ) {
            params.push((position, param));
        }
    }
    let kwargs_structs = params
        .iter()
        .filter(|(_, p)| p.kind == ParamKind::Kwargs)
        .count();
    // Parameters filled from the URI are not payload.
    let values = params
        .iter()
        .filter(|(_, p)| p.kind == ParamKind::Value && !uri_params.contains(&&p.ident))
        .count();
    if kwargs_structs > 1 || (kwargs_structs == 1 && values > 0) {
        if let Some((position, param)) = params.iter().find(|(_, p)| p.kind == ParamKind::Kwargs) {
            errors.spanned(
                Part::Param(*position),
                &param.ident,
                "a `#[wamp(kwargs)]` parameter holds all keyword arguments, so it must be the only payload parameter",
            );
        }
    }
    params.into_iter().map(|(_, p)| p).collect()
}

/// One parameter: reads its `#[wamp(...)]`, checks that it is a plain name of an owned type,
/// and classifies it. A details parameter (`#[wamp(details)]`, or typed `InvocationDetails` /
/// `EventDetails`) must have the type of the method's kind and be the only one (`has_details`
/// says whether an earlier one was); a `#[wamp(kwargs)]` parameter must be a type that can
/// hold a map and not be the details.
fn classify_param(
    errors: &mut MethodErrors,
    part: Part,
    pat_type: &PatType,
    is_event: bool,
    has_details: bool,
) -> Option<ParamDef> {
    let param_args = {
        let attr_cx = Ctxt::default();
        let args = attr::param_args(&attr_cx, &pat_type.attrs);
        errors.extend(part, attr_cx);
        args
    };
    let ident = param_ident(errors, part, &pat_type.pat)?;
    let ty = (*pat_type.ty).clone();
    if !check_owned_type(errors, part, &ident, &ty) {
        return None;
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
        if has_details {
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
    Some(ParamDef {
        ident,
        ty,
        kind: param_kind,
    })
}

/// The parameter's name: it must be a plain identifier, since it also names the keyword
/// argument.
fn param_ident(errors: &mut MethodErrors, part: Part, pat: &Pat) -> Option<Ident> {
    match pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => Some(pat.ident.clone()),
        other => {
            errors.spanned(
                part,
                other,
                "parameters must be plain names (`value: Type`): the name is also the keyword argument's name",
            );
            None
        }
    }
}

/// Checks that the parameter's type is owned and concrete (no reference, no `impl Trait`):
/// arguments are decoded into it.
fn check_owned_type(errors: &mut MethodErrors, part: Part, ident: &Ident, ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => {
            errors.spanned(
                part,
                reference,
                format!(
                    "parameter `{ident}` cannot be a reference: arguments are decoded into owned values (use `String` for `&str`, `Vec<T>` for `&[T]`)"
                ),
            );
            false
        }
        Type::ImplTrait(impl_trait) => {
            errors.spanned(
                part,
                impl_trait,
                format!("parameter `{ident}` cannot be `impl Trait`: use a concrete type"),
            );
            false
        }
        _ => true,
    }
}

/// Refuses C-style variadic parameters.
pub(super) fn check_variadic(errors: &mut MethodErrors, sig: &Signature) {
    if let Some(variadic) = &sig.variadic {
        errors.spanned(
            Part::Variadic,
            variadic,
            "variadic parameters are not supported",
        );
    }
}

/// Whether the type is a path whose last segment is `name` (however it is qualified).
fn last_segment_is(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == name),
        _ => false,
    }
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

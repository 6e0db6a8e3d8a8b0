//! The return type: nothing, a value, a `Result`, or a stream of progressive results.

use syn::{GenericArgument, PathArguments, ReturnType, Signature, Type};

use super::Output;
use super::errors::{MethodErrors, Part};

/// The item type when the method returns `impl Stream<Item = X>`: a progressive procedure.
pub(super) fn stream_output(sig: &Signature) -> Option<Type> {
    match &sig.output {
        ReturnType::Type(_, ty) => stream_item(ty),
        ReturnType::Default => None,
    }
}

/// Classifies the return type. A `Result` must name its error type (an alias that hides it
/// cannot be told apart from a plain value); an event handler cannot return a stream.
pub(super) fn analyse_output(
    errors: &mut MethodErrors,
    sig: &Signature,
    stream_output: Option<Type>,
    is_event: bool,
) -> Output {
    match &sig.output {
        ReturnType::Type(_, ty) if stream_output.is_some() => {
            let item = stream_output.unwrap_or_else(|| (**ty).clone());
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
                        "a procedure returning `Result` must name its error type: `Result<T, E>` with `E: ApplicationError` (derive it) or `wampkit::WampError`"
                    },
                );
                Output::Value(ty.clone())
            }
            ResultShape::Other if is_unit(ty) => Output::Unit,
            ResultShape::Other => Output::Value(ty.clone()),
        },
    }
}

/// Checks that an event handler returns `()` or `Result<(), E>`: nobody receives its result.
pub(super) fn check_event_output(errors: &mut MethodErrors, sig: &Signature, output: &Output) {
    let name = &sig.ident;
    let unit_ok = match output {
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

/// Whether the type is `()`.
fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
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

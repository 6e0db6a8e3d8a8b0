//! The errors of one method, filed under the part of the method they point at.

use proc_macro2::Span;
use quote::ToTokens;

use crate::ctxt::Ctxt;

/// The parts of a method, in source order: each error is filed under the part it points at.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Part {
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
pub(super) struct MethodErrors {
    errors: Vec<(Part, syn::Error)>,
}

impl MethodErrors {
    /// An error spanning `tokens`.
    pub(super) fn spanned(
        &mut self,
        part: Part,
        tokens: impl ToTokens,
        message: impl std::fmt::Display,
    ) {
        self.errors
            .push((part, syn::Error::new_spanned(tokens, message)));
    }

    /// An error at `span`.
    pub(super) fn at(&mut self, part: Part, span: Span, message: impl std::fmt::Display) {
        self.errors.push((part, syn::Error::new(span, message)));
    }

    /// The errors an attribute parser recorded in `cx`.
    pub(super) fn extend(&mut self, part: Part, cx: Ctxt) {
        self.errors
            .extend(cx.into_errors().into_iter().map(|error| (part, error)));
    }

    /// Whether the method is free of errors.
    pub(super) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Moves the errors into `cx`, part by part (the sort is stable).
    pub(super) fn report(mut self, cx: &Ctxt) {
        self.errors.sort_by_key(|(part, _)| *part);
        for (_, error) in self.errors {
            cx.syn_error(error);
        }
    }
}

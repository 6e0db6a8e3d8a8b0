//! Collects every error of one expansion, so the user sees all of them in one compile.

use std::cell::RefCell;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// An error accumulator. Errors are spanned at the tokens they are about.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    /// Records an error spanned at `tokens`.
    pub(crate) fn error_spanned_by(&self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.errors
            .borrow_mut()
            .push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an existing error.
    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    /// The recorded errors, in the order they were recorded.
    pub(crate) fn into_errors(self) -> Vec<syn::Error> {
        self.errors.into_inner()
    }

    /// All recorded errors combined into one, if any.
    pub(crate) fn check(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.into_inner().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

/// Turns an expansion result into tokens: the output, or `compile_error!`s.
pub(crate) fn into_tokens(result: Result<TokenStream, syn::Error>) -> TokenStream {
    result.unwrap_or_else(|error| error.to_compile_error())
}

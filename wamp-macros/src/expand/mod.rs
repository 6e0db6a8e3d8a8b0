//! Code generation: one file per generated item.
//!
//! For `trait Calc` the expansion emits the trait itself (methods as `Send` futures), the caller
//! stub `CalcClient` and the registration entry point `CalcService`. Generated code names
//! everything through absolute paths (`::core::...`, `::std::...`, and `::wampkit::...` or
//! the path given with `crate`), calls trait methods as `<T as Trait>::method` and derives with
//! absolute paths, so it compiles under `#![no_implicit_prelude]` and next to user items that
//! shadow any of those names.
//!
//! Type errors point at the user's types: generated code that needs a bound on a user type
//! (`Serialize` to send it, `Deserialize` to receive it, `ApplicationError`) names that type, as
//! the user wrote it, in a turbofish spanned at it.

mod client;
mod service;
mod trait_def;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::ServiceDef;

pub(crate) use trait_def::fallback;

pub(crate) fn expand(service: &ServiceDef) -> TokenStream {
    let trait_def = trait_def::expand(service);
    let client = client::expand(service);
    let registration = service::expand(service);
    quote! {
        #trait_def
        #client
        #registration
    }
}

/// `CalcClient` for `Calc`.
pub(crate) fn client_ident(service: &ServiceDef) -> syn::Ident {
    format_ident!("{}Client", service.ident)
}

/// `CalcService` for `Calc`.
pub(crate) fn service_ident(service: &ServiceDef) -> syn::Ident {
    format_ident!("{}Service", service.ident)
}

/// Checks `err: ApplicationError`, at the user's type. The client and the service both need the
/// bound; each of their bodies starts with this same statement, so a missing implementation is
/// reported once, here, and the later uses of the bound in the same body are not reported again.
pub(crate) fn assert_application_error(service: &ServiceDef, err: &syn::Type) -> TokenStream {
    let krate = &service.krate;
    quote_spanned! {err.span()=>
        let _ = #krate::__private::decode_result::<(), #err>;
    }
}

//! Code generation: one file per generated item.
//!
//! For `trait Calc` the expansion emits the trait itself (methods as `Send` futures), the caller
//! stub `CalcClient` and the registration entry point `CalcService`. Generated code names the
//! runtime only through absolute paths (`::wamp_client::...`, or the path given with `crate`).

mod client;
mod service;
mod trait_def;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::ServiceDef;

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

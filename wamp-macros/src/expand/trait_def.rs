//! The trait as the user implements it: each `async fn` becomes a method returning a `Send`
//! future, so every invocation can run on its own task. Implementations still write `async fn`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Output, ServiceDef};

pub(crate) fn expand(service: &ServiceDef) -> TokenStream {
    let ServiceDef {
        attrs,
        vis,
        ident,
        supertraits,
        ..
    } = service;
    let methods = service.methods.iter().map(|method| {
        let attrs = &method.attrs;
        let name = &method.ident;
        let params = method.params.iter().map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote!(#ident: #ty)
        });
        let output = match &method.output {
            Output::Unit => quote!(()),
            Output::Value(ty) => quote!(#ty),
            Output::Result { ok, err } => quote!(::core::result::Result<#ok, #err>),
        };
        quote! {
            #(#attrs)*
            fn #name(&self, #(#params),*)
                -> impl ::core::future::Future<Output = #output> + ::core::marker::Send;
        }
    });
    let supertraits = supertraits.iter();
    quote! {
        #(#attrs)*
        #vis trait #ident: #(#supertraits +)* ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#methods)*
        }
    }
}

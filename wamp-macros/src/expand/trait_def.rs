//! The trait as the user implements it: each `async fn` becomes a method returning a `Send`
//! future, so every invocation can run on its own task. Implementations still write `async fn`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, ItemTrait, Pat, TraitItem};

use crate::attr;
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
            // A progressive method returns its stream as written (it must be `Send`).
            Output::Stream { ty, .. } => {
                return quote! {
                    #(#attrs)*
                    fn #name(&self, #(#params),*) -> #ty;
                };
            }
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

/// The trait as written, for when the model has errors: emitted next to the `compile_error!`s so
/// that `impl`s of it, uses of it and IDEs see the trait and do not add errors of their own.
/// Only what would not compile by itself is changed: our `#[wamp]` attributes are removed, and
/// patterns in parameters of methods without a body become `_`.
pub(crate) fn fallback(item: &ItemTrait) -> TokenStream {
    let mut item = item.clone();
    item.attrs.retain(|a| !attr::is_wamp(a));
    for trait_item in &mut item.items {
        let TraitItem::Fn(method) = trait_item else {
            continue;
        };
        method.attrs.retain(|a| !attr::is_wamp(a));
        let has_body = method.default.is_some();
        for input in &mut method.sig.inputs {
            if let FnArg::Typed(param) = input {
                param.attrs.retain(|a| !attr::is_wamp(a));
                let plain = matches!(&*param.pat, Pat::Ident(pat) if pat.by_ref.is_none() && pat.mutability.is_none() && pat.subpat.is_none());
                if !has_body && !plain {
                    *param.pat = Pat::Wild(syn::PatWild {
                        attrs: Vec::new(),
                        underscore_token: Default::default(),
                    });
                }
            }
        }
    }
    quote! {
        #[allow(async_fn_in_trait)]
        #item
    }
}
